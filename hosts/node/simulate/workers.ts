/**
 * `tinymqtt simulate --workers N`: the fleet split into N slices, each run by a child process of its own
 * (worker-main.ts) with its own checker subscribed to its slice's topics, so every message is counted by
 * exactly one checker and each process uses its own core. This process starts the in-process broker when
 * no --broker is given, starts the workers' telemetry together once every ramp is done, prints one live
 * line for the whole fleet from the workers' reports (one a second each), and merges their last reports
 * (merge.ts) into one result with each worker's share. A worker that exits without its final report is
 * reported as died, with its last report's figures.
 */
import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { type BrokerHandle, parseBrokerUrls, startAedesWorker } from "./broker.js";
import { type PartsResult, partsResult } from "./fleet-result.js";
import { LatencyHistogram } from "./stats.js";
import type { ShardReport } from "./merge.js";
import { type ProgressOut, type Sample, printProgress, progressLine } from "./sampler.js";
import { type SimulateOptions, settings, sliceOf } from "./run.js";
import type { FromWorker, ToWorker } from "./worker-main.js";

export interface WorkersOptions extends SimulateOptions {
  workers: number;
}

const PHASES: Sample["phase"][] = ["connect", "telemetry", "drain"];
/** Beyond its own bounds (ramp, duration, drain), how long a worker may take before it is killed and reported as died. */
const GRACE_SECONDS = 60;

/** The fleet's live sample: the workers' last whole seconds added up, percentiles from their merged histograms. */
export function liveSample(latest: ShardReport[]): { sample: Sample; cuts: number } | undefined {
  const last = latest.filter((r) => r.samples.length > 0);
  if (last.length === 0) return undefined;
  const window = new LatencyHistogram();
  const sample: Sample = { t: 0, phase: "drain", connected: 0, sentPerSec: 0, receivedPerSec: 0, gaps: 0, duplicates: 0, p50: NaN, p99: NaN,
    heapPerDevice: 0, buffersPerDevice: 0, rss: 0 };
  let cuts = 0;
  for (const r of last) {
    const s = r.samples[r.samples.length - 1]!;
    const w = r.windows[r.windows.length - 1];
    if (w !== undefined) window.merge(w);
    sample.t = Math.max(sample.t, s.t);
    if (PHASES.indexOf(s.phase) < PHASES.indexOf(sample.phase)) sample.phase = s.phase;
    sample.connected += r.counts.connected;
    sample.sentPerSec += s.sentPerSec;
    sample.receivedPerSec += s.receivedPerSec;
    sample.gaps += s.gaps;
    sample.duplicates += s.duplicates;
    sample.rss += s.rss;
    cuts += r.counts.cuts;
  }
  sample.p50 = window.quantile(0.5);
  sample.p99 = window.quantile(0.99);
  return { sample, cuts };
}

interface Worker {
  index: number;
  child: ChildProcess;
  latest: ShardReport | undefined;
  ready: boolean;
  exited: boolean;
  error: string | undefined;
}

export async function runWorkers(opts: WorkersOptions): Promise<PartsResult> {
  const s = settings(opts);
  if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new RangeError(`workers must be a positive integer, got ${String(opts.workers)}`);
  const n = Math.min(opts.workers, s.devices);
  const runId = randomBytes(4).toString("hex");
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const brokers: BrokerHandle[] = opts.broker === undefined ? [await startAedesWorker()] : parseBrokerUrls(opts.broker);
  const broker = brokers[0]!;
  const out: ProgressOut = opts.out ?? process.stdout;
  const workers: Worker[] = [];
  let timer: ReturnType<typeof setInterval> | undefined;
  let killer: ReturnType<typeof setTimeout> | undefined;
  const brokerHeap: { idle: number | undefined; loaded: number | undefined } = { idle: undefined, loaded: undefined };
  try {
    const { budget, qos, rate, duration, cutRate, connectBatch, keepalive, drainTimeout } = s;
    const exited: Array<Promise<void>> = [];
    let allReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => (allReady = resolve));
    const checkReady = (): void => {
      if (workers.every((w) => w.ready || w.exited)) allReady();
    };
    for (let k = 0; k < n; k++) {
      const slice = sliceOf(s.devices, k, n);
      const child = fork(new URL("./worker-main.js", import.meta.url), [], {
        serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv: [...process.execArgv.filter((a) => a !== "--expose-gc"), "--expose-gc"],
      });
      const w: Worker = { index: k, child, latest: undefined, ready: false, exited: false, error: undefined };
      workers.push(w);
      child.on("message", (m: FromWorker) => {
        if (m.type === "report") w.latest = m.report;
        else if (m.type === "error") w.error = m.message;
        else if (m.type === "ready") {
          w.ready = true;
          checkReady();
        }
      });
      exited.push(new Promise<void>((resolve) => child.once("exit", () => {
        w.exited = true;
        checkReady();
        resolve();
      })));
      const start: ToWorker = {
        type: "start", part: { runId, index: k, of: n, first: slice.first, fleetSize: s.devices },
        options: { devices: slice.count, rate, duration, qos, cutRate: cutRate / n, connectBatch: Math.max(1, Math.ceil(connectBatch / n)), keepalive, budget,
          drainTimeout, broker: opts.broker ?? `mqtt://${broker.host.includes(":") ? `[${broker.host}]` : broker.host}:${broker.port}`, share: opts.share, auth: opts.auth,
          progressEvery: s.progressEvery },
      };
      child.send(start);
    }
    let lastPrinted = -Infinity;
    timer = setInterval(() => {
      const live = liveSample(workers.flatMap((w) => (w.latest === undefined ? [] : [w.latest])));
      if (live !== undefined) lastPrinted = printProgress(out, progressLine(live.sample, live.sample.t, s.devices, live.cuts), live.sample.t, lastPrinted, s.progressEvery);
    }, 1000);
    // Every worker bounds its own run; this bounds a worker that hangs anyway.
    const bound = (10 + s.devices * 0.01 + s.duration + s.drainTimeout + GRACE_SECONDS) * 1000;
    killer = setTimeout(() => {
      for (const w of workers) if (!w.exited) w.child.kill("SIGKILL");
    }, bound);
    await ready;
    brokerHeap.idle = await broker.heapUsed();
    for (const w of workers) if (!w.exited) w.child.send({ type: "go" } satisfies ToWorker);
    await Promise.all(exited);
    brokerHeap.loaded = await broker.heapUsed();
  } finally {
    clearInterval(timer);
    clearTimeout(killer);
    for (const w of workers) if (!w.exited) w.child.kill("SIGKILL");
    if (out.isTTY === true) out.write("\n");
    await broker.stop();
  }
  const errors = workers.filter((w) => w.error !== undefined);
  // A worker that could not even start (no report at all): its error is the reason, as in one process.
  if (errors.length > 0 && workers.every((w) => w.latest === undefined)) throw new Error(errors[0]!.error);
  const reports = workers.flatMap((w) => {
    if (w.latest === undefined) return [];
    return [w.latest.state === "done" ? w.latest : { ...w.latest, state: "died" as const, problems: [...w.latest.problems, ...(w.error === undefined ? [] : [w.error])] }];
  });
  return partsResult(reports, n, {
    partName: "worker", runId, startedAt, options: { ...s, broker: brokers.map((b) => b.describe).join(", ") }, totalSeconds: (performance.now() - t0) / 1000, brokerHeap,
  });
}
