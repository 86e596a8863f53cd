/**
 * Merging shard reports (hosts/node/simulate/merge.ts): counts add up, histograms merge bucket by bucket,
 * and what several checkers saw of one device is united, so a message seen by two counts once as received
 * and once as a duplicate. Every figure here is exact.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ShardCounts, type ShardReport, latestReports, mergeReports } from "../../../hosts/node/simulate/merge.js";
import { LatencyHistogram, SequenceTracker, rangesBelow, rangesSize, unionRanges } from "../../../hosts/node/simulate/stats.js";

const counts = (c: Partial<ShardCounts>): ShardCounts => ({
  sent: 0, skippedOffline: 0, refusedBudget: 0, unfinished: 0, received: 0, wills: 0, connected: 0, maxConnected: 0, connectFailures: 0, cuts: 0, reconnects: 0, ...c,
});

function histogram(...ms: number[]): LatencyHistogram {
  const h = new LatencyHistogram();
  for (const x of ms) h.add(x);
  return h;
}

function report(r: Partial<ShardReport> & Pick<ShardReport, "shard" | "first" | "devices" | "sentPerDevice">): ShardReport {
  return {
    run: "r1", shards: 3, state: "done", sequence: 5, elapsed: 10, phase: "drain", counts: counts({}), seen: [], latency: histogram().snapshot(),
    samples: [], windows: [], rampSeconds: 1, telemetrySeconds: 5, memoryIdle: undefined, memoryLoaded: undefined, problems: [], ...r,
  };
}

describe("sequence ranges", () => {
  test("a tracker's ranges are what it saw, sorted and disjoint, [start, end) pairs flattened", () => {
    const t = new SequenceTracker();
    for (const seq of [0, 1, 4, 3, 7, 1, 9, 8]) t.see(seq);
    assert.deepEqual(t.ranges(), [0, 2, 3, 5, 7, 10]);
    assert.equal(rangesSize(t.ranges()), t.unique);
    assert.deepEqual(new SequenceTracker().ranges(), []);
    const late = new SequenceTracker();
    late.see(5);
    assert.deepEqual(late.ranges(), [5, 6]);
  });

  test("a union counts each number once and says how many were on both sides; adjacent ranges join", () => {
    assert.deepEqual(unionRanges([0, 5, 8, 10], [3, 9]), { ranges: [0, 10], overlap: 3 });
    assert.deepEqual(unionRanges([0, 3], [3, 6]), { ranges: [0, 6], overlap: 0 });
    assert.deepEqual(unionRanges([], [2, 4, 6, 7]), { ranges: [2, 4, 6, 7], overlap: 0 });
    assert.deepEqual(unionRanges([1, 2], [1, 2]), { ranges: [1, 2], overlap: 1 });
    assert.equal(rangesBelow([0, 4, 6, 10], 8), 6);
  });

  test("malformed ranges are refused, not merged into wrong counts", () => {
    assert.throws(() => unionRanges([0, 5, 3, 6], []), /bad range \[3, 6\)/);
    assert.throws(() => unionRanges([2, 2], []), /bad range/);
    assert.throws(() => unionRanges([0], []), /pairs/);
  });
});

describe("latency histograms", () => {
  test("a merged histogram equals one histogram fed both sets", () => {
    const a = histogram(0.2, 1, 1.5, 30);
    const b = histogram(0.9, 1, 250);
    const merged = LatencyHistogram.from(a.snapshot());
    merged.merge(b.snapshot());
    const whole = histogram(0.2, 1, 1.5, 30, 0.9, 1, 250);
    assert.deepEqual(merged.snapshot(), whole.snapshot());
    assert.equal(merged.count, 7);
    assert.equal(merged.max, 250);
    assert.equal(merged.quantile(0.5), whole.quantile(0.5));
    assert.deepEqual(JSON.parse(JSON.stringify(merged.snapshot())), whole.snapshot(), "survives JSON");
  });

  test("a bucket outside the histogram is an error", () => {
    assert.throws(() => new LatencyHistogram().merge({ buckets: [[100_000, 1]], count: 1, max: 1 }), /bad histogram bucket/);
  });
});

describe("merging shard reports", () => {
  test("counts add up; devices' losses come from the union of every checker's view; a message two checkers saw is one duplicate", () => {
    // Devices 0-1 in shard 0, 2-3 in shard 1, 4 in shard 2. Checkers in a $share group saw devices of the others.
    const r0 = report({
      shard: 0, first: 0, devices: 2, sentPerDevice: [5, 3],
      counts: counts({ sent: 8, received: 8, connected: 2, maxConnected: 2, cuts: 1, reconnects: 1, wills: 1 }),
      seen: [{ device: 0, ranges: [0, 5], duplicates: 1 }, { device: 2, ranges: [0, 3], duplicates: 0 }],
      latency: histogram(1, 2, 3).snapshot(),
    });
    const r1 = report({
      shard: 1, first: 2, devices: 2, sentPerDevice: [6, 4],
      counts: counts({ sent: 10, received: 9, connected: 2, maxConnected: 2, refusedBudget: 2 }),
      // device 1: 0..2 (its 2 is lost); device 2: 2..5 (2 was also seen by shard 0); device 3: all 4.
      seen: [{ device: 1, ranges: [0, 2], duplicates: 0 }, { device: 2, ranges: [2, 6], duplicates: 0 }, { device: 3, ranges: [0, 4], duplicates: 2 }],
      latency: histogram(4, 500).snapshot(),
    });
    const r2 = report({ shard: 2, first: 4, devices: 1, sentPerDevice: [7], counts: counts({ sent: 7, received: 6 }), seen: [{ device: 4, ranges: [0, 3, 4, 7], duplicates: 0 }] });
    const m = mergeReports([r0, r1, r2], 3);
    assert.equal(m.devices, 5);
    assert.equal(m.counts.sent, 25);
    assert.equal(m.counts.received, 23);
    assert.equal(m.counts.refusedBudget, 2);
    assert.equal(m.counts.maxConnected, 4);
    assert.equal(m.unique, 5 + 2 + 6 + 4 + 6);
    assert.equal(m.lost, 1 + 1, "device 1's seq 2 and device 4's seq 3");
    assert.equal(m.devicesWithLoss, 2);
    assert.equal(m.crossDuplicates, 1, "device 2's seq 2, seen by both checkers");
    assert.equal(m.duplicates, 1 + 2 + 1);
    assert.deepEqual(m.latency, histogram(1, 2, 3, 4, 500).snapshot());
    assert.deepEqual(m.perShard.map((s) => [s.shard, s.state, s.counts.sent, s.unique, s.lost]), [[0, "done", 8, 7, 1], [1, "done", 10, 10, 0], [2, "done", 7, 6, 1]]);
    assert.equal(m.perShard[1]!.latency.max, 500);
    assert.deepEqual(m.problems, []);
    assert.deepEqual(m.overlapping, []);
  });

  test("a shard that died is named with what it had sent; a shard that never reported is missing", () => {
    const r0 = report({ shard: 0, first: 0, devices: 1, sentPerDevice: [4], counts: counts({ sent: 4 }), seen: [{ device: 0, ranges: [0, 4], duplicates: 0 }] });
    const r1 = report({ shard: 1, first: 1, devices: 1, sentPerDevice: [9], state: "died", elapsed: 3.25, phase: "telemetry", counts: counts({ sent: 9 }),
      seen: [{ device: 1, ranges: [0, 8], duplicates: 0 }] });
    const m = mergeReports([r0, r1], 3);
    assert.deepEqual(m.perShard.map((s) => s.state), ["done", "died", "missing"]);
    assert.equal(m.counts.sent, 13);
    assert.equal(m.lost, 1);
    assert.deepEqual(m.problems, [
      "shard 1 died: its last report, 3.3 s into its run (telemetry), had 9 sent by its 1 devices, 8 of them seen",
      "shard 2 of 3 never reported",
    ]);
  });

  test("the latest report of each shard counts; a device run by two shards, and arrivals for nobody's device, are problems", () => {
    const old = report({ shard: 0, first: 0, devices: 1, sentPerDevice: [1], sequence: 1, state: "running", counts: counts({ sent: 1 }) });
    const last = report({ shard: 0, first: 0, devices: 1, sentPerDevice: [3], sequence: 2, counts: counts({ sent: 3 }), seen: [{ device: 0, ranges: [0, 3], duplicates: 0 }] });
    assert.deepEqual(latestReports([last, old]), [last]);
    const twin = report({ shard: 1, first: 0, devices: 1, sentPerDevice: [2], counts: counts({ sent: 2 }), seen: [{ device: 9, ranges: [0, 2], duplicates: 1 }] });
    const m = mergeReports([old, last, twin], 2);
    assert.equal(m.counts.sent, 5);
    assert.equal(m.devices, 1);
    assert.deepEqual(m.overlapping, [0]);
    assert.equal(m.strays, 3);
    assert.equal(m.lost, 0);
    assert.deepEqual(m.problems, ["1 devices run by two shards (e.g. device 0)", "3 arrivals for devices no shard reported"]);
  });

  test("per-second samples add up across shards, with percentiles from the merged histograms", () => {
    const sample = (t: number, sent: number): ShardReport["samples"][number] => ({
      t, phase: "telemetry", connected: 2, sentPerSec: sent, receivedPerSec: sent, gaps: 0, duplicates: 0, p50: NaN, p99: NaN, heapPerDevice: 1000, buffersPerDevice: 100, rss: 50,
    });
    const r0 = report({ shard: 0, first: 0, devices: 1, sentPerDevice: [0], samples: [sample(1, 10), sample(2, 20)], windows: [histogram(1).snapshot(), histogram(2).snapshot()] });
    const r1 = report({ shard: 1, first: 1, devices: 3, sentPerDevice: [0, 0, 0], samples: [sample(1, 5)], windows: [histogram(100).snapshot()] });
    const m = mergeReports([r0, r1], 2);
    assert.deepEqual(m.samples.map((s) => [s.t, s.sentPerSec, s.connected, s.rss, s.heapPerDevice]), [[1, 15, 4, 100, 1000], [2, 20, 2, 50, 1000]]);
    assert.equal(m.samples[0]!.p99, histogram(1, 100).quantile(0.99));
  });
});
