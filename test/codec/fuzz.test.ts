/**
 * Fuzzing the decoder under the msgpack-javascript contract (shared/STYLE.md): whatever the bytes, only
 * MqttProtocolError escapes; after one, next() keeps throwing it until reset(), and then the decoder decodes a
 * known valid stream correctly; and the run leaves no memory behind.
 *
 * Inputs, a million by default: random bytes (often behind a plausible first byte), valid packets from
 * test/codec/gen/random.ts with one to four mutations (bit flips, byte replacements, truncations, insertions,
 * deletions, a rewritten Remaining Length, nudged 16-bit lengths, runs of varint continuation bytes,
 * repeated slices), concatenations of several packets with or without mutations, and splices of two
 * packets. Each goes to one Decoder({ maxPacketSize: 4096 }) reset to a random version, in a random split.
 *
 * Beyond the contract, every packet the decoder accepts must survive the round trip: its getters work, the
 * encoder takes it as it is, and decoding what the encoder wrote gives the same packet. And for a fifth of the
 * inputs, feeding them whole must give the same outcome as the split did.
 *
 * A second, smaller test holds the encoder to its half: a valid packet with one field broken the way a caller
 * might (a wildcard in a PUBLISH topic, an undefined reason code...) is either refused by measure() or decoded
 * back.
 *
 * Replay: FUZZ_SEED and FUZZ_INPUTS override the seed and the count; a failure names the input's index, and
 * input n is built from caseSeed(seed, n) alone. Run with `node --expose-gc`; without it the test exposes gc
 * itself through v8.setFlagsFromString.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { AUTH, CONNACK, DISCONNECT, Decoder, Encoder, MqttProtocolError, PACKET_NAMES, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, UNSUBACK, type DecodedPacket, type Packet, type ProtocolVersion } from "../../src/codec/index.js";
import { hex, toPlain } from "./gen/plain.js";
import { Rng, caseSeed, hex32, randomPacket, reasonCodesFor } from "./gen/random.js";
import { deepEqual } from "./portable/assert.js";

const SEED = Number(process.env.FUZZ_SEED ?? 0x66757a7a);
const INPUTS = Number(process.env.FUZZ_INPUTS ?? 1_000_000);
const MAX_PACKET_SIZE = 4096;
const CORPUS_PER_VERSION = 1500;
/** Inputs run before the baseline heap is taken, so compiled code and inline caches are already there. */
const WARMUP = 20_000;
const HEAP_GROWTH_LIMIT = 1 << 20;
const EXAMPLES_KEPT = 10;
const VERSIONS: readonly ProtocolVersion[] = [3, 4, 5];

function exposeGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === "function") return existing;
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

// ---------------------------------------------------------------------------------------------------------
// Inputs

function encodeAll(packets: Packet[], version: ProtocolVersion): Uint8Array[] {
  const encoder = new Encoder(version);
  return packets.map((p) => encoder.encode(p));
}

/** Valid encoded packets per version; a few are larger than MAX_PACKET_SIZE. */
function buildCorpus(): Uint8Array[][] {
  const corpus: Uint8Array[][] = [];
  for (const v of VERSIONS) {
    const r = new Rng(caseSeed(SEED, -v));
    const packets: Packet[] = [];
    for (let i = 0; i < CORPUS_PER_VERSION; i++) packets.push(randomPacket(r, v, { maxPayload: r.chance(0.03) ? 6000 : 300 }));
    corpus[v] = encodeAll(packets, v);
  }
  return corpus;
}

