/**
 * The checker: clean clients, never cut, subscribed to every device's telemetry and will; one client (an
 * "ear") per broker given, so that with a cluster a message reaches the checker through whichever node
 * still stands. It counts, per device, what arrived, what arrived twice and what is missing (from the
 * sequence numbers), and the latency from publish to arrival, both for the whole run and for the current
 * second.
 *
 * Each ear keeps its own sequence trackers. Without `shared`, every ear subscribes to everything, so each
 * message normally arrives once per ear: what the checker saw of a device is the union of its ears' views,
 * and a duplicate is a message one ear got twice. With `shared` the ears form a `$share` group (for brokers
 * that offer shared subscriptions): the broker gives each message to one ear, so a message two ears got is a
 * duplicate too.
 */
import { performance } from "node:perf_hooks";
import { Client, MQTT_ERR_SUCCESS, type QoS } from "../index.js";
import type { BrokerHandle } from "./broker.js";
import type { DeviceSeen } from "./merge.js";
import { PayloadReader } from "./payload.js";
import { LatencyHistogram, SequenceTracker, rangesSize, unionRanges } from "./stats.js";

const CONNECT_TIMEOUT_MS = 10_000;

interface Ear {
  client: Client;
  /** By device index in the whole fleet; made at a device's first arrival. */
  trackers: Array<SequenceTracker | undefined>;
  wills: number;
}

export class Checker {
  /** Latency of every first arrival at an ear, and of those in the current sample (reset each second). */
  readonly total = new LatencyHistogram();
  readonly window = new LatencyHistogram();
  /** Telemetry arrivals at all ears, repeats included. */
  received = 0;
  /** performance.now() of the last telemetry arrival. */
  lastArrival = 0;
  private readonly ears: Ear[] = [];
  private readonly payload = new PayloadReader();

  /** Counts devices 0 .. fleetSize - 1 (an index beyond is not ours and is ignored). */
  constructor(private readonly fleetSize: number, private readonly runId: string, private readonly name = "checker", private readonly shared = false,
    private readonly auth?: { username: string; password: string }) {}

  private arrived(ear: Ear, bytes: Uint8Array): void {
    const p = this.payload;
    if (!p.read(bytes)) {
      ear.wills++;
      return;
    }
    if (p.device >= this.fleetSize) return;
    const tracker = (ear.trackers[p.device] ??= new SequenceTracker());
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
   * Connects one ear to each broker and subscribes to base/+/t at qos and base/+/will at 1 (behind
   * $share/<run>/ when shared); rejects with the reason.
   */
  async start(brokers: BrokerHandle[], base: string, qos: QoS): Promise<void> {
    const filter = this.shared ? `$share/${this.runId}/${base}` : base;
    await Promise.all(brokers.map((broker, i) => {
      const suffix = brokers.length === 1 ? "" : `-${i}`;
      const client = new Client({ clientId: `tinymqtt-sim-${this.runId}-${this.name}${suffix}`, budget: { maxIncomingQos2: 4096, maxMessages: 4096 } });
      if (this.auth !== undefined) client.usernamePwSet(this.auth.username, this.auth.password);
      const ear: Ear = { client, trackers: [], wills: 0 };
      this.ears.push(ear);
      client.onMessage = (_c, _u, message) => this.arrived(ear, message.payload);
      return subscribe(client, broker, filter, qos);
    }));
  }

  get wills(): number {
    // Unshared, every ear hears every will.
    return this.shared ? this.ears.reduce((n, e) => n + e.wills, 0) : Math.max(0, ...this.ears.map((e) => e.wills));
  }

  /** What the ears saw of one device: their union, and the repeats (within an ear; across ears too when shared). */
  seenOf(device: number): DeviceSeen {
    let ranges: number[] = [];
    let duplicates = 0;
    for (const ear of this.ears) {
      const t = ear.trackers[device];
      if (t === undefined) continue;
      duplicates += t.duplicates;
      if (ranges.length === 0) {
        ranges = t.ranges();
        continue;
      }
      const u = unionRanges(ranges, t.ranges());
      ranges = u.ranges;
      if (this.shared) duplicates += u.overlap;
    }
    return { device, ranges, duplicates };
  }

  /** Every device any ear has heard of. */
  seen(): DeviceSeen[] {
    const out: DeviceSeen[] = [];
    const devices = Math.max(0, ...this.ears.map((e) => e.trackers.length));
    for (let d = 0; d < devices; d++) if (this.ears.some((e) => e.trackers[d] !== undefined)) out.push(this.seenOf(d));
    return out;
  }

  /** One ear: its trackers as they are (no union needed). */
  private get single(): Ear | undefined {
    return this.ears.length === 1 ? this.ears[0] : undefined;
  }

  /** Gaps in the sequences seen so far: a late re-send may still fill one. */
  gaps(): number {
    let g = 0;
    const one = this.single;
    if (one !== undefined) {
      for (const t of one.trackers) if (t !== undefined) g += t.gaps;
      return g;
    }
    for (const s of this.seen()) if (s.ranges.length > 0) g += s.ranges[s.ranges.length - 1]! - rangesSize(s.ranges);
    return g;
  }

  duplicates(): number {
    let d = 0;
    const one = this.single;
    if (one !== undefined) {
      for (const t of one.trackers) if (t !== undefined) d += t.duplicates;
      return d;
    }
    for (const s of this.seen()) d += s.duplicates;
    return d;
  }

  unique(): number {
    let u = 0;
    const one = this.single;
    if (one !== undefined) {
      for (const t of one.trackers) if (t !== undefined) u += t.unique;
      return u;
    }
    for (const s of this.seen()) u += rangesSize(s.ranges);
    return u;
  }

  /** Unique arrivals of one device so far. */
  uniqueOf(device: number): number {
    const one = this.single;
    if (one !== undefined) return one.trackers[device]?.unique ?? 0;
    return rangesSize(this.seenOf(device).ranges);
  }

  /** A clean DISCONNECT from each ear, waited for (bounded: an ear whose broker died has nobody to tell). */
  async stop(): Promise<void> {
    await Promise.all(this.ears.map(async ({ client }) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const gone = new Promise<void>((resolve) => {
        client.onDisconnect = () => resolve();
        timer = setTimeout(resolve, 2000);
      });
      if (client.disconnect() === MQTT_ERR_SUCCESS) await gone;
      clearTimeout(timer);
      client.loopStop();
    }));
  }
}

/** Connects and subscribes to filter/+/t at qos and filter/+/will at 1; rejects with the reason. */
function subscribe(client: Client, broker: BrokerHandle, filter: string, qos: QoS): Promise<void> {
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
