/**
 * The encoder writes packets straight into memory the caller owns (a ring, a socket buffer): measure()
 * validates the packet and returns its exact length, so the caller can reserve that much, then write()
 * puts it there. Strings and properties are measured once; the payload is copied once, from where the
 * caller holds it to the output, or not at all when the caller sends it itself after writeHeader().
 * Invalid input throws RangeError/TypeError from measure(), before anything is written.
 */
import { AUTH, CONNACK, CONNECT, DISCONNECT, PINGREQ, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE, type ProtocolVersion } from "./constants.js";
import { Sizes, fixedHeaderLength, writeFixedHeader } from "./frame.js";
import { measureAck, writeAck } from "./packets/ack.js";
import { measureConnack, writeConnack } from "./packets/connack.js";
import { measureConnect, writeConnect } from "./packets/connect.js";
import { measureDisconnect, writeDisconnect } from "./packets/disconnect.js";
import { measurePublish, writePublish, writePublishHeader } from "./packets/publish-packet.js";
import { measureSuback, writeSuback } from "./packets/suback.js";
import { measureSubscribe, writeSubscribe } from "./packets/subscribe.js";
import { measureUnsubscribe, writeUnsubscribe } from "./packets/unsubscribe.js";
import type { Packet, PublishPacket } from "./packet-types.js";
import { NO_PROPERTIES } from "./no-properties.js";
import type { PropertyCodec } from "./property-codec.js";

export class Encoder {
  /** The protocol of everything but CONNECT, which names its own. */
  version: ProtocolVersion;
  /** Length of the last measured packet, and of all of it but the payload (equal unless PUBLISH). */
  length = 0;
  headerLength = 0;

  private readonly sizes: Sizes;
  private packet: Packet | null = null;

  /**
   * `properties`: the MQTT 5 part (MQTT5_PROPERTIES from ./properties.ts; the codec's public Encoder, in
   * ./mqtt5.ts, has it), or NO_PROPERTIES for a 3.1.1-only build, which then refuses property blocks.
   */
  constructor(version: ProtocolVersion = 4, properties: PropertyCodec = NO_PROPERTIES) {
    this.sizes = new Sizes(properties.writer());
    this.version = version;
  }

  measure(p: Packet): number {
    const s = this.sizes;
    const v = this.version;
    let remaining: number;
    let payload = 0;
    this.packet = null;
    // PUBLISH ahead of the switch, here and in write(): it is most of the traffic, and V8 compiles the
    // switch into a chain of compares that costs a few percent of a small PUBLISH's encoding.
    if (p.type === PUBLISH) {
      remaining = measurePublish(p, v, s);
      payload = p.payload.length;
    } else switch (p.type) {
      case CONNECT: remaining = measureConnect(p, s); break;
      case CONNACK: remaining = measureConnack(p, v, s); break;
      case PUBACK: case PUBREC: case PUBREL: case PUBCOMP: remaining = measureAck(p, v, s); break;
      case SUBSCRIBE: remaining = measureSubscribe(p, v, s); break;
      case SUBACK: case UNSUBACK: remaining = measureSuback(p, v, s); break;
      case UNSUBSCRIBE: remaining = measureUnsubscribe(p, v, s); break;
      case PINGREQ: case PINGRESP: remaining = 0; break;
      case DISCONNECT: case AUTH: remaining = measureDisconnect(p, v, s); break;
      default: throw new TypeError(`unknown packet type ${String((p as { type: unknown }).type)}`);
    }
    s.remaining = remaining;
    this.packet = p;
    this.length = fixedHeaderLength(remaining) + remaining;
    this.headerLength = this.length - payload;
    return this.length;
  }

  /** Writes the packet last given to measure() at out[offset]; returns the offset after it. */
  write(out: Uint8Array, offset: number): number {
    const p = this.measured();
    const s = this.sizes;
    const v = this.version;
    if (p.type === PUBLISH) return writePublish(out, offset, p, v, s);
    switch (p.type) {
      case CONNECT: return writeConnect(out, offset, p, s);
      case CONNACK: return writeConnack(out, offset, p, v, s);
      case PUBACK: case PUBREC: case PUBREL: case PUBCOMP: return writeAck(out, offset, p, v, s);
      case SUBSCRIBE: return writeSubscribe(out, offset, p, v, s);
      case SUBACK: case UNSUBACK: return writeSuback(out, offset, p, v, s);
      case UNSUBSCRIBE: return writeUnsubscribe(out, offset, p, v, s);
      case PINGREQ: case PINGRESP: return writeFixedHeader(out, offset, p.type << 4, 0);
      default: return writeDisconnect(out, offset, p, s);
    }
  }

  /** For a measured PUBLISH: writes headerLength bytes, all but the payload. */
  writeHeader(out: Uint8Array, offset: number): number {
    const p = this.measured();
    if (p.type !== PUBLISH) throw new TypeError("writeHeader() is for PUBLISH packets");
    return writePublishHeader(out, offset, p as PublishPacket, this.version, this.sizes);
  }

  /** Measures and writes into a new array of the exact size. Convenient off the hot path. */
  encode(p: Packet): Uint8Array {
    const out = new Uint8Array(this.measure(p));
    this.write(out, 0);
    return out;
  }

  private measured(): Packet {
    if (this.packet === null) throw new Error("Encoder.write() needs a successful measure() first");
    return this.packet;
  }
}
