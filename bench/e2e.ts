// End-to-end benchmark: publisher -> mosquitto -> subscriber, 100,000 messages of 64 bytes at QoS 0, 1 and 2,
// tinymqtt vs MQTT.js vs a raw-socket floor, side by side.
//   npm run bench:e2e   (node dist/bench/e2e.js; BENCH_RUNS=n for n interleaved runs, default 3; BENCH_MESSAGES)
// For a quicker look at some of it: BENCH_QOS=2 (or 1,2...) and BENCH_CLIENTS=tinymqtt,mqtt.js (the floor always
// runs, every ratio is to it); such a partial run prints its table and leaves bench/results alone. BENCH_STRACE=dir
// runs every child under strace (see bench/strace-acks.ts; rates mean nothing then). BENCH_WARMUP=n: each tinymqtt
// child first runs n QoS 2 messages through a client in process (bench/in-process.ts), so its run starts with the
// JIT warm (what the warm-up costs, as the floor has next to none to warm). BENCH_PROFILE=dir: each child writes a
// CPU profile (node --cpu-prof) there. BENCH_LOG=1: the tinymqtt subscriber logs (onLog), printing its warnings.
// Each run's line also gives each side's CPU in the kernel and its read and write system calls per message
// (Linux's /proc/self/io), which tell its own work from the kernel's.
// Every publisher and subscriber runs in a child process of its own (this file, with a role argument), so
// process.cpuUsage() of the publisher is its CPU alone. Each pair: the subscriber connects and subscribes,
// then the publisher connects, takes its clock and CPU readings, publishes every message keeping at most
// WINDOW unfinished (QoS 1/2: not yet PUBACK/PUBCOMP; QoS 0: not yet written to the socket), and reads
// them again when the last flow completes. Received rate = messages / (subscriber's last arrival -
// publisher's first publish), on the shared wall clock (performance.timeOrigin + now()).
// The floor: pre-encoded PUBLISH packets written on a plain socket in window-sized slices, acks answered
// with pre-encoded bytes, and the same on the subscriber's side: what the broker itself can take.
// mosquitto gets max_inflight_messages = WINDOW and max_queued_messages far above the run, so nothing is
// dropped (shared/DESIGN.md, "Facts measured"); every run checks that all messages arrived.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import { dirname, join } from "node:path";
import type { QoS } from "../src/index.js";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const MESSAGES = Number(process.env["BENCH_MESSAGES"] ?? 100_000);
const RUNS = Number(process.env["BENCH_RUNS"] ?? 3);
const WINDOW = 1000;
const PAYLOAD_BYTES = 64;
const PAIR_TIMEOUT_MS = 120_000;
// "tinymqtt zero-copy": the same client with a subscriber on zeroCopyMessages, to show what owning costs.
const CONTENDERS = ["floor", "floor-bulk", "tinymqtt", "tinymqtt zero-copy", "mqtt.js"] as const;
type Contender = (typeof CONTENDERS)[number];
const TARGETS = { rateVsFloor: 0.95, cpuVsFloor: 2, subCpuVsFloor: 1.1 };
const QOS_LEVELS = (process.env["BENCH_QOS"] ?? "0,1,2").split(",").map(Number).filter((q) => q === 0 || q === 1 || q === 2);
const chosen = process.env["BENCH_CLIENTS"]?.split(",");
const RUN_CONTENDERS = CONTENDERS.filter((c) => chosen === undefined || c === "floor" || chosen.includes(c));
/** BENCH_STRACE=dir: every child runs under strace, its system calls in dir (read them with bench/strace-acks.ts). */
const STRACE = process.env["BENCH_STRACE"];
const WARMUP = Number(process.env["BENCH_WARMUP"] ?? 0);
/** BENCH_PROFILE=dir: every child writes a CPU profile (node --cpu-prof) into dir; rates and CPU mean less then. */
const PROFILE = process.env["BENCH_PROFILE"];
/** BENCH_LOG=1: the tinymqtt subscriber sets onLog and prints its warnings (see tinymqttSub). */
const LOG = process.env["BENCH_LOG"] !== undefined;
const PARTIAL = QOS_LEVELS.length < 3 || RUN_CONTENDERS.length < CONTENDERS.length || STRACE !== undefined || PROFILE !== undefined || WARMUP > 0 || LOG;

