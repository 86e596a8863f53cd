/**
 * What the MQTT 5.0 conformance tests share: the codec at protocol level 5, asked to encode a packet (the
 * client's duty to send it right) and to decode bytes (its duty to detect a peer that did not).
 */
import type { DecodedPacket, Packet } from "../../../src/codec/index.js";
import { MALFORMED, PROTOCOL_ERROR, decodeAt, decodeRefusesAt, encodeAt, encodeRefusesAt, str, utf8 } from "../../support/codec-checks.js";

/** 0x81 Malformed Packet and 0x82 Protocol Error, the reasons a v5 decoder refuses with. */
export { MALFORMED, PROTOCOL_ERROR, str, utf8 };

/** The bytes the encoder writes for a packet at level 5. */
export const encode5 = (p: Packet): number[] => encodeAt(5, p);

/** The encoder refuses the packet (a RangeError or TypeError) before writing anything. */
export const encodeRefuses = (p: Packet, why: RegExp | undefined = undefined): void => encodeRefusesAt(5, p, why);

/** The one packet a level-5 decoder makes of the bytes. */
export const decode5 = (bytes: number[]): DecodedPacket => decodeAt(5, bytes);

/** A level-5 decoder refuses the bytes with this reason code (0x81 unless given). */
export const decodeRefuses = (bytes: number[], reasonCode = MALFORMED): void => decodeRefusesAt(5, bytes, reasonCode);

/** A v5 PUBLISH at QoS 0 with these topic bytes, property bytes and payload, framed. */
export function publishBytes(topic: number[], properties: number[] = [], payload: number[] = [], flags = 0x30): number[] {
  const body = [...str(topic), properties.length, ...properties, ...payload];
  return [flags, body.length, ...body];
}
