/**
 * A deterministic Host (src/connection/host.ts) for driving the Client with no sockets and no real time.
 *
 * The clock moves only when the test says so: advance(ms) runs every timer that falls due, in due-time
 * order (ties in the order they were set), each with now() reading its due time; deferred callbacks run
 * from flush(), which advance() also calls before and after each timer. Every event a link gives the client
 * (open, readable, writable, close) goes through defer, as a real host delivers them from its event loop,
 * so a test acts on the peer side and then calls flush().
 *
 * open() returns a FakeLink and records the call with the clock's time (backoff is asserted from those
 * times). The test plays the broker on the link's peer side: it reads what the client wrote, decoded by our
 * own Decoder in server mode (it learns the protocol version from the CONNECT), pushes packets encoded by
 * our own Encoder, accepts or refuses the open, drops the link, and can make write() take only part of
 * what it is offered until grant() makes room (backpressure).
 */
import { Decoder, Encoder, PACKET_NAMES, type DecodedPacket, type Packet, type ProtocolVersion } from "../../src/codec/index.js";
import type { Properties } from "../../src/codec/properties.js";
import { MQTT_ERR_CONN_LOST, MQTT_ERR_NO_CONN } from "../../src/paho/constants.js";
import type { Host, Link, LinkError, LinkEvents, LinkParams } from "../../src/connection/host.js";

/** A decoded packet copied out of the decoder's reused views, with the exact bytes of its frame. */
export interface Seen {
  /** The host's clock when the client wrote the packet's last byte (FakeLink only). */
  at?: number;
  type: number;
  name: string;
  bytes: number[];
  packetId?: number;
  qos?: number;
  dup?: boolean;
  retain?: boolean;
  topic?: string;
  payload?: number[];
  reasonCode?: number;
  reasonCodes?: number[];
  sessionPresent?: boolean;
  properties?: Properties | undefined;
  protocolVersion?: number;
  clientId?: string;
  keepAlive?: number;
  cleanStart?: boolean;
  topicFilters?: string[];
  subscriptions?: Array<{ topicFilter: string; qos: number }>;
}

function copyOut(p: DecodedPacket, bytes: number[]): Seen {
  const s: Seen = { type: p.type, name: PACKET_NAMES[p.type]!, bytes };
  const r = p as unknown as Record<string, unknown>;
  if (typeof r.packetId === "number") s.packetId = r.packetId;
  if (typeof r.reasonCode === "number") s.reasonCode = r.reasonCode;
  if (Array.isArray(r.reasonCodes)) s.reasonCodes = [...(r.reasonCodes as number[])];
  if (typeof r.sessionPresent === "boolean") s.sessionPresent = r.sessionPresent;
  if (p.type === 3) {
    s.qos = p.qos;
    s.dup = p.dup;
    s.retain = p.retain;
    s.topic = p.topic;
    s.payload = Array.from(p.payload);
  }
  if (p.type === 1) {
    s.protocolVersion = p.protocolVersion;
    s.clientId = p.clientId;
    s.keepAlive = p.keepAlive;
    s.cleanStart = p.cleanStart;
  }
  if (p.type === 8) s.subscriptions = p.subscriptions.map((x) => ({ topicFilter: x.topicFilter, qos: x.qos }));
  if (p.type === 10) s.topicFilters = [...p.topicFilters];
  if ("properties" in p && p.properties !== undefined) s.properties = p.properties;
  return s;
}

/**
 * The peer's view of one direction of a stream: bytes in any split go in, whole packets come out, each
 * with the bytes of its own frame. A throw from the decoder (the client wrote something malformed) is the
 * test's failure, so it is let through.
 */
export class Wire {
  readonly decoder: Decoder;
  private pending: number[] = [];

  constructor(version?: ProtocolVersion) {
    this.decoder = new Decoder(version === undefined ? { maxPacketSize: 1 << 20 } : { maxPacketSize: 1 << 20, version });
  }

  get version(): ProtocolVersion {
    return this.decoder.version;
  }

  /** Bytes held back because their packet is not complete yet. */
  get partial(): number {
    return this.pending.length;
  }

