/**
 * `tinymqtt simulate`: N simulated sensors in this process, each a full Client with the ESP32 budget and a
 * will, publishing telemetry at R messages per second, with link cuts at random (a device's socket is
 * destroyed; the device reconnects by itself through loopStart and its reconnect delay). One checker
 * client subscribes to every device's topic and counts, per device, what arrived, what arrived twice and
 * what never arrived, from the sequence numbers in the payloads.
 *
 * Phases: connect (at most connectBatch attempts at once), telemetry for `duration` seconds, drain (no
 * more publishes or cuts; wait, bounded, for what is still on its way), disconnect. A sample is taken
 * every second for the progress line and the report's charts.
 *
 * Payload (16 bytes, big-endian): device index u32, sequence u32, sent-at f64 (performance.now() of this
 * process, so the checker's latency needs no clock sync).
 *
 * Sessions: at QoS 1 and 2 a link cut must lose nothing, so devices keep a session (cleanSession false,
 * with client ids unique to the run); at QoS 0 they start clean. The checker starts clean and is never cut.
 */
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { type Budget, Client, ESP32_BUDGET, MQTT_ERR_NO_CONN, MQTT_ERR_QUEUE_SIZE, MQTT_ERR_SUCCESS, type QoS } from "../index.js";
import { type BrokerHandle, parseBrokerUrl, startAedesWorker } from "./broker.js";
import { LatencyHistogram, SequenceTracker } from "./stats.js";

export interface SimulateOptions {
  /** How many simulated devices. */
  devices: number;
  /** Telemetry messages per second per device (0: devices only connect). */
  rate: number;
  /** Seconds of telemetry. */
  duration: number;
  qos?: QoS;
  /** mqtt://host:port; default an in-process aedes broker. */
  broker?: string | undefined;
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
  out?: { write(text: string): unknown; isTTY?: boolean };
  progressEvery?: number;
}

/** One second of the run. */
export interface Sample {
  /** Seconds since the devices started connecting. */
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
  /** V8 heap of this thread / devices, array buffers / devices, and process RSS / devices, in bytes. */
  heapPerDevice: number;
  buffersPerDevice: number;
  rssPerDevice: number;
}

export interface Memory {
  heapUsed: number;
  arrayBuffers: number;
  rss: number;
}

export interface SimulationResult {
  options: Required<Omit<SimulateOptions, "broker" | "out" | "budget">> & { broker: string; budget: Budget };
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
  received: number;
  unique: number;
  lost: number;
  duplicates: number;
  /** Devices that lost at least one message. */
  devicesWithLoss: number;
  latency: { p50: number; p99: number; max: number; count: number };
  /** Per connected device, measured after a full GC: idle after the ramp, and at the end of the telemetry. */
  memoryIdle: Memory;
  memoryLoaded: Memory;
  gcAvailable: boolean;
  samples: Sample[];
  /** QoS 1/2 must not lose (nor duplicate at QoS 2); QoS 0 may lose on link cuts. */
  ok: boolean;
  problems: string[];
}

interface Device {
  index: number;
  client: Client;
  topic: string;
  seq: number;
  connected: boolean;
  started: boolean;
  /** Its first attempt ended (connected or failed): the ramp starts the next device then. */
  attempted: boolean;
  everConnected: boolean;
  /** QoS 1/2 publishes accepted and not yet complete. */
  pending: number;
}

const SAMPLE_MS = 1000;
const TICK_MS = 20;
const PAYLOAD_BYTES = 16;

/** gc() when the process was started with --expose-gc, or can still be given it. */
function findGc(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed !== undefined) return exposed;
  try {
    v8.setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function memory(): Memory {
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, rss: m.rss };
}

