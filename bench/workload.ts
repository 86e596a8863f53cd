// The benchmark workload, shared by the Node bench (bench/codec.ts) and the XS bundle (bench/xs-decode.ts):
// host-neutral, no Node or Moddable imports. Streams of PUBLISH packets are built with tinymqtt's own
// Encoder (bench/codec.ts checks them byte for byte against mqtt-packet's generate()).
import { type Decoder, Encoder, PUBLISH, type ProtocolVersion, type PublishPacket, type Properties, type QoS } from "../src/codec/index.js";

export const TOPIC = "sensors/device-0042/temperature";
export const PAYLOAD_SIZE = 64;
export const CHUNK_SIZE = 1460;

export interface Variant {
  name: string;
  label: string;
  version: ProtocolVersion;
  qos: QoS;
  properties: Properties | undefined;
}

/** MQTT 5 variant: QoS 1 plus two properties (a u32 and a string), 25 bytes of property block. */
export const V5_PROPERTIES: Properties = { messageExpiryInterval: 3600, contentType: "application/json" };

export const VARIANTS: readonly Variant[] = [
  { name: "v311-qos0", label: "3.1.1 QoS 0", version: 4, qos: 0, properties: undefined },
  { name: "v311-qos1", label: "3.1.1 QoS 1", version: 4, qos: 1, properties: undefined },
  { name: "v5-qos1-props", label: "5 QoS 1 +2 props", version: 5, qos: 1, properties: V5_PROPERTIES },
];

export function makePayload(): Uint8Array {
  const p = new Uint8Array(PAYLOAD_SIZE);
  for (let i = 0; i < p.length; i++) p[i] = 0x20 + ((i * 7) % 90);
  return p;
}

/** The packet object the encoders are given; packetId is changed per packet by the caller (QoS > 0). */
export function makePacket(v: Variant, payload: Uint8Array): PublishPacket {
  return { type: PUBLISH, topic: TOPIC, payload, qos: v.qos, retain: false, dup: false, packetId: v.qos > 0 ? 1 : 0, properties: v.properties };
}

export function packetIdFor(i: number): number {
  return (i % 65535) + 1;
}

/** Encodes `count` packets of the variant back to back; packet ids cycle 1..65535 at QoS > 0. */
export function buildStream(v: Variant, count: number): { bytes: Uint8Array; packetSize: number } {
  const enc = new Encoder(v.version);
  const p = makePacket(v, makePayload());
  const packetSize = enc.measure(p);
  const bytes = new Uint8Array(packetSize * count);
  let o = 0;
  for (let i = 0; i < count; i++) {
    if (v.qos > 0) p.packetId = packetIdFor(i);
    enc.measure(p);
    o = enc.write(bytes, o);
  }
  if (o !== bytes.length) throw new Error(`stream is ${o} bytes, expected ${bytes.length}`);
  return { bytes, packetSize };
}

/** Cuts the stream into CHUNK_SIZE views (the last one shorter), as TCP segments would arrive. */
export function chunk(bytes: Uint8Array, size = CHUNK_SIZE): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < bytes.length; o += size) out.push(bytes.subarray(o, Math.min(o + size, bytes.length)));
  return out;
}

/**
 * The floor: reads each fixed header (type byte + Remaining Length) and skips the body, nothing else.
 * State survives chunk boundaries, so a header or body cut by the end of a chunk is resumed.
 */
export class FloorWalker {
  /** Body bytes still to skip at the start of the next chunk. */
  private skip = 0;
  /** 1 while a header cut by a chunk end waits for the rest of its Remaining Length. */
  private inLength = 0;
  private remaining = 0;
  private multiplier = 1;
  /** XOR of the first bytes seen: keeps the header reads observable. */
  touch = 0;

  /** Walks one chunk; returns the number of packets whose header completed in it. */
  walk(b: Uint8Array): number {
    const n = b.length;
    let count = 0;
    let i = 0;
    if (this.inLength !== 0) {
      // Finish the Remaining Length cut by the previous chunk.
      while (i < n) {
        const byte = b[i++]!;
        this.remaining += (byte & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        if ((byte & 0x80) === 0) {
          this.inLength = 0;
          this.skip = this.remaining;
          count++;
          break;
        }
      }
      if (this.inLength !== 0) return count;
    }
    i += this.skip;
    let touch = this.touch;
    for (;;) {
      // Whole headers with a one-byte Remaining Length: the common case.
      while (i + 1 < n) {
        const length = b[i + 1]!;
        if (length >= 0x80) break;
        touch ^= b[i]!;
        i += 2 + length;
        count++;
      }
      if (i >= n) break;
      // A longer Remaining Length, or a header cut by the end of the chunk.
      touch ^= b[i]!;
      let remaining = 0;
      let multiplier = 1;
      let j = i + 1;
      let complete = false;
      while (j < n) {
        const byte = b[j++]!;
        remaining += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete) {
        this.inLength = 1;
        this.remaining = remaining;
        this.multiplier = multiplier;
        i = n;
        break;
      }
      count++;
      i = j + remaining;
    }
    this.skip = i - n;
    this.touch = touch;
    return count;
  }
}

/** Folds what the decode loops touch, so the work cannot be optimised away. */
export const sink = { value: 0 };

/** tinymqtt's decode loop for one chunk: feed, next() until null, touch numbers only (no topic string). */
export function tinyDecodeChunk(dec: Decoder, chunk: Uint8Array): number {
  dec.feed(chunk);
  let n = 0;
  let acc = 0;
  for (let p = dec.next(); p !== null; p = dec.next()) {
    if (p.type === PUBLISH) {
      acc += p.packetId + p.payloadLength + p.qos;
      n++;
    }
  }
  sink.value = (sink.value + acc) | 0;
  return n;
}