const SELF = fileURLToPath(import.meta.url);
const epoch = (): number => performance.timeOrigin + performance.now();
const emit = (o: unknown): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

function payload(): Uint8Array {
  const p = new Uint8Array(PAYLOAD_BYTES);
  for (let i = 0; i < p.length; i++) p[i] = 0x30 + (i % 40);
  return p;
}

// ---- raw packets, for the floor ---------------------------------------------------------------------

function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

const str = (s: string): number[] => [s.length >> 8, s.length & 0xff, ...Buffer.from(s)];

function connectPacket(clientId: string): Buffer {
  const body = [...str("MQTT"), 4, 0x02, 0, 60, ...str(clientId)];
  return Buffer.from([0x10, ...remainingLength(body.length), ...body]);
}

function subscribePacket(topic: string, qos: number): Buffer {
  const body = [0, 1, ...str(topic), qos];
  return Buffer.from([0x82, ...remainingLength(body.length), ...body]);
}

function publishPacketSize(topic: string, qos: number): number {
  const body = 2 + topic.length + (qos > 0 ? 2 : 0) + PAYLOAD_BYTES;
  return 1 + remainingLength(body).length + body;
}

/** All MESSAGES publishes back to back, ids cycling 1..65535 (never reused within a window of 1000). */
function publishStream(topic: string, qos: number, count: number): { bytes: Buffer; size: number } {
  const size = publishPacketSize(topic, qos);
  const bytes = Buffer.alloc(size * count);
  const p = payload();
  const body = 2 + topic.length + (qos > 0 ? 2 : 0) + PAYLOAD_BYTES;
  for (let i = 0; i < count; i++) {
    let o = i * size;
    bytes[o++] = 0x30 | (qos << 1);
    for (const b of remainingLength(body)) bytes[o++] = b;
    bytes[o++] = topic.length >> 8;
    bytes[o++] = topic.length & 0xff;
    o += bytes.write(topic, o, "latin1");
    if (qos > 0) {
      const id = (i % 65535) + 1;
      bytes[o++] = id >> 8;
      bytes[o++] = id & 0xff;
    }
    bytes.set(p, o);
  }
  return { bytes, size };
}

/** Acks for every packet id, pre-encoded: type byte, 2, id. */
function ackTable(type: number): Buffer {
  const t = Buffer.alloc(65536 * 4);
  for (let id = 1; id < 65536; id++) t.set([type, 2, id >> 8, id & 0xff], id * 4);
  return t;
}

/**
 * Walks the MQTT frames in a byte stream (carrying a partial frame over to the next chunk) and calls
 * onFrame(type byte, buffer, offset of the variable header, remaining length).
 */
class FrameWalker {
  private carry: Buffer | null = null;
  constructor(private readonly onFrame: (first: number, buf: Buffer, body: number, length: number) => void) {}
  feed(chunk: Buffer): void {
    let buf = chunk;
    if (this.carry !== null) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    let o = 0;
    const end = buf.length;
    for (;;) {
      if (end - o < 2) break;
      let length = 0;
      let mult = 1;
      let p = o + 1;
      let complete = false;
      while (p < end) {
        const b = buf[p++]!;
        length += (b & 0x7f) * mult;
        mult *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || p + length > end) break;
      this.onFrame(buf[o]!, buf, p, length);
      o = p + length;
    }
    if (o < end) this.carry = Buffer.from(buf.subarray(o));
  }
}

function rawConnect(port: number, clientId: string, then: (socket: net.Socket) => void): net.Socket {
  const socket = net.connect({ host: "127.0.0.1", port });
  socket.setNoDelay(true);
  socket.once("connect", () => socket.write(connectPacket(clientId)));
  let connected = false;
  socket.on("data", (chunk: Buffer) => {
    if (connected) return;
    if (chunk[0] !== 0x20 || chunk[3] !== 0) throw new Error(`floor: CONNACK expected, got ${chunk.subarray(0, 4).toString("hex")}`);
    connected = true;
    socket.removeAllListeners("data");
    then(socket);
    if (chunk.length > 4) socket.emit("data", chunk.subarray(4));
  });
  return socket;
}

