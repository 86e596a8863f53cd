/**
 * One SimulationResult for a fleet run in parts (worker processes, or shards collected from the broker):
 * the merged reports (merge.ts) in the shape the summary and the HTML report print, with each part's share.
 */
import type { MergedReport, ShardMemory, ShardReport, ShardShare } from "./merge.js";
import { mergeReports } from "./merge.js";
import type { Memory, SimulationResult } from "./run.js";
import { LatencyHistogram } from "./stats.js";

export interface PartsResult extends SimulationResult {
  /** "worker" for `--workers`, "shard" for `--collect`. */
  partName: "worker" | "shard";
  shares: ShardShare[];
  /** Messages two checkers both saw (each also counted in duplicates). */
  crossDuplicates: number;
}

export interface PartsRun {
  partName: PartsResult["partName"];
  runId: string;
  startedAt: string;
  /** What the result's options say: the fleet's settings, the broker described. */
  options: SimulationResult["options"];
  totalSeconds: number;
  /** The in-process broker's heap (idle, loaded) when it ran in the coordinating process. */
  brokerHeap: { idle: number | undefined; loaded: number | undefined };
}

/** Per-device figures weighted by each part's devices; the RSS is the sum of the parts' processes. */
function memoryOf(reports: ShardReport[], pick: (r: ShardReport) => ShardMemory | undefined, brokerHeap: number | undefined): Memory {
  let devices = 0;
  let heap = 0;
  let buffers = 0;
  let rss = 0;
  for (const r of reports) {
    const m = pick(r);
    if (m === undefined) continue;
    devices += r.devices;
    heap += m.heapPerDevice * r.devices;
    buffers += m.buffersPerDevice * r.devices;
    rss += m.rss;
  }
  return devices === 0 ? { perDevice: { heap: NaN, buffers: NaN }, rss: NaN, brokerHeap }
    : { perDevice: { heap: heap / devices, buffers: buffers / devices }, rss, brokerHeap };
}

export function partsResult(reports: ShardReport[], parts: number, run: PartsRun): PartsResult {
  const m: MergedReport = mergeReports(reports, parts, run.partName);
  const latest = m.perShard.map((s) => reports.filter((r) => r.shard === s.shard).sort((a, b) => b.sequence - a.sequence)[0]).filter((r) => r !== undefined);
  const o = run.options;
  const c = m.counts;
  const telemetrySeconds = Math.max(0, ...latest.map((r) => r.telemetrySeconds));
  const problems = [...m.problems];
  if (o.qos > 0 && m.lost > 0) problems.push(`${m.lost} QoS ${o.qos} messages lost (${c.unfinished} flows unfinished at the end)`);
  if (o.qos === 2 && m.duplicates > 0) problems.push(`${m.duplicates} QoS 2 messages delivered twice`);
  if (c.maxConnected === 0) problems.push("no device connected");
  const latency = LatencyHistogram.from(m.latency);
  return {
    partName: run.partName, shares: m.perShard, crossDuplicates: m.crossDuplicates,
    options: o, runId: run.runId, startedAt: run.startedAt, node: process.version,
    rampSeconds: Math.max(0, ...latest.map((r) => r.rampSeconds)), telemetrySeconds, totalSeconds: run.totalSeconds,
    maxConnected: c.maxConnected, connectedAtEnd: c.connected, connectFailures: c.connectFailures, cuts: c.cuts,
    cutsPerSecond: telemetrySeconds > 0 ? c.cuts / telemetrySeconds : 0, reconnects: c.reconnects, willsReceived: c.wills,
    // The reports carry no per-device open flows: the flows still open are counted as the unacknowledged losses, at most.
    lostUnacknowledged: Math.min(m.lost, c.unfinished), lostAcknowledged: m.lost - Math.min(m.lost, c.unfinished), brokers: o.broker.split(", ").length,
    sent: c.sent, skippedOffline: c.skippedOffline, refusedBudget: c.refusedBudget, unfinished: c.unfinished, received: m.received,
    unique: m.unique, lost: m.lost, duplicates: m.duplicates, devicesWithLoss: m.devicesWithLoss,
    latency: { p50: latency.quantile(0.5), p99: latency.quantile(0.99), max: latency.max, count: latency.count },
    memoryIdle: memoryOf(latest, (r) => r.memoryIdle, run.brokerHeap.idle),
    memoryLoaded: memoryOf(latest, (r) => r.memoryLoaded, run.brokerHeap.loaded),
    gcAvailable: true, samples: m.samples, ok: problems.length === 0, problems,
  };
}
