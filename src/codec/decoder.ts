/**
 * The incremental decoder: bytes in any split go in with feed(), packets come out of next().
 *
 * Theory of operation. A packet that lies whole inside the fed chunk is parsed where it lies: no copy.
 * Only a packet cut by the end of a chunk is copied, into the receive buffer allocated once at
 * construction, and completed from the following chunks. Its size is known from the fixed header before
 * any of its body is kept, so a packet larger than the buffer is refused (0x95) before a byte of it is
 * stored, and nothing is ever allocated from a length read off the wire.
 *
 * Lifetimes. PUBLISH and PUBACK/PUBREC/PUBREL/PUBCOMP come back as views reused for every packet of their
 * kind (decoder.publish and decoder.ack). A returned packet, and every Uint8Array view reached from it,
 * is valid until the next call to next() or feed(): copy what must outlive that. Once next() has
 * returned null, the caller may reuse the chunk it fed.
 *
 * Oversized PUBLISH on MQTT 3.x. A 3.x client has no way to tell the broker its limit, so a broker may hold
 * a message larger than the receive buffer and resend it on every reconnect. With skipOversized set, such
 * a PUBLISH is not an error: only its header (topic and packet id) is kept, next() returns it as a view
 * with `oversize` set and an empty payload, so that it can be acknowledged, and its remaining bytes are
 * read past without being stored.
 *
 * Errors. Anything wrong with the bytes throws MqttProtocolError with its v5 reason code; the decoder
 * then keeps throwing it until reset(), because the stream's framing can no longer be trusted.
 */
import type { Arena } from "../buffers/arena.js";
import { AUTH, CONNACK, CONNECT, DISCONNECT, PINGREQ, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE, PACKET_NAMES, type ProtocolVersion } from "./constants.js";
import { Cursor } from "./cursor.js";
import { MqttProtocolError, PACKET_TOO_LARGE, malformed } from "./errors.js";
import { AckView } from "./packets/ack.js";
import { decodeConnack } from "./packets/connack.js";
import { decodeConnect } from "./packets/connect.js";
import { decodeDisconnect } from "./packets/disconnect.js";
import { PublishView } from "./packets/publish-packet.js";
import { decodeSuback } from "./packets/suback.js";
import { decodeSubscribe } from "./packets/subscribe.js";
import { decodeUnsubscribe } from "./packets/unsubscribe.js";
import type { AuthPacket, ConnackPacket, ConnectPacket, DisconnectPacket, PingreqPacket, PingrespPacket, SubackPacket, SubscribePacket, UnsubackPacket, UnsubscribePacket } from "./packet-types.js";
import { NO_PROPERTIES } from "./no-properties.js";
import type { PropertyCodec, PropertyScanner } from "./property-codec.js";

export type DecodedPacket = ConnectPacket | ConnackPacket | PublishView | AckView | SubscribePacket | SubackPacket |
  UnsubscribePacket | UnsubackPacket | PingreqPacket | PingrespPacket | DisconnectPacket | AuthPacket;

export interface DecoderOptions {
  /** The largest whole packet (fixed header included) accepted, and the receive buffer's size. */
  maxPacketSize: number;
  /** The protocol the peer speaks. Defaults to 4 (3.1.1); a decoded CONNECT sets it. */
  version?: ProtocolVersion;
  /** Carve the receive buffer out of this arena (Arena.span(maxPacketSize, 1) bytes) instead of allocating it. */
  arena?: Arena;
  /**
   * The MQTT 5 part (MQTT5_PROPERTIES from ./properties.ts; the codec's public Decoder, in ./mqtt5.ts, has
   * it). Without it (NO_PROPERTIES) a property block is refused as a protocol error: MQTT 3.1 and 3.1.1 only.
   */
  properties?: PropertyCodec;
}

const EMPTY = new Uint8Array(0);
const PINGREQ_PACKET: PingreqPacket = Object.freeze({ type: PINGREQ });
const PINGRESP_PACKET: PingrespPacket = Object.freeze({ type: PINGRESP });
/**
 * Copies shorter than this are a loop: set() needs a subarray, an allocation per straddling packet;
 * past this size memcpy's speed is worth it.
 */
const SHORT_COPY = 1024;

