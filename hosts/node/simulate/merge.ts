/**
 * One fleet's figures from the reports of its shards (worker processes of one machine, or `--shard K/N`
 * processes anywhere). Pure: reports in, totals out, exact. A report says which devices its fleet owns
 * (`first` .. `first + devices - 1`, with the sequence numbers each has used) and what its checker saw, per
 * device, as ranges of sequence numbers. A checker may see devices of other shards (a `$share` group spreads
 * every device's messages over the checkers), so what was seen is merged per device across all reports: a
 * message two checkers both saw counts once as received and once as a duplicate, and a device's losses are
 * its sent count less the union of what every checker saw of it.
 */
import { type HistogramSnapshot, LatencyHistogram, rangesBelow, rangesSize, unionRanges } from "./stats.js";
import type { Sample } from "./sampler.js";

/** A shard's counters: each the shard's own (its fleet's or its checker's), cumulative. */
export interface ShardCounts {
  sent: number;
  skippedOffline: number;
  refusedBudget: number;
  /** QoS 1/2 flows not complete when the report was made. */
  unfinished: number;
  /** Telemetry arrivals at this shard's checker, duplicates included. */
  received: number;
  wills: number;
  connected: number;
  maxConnected: number;
  connectFailures: number;
  cuts: number;
  reconnects: number;
}

/** What one checker saw of one device: ranges [start, end) flattened, and how many arrivals repeated one of them. */
export interface DeviceSeen {
  device: number;
  ranges: number[];
  duplicates: number;
}

/** The clients' memory per device and the shard process's RSS (memory.ts). */
export interface ShardMemory {
  heapPerDevice: number;
  buffersPerDevice: number;
  rss: number;
}

export interface ShardReport {
  run: string;
  /** K of N, K from 0. */
  shard: number;
  shards: number;
  /** The devices this shard's fleet runs: first .. first + devices - 1 of the whole fleet. */
  first: number;
  devices: number;
  /** "running" while it runs, "done" at its end; "died" is set by whoever saw it die (never by the shard). */
  state: "running" | "done" | "died";
  /** Numbered from 0 by the shard: a collector keeps the highest it got. */
  sequence: number;
  /** Seconds since the shard started, when the report was made. */
  elapsed: number;
  phase: Sample["phase"];
  counts: ShardCounts;
  /** Sequence numbers used by each of this shard's devices (devices long). */
  sentPerDevice: number[];
  seen: DeviceSeen[];
  latency: HistogramSnapshot;
  /** The shard's whole seconds so far, and each one's latency histogram (for the merged charts' percentiles). */
  samples: Sample[];
  windows: HistogramSnapshot[];
  rampSeconds: number;
  telemetrySeconds: number;
  memoryIdle: ShardMemory | undefined;
  memoryLoaded: ShardMemory | undefined;
  problems: string[];
}

/** One shard's share of the fleet, as the merged summary shows it. */
export interface ShardShare {
  shard: number;
  first: number;
  devices: number;
  state: ShardReport["state"] | "missing";
  /** Seconds into the shard's run of its last report. */
  elapsed: number;
  counts: ShardCounts;
  /** Messages of this shard's devices seen by any checker (once each), and missing from them. */
  unique: number;
  lost: number;
  latency: { p50: number; p99: number; max: number; count: number };
  memoryLoaded: ShardMemory | undefined;
}

export interface MergedReport {
  shards: number;
  devices: number;
  counts: ShardCounts;
  received: number;
  unique: number;
  /** Every repeated arrival: each checker's own, plus messages seen by two checkers (crossDuplicates). */
  duplicates: number;
  crossDuplicates: number;
  lost: number;
  devicesWithLoss: number;
  latency: HistogramSnapshot;
  samples: Sample[];
  perShard: ShardShare[];
  /** Devices claimed by two reports' fleets (counted once, from the first), and arrivals for devices no report owns. */
  overlapping: number[];
  strays: number;
  problems: string[];
}

const ZERO: ShardCounts = {
  sent: 0, skippedOffline: 0, refusedBudget: 0, unfinished: 0, received: 0, wills: 0, connected: 0, maxConnected: 0, connectFailures: 0, cuts: 0, reconnects: 0,
};

function addCounts(a: ShardCounts, b: ShardCounts): ShardCounts {
  const out = { ...a };
  for (const k of Object.keys(ZERO) as Array<keyof ShardCounts>) out[k] += b[k];
  return out;
}

/** The most recent report of each shard (the highest sequence; a "died" mark wins over a report of the same number). */
export function latestReports(reports: Iterable<ShardReport>): ShardReport[] {
  const best = new Map<number, ShardReport>();
  for (const r of reports) {
    const had = best.get(r.shard);
    if (had === undefined || r.sequence > had.sequence || (r.sequence === had.sequence && r.state === "died")) best.set(r.shard, r);
  }
  return [...best.values()].sort((a, b) => a.shard - b.shard);
}