// ---- what a child spends: its CPU, the kernel's part of it, and its read and write system calls ------

/** Read and write system calls of this process so far (Linux's /proc/self/io: syscr, syscw; zeros elsewhere). */
interface Syscalls { reads: number; writes: number }
function syscalls(): Syscalls {
  try {
    const io = readFileSync("/proc/self/io", "utf8");
    const field = (name: string): number => Number(new RegExp(`^${name}: (\\d+)$`, "m").exec(io)?.[1] ?? 0);
    return { reads: field("syscr"), writes: field("syscw") };
  } catch {
    return { reads: 0, writes: 0 };
  }
}

/** A child's readings when it starts timing. */
interface Readings { cpu: NodeJS.CpuUsage; io: Syscalls }
const readings = (): Readings => ({ cpu: process.cpuUsage(), io: syscalls() });

interface Spent { cpuUs: number; systemUs: number; syscalls: Syscalls }
function spentSince(at: Readings): Spent {
  const d = process.cpuUsage(at.cpu);
  const io = syscalls();
  return { cpuUs: d.user + d.system, systemUs: d.system, syscalls: { reads: io.reads - at.io.reads, writes: io.writes - at.io.writes } };
}

// ---- publishers -------------------------------------------------------------------------------------

interface PubResult extends Spent { start: number; end: number; published: number }

function finishPub(start: number, at: Readings, published: number): PubResult {
  return { start, end: epoch(), published, ...spentSince(at) };
}

/**
 * The floor publisher. "floor" writes each pre-encoded packet with its own socket.write(), as a client's
 * publish() does (corked per window); "floor-bulk" writes a whole window's packets in one write(), the
 * least a sender can do.
 */
function floorPub(port: number, qos: number, topic: string, count: number, bulk: boolean): Promise<PubResult> {
  const { bytes, size } = publishStream(topic, qos, count);
  const packets: Buffer[] = [];
  if (!bulk) for (let i = 0; i < count; i++) packets.push(bytes.subarray(i * size, (i + 1) * size));
  const pubrel = ackTable(0x62);
  return new Promise((resolve) => {
    rawConnect(port, `e2e-floor-pub-${process.pid}`, (socket) => {
      const start = epoch();
      const started = readings();
      let written = 0;
      let completed = 0;
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        resolve(finishPub(start, started, written));
        socket.end();
      };
      /** Writes packets [written, limit); false when the socket asks to wait for 'drain'. */
      const writeUpTo = (limit: number): boolean => {
        if (bulk) {
          const ok = socket.write(bytes.subarray(written * size, limit * size));
          written = limit;
          return ok;
        }
        // One write() per packet, corked per window so they leave in one writev, as a client that
        // flushes once per event-loop turn does.
        socket.cork();
        let ok = true;
        while (written < limit) ok = socket.write(packets[written++]!);
        socket.uncork();
        return ok;
      };
      if (qos === 0) {
        const pump = (): void => {
          while (written < count) {
            if (!writeUpTo(Math.min(count, written + WINDOW))) return void socket.once("drain", pump);
          }
          socket.once("drain", finish);
          if (!socket.writableNeedDrain) finish();
        };
        pump();
        return;
      }
      const pump = (): void => {
        const limit = Math.min(count, completed + WINDOW);
        if (limit > written) writeUpTo(limit);
      };
      const answers = Buffer.alloc(64 * 1024);
      let answerLength = 0;
      const walker = new FrameWalker((first, buf, body) => {
        const type = first >> 4;
        if (type === 4 || type === 7) completed++;
        else if (type === 5) {
          const id = (buf[body]! << 8) | buf[body + 1]!;
          pubrel.copy(answers, answerLength, id * 4, id * 4 + 4);
          answerLength += 4;
        }
      });
      socket.on("data", (chunk: Buffer) => {
        answerLength = 0;
        walker.feed(chunk);
        if (answerLength > 0) socket.write(Buffer.from(answers.subarray(0, answerLength)));
        if (completed === count) finish();
        else pump();
      });
      pump();
    });
  });
}

