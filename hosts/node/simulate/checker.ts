/**
 * The checker: one clean client, never cut, subscribed to every device's telemetry and will. It counts, per
 * device, what arrived, what arrived twice and what is missing (from the sequence numbers), and the latency
 * from publish to arrival, both for the whole run and for the current second.
 */
import { performance } from "node:perf_hooks";
import { Client, MQTT_ERR_SUCCESS, type QoS } from "../index.js";
import type { BrokerHandle } from "./broker.js";
import { PayloadReader } from "./payload.js";
import { LatencyHistogram, SequenceTracker } from "./stats.js";

const CONNECT_TIMEOUT_MS = 10_000;

export class Checker {
  readonly trackers: SequenceTracker[] = [];
  /** Latency of every first arrival, and of those in the current sample (reset each second). */
  readonly total = new LatencyHistogram();
  readonly window = new LatencyHistogram();
  received = 0;
  wills = 0;
  /** performance.now() of the last telemetry arrival. */
  lastArrival = 0;
  private readonly client: Client;
  private readonly payload = new PayloadReader();

  constructor(devices: number, runId: string) {
    for (let i = 0; i < devices; i++) this.trackers.push(new SequenceTracker());
    this.client = new Client({ clientId: `tinymqtt-sim-${runId}-checker`, budget: { maxIncomingQos2: 4096, maxMessages: 4096 } });
    this.client.onMessage = (_c, _u, message) => this.arrived(message.payload);
  }

  private arrived(bytes: Uint8Array): void {
    const p = this.payload;
    if (!p.read(bytes)) {
      this.wills++;
      return;
    }
    const tracker = this.trackers[p.device];
    if (tracker === undefined) return;
    const now = performance.now();
    this.received++;
    this.lastArrival = now;
    if (!tracker.see(p.seq)) return;
    this.total.add(now - p.sentAt);
    this.window.add(now - p.sentAt);
  }

  /** Connects and subscribes to base/+/t at qos and base/+/will at 1; rejects with the reason. */
  start(broker: BrokerHandle, base: string, qos: QoS): Promise<void> {
    const client = this.client;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the checker could not connect and subscribe to ${broker.describe} within 10 s`)), CONNECT_TIMEOUT_MS);
      client.onConnect = (_c, _u, _f, rc) => {
        if (rc !== 0) return reject(new Error(`${broker.describe} refused the checker: reason ${rc}`));
        client.subscribe([[`${base}/+/t`, qos], [`${base}/+/will`, 1]]);
      };
      client.onSubscribe = (_c, _u, _mid, codes) => {
        clearTimeout(timer);
        if (codes.some((c) => c >= 0x80)) reject(new Error(`${broker.describe} refused the checker's subscription (${codes.join(", ")})`));
        else resolve();
      };
      client.connect(broker.host, broker.port, 60).then(() => client.loopStart(), (e: Error) => {
        clearTimeout(timer);
        reject(new Error(`cannot reach the broker ${broker.describe}: ${e.message}`));
      });
    });
  }

  /** Gaps in the sequences seen so far: a late re-send may still fill one. */
  gaps(): number {
    let g = 0;
    for (const t of this.trackers) g += t.gaps;
    return g;
  }

  duplicates(): number {
    let d = 0;
    for (const t of this.trackers) d += t.duplicates;
    return d;
  }

  unique(): number {
    let u = 0;
    for (const t of this.trackers) u += t.unique;
    return u;
  }

  /** A clean DISCONNECT, waited for (bounded). */
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
}