const INTERESTING = [0x00, 0x01, 0x02, 0x03, 0x7f, 0x80, 0x81, 0xc0, 0xed, 0xf4, 0xfe, 0xff, 0x0b, 0x23, 0x26, 0x2b];

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function varint(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

/** Mostly near the start, where the headers and lengths are. */
function position(r: Rng, length: number): number {
  return r.chance(0.6) ? r.below(Math.min(length, 40)) : r.below(length);
}

/** Replaces the Remaining Length with a nearby, huge, zero, non-minimal or overlong one. */
function corruptRemainingLength(r: Rng, b: Uint8Array): Uint8Array {
  let end = 1;
  while (end < b.length && end < 5 && b[end]! & 0x80) end++;
  let value = 0;
  for (let i = end; i >= 1; i--) value = value * 128 + ((b[i] ?? 0) & 0x7f);
  let field: number[];
  switch (r.below(5)) {
    case 0: field = varint(Math.max(0, value + r.between(-3, 3))); break;
    case 1: field = varint(r.below(268435456)); break;
    case 2: field = [0]; break;
    case 3: {
      field = varint(value);
      for (let extra = r.between(1, 3); extra > 0; extra--) {
        field[field.length - 1]! |= 0x80;
        field.push(0);
      }
      break;
    }
    default: field = [0xff, 0xff, 0xff, 0xff, r.below(128)];
  }
  return concat([b.subarray(0, 1), Uint8Array.from(field), b.subarray(end + 1)]);
}

function mutate(r: Rng, input: Uint8Array): Uint8Array {
  if (input.length === 0) return r.bytes(r.between(1, 8));
  const b = input.slice();
  const at = position(r, b.length);
  switch (r.below(10)) {
    case 0: b[at]! ^= 1 << r.below(8); return b;
    case 1: b[at] = r.pick(INTERESTING); return b;
    case 2: b[at] = r.below(256); return b;
    case 3: return b.subarray(0, r.below(b.length));
    case 4: {
      const insert = r.chance(0.5) ? r.bytes(r.between(1, 8)) : Uint8Array.of(r.pick(INTERESTING));
      return concat([b.subarray(0, at), insert, b.subarray(at)]);
    }
    case 5: return concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + r.between(1, 8)))]);
    case 6: return corruptRemainingLength(r, b);
    case 7: {
      // A 16-bit length (string, binary, packet id) pushed off by a little or a lot.
      if (at + 1 >= b.length) return b;
      const v = ((b[at]! << 8) | b[at + 1]!) + r.pick([-2, -1, 1, 2, 255, 256, -256, 0x8000]);
      b[at] = (v >> 8) & 0xff;
      b[at + 1] = v & 0xff;
      return b;
    }
    case 8: {
      // A run of continuation bytes where a varint (property length, identifier...) may be.
      const run = r.between(1, 5);
      for (let i = at; i < at + run && i < b.length; i++) b[i] = r.chance(0.8) ? 0x80 | r.below(128) : 0xff;
      return b;
    }
    default: {
      // A repeated slice: a property twice, a topic filter twice, a packet inside itself.
      const from = r.below(b.length);
      const slice = b.subarray(from, Math.min(b.length, from + r.between(1, 24)));
      return concat([b.subarray(0, at), slice, b.subarray(at)]);
    }
  }
}

function plausibleFirstByte(r: Rng): number {
  const type = r.between(1, 15);
  if (type === PUBLISH) return (type << 4) | r.below(16);
  return (type << 4) | (type === 6 || type === 8 || type === 10 ? 2 : 0);
}

const KINDS = ["random bytes", "mutated packet", "mutated stream", "spliced packets", "valid stream"] as const;

/** The input for index n and the kind of input it is (an index into KINDS). */
function makeInput(r: Rng, corpus: Uint8Array[][], version: ProtocolVersion): [Uint8Array, number] {
  const roll = r.below(100);
  const own = corpus[version]!;
  if (roll < 15) {
    const n = r.chance(0.6) ? r.between(1, 16) : r.chance(0.75) ? r.between(17, 128) : r.between(129, 5000);
    const b = r.bytes(n);
    if (r.chance(0.6)) b[0] = plausibleFirstByte(r);
    if (n > 1 && r.chance(0.5)) b[1] = Math.min(n - 2, 127);
    return [b, 0];
  }
  if (roll < 60) {
    let b = r.pick(own);
    for (let m = r.between(1, 4); m > 0; m--) b = mutate(r, b);
    return [b, 1];
  }
  if (roll < 85 || roll >= 95) {
    const parts: Uint8Array[] = [];
    for (let n = r.between(2, 5); n > 0; n--) parts.push(r.pick(r.chance(0.8) ? own : corpus[r.pick(VERSIONS)]!));
    let b = concat(parts);
    if (roll >= 95) return [b, 4];
    for (let m = r.between(1, 2); m > 0; m--) b = mutate(r, b);
    return [b, 2];
  }
  const head = r.pick(own);
  const tail = r.pick(own);
  return [concat([head.subarray(0, r.below(head.length + 1)), tail.subarray(r.below(tail.length))]), 3];
}

