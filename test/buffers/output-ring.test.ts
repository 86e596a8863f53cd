/**
 * src/buffers/output-ring.ts: the byte ring with spans spliced in by reference. Hand-built edges, and a
 * seeded random walk against a plain reference model (one FIFO array of every byte in order), read in
 * random pieces: what comes out is exactly what went in, in order, never more than the ring's capacity
 * at once, and a span is read from its own array.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RING_FULL } from "../../src/buffers/byte-ring.js";
import { MAX_SPLICES, OutputRing } from "../../src/buffers/output-ring.js";

function prng(seed: number): (below: number) => number {
  let s = seed >>> 0;
  return (below) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below);
  };
}

function write(ring: OutputRing, data: number[]): boolean {
  const offset = ring.reserve(data.length);
  if (offset === RING_FULL) return false;
  ring.bytes.set(data, offset);
  ring.commit(data.length);
  return true;
}

function read(ring: OutputRing, max: number): number[] {
  const n = Math.min(max, ring.readable());
  const out = Array.from(ring.buffer.subarray(ring.readOffset, ring.readOffset + n));
  ring.consume(n);
  return out;
}

test("a span goes out between the ring bytes written before and after it, in pieces of at most the capacity, from its own array", () => {
  const ring = new OutputRing(8);
  write(ring, [1, 2, 3]);
  const span = Uint8Array.from({ length: 20 }, (_v, i) => 100 + i);
  assert.equal(ring.splice(span, 2, 20), true);
  write(ring, [4, 5]);
  assert.equal(ring.length, 3 + 18 + 2);
  assert.deepEqual(read(ring, 99), [1, 2, 3], "the ring up to the span");
  assert.equal(ring.streaming, true);
  assert.equal(ring.buffer, span, "the span's own array");
  assert.equal(ring.readable(), 8, "a piece no larger than the ring");
  const got: number[] = [];
  while (ring.streaming) got.push(...read(ring, 5));
  assert.deepEqual(got, Array.from(span.subarray(2)));
  assert.deepEqual(read(ring, 99), [4, 5]);
  assert.equal(ring.length, 0);
  assert.throws(() => ring.consume(1), RangeError);
});

test(`splice() takes ${MAX_SPLICES} spans, then says false until one is consumed; clear() drops them all`, () => {
  const ring = new OutputRing(16);
  const span = new Uint8Array(10);
  for (let i = 0; i < MAX_SPLICES; i++) assert.equal(ring.splice(span, 0, 10), true);
  assert.equal(ring.canSplice, false);
  assert.equal(ring.splice(span, 0, 10), false);
  read(ring, 10);
  assert.equal(ring.splice(span, 0, 10), true);
  ring.clear();
  assert.equal(ring.length, 0);
  assert.equal(ring.readable(), 0);
  assert.equal(ring.buffer, ring.bytes);
});

test("consume() cannot run past a span's start or a piece's end", () => {
  const ring = new OutputRing(16);
  write(ring, [1, 2]);
  ring.splice(new Uint8Array(40), 0, 40);
  write(ring, [3]);
  assert.throws(() => ring.consume(3), RangeError);
  ring.consume(2);
  assert.throws(() => ring.consume(17), RangeError);
});

test("random walk: writes, spans and reads in random sizes give back every byte in order (seeded)", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const rand = prng(seed);
    const capacity = 8 + rand(64);
    const ring = new OutputRing(capacity);
    const model: number[] = [];
    const out: number[] = [];
    let next = 0;
    for (let step = 0; step < 5000; step++) {
      const op = rand(3);
      if (op === 0) {
        const data = Array.from({ length: rand(capacity + 1) }, () => next++ & 0xff);
        if (write(ring, data)) model.push(...data);
        else next -= data.length;
      } else if (op === 1) {
        const n = rand(4 * capacity);
        const span = Uint8Array.from({ length: n + 3 }, (_v, i) => (next + i - 1) & 0xff);
        if (ring.splice(span, 1, n + 1)) {
          model.push(...span.subarray(1, n + 1));
          next += n;
        }
      } else {
        const n = ring.readable();
        assert.ok(n <= capacity, `a piece of ${n} bytes from a ring of ${capacity}`);
        out.push(...read(ring, 1 + rand(capacity)));
      }
      assert.equal(ring.length, model.length - out.length, `seed ${seed} step ${step}: length`);
    }
    while (ring.length > 0) out.push(...read(ring, capacity));
    assert.deepEqual(out, model, `seed ${seed}`);
  }
});
