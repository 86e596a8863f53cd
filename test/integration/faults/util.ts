/**
 * Shared by the session and fault tests (test/integration/session-resume.test.ts, test/integration/faults.test.ts) and by the child
 * publisher (test/integration/faults/publisher.ts): bounded waiting, the message stream's numbering, a counting
 * subscriber, and a recording SessionStore wrapper that knows where each record ends in a FileStore's log.
 *
 * The stream: message k (0 <= k < 2 * perQos) is QoS 1 when k is even, QoS 2 when odd, with sequence
 * number k >> 1 on its own QoS; topic `${prefix}/q1` or `${prefix}/q2`, payload "<qos>:<seq>".
 */
import fs from "node:fs";
import { Client, MQTT_ERR_SUCCESS, type MQTTMessage, type SessionStore, type StoredSession } from "../../../hosts/node/index.js";
import { sleep, until, within } from "../../support/wait.js";

export const HOST = "127.0.0.1";

export { sleep, until, within };

/** A small deterministic PRNG (mulberry32), so a failing run can be repeated from its printed seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- the stream ---------------------------------------------------------------------------------

export function qosOf(k: number): 1 | 2 {
  return (k & 1) === 0 ? 1 : 2;
}

export function topicOf(prefix: string, k: number): string {
  return `${prefix}/q${qosOf(k)}`;
}

export function payloadOf(k: number): string {
  return `${qosOf(k)}:${k >> 1}`;
}

/** The stream index of an encoded 3.1.1 PUBLISH written by payloadOf() (the store keeps packets encoded). */
export function indexOfPacket(packet: Uint8Array): number {
  let o = 1;
  while ((packet[o]! & 0x80) !== 0) o++;
  o++;
  const topicLength = (packet[o]! << 8) | packet[o + 1]!;
  o += 2 + topicLength + 2; // topic, packet id (3.1.1: no properties)
  const [qos, seq] = new TextDecoder().decode(packet.subarray(o)).split(":").map(Number) as [number, number];
  return seq * 2 + (qos === 1 ? 0 : 1);
}

/** What a subscriber received of the stream: per QoS, how many times each sequence number arrived. */
export class Tally {
  readonly q1: Uint32Array;
  readonly q2: Uint32Array;
  readonly stray: string[] = [];
  received = 0;
  /** Messages that came with QoS other than published (the subscription is QoS 2: none expected). */
  wrongQos = 0;
  dupFlagged = 0;

  constructor(readonly perQos: number) {
    this.q1 = new Uint32Array(perQos);
    this.q2 = new Uint32Array(perQos);
  }

  add(m: MQTTMessage): void {
    this.received++;
    const text = new TextDecoder().decode(m.payload);
    const match = /^([12]):(\d+)$/.exec(text);
    const seq = match === null ? -1 : Number(match[2]);
    if (match === null || seq >= this.perQos || !m.topic.endsWith(`/q${match[1]}`)) {
      if (this.stray.length < 20) this.stray.push(`${m.topic} ${text}`);
      return;
    }
    if (m.qos !== Number(match[1])) this.wrongQos++;
    if (m.dup) this.dupFlagged++;
    const counts = match[1] === "1" ? this.q1 : this.q2;
    counts[seq] = counts[seq]! + 1;
  }

  /** Every message of both QoS has arrived at least once. */
  get complete(): boolean {
    return this.q1.every((n) => n > 0) && this.q2.every((n) => n > 0);
  }

  get distinct(): number {
    return this.q1.filter((n) => n > 0).length + this.q2.filter((n) => n > 0).length;
  }

  missing(which: 1 | 2): number[] {
    const a = which === 1 ? this.q1 : this.q2;
    const out: number[] = [];
    a.forEach((n, i) => { if (n === 0) out.push(i); });
    return out;
  }

  /** QoS 2 sequence numbers delivered more than once, with their counts. */
  q2Duplicates(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    this.q2.forEach((n, i) => { if (n > 1) out.push([i, n]); });
    return out;
  }