  feed(bytes: Uint8Array | number[]): Seen[] {
    for (const b of bytes) this.pending.push(b);
    const out: Seen[] = [];
    for (;;) {
      const total = frameLength(this.pending);
      if (total === 0 || total > this.pending.length) return out;
      const frame = this.pending.splice(0, total);
      this.decoder.feed(Uint8Array.from(frame));
      for (let p = this.decoder.next(); p !== null; p = this.decoder.next()) out.push(copyOut(p, frame));
    }
  }
}

/** Length of the frame at the start of b (fixed header included), or 0 while its header is incomplete. */
function frameLength(b: number[]): number {
  let remaining = 0;
  let multiplier = 1;
  for (let i = 1; i <= 4; i++) {
    const byte = b[i];
    if (byte === undefined) return 0;
    remaining += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return 1 + i + remaining;
    multiplier *= 128;
  }
  throw new Error("the client wrote a Remaining Length longer than 4 bytes");
}

/** Our Encoder, one packet to a fresh array. */
export function encode(version: ProtocolVersion, packet: Packet): Uint8Array {
  return new Encoder(version).encode(packet);
}

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

export interface OpenRecord {
  at: number;
  params: LinkParams;
  link: FakeLink;
}

export class FakeHost implements Host {
  private clock = 0;
  private seq = 0;
  private readonly timers = new Set<Timer>();
  private readonly deferred: Array<() => void> = [];
  /** Every open() call, in order, with the clock's time. */
  readonly opens: OpenRecord[] = [];
  /** Runs (deferred) for each new link: a scripted broker hooks in here. */
  onLink: ((link: FakeLink) => void) | undefined;

  now(): number {
    return this.clock;
  }

  setTimer(callback: () => void, ms: number): unknown {
    const t: Timer = { at: this.clock + Math.max(0, ms), seq: this.seq++, fn: callback };
    this.timers.add(t);
    return t;
  }

  clearTimer(handle: unknown): void {
    this.timers.delete(handle as Timer);
  }

  defer(callback: () => void): void {
    this.deferred.push(callback);
  }

  open(params: LinkParams, events: LinkEvents): Link {
    const link = new FakeLink(this, events, this.opens.length);
    this.opens.push({ at: this.clock, params, link });
    const hook = this.onLink;
    if (hook !== undefined) this.defer(() => hook(link));
    return link;
  }

  /** The link of the latest open(). */
  get link(): FakeLink {
    const last = this.opens[this.opens.length - 1];
    if (last === undefined) throw new Error("open() was never called");
    return last.link;
  }

  /** Timers armed and not yet run: their due times, soonest first. */
  get pendingTimers(): number[] {
    return [...this.timers].map((t) => t.at).sort((a, b) => a - b);
  }

  /** Runs deferred callbacks (and those they defer) until none is left. Time does not move. */
  flush(): void {
    for (let guard = 0; this.deferred.length > 0; guard++) {
      if (guard > 1_000_000) throw new Error("FakeHost.flush: deferred callbacks never stop");
      this.deferred.shift()!();
    }
  }

  /** Moves the clock ms forward, running every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const target = this.clock + ms;
    this.flush();
    for (;;) {
      let next: Timer | undefined;
      for (const t of this.timers) {
        if (t.at <= target && (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (next === undefined) break;
      this.timers.delete(next);
      this.clock = Math.max(this.clock, next.at);
      next.fn();
      this.flush();
    }
    this.clock = target;
    this.flush();
  }

  /** Moves the clock to an absolute time. */
  advanceTo(at: number): void {
    if (at < this.clock) throw new Error(`the clock cannot go back from ${this.clock} to ${at}`);
    this.advance(at - this.clock);
  }
}

export class FakeLink implements Link {
  readonly socket: { fake: true; index: number };
  /** Every byte the client wrote, in order. */
  readonly written: number[] = [];
  /** The bytes of each write() call, in order: how the client batches its output (one array per system call on a real socket). */
  readonly writes: number[][] = [];
  /** Packets decoded from what the client wrote, not yet taken(). */
  private inbox: Seen[] = [];
  /** Everything decoded from the client, in order. */
  readonly log: Seen[] = [];
  /** How the client ended the link, if it did. */
  endedBy: "close" | "destroy" | undefined;
  /** Whether the peer side ended it (refuse/drop). */
  peerClosed = false;
  opened = false;
  /** Bytes write() will still take before it starts taking less than offered; Infinity = no limit. */
  window = Infinity;
  /** Optional script: called (deferred) with each packet the client wrote, in order. */
  onPacket: ((p: Seen, link: FakeLink) => void) | undefined;
  /** Set by write() when it took less than offered: onWritable is owed once room is granted. */
  private starved = false;
  private readonly chunks: Uint8Array[] = [];
  private readonly wire = new Wire();
  private readonly host: FakeHost;
  private readonly events: LinkEvents;

