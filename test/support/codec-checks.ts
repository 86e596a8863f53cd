/**
 * The codec asked the conformance questions, at one protocol level: the bytes the encoder writes for a
 * packet (the client's duty to send it right), its refusal before writing anything, the packet a decoder
 * makes of bytes, and its refusal of bytes a peer should never have sent (the client's duty to detect
 * them). Shared by test/conformance/v311 and v5.
 */
import assert from "node:assert/strict";
import { Decoder, Encoder, MqttProtocolError, type DecodedPacket, type Packet, type ProtocolVersion } from "../../src/codec/index.js";

/** 0x81 Malformed Packet and 0x82 Protocol Error: the reasons a decoder refuses with (a 3.x client then just closes). */
export const MALFORMED = 0x81;
export const PROTOCOL_ERROR = 0x82;

/** The bytes the encoder writes for a packet at this level. */
export function encodeAt(version: ProtocolVersion, p: Packet): number[] {
  return Array.from(new Encoder(version).encode(p));
}

/** The encoder refuses the packet (a RangeError or TypeError) before writing anything. */
export function encodeRefusesAt(version: ProtocolVersion, p: Packet, why: RegExp | undefined = undefined): void {
  const e = new Encoder(version);
  assert.throws(() => e.measure(p), (err: unknown) => {
    assert.ok(err instanceof RangeError || err instanceof TypeError, `a RangeError or TypeError, got ${String(err)}`);
    if (why !== undefined) assert.match((err as Error).message, why);
    return true;
  });
}

/** The one packet a decoder at this level makes of the bytes. */
export function decodeAt(version: ProtocolVersion, bytes: number[]): DecodedPacket {
  const d = new Decoder({ maxPacketSize: 1 << 17, version });
  d.feed(Uint8Array.from(bytes));
  const p = d.next();
  assert.ok(p !== null, "a whole packet");
  return p;
}

/** A decoder at this level refuses the bytes, with this reason code unless undefined (3.1.1 has none to send). */
export function decodeRefusesAt(version: ProtocolVersion, bytes: number[], reasonCode: number | undefined): void {
  const d = new Decoder({ maxPacketSize: 1 << 17, version });
  d.feed(Uint8Array.from(bytes));
  assert.throws(() => d.next(), (err: unknown) => {
    assert.ok(err instanceof MqttProtocolError, `an MqttProtocolError, got ${String(err)}`);
    if (reasonCode !== undefined) assert.equal(err.reasonCode, reasonCode, `reason 0x${reasonCode.toString(16)}: ${err.message}`);
    return true;
  });
}

/** A UTF-8 string field: two length bytes, then the bytes. */
export function str(bytes: number[]): number[] {
  return [bytes.length >> 8, bytes.length & 0xff, ...bytes];
}

export const utf8 = (s: string): number[] => Array.from(new TextEncoder().encode(s));
