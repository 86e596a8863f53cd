/**
 * In-flight MQTT packet identifiers (1..65535): none handed out twice while in use ([MQTT-2.2.1-3], in
 * 3.1.1 [MQTT-2.3.1-2]), at most `capacity` in use at once, and each in-use id mapped in O(1) to a dense slot
 * 0..capacity-1 so callers keep per-message state in parallel typed arrays of `capacity` entries.
 *
 * A direct 65536-entry id -> slot array would cost 128 KB, more than an ESP32 heap can spare, so the map is an
 * open-addressed hash whose buckets each hold an id and its slot in one Uint32 (id + slot * 0x10000; 0 marks
 * an empty bucket, as 0 is never a valid id), sized to a power of two at least twice the capacity so probe runs
 * stay short. Buckets are found by Fibonacci hashing, which
 * spreads the consecutive ids allocate() produces. Deletion shifts later entries of the probe run back instead
 * of leaving tombstones, so lookups never slow down as ids churn. Free slots sit on a stack: a released slot
 * is the next one reused, while its state is still warm.
 */

import { Arena } from "./arena.js";

/** allocate(): every slot is in use. Also what idAt() returns for a free slot; never a valid packet id. */
export const NO_PACKET_ID = 0;

const MAX_ID = 0xffff;
/** 2^32 / golden ratio: multiplying by it scatters nearby keys across the high bits. */
const FIBONACCI = 0x9e3779b1;

export class PacketIdTable {
  readonly capacity: number;
  private count = 0;
  private lastAllocated = 0;
  private readonly mask: number;
  private readonly shift: number;
  /** id + slot * 0x10000 per bucket, 0 when empty: see bucketId and bucketSlot. */
  private readonly buckets: Uint32Array;
  /**
   * Two halves in one array (a typed array costs a hundred bytes of heap whatever its length): slots[s] for
   * s < capacity is the id in slot s, NO_PACKET_ID when free; slots[capacity + i] for i < freeTop is the
   * stack of free slots.
   */
  private readonly slots: Uint16Array;
  private freeTop = 0;