async function tinymqttPub(port: number, qos: QoS, topic: string, count: number): Promise<PubResult> {
  const { Client, MQTT_ERR_SUCCESS } = await import("../hosts/node/index.js");
  if (WARMUP > 0) await (await import("./in-process.js")).inProcessPublisher([WARMUP]);
  const size = publishPacketSize(topic, qos);
  // A budget that holds the window: WINDOW flows, their bytes, and a ring as large for QoS 0.
  const client = new Client({ clientId: `e2e-tiny-pub-${process.pid}`,
    budget: { maxMessages: WINDOW + 8, storeBytes: (WINDOW + 8) * size, outputBytes: WINDOW * size + 1024 } });
  client.maxInflightMessagesSet(WINDOW);
  const p = payload();
  return new Promise((resolve, reject) => {
    let start = 0;
    let started: Readings;
    let published = 0;
    let completed = 0;
    let pumping = false;
    let pumpQueued = false;
    const pump = (): void => {
      pumpQueued = false;
      if (pumping) return;
      pumping = true;
      while (published < count && published - completed < WINDOW) {
        if (client.publish(topic, p, qos).rc !== MQTT_ERR_SUCCESS) break; // QoS 0: the ring is full; onPublish says when it drained
        published++;
      }
      pumping = false;
    };
    client.onPublish = () => {
      completed++;
      if (completed === count) {
        resolve(finishPub(start, started, published));
        client.disconnect();
        return;
      }
      // QoS 0 completions come in a burst once the ring has drained: refill once for the burst.
      if (qos === 0) {
        if (!pumpQueued) {
          pumpQueued = true;
          queueMicrotask(pump);
        }
      } else pump();
    };
    client.onConnect = (_c, _u, _f, rc) => {
      if (rc !== 0) return reject(new Error(`CONNACK ${rc}`));
      start = epoch();
      started = readings();
      pump();
    };
    client.connect("127.0.0.1", port, 60).then(() => client.loopStart(), reject);
  });
}

async function mqttjsPub(port: number, qos: 0 | 1 | 2, topic: string, count: number): Promise<PubResult> {
  const mqtt = await import("mqtt");
  const client = mqtt.connect({ host: "127.0.0.1", port, protocolVersion: 4, clean: true, reconnectPeriod: 0, clientId: `e2e-mqttjs-pub-${process.pid}` });
  const p = Buffer.from(payload());
  return new Promise((resolve, reject) => {
    let start = 0;
    let started: Readings;
    let published = 0;
    let completed = 0;
    let pumping = false;
    // A sliding window of WINDOW unfinished publishes, as a user would bound it (see DESIGN.md: MQTT.js
    // adds a 'drain' listener per publish while its stream is full, quadratic without a bound).
    const onDone = (e?: Error): void => {
      if (e) return reject(e);
      completed++;
      if (completed === count) {
        resolve(finishPub(start, started, published));
        client.end();
        return;
      }
      pump();
    };
    const pump = (): void => {
      if (pumping) return;
      pumping = true;
      while (published < count && published - completed < WINDOW) {
        published++;
        client.publish(topic, p, { qos }, onDone);
      }
      pumping = false;
    };
    client.once("connect", () => {
      start = epoch();
      started = readings();
      pump();
    });
    client.once("error", reject);
  });
}

// ---- subscribers ------------------------------------------------------------------------------------

interface SubResult extends Spent { received: number; first: number; last: number }

