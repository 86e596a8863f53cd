/**
 * The engine's output: a ByteRing of whole packets, and a window for packets larger than the ring. A
 * packet that does not fit the ring goes out as its header, written into the ring, followed by a span of
 * the caller's own bytes (its payload) spliced into the stream by reference: the reader is handed that
 * span in pieces of at most the ring's capacity, straight from the caller's array, as the link takes
 * them. Nothing is copied, and the ring never holds more than its capacity, however large the packet.
 *
 * Positions. Ring bytes are numbered by how many were consumed before them (ringConsumed + index into
 * the queue), so a splice records the ring position it follows: the ring is read up to there, then the
 * span, then the ring again. Packets written after a splice therefore go out after it, in order. Positions
 * are counted only while a span waits, so reading whole packets costs what a plain ByteRing's does.
 *
 * At most MAX_SPLICES spans wait at once (splice() says false beyond); each holds its array until its
 * last byte is consumed, or clear(). Their small tables are made at the first splice, so a client that
 * never sends a large packet holds none.
 */
import type { Arena } from "./arena.js";
import { ByteRing } from "./byte-ring.js";

/** Spans waiting at once. */
export const MAX_SPLICES = 4;

export class OutputRing extends ByteRing {
  /** Ring bytes consumed since the first of the waiting spans was spliced: the position of the ring's first queued byte. */
  private ringConsumed = 0;
  /** Pending spans, a circular queue: count, first index, and per span its array, next byte, end and ring position. */
  private spliceCount = 0;
  private spliceHead = 0;
  private spliceBytes: Array<Uint8Array | undefined> | undefined = undefined;
  private spliceNext: number[] | undefined = undefined;
  private spliceEnd: number[] | undefined = undefined;
  private spliceAt: number[] | undefined = undefined;

  constructor(capacity: number, arena?: Arena) {
    super(capacity, arena);
  }

  /** Bytes queued: in the ring and in the spans still to go. */
  override get length(): number {
    let n = super.length;
    for (let k = 0; k < this.spliceCount; k++) {
      const i = (this.spliceHead + k) % MAX_SPLICES;
      n += this.spliceEnd![i]! - this.spliceNext![i]!;
    }
    return n;
  }

  /** The array the next readable bytes lie in: `bytes`, or a spliced span's own array. */
  get buffer(): Uint8Array {
    return this.spliceCount !== 0 && this.spliceAt![this.spliceHead] === this.ringConsumed ? this.spliceBytes![this.spliceHead]! : this.bytes;
  }

  override get readOffset(): number {
    return this.spliceCount !== 0 && this.spliceAt![this.spliceHead] === this.ringConsumed ? this.spliceNext![this.spliceHead]! : super.readOffset;
  }

  /** The contiguous bytes at readOffset in `buffer`: ring bytes up to the next span, or a piece of the span. */
  override readable(): number {
    if (this.spliceCount === 0) return super.readable();
    const h = this.spliceHead;
    const before = this.spliceAt![h]! - this.ringConsumed;
    if (before > 0) return Math.min(super.readable(), before);
    return Math.min(this.spliceEnd![h]! - this.spliceNext![h]!, this.capacity);
  }

  /** A span is at the front: the next bytes read are a spliced span's. */
  get streaming(): boolean {
    return this.spliceCount !== 0 && this.spliceAt![this.spliceHead] === this.ringConsumed;
  }

  /** Whether splice() would take another span now. */
  get canSplice(): boolean {
    return this.spliceCount < MAX_SPLICES;
  }

  override consume(n: number): void {
    // No span waiting: positions need not be kept (splice() restarts them), so the ring alone is consumed.
    if (this.spliceCount === 0) {
      super.consume(n);
      return;
    }
    if (!this.streaming) {
      if (this.spliceCount !== 0 && n > this.spliceAt![this.spliceHead]! - this.ringConsumed) {
        throw new RangeError(`OutputRing.consume: ${n} bytes would run past a spliced span`);
      }
      super.consume(n);
      this.ringConsumed += n;
      return;
    }
    const h = this.spliceHead;
    const next = this.spliceNext!;
    const end = this.spliceEnd![h]!;
    if (!Number.isInteger(n) || n < 0 || n > Math.min(end - next[h]!, this.capacity)) {
      throw new RangeError(`OutputRing.consume: ${n} is not within the readable piece of the spliced span`);
    }
    next[h] = next[h]! + n;
    if (next[h] !== end) return;
    this.spliceBytes![h] = undefined;
    this.spliceHead = (h + 1) % MAX_SPLICES;
    this.spliceCount--;
  }

  /**
   * Queues bytes[start, end) to go out after every byte committed so far, by reference: the caller must
   * not change them until they are consumed. False when MAX_SPLICES spans already wait.
   */
  splice(bytes: Uint8Array, start: number, end: number): boolean {
    if (this.spliceCount === MAX_SPLICES) return false;
    if (!(start >= 0 && start <= end && end <= bytes.length)) throw new RangeError(`OutputRing.splice: [${start}, ${end}) is not within ${bytes.length} bytes`);
    if (start === end) return true;
    if (this.spliceCount === 0) this.ringConsumed = 0;
    if (this.spliceBytes === undefined) {
      this.spliceBytes = new Array<Uint8Array | undefined>(MAX_SPLICES).fill(undefined);
      this.spliceNext = new Array<number>(MAX_SPLICES).fill(0);
      this.spliceEnd = new Array<number>(MAX_SPLICES).fill(0);
      this.spliceAt = new Array<number>(MAX_SPLICES).fill(0);
    }
    const i = (this.spliceHead + this.spliceCount) % MAX_SPLICES;
    this.spliceBytes[i] = bytes;
    this.spliceNext![i] = start;
    this.spliceEnd![i] = end;
    this.spliceAt![i] = this.ringConsumed + super.length;
    this.spliceCount++;
    return true;
  }

  /** Drops every queued byte, every span (and the caller's arrays with them) and any reservation. */
  override clear(): void {
    super.clear();
    this.ringConsumed = 0;
    if (this.spliceBytes !== undefined) this.spliceBytes.fill(undefined);
    this.spliceCount = this.spliceHead = 0;
  }
}
