/**
 * The counting a simulation run needs, in fixed memory: a latency histogram with logarithmic buckets, and
 * per-device sequence tracking that tells a new message from a duplicate and finds the gaps (losses).
 */

/** Buckets per doubling of the latency in microseconds: 16 gives about 4.4 % resolution. */
const STEPS_PER_OCTAVE = 16;
/** Up to 2^28 us (about 4.5 minutes); anything slower lands in the last bucket. */
const BUCKETS = 28 * STEPS_PER_OCTAVE + 1;

/** Latencies in milliseconds, binned; percentiles are read back as the bucket's geometric middle. */
export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  max = 0;

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
}
