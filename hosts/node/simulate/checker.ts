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
  /** By device index in the whole fleet; made at a device's first arrival. */
  readonly trackers: Array<SequenceTracker | undefined> = [];
  /** Latency of every first arrival, and of those in the current sample (reset each second). */
  readonly total = new LatencyHistogram();
  readonly window = new LatencyHistogram();
  received = 0;
  wills = 0;
  /** performance.now() of the last telemetry arrival. */
  lastArrival = 0;
  private readonly client: Client;
  private readonly payload = new PayloadReader();

  /** Counts devices 0 .. fleetSize - 1 (an index beyond is not ours and is ignored). */
  constructor(private readonly fleetSize: number, runId: string, name = "checker") {
    this.client = new Client({ clientId: `tinymqtt-sim-${runId}-${name}`, budget: { maxIncomingQos2: 4096, maxMessages: 4096 } });
    this.client.onMessage = (_c, _u, message) => this.arrived(message.payload);
  }

  private arrived(bytes: Uint8Array): void {
    const p = this.payload;
    if (!p.read(bytes)) {
      this.wills++;
      return;
    }
    if (p.device >= this.fleetSize) return;
    const tracker = (this.trackers[p.device] ??= new SequenceTracker());
    const now = performance.now();
    this.received++;
    this.lastArrival = now;
    if (!tracker.see(p.seq)) return;
    // sentAt is the sender's wall-clock time in ms (payload.ts), so a device in another process counts too.
    const latency = performance.timeOrigin + now - p.sentAt;
    this.total.add(latency);
    this.window.add(latency);
  }

  /**
   * Connects and subscribes to filter/+/t at qos and filter/+/will at 1 (filter is the fleet's topic base, or
   * a $share/group/ in front of it); rejects with the reason.
   */
  start(broker: BrokerHandle, filter: string, qos: QoS): Promise<void> {
    const client = this.client;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the checker could not connect and subscribe to ${broker.describe} within 10 s`)), CONNECT_TIMEOUT_MS);
      client.onConnect = (_c, _u, _f, rc) => {
        if (rc !== 0) return reject(new Error(`${broker.describe} refused the checker: reason ${rc}`));
        client.subscribe([[`${filter}/+/t`, qos], [`${filter}/+/will`, 1]]);
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
    for (const t of this.trackers) if (t !== undefined) g += t.gaps;
    return g;
  }

  duplicates(): number {
    let d = 0;
    for (const t of this.trackers) if (t !== undefined) d += t.duplicates;
    return d;
  }

  unique(): number {
    let u = 0;
    for (const t of this.trackers) if (t !== undefined) u += t.unique;
    return u;
  }

  /** Unique arrivals of one device so far. */
  uniqueOf(device: number): number {
    return this.trackers[device]?.unique ?? 0;
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