export class Decoder {
  version: ProtocolVersion;
  /**
   * The largest packet accepted: the receive buffer's size, or less once limitPacketSize() said so. A
   * larger packet is refused (0x95) from its fixed header, before a byte of it is kept.
   */
  maxPacketSize: number;
  /** Read past a PUBLISH larger than maxPacketSize instead of refusing it (see "Oversized PUBLISH"). */
  skipOversized = false;
  /** Reused for every PUBLISH and every acknowledgement; see the lifetime note above. */
  readonly publish: PublishView;
  readonly ack: AckView;

  private readonly held: Uint8Array;
  private heldLength = 0;
  /** Length of the held packet once its fixed header is complete; 0 before. */
  private heldTotal = 0;
  private chunk: Uint8Array = EMPTY;
  private chunkPos = 0;
  private failure: MqttProtocolError | null = null;
  /** The size of the oversized PUBLISH whose header is being kept, 0 when none. */
  private oversizeTotal = 0;
  /** Bytes of an oversized PUBLISH still to read past. */
  private skipLeft = 0;
  private readonly cursor = new Cursor();
  private readonly scan: PropertyScanner;

  constructor(options: DecoderOptions) {
    const max = options.maxPacketSize;
    if (!Number.isInteger(max) || max < 5) throw new RangeError(`maxPacketSize must be an integer >= 5, got ${String(max)}`);
    this.maxPacketSize = max;
    this.version = options.version ?? 4;
    this.held = options.arena === undefined ? new Uint8Array(max) : options.arena.u8(max);
    const properties = options.properties ?? NO_PROPERTIES;
    this.scan = properties.scanner();
    this.publish = properties.publishView();
    this.ack = properties.ackView();
  }

  /**
   * Accepts packets up to `limit` bytes, never more than the receive buffer holds: an MQTT 5 client
   * enforces the Maximum Packet Size it advertised in CONNECT, not only what it has room for (3.1.2.11.4).
   */
  limitPacketSize(limit: number): void {
    this.maxPacketSize = Math.min(limit, this.held.length);
  }

  /** Bytes of an unfinished packet kept in the receive buffer. */
  get buffered(): number {
    return this.heldLength;
  }

  /** True while bytes of the last fed chunk are still to be read by next(). */
  get hasInput(): boolean {
    return this.chunkPos < this.chunk.length;
  }

  /** Hands the decoder the next bytes of the stream; call next() until it returns null before feeding again. */
  feed(chunk: Uint8Array): void {
    if (this.failure === null && this.chunkPos < this.chunk.length) {
      throw new Error("Decoder.feed() called before next() returned null");
    }
    this.chunk = chunk;
    this.chunkPos = 0;
  }

  /** The next complete packet, or null when the fed bytes are used up. */
  next(): DecodedPacket | null {
    if (this.failure !== null) {
      this.chunkPos = this.chunk.length;
      throw this.failure;
    }
    try {
      // An oversized PUBLISH's header is held while it is kept (oversizeTotal), and nothing is held while the
      // rest of it is read past (skipLeft): two tests on the common path, a whole packet in the chunk.
      const packet = this.heldLength > 0 ? (this.oversizeTotal > 0 ? this.keepOversizedHeader() : this.completeHeld())
        : this.skipLeft > 0 ? this.skipPast() : this.nextInChunk();
      if (packet === null) this.dropChunk();
      return packet;
    } catch (e) {
      if (e instanceof MqttProtocolError) {
        this.failure = e;
        this.chunkPos = this.chunk.length;
      }
      throw e;
    }
  }

  /**
   * The fed chunk is used up (what is left of a cut packet is in the receive buffer): let it go, so an idle
   * connection does not hold its last chunk.
   */
  private dropChunk(): void {
    this.chunk = EMPTY;
    this.chunkPos = 0;
    this.cursor.reset(EMPTY, 0, 0);
  }

  /** Forgets everything buffered and any failure, as for a new connection. */
  reset(version: ProtocolVersion = this.version): void {
    this.version = version;
    this.heldLength = this.heldTotal = 0;
    this.oversizeTotal = this.skipLeft = 0;
    this.chunk = EMPTY;
    this.chunkPos = 0;
    this.failure = null;
  }