export async function runSimulation(opts: SimulateOptions): Promise<SimulationResult> {
  const n = opts.devices;
  const qos = opts.qos ?? 0;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`devices must be a positive integer, got ${String(n)}`);
  if (!(opts.rate >= 0) || !Number.isFinite(opts.rate)) throw new RangeError(`rate must be a number >= 0, got ${String(opts.rate)}`);
  if (!(opts.duration >= 0) || !Number.isFinite(opts.duration)) throw new RangeError(`duration must be a number of seconds >= 0, got ${String(opts.duration)}`);
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new RangeError(`qos must be 0, 1 or 2, got ${String(qos)}`);
  const cutRate = opts.cutRate ?? Math.max(0.5, n / 50);
  if (!(cutRate >= 0)) throw new RangeError(`cut rate must be >= 0, got ${String(cutRate)}`);
  const connectBatch = opts.connectBatch ?? 200;
  const keepalive = opts.keepalive ?? 60;
  const budget: Budget = { ...ESP32_BUDGET, ...opts.budget };
  const drainTimeout = opts.drainTimeout ?? 10;
  const out = opts.out ?? process.stdout;
  const tty = out.isTTY === true;
  const progressEvery = opts.progressEvery ?? (opts.duration > 60 ? 5 : 1);

  const gc = findGc();
  const settle = async (): Promise<Memory> => {
    if (gc !== undefined) for (let i = 0; i < 3; i++) { gc(); await sleep(10); }
    return memory();
  };

  const runId = randomBytes(4).toString("hex");
  const base = `tinymqtt/sim/${runId}`;
  const startedAt = new Date().toISOString();
  const broker: BrokerHandle = opts.broker === undefined ? await startAedesWorker() : parseBrokerUrl(opts.broker);
  const t0 = performance.now();
  const problems: string[] = [];

  // ---- the checker ----
  const trackers: SequenceTracker[] = [];
  for (let i = 0; i < n; i++) trackers.push(new SequenceTracker());
  const total = new LatencyHistogram();
  const window = new LatencyHistogram();
  let received = 0;
  let wills = 0;
  let lastArrival = 0;
  const f64 = new Float64Array(1);
  const f64Bytes = new Uint8Array(f64.buffer);
  const bigEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;
  const checker = new Client({ clientId: `tinymqtt-sim-${runId}-checker`, budget: { maxIncomingQos2: 4096, maxMessages: 4096 } });
  checker.onMessage = (_c, _u, message) => {
    const p = message.payload;
    if (p.length !== PAYLOAD_BYTES) {
      wills++;
      return;
    }
    const now = performance.now();
    const device = ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
    const seq = ((p[4]! << 24) | (p[5]! << 16) | (p[6]! << 8) | p[7]!) >>> 0;
    for (let k = 0; k < 8; k++) f64Bytes[k] = p[bigEndian ? 8 + k : 15 - k]!;
    const tracker = trackers[device];
    if (tracker === undefined) return;
    received++;
    lastArrival = now;
    if (!tracker.see(seq)) return;
    const latency = now - f64[0]!;
    total.add(latency);
    window.add(latency);
  };
  const devices: Device[] = [];
  let connected = 0;
  let maxConnected = 0;
  let connectFailures = 0;
  let reconnects = 0;
  let cuts = 0;
  let sent = 0;
  let skippedOffline = 0;
  let refusedBudget = 0;
  let stopping = false;

  const samples: Sample[] = [];
  let phase: Sample["phase"] = "connect";
  let sampleTimer: ReturnType<typeof setInterval> | undefined;
  let tickTimer: ReturnType<typeof setInterval> | undefined;
  let progressLine = "";

  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the checker could not connect and subscribe to ${broker.describe} within 10 s`)), 10_000);
      checker.onConnect = (_c, _u, _f, rc) => {
        if (rc !== 0) return reject(new Error(`${broker.describe} refused the checker: reason ${rc}`));
        checker.subscribe([[`${base}/+/t`, qos], [`${base}/+/will`, 1]]);
      };
      checker.onSubscribe = (_c, _u, _mid, codes) => {
        clearTimeout(timer);
        if (codes.some((c) => c >= 0x80)) reject(new Error(`${broker.describe} refused the checker's subscription (${codes.join(", ")})`));
        else resolve();
      };
      checker.connect(broker.host, broker.port, 60).then(() => checker.loopStart(), (e: Error) => {
        clearTimeout(timer);
        reject(new Error(`cannot reach the broker ${broker.describe}: ${e.message}`));
      });
    });

    // ---- the devices ----
    const memBefore = await settle();
    const payload = new Uint8Array(PAYLOAD_BYTES);
    let waitingToStart = 0;
    let startNext: () => void = () => {};
    for (let i = 0; i < n; i++) {
      const client = new Client({ clientId: `tinymqtt-sim-${runId}-${i}`, cleanSession: qos === 0, budget });
      const device: Device = { index: i, client, topic: `${base}/${i}/t`, seq: 0, connected: false, started: false, attempted: false, everConnected: false, pending: 0 };
      client.willSet(`${base}/${i}/will`, "offline", 1);
      client.reconnectDelaySet(0.25, 4);
      client.onConnect = (_c, _u, _f, rc) => {
        if (rc !== 0) return;
        if (device.everConnected) reconnects++;
        if (!device.attempted) startNext();
        device.attempted = device.everConnected = device.connected = true;
        connected++;
        if (connected > maxConnected) maxConnected = connected;
      };
      client.onConnectFail = () => {
        connectFailures++;
        if (!device.attempted) {
          // It keeps retrying in the background; the ramp goes on.
          device.attempted = true;
          startNext();
        }
      };
      client.onDisconnect = () => {
        if (device.connected) connected--;
        device.connected = false;
      };
      if (qos > 0) client.onPublish = () => { device.pending--; };
      devices.push(device);
    }
    let nextToStart = 0;
    startNext = () => {
      if (stopping || nextToStart >= n) return;
      const device = devices[nextToStart++]!;
      device.started = true;
      device.client.connectAsync(broker.host, broker.port, keepalive);
      device.client.loopStart();
      waitingToStart++;
    };

    const liveGaps = (): number => {
      let g = 0;
      for (const t of trackers) g += t.gaps;
      return g;
    };
    const liveDuplicates = (): number => {
      let d = 0;
      for (const t of trackers) d += t.duplicates;
      return d;
    };
    let lastSent = 0;
    let lastReceived = 0;
    let lastProgress = 0;
    const takeSample = (): void => {
      const t = (performance.now() - t0) / 1000;
      const m = memory();
      const s: Sample = {
        t, phase, connected, sentPerSec: sent - lastSent, receivedPerSec: received - lastReceived,
        gaps: liveGaps(), duplicates: liveDuplicates(), p50: window.quantile(0.5), p99: window.quantile(0.99),
        heapPerDevice: m.heapUsed / n, buffersPerDevice: m.arrayBuffers / n, rssPerDevice: m.rss / n,
      };
      lastSent = sent;
      lastReceived = received;
      window.reset();
      samples.push(s);
      const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : "-");
      progressLine = `[${t.toFixed(0).padStart(4)} s] ${phase.padEnd(9)} connected ${connected}/${n}  sent ${s.sentPerSec}/s  received ${s.receivedPerSec}/s` +
        `  lost ${s.gaps}  duplicates ${s.duplicates}  p50 ${fmt(s.p50)} ms  p99 ${fmt(s.p99)} ms  cuts ${cuts}`;
      if (tty) out.write(`\r\x1b[2K${progressLine}`);
      else if (t - lastProgress >= progressEvery - 0.05 || samples.length === 1) {
        lastProgress = t;
        out.write(`${progressLine}\n`);
      }
    };
    sampleTimer = setInterval(takeSample, SAMPLE_MS);

    // ---- connect ----
    const rampStart = performance.now();
    for (let i = 0; i < Math.min(connectBatch, n); i++) startNext();
    const rampDeadline = rampStart + 10_000 + n * 10;
    while (connected < n && performance.now() < rampDeadline) await sleep(50);
    if (connected < n) problems.push(`only ${connected} of ${n} devices connected within ${((rampDeadline - rampStart) / 1000).toFixed(0)} s`);
    const rampSeconds = (performance.now() - rampStart) / 1000;
    const memIdle = await settle();

    // ---- telemetry ----
    phase = "telemetry";
    const publishOne = (device: Device): void => {
      const i = device.index;
      const seq = device.seq;
      payload[0] = i >>> 24; payload[1] = i >>> 16; payload[2] = i >>> 8; payload[3] = i;
      payload[4] = seq >>> 24; payload[5] = seq >>> 16; payload[6] = seq >>> 8; payload[7] = seq;
      f64[0] = performance.now();
      for (let k = 0; k < 8; k++) payload[bigEndian ? 8 + k : 15 - k] = f64Bytes[k]!;
      const info = device.client.publish(device.topic, payload, qos);
      // QoS 1/2 published while the link is down says MQTT_ERR_NO_CONN, as in Paho, but is queued.
      if (info.rc === MQTT_ERR_SUCCESS || (qos > 0 && info.rc === MQTT_ERR_NO_CONN)) {
        device.seq++;
        sent++;
        if (qos > 0) device.pending++;
      } else if (info.rc === MQTT_ERR_NO_CONN) skippedOffline++;
      else if (info.rc === MQTT_ERR_QUEUE_SIZE) refusedBudget++;
      else problems.push(`publish failed with rc ${info.rc}`);
    };
    const cutOne = (): void => {
      for (let attempt = 0; attempt < 8; attempt++) {
        const device = devices[Math.floor(Math.random() * n)]!;
        if (!device.connected) continue;
        const socket = device.client.socket() as Socket | null;
        if (socket === null) continue;
        socket.destroy();
        cuts++;
        return;
      }
    };
    const telemetryStart = performance.now();
    const telemetryEnd = telemetryStart + opts.duration * 1000;
    const totalRate = opts.rate * n;
    let due = 0;
    let cursor = 0;
    let nextCutAt = cutRate > 0 ? telemetryStart - Math.log(1 - Math.random()) * 1000 / cutRate : Infinity;
    let lastTick = telemetryStart;
    await new Promise<void>((resolve) => {
      tickTimer = setInterval(() => {
        const now = Math.min(performance.now(), telemetryEnd);
        const dt = (now - lastTick) / 1000;
        lastTick = now;
        due += totalRate * dt;
        // Round robin: each device publishes every n-th message, so each runs at `rate`.
        while (due >= 1) {
          due -= 1;
          publishOne(devices[cursor]!);
          cursor = cursor + 1 === n ? 0 : cursor + 1;
        }
        // Cuts as a Poisson process: exponentially distributed gaps of mean 1 / cutRate.
        while (now >= nextCutAt) {
          cutOne();
          nextCutAt += -Math.log(1 - Math.random()) * 1000 / cutRate;
        }
        if (now >= telemetryEnd) {
          clearInterval(tickTimer);
          tickTimer = undefined;
          resolve();
        }
      }, TICK_MS);
    });
    const telemetrySeconds = (performance.now() - telemetryStart) / 1000;

    // ---- drain ----
    phase = "drain";
    const drainDeadline = performance.now() + drainTimeout * 1000;
    const unique = (): number => trackers.reduce((a, t) => a + t.unique, 0);
    for (;;) {
      const now = performance.now();
      if (now >= drainDeadline) break;
      if (unique() >= sent && devices.every((d) => d.pending === 0)) break;
      // At QoS 0 nothing is re-sent: once nothing has arrived for a second, nothing more will.
      if (qos === 0 && now - Math.max(lastArrival, telemetryStart + telemetrySeconds * 1000) > 1000) break;
      await sleep(50);
    }
    const memLoaded = await settle();
    const connectedAtEnd = connected;

    // ---- results ----
    let lost = 0;
    let duplicates = 0;
    let uniqueCount = 0;
    let devicesWithLoss = 0;
    let unfinished = 0;
    for (let i = 0; i < n; i++) {
      const t = trackers[i]!;
      const missing = devices[i]!.seq - t.unique;
      lost += missing;
      if (missing > 0) devicesWithLoss++;
      duplicates += t.duplicates;
      uniqueCount += t.unique;
      unfinished += Math.max(0, devices[i]!.pending);
    }
    if (qos > 0 && lost > 0) problems.push(`${lost} QoS ${qos} messages lost (${unfinished} flows unfinished at the end)`);
    if (qos === 2 && duplicates > 0) problems.push(`${duplicates} QoS 2 messages delivered twice`);
    if (maxConnected === 0) problems.push("no device connected");
    takeSample();
    if (tty) out.write("\n");

    const perDevice = (a: Memory): Memory => ({
      heapUsed: (a.heapUsed - memBefore.heapUsed) / n,
      arrayBuffers: (a.arrayBuffers - memBefore.arrayBuffers) / n,
      rss: (a.rss - memBefore.rss) / n,
    });
    return {
      options: { devices: n, rate: opts.rate, duration: opts.duration, qos, broker: broker.describe, cutRate, connectBatch, keepalive, budget,
        drainTimeout, progressEvery },
      runId, startedAt, node: process.version,
      rampSeconds, telemetrySeconds, totalSeconds: (performance.now() - t0) / 1000,
      maxConnected, connectedAtEnd, connectFailures, cuts, reconnects, willsReceived: wills,
      sent, skippedOffline, refusedBudget, unfinished, received, unique: uniqueCount, lost, duplicates, devicesWithLoss,
      latency: { p50: total.quantile(0.5), p99: total.quantile(0.99), max: total.max, count: total.count },
      memoryIdle: perDevice(memIdle), memoryLoaded: perDevice(memLoaded), gcAvailable: gc !== undefined,
      samples, ok: problems.length === 0, problems,
    };
  } finally {
    stopping = true;
    if (sampleTimer !== undefined) clearInterval(sampleTimer);
    if (tickTimer !== undefined) clearInterval(tickTimer);
    await shutdown(devices, () => connected, checker);
    await broker.stop();
  }
}

/** DISCONNECT from every device (so no will goes out), a bounded wait for the links to close, then the checker. */
async function shutdown(devices: Device[], connected: () => number, checker: Client): Promise<void> {
  for (const d of devices) if (d.started) d.client.disconnect();
  const deadline = performance.now() + 5000;
  while (connected() > 0 && performance.now() < deadline) await sleep(20);
  for (const d of devices) if (d.started) d.client.loopStop();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const gone = new Promise<void>((resolve) => {
    checker.onDisconnect = () => resolve();
    timer = setTimeout(resolve, 2000);
  });
  if (checker.disconnect() === MQTT_ERR_SUCCESS) await gone;
  clearTimeout(timer);
  checker.loopStop();
}
