/**
 * Seeded random round trips through the whole codec, on Node and in XS. Each case is a stream of valid
 * packets (test/codec/gen/random.ts) of one version, written back to back into one buffer by measure()/write()
 * (or writeHeader() plus the payload), sometimes followed by the first bytes of one more packet, then fed
 * to the decoder in a random split: one byte at a time, all at once, or chunks of mixed sizes that cut
 * packets anywhere and hold several whole ones. Checked for every chunk: a packet comes out exactly when its
 * last byte has gone in, the decoder holds exactly the bytes of the unfinished packet, and a drained chunk
 * may be overwritten (it is, with 0xee). Checked for every packet: re-encoding the decoded packet (the view
 * itself, before the next call) gives the original bytes, and toPlain of it deep-equals the input.
 * A failure names the suite seed and the case seed; runStream() rebuilds that case from its seed alone.
 */
import { CONNECT, Decoder, Encoder, PACKET_NAMES, PINGREQ, PINGRESP, PUBLISH, type Packet, type PacketType, type Properties, type ProtocolVersion, type PublishPacket } from "../../../src/codec/index.js";
import { describe, toPlain } from "../gen/plain.js";
import { PROPERTY_NAMES, Rng, WILL, allowedProperties, caseSeed, hex32, packetTypes, randomPacket, randomPacketOfType, randomPropertyValue } from "../gen/random.js";
import { bytesEqual, deepEqual, equal, ok, throws } from "./assert.js";
import type { PortableTest } from "./harness.js";

const SEED = 0x6d717474;
/** Per version; three versions make the suite's 10,000+. */
const PACKETS_PER_VERSION = 3400;
/** Room for the largest generated packet (a SUBSCRIBE with 20 long multibyte filters stays far below). */
const MAX_PACKET_SIZE = 1 << 17;
const SCRIBBLE = 0xee;

interface Tally {
  packets: number;
  byType: number[];
  streams: number;
  /** Chunks out of which two or more whole packets came. */
  multiPacketChunks: number;
  /** Packets that arrived across two or more chunks. */
  splitPackets: number;
  /** Streams that ended inside a packet. */
  unfinished: number;
}

interface Stream {
  packets: Packet[];
  bytes: Uint8Array;
  /** Where each packet ends in bytes; bytes may go on with the start of one more packet. */
  ends: number[];
}

/** Writes the packets back to back, by measure() then write(), or writeHeader() and the payload after it. */
function writeStream(r: Rng, encoder: Encoder, packets: Packet[], tail: Packet | undefined): Stream {
  const lengths = packets.map((p) => encoder.measure(p));
  const tailLength = tail === undefined ? 0 : encoder.measure(tail);
  const tailKept = tailLength > 1 ? r.between(1, tailLength - 1) : 0;
  let total = tailKept;
  for (const n of lengths) total += n;
  const bytes = new Uint8Array(total);
  const ends: number[] = [];
  let at = 0;
  packets.forEach((p, i) => {
    const length = encoder.measure(p);
    equal(length, lengths[i], "measure() is repeatable");
    let end: number;
    if (p.type === PUBLISH && r.chance(0.3)) {
      const headerEnd = encoder.writeHeader(bytes, at);
      equal(headerEnd - at, encoder.headerLength, "writeHeader() writes headerLength bytes");
      bytes.set((p as PublishPacket).payload, headerEnd);
      end = headerEnd + (p as PublishPacket).payload.length;
    } else {
      end = encoder.write(bytes, at);
    }
    equal(end - at, length, "write() writes the measured length");
    ends.push((at = end));
  });
  if (tail !== undefined && tailKept > 0) {
    encoder.measure(tail);
    const whole = new Uint8Array(tailLength);
    encoder.write(whole, 0);
    bytes.set(whole.subarray(0, tailKept), at);
  }
  return { packets, bytes, ends };
}

type SplitMode = 0 | 1 | 2;
const BYTE_BY_BYTE: SplitMode = 0, WHOLE: SplitMode = 1, MIXED: SplitMode = 2;

function chunkSize(r: Rng, mode: SplitMode, left: number): number {
  if (mode === BYTE_BY_BYTE) return 1;
  if (mode === WHOLE) return left;
  const roll = r.below(100);
  const n = roll < 30 ? 1 : roll < 55 ? r.between(2, 8) : roll < 80 ? r.between(9, 200) : r.between(1, left);
  return Math.min(n, left);
}

