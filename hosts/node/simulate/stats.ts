/**
 * The counting a simulation run needs, in fixed memory: a latency histogram with logarithmic buckets, and
 * per-device sequence tracking that tells a new message from a duplicate and finds the gaps (losses).
 */

/** Buckets per doubling of the latency in microseconds: 16 gives about 4.4 % resolution. */
const STEPS_PER_OCTAVE = 16;
/** Up to 2^28 us (about 4.5 minutes); anything slower lands in the last bucket. */
const BUCKETS = 28 * STEPS_PER_OCTAVE + 1;

/**
 * A histogram as JSON, for a shard's report: the non-empty buckets as [bucket, count] pairs in bucket order,
 * the count and the maximum. Two histograms merge exactly (the buckets are the same everywhere).
 */
export interface HistogramSnapshot {
  buckets: Array<[number, number]>;
  count: number;
  max: number;
}

/** Latencies in milliseconds, binned; percentiles are read back as the bucket's geometric middle. */
export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  max = 0;

  static from(snapshot: HistogramSnapshot): LatencyHistogram {
    const h = new LatencyHistogram();
    h.merge(snapshot);
    return h;
  }

  snapshot(): HistogramSnapshot {
    const buckets: Array<[number, number]> = [];
    for (let b = 0; b < BUCKETS; b++) if (this.counts[b]! > 0) buckets.push([b, this.counts[b]!]);
    return { buckets, count: this.count, max: this.max };
  }

  /** Adds another histogram's counts; a bucket out of range is an error, never a silent drop. */
  merge(other: HistogramSnapshot): void {
    for (const [b, n] of other.buckets) {
      if (!Number.isInteger(b) || b < 0 || b >= BUCKETS || !(n >= 0)) throw new RangeError(`bad histogram bucket [${b}, ${n}]`);
      this.counts[b]! += n;
    }
    this.count += other.count;
    if (other.max > this.max) this.max = other.max;
  }

  add(ms: number): void {
    const us = ms > 0 ? ms * 1000 : 0;
    const b = Math.min(BUCKETS - 1, Math.floor(Math.log2(us + 1) * STEPS_PER_OCTAVE));
    this.counts[b]! += 1;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  /** The q-quantile (0..1) in milliseconds; NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b]!;
      if (seen >= rank) {
        const lo = 2 ** (b / STEPS_PER_OCTAVE) - 1;
        const hi = 2 ** ((b + 1) / STEPS_PER_OCTAVE) - 1;
        return Math.min(this.max, Math.sqrt(Math.max(lo, 0.5) * hi) / 1000);
      }
    }
    return this.max;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.max = 0;
  }
}

/**
 * The sequence numbers one device's messages carry, as the checker sees them. Numbers arrive mostly in
 * order; `next` is the lowest never seen, and `ahead` holds those seen above it (a gap waiting to be
 * filled by a re-sent message, or a loss once the run ends). Memory is bounded by the reordering.
 */
export class SequenceTracker {
  next = 0;
  unique = 0;
  duplicates = 0;
  /** The highest number seen, -1 before any. */
  highest = -1;
  private ahead: Set<number> | undefined;

  /** Records seq; returns false for a duplicate. */
  see(seq: number): boolean {
    if (seq < this.next || (this.ahead !== undefined && this.ahead.has(seq))) {
      this.duplicates++;
      return false;
    }
    this.unique++;
    if (seq > this.highest) this.highest = seq;
    if (seq === this.next) {
      this.next++;
      const ahead = this.ahead;
      if (ahead !== undefined && ahead.size > 0) {
        while (ahead.delete(this.next)) this.next++;
      }
    } else {
      (this.ahead ??= new Set()).add(seq);
    }
    return true;
  }

  /** Numbers below the highest seen that have not arrived (yet: a re-sent message may still fill one). */
  get gaps(): number {
    return this.highest + 1 - this.unique;
  }

  /** What was seen, as sorted, disjoint, non-adjacent half-open ranges [start, end) flattened: [s0, e0, s1, e1, ...]. */
  ranges(): number[] {
    const out: number[] = this.next > 0 ? [0, this.next] : [];
    if (this.ahead === undefined || this.ahead.size === 0) return out;
    for (const seq of [...this.ahead].sort((a, b) => a - b)) {
      if (out.length > 0 && out[out.length - 1] === seq) out[out.length - 1] = seq + 1;
      else out.push(seq, seq + 1);
    }
    return out;
  }
}

/** How many numbers flattened ranges (as SequenceTracker.ranges() gives) hold. */
export function rangesSize(ranges: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < ranges.length; i += 2) n += ranges[i + 1]! - ranges[i]!;
  return n;
}

/** How many numbers below `limit` the ranges hold. */
export function rangesBelow(ranges: readonly number[], limit: number): number {
  let n = 0;
  for (let i = 0; i < ranges.length; i += 2) n += Math.max(0, Math.min(ranges[i + 1]!, limit) - ranges[i]!);
  return n;
}

/**
 * The union of two flattened range lists, and how many numbers were in both (each of those is a message
 * seen twice: once by each side).
 */
export function unionRanges(a: readonly number[], b: readonly number[]): { ranges: number[]; overlap: number } {
  const all: Array<[number, number]> = [];
  for (const r of [a, b]) {
    if (r.length % 2 !== 0) throw new RangeError("ranges come in [start, end) pairs");
    let previousEnd = 0;
    for (let i = 0; i < r.length; i += 2) {
      const start = r[i]!;
      const end = r[i + 1]!;
      // Sorted and disjoint within one list, else the overlap below would count a list against itself.
      if (!(Number.isInteger(start) && Number.isInteger(end) && start >= previousEnd && end > start)) throw new RangeError(`bad range [${start}, ${end})`);
      previousEnd = end;
      all.push([start, end]);
    }
  }
  all.sort((x, y) => x[0] - y[0]);
  const ranges: number[] = [];
  for (const [start, end] of all) {
    const last = ranges.length - 1;
    if (last > 0 && start <= ranges[last]!) ranges[last] = Math.max(ranges[last]!, end);
    else ranges.push(start, end);
  }
  return { ranges, overlap: rangesSize(a) + rangesSize(b) - rangesSize(ranges) };
}
