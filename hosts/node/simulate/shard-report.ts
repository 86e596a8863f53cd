/**
 * A running simulation's report of itself (merge.ts's ShardReport): what its fleet sent per device, what
 * its checker saw per device, its counters, histograms and samples so far. A worker sends it to its parent
 * each second; a `--shard` publishes it to the broker (shard-channel.ts).
 */
import type { Checker } from "./checker.js";
import type { Fleet } from "./fleet.js";
import type { ShardMemory, ShardReport } from "./merge.js";
import type { Memory, Part } from "./run.js";
import type { Sampler } from "./sampler.js";

/** The figures a run learns as it goes (run.ts fills them in). */
export interface Progress {
  rampSeconds: number;
  telemetrySeconds: number;
  memoryIdle: Memory | undefined;
  memoryLoaded: Memory | undefined;
}

export interface ReportSource {
  runId: string;
  part: Part;
  state: ShardReport["state"];
  fleet: Fleet;
  checker: Checker;
  sampler: Sampler;
  progress: Progress;
}

const memoryOf = (m: Memory | undefined): ShardMemory | undefined =>
  m === undefined ? undefined : { heapPerDevice: m.perDevice.heap, buffersPerDevice: m.perDevice.buffers, rss: m.rss };

let sequence = 0;

export function buildReport(r: ReportSource): ShardReport {
  const { fleet, checker, sampler, progress } = r;
  const seen = checker.seen();
  return {
    run: r.runId, shard: r.part.index, shards: r.part.of, first: r.part.first, devices: fleet.devices.length, state: r.state,
    sequence: sequence++, elapsed: sampler.seconds(), phase: sampler.phase,
    counts: {
      sent: fleet.sent, skippedOffline: fleet.skippedOffline, refusedBudget: fleet.refusedBudget, unfinished: fleet.pending(), received: checker.received,
      wills: checker.wills, connected: fleet.connected, maxConnected: fleet.maxConnected, connectFailures: fleet.connectFailures, cuts: fleet.cuts,
      reconnects: fleet.reconnects,
    },
    sentPerDevice: fleet.devices.map((d) => d.seq), seen, latency: checker.total.snapshot(),
    samples: sampler.samples.slice(), windows: sampler.windows.slice(),
    rampSeconds: progress.rampSeconds, telemetrySeconds: progress.telemetrySeconds,
    memoryIdle: memoryOf(progress.memoryIdle), memoryLoaded: memoryOf(progress.memoryLoaded), problems: fleet.problems.slice(),
  };
}