// ---------------------------------------------------------------------------------------------------------
// Running one input

/** A check on an accepted packet failed: not the decoder's own error, and not an escape either. */
class RoundTripFailure extends Error {
  override name = "RoundTripFailure";
}

class Tally {
  inputs = 0;
  accepted = 0;
  acceptedWithBytesHeld = 0;
  rejected = 0;
  packets = 0;
  splitChecks = 0;
  byKind = KINDS.map(() => [0, 0]);
  byType = new Array<number>(16).fill(0);
  byReason = new Map<number, number>();
  messages = new Map<string, number>();
  failures = { escaped: [] as string[], roundTrip: [] as string[], recovery: [] as string[], split: [] as string[] };
  failureCounts = { escaped: 0, roundTrip: 0, recovery: 0, split: 0 };

  fail(kind: keyof Tally["failures"], text: string): void {
    this.failureCounts[kind]++;
    if (this.failures[kind].length < EXAMPLES_KEPT) this.failures[kind].push(text);
  }

  /** Files what a run threw: a failed round-trip check, or an escape from the decoder. */
  failRun(where: string, e: unknown): void {
    if (e instanceof RoundTripFailure) this.fail("roundTrip", `${where}\n    ${e.message}`);
    else this.fail("escaped", `${where}\n    ${describeError(e)}\n    at ${e instanceof Error ? e.stack?.split("\n").slice(1, 4).join(" / ") : "?"}`);
  }
}

interface Outcome {
  packets: number;
  /** FNV-1a over the re-encoded packets, to compare two runs cheaply. */
  hash: number;
  error: MqttProtocolError | null;
  buffered: number;
}

class Runner {
  readonly decoder = new Decoder({ maxPacketSize: MAX_PACKET_SIZE });
  private readonly encoder = new Encoder();
  /** Decodes what the encoder re-wrote; larger, since a re-encoding is not checked against the limit. */
  private readonly checker = new Decoder({ maxPacketSize: 2 * MAX_PACKET_SIZE });
  private readonly out = new Uint8Array(2 * MAX_PACKET_SIZE);

  constructor(private readonly tally: Tally) {}

  /** Feeds input in the split r draws (or whole, without r); MqttProtocolError ends the run, anything else escapes. */
  run(input: Uint8Array, version: ProtocolVersion, r: Rng | null): Outcome {
    const d = this.decoder;
    d.reset(version);
    const outcome: Outcome = { packets: 0, hash: 0x811c9dc5, error: null, buffered: 0 };
    const whole = r === null || r.chance(0.3);
    const byteByByte = !whole && input.length <= 256 && r.chance(0.3);
    let pos = 0;
    try {
      while (pos < input.length) {
        const left = input.length - pos;
        const n = whole ? left : byteByByte ? 1 : Math.min(left, r.chance(0.4) ? r.between(1, 4) : r.between(1, 300));
        d.feed(input.subarray(pos, (pos += n)));
        for (let p = d.next(); p !== null; p = d.next()) {
          outcome.hash = this.roundTrip(p, d.version, outcome.hash);
          outcome.packets++;
        }
      }
    } catch (e) {
      if (!(e instanceof MqttProtocolError)) throw e;
      outcome.error = e;
    }
    outcome.buffered = d.buffered;
    return outcome;
  }