function runStream(seed: number, version: ProtocolVersion, decoder: Decoder, encoder: Encoder, tally: Tally): void {
  const r = new Rng(seed);
  const count = r.chance(0.2) ? 1 : r.between(2, 8);
  const packets: Packet[] = [];
  // A CONNECT first, to a decoder expecting some other version, must switch it to its own.
  const connectFirst = r.chance(0.15);
  for (let i = 0; i < count; i++) packets.push(i === 0 && connectFirst ? randomPacketOfType(r, CONNECT, version) : randomPacket(r, version));
  const tail = r.chance(0.3) ? randomPacket(r, version) : undefined;
  encoder.version = version;
  const { bytes, ends } = writeStream(r, encoder, packets, tail);

  decoder.reset(connectFirst ? r.pick([3, 4, 5] as const) : version);
  const mode: SplitMode = bytes.length <= 600 && r.chance(0.15) ? BYTE_BY_BYTE : r.chance(0.1) ? WHOLE : MIXED;
  let fed = 0;
  let emitted = 0;
  let chunks = 0;
  try {
    while (fed < bytes.length) {
      const chunkStart = fed;
      const chunk = bytes.slice(fed, (fed += chunkSize(r, mode, bytes.length - fed)));
      chunks++;
      decoder.feed(chunk);
      let fromThisChunk = 0;
      for (let d = decoder.next(); d !== null; d = decoder.next()) {
        ok(emitted < count, `decoder produced a packet past the last one (#${emitted})`);
        const start = emitted > 0 ? ends[emitted - 1]! : 0;
        const end = ends[emitted]!;
        ok(end <= fed, `packet #${emitted} came out before its last byte (ends at ${end}, fed ${fed})`);
        ok(end > chunkStart, `packet #${emitted} came out a chunk late (ends at ${end}, chunk starts at ${chunkStart})`);
        equal(decoder.version, version, "decoder version");
        if (start < chunkStart) tally.splitPackets++;
        // Re-encode the view as it is: its getters must give the encoder everything.
        bytesEqual(encoder.encode(d), bytes.subarray(start, end), `re-encoding packet #${emitted}`);
        deepEqual(toPlain(d), packets[emitted], `decoded packet #${emitted}`);
        tally.byType[d.type]!++;
        emitted++;
        fromThisChunk++;
      }
      let complete = 0;
      while (complete < count && ends[complete]! <= fed) complete++;
      equal(emitted, complete, `packets out after ${fed} of ${bytes.length} bytes`);
      equal(decoder.buffered, fed - (emitted > 0 ? ends[emitted - 1]! : 0), `bytes held after ${fed} of ${bytes.length}`);
      if (fromThisChunk >= 2) tally.multiPacketChunks++;
      chunk.fill(SCRIBBLE);
    }
    equal(emitted, count, "packets decoded from the stream");
  } catch (e) {
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    throw new Error(
      `seed ${hex32(SEED)}, case seed ${hex32(seed)}, MQTT v${version}, ${["byte-by-byte", "whole", "mixed"][mode]} split, ` +
        `chunk ${chunks}, packet #${emitted} of ${count}: ${message}\n  packet: ${emitted < count ? describe(packets[emitted]) : "(the unfinished tail)"}`,
    );
  }
  tally.packets += count;
  tally.streams++;
  if (bytes.length > (ends[count - 1] ?? 0)) tally.unfinished++;
}

function roundTrip(version: ProtocolVersion): void {
  const decoder = new Decoder({ maxPacketSize: MAX_PACKET_SIZE });
  const encoder = new Encoder(version);
  const tally: Tally = { packets: 0, byType: new Array<number>(16).fill(0), streams: 0, multiPacketChunks: 0, splitPackets: 0, unfinished: 0 };
  for (let n = 0; tally.packets < PACKETS_PER_VERSION; n++) runStream(caseSeed(SEED ^ version, n), version, decoder, encoder, tally);
  // The random mix must actually reach every type and every kind of split.
  for (const type of packetTypes(version)) ok(tally.byType[type]! >= 40, `only ${tally.byType[type]} packets of type ${type} (seed ${hex32(SEED)})`);
  ok(tally.multiPacketChunks >= 100, `only ${tally.multiPacketChunks} chunks held several packets`);
  ok(tally.splitPackets >= 500, `only ${tally.splitPackets} packets arrived in pieces`);
  ok(tally.unfinished >= 100, `only ${tally.unfinished} streams ended inside a packet`);
}

/**
 * The round trips prove the codec takes every property where the spec allows it; this proves the encoder
 * refuses each one everywhere else (section 2.2.2.2), checking the codec's table against the generator's.
 */
function refusesMisplacedProperties(): void {
  const r = new Rng(caseSeed(SEED, -1));
  const encoder = new Encoder(5);
  let refused = 0;
  for (const kind of [...packetTypes(5), WILL]) {
    if (kind === PINGREQ || kind === PINGRESP) continue;
    const allowed = allowedProperties(kind);
    for (const name of PROPERTY_NAMES) {
      if (allowed.includes(name)) continue;
      const p = randomPacketOfType(r, kind === WILL ? CONNECT : (kind as PacketType), 5);
      const misplaced: Properties = { [name]: randomPropertyValue(r, name) };
      if (p.type === CONNECT && kind === WILL) p.will = { topic: "t", payload: new Uint8Array(0), qos: 0, retain: false, properties: misplaced };
      else if (p.type !== PINGREQ && p.type !== PINGRESP) p.properties = { ...p.properties, ...misplaced };
      throws(() => encoder.measure(p), (e) => e instanceof RangeError, `${name} in ${kind === WILL ? "will properties" : PACKET_NAMES[kind]}`);
      refused++;
    }
  }
  ok(refused > 250, `only ${refused} misplaced properties tried`);
}

export const tests: PortableTest[] = [
  { name: "random MQTT 3.1 packets round-trip through random splits", fn: () => roundTrip(3) },
  { name: "random MQTT 3.1.1 packets round-trip through random splits", fn: () => roundTrip(4) },
  { name: "random MQTT 5 packets round-trip through random splits", fn: () => roundTrip(5) },
  { name: "the encoder refuses each property in every packet the spec keeps it out of", fn: refusesMisplacedProperties },
];