/** The per-second samples of all shards, summed second by second; memory per device weighted by the shards' devices; percentiles from the merged histograms. */
function mergeSamples(reports: ShardReport[]): Sample[] {
  const byT = new Map<number, { sample: Sample; window: LatencyHistogram; devices: number }>();
  for (const r of reports) {
    r.samples.forEach((s, i) => {
      let m = byT.get(s.t);
      if (m === undefined) {
        m = { sample: { ...s, connected: 0, sentPerSec: 0, receivedPerSec: 0, gaps: 0, duplicates: 0, heapPerDevice: 0, buffersPerDevice: 0, rss: 0 },
          window: new LatencyHistogram(), devices: 0 };
        byT.set(s.t, m);
      }
      const ms = m.sample;
      ms.connected += s.connected;
      ms.sentPerSec += s.sentPerSec;
      ms.receivedPerSec += s.receivedPerSec;
      ms.gaps += s.gaps;
      ms.duplicates += s.duplicates;
      ms.heapPerDevice += s.heapPerDevice * r.devices;
      ms.buffersPerDevice += s.buffersPerDevice * r.devices;
      ms.rss += s.rss;
      m.devices += r.devices;
      const window = r.windows[i];
      if (window !== undefined) m.window.merge(window);
    });
  }
  return [...byT.keys()].sort((a, b) => a - b).map((t) => {
    const { sample, window, devices } = byT.get(t)!;
    const per = Math.max(1, devices);
    return { ...sample, heapPerDevice: sample.heapPerDevice / per, buffersPerDevice: sample.buffersPerDevice / per,
      p50: window.quantile(0.5), p99: window.quantile(0.99) };
  });
}

/**
 * Merges the latest report of each shard (latestReports) of a fleet of `shards` shards. A shard with no
 * report is "missing"; one whose last report is not "done" is named in the problems with what it had sent.
 */
export function mergeReports(reports: ShardReport[], shards: number, partName = "shard"): MergedReport {
  const latest = latestReports(reports);
  const problems: string[] = [];
  // Which report owns each device, and how many sequence numbers it used.
  const owner = new Map<number, { shard: number; sent: number }>();
  const overlapping: number[] = [];
  for (const r of latest) {
    if (r.sentPerDevice.length !== r.devices) throw new RangeError(`shard ${r.shard}: ${r.sentPerDevice.length} sent counts for ${r.devices} devices`);
    for (let i = 0; i < r.devices; i++) {
      const device = r.first + i;
      if (owner.has(device)) overlapping.push(device);
      else owner.set(device, { shard: r.shard, sent: r.sentPerDevice[i]! });
    }
  }
  // What every checker saw, per device.
  const seen = new Map<number, number[]>();
  let checkerDuplicates = 0;
  let crossDuplicates = 0;
  let strays = 0;
  for (const r of latest) {
    for (const d of r.seen) {
      checkerDuplicates += d.duplicates;
      if (!owner.has(d.device)) {
        strays += rangesSize(d.ranges) + d.duplicates;
        continue;
      }
      const had = seen.get(d.device);
      if (had === undefined) {
        seen.set(d.device, unionRanges([], d.ranges).ranges);
        continue;
      }
      const u = unionRanges(had, d.ranges);
      seen.set(d.device, u.ranges);
      crossDuplicates += u.overlap;
    }
  }
  const perShard = new Map<number, { unique: number; lost: number }>();
  let unique = 0;
  let lost = 0;
  let devicesWithLoss = 0;
  for (const [device, o] of owner) {
    const ranges = seen.get(device) ?? [];
    const u = rangesSize(ranges);
    const missing = o.sent - rangesBelow(ranges, o.sent);
    unique += u;
    lost += missing;
    if (missing > 0) devicesWithLoss++;
    const share = perShard.get(o.shard) ?? { unique: 0, lost: 0 };
    share.unique += u;
    share.lost += missing;
    perShard.set(o.shard, share);
  }
  const latency = new LatencyHistogram();
  let counts = ZERO;
  const shares: ShardShare[] = [];
  for (let k = 0; k < shards; k++) {
    const r = latest.find((x) => x.shard === k);
    if (r === undefined) {
      problems.push(`${partName} ${k} of ${shards} never reported`);
      shares.push({ shard: k, first: NaN, devices: 0, state: "missing", elapsed: 0, counts: ZERO, unique: 0, lost: 0,
        latency: { p50: NaN, p99: NaN, max: NaN, count: 0 }, memoryLoaded: undefined });
      continue;
    }
    counts = addCounts(counts, r.counts);
    latency.merge(r.latency);
    const own = LatencyHistogram.from(r.latency);
    const share = perShard.get(k) ?? { unique: 0, lost: 0 };
    if (r.state !== "done") {
      problems.push(`${partName} ${k} ${r.state === "died" ? "died" : "did not finish"}: its last report, ${r.elapsed.toFixed(1)} s into its run (${r.phase}), ` +
        `had ${r.counts.sent} sent by its ${r.devices} devices, ${share.unique} of them seen`);
    }
    for (const p of r.problems) problems.push(`${partName} ${k}: ${p}`);
    shares.push({ shard: k, first: r.first, devices: r.devices, state: r.state, elapsed: r.elapsed, counts: r.counts, ...share,
      latency: { p50: own.quantile(0.5), p99: own.quantile(0.99), max: own.max, count: own.count }, memoryLoaded: r.memoryLoaded });
  }
  for (const r of latest) if (r.shard >= shards) problems.push(`a report from ${partName} ${r.shard}, beyond the ${shards} ${partName}s of the run`);
  if (overlapping.length > 0) problems.push(`${overlapping.length} devices run by two ${partName}s (e.g. device ${overlapping[0]})`);
  if (strays > 0) problems.push(`${strays} arrivals for devices no ${partName} reported`);
  return {
    shards, devices: owner.size, counts, received: counts.received, unique, duplicates: checkerDuplicates + crossDuplicates, crossDuplicates,
    lost, devicesWithLoss, latency: latency.snapshot(), samples: mergeSamples(latest), perShard: shares, overlapping, strays, problems,
  };
}