  /** Getters, encoder and a second decode must agree with what the decoder accepted. */
  private roundTrip(p: DecodedPacket, version: ProtocolVersion, hash: number): number {
    let stage = "reading the packet's fields";
    try {
      const plain = toPlain(p);
      stage = "re-encoding it";
      const e = this.encoder;
      e.version = version;
      const n = e.measure(p);
      e.write(this.out, 0);
      stage = "decoding the re-encoding";
      const c = this.checker;
      c.reset(version);
      c.feed(this.out.subarray(0, n));
      const again = c.next();
      if (again === null) throw new Error(`the ${n}-byte re-encoding did not decode as one packet`);
      stage = "comparing";
      deepEqual(toPlain(again), plain, "re-decoded packet");
      if (c.next() !== null) throw new Error("the re-encoding decoded as more than one packet");
      this.tally.byType[p.type]!++;
      for (let i = 0; i < n; i++) hash = Math.imul(hash ^ this.out[i]!, 0x01000193);
      return hash >>> 0;
    } catch (e) {
      throw new RoundTripFailure(`${PACKET_NAMES[p.type]} accepted by the decoder fails while ${stage}: ${describeError(e)}` +
        (stage === "comparing" || stage === "decoding the re-encoding" ? `\n    re-encoding: ${hex(this.out.subarray(0, this.encoder.length), 300)}` : ""));
    }
  }
}

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** A PUBLISH and its PUBACK per version, with v5 properties: what the decoder must still get right after a reset. */
function knownStreams(): Array<{ bytes: Uint8Array; packets: Packet[] }> {
  const streams: Array<{ bytes: Uint8Array; packets: Packet[] }> = [];
  for (const v of VERSIONS) {
    const packets: Packet[] = v === 5
      ? [
        { type: PUBLISH, topic: "a/€/𝄞", payload: Uint8Array.of(1, 2, 3), qos: 1, retain: false, dup: false, packetId: 7,
          properties: { topicAlias: 3, subscriptionIdentifier: [1, 268435455], userProperties: [["k", "v"], ["k", "w"]] } },
        { type: PUBACK, packetId: 7, reasonCode: 0x10, properties: { reasonString: "no subscribers" } },
      ]
      : [
        { type: PUBLISH, topic: "a/€/𝄞", payload: Uint8Array.of(1, 2, 3), qos: 1, retain: false, dup: false, packetId: 7 },
        { type: PUBACK, packetId: 7, reasonCode: 0 },
      ];
    streams[v] = { bytes: concat(encodeAll(packets, v)), packets };
  }
  return streams;
}

