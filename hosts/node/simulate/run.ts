/**
 * `tinymqtt simulate`: N simulated sensors in this process (fleet.ts), publishing telemetry at R messages
 * per second with link cuts at random (traffic.ts), against one broker (broker.ts); one checker client
 * (checker.ts) counts per device what arrived, what arrived twice and what never arrived, from the
 * sequence numbers in the payloads (payload.ts).
 *
 * Steps: the checker subscribes; the fleet connects (at most connectBatch attempts at once); telemetry for
 * `duration` seconds; drain (no more publishes or cuts; wait, bounded, for what is still on its way); the
 * results; disconnect. A sample is taken every second for the progress line and the report (sampler.ts).
 */
import { randomBytes } from "node:crypto";
import { type Budget, ESP32_BUDGET, type QoS } from "../index.js";
import { type BrokerHandle, parseBrokerUrls, startAedesWorker } from "./broker.js";
import { Checker } from "./checker.js";
import { Fleet } from "./fleet.js";
import { type PerDevice, type ThreadMemory, findGc, perDevice, settledMemory } from "./memory.js";
import type { ShardReport } from "./merge.js";
import { type ProgressOut, type Sample, Sampler } from "./sampler.js";
import { type Progress, buildReport } from "./shard-report.js";
import { drain, telemetry } from "./traffic.js";

export type { Sample } from "./sampler.js";

export interface SimulateOptions {
  /** How many simulated devices. */
  devices: number;
  /** Telemetry messages per second per device (0: devices only connect). */
  rate: number;
  /** Seconds of telemetry. */
  duration: number;
  qos?: QoS;
  /** mqtt://host:port, or a cluster's nodes comma-separated; default an in-process aedes broker. */
  broker?: string | undefined;
  /** With several brokers: the checker's ears form a $share group (for clusters that offer shared subscriptions). */
  share?: boolean | undefined;
  /** Credentials for every client of the run (ejabberd's anonymous logins want a non-empty password). */
  auth?: Auth | undefined;
  /** Link cuts per second across all devices; default devices / 50 (each device about once a minute), at least 0.5; 0: none. */
  cutRate?: number | undefined;
  /** Connection attempts in flight at once during the ramp; default 200. */
  connectBatch?: number;
  /** Devices' keepalive in seconds; default 60. */
  keepalive?: number;
  /** The devices' budget; default ESP32_BUDGET. */
  budget?: Partial<Budget>;
  /** Seconds to wait for the last messages after telemetry stops; default 10. */
  drainTimeout?: number;
  /** Where progress goes: a TTY gets one live line, anything else a plain line every `progressEvery` s. */
  out?: ProgressOut;
  progressEvery?: number;
  /** This process runs one part of a larger fleet (a worker of `--workers`, or a `--shard`); default the whole fleet. */
  part?: Part | undefined;
  /** Called with this process's report after every sample (each second) and once at its end. */
  onReport?: ((report: ShardReport) => void) | undefined;
  /** Awaited after the ramp, before the telemetry (so that workers start their telemetry together). */
  beforeTelemetry?: (() => Promise<void>) | undefined;
}

/** Part `index` of `of`: devices first .. first + devices - 1 of a fleet of fleetSize, in the run runId. */
export interface Part {
  runId: string;
  index: number;
  of: number;
  first: number;
  fleetSize: number;
}

/** Devices first .. first + count - 1 are part `index` of a fleet of `fleetSize` split into `of` parts as evenly as can be. */
export function sliceOf(fleetSize: number, index: number, of: number): { first: number; count: number } {
  const first = Math.floor((index * fleetSize) / of);
  return { first, count: Math.floor(((index + 1) * fleetSize) / of) - first };
}

export interface Auth {
  username: string;
  password: string;
}

type Settings = Required<Omit<SimulateOptions, "broker" | "out" | "budget" | "part" | "onReport" | "beforeTelemetry" | "share" | "auth">> & { budget: Budget };

/** Memory at one point of the run (memory.ts says what each figure is). */
export interface Memory {
  /** The clients' share per device, after a full GC when gcAvailable. */
  perDevice: PerDevice;
  /** The whole process's RSS, bytes. */
  rss: number;
  /** The in-process broker thread's V8 heap in use, bytes; undefined with --broker. */
  brokerHeap: number | undefined;
}

