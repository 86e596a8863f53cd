/**
 * src/buffers: the byte ring and the packet id table, each checked by hand-built cases for the edges and by a
 * seeded random walk against a plain reference model (a FIFO array, a Set), so a failure replays exactly.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ByteRing, NO_PACKET_ID, PacketIdTable, RING_FULL } from "../../src/buffers/index.js";
import { prng } from "../support/prng.js";

/** mulberry32: a tiny seeded PRNG, so random walks are repeatable. */

function write(ring: ByteRing, data: number[]): number {
  const offset = ring.reserve(data.length);
  if (offset !== RING_FULL) {
    ring.bytes.set(data, offset);
    ring.commit(data.length);
  }
  return offset;
}

function read(ring: ByteRing, n: number): number[] {
  const out = Array.from(ring.bytes.subarray(ring.readOffset, ring.readOffset + n));
  ring.consume(n);
  return out;
}

function snapshot(ring: ByteRing): [number, number, number] {
  return [ring.readOffset, ring.readable(), ring.length];
}

// ---- ByteRing ----

test("a ring rejects a capacity that is not a positive integer", () => {
  for (const bad of [0, -1, 1.5, NaN, Infinity]) assert.throws(() => new ByteRing(bad), RangeError);
  assert.equal(new ByteRing(1).capacity, 1);
});

test("reserved bytes become readable at the read offset once committed", () => {
  const ring = new ByteRing(16);
  assert.equal(ring.length, 0);
  assert.equal(ring.readable(), 0);
  assert.equal(write(ring, [1, 2, 3]), 0);
  assert.equal(write(ring, [4, 5]), 3);
  assert.equal(ring.length, 5);
  assert.equal(ring.readOffset, 0);
  assert.equal(ring.readable(), 5);
  assert.deepEqual(read(ring, 2), [1, 2]);
  assert.equal(ring.readOffset, 2);
  assert.equal(ring.readable(), 3);
  assert.deepEqual(read(ring, 3), [3, 4, 5]);
  assert.equal(ring.length, 0);
});

test("committing less than was reserved queues only the committed bytes", () => {
  const ring = new ByteRing(8);
  const offset = ring.reserve(6);
  ring.bytes.set([9, 8, 7, 6, 5, 4], offset);
  ring.commit(2);
  assert.equal(ring.length, 2);
  assert.equal(write(ring, [1]), 2);
  assert.deepEqual(read(ring, 3), [9, 8, 1]);
});

test("commit without a reservation or beyond it is a RangeError", () => {
  const ring = new ByteRing(8);
  assert.throws(() => ring.commit(0), RangeError);
  ring.reserve(3);
  assert.throws(() => ring.commit(4), RangeError);
  ring.commit(3);
  assert.throws(() => ring.commit(0), RangeError, "a reservation is committed once");
  assert.throws(() => ring.reserve(-1), RangeError);
  assert.throws(() => ring.reserve(1.5), RangeError);
  assert.throws(() => ring.consume(4), RangeError);
});

