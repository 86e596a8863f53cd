/**
 * The codec against its byte-exact vectors (test/codec/vectors), on Node and in XS alike.
 *
 * Valid vectors: the encoder writes exactly the vector's bytes, and the decoder returns exactly its packet
 * when fed the bytes whole, one byte at a time (nothing before the last byte), split in two at every
 * offset, and followed by another packet and a part of a third, which must stay buffered. Chunks are
 * overwritten once next() has returned null, as a caller reusing its socket buffer would.
 *
 * Malformed vectors: the decoder throws MqttProtocolError with the vector's reason code whether fed whole
 * or byte by byte, keeps throwing it until reset() however often it is fed, and decodes again after reset().
 */
import { Decoder, Encoder, MqttProtocolError, PUBACK, PUBLISH, type DecodedPacket, type Packet } from "../../../src/codec/index.js";
import { malformed } from "../vectors/malformed.js";
import { concat, toPlain } from "../vectors/plain.js";
import { v31 } from "../vectors/v31.js";
import { v311 } from "../vectors/v311.js";
import { v5 } from "../vectors/v5.js";
import { citations, versionLabel, type MalformedVector, type Vector } from "../vectors/vector.js";
import { bytesEqual, deepEqual, equal, fail, ok } from "./assert.js";
import type { PortableTest } from "./harness.js";

const valid: Vector[] = [...v31, ...v311, ...v5];

/** PUBACK for packet id 0x1234: valid in every version (on MQTT 5, its short form). Follows each vector. */
const NEXT = new Uint8Array([0x40, 0x02, 0x12, 0x34]);
const NEXT_PACKET: Packet = { type: PUBACK, packetId: 0x1234, reasonCode: 0 };

/** The smallest receive buffer the vector fits in (the decoder needs at least 5 bytes). */
function decoderFor(v: Vector): Decoder {
  return new Decoder({ maxPacketSize: Math.max(v.bytes.length, 5), version: v.version });
}

function expectPacket(got: DecodedPacket | null, want: Packet, what: string): void {
  if (got === null) fail(`${what}: no packet`);
  deepEqual(toPlain(got), toPlain(want), what);
}

function validTests(v: Vector): PortableTest[] {
  const label = `${versionLabel(v.version)} ${v.name}`;
  const tests: PortableTest[] = [];
  if (v.canonical === false) {
    tests.push({
      name: `${label}: encodes the shorter canonical form instead`,
      fn() {
        const out = new Encoder(v.version).encode(v.packet);
        ok(out.length < v.bytes.length, `encoded ${out.length} bytes, the vector has ${v.bytes.length}`);
        const d = decoderFor(v);
        d.feed(out);
        expectPacket(d.next(), v.packet, "decoding the canonical form");
      },
    });
  } else {
    tests.push({
      name: `${label}: encodes${citations(v)}`,
      fn() {
        const e = new Encoder(v.version);
        bytesEqual(e.encode(v.packet), v.bytes, `encode (${v.spec})`);
        // Into a larger buffer at an offset, as into a ring: exact length, neighbours untouched.
        const n = e.measure(v.packet);
        equal(n, v.bytes.length, "measure()");
        const out = new Uint8Array(n + 6).fill(0xa5);
        equal(e.write(out, 3), 3 + n, "write() returns the offset after the packet");
        bytesEqual(out.subarray(3, 3 + n), v.bytes, "write() at offset 3");
        bytesEqual(concat(out.subarray(0, 3), out.subarray(3 + n)), new Uint8Array(6).fill(0xa5), "bytes around the packet");
        if (v.packet.type === PUBLISH) {
          equal(e.length - e.headerLength, v.packet.payload.length, "length - headerLength is the payload length");
          const header = new Uint8Array(e.headerLength);
          equal(e.writeHeader(header, 0), e.headerLength, "writeHeader() returns headerLength");
          bytesEqual(header, v.bytes.subarray(0, e.headerLength), "writeHeader()");
        }
      },
    });
  }
  tests.push(
    {
      name: `${label}: decodes whole`,
      fn() {
        const d = decoderFor(v);
        d.feed(v.bytes);
        expectPacket(d.next(), v.packet, `decode (${v.spec})`);
        equal(d.next(), null, "after the packet");
        equal(d.buffered, 0, "bytes buffered");
      },
    },
    {
      name: `${label}: decodes one byte at a time`,
      fn() {
        const d = decoderFor(v);
        const one = new Uint8Array(1);
        const last = v.bytes.length - 1;
        for (let i = 0; i < last; i++) {
          one[0] = v.bytes[i]!;
          d.feed(one);
          equal(d.next(), null, `emitted before the last byte, at byte ${i}`);
        }
        one[0] = v.bytes[last]!;
        d.feed(one);
        expectPacket(d.next(), v.packet, "at the last byte");
        equal(d.next(), null, "after the packet");
      },
    },
    {
      name: `${label}: decodes split in two at every offset`,
      fn() {
        for (let k = 1; k < v.bytes.length; k++) {
          const d = decoderFor(v);
          const first = v.bytes.slice(0, k);
          d.feed(first);
          equal(d.next(), null, `first ${k} bytes`);
          first.fill(0xee);
          d.feed(v.bytes.subarray(k));
          expectPacket(d.next(), v.packet, `split after ${k} bytes`);
          equal(d.next(), null, `after the packet, split after ${k} bytes`);
        }
      },
    },
    {
      name: `${label}: leaves the following bytes for the next packet`,
      fn() {
        const d = decoderFor(v);
        d.feed(concat(v.bytes, NEXT, NEXT.subarray(0, 2)));
        expectPacket(d.next(), v.packet, "the vector");
        expectPacket(d.next(), NEXT_PACKET, "the packet after it");
        equal(d.next(), null, "with only part of a third packet");
        equal(d.buffered, 2, "the third packet's first bytes are kept");
        d.feed(NEXT.subarray(2));
        expectPacket(d.next(), NEXT_PACKET, "the third packet, completed");
        equal(d.next(), null, "at the end");
      },
    },
  );
  return tests;
}