/** Calls ready() once subscribed; resolves when `count` messages arrived or "stop" comes on stdin. */
function subscriberFrame(count: number, setup: (onMessage: () => void, ready: () => void) => void): Promise<SubResult> {
  return new Promise((resolve) => {
    let received = 0;
    let first = 0;
    let last = 0;
    let started = readings();
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      resolve({ received, first, last, ...spentSince(started) });
    };
    setup(() => {
      received++;
      if (received === 1) first = epoch();
      if (received >= count) {
        last = epoch();
        finish();
      }
    }, () => {
      started = readings();
      emit({ ready: true });
    });
    createInterface({ input: process.stdin }).on("line", () => {
      last = epoch();
      finish();
    });
  });
}

function floorSub(port: number, qos: number, topic: string, count: number): Promise<SubResult> {
  const puback = ackTable(0x40);
  const pubrec = ackTable(0x50);
  const pubcomp = ackTable(0x70);
  let socket: net.Socket;
  return subscriberFrame(count, (onMessage, ready) => {
    const answers = Buffer.alloc(256 * 1024);
    let answerLength = 0;
    let subscribed = false;
    const walker = new FrameWalker((first, buf, body) => {
      const type = first >> 4;
      if (type === 3) {
        const q = (first >> 1) & 3;
        if (q > 0) {
          const at = body + 2 + ((buf[body]! << 8) | buf[body + 1]!);
          const id = (buf[at]! << 8) | buf[at + 1]!;
          (q === 1 ? puback : pubrec).copy(answers, answerLength, id * 4, id * 4 + 4);
          answerLength += 4;
        }
        onMessage();
      } else if (type === 6) {
        const id = (buf[body]! << 8) | buf[body + 1]!;
        pubcomp.copy(answers, answerLength, id * 4, id * 4 + 4);
        answerLength += 4;
      } else if (type === 9 && !subscribed) {
        subscribed = true;
        ready();
      }
    });
    socket = rawConnect(port, `e2e-floor-sub-${process.pid}`, (s) => {
      s.on("data", (chunk: Buffer) => {
        answerLength = 0;
        walker.feed(chunk);
        if (answerLength > 0) s.write(Buffer.from(answers.subarray(0, answerLength)));
      });
      s.write(subscribePacket(topic, qos));
    });
  }).finally(() => socket.destroy());
}

async function tinymqttSub(port: number, qos: QoS, topic: string, count: number, zeroCopyMessages: boolean): Promise<SubResult> {
  const { Client, MQTT_LOG_ERR, MQTT_LOG_WARNING } = await import("../hosts/node/index.js");
  if (WARMUP > 0) await (await import("./in-process.js")).inProcessSubscriber([WARMUP]);
  const client = new Client({ clientId: `e2e-tiny-sub-${process.pid}`, budget: { maxIncomingQos2: 8 * WINDOW }, zeroCopyMessages });
  // No onLog unless BENCH_LOG is set: with one, the client formats a debug line per message received, as Paho's
  // on_log does (about 1 µs of CPU per message here), and neither MQTT.js nor the floor logs anything. With
  // BENCH_LOG, warnings (a full table, a dropped message) go to stderr, which the parent shows when a run falls short.
  if (LOG) client.onLog = (_c, _u, level, message) => {
    if (level === MQTT_LOG_WARNING || level === MQTT_LOG_ERR) process.stderr.write(`tinymqtt subscriber: ${message}\n`);
  };
  return subscriberFrame(count, (onMessage, ready) => {
    client.onMessage = onMessage;
    client.onConnect = () => client.subscribe(topic, qos);
    client.onSubscribe = ready;
    void client.connect("127.0.0.1", port, 60).then(() => client.loopStart());
  }).finally(() => client.disconnect());
}

async function mqttjsSub(port: number, qos: 0 | 1 | 2, topic: string, count: number): Promise<SubResult> {
  const mqtt = await import("mqtt");
  const client = mqtt.connect({ host: "127.0.0.1", port, protocolVersion: 4, clean: true, reconnectPeriod: 0, clientId: `e2e-mqttjs-sub-${process.pid}` });
  return subscriberFrame(count, (onMessage, ready) => {
    client.on("message", onMessage);
    client.once("connect", () => client.subscribe(topic, { qos }, () => ready()));
  }).finally(() => client.end(true));
}