export interface SimulationResult {
  options: Settings & { broker: string };
  runId: string;
  startedAt: string;
  node: string;
  /** Seconds: the connection ramp, the telemetry, the whole run. */
  rampSeconds: number;
  telemetrySeconds: number;
  totalSeconds: number;
  maxConnected: number;
  connectedAtEnd: number;
  connectFailures: number;
  cuts: number;
  /** Cuts made per second of telemetry (the options' cutRate is what was asked for). */
  cutsPerSecond: number;
  reconnects: number;
  willsReceived: number;
  /** Publishes the devices' clients accepted. */
  sent: number;
  /** QoS 0 publishes not made because the device was offline (MQTT_ERR_NO_CONN). */
  skippedOffline: number;
  /** Publishes refused because the device's budget was full (MQTT_ERR_QUEUE_SIZE). */
  refusedBudget: number;
  /** QoS 1/2 publishes whose flow had not completed when the run ended. */
  unfinished: number;
  /**
   * The lost messages split by whose they are: never acknowledged to the device when the run ended (the
   * client's), or acknowledged by a broker and delivered to no checker (the broker's or cluster's).
   */
  lostUnacknowledged: number;
  lostAcknowledged: number;
  /** How many brokers (a cluster's nodes) the fleet ran against. */
  brokers: number;
  received: number;
  unique: number;
  lost: number;
  duplicates: number;
  /** Devices that lost at least one message. */
  devicesWithLoss: number;
  latency: { p50: number; p99: number; max: number; count: number };
  /** Idle after the ramp, and at the end of the drain. */
  memoryIdle: Memory;
  memoryLoaded: Memory;
  gcAvailable: boolean;
  samples: Sample[];
  /** QoS 1/2 must not lose (nor duplicate at QoS 2); QoS 0 may lose on link cuts. */
  ok: boolean;
  problems: string[];
}

export function settings(opts: SimulateOptions): Settings {
  const n = opts.devices;
  const qos = opts.qos ?? 0;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`devices must be a positive integer, got ${String(n)}`);
  if (!(opts.rate >= 0) || !Number.isFinite(opts.rate)) throw new RangeError(`rate must be a number >= 0, got ${String(opts.rate)}`);
  if (!(opts.duration >= 0) || !Number.isFinite(opts.duration)) throw new RangeError(`duration must be a number of seconds >= 0, got ${String(opts.duration)}`);
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new RangeError(`qos must be 0, 1 or 2, got ${String(qos)}`);
  const cutRate = opts.cutRate ?? Math.max(0.5, n / 50);
  if (!(cutRate >= 0)) throw new RangeError(`cut rate must be >= 0, got ${String(cutRate)}`);
  return {
    devices: n, rate: opts.rate, duration: opts.duration, qos, cutRate, connectBatch: opts.connectBatch ?? 200,
    keepalive: opts.keepalive ?? 60, budget: { ...ESP32_BUDGET, ...opts.budget }, drainTimeout: opts.drainTimeout ?? 10,
    progressEvery: opts.progressEvery ?? (opts.duration > 60 ? 5 : 1),
  };
}

export async function runSimulation(opts: SimulateOptions): Promise<SimulationResult> {
  const s = settings(opts);
  const part = opts.part;
  const runId = part?.runId ?? randomBytes(4).toString("hex");
  // A part's devices publish under a base of its own, so that its checker subscribes to its devices alone.
  const base = part === undefined ? `tinymqtt/sim/${runId}` : `tinymqtt/sim/${runId}/${part.index}`;
  const first = part?.first ?? 0;
  const startedAt = new Date().toISOString();
  const brokers: BrokerHandle[] = opts.broker === undefined ? [await startAedesWorker()] : parseBrokerUrls(opts.broker);
  const broker = brokers[0]!;
  const checker = new Checker(part?.fleetSize ?? s.devices, runId, part === undefined ? "checker" : `checker-${part.index}`, opts.share === true, opts.auth);
  let fleet: Fleet | undefined;
  let sampler: Sampler | undefined;
  try {
    await checker.start(brokers, base, s.qos);
    const gc = findGc();
    const baseline = await settledMemory(gc);
    fleet = new Fleet({ devices: s.devices, first, qos: s.qos, budget: s.budget, keepalive: s.keepalive, base, runId, auth: opts.auth }, brokers);
    sampler = new Sampler(fleet, checker, opts.out ?? process.stdout, s.progressEvery);
    sampler.baseline = baseline;
    const progress: Progress = { rampSeconds: 0, telemetrySeconds: 0, memoryIdle: undefined, memoryLoaded: undefined };
    const onReport = opts.onReport;
    const report = (state: ShardReport["state"]): ShardReport =>
      buildReport({ runId, part: part ?? { runId, index: 0, of: 1, first: 0, fleetSize: s.devices }, state, fleet: fleet!, checker, sampler: sampler!, progress });
    if (onReport !== undefined) sampler.onSample = () => onReport(report("running"));
    sampler.start();
    const steps = await runSteps(s, fleet, checker, sampler, broker, gc, baseline, progress, opts.beforeTelemetry);
    sampler.finish();
    const result = results(s, { runId, startedAt, brokers, fleet, checker, sampler, gcAvailable: gc !== undefined, ...steps });
    onReport?.(report("done"));
    return result;
  } finally {
    sampler?.finish();
    await fleet?.stop();
    await checker.stop();
    await broker.stop();
  }
}

