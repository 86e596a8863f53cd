/**
 * How `--shard` processes tell `--collect` what they did: over the broker the fleet uses, under the run's
 * own topic prefix, and nothing else.
 *
 *   tinymqtt/sim/<run>/report/<K>   shard K's report (merge.ts's ShardReport as gzipped JSON), retained, QoS 1,
 *                                   every `interval` seconds and at its end
 *   tinymqtt/sim/<run>/status/<K>   {"state":"running"|"done"|"died"}, retained, QoS 1; "died" is the shard's
 *                                   will, so the broker says it when the shard's connection dies unannounced
 *
 * Retained, so a collector started late (or twice) still gets every shard's last word.
 */
import { gunzipSync, gzipSync } from "node:zlib";
import { Client, MQTT_ERR_SUCCESS } from "../index.js";
import type { BrokerHandle } from "./broker.js";
import type { ShardReport } from "./merge.js";
import type { Auth, SimulationResult } from "./run.js";

/** A run id goes into topic names: letters, digits, "-" and "_" only. */
export const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;

export const reportTopic = (run: string, shard: number | "+"): string => `tinymqtt/sim/${run}/report/${shard}`;
export const statusTopic = (run: string, shard: number | "+"): string => `tinymqtt/sim/${run}/status/${shard}`;

/** A shard's report as published: its ShardReport, plus what the collector needs to print the whole run. */
export interface PublishedReport extends ShardReport {
  /** The whole fleet's settings (devices: the fleet's size; cutRate: across all shards). */
  options: SimulationResult["options"];
  startedAt: string;
  /** Seconds between two reports. */
  interval: number;
}

export type ShardState = "running" | "done" | "died";

/** Reports and statuses are this large at most (a report holds a few bytes per device, gzipped). */
export const MAX_REPORT_BYTES = 8 * 1024 * 1024;

export function encodeReport(report: PublishedReport): Uint8Array {
  return gzipSync(JSON.stringify(report));
}

/** JSON has no NaN: percentiles of an empty second come back as null, and are NaN again here. */
const revive = (key: string, value: unknown): unknown => (value === null && (key === "p50" || key === "p99" || key === "max") ? Number.NaN : value);

/** The report in a payload, or an Error saying what is wrong with it. */
export function decodeReport(payload: Uint8Array, run: string): PublishedReport | Error {
  let r: PublishedReport;
  try {
    r = JSON.parse(gunzipSync(payload, { maxOutputLength: 16 * MAX_REPORT_BYTES }).toString("utf8"), revive) as PublishedReport;
  } catch (e) {
    return new Error(`an unreadable report (${e instanceof Error ? e.message : String(e)})`);
  }
  const integer = (x: unknown): boolean => Number.isInteger(x) && (x as number) >= 0;
  if (typeof r !== "object" || r === null || r.run !== run || !integer(r.shard) || !integer(r.shards) || r.shard >= r.shards || !integer(r.first) ||
    !integer(r.devices) || !integer(r.sequence) || !Array.isArray(r.sentPerDevice) || !Array.isArray(r.seen) || !Array.isArray(r.samples) ||
    typeof r.counts !== "object" || typeof r.latency !== "object" || typeof r.options !== "object") {
    return new Error("a report that is not a tinymqtt simulate shard report of this run");
  }
  return r;
}

export function encodeStatus(state: ShardState): string {
  return JSON.stringify({ state });
}

export function decodeStatus(payload: Uint8Array): ShardState | undefined {
  try {
    const { state } = JSON.parse(new TextDecoder().decode(payload)) as { state?: unknown };
    return state === "running" || state === "done" || state === "died" ? state : undefined;
  } catch {
    return undefined;
  }
}