/** Runs fn, which must throw the codec's error with this reason code. */
function expectError(fn: () => unknown, reasonCode: number, what: string): MqttProtocolError {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof MqttProtocolError)) fail(`${what}: threw ${String(e)}, not an MqttProtocolError`);
    equal(`0x${e.reasonCode.toString(16)}`, `0x${reasonCode.toString(16)}`, `${what}: reason code (${e.message})`);
    return e;
  }
  return fail(`${what}: no error`);
}

function malformedTests(v: MalformedVector): PortableTest[] {
  const label = `${versionLabel(v.version)} refuses ${v.name}`;
  const options = { maxPacketSize: v.maxPacketSize ?? 1024, version: v.version };
  const why = v.spec;
  return [
    {
      name: `${label}: whole${citations(v)}`,
      fn() {
        const d = new Decoder(options);
        d.feed(v.bytes);
        expectError(() => d.next(), v.reasonCode, why);
      },
    },
    {
      name: `${label}: one byte at a time`,
      fn() {
        const d = new Decoder(options);
        expectError(() => {
          for (let i = 0; i < v.bytes.length; i++) {
            d.feed(v.bytes.subarray(i, i + 1));
            const got = d.next();
            if (got !== null) fail(`emitted a packet (type ${got.type}) at byte ${i}`);
          }
        }, v.reasonCode, `${why}, fed byte by byte`);
      },
    },
    {
      name: `${label}: stays failed until reset`,
      fn() {
        const d = new Decoder(options);
        d.feed(v.bytes);
        const first = expectError(() => d.next(), v.reasonCode, why);
        equal(expectError(() => d.next(), v.reasonCode, "called again"), first, "the same error again");
        for (let i = 1; i <= 3; i++) {
          d.feed(NEXT);
          equal(expectError(() => d.next(), v.reasonCode, `fed a valid packet (${i})`), first, `the same error after more bytes (${i})`);
        }
        d.reset();
        equal(d.buffered, 0, "bytes buffered after reset");
        d.feed(NEXT);
        expectPacket(d.next(), NEXT_PACKET, "after reset");
        equal(d.next(), null, "after reset, at the end");
      },
    },
  ];
}

/** Every packet type in every version, so no type goes untested. */
function coverageTests(): PortableTest[] {
  const expected = { 3: 14, 4: 14, 5: 15 } as const;
  return ([3, 4, 5] as const).map((version) => ({
    name: `${versionLabel(version)} vectors cover every packet type`,
    fn() {
      const types = new Set(valid.filter((v) => v.version === version).map((v) => v.packet.type));
      for (let t = 1; t <= expected[version]; t++) ok(types.has(t as Packet["type"]), `no vector of packet type ${t}`);
    },
  }));
}

export const tests: PortableTest[] = [
  ...coverageTests(),
  ...valid.flatMap(validTests),
  ...malformed.flatMap(malformedTests),
];
