/**
 * SUBACK and UNSUBACK (sections 3.9 and 3.11): a packet id, v5 properties, then one reason code per
 * filter. They share a layout; 3.x UNSUBACK alone carries no codes at all.
 */
import { SUBACK, UNSUBACK, type ProtocolVersion } from "../constants.js";
import type { Cursor } from "../cursor.js";
import { malformed, protocolError } from "../errors.js";
import { type Sizes, checkPacketIdIn, checkPacketIdOut, checkReasonCodeOut, writeFixedHeader } from "../frame.js";
import type { SubackPacket, UnsubackPacket } from "../packet-types.js";
import { type PropertyScanner, propertyBlockLength } from "../property-codec.js";
import { SUBACK_CODES, SUBACK_CODES_V3, UNSUBACK_CODES } from "../reason-codes.js";
import { writeU16 } from "../write.js";

type ListAck = SubackPacket | UnsubackPacket;

export function decodeSuback(c: Cursor, type: typeof SUBACK | typeof UNSUBACK, version: ProtocolVersion, scan: PropertyScanner): ListAck {
  const name = type === SUBACK ? "SUBACK" : "UNSUBACK";
  const packetId = c.u16("packet identifier");
  checkPacketIdIn(packetId, name);
  const packet: ListAck = { type, packetId, reasonCodes: [] };
  if (version === 5) {
    scan.scan(c, type);
    const properties = scan.read(c.bytes, scan.start, scan.end);
    if (properties !== undefined) packet.properties = properties;
  }
  if (type === UNSUBACK && version < 5) {
    c.expectEnd(name);
    return packet;
  }
  if (c.remaining === 0) throw protocolError(`${name} has no reason codes`);
  const allowed = type === UNSUBACK ? UNSUBACK_CODES : version === 5 ? SUBACK_CODES : SUBACK_CODES_V3;
  while (c.remaining > 0) {
    const code = c.u8("reason code");
    if (allowed[code] !== 1) throw malformed(`${name} carries an undefined reason code 0x${code.toString(16)}`);
    packet.reasonCodes.push(code);
  }
  return packet;
}

/** Sizes kept: props. */
export function measureSuback(p: ListAck, version: ProtocolVersion, s: Sizes): number {
  const name = p.type === SUBACK ? "SUBACK" : "UNSUBACK";
  checkPacketIdOut(p.packetId, name);
  let n = 2;
  if (version === 5) n += propertyBlockLength(s.props.measure(p.properties, p.type));
  else if (p.properties !== undefined) throw new RangeError(`${name} properties need MQTT 5`);
  if (p.type === UNSUBACK && version < 5) {
    if (p.reasonCodes.length > 0) throw new RangeError("UNSUBACK reason codes need MQTT 5");
    return n;
  }
  if (p.reasonCodes.length === 0) throw new RangeError(`${name} needs one reason code per topic filter`);
  const allowed = p.type === UNSUBACK ? UNSUBACK_CODES : version === 5 ? SUBACK_CODES : SUBACK_CODES_V3;
  for (const code of p.reasonCodes) checkReasonCodeOut(code, name, allowed);
  return n + p.reasonCodes.length;
}

export function writeSuback(out: Uint8Array, o: number, p: ListAck, version: ProtocolVersion, s: Sizes): number {
  o = writeFixedHeader(out, o, p.type << 4, s.remaining);
  o = writeU16(out, o, p.packetId);
  if (version === 5) o = s.props.write(out, o, p.properties);
  for (const code of p.reasonCodes) out[o++] = code;
  return o;
}