interface Steps {
  rampSeconds: number;
  telemetrySeconds: number;
  memoryIdle: Memory;
  memoryLoaded: Memory;
  connectedAtEnd: number;
}

/**
 * Ramp, telemetry and drain, with the memory measured idle (after the ramp) and loaded (after the drain);
 * each figure also goes into `progress` as soon as it is known, for the reports made meanwhile.
 */
async function runSteps(s: Settings, fleet: Fleet, checker: Checker, sampler: Sampler, broker: BrokerHandle,
  gc: (() => void) | undefined, baseline: ThreadMemory, progress: Progress, beforeTelemetry: (() => Promise<void>) | undefined): Promise<Steps> {
  const measure = async (): Promise<Memory> => {
    const m = await settledMemory(gc);
    return { perDevice: perDevice(m, baseline, s.devices), rss: m.rss, brokerHeap: await broker.heapUsed() };
  };
  const rampSeconds = await fleet.ramp(s.connectBatch);
  progress.rampSeconds = rampSeconds;
  const memoryIdle = await measure();
  progress.memoryIdle = memoryIdle;
  await beforeTelemetry?.();
  sampler.phase = "telemetry";
  const run = telemetry(fleet, s.rate, s.duration, s.cutRate);
  let telemetrySeconds: number;
  try {
    telemetrySeconds = await run.done;
  } finally {
    run.stop();
  }
  progress.telemetrySeconds = telemetrySeconds;
  sampler.phase = "drain";
  await drain(fleet, checker, s.qos, s.drainTimeout);
  const memoryLoaded = await measure();
  progress.memoryLoaded = memoryLoaded;
  return { rampSeconds, telemetrySeconds, memoryIdle, memoryLoaded, connectedAtEnd: fleet.connected };
}

interface Run extends Steps {
  runId: string;
  startedAt: string;
  brokers: BrokerHandle[];
  fleet: Fleet;
  checker: Checker;
  sampler: Sampler;
  gcAvailable: boolean;
}

/** The checker's counts against what each device sent, and the verdict. */
function results(s: Settings, r: Run): SimulationResult {
  const { fleet, checker } = r;
  let lost = 0;
  let lostUnacknowledged = 0;
  let devicesWithLoss = 0;
  for (const device of fleet.devices) {
    const missing = device.seq - checker.uniqueOf(device.index);
    lost += missing;
    // Whatever is missing beyond the flows still open was acknowledged by a broker.
    lostUnacknowledged += Math.min(missing, Math.max(0, device.pending));
    if (missing > 0) devicesWithLoss++;
  }
  const lostAcknowledged = lost - lostUnacknowledged;
  const duplicates = checker.duplicates();
  const unfinished = fleet.pending();
  const problems = [...fleet.problems];
  const cluster = r.brokers.length > 1;
  // Against a cluster, what a dead node took with it is the cluster's loss: reported apart, not the client's failure.
  if (s.qos > 0 && (cluster ? lostUnacknowledged : lost) > 0) {
    problems.push(`${cluster ? lostUnacknowledged : lost} QoS ${s.qos} messages lost${cluster ? " by the client (never acknowledged)" : ""} (${unfinished} flows unfinished at the end)`);
  }
  if (s.qos === 2 && duplicates > 0) problems.push(`${duplicates} QoS 2 messages delivered twice`);
  if (fleet.maxConnected === 0) problems.push("no device connected");
  const { total } = checker;
  return {
    options: { ...s, broker: r.brokers.map((b) => b.describe).join(", ") }, brokers: r.brokers.length, runId: r.runId, startedAt: r.startedAt, node: process.version,
    rampSeconds: r.rampSeconds, telemetrySeconds: r.telemetrySeconds, totalSeconds: r.sampler.seconds(),
    maxConnected: fleet.maxConnected, connectedAtEnd: r.connectedAtEnd, connectFailures: fleet.connectFailures, cuts: fleet.cuts,
    cutsPerSecond: r.telemetrySeconds > 0 ? fleet.cuts / r.telemetrySeconds : 0, reconnects: fleet.reconnects, willsReceived: checker.wills,
    sent: fleet.sent, skippedOffline: fleet.skippedOffline, refusedBudget: fleet.refusedBudget, unfinished, lostUnacknowledged, lostAcknowledged, received: checker.received,
    unique: checker.unique(), lost, duplicates, devicesWithLoss,
    latency: { p50: total.quantile(0.5), p99: total.quantile(0.99), max: total.max, count: total.count },
    memoryIdle: r.memoryIdle, memoryLoaded: r.memoryLoaded, gcAvailable: r.gcAvailable,
    samples: r.sampler.samples, ok: problems.length === 0, problems,
  };
}