test("a write that does not fit behind region A wraps to offset 0 as region B", () => {
  const ring = new ByteRing(10);
  write(ring, [0, 1, 2, 3, 4, 5, 6, 7]);
  read(ring, 5);
  // 2 bytes free behind A, 5 before it: a 4-byte packet goes to the front rather than being split.
  assert.equal(write(ring, [10, 11, 12, 13]), 0);
  assert.equal(ring.length, 7);
  assert.equal(ring.readOffset, 5);
  assert.equal(ring.readable(), 3, "reads drain A before B");
  // While B exists, writes extend B even though 2 bytes are free behind A.
  assert.equal(write(ring, [14]), 4);
  assert.equal(write(ring, [15]), RING_FULL, "B may not run into A");
  assert.deepEqual(read(ring, 3), [5, 6, 7]);
  assert.equal(ring.readOffset, 0, "B became A");
  assert.equal(ring.readable(), 5);
  assert.equal(write(ring, [15, 16, 17, 18, 19]), 5);
  assert.deepEqual(read(ring, 10), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  assert.equal(ring.readOffset, 0);
});

test("a ring can be filled exactly, in one region or two", () => {
  const ring = new ByteRing(8);
  assert.equal(write(ring, [1, 2, 3, 4, 5, 6, 7, 8]), 0);
  assert.equal(ring.length, 8);
  assert.equal(ring.reserve(1), RING_FULL);
  assert.equal(ring.reserve(0), 8, "an empty reservation always fits");
  ring.commit(0);
  read(ring, 4);
  assert.equal(write(ring, [9, 10, 11, 12]), 0);
  assert.equal(ring.length, 8);
  assert.equal(ring.reserve(1), RING_FULL);
  assert.deepEqual(read(ring, 4), [5, 6, 7, 8]);
  assert.deepEqual(read(ring, 4), [9, 10, 11, 12]);
  assert.equal(write(ring, [1, 2, 3, 4, 5, 6, 7, 8]), 0, "a drained ring offers its whole capacity again");
});

test("a reserve that cannot fit returns RING_FULL and changes nothing", () => {
  const ring = new ByteRing(10);
  assert.equal(ring.reserve(11), RING_FULL);
  write(ring, [0, 1, 2, 3, 4, 5]);
  read(ring, 3);
  const before = snapshot(ring);
  assert.equal(ring.reserve(5), RING_FULL, "4 free behind A, 3 before it: 7 free but not 5 contiguous");
  assert.deepEqual(snapshot(ring), before);
  assert.throws(() => ring.commit(0), RangeError, "a failed reserve leaves nothing to commit");
  assert.equal(write(ring, [6, 7, 8, 9]), 6);
  assert.deepEqual(read(ring, 7), [3, 4, 5, 6, 7, 8, 9]);
});

test("a reservation survives consume draining the ring before it is committed", () => {
  const ring = new ByteRing(8);
  write(ring, [1, 2, 3, 4, 5, 6]);
  const behindA = ring.reserve(2);
  assert.equal(behindA, 6);
  read(ring, 6);
  ring.bytes.set([7, 8], behindA);
  ring.commit(2);
  assert.deepEqual(read(ring, 2), [7, 8]);

  write(ring, [1, 2, 3, 4, 5, 6]);
  read(ring, 4);
  const regionB = ring.reserve(4);
  assert.equal(regionB, 0);
  read(ring, 2);
  ring.bytes.set([9, 10, 11, 12], regionB);
  ring.commit(4);
  assert.equal(ring.readOffset, 0);
  assert.deepEqual(read(ring, 4), [9, 10, 11, 12]);
});

test("clear empties the ring and cancels a pending reservation", () => {
  const ring = new ByteRing(8);
  write(ring, [1, 2, 3, 4, 5]);
  read(ring, 3);
  write(ring, [6, 7, 8, 9]);
  ring.reserve(1);
  ring.clear();
  assert.deepEqual(snapshot(ring), [0, 0, 0]);
  assert.throws(() => ring.commit(0), RangeError);
  assert.equal(write(ring, [1, 2, 3, 4, 5, 6, 7, 8]), 0);
});

test("compact keeps the wanted spans of both regions, in order, and leaves every free byte in one span", () => {
  const ring = new ByteRing(16);
  write(ring, [1, 1, 1, 1]); // spans: 0..4 (read below), 4..7, 7..10, 10..14
  write(ring, [2, 2, 2]);
  write(ring, [3, 3, 3]);
  write(ring, [4, 4, 4, 4]);
  read(ring, 4);
  assert.equal(write(ring, [5, 5, 5]), 0, "region B");
  // Wanted, in queue order: [3,3,3] and [4,4,4,4] in A, [5,5,5] in B; [2,2,2] is done. A ring of 4 pairs, from pair 3 on.
  const spans = new Uint32Array([10, 4, 0, 3, 0, 0, 7, 3]);
  ring.compact(spans, 3, 3);
  assert.deepEqual([...spans], [12, 4, 0, 3, 0, 0, 9, 3], "A's spans against the end, B's from 0");
  assertRingHolds(ring, [3, 3, 3, 4, 4, 4, 4, 5, 5, 5]);
  assert.equal(ring.reserve(7), RING_FULL, "16 - 10 = 6 bytes free");
  assert.equal(write(ring, [6, 6, 6, 6, 6, 6]), 3, "all 6 in one span");
  assertRingHolds(ring, [3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6, 6, 6]);
  // Only B's span wanted: it becomes the whole queue, from 0.
  const onlyB = new Uint32Array([3, 6]);
  ring.compact(onlyB, 0, 1);
  assert.deepEqual([...onlyB], [0, 6]);
  assertRingHolds(ring, [6, 6, 6, 6, 6, 6]);
  ring.compact(onlyB, 0, 0);
  assert.deepEqual(snapshot(ring), [0, 0, 0], "nothing wanted: empty");
});

/** Where the bip-buffer rule says n bytes go, judged from the ring's public state alone. */
function expectedReserve(ring: ByteRing, n: number): number {
  const aLength = ring.readable();
  const bLength = ring.length - aLength;
  if (aLength === 0) return n <= ring.capacity ? 0 : RING_FULL;
  const aStart = ring.readOffset;
  const aEnd = aStart + aLength;
  if (bLength > 0) return n <= aStart - bLength ? bLength : RING_FULL;
  if (n <= ring.capacity - aEnd) return aEnd;
  return n <= aStart ? 0 : RING_FULL;
}

function assertRingHolds(ring: ByteRing, model: number[]): void {
  const a = ring.bytes.subarray(ring.readOffset, ring.readOffset + ring.readable());
  const b = ring.bytes.subarray(0, ring.length - ring.readable());
  assert.deepEqual([...a, ...b], model);
}

test("100k random reserves, commits and consumes keep the bytes in FIFO order", () => {
  // Bytes count modulo a prime and unwritten-but-reserved bytes are 255, so a byte out of place shows.
  const GARBAGE = 255;
  for (const capacity of [1, 13, 97, 1024]) {
    const rand = prng(0x5eed + capacity);
    const ring = new ByteRing(capacity);
    const model: number[] = [];
    let next = 0;
    const drain = (n: number): void => {
      assert.deepEqual(read(ring, n), model.splice(0, n));
    };
    for (let op = 0; op < 100_000; op++) {
      const roll = rand(1000);
      if (roll < 480) {
        const n = rand(4) === 0 ? rand(capacity + 3) : rand(Math.max(2, capacity >> 2));
        const want = expectedReserve(ring, n);
        const before = snapshot(ring);
        const offset = ring.reserve(n);
        assert.equal(offset, want, `op ${op}: reserve(${n})`);
        if (offset === RING_FULL) {
          assert.deepEqual(snapshot(ring), before);
          continue;
        }
        assert.ok(offset + n <= capacity);
        if (rand(5) === 0) drain(rand(ring.readable() + 1));
        const committed = rand(n + 1);
        for (let i = 0; i < n; i++) {
          if (i < committed) {
            ring.bytes[offset + i] = next;
            model.push(next);
            next = (next + 1) % 251;
          } else {
            ring.bytes[offset + i] = GARBAGE;
          }
        }
        ring.commit(committed);
      } else if (roll < 999) {
        drain(rand(ring.readable() + 1));
      } else {
        ring.clear();
        model.length = 0;
      }
      assert.equal(ring.length, model.length);
      if (op % 97 === 0) assertRingHolds(ring, model);
    }
    assertRingHolds(ring, model);
  }
});

// ---- PacketIdTable ----

/** Moves allocate()'s position so that the next id it considers is after `last`. */
function allocateUpTo(table: PacketIdTable, last: number): void {
  for (let i = 0; i < 65535; i++) {
    const id = table.allocate();
    assert.notEqual(id, NO_PACKET_ID);
    table.release(id);
    if (id === last) return;
  }
  assert.fail(`allocate() never reached ${last}`);
}

test("a packet id table rejects a capacity outside 1..65535", () => {
  for (const bad of [0, -1, 65536, 2.5, NaN]) assert.throws(() => new PacketIdTable(bad), RangeError);
  assert.equal(new PacketIdTable(65535).capacity, 65535);
});

test("ids are allocated in sequence starting at 1", () => {
  const table = new PacketIdTable(8);
  assert.deepEqual([table.allocate(), table.allocate(), table.allocate()], [1, 2, 3]);
  assert.equal(table.size, 3);
  assert.ok(table.has(2));
  assert.ok(!table.has(4));
});

test("allocation wraps from 65535 to 1, never to 0", () => {
  const table = new PacketIdTable(4);
  allocateUpTo(table, 65534);
  assert.equal(table.allocate(), 65535);
  assert.equal(table.allocate(), 1);
  assert.equal(table.allocate(), 2);
});

test("allocation skips ids in use, across the wrap", () => {
  const table = new PacketIdTable(8);
  allocateUpTo(table, 65533);
  for (const id of [65535, 1, 2]) assert.ok(table.claim(id));
  assert.equal(table.allocate(), 65534);
  assert.equal(table.allocate(), 3);
  assert.equal(table.size, 5);
});

test("skip() moves allocation on as allocate() would, skipping ids in use and wrapping, and takes nothing", () => {
  const table = new PacketIdTable(8);
  assert.deepEqual([table.skip(), table.skip()], [1, 2]);
  assert.equal(table.size, 0, "a skipped id is not taken");
  assert.equal(table.has(1), false);
  assert.equal(table.allocate(), 3, "allocation goes on after the skipped ids");
  allocateUpTo(table, 65533);
  for (const id of [65535, 1, 2]) assert.ok(table.claim(id));
  assert.deepEqual([table.skip(), table.skip(), table.skip()], [65534, 4, 5], "ids in use (3, 65535, 1, 2) are skipped, across the wrap");
  assert.equal(table.allocate(), 6);
  assert.equal(table.size, 5);
});

test("skip() says NO_PACKET_ID when the table is full, as allocate() does", () => {
  const table = new PacketIdTable(2);
  table.allocate();
  table.allocate();
  assert.equal(table.skip(), NO_PACKET_ID);
  table.release(1);
  assert.equal(table.skip(), 3);
});

test("a full table allocates NO_PACKET_ID and refuses claims", () => {
  const table = new PacketIdTable(3);
  assert.deepEqual([table.allocate(), table.allocate(), table.allocate()], [1, 2, 3]);
  assert.equal(table.allocate(), NO_PACKET_ID);
  assert.equal(table.claim(100), false);
  assert.equal(table.size, 3);
});

test("a released id frees its slot for the next allocation, which continues the sequence", () => {
  const table = new PacketIdTable(2);
  assert.equal(table.allocate(), 1);
  assert.equal(table.allocate(), 2);
  const slot = table.slotOf(1);
  assert.ok(table.release(1));
  assert.equal(table.release(1), false, "an id is released once");
  assert.equal(table.has(1), false);
  assert.equal(table.slotOf(1), -1);
  assert.equal(table.idAt(slot), NO_PACKET_ID);
  assert.equal(table.allocate(), 3, "the next id after the last allocated, not the one just released");
  assert.equal(table.slotOf(3), slot);
  assert.equal(table.idAt(slot), 3);
});

test("claiming an id in use fails and an id outside 1..65535 is a RangeError", () => {
  const table = new PacketIdTable(4);
  assert.ok(table.claim(5));
  assert.equal(table.claim(5), false);
  assert.equal(table.allocate(), 1);
  assert.equal(table.claim(1), false);
  for (const bad of [0, -1, 65536, 1.5, NaN]) assert.throws(() => table.claim(bad), RangeError);
  allocateUpTo(table, 4);
  assert.equal(table.allocate(), 6, "a claimed id is skipped by allocation");
  assert.equal(table.has(0), false);
  assert.equal(table.slotOf(0), -1);
  assert.equal(table.release(0), false);
  assert.equal(table.release(70000), false);
});

test("slots are dense and an id keeps its slot while others come and go", () => {
  const capacity = 8;
  const table = new PacketIdTable(capacity);
  const ids = Array.from({ length: capacity }, () => table.allocate());
  const slots = ids.map((id) => table.slotOf(id));
  assert.deepEqual([...slots].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7]);
  for (let slot = 0; slot < capacity; slot++) assert.equal(table.slotOf(table.idAt(slot)), slot);
  assert.equal(table.idAt(capacity), NO_PACKET_ID);
  assert.equal(table.idAt(-1), NO_PACKET_ID);
  for (const id of [2, 5, 7]) table.release(id);
  const fresh = [table.allocate(), table.allocate(), table.allocate()];
  assert.deepEqual(
    fresh.map((id) => table.slotOf(id)).sort((x, y) => x - y),
    [1, 4, 6],
    "new ids take exactly the freed slots",
  );
  ids.forEach((id, i) => {
    if (![2, 5, 7].includes(id)) assert.equal(table.slotOf(id), slots[i]);
  });
});