/** A client that holds a report: its budget fits MAX_REPORT_BYTES each way (allocated once, per process, not per device). */
export function channelClient(clientId: string, auth?: Auth): Client {
  const client = new Client({ clientId, budget: { maxPacketSize: MAX_REPORT_BYTES + 1024, outputBytes: MAX_REPORT_BYTES + 1024, storeBytes: 2 * MAX_REPORT_BYTES + 2048, maxMessages: 64 } });
  if (auth !== undefined) client.usernamePwSet(auth.username, auth.password);
  return client;
}

/** Connects, rejecting with the reason after timeoutMs. */
export function connectClient(client: Client, broker: BrokerHandle, what: string, timeoutMs = 10_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${what} could not connect to ${broker.describe} within ${timeoutMs / 1000} s`)), timeoutMs);
    client.onConnect = (_c, _u, _f, rc) => {
      clearTimeout(timer);
      if (rc !== 0) reject(new Error(`${broker.describe} refused the ${what}: reason ${rc}`));
      else resolve();
    };
    client.connect(broker.host, broker.port, 30).then(() => client.loopStart(), (e: Error) => {
      clearTimeout(timer);
      reject(new Error(`cannot reach the broker ${broker.describe}: ${e.message}`));
    });
  });
}

/**
 * A shard's side: publishes its status and its reports. offer() publishes a report when `interval` seconds
 * have passed since the last one (a report still in flight is not piled on); finish() publishes the last
 * one and "done", and waits (bounded) for the broker to acknowledge both.
 */
export class ShardPublisher {
  readonly problems: string[] = [];
  private readonly client: Client;
  private lastPublished = -Infinity;
  private readonly unacked = new Set<number>();
  private acked: (() => void) | undefined;

  constructor(private readonly broker: BrokerHandle, private readonly run: string, private readonly shard: number, private readonly interval: number, auth?: Auth) {
    this.client = channelClient(`tinymqtt-sim-${run}-reporter-${shard}`, auth);
    this.client.willSet(statusTopic(run, shard), encodeStatus("died"), 1, true);
    this.client.onPublish = (_c, _u, mid) => {
      this.unacked.delete(mid);
      if (this.unacked.size === 0) this.acked?.();
    };
  }

  async start(): Promise<void> {
    await connectClient(this.client, this.broker, `shard ${this.shard}'s reporter`);
    this.publish(statusTopic(this.run, this.shard), encodeStatus("running"));
  }

  offer(report: PublishedReport, now: number): void {
    // Reports come once a second, give or take a few ms: a tenth of the interval's slack keeps them on its beat.
    if (now - this.lastPublished < this.interval * 900 || this.unacked.size > 0) return;
    this.lastPublished = now;
    this.publish(reportTopic(this.run, this.shard), encodeReport(report));
  }

  async finish(report: PublishedReport): Promise<void> {
    this.publish(reportTopic(this.run, this.shard), encodeReport(report));
    this.publish(statusTopic(this.run, this.shard), encodeStatus("done"));
    await this.settled(10_000);
    if (this.unacked.size > 0) this.problems.push(`the broker did not acknowledge shard ${this.shard}'s last report within 10 s`);
  }

  /** The shard ends without its final report: "died", as its will would say, but without waiting for the broker to notice. */
  async abandon(): Promise<void> {
    this.publish(statusTopic(this.run, this.shard), encodeStatus("died"));
    await this.settled(2000);
  }

  /** A clean DISCONNECT: no will, the status stays as published. */
  async stop(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gone = new Promise<void>((resolve) => {
      this.client.onDisconnect = () => resolve();
      timer = setTimeout(resolve, 2000);
    });
    if (this.client.disconnect() === MQTT_ERR_SUCCESS) await gone;
    clearTimeout(timer);
    this.client.loopStop();
  }

  private publish(topic: string, payload: Uint8Array | string): void {
    const info = this.client.publish(topic, payload, 1, true);
    if (info.rc === MQTT_ERR_SUCCESS) this.unacked.add(info.mid);
    else this.problems.push(`shard ${this.shard} could not publish to ${topic}: rc ${info.rc}`);
  }

  private settled(timeoutMs: number): Promise<void> {
    if (this.unacked.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.acked = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
