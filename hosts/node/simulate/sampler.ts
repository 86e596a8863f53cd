/**
 * One sample per whole second of the run, for the progress line and the report's charts. A sample covers
 * exactly one second: the last, partial second of a run is printed on the progress line but not kept, so
 * the charts show no false drop in the rate (nor a spike in latency) at the end.
 */
import { performance } from "node:perf_hooks";
import type { Checker } from "./checker.js";
import type { Fleet } from "./fleet.js";
import { type ThreadMemory, perDevice, threadMemory } from "./memory.js";
import type { HistogramSnapshot } from "./stats.js";

/** One second of the run. */
export interface Sample {
  /** Whole seconds since the devices started connecting. */
  t: number;
  phase: "connect" | "telemetry" | "drain";
  connected: number;
  sentPerSec: number;
  receivedPerSec: number;
  /** Gaps in the sequences seen so far (a late re-send may still fill one), and duplicates, cumulative. */
  gaps: number;
  duplicates: number;
  p50: number;
  p99: number;
  /** The clients' V8 heap and array buffers per device, as in the summary (memory.ts), though not after a GC. */
  heapPerDevice: number;
  buffersPerDevice: number;
  /** The whole process's RSS, bytes. */
  rss: number;
}

export interface ProgressOut { write(text: string): unknown; isTTY?: boolean }

const SAMPLE_MS = 1000;

export class Sampler {
  readonly samples: Sample[] = [];
  /** Each kept sample's latency histogram, for merging several processes' samples (merge.ts). */
  readonly windows: HistogramSnapshot[] = [];
  /** Called after each sample, kept or not. */
  onSample: (() => void) | undefined;
  phase: Sample["phase"] = "connect";
  private readonly t0 = performance.now();
  private lastSent = 0;
  private lastReceived = 0;
  private lastPrinted = -Infinity;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** The memory the clients' share is measured from; set once the baseline is taken. */
  baseline: ThreadMemory | undefined;

  constructor(private readonly fleet: Fleet, private readonly checker: Checker, private readonly out: ProgressOut,
    private readonly progressEvery: number) {}

  start(): void {
    this.timer = setInterval(() => this.take(true), SAMPLE_MS);
  }

  /** The last, partial second: printed, not kept. Stops the timer; once only. */
  finish(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.take(false);
    if (this.out.isTTY === true) this.out.write("\n");
  }

  seconds(): number {
    return (performance.now() - this.t0) / 1000;
  }

  private take(keep: boolean): void {
    const { fleet, checker } = this;
    const m = threadMemory();
    const share = this.baseline === undefined ? { heap: 0, buffers: 0 } : perDevice(m, this.baseline, fleet.devices.length);
    const s: Sample = {
      t: Math.round(this.seconds()), phase: this.phase, connected: fleet.connected,
      sentPerSec: fleet.sent - this.lastSent, receivedPerSec: checker.received - this.lastReceived,
      gaps: checker.gaps(), duplicates: checker.duplicates(), p50: checker.window.quantile(0.5), p99: checker.window.quantile(0.99),
      heapPerDevice: share.heap, buffersPerDevice: share.buffers, rss: m.rss,
    };
    this.lastSent = fleet.sent;
    this.lastReceived = checker.received;
    if (keep) {
      this.samples.push(s);
      this.windows.push(checker.window.snapshot());
    }
    checker.window.reset();
    const t = keep ? s.t : this.seconds();
    this.lastPrinted = printProgress(this.out, progressLine(s, t, this.fleet.devices.length, this.fleet.cuts), t, this.lastPrinted, this.progressEvery);
    this.onSample?.();
  }
}

/** The live line: one sample of the run (t in seconds). */
export function progressLine(s: Sample, t: number, devices: number, cuts: number): string {
  const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : "-");
  return `[${t.toFixed(0).padStart(4)} s] ${s.phase.padEnd(9)} connected ${s.connected}/${devices}  sent ${s.sentPerSec}/s` +
    `  received ${s.receivedPerSec}/s  lost ${s.gaps}  duplicates ${s.duplicates}  p50 ${fmt(s.p50)} ms  p99 ${fmt(s.p99)} ms  cuts ${cuts}`;
}

/** A TTY gets the line in place; anything else a plain line every progressEvery seconds. Returns when a plain line was last printed. */
export function printProgress(out: ProgressOut, line: string, t: number, lastPrinted: number, progressEvery: number): number {
  if (out.isTTY === true) {
    out.write(`\r\x1b[2K${line}`);
    return lastPrinted;
  }
  if (t - lastPrinted < progressEvery - 0.05) return lastPrinted;
  out.write(`${line}\n`);
  return t;
}