  /** `arena`: carve the arrays out of it (PacketIdTable.bytesFor(capacity) bytes) instead of allocating them. */
  constructor(capacity: number, arena?: Arena) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_ID) {
      throw new RangeError(`PacketIdTable capacity must be an integer in 1..65535, not ${capacity}`);
    }
    this.capacity = capacity;
    const bits = bucketBits(capacity);
    this.mask = (1 << bits) - 1;
    this.shift = 32 - bits;
    const a = arena ?? new Arena(PacketIdTable.bytesFor(capacity));
    this.buckets = a.u32(1 << bits);
    this.slots = a.u16(2 * capacity);
    this.resetFreeSlots();
  }

  static bytesFor(capacity: number): number {
    const buckets = 1 << bucketBits(capacity);
    return Arena.span(buckets, 4) + Arena.span(2 * capacity, 2);
  }

  /** Ids in use. */
  get size(): number {
    return this.count;
  }

  /**
   * The next id after the last one allocate() returned (65535 wraps to 1), skipping ids in use; NO_PACKET_ID
   * when the table is full.
   */
  allocate(): number {
    if (this.count === this.capacity) return NO_PACKET_ID;
    let id = this.lastAllocated;
    do id = id === MAX_ID ? 1 : id + 1;
    while (this.find(id) >= 0);
    this.lastAllocated = id;
    this.insert(id);
    return id;
  }

  /**
   * Moves allocate()'s position on as allocate() would, without taking the id: the mid of a message that
   * holds none (QoS 0), from the same sequence so that mids do not collide. What allocate() then release()
   * would leave, for a fraction of the work; NO_PACKET_ID when the table is full.
   */
  skip(): number {
    if (this.count === this.capacity) return NO_PACKET_ID;
    let id = this.lastAllocated;
    do id = id === MAX_ID ? 1 : id + 1;
    while (this.count > 0 && this.find(id) >= 0);
    this.lastAllocated = id;
    return id;
  }

  /**
   * Takes a specific id: one restored with a session, or an incoming QoS 2 id held until PUBREL. False when it
   * is already in use or the table is full. Does not move allocate()'s position.
   */
  claim(id: number): boolean {
    if (!Number.isInteger(id) || id < 1 || id > MAX_ID) {
      throw new RangeError(`a packet id is an integer in 1..65535, not ${id}`);
    }
    if (this.count === this.capacity || this.find(id) >= 0) return false;
    this.insert(id);
    return true;
  }

  has(id: number): boolean {
    return this.find(id) >= 0;
  }

  /** The slot holding id, stable while id is in use; -1 when id is not in use. */
  slotOf(id: number): number {
    const bucket = this.find(id);
    return bucket < 0 ? -1 : bucketSlot(this.buckets[bucket]!);
  }

  /** The id holding slot, or NO_PACKET_ID when the slot is free (or not a slot). */
  idAt(slot: number): number {
    return slot < this.capacity ? this.slots[slot] ?? NO_PACKET_ID : NO_PACKET_ID;
  }

  /** Frees id and its slot; false when id was not in use. */
  release(id: number): boolean {
    let hole = this.find(id);
    if (hole < 0) return false;
    const slot = bucketSlot(this.buckets[hole]!);
    this.slots[slot] = NO_PACKET_ID;
    this.slots[this.capacity + this.freeTop++] = slot;
    this.count--;
    const { buckets, mask } = this;
    // Knuth's Algorithm R: an entry further along the run may move into the hole if the hole lies between
    // its home bucket and where it sits now; otherwise a lookup for it would stop early at the hole.
    for (let i = (hole + 1) & mask; buckets[i] !== 0; i = (i + 1) & mask) {
      const entry = buckets[i]!;
      if (((i - (Math.imul(bucketId(entry), FIBONACCI) >>> this.shift)) & mask) >= ((i - hole) & mask)) {
        buckets[hole] = entry;
        hole = i;
      }
    }
    buckets[hole] = 0;
    return true;
  }

  /** Frees every id and slot, and restarts allocation at 1. */
  clear(): void {
    this.buckets.fill(0);
    this.slots.fill(NO_PACKET_ID, 0, this.capacity);
    this.count = 0;
    this.lastAllocated = 0;
    this.resetFreeSlots();
  }

  /** Stacked so that slot 0 comes off first: a fresh table hands out slots in order. */
  private resetFreeSlots(): void {
    const n = this.capacity;
    for (let i = 0; i < n; i++) this.slots[n + i] = n - 1 - i;
    this.freeTop = n;
  }

  /**
   * The bucket holding id, or -1. The table is never more than half full, so every probe run ends. A
   * run starts at the id's home bucket, Math.imul(id, FIBONACCI) >>> shift, written out where it is used
   * (here, insert(), release()): a method call costs XS more than the hash.
   */
  private find(id: number): number {
    if (!(id >= 1 && id <= MAX_ID)) return -1;
    const { buckets, mask } = this;
    for (let i = Math.imul(id, FIBONACCI) >>> this.shift; ; i = (i + 1) & mask) {
      const key = bucketId(buckets[i]!);
      if (key === id) return i;
      if (key === 0) return -1;
    }
  }

  /** Caller has checked that id is absent and a slot is free. */
  private insert(id: number): void {
    const { buckets, mask } = this;
    let i = Math.imul(id, FIBONACCI) >>> this.shift;
    while (buckets[i] !== 0) i = (i + 1) & mask;
    const slot = this.slots[this.capacity + --this.freeTop]!;
    buckets[i] = id + slot * 0x10000;
    this.slots[slot] = id;
    this.count++;
  }
}

/** log2 of the bucket count: a power of two at least twice the capacity. */
function bucketBits(capacity: number): number {
  let bits = 1;
  while (1 << bits < 2 * capacity) bits++;
  return bits;
}

function bucketId(entry: number): number {
  return entry & 0xffff;
}

function bucketSlot(entry: number): number {
  return entry >>> 16;
}