  q1Duplicates(): number {
    let n = 0;
    for (const c of this.q1) if (c > 1) n += c - 1;
    return n;
  }

  summary(): string {
    const m1 = this.missing(1);
    const m2 = this.missing(2);
    return `received ${this.received}, distinct ${this.distinct}/${2 * this.perQos}; QoS 1 missing ${m1.length} ` +
      `${JSON.stringify(m1.slice(0, 10))}, duplicates ${this.q1Duplicates()}; QoS 2 missing ${m2.length} ` +
      `${JSON.stringify(m2.slice(0, 10))}, delivered twice ${JSON.stringify(this.q2Duplicates().slice(0, 10))}; ` +
      `stray ${JSON.stringify(this.stray)}, wrong QoS ${this.wrongQos}`;
  }
}

export interface Subscriber {
  client: Client;
  tally: Tally;
  /** sessionPresent of every CONNACK. */
  connacks: boolean[];
  disconnects: number;
  /** The last 200 log lines (info to error), without the overflow warnings, which are counted. */
  log: string[];
  /** How many times an incarnation's incoming QoS 2 table was exceeded (the overflow set made: a log line). */
  overflowed: number;
}

/**
 * The subscribers' incoming QoS 2 budget: ESP32_BUDGET's 16, below mosquitto's window of 40 here, on
 * purpose. mosquitto 2.0.11 does not keep to max_inflight_messages when it resumes a session: measured, 480
 * PUBLISHes sent to a reconnected subscriber against 12 acknowledgements (and to an MQTT 5 subscriber, past
 * its Receive Maximum: disconnected with 0x93). On 3.1.1 the ids past the table go to the overflow set of
 * src/engine/incoming-qos2.ts, and QoS 2 must stay exactly once through every fault all the same.
 */
export const SUBSCRIBER_INCOMING_QOS2 = 16;

/** Records a subscriber's log: overflows of the incoming QoS 2 table counted, the rest kept (the last 200 lines). */
export function recordLog(s: { log: string[]; overflowed: number }): (client: unknown, userdata: unknown, level: number, buf: string) => void {
  return (_c, _u, level, buf) => {
    if (level > 8) return;
    if (buf.includes("QoS 2 messages unreleased")) {
      s.overflowed++;
      return;
    }
    s.log.push(`${Math.round(performance.now())} ${level} ${buf}`);
    if (s.log.length > 200) s.log.shift();
  };
}

/**
 * A tinymqtt subscriber with clean session off and a QoS 2 subscription to `${prefix}/#`, counting what
 * arrives; it reconnects on its own (loopStart) with the given backoff.
 */
export async function startSubscriber(port: number, clientId: string, prefix: string, perQos: number,
  o: { keepalive?: number; minDelay?: number; maxDelay?: number } = {}): Promise<Subscriber> {
  const client = new Client({ clientId, cleanSession: false, budget: { maxIncomingQos2: SUBSCRIBER_INCOMING_QOS2 } });
  const s: Subscriber = { client, tally: new Tally(perQos), connacks: [], disconnects: 0, log: [], overflowed: 0 };
  client.onMessage = (_c, _u, m) => s.tally.add(m);
  client.onConnect = (_c, _u, flags, rc) => {
    if (rc === 0) s.connacks.push(flags.sessionPresent);
  };
  client.onDisconnect = () => { s.disconnects++; };
  client.onLog = recordLog(s);
  let granted: number[] | undefined;
  client.onSubscribe = (_c, _u, _mid, codes) => { granted = codes; };
  client.reconnectDelaySet(o.minDelay ?? 0.1, o.maxDelay ?? 1);
  await within(client.connect(HOST, port, o.keepalive ?? 10), 5000, "subscriber connect()");
  client.loopStart();
  await until(() => s.connacks.length > 0, 5000, "the subscriber's CONNACK");
  const [rc] = client.subscribe(`${prefix}/#`, 2);
  if (rc !== MQTT_ERR_SUCCESS) throw new Error(`subscribe failed: ${rc}`);
  await until(() => granted !== undefined, 5000, "SUBACK");
  if (granted![0] !== 2) throw new Error(`subscription granted ${JSON.stringify(granted)}, not QoS 2`);
  return s;
}