function checkRecovery(d: Decoder, error: MqttProtocolError, version: ProtocolVersion, r: Rng, known: { bytes: Uint8Array; packets: Packet[] }): string | null {
  try {
    d.next();
    return "next() after the error returned instead of throwing it again";
  } catch (e) {
    if (e !== error) return `next() after the error threw something else: ${describeError(e)}`;
  }
  d.reset(version);
  const got: Packet[] = [];
  let pos = 0;
  try {
    while (pos < known.bytes.length) {
      d.feed(known.bytes.subarray(pos, (pos += Math.min(known.bytes.length - pos, r.between(1, 40)))));
      for (let p = d.next(); p !== null; p = d.next()) got.push(toPlain(p));
    }
    deepEqual(got, known.packets, "packets decoded after reset()");
    if (d.buffered !== 0) return `${d.buffered} bytes held after the known stream`;
  } catch (e) {
    return `after reset() the known stream fails: ${describeError(e)}`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------

test(`decoder fuzz: ${INPUTS} inputs, only MqttProtocolError escapes, reset() recovers, heap stays flat`, (t) => {
  const gc = exposeGc();
  const started = performance.now();
  const corpus = buildCorpus();
  const known = knownStreams();
  const tally = new Tally();
  const runner = new Runner(tally);
  let heapBefore = 0;

  for (let i = 0; i < INPUTS; i++) {
    if (i === Math.min(WARMUP, INPUTS >> 1)) {
      gc();
      gc();
      heapBefore = process.memoryUsage().heapUsed;
    }
    const seed = caseSeed(SEED, i);
    const r = new Rng(seed);
    const version = r.pick(VERSIONS);
    const [input, kind] = makeInput(r, corpus, version);
    const where = () => `input #${i} (seed ${hex32(SEED)}, case seed ${hex32(seed)}), ${KINDS[kind]}, v${version}, ${input.length} bytes: ${hex(input, 2048)}`;
    tally.inputs++;
    let outcome: Outcome;
    try {
      outcome = runner.run(input, version, r);
    } catch (e) {
      tally.failRun(where(), e);
      continue;
    }
    tally.packets += outcome.packets;
    if (outcome.error === null) {
      tally.accepted++;
      tally.byKind[kind]![0]!++;
      if (outcome.buffered > 0) tally.acceptedWithBytesHeld++;
    } else {
      const error = outcome.error;
      tally.rejected++;
      tally.byKind[kind]![1]!++;
      tally.byReason.set(error.reasonCode, (tally.byReason.get(error.reasonCode) ?? 0) + 1);
      const template = error.message.replace(/0x[0-9a-f]+|(?<![-.\w])\d+(?![-.\w\]])|"[^"]*"/g, "<n>");
      tally.messages.set(template, (tally.messages.get(template) ?? 0) + 1);
      const problem = checkRecovery(runner.decoder, error, version, r, known[version]!);
      if (problem !== null) tally.fail("recovery", `${where()}\n    after ${describeError(error)}: ${problem}`);
    }
    if (i % 5 === 0) {
      // The split must not change the outcome: the same packets, the same error, the same bytes held.
      tally.splitChecks++;
      try {
        const whole = runner.run(input, version, null);
        // What buffered says after an error is not part of the contract: the decoder is dead until reset().
        const same = whole.packets === outcome.packets && whole.hash === outcome.hash &&
          whole.error?.reasonCode === outcome.error?.reasonCode && whole.error?.message === outcome.error?.message &&
          (outcome.error !== null || whole.buffered === outcome.buffered);
        if (!same) {
          const show = (o: Outcome) => `${o.packets} packets, ${o.buffered} bytes held, ${o.error ? describeError(o.error) : "no error"}`;
          tally.fail("split", `${where()}\n    split: ${show(outcome)}; whole: ${show(whole)}`);
        }
      } catch (e) {
        tally.failRun(`${where()} (fed whole)`, e);
      }
    }
  }

  gc();
  gc();
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  const seconds = (performance.now() - started) / 1000;

  const codes = [...tally.byReason].sort((a, b) => a[0] - b[0]).map(([code, n]) => `0x${code.toString(16)}: ${n}`).join(", ");
  const types = tally.byType.map((n, type) => (n > 0 ? `${PACKET_NAMES[type]} ${n}` : "")).filter(Boolean).join(", ");
  const kinds = KINDS.map((k, i) => `${k} ${tally.byKind[i]![0]}/${tally.byKind[i]![1]}`).join(", ");
  const topMessages = [...tally.messages].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([m, n]) => `${n} × ${m}`);
  t.diagnostic(`seed ${hex32(SEED)}: ${tally.inputs} inputs in ${seconds.toFixed(1)} s; accepted ${tally.accepted} ` +
    `(${tally.acceptedWithBytesHeld} ending inside a packet), rejected ${tally.rejected}; ${tally.packets} packets decoded and round-tripped`);
  t.diagnostic(`accepted/rejected by input kind: ${kinds}`);
  t.diagnostic(`rejections by reason code: ${codes}`);
  t.diagnostic(`packets decoded by type: ${types}`);
  t.diagnostic(`${tally.messages.size} distinct error messages; most frequent: ${topMessages.join(" | ")}`);
  t.diagnostic(`split-invariance checks: ${tally.splitChecks}; heap growth after ${INPUTS - Math.min(WARMUP, INPUTS >> 1)} inputs: ${(heapGrowth / 1024).toFixed(1)} KiB`);

  const report = (kind: keyof Tally["failures"], what: string) =>
    tally.failureCounts[kind] === 0 ? "" : `${tally.failureCounts[kind]} ${what}; first ones:\n  ${tally.failures[kind].join("\n  ")}\n`;
  const failures = report("escaped", "inputs made something other than MqttProtocolError escape") +
    report("recovery", "inputs left the decoder broken after its error") +
    report("roundTrip", "accepted packets failed the round trip") +
    report("split", "inputs decoded differently whole and split");
  assert.equal(failures, "", failures);
  assert.ok(heapGrowth < HEAP_GROWTH_LIMIT, `heap grew by ${heapGrowth} bytes over the run (limit ${HEAP_GROWTH_LIMIT})`);
});