async function child(role: string, contender: Contender, port: number, qos: 0 | 1 | 2, topic: string, count: number): Promise<void> {
  if (role === "pub") {
    const r = contender === "floor" || contender === "floor-bulk" ? await floorPub(port, qos, topic, count, contender === "floor-bulk")
      : contender.startsWith("tinymqtt") ? await tinymqttPub(port, qos, topic, count) : await mqttjsPub(port, qos, topic, count);
    emit(r);
  } else {
    const r = contender === "floor" || contender === "floor-bulk" ? await floorSub(port, qos, topic, count)
      : contender.startsWith("tinymqtt") ? await tinymqttSub(port, qos, topic, count, contender === "tinymqtt zero-copy")
      : await mqttjsSub(port, qos, topic, count);
    emit(r);
  }
  // Sockets still closing must not hold the numbers back.
  setTimeout(() => process.exit(0), 200).unref();
}

// ---- the parent -------------------------------------------------------------------------------------

interface Spawned { child: ChildProcess; lines: AsyncIterator<string>; stderr: () => string }

function spawnRole(args: string[]): Spawned {
  const command = [process.execPath, ...(PROFILE === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${PROFILE}`]), SELF, ...args];
  if (STRACE !== undefined) {
    mkdirSync(STRACE, { recursive: true });
    const name = `${args[0]}-${args[1]!.replace(/\W/g, "")}-q${args[3]}-${args[4]!.split("/")[2]}`;
    command.unshift("strace", "-f", "-ttt", "-xx", "-s", "65536", "-e", "trace=read,write,writev", "-o", join(STRACE, `${name}.txt`));
  }
  const c = spawn(command[0]!, command.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
  let err = "";
  c.stderr!.on("data", (b: Buffer) => (err += b.toString("utf8")));
  const lines = createInterface({ input: c.stdout! })[Symbol.asyncIterator]();
  return { child: c, lines, stderr: () => err };
}

async function nextJson<T>(s: Spawned, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms; stderr: ${s.stderr()}`)), ms);
  });
  try {
    const r = await Promise.race([s.lines.next(), expired]);
    if (r.done === true) throw new Error(`${what}: the child exited; stderr: ${s.stderr()}`);
    return JSON.parse(r.value) as T;
  } finally {
    clearTimeout(timer);
  }
}

interface PairResult { contender: Contender; qos: number; received: number; rate: number; pubCpuPerMsg: number; subCpuPerMsg: number; seconds: number; subSystemPerMsg: number; subReadsPerMsg: number; subWritesPerMsg: number;
  pubSystemPerMsg: number; pubReadsPerMsg: number; pubWritesPerMsg: number }

async function runPair(port: number, contender: Contender, qos: number, runIndex: number): Promise<PairResult> {
  const topic = `bench/e2e/${runIndex}/${contender.replace(/\W/g, "")}/q${qos}`;
  const args = [contender, String(port), String(qos), topic, String(MESSAGES)];
  const sub = spawnRole(["sub", ...args]);
  let pub: Spawned | undefined;
  try {
    await nextJson(sub, 10_000, `${contender} subscriber`);
    pub = spawnRole(["pub", ...args]);
    const p = await nextJson<PubResult>(pub, PAIR_TIMEOUT_MS, `${contender} publisher, QoS ${qos}`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Whatever has not arrived 5 s after the publisher finished is not coming.
    const late = new Promise<void>((resolve) => (timer = setTimeout(() => { sub.child.stdin!.write("stop\n"); resolve(); }, 5000)));
    const s = await nextJson<SubResult>(sub, PAIR_TIMEOUT_MS, `${contender} subscriber, QoS ${qos}`);
    clearTimeout(timer);
    void late;
    const seconds = (s.last - p.start) / 1000;
    const got = Math.max(1, s.received);
    return { contender, qos, received: s.received, rate: s.received / seconds, pubCpuPerMsg: p.cpuUs / MESSAGES, subCpuPerMsg: s.cpuUs / got, seconds,
      subSystemPerMsg: s.systemUs / got, subReadsPerMsg: s.syscalls.reads / got, subWritesPerMsg: s.syscalls.writes / got,
      pubSystemPerMsg: p.systemUs / MESSAGES, pubReadsPerMsg: p.syscalls.reads / MESSAGES, pubWritesPerMsg: p.syscalls.writes / MESSAGES };
  } finally {
    // A child writes its CPU profile as it exits, which it does by itself 200 ms after its answer.
    if (PROFILE !== undefined) await Promise.all([sub, pub].map((c) => (c === undefined ? undefined : exited(c.child, 10_000))));
    sub.child.kill("SIGKILL");
    pub?.child.kill("SIGKILL");
  }
}

/** Resolves when the child has exited, or after ms whatever it does. */
function exited(c: ChildProcess, ms: number): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    c.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  return [line(head), `|${widths.map((w, i) => (i < 2 ? ` ${"-".repeat(w)} ` : ` ${"-".repeat(w - 1)}: `)).join("|")}|`, ...rows.map(line)].join("\n");
}