  private nextInChunk(): DecodedPacket | null {
    const b = this.chunk;
    const pos = this.chunkPos;
    const available = b.length - pos;
    if (available === 0) return null;
    const total = this.frameLength(b, pos, b.length);
    if (total <= 0 || total > available) {
      if (total < 0) {
        // Oversized: its fixed header (complete, or frameLength could not have sized it) goes to the buffer.
        let header = 2;
        while (b[pos + header - 1]! & 0x80) header++;
        this.copyIn(b, pos, header);
        this.chunkPos = pos + header;
        this.oversizeTotal = -total;
        return this.keepOversizedHeader();
      }
      // Cut by the end of the chunk: keep it (frameLength has checked it fits) and wait for the rest.
      this.copyIn(b, pos, available);
      this.heldTotal = total;
      this.chunkPos = b.length;
      return null;
    }
    this.chunkPos = pos + total;
    return this.parse(b, pos, pos + total);
  }

  private completeHeld(): DecodedPacket | null {
    const b = this.chunk;
    while (this.heldTotal === 0) {
      if (this.chunkPos === b.length) return null;
      this.held[this.heldLength++] = b[this.chunkPos++]!;
      this.heldTotal = this.frameLength(this.held, 0, this.heldLength);
      if (this.heldTotal < 0) {
        this.oversizeTotal = -this.heldTotal;
        this.heldTotal = 0;
        return this.keepOversizedHeader();
      }
    }
    const n = Math.min(this.heldTotal - this.heldLength, b.length - this.chunkPos);
    this.copyIn(b, this.chunkPos, n);
    this.chunkPos += n;
    if (this.heldLength < this.heldTotal) return null;
    const total = this.heldTotal;
    this.heldLength = this.heldTotal = 0;
    return this.parse(this.held, 0, total);
  }

  /**
   * Keeps an oversized PUBLISH's fixed header, topic and packet id in the receive buffer (its fixed header
   * is there already), then returns it as a view with an empty payload; skipPast() reads past the rest.
   */
  private keepOversizedHeader(): PublishView | null {
    const b = this.chunk;
    const held = this.held;
    const total = this.oversizeTotal;
    let fixed = 2;
    while (held[fixed - 1]! & 0x80) fixed++;
    const idLength = held[0]! & 6 ? 2 : 0;
    for (;;) {
      // First the topic's length, then the topic and the packet id.
      const sized = this.heldLength >= fixed + 2;
      const want = sized ? fixed + 2 + ((held[fixed]! << 8) | held[fixed + 1]!) + idLength : fixed + 2;
      // A header that cannot be kept (a topic longer than the receive buffer) cannot be acknowledged:
      // the packet is refused as too large, as on MQTT 5. So is one whose header does not parse below.
      if (want > total || want > held.length) throw tooLarge(PUBLISH, total, this.maxPacketSize);
      if (sized && this.heldLength >= want) break;
      if (this.chunkPos === b.length) return null;
      const n = Math.min(want - this.heldLength, b.length - this.chunkPos);
      this.copyIn(b, this.chunkPos, n);
      this.chunkPos += n;
    }
    const kept = this.heldLength;
    this.heldLength = this.heldTotal = this.oversizeTotal = 0;
    this.skipLeft = total - kept;
    let view: PublishView;
    try {
      view = this.parse(held, 0, kept) as PublishView;
    } catch (e) {
      throw e instanceof MqttProtocolError ? tooLarge(PUBLISH, total, this.maxPacketSize) : e;
    }
    view.oversize = total;
    return view;
  }

  /** Reads past what is left of an oversized PUBLISH, then goes on with the packets after it. */
  private skipPast(): DecodedPacket | null {
    const n = Math.min(this.skipLeft, this.chunk.length - this.chunkPos);
    this.chunkPos += n;
    this.skipLeft -= n;
    return this.skipLeft > 0 ? null : this.nextInChunk();
  }

  private copyIn(b: Uint8Array, from: number, n: number): void {
    const held = this.held;
    let at = this.heldLength;
    this.heldLength = at + n;
    if (n < SHORT_COPY) {
      // Four bytes a step: the loop's own test and increments cost about as much as a byte's copy, on
      // V8 and on XS alike, and with TCP-sized chunks one packet in every dozen or so comes through here.
      const end = from + n;
      for (const end4 = end - 3; from < end4; from += 4, at += 4) {
        held[at] = b[from]!;
        held[at + 1] = b[from + 1]!;
        held[at + 2] = b[from + 2]!;
        held[at + 3] = b[from + 3]!;
      }
      while (from < end) held[at++] = b[from++]!;
    } else {
      held.set(b.subarray(from, from + n), at);
    }
  }

