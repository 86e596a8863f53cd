/**
 * DISCONNECT and AUTH (sections 3.14 and 3.15): on MQTT 5 a reason code and properties, each left out when
 * it is the default (Remaining Length 0 means reason 0x00 and no properties). On 3.x DISCONNECT is empty
 * and AUTH does not exist.
 */
import { AUTH, DISCONNECT, type ProtocolVersion } from "../constants.js";
import type { Cursor } from "../cursor.js";
import { malformed } from "../errors.js";
import { type Sizes, checkReasonCodeOut, writeFixedHeader } from "../frame.js";
import type { AuthPacket, DisconnectPacket } from "../packet-types.js";
import { type PropertyScanner, propertyBlockLength } from "../property-codec.js";
import { AUTH_CODES, DISCONNECT_CODES } from "../reason-codes.js";

type ReasonPacket = DisconnectPacket | AuthPacket;

export function decodeDisconnect(c: Cursor, type: typeof DISCONNECT | typeof AUTH, version: ProtocolVersion, scan: PropertyScanner): ReasonPacket {
  const name = type === DISCONNECT ? "DISCONNECT" : "AUTH";
  const packet: ReasonPacket = { type, reasonCode: 0 };
  if (version === 5 && c.remaining > 0) {
    const code = (packet.reasonCode = c.u8("reason code"));
    if ((type === DISCONNECT ? DISCONNECT_CODES : AUTH_CODES)[code] !== 1) {
      throw malformed(`${name} carries an undefined reason code 0x${code.toString(16)}`);
    }
    // DISCONNECT may stop after its reason code (section 3.14.2.2); AUTH may not (section 3.15.2.2).
    if (c.remaining > 0 || type === AUTH) {
      scan.scan(c, type);
      const properties = scan.read(c.bytes, scan.start, scan.end);
      if (properties !== undefined) packet.properties = properties;
    }
  }
  c.expectEnd(name);
  return packet;
}

/** Sizes kept: props. */
export function measureDisconnect(p: ReasonPacket, version: ProtocolVersion, s: Sizes): number {
  const name = p.type === DISCONNECT ? "DISCONNECT" : "AUTH";
  const code = checkReasonCodeOut(p.reasonCode ?? 0, name, p.type === DISCONNECT ? DISCONNECT_CODES : AUTH_CODES);
  if (version < 5) {
    if (p.type === AUTH) throw new RangeError("AUTH needs MQTT 5");
    if (code !== 0 || p.properties !== undefined) throw new RangeError("DISCONNECT reason codes and properties need MQTT 5");
    return 0;
  }
  const propsLength = s.props.measure(p.properties, p.type);
  if (propsLength > 0) return 1 + propertyBlockLength(propsLength);
  if (code === 0) return 0;
  return p.type === DISCONNECT ? 1 : 2;
}

export function writeDisconnect(out: Uint8Array, o: number, p: ReasonPacket, s: Sizes): number {
  o = writeFixedHeader(out, o, p.type << 4, s.remaining);
  if (s.remaining === 0) return o;
  out[o++] = p.reasonCode ?? 0;
  return s.remaining > 1 ? s.props.write(out, o, p.properties) : o;
}