test("clear frees every id and restarts allocation at 1", () => {
  const table = new PacketIdTable(4);
  table.allocate();
  table.claim(900);
  table.clear();
  assert.equal(table.size, 0);
  assert.equal(table.has(900), false);
  assert.equal(table.allocate(), 1);
  assert.equal(table.slotOf(1), 0);
});

test("200k random allocates, claims and releases agree with a Set", () => {
  for (const capacity of [1, 7, 64, 1000]) {
    const rand = prng(0xc1a1 + capacity);
    const table = new PacketIdTable(capacity);
    const inUse = new Set<number>();
    const live: number[] = [];
    const slotById = new Map<number, number>();
    const idBySlot = new Array<number>(capacity).fill(NO_PACKET_ID);
    let last = 0;

    const track = (id: number): void => {
      const slot = table.slotOf(id);
      assert.ok(slot >= 0 && slot < capacity, `slot ${slot} for ${id}`);
      assert.equal(idBySlot[slot], NO_PACKET_ID, `slot ${slot} handed out twice`);
      assert.equal(table.idAt(slot), id);
      inUse.add(id);
      live.push(id);
      slotById.set(id, slot);
      idBySlot[slot] = id;
    };
    const untrack = (id: number): void => {
      const slot = slotById.get(id)!;
      inUse.delete(id);
      live.splice(live.indexOf(id), 1);
      slotById.delete(id);
      idBySlot[slot] = NO_PACKET_ID;
      assert.equal(table.idAt(slot), NO_PACKET_ID);
    };
    /** Ids near the allocation position, so claims collide with allocation and with each other. */
    const nearbyId = (): number => ((last + rand(2 * capacity + 8) - capacity + 65535 * 2) % 65535) + 1;

    for (let op = 0; op < 200_000; op++) {
      const roll = rand(10_000);
      if (roll < 4000) {
        let want = NO_PACKET_ID;
        if (inUse.size < capacity) {
          want = last;
          do want = want === 65535 ? 1 : want + 1;
          while (inUse.has(want));
          last = want;
        }
        const id = table.allocate();
        assert.equal(id, want, `op ${op}: allocate`);
        if (id !== NO_PACKET_ID) track(id);
      } else if (roll < 5500) {
        const id = rand(2) === 0 && live.length > 0 ? live[rand(live.length)]! : rand(2) ? nearbyId() : rand(65535) + 1;
        const want = !inUse.has(id) && inUse.size < capacity;
        assert.equal(table.claim(id), want, `op ${op}: claim(${id})`);
        if (want) track(id);
      } else if (roll < 9500) {
        const id = rand(10) < 7 && live.length > 0 ? live[rand(live.length)]! : nearbyId();
        const want = inUse.has(id);
        assert.equal(table.release(id), want, `op ${op}: release(${id})`);
        if (want) untrack(id);
        assert.equal(table.has(id), false);
      } else if (roll < 9995) {
        const id = nearbyId();
        assert.equal(table.has(id), inUse.has(id));
        assert.equal(table.slotOf(id), slotById.get(id) ?? -1);
      } else {
        table.clear();
        inUse.clear();
        live.length = 0;
        slotById.clear();
        idBySlot.fill(NO_PACKET_ID);
        last = 0;
      }
      assert.equal(table.size, inUse.size);
      if (op % 499 === 0) {
        for (const [id, slot] of slotById) assert.equal(table.slotOf(id), slot, `op ${op}: ${id} moved`);
        for (let slot = 0; slot < capacity; slot++) assert.equal(table.idAt(slot), idBySlot[slot]);
      }
    }
  }
});

test("a table of capacity 65535 allocates every id exactly once", () => {
  const table = new PacketIdTable(65535);
  const seenId = new Uint8Array(65536);
  const seenSlot = new Uint8Array(65535);
  for (let i = 0; i < 65535; i++) {
    const id = table.allocate();
    assert.ok(id >= 1 && id <= 65535 && seenId[id] === 0, `id ${id} at allocation ${i}`);
    seenId[id] = 1;
    const slot = table.slotOf(id);
    assert.ok(slot >= 0 && seenSlot[slot] === 0, `slot ${slot} for id ${id}`);
    seenSlot[slot] = 1;
  }
  assert.equal(table.size, 65535);
  assert.equal(table.allocate(), NO_PACKET_ID);
  assert.equal(table.claim(1234), false);
  for (let id = 1; id <= 65535; id++) assert.ok(table.has(id));
  for (let id = 65535; id >= 1; id -= 2) assert.ok(table.release(id));
  assert.equal(table.size, 32767);
  for (let id = 2; id <= 65535; id += 2) assert.equal(table.idAt(table.slotOf(id)), id);
  assert.equal(table.allocate(), 1, "allocation wraps past the last id to the first free one");
});