async function main(): Promise<void> {
  const { startMosquitto } = await import("../test/support/mosquitto.js");
  const started = performance.now();
  const cpu = os.cpus()[0]?.model ?? "unknown";
  const date = new Date().toISOString();
  const header = `tinymqtt end-to-end bench — ${cpu} (${os.cpus().length} CPUs), Node ${process.version}, ${date}`;
  console.log(header);
  const broker = await startMosquitto({ maxInflightMessages: WINDOW, maxQueuedMessages: MESSAGES * 10 });
  const version = /mosquitto version (\S+)/.exec(broker.log)?.[1] ?? "?";
  const method = `${MESSAGES.toLocaleString("en-US")} messages of ${PAYLOAD_BYTES} bytes per run through mosquitto ${version} (max_inflight_messages ${WINDOW}, ` +
    `max_queued_messages ${MESSAGES * 10}), MQTT 3.1.1, window ${WINDOW} unfinished publishes; median of ${RUNS} interleaved runs. ` +
    "Rate: messages received / (last arrival - first publish). CPU: process.cpuUsage() (user + system) of the publisher's (subscriber's) child process per message.";
  console.log(method);
  const all: PairResult[] = [];
  try {
    for (let r = 0; r < RUNS; r++) {
      for (const qos of QOS_LEVELS) {
        for (const c of RUN_CONTENDERS) {
          const result = await runPair(broker.port, c, qos, r);
          all.push(result);
          console.log(`  run ${r + 1} QoS ${qos} ${c.padEnd(8)} ${result.received}/${MESSAGES} received, ${Math.round(result.rate).toLocaleString("en-US")} msg/s, ` +
            `publisher ${result.pubCpuPerMsg.toFixed(2)} µs/msg (${result.pubSystemPerMsg.toFixed(2)} in the kernel; ${result.pubReadsPerMsg.toFixed(2)} reads, ${result.pubWritesPerMsg.toFixed(2)} writes per message), ` +
            `subscriber ${result.subCpuPerMsg.toFixed(2)} µs/msg (${result.subSystemPerMsg.toFixed(2)} in the kernel; ${result.subReadsPerMsg.toFixed(2)} reads, ${result.subWritesPerMsg.toFixed(2)} writes per message)`);
        }
      }
    }
  } finally {
    await broker.stop();
  }

  const rows: string[][] = [];
  const verdicts: string[][] = [];
  const summary: Array<Record<string, unknown>> = [];
  for (const qos of QOS_LEVELS) {
    const of = (c: Contender): PairResult[] => all.filter((x) => x.qos === qos && x.contender === c);
    const floorRate = median(of("floor").map((x) => x.rate));
    const floorCpu = median(of("floor").map((x) => x.pubCpuPerMsg));
    const floorSubCpu = median(of("floor").map((x) => x.subCpuPerMsg));
    for (const c of RUN_CONTENDERS) {
      const xs = of(c);
      const rate = median(xs.map((x) => x.rate));
      const pubCpu = median(xs.map((x) => x.pubCpuPerMsg));
      const subCpu = median(xs.map((x) => x.subCpuPerMsg));
      const lost = xs.reduce((a, x) => a + (MESSAGES - x.received), 0);
      rows.push([`QoS ${qos}`, c, Math.round(rate).toLocaleString("en-US"), `${Math.round(Math.min(...xs.map((x) => x.rate))).toLocaleString("en-US")}..${Math.round(Math.max(...xs.map((x) => x.rate))).toLocaleString("en-US")}`,
        (rate / floorRate).toFixed(2), pubCpu.toFixed(2), `${(pubCpu / floorCpu).toFixed(2)}x`, subCpu.toFixed(2), lost === 0 ? "all" : `${lost} missing`]);
      summary.push({ qos, contender: c, rate, pubCpuPerMsg: pubCpu, subCpuPerMsg: subCpu, rateVsFloor: rate / floorRate, cpuVsFloor: pubCpu / floorCpu, subCpuVsFloor: subCpu / floorSubCpu, missing: lost, runs: xs });
      if (c === "tinymqtt zero-copy") {
        const owned = summary.find((r) => r["qos"] === qos && r["contender"] === "tinymqtt")?.["subCpuPerMsg"];
        if (typeof owned === "number") {
          verdicts.push([`QoS ${qos}: what owning a received message costs (subscriber CPU/msg, owned - zero-copy)`,
            `${(owned - subCpu).toFixed(2)} µs (${((owned / subCpu - 1) * 100).toFixed(0)} %)`, "measured"]);
        }
      }
      if (c === "tinymqtt") {
        verdicts.push([`QoS ${qos}: rate >= ${TARGETS.rateVsFloor} x floor`, (rate / floorRate).toFixed(2), rate / floorRate >= TARGETS.rateVsFloor ? "yes" : "NO"]);
        verdicts.push([`QoS ${qos}: publisher CPU <= ${TARGETS.cpuVsFloor} x floor`, `${(pubCpu / floorCpu).toFixed(2)}x`, pubCpu / floorCpu <= TARGETS.cpuVsFloor ? "yes" : "NO"]);
        verdicts.push([`QoS ${qos}: subscriber CPU <= ${TARGETS.subCpuVsFloor} x floor`, `${(subCpu / floorSubCpu).toFixed(2)}x`, subCpu / floorSubCpu <= TARGETS.subCpuVsFloor ? "yes" : "NO"]);
      }
    }
  }
  const results = table(["QoS", "client", "received msg/s", "min..max", "vs floor", "publisher µs CPU/msg", "vs floor", "subscriber µs CPU/msg", "delivered"], rows);
  const targets = table(["target (tinymqtt)", "measured", "met"], verdicts);
  const seconds = (performance.now() - started) / 1000;
  console.log(`\n${results}\n\n${targets}\n\n(${seconds.toFixed(0)} s)`);
  if (PARTIAL) {
    console.log("a partial run (BENCH_QOS, BENCH_CLIENTS, BENCH_STRACE, BENCH_PROFILE, BENCH_WARMUP or BENCH_LOG): bench/results left as they were");
    return;
  }

  const resultsDir = join(dirname(SELF), "../../bench/results");
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, "e2e.json"), JSON.stringify({ machine: { cpu, cpus: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.release()}`, date },
    method: { messages: MESSAGES, payloadBytes: PAYLOAD_BYTES, window: WINDOW, runs: RUNS, mosquitto: version }, targets: TARGETS, summary, seconds }, null, 2) + "\n");
  writeFileSync(join(resultsDir, "e2e.md"), `# End-to-end: publisher -> mosquitto -> subscriber\n\n${header}\n\n${method}\n\n` +
    "Reproduce: `npm run bench:e2e` (writes this file and e2e.json).\n\n" + `${results}\n\n${targets}\n`);
  console.log(`wrote ${join(resultsDir, "e2e.md")} and e2e.json`);
}

const [role, contender, port, qos, topic, count] = process.argv.slice(2);
if (role === "pub" || role === "sub") await child(role, contender as Contender, Number(port), Number(qos) as 0 | 1 | 2, topic!, Number(count));
else await main();
