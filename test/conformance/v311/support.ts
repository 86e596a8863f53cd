/**
 * What the MQTT 3.1.1 conformance tests share: the codec at protocol level 4 (test/support/codec-checks.ts)
 * and 3.1.1 frames built by hand, for the bytes a conforming peer never sends.
 */
import type { DecodedPacket, Packet } from "../../../src/codec/index.js";
import { decodeAt, decodeRefusesAt, encodeAt, encodeRefusesAt, str, utf8 } from "../../support/codec-checks.js";

export { str, utf8 };

/** The bytes the encoder writes for a packet at level 4. */
export const encode4 = (p: Packet): number[] => encodeAt(4, p);

/** The encoder refuses the packet at level 4 (a RangeError or TypeError) before writing anything. */
export const encodeRefuses = (p: Packet, why: RegExp | undefined = undefined): void => encodeRefusesAt(4, p, why);

/** The one packet a level-4 decoder makes of the bytes. */
export const decode4 = (bytes: number[]): DecodedPacket => decodeAt(4, bytes);

/**
 * A level-4 decoder refuses the bytes. MQTT 3.1.1 has no reason codes to send: a client that detects a bad
 * packet closes the connection (connection.test.ts), so which of 0x81 and 0x82 the decoder names is not asserted.
 */
export const decodeRefuses = (bytes: number[]): void => decodeRefusesAt(4, bytes, undefined);

/** A 3.1.1 PUBLISH with these topic bytes and payload, framed; at QoS 1/2 (flags) `id` follows the topic. */
export function publishBytes(topic: number[], payload: number[] = [], flags = 0x30, id?: number): number[] {
  const body = [...str(topic), ...(id === undefined ? [] : [id >> 8, id & 0xff]), ...payload];
  return [flags, body.length, ...body];
}

const MQTT = [0x00, 0x04, 0x4d, 0x51, 0x54, 0x54];

/** A 3.1.1 CONNECT: "MQTT", level 4, these flags, keep alive 0, then the payload as given. */
export function connectBytes(flags: number, payload: number[]): number[] {
  const body = [...MQTT, 0x04, flags, 0x00, 0x00, ...payload];
  return [0x10, body.length, ...body];
}

/** A 3.1.1 SUBSCRIBE with packet id 1 and one filter (its bytes) and requested QoS byte. */
export function subscribeBytes(filter: number[], qos = 0): number[] {
  const body = [0x00, 0x01, ...str(filter), qos];
  return [0x82, body.length, ...body];
}

/** A 3.1.1 UNSUBSCRIBE with packet id 1 and these filters (their bytes). */
export function unsubscribeBytes(...filters: number[][]): number[] {
  const body = [0x00, 0x01, ...filters.flatMap(str)];
  return [0xa2, body.length, ...body];
}
