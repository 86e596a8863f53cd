/**
 * The shape of a codec test vector. Vectors are host-neutral data (no Node, no Moddable): the portable
 * suite runs them in Node and in XS, and test/codec/mqtt-packet.test.ts replays them through mqtt-packet.
 */
import type { Packet, ProtocolVersion } from "../../../src/codec/index.js";

/** A valid packet: exactly these bytes on the wire, exactly this packet object. */
export interface Vector {
  name: string;
  version: ProtocolVersion;
  /** The spec sections (and normative ids) the bytes follow. */
  spec: string;
  bytes: Uint8Array;
  /** What the encoder takes, and what the decoder returns once its views are made plain (see plain.ts). */
  packet: Packet;
  /**
   * False for a legal form the encoder does not choose (it writes the shortest form instead): such a
   * vector is decoded but not encoded. Defaults to true.
   */
  canonical?: boolean;
}

/** Bytes the decoder must refuse with an MqttProtocolError carrying this reason code. */
export interface MalformedVector {
  name: string;
  version: ProtocolVersion;
  spec: string;
  bytes: Uint8Array;
  /** 0x81 Malformed Packet, 0x82 Protocol Error, 0x84 Unsupported Protocol Version, 0x95 Packet too large. */
  reasonCode: number;
  /** The decoder's maxPacketSize. Defaults to 1024. */
  maxPacketSize?: number;
}

/** An ASCII string as bytes, for payloads in packet objects. */
export function text(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) throw new RangeError(`text() takes ASCII only, got ${JSON.stringify(s)}`);
    out[i] = c;
  }
  return out;
}

/** n copies of one byte, for payloads too long to label byte by byte. */
export function repeat(byte: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(byte);
  return out;
}

/** The label used in test names: "3.1", "3.1.1" or "5". */
export function versionLabel(version: ProtocolVersion): string {
  return version === 3 ? "3.1" : version === 4 ? "3.1.1" : "5";
}

/**
 * The normative ids a vector's spec names, as test-name citations with the standard spelled out
 * (docs/conformance/README.md): 3.x vectors cite MQTT 3.1.1, MQTT 5 vectors cite MQTT 5.0.
 */
export function citations(v: { version: ProtocolVersion; spec: string }): string {
  const standard = v.version === 5 ? "5.0" : "3.1.1";
  return Array.from(v.spec.matchAll(/MQTT-\d+(?:\.\d+)*-\d+/g), (m) => ` [${standard} ${m[0]}]`).join("");
}