  constructor(host: FakeHost, events: LinkEvents, index: number) {
    this.host = host;
    this.events = events;
    this.socket = { fake: true, index };
  }

  /** Whether the link is gone, from either side. */
  get ended(): boolean {
    return this.endedBy !== undefined || this.peerClosed;
  }

  get version(): ProtocolVersion {
    return this.wire.version;
  }

  // ---- the client's side (Link) ----------------------------------------------------------------

  read(): Uint8Array | null {
    return this.chunks.shift() ?? null;
  }

  write(bytes: Uint8Array, offset: number, length: number): number {
    if (this.ended) throw new Error("write() on a link that has ended");
    if (!this.opened) throw new Error("write() before the link opened");
    const n = Math.min(length, this.window);
    if (n < length) this.starved = true;
    this.window -= n;
    const taken = bytes.slice(offset, offset + n);
    for (const b of taken) this.written.push(b);
    if (n > 0) this.writes.push(Array.from(taken));
    const packets = this.wire.feed(taken);
    for (const p of packets) {
      p.at = this.host.now();
      this.inbox.push(p);
      this.log.push(p);
      const script = this.onPacket;
      // The broker reads what was written even when the client closed right after; its replies are dropped.
      if (script !== undefined) this.host.defer(() => script(p, this));
    }
    return n;
  }

  close(): void {
    if (this.endedBy === undefined) this.endedBy = "close";
  }

  destroy(): void {
    if (this.endedBy === undefined) this.endedBy = "destroy";
  }

  // ---- the peer's side (the test) ---------------------------------------------------------------

  /** The link is up (TCP connected). */
  accept(): void {
    this.deliver(() => {
      this.opened = true;
      this.events.onOpen();
    });
  }

  /** The open fails (connection refused, DNS failure...): onClose with an error, never onOpen. */
  refuse(rc = MQTT_ERR_NO_CONN, message = "connection refused"): void {
    this.deliver(() => {
      this.peerClosed = true;
      this.events.onClose({ rc, message });
    });
  }

  /** The peer or the network drops the link. */
  drop(error: LinkError | undefined = { rc: MQTT_ERR_CONN_LOST, message: "connection reset by peer" }): void {
    this.deliver(() => {
      this.peerClosed = true;
      this.events.onClose(error);
    });
  }

  /** Pushes raw bytes to the client, as one chunk. */
  sendBytes(bytes: Uint8Array | number[]): void {
    const chunk = Uint8Array.from(bytes);
    this.deliver(() => {
      this.chunks.push(chunk);
      this.events.onReadable();
    });
  }

  /** Encodes packets with our Encoder in the protocol the client's CONNECT named, and pushes them as one chunk. */
  send(...packets: Packet[]): void {
    const parts = packets.map((p) => encode(this.version, p));
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    this.sendBytes(all);
  }

  /** Lets write() take n more bytes; a client that was refused bytes hears onWritable. */
  grant(n = Infinity): void {
    this.window += n;
    if (!this.starved) return;
    this.starved = false;
    this.deliver(() => this.events.onWritable());
  }

  /** Packets the client wrote since the last take(). */
  take(): Seen[] {
    const out = this.inbox;
    this.inbox = [];
    return out;
  }

  /** Types of the packets the client wrote since the last take(), by name. */
  takeNames(): string[] {
    return this.take().map((p) => p.name);
  }

  /** Bytes of a packet the client has only partly written so far. */
  get partialBytes(): number {
    return this.wire.partial;
  }

  /** Deferred, and dropped once the link has ended: a host never reports on a link after close()/destroy(). */
  private deliver(event: () => void): void {
    this.host.defer(() => {
      if (this.ended) return;
      event();
    });
  }
}
