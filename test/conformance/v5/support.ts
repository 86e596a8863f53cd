/**
 * What the MQTT 5.0 conformance tests share: the codec at protocol level 5, asked to encode a packet (the
 * client's duty to send it right) and to decode bytes (its duty to detect a peer that did not).
 */
import assert from "node:assert/strict";
import { Decoder, Encoder, MqttProtocolError, type DecodedPacket, type Packet } from "../../../src/codec/index.js";

/** 0x81 Malformed Packet and 0x82 Protocol Error, the reasons a v5 decoder refuses with. */
export const MALFORMED = 0x81;
export const PROTOCOL_ERROR = 0x82;

/** The bytes the encoder writes for a packet at level 5. */
export function encode5(p: Packet): number[] {
  return Array.from(new Encoder(5).encode(p));
}

/** The encoder refuses the packet (a RangeError or TypeError) before writing anything. */
export function encodeRefuses(p: Packet, why: RegExp | undefined = undefined): void {
  const e = new Encoder(5);
  assert.throws(() => e.measure(p), (err: unknown) => {
    assert.ok(err instanceof RangeError || err instanceof TypeError, `a RangeError or TypeError, got ${String(err)}`);
    if (why !== undefined) assert.match((err as Error).message, why);
    return true;
  });
}

/** The one packet a level-5 decoder makes of the bytes. */
export function decode5(bytes: number[]): DecodedPacket {
  const d = new Decoder({ maxPacketSize: 1 << 17, version: 5 });
  d.feed(Uint8Array.from(bytes));
  const p = d.next();
  assert.ok(p !== null, "a whole packet");
  return p;
}

/** A level-5 decoder refuses the bytes with this reason code (0x81 unless given). */
export function decodeRefuses(bytes: number[], reasonCode = MALFORMED): void {
  const d = new Decoder({ maxPacketSize: 1 << 17, version: 5 });
  d.feed(Uint8Array.from(bytes));
  assert.throws(() => d.next(), (err: unknown) => {
    assert.ok(err instanceof MqttProtocolError, `an MqttProtocolError, got ${String(err)}`);
    assert.equal(err.reasonCode, reasonCode, `reason 0x${reasonCode.toString(16)}: ${err.message}`);
    return true;
  });
}

/** A UTF-8 string field: two length bytes, then the bytes. */
export function str(bytes: number[]): number[] {
  return [bytes.length >> 8, bytes.length & 0xff, ...bytes];
}

export const utf8 = (s: string): number[] => Array.from(new TextEncoder().encode(s));

/** A v5 PUBLISH at QoS 0 with these topic bytes, property bytes and payload, framed. */
export function publishBytes(topic: number[], properties: number[] = [], payload: number[] = [], flags = 0x30): number[] {
  const body = [...str(topic), properties.length, ...properties, ...payload];
  return [flags, body.length, ...body];
}