  /**
   * Checks the fixed header at b[pos, end) (section 2.1) and returns the whole packet's length, or 0 when
   * the header itself is not all here yet. The error paths are out of line (firstByteError, tooLarge):
   * this runs for every packet, and V8 inlines it into next() only while it stays small.
   */
  private frameLength(b: Uint8Array, pos: number, end: number): number {
    const first = b[pos]!;
    const type = first >> 4;
    if (type === PUBLISH ? (first & 6) === 6 : (first & 15) !== FIXED_FLAGS[type] || type === 0 || (type === AUTH && this.version < 5)) {
      throw firstByteError(first, this.version);
    }
    let remaining = 0;
    let multiplier = 1;
    for (let i = 1; i <= 4; i++) {
      if (pos + i >= end) return 0;
      const byte = b[pos + i]!;
      remaining += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) {
        if (byte === 0 && i > 1) throw malformed("Remaining Length is not minimally encoded [MQTT-1.5.5-1]");
        const total = 1 + i + remaining;
        if (total > this.maxPacketSize) {
          if (type === PUBLISH && this.skipOversized) return -total;
          throw tooLarge(type, total, this.maxPacketSize);
        }
        return total;
      }
      multiplier *= 128;
    }
    throw malformed("Remaining Length is longer than 4 bytes");
  }

  private parse(b: Uint8Array, start: number, end: number): DecodedPacket {
    const first = b[start]!;
    const type = first >> 4;
    let body = start + 2;
    while (b[body - 1]! & 0x80) body++;
    const c = this.cursor;
    c.reset(b, body, end);
    // PUBLISH before the switch, which is in parseOther(): most traffic is PUBLISH, and a small parse()
    // is inlined into next().
    if (type === PUBLISH) return this.publish.decode(c, first & 15, this.version, this.scan);
    return this.parseOther(c, type);
  }

  private parseOther(c: Cursor, type: number): DecodedPacket {
    const v = this.version;
    switch (type) {
      case CONNECT: {
        const p = decodeConnect(c, this.scan);
        this.version = p.protocolVersion;
        return p;
      }
      case CONNACK: return decodeConnack(c, v, this.scan);
      case PUBACK: case PUBREC: case PUBREL: case PUBCOMP: return this.ack.decode(c, type, v, this.scan);
      case SUBSCRIBE: return decodeSubscribe(c, v, this.scan);
      case SUBACK: case UNSUBACK: return decodeSuback(c, type, v, this.scan);
      case UNSUBSCRIBE: return decodeUnsubscribe(c, v, this.scan);
      case PINGREQ: c.expectEnd("PINGREQ"); return PINGREQ_PACKET;
      case PINGRESP: c.expectEnd("PINGRESP"); return PINGRESP_PACKET;
      default: return decodeDisconnect(c, type as typeof DISCONNECT | typeof AUTH, v, this.scan);
    }
  }
}

/** The flag bits of each packet type's first byte (section 2.1.3); PUBLISH's are DUP, QoS and RETAIN. */
const FIXED_FLAGS: readonly number[] = Object.freeze([0, 0, 0, 0, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0]);

/** Why frameLength refused a first byte, checked in the order the rules are listed in section 2.1. */
function firstByteError(first: number, version: ProtocolVersion): MqttProtocolError {
  const type = first >> 4;
  const flags = first & 15;
  if (type === 0) return malformed("packet type 0 is reserved");
  if (type === AUTH && version < 5) return malformed("AUTH packets exist only in MQTT 5");
  if (type === PUBLISH) return malformed("PUBLISH with QoS 3 [MQTT-3.3.1-4]");
  return malformed(`${PACKET_NAMES[type]} has reserved flag bits 0x${flags.toString(16)} [MQTT-2.1.3-1]`);
}

function tooLarge(type: number, total: number, max: number): MqttProtocolError {
  return new MqttProtocolError(PACKET_TOO_LARGE, `${PACKET_NAMES[type]} of ${total} bytes exceeds the maximum packet size of ${max}`);
}
