/**
 * Outgoing bytes, as a bip-buffer: two regions in one fixed array, so the encoder can always write a
 * whole packet into ONE contiguous span (no packet split at the array's end, no scratch copy) and the host
 * can always write one contiguous span to its socket.
 *
 *   [ B: 0 .. bEnd )   free   [ A: aStart .. aEnd )   free
 *
 * Reads drain A. Writes extend A while it has room behind it; once it does not, they start B at offset 0,
 * and while B exists every write extends B (anything else would reorder bytes). When A drains, B becomes A;
 * with no B, A restarts empty at offset 0, so an idle ring offers its whole capacity again.
 *
 * Writing is two steps, reserve then commit: the encoder measures a packet, reserves that much, writes
 * straight into `bytes`, then commits what it wrote. A reservation survives consume() (the host may finish a
 * socket write in between); clear() cancels it.
 */

import { Arena } from "./arena.js";

/** reserve(): the bytes asked for do not fit in one contiguous free span right now. */
export const RING_FULL = -1;

export class ByteRing {
  /**
   * The storage, allocated once. bytes[readOffset, readOffset + readable()) stays valid until the next
   * consume() or clear(); a reserved span is the caller's to write until commit().
   */
  readonly bytes: Uint8Array;
  private aStart = 0;
  private aEnd = 0;
  private bEnd = 0;
  /** Where the pending reservation starts, or RING_FULL when there is none. */
  private resOffset = RING_FULL;
  private resLength = 0;

  /** `arena`: carve the storage out of it (ByteRing.bytesFor(capacity) bytes) instead of allocating it. */
  constructor(capacity: number, arena?: Arena) {
    if (!Number.isInteger(capacity) || capacity <= 0) {
      throw new RangeError(`ByteRing capacity must be a positive integer, not ${capacity}`);
    }
    this.bytes = arena === undefined ? new Uint8Array(capacity) : arena.u8(capacity);
  }

  static bytesFor(capacity: number): number {
    return Arena.span(capacity, 1);
  }

  get capacity(): number {
    return this.bytes.length;
  }

  /** Bytes queued in both regions. */
  get length(): number {
    return this.aEnd - this.aStart + this.bEnd;
  }

  get readOffset(): number {
    return this.aStart;
  }

  /** Length of the contiguous span at readOffset; after consuming it, the rest (if any) is at offset 0. */
  readable(): number {
    return this.aEnd - this.aStart;
  }

  /**
   * Offset in `bytes` of n contiguous writable bytes, or RING_FULL. Queued bytes are untouched; a later
   * reserve replaces this one.
   */
  reserve(n: number): number {
    // Not Number.isInteger: a call costs XS more than the test, on a path every packet takes.
    if (!(n >= 0 && n % 1 === 0)) throw new RangeError(`ByteRing.reserve: ${n} is not a byte count`);
    let offset = RING_FULL;
    if (this.bEnd > 0) {
      if (n <= this.aStart - this.bEnd) offset = this.bEnd;
    } else if (n <= this.bytes.length - this.aEnd) {
      offset = this.aEnd;
    } else if (n <= this.aStart) {
      offset = 0;
    }
    this.resOffset = offset;
    this.resLength = n;
    return offset;
  }

  /** Makes the first n bytes of the pending reservation readable and ends the reservation. */
  commit(n: number): void {
    const offset = this.resOffset;
    if (offset === RING_FULL) throw new RangeError("ByteRing.commit without a successful reserve");
    if (!(n >= 0 && n % 1 === 0 && n <= this.resLength)) {
      throw new RangeError(`ByteRing.commit: ${n} is not within the ${this.resLength} bytes reserved`);
    }
    this.resOffset = RING_FULL;
    if (n === 0) return;
    if (this.aStart === this.aEnd) {
      // The queue was empty, or drained while the reservation was pending: the new bytes are the whole queue,
      // wherever the reservation put them.
      this.aStart = offset;
      this.aEnd = offset + n;
    } else if (offset === this.aEnd) {
      this.aEnd += n;
    } else {
      this.bEnd = offset + n;
    }
  }

  /** Drops n bytes from the front of the readable span (n <= readable()). */
  consume(n: number): void {
    if (!(n >= 0 && n % 1 === 0 && n <= this.aEnd - this.aStart)) {
      throw new RangeError(`ByteRing.consume: ${n} is not within the ${this.aEnd - this.aStart} readable bytes`);
    }
    this.aStart += n;
    if (this.aStart !== this.aEnd) return;
    this.aStart = 0;
    this.aEnd = this.bEnd;
    this.bEnd = 0;
  }

  /**
   * Keeps only the spans still wanted, packed in place, so that the free bytes form one contiguous span
   * that the next reserve() can have whole (a queue whose bytes are records, some done out of order).
   * `spans` is a ring of [offset, length] pairs, pair k at spans[2k] (k modulo spans.length / 2); the `count`
   * pairs from pair `first` on are the wanted spans, in queue order, each within the queued bytes. Their
   * offsets are updated to where the bytes now lie. Ends any pending reservation.
   */
  compact(spans: Uint32Array, first: number, count: number): void {
    const pairs = spans.length / 2;
    const bytes = this.bytes;
    // In queue order region A's spans come first; while B exists, the first span below aStart begins B's.
    let inA = count;
    if (this.bEnd > 0) {
      for (let k = 0; k < count; k++) {
        if (spans[2 * ((first + k) % pairs)]! < this.aStart) {
          inA = k;
          break;
        }
      }
    }
    // A's spans move up against the array's end, the last first: each lands at or above where it was and
    // above every span still to move, so nothing is overwritten before it is copied.
    let end = bytes.length;
    for (let k = inA - 1; k >= 0; k--) {
      const p = 2 * ((first + k) % pairs);
      const at = spans[p]!;
      end -= spans[p + 1]!;
      bytes.copyWithin(end, at, at + spans[p + 1]!);
      spans[p] = end;
    }
    // B's spans move down to the array's start, the first first, for the same reason.
    let start = 0;
    for (let k = inA; k < count; k++) {
      const p = 2 * ((first + k) % pairs);
      const at = spans[p]!;
      bytes.copyWithin(start, at, at + spans[p + 1]!);
      spans[p] = start;
      start += spans[p + 1]!;
    }
    this.resOffset = RING_FULL;
    if (inA > 0) {
      this.aStart = end;
      this.aEnd = bytes.length;
      this.bEnd = start;
    } else {
      this.aStart = 0;
      this.aEnd = start;
      this.bEnd = 0;
    }
  }

  /** Drops every queued byte and any pending reservation. */
  clear(): void {
    this.aStart = this.aEnd = this.bEnd = 0;
    this.resOffset = RING_FULL;
  }
}
