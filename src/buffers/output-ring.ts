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
 * last byte is consumed, or clear(). They are made at the first splice, so a client that never sends a
 * large packet holds none.
 */
import type { Arena } from "./arena.js";
import { ByteRing } from "./byte-ring.js";

/** Spans waiting at once. */
export const MAX_SPLICES = 4;

/** A spliced span: bytes[next, end) go out once the ring has been read up to position `at`. */
class Span {
  bytes: Uint8Array | undefined = undefined;
  next = 0;
  end = 0;
  at = 0;
}

export class OutputRing extends ByteRing {
  /** Ring bytes consumed since the first of the waiting spans was spliced: the position of the ring's first queued byte. */
  private ringConsumed = 0;
  /** The waiting spans, a circular queue of `count` from `head`. */
  private spans: Span[] | undefined = undefined;
  private head = 0;
  private count = 0;

  constructor(capacity: number, arena?: Arena) {
    super(capacity, arena);
  }

  /** The span whose bytes are next to read, or undefined when the ring's are. */
  private front(): Span | undefined {
    if (this.count === 0) return undefined;
    const s = this.spans![this.head]!;
    return s.at === this.ringConsumed ? s : undefined;
  }

  /** Bytes queued: in the ring and in the spans still to go. */
  override get length(): number {
    let n = super.length;
    for (let k = 0; k < this.count; k++) {
      const s = this.spans![(this.head + k) % MAX_SPLICES]!;
      n += s.end - s.next;
    }
    return n;
  }

  /** The array the next readable bytes lie in: `bytes`, or a spliced span's own array. */
  get buffer(): Uint8Array {
    return this.front()?.bytes ?? this.bytes;
  }

  override get readOffset(): number {
    return this.front()?.next ?? super.readOffset;
  }

  /** The contiguous bytes at readOffset in `buffer`: ring bytes up to the next span, or a piece of the span. */
  override readable(): number {
    if (this.count === 0) return super.readable();
    const s = this.spans![this.head]!;
    const before = s.at - this.ringConsumed;
    return before > 0 ? Math.min(super.readable(), before) : Math.min(s.end - s.next, this.capacity);
  }

  /** A span is at the front: the next bytes read are a spliced span's. */
  get streaming(): boolean {
    return this.front() !== undefined;
  }

  /** Whether splice() would take another span now. */
  get canSplice(): boolean {
    return this.count < MAX_SPLICES;
  }

  override consume(n: number): void {
    // No span waiting: positions need not be kept (splice() restarts them), so the ring alone is consumed.
    if (this.count === 0) {
      super.consume(n);
      return;
    }
    if (!(n >= 0 && n <= this.readable())) throw new RangeError(`OutputRing.consume: ${n} is more than the ${this.readable()} readable bytes`);
    const s = this.front();
    if (s === undefined) {
      super.consume(n);
      this.ringConsumed += n;
      return;
    }
    s.next += n;
    if (s.next !== s.end) return;
    s.bytes = undefined;
    this.head = (this.head + 1) % MAX_SPLICES;
    this.count--;
  }

  /**
   * Queues bytes[start, end) to go out after every byte committed so far, by reference: the caller must
   * not change them until they are consumed. False when MAX_SPLICES spans already wait.
   */
  splice(bytes: Uint8Array, start: number, end: number): boolean {
    if (this.count === MAX_SPLICES) return false;
    if (start === end) return true;
    if (this.count === 0) this.ringConsumed = 0;
    const spans = (this.spans ??= Array.from({ length: MAX_SPLICES }, () => new Span()));
    const s = spans[(this.head + this.count) % MAX_SPLICES]!;
    s.bytes = bytes;
    s.next = start;
    s.end = end;
    s.at = this.ringConsumed + super.length;
    this.count++;
    return true;
  }

  /** Drops every queued byte, every span (and the caller's arrays with them) and any reservation. */
  override clear(): void {
    super.clear();
    if (this.spans !== undefined) for (const s of this.spans) s.bytes = undefined;
    this.count = this.head = 0;
  }
}
