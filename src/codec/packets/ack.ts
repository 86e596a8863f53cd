/**
 * PUBACK, PUBREC, PUBREL and PUBCOMP (sections 3.4 to 3.7): a packet id and, on MQTT 5, a reason code and
 * properties, both omitted when they are the defaults. Decoding fills a reused AckView (QoS 1/2 traffic
 * is as hot as PUBLISH); its properties are built only when asked for.
 */
import { type AckType, PACKET_NAMES, PUBACK, PUBCOMP, PUBREL, type ProtocolVersion } from "../constants.js";
import type { Cursor } from "../cursor.js";
import { malformed } from "../errors.js";
import { type Sizes, checkPacketIdIn, checkPacketIdOut, checkReasonCodeOut, writeFixedHeader } from "../frame.js";
import type { AckPacket } from "../packet-types.js";
import type { Properties } from "../properties.js";
import { type PropertyScanner, propertyBlockLength } from "../property-codec.js";
import { PUBACK_CODES, PUBREL_CODES } from "../reason-codes.js";
import { writeU16 } from "../write.js";

const EMPTY = new Uint8Array(0);

/** A decoded acknowledgement; reused by the decoder, valid until its next next() or feed() call. */
export class AckView implements AckPacket {
  type: AckType = PUBACK;
  packetId = 0;
  reasonCode = 0;
  bytes: Uint8Array = EMPTY;
  propertiesStart = 0;
  propertiesEnd = 0;

  get properties(): Properties | undefined {
    return this.readProperties(this.bytes, this.propertiesStart, this.propertiesEnd);
  }

  /** As PublishView.readProperties: none without MQTT 5, whose codec part makes views that read them. */
  readProperties(_bytes: Uint8Array, _start: number, _end: number): Properties | undefined {
    return undefined;
  }

  decode(c: Cursor, type: AckType, version: ProtocolVersion, scan: PropertyScanner): this {
    const name = PACKET_NAMES[type]!;
    this.type = type;
    this.packetId = c.u16("packet identifier");
    checkPacketIdIn(this.packetId, name);
    this.reasonCode = 0;
    this.bytes = c.bytes;
    this.propertiesStart = this.propertiesEnd = c.pos;
    if (version === 5 && c.remaining > 0) {
      // Section 3.4.2.1: the reason code may be left out when it is 0 and there are no properties;
      // the property length may be left out when there are no properties.
      const code = (this.reasonCode = c.u8("reason code"));
      const allowed = type === PUBREL || type === PUBCOMP ? PUBREL_CODES : PUBACK_CODES;
      if (allowed[code] !== 1) throw malformed(`${name} carries an undefined reason code 0x${code.toString(16)}`);
      if (c.remaining > 0) {
        scan.scan(c, type);
        this.propertiesStart = scan.start;
        this.propertiesEnd = scan.end;
      }
    }
    c.expectEnd(name);
    return this;
  }
}

/** Sizes kept: props. */
export function measureAck(p: AckPacket, version: ProtocolVersion, s: Sizes): number {
  const name = PACKET_NAMES[p.type]!;
  checkPacketIdOut(p.packetId, name);
  const code = checkReasonCodeOut(p.reasonCode ?? 0, name, p.type === PUBREL || p.type === PUBCOMP ? PUBREL_CODES : PUBACK_CODES);
  if (version < 5) {
    if (code !== 0 || p.properties !== undefined) throw new RangeError(`${name} reason codes and properties need MQTT 5`);
    return 2;
  }
  const propsLength = s.props.measure(p.properties, p.type);
  if (propsLength > 0) return 3 + propertyBlockLength(propsLength);
  return code === 0 ? 2 : 3;
}

export function writeAck(out: Uint8Array, o: number, p: AckPacket, version: ProtocolVersion, s: Sizes): number {
  o = writeFixedHeader(out, o, (p.type << 4) | (p.type === PUBREL ? 2 : 0), s.remaining);
  o = writeU16(out, o, p.packetId);
  if (s.remaining > 2) out[o++] = p.reasonCode ?? 0;
  return s.remaining > 3 ? s.props.write(out, o, p.properties) : o;
}