// ---- a recording store ----------------------------------------------------------------------------

export interface Boundary {
  /** The log's length after the record: a cut at or after it keeps the record. */
  size: number;
  state: StoredSession;
}

function cloneSession(s: { outgoing: Map<number, { id: number; released: boolean; packet: Uint8Array }>; incoming: Set<number> }): StoredSession {
  return { outgoing: [...s.outgoing.values()].map((p) => ({ ...p, packet: p.packet.slice() })), incoming: [...s.incoming] };
}

/**
 * Forwards to a FileStore (or any store writing one log file) and applies every call to a model too;
 * after each call it notes the file's length and the model's state: the state any cut of the log at or
 * after that length (and before the next) must load as.
 */
export class RecordingStore implements SessionStore {
  readonly boundaries: Boundary[] = [];
  readonly calls: string[] = [];
  private readonly model = { outgoing: new Map<number, { id: number; released: boolean; packet: Uint8Array }>(), incoming: new Set<number>() };

  constructor(readonly inner: SessionStore, readonly file: () => string) {}

  open(clientId: string, version: number): StoredSession {
    const s = this.inner.open(clientId, version);
    this.model.outgoing.clear();
    this.model.incoming.clear();
    for (const p of s.outgoing) this.model.outgoing.set(p.id, { ...p, packet: p.packet.slice() });
    for (const id of s.incoming) this.model.incoming.add(id);
    this.note("open");
    return s;
  }

  saveOutgoing(id: number, packet: Uint8Array): void {
    this.inner.saveOutgoing(id, packet);
    this.model.outgoing.delete(id);
    this.model.outgoing.set(id, { id, released: false, packet: packet.slice() });
    this.note(`save ${id}`);
  }

  releaseOutgoing(id: number): void {
    this.inner.releaseOutgoing(id);
    const p = this.model.outgoing.get(id);
    if (p !== undefined) p.released = true;
    this.note(`release ${id}`);
  }

  removeOutgoing(id: number): void {
    this.inner.removeOutgoing(id);
    this.model.outgoing.delete(id);
    this.note(`remove ${id}`);
  }

  saveIncoming(id: number): void {
    this.inner.saveIncoming(id);
    this.model.incoming.add(id);
    this.note(`in ${id}`);
  }

  removeIncoming(id: number): void {
    this.inner.removeIncoming(id);
    this.model.incoming.delete(id);
    this.note(`out ${id}`);
  }

  flush(): void {
    this.inner.flush();
  }

  close(): void {
    this.inner.close();
  }

  private note(call: string): void {
    this.calls.push(call);
    this.boundaries.push({ size: fs.statSync(this.file()).size, state: cloneSession(this.model) });
  }
}

/** The state a log cut at `cut` bytes must load as, and where its last complete record ends. */
export function expectedAt(boundaries: readonly Boundary[], cut: number): Boundary {
  let best: Boundary = { size: 0, state: { outgoing: [], incoming: [] } };
  for (const b of boundaries) if (b.size <= cut && b.size >= best.size) best = b;
  return best;
}

/** A session in a form deepEqual compares well: packets as plain arrays, incoming sorted. */
export function plain(s: StoredSession): { outgoing: Array<{ id: number; released: boolean; packet: number[] }>; incoming: number[] } {
  return {
    outgoing: s.outgoing.map((p) => ({ id: p.id, released: p.released, packet: Array.from(p.packet) })),
    incoming: [...s.incoming].sort((a, b) => a - b),
  };
}