// ---------------------------------------------------------------------------------------------------------
// The encoder's half of the contract: "Invalid input throws RangeError/TypeError from measure(), before
// anything is written" (encoder.ts). So whatever it does write, the decoder must take back.

const ENCODER_INPUTS = 100_000;

/** Breaks one field of a valid packet the way a caller might; names the break, or null when it has none. */
function breakField(r: Rng, p: Packet, version: ProtocolVersion): string | null {
  const allowed = reasonCodesFor(p.type, version);
  const badCode = () => {
    for (;;) {
      const code = r.between(1, 255);
      if (!allowed.includes(code)) return code;
    }
  };
  switch (p.type) {
    case PUBLISH: {
      const roll = r.below(3);
      if (roll === 0) {
        p.topic += r.pick(["/+", "/#", "+", "#"]);
        return "PUBLISH topic name with a wildcard";
      }
      if (roll === 1) {
        p.topic = "";
        if (p.properties !== undefined) delete p.properties.topicAlias;
        return "PUBLISH empty topic name without a Topic Alias";
      }
      p.qos = 0;
      p.packetId = 0;
      p.dup = true;
      return "PUBLISH with DUP at QoS 0";
    }
    case CONNACK:
      if (r.chance(0.5)) {
        p.reasonCode = badCode();
        return "CONNACK with an undefined return/reason code";
      }
      p.sessionPresent = true;
      p.reasonCode = r.pick(allowed.filter((code) => code !== 0));
      return "CONNACK refusing with Session Present";
    case SUBACK: case UNSUBACK:
      if (p.reasonCodes.length === 0) return null;
      p.reasonCodes[r.below(p.reasonCodes.length)] = badCode();
      return `${PACKET_NAMES[p.type]} with an undefined reason code`;
    case PUBACK: case PUBREC: case PUBREL: case PUBCOMP: case DISCONNECT: case AUTH:
      p.reasonCode = badCode();
      return `${PACKET_NAMES[p.type]} with an undefined reason code`;
    default:
      return null;
  }
}

test("encoder fuzz: whatever measure() accepts, the decoder accepts back", (t) => {
    const encoder = new Encoder();
    const decoder = new Decoder({ maxPacketSize: 1 << 16 });
    let refused = 0;
    let written = 0;
    const gaps = new Map<string, { count: number; example: string }>();
    for (let i = 0; i < ENCODER_INPUTS; i++) {
      const seed = caseSeed(SEED ^ 0x5eed, i);
      const r = new Rng(seed);
      const version = r.pick(VERSIONS);
      const p = randomPacket(r, version, { maxPayload: 32 });
      const label = breakField(r, p, version);
      if (label === null) continue;
      encoder.version = version;
      let bytes: Uint8Array;
      try {
        bytes = encoder.encode(p);
      } catch (e) {
        assert.ok(e instanceof RangeError || e instanceof TypeError, `measure() threw ${describeError(e)}`);
        refused++;
        continue;
      }
      written++;
      decoder.reset(version);
      decoder.feed(bytes);
      try {
        while (decoder.next() !== null);
      } catch (e) {
        assert.ok(e instanceof MqttProtocolError, `decoder threw ${describeError(e)}`);
        const key = `v${version} ${label}`;
        const gap = gaps.get(key);
        if (gap !== undefined) gap.count++;
        else gaps.set(key, { count: 1, example: `case seed ${hex32(seed)}: ${hex(bytes, 64)} -> 0x${e.reasonCode.toString(16)} ${e.message}` });
      }
    }
    const lines = [...gaps].sort().map(([key, g]) => `${key}: ${g.count} written, rejected on decode, e.g. ${g.example}`);
    t.diagnostic(`${refused} broken packets refused by measure(), ${written} written; ${lines.length} kinds written but rejected`);
    assert.equal(lines.length, 0, `the encoder wrote packets the decoder rejects:\n  ${lines.join("\n  ")}`);
  });
