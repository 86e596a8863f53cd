/** CONNACK (section 3.2): acknowledge flags, a return code (3.x) or reason code (5), v5 properties. */
import { CONNACK, type ProtocolVersion } from "../constants.js";
import type { Cursor } from "../cursor.js";
import { malformed, protocolError } from "../errors.js";
import { type Sizes, checkReasonCodeOut, writeFixedHeader } from "../frame.js";
import type { ConnackPacket } from "../packet-types.js";
import { type PropertyScanner, propertyBlockLength } from "../property-codec.js";
import { CONNACK_CODES, CONNACK_CODES_V3 } from "../reason-codes.js";

export function decodeConnack(c: Cursor, version: ProtocolVersion, scan: PropertyScanner): ConnackPacket {
  const flags = c.u8("CONNACK flags");
  // 3.1 had no Session Present: the whole byte is reserved there.
  if (flags & (version === 3 ? 0xff : 0xfe)) throw malformed("CONNACK reserved flag bits are set [MQTT-3.2.2-1]");
  const reasonCode = c.u8("CONNACK return code");
  if ((version === 5 ? CONNACK_CODES : CONNACK_CODES_V3)[reasonCode] !== 1) {
    throw malformed(`CONNACK carries an undefined ${version === 5 ? "reason" : "return"} code 0x${reasonCode.toString(16)}`);
  }
  const sessionPresent = (flags & 1) === 1;
  if (sessionPresent && reasonCode !== 0) throw protocolError("CONNACK refuses the connection but says a session is present [MQTT-3.2.2-4]");
  const packet: ConnackPacket = { type: CONNACK, sessionPresent, reasonCode };
  if (version === 5) {
    scan.scan(c, CONNACK);
    const properties = scan.read(c.bytes, scan.start, scan.end);
    if (properties !== undefined) packet.properties = properties;
  }
  c.expectEnd("CONNACK");
  return packet;
}

/** Sizes kept: props. */
export function measureConnack(p: ConnackPacket, version: ProtocolVersion, s: Sizes): number {
  checkReasonCodeOut(p.reasonCode, "CONNACK", version === 5 ? CONNACK_CODES : CONNACK_CODES_V3);
  if (p.sessionPresent && p.reasonCode !== 0) throw new RangeError("a refusing CONNACK cannot say a session is present [MQTT-3.2.2-4]");
  if (p.sessionPresent && version === 3) throw new RangeError("MQTT 3.1 has no Session Present flag");
  if (version < 5) {
    if (p.properties !== undefined) throw new RangeError("CONNACK properties need MQTT 5");
    return 2;
  }
  return 2 + propertyBlockLength(s.props.measure(p.properties, CONNACK));
}

export function writeConnack(out: Uint8Array, o: number, p: ConnackPacket, version: ProtocolVersion, s: Sizes): number {
  o = writeFixedHeader(out, o, CONNACK << 4, s.remaining);
  out[o++] = p.sessionPresent ? 1 : 0;
  out[o++] = p.reasonCode;
  return version === 5 ? s.props.write(out, o, p.properties) : o;
}
