// Scale benchmark: 10,000 clients connected to one mosquitto from one Node process, tinymqtt (each a
// simulated device: ESP32 budget, a will, loopStart) vs MQTT.js (the same will and keepalive) and a bare socket
// (CONNECT written, CONNACK read: what any client pays in Node; each client is also shown beyond it), memory per
// connected client side by side; then `tinymqtt simulate` with 10,000 devices (telemetry, link cuts, the
// checker) through the same mosquitto.
//   npm run bench:scale   (node dist/bench/scale.js; SCALE_DEVICES=n to change the 10,000)
// File descriptors: `ulimit -n` is per process, so mosquitto and every measured child are started through
// `bash -c 'ulimit -n 65536 || ulimit -n <hard limit>; exec ...'`, and mosquitto gets `max_connections -1`.
// Each contender runs in a child of its own (node --expose-gc): a baseline after a full GC, N clients
// connected in batches (at most BATCH connection attempts at once), 2 s to settle, a full GC, and the
// difference / N: V8 heap (heapUsed), array buffers (where tinymqtt's fixed budget lives), and RSS.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const DEVICES = Number(process.env["SCALE_DEVICES"] ?? 10_000);
const BATCH = 500;
const CONNECT_TIMEOUT_MS = 180_000;
const SELF = fileURLToPath(import.meta.url);
const ROOT = join(dirname(SELF), "../..");
const MOSQUITTO = process.env["MOSQUITTO"] ?? "/usr/sbin/mosquitto";
const FD_LIMIT = 65536;
/** Raises the soft fd limit as far as allowed (the hard limit may be below 65536 without CAP_SYS_RESOURCE). */
const ULIMIT = `ulimit -n ${FD_LIMIT} 2>/dev/null || ulimit -n "$(ulimit -Hn)"`;
const TARGET_RATIO = 1 / 5;
/** A budget cut to a telemetry sensor's needs (packets up to 256 bytes, 8 messages in flight): for comparison. */
const SMALL_BUDGET = { maxPacketSize: 256, outputBytes: 256, storeBytes: 512, maxMessages: 8, maxIncomingQos2: 4, maxTopicAliases: 0 };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const quote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;

// ---- children -----------------------------------------------------------------------------------

interface Measure { contender: string; devices: number; connected: number; connectSeconds: number; fdLimit: string; heap: number; arrayBuffers: number; rss: number }

function memory(): { heap: number; arrayBuffers: number; rss: number } {
  const m = process.memoryUsage();
  return { heap: m.heapUsed, arrayBuffers: m.arrayBuffers, rss: m.rss };
}

async function settle(): Promise<{ heap: number; arrayBuffers: number; rss: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run the child with node --expose-gc");
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(50);
  }
  return memory();
}

async function measureChild(contender: string, port: number, n: number): Promise<void> {
  let connected = 0;
  let attempts = 0;
  let started = 0;
  const closers: Array<() => void> = [];
  let startOne: () => void;
  /** One client's callbacks on `connected`: up and down with its link; its first connection ends its attempt. */
  const linkCounter = (): { up: () => void; down: () => void } => {
    let first = true;
    let up = false;
    return {
      up: () => {
        connected++;
        up = true;
        if (first) { first = false; attempts--; }
      },
      down: () => {
        if (up) connected--;
        up = false;
      },
    };
  };
  if (contender === "tinymqtt-lite") {
    const { Client } = await import("../hosts/node/lite.js");
    startOne = () => {
      const i = started++;
      const client = new Client({ host: "127.0.0.1", port, id: `scale-lite-${process.pid}-${i}`, timeout: 60_000, reconnect: 1000,
        will: { topic: `scale/${i}/will`, message: "offline", quality: 1 } });
      const link = linkCounter();
      client.onReady = link.up;
      client.onClose = link.down;
      attempts++;
      closers.push(() => client.close());
    };
  } else if (contender.startsWith("tinymqtt")) {
    const { Client, ESP32_BUDGET } = await import("../hosts/node/index.js");
    const budget = contender === "tinymqtt" ? ESP32_BUDGET : SMALL_BUDGET;
    startOne = () => {
      const i = started++;
      const client = new Client({ clientId: `scale-tiny-${process.pid}-${i}`, budget });
      client.willSet(`scale/${i}/will`, "offline", 1);
      const link = linkCounter();
      client.onConnect = (_c, _u, _f, rc) => { if (rc === 0) link.up(); };
      client.onDisconnect = link.down;
      client.connectAsync("127.0.0.1", port, 60);
      client.loopStart();
      attempts++;
      closers.push(() => { client.disconnect(); client.loopStop(); });
    };
  } else if (contender === "socket") {
    // A bare connected socket: a CONNECT written (3.1.1, clean session, keepalive 60, its own client id), the
    // CONNACK read, nothing more. What any client pays in Node before its own objects.
    startOne = () => {
      const i = started++;
      const id = Buffer.from(`scale-socket-${process.pid}-${i}`, "utf8");
      const packet = Buffer.concat([Buffer.from([0x10, 12 + id.length, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, id.length >> 8, id.length & 0xff]), id]);
      const socket = net.connect({ host: "127.0.0.1", port });
      let up = false;
      socket.on("connect", () => {
        socket.setNoDelay(true);
        socket.write(packet);
      });
      socket.on("data", (b: Buffer) => {
        if (!up && b[0] === 0x20) {
          up = true;
          connected++;
          attempts--;
        }
      });
      socket.on("close", () => {
        if (up) connected--;
        up = false;
      });
      socket.on("error", () => {});
      attempts++;
      closers.push(() => socket.destroy());
    };
  } else {
    const mqtt = await import("mqtt");
    startOne = () => {
      const i = started++;
      const client = mqtt.connect({ host: "127.0.0.1", port, protocolVersion: 4, clean: true, keepalive: 60, reconnectPeriod: 1000,
        clientId: `scale-mqttjs-${process.pid}-${i}`, will: { topic: `scale/${i}/will`, payload: Buffer.from("offline"), qos: 1, retain: false } });
      let first = true;
      let up = false;
      client.on("connect", () => {
        connected++;
        up = true;
        if (first) { first = false; attempts--; }
      });
      client.on("close", () => {
        if (up) connected--;
        up = false;
      });
      client.on("error", () => {});
      attempts++;
      closers.push(() => client.end(true));
    };
  }
  const before = await settle();
  const t0 = performance.now();
  while (connected < n && performance.now() - t0 < CONNECT_TIMEOUT_MS) {
    while (started < n && attempts < BATCH) startOne();
    await sleep(20);
  }
  const connectSeconds = (performance.now() - t0) / 1000;
  await sleep(2000);
  const after = await settle();
  const fdLimit = /Max open files\s+(\d+)/.exec(readFileSync("/proc/self/limits", "utf8"))?.[1] ?? "?";
  const m: Measure = { contender, devices: n, connected, connectSeconds, fdLimit, heap: (after.heap - before.heap) / n,
    arrayBuffers: (after.arrayBuffers - before.arrayBuffers) / n, rss: (after.rss - before.rss) / n };
  process.stdout.write(`${JSON.stringify(m)}\n`);
  for (const close of closers) close();
  setTimeout(() => process.exit(0), 1000);
}

// ---- the parent ---------------------------------------------------------------------------------

function raisedSpawn(command: string, args: string[], stdio: "pipe" | "inherit"): ChildProcess {
  return spawn("bash", ["-c", `${ULIMIT}; exec ${[command, ...args].map(quote).join(" ")}`], { stdio: ["ignore", stdio, stdio] });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => { s.destroy(); resolve(true); });
    s.once("error", () => resolve(false));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

async function startBroker(): Promise<{ port: number; fdLimit: string; version: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(os.tmpdir(), "tinymqtt-scale-"));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const config = join(dir, "mosquitto.conf");
  // max_inflight / max_queued: the simulate phase counts messages, so nothing may be dropped (DESIGN.md).
  writeFileSync(config, [`listener ${port} 127.0.0.1`, "allow_anonymous true", "max_connections -1", "max_inflight_messages 100",
    "max_queued_messages 1000000", "log_dest stderr", "log_type error", "log_type warning"].join("\n") + "\n", { mode: 0o644 });
  const child = raisedSpawn(MOSQUITTO, ["-c", config], "pipe");
  let log = "";
  child.stderr!.on("data", (b: Buffer) => (log = (log + b.toString("utf8")).slice(-20000)));
  child.stdout!.on("data", (b: Buffer) => (log = (log + b.toString("utf8")).slice(-20000)));
  let version = "";
  try {
    execFileSync(MOSQUITTO, ["-h"], { encoding: "utf8", stdio: "pipe" });
  } catch (e) {
    version = /mosquitto version (\S+)/.exec(String((e as { stdout?: string }).stdout ?? ""))?.[1] ?? "";
  }
  const deadline = Date.now() + 5000;
  while (!(await canConnect(port))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`mosquitto did not start: ${log}`);
    await sleep(25);
  }
  const fdLimit = /Max open files\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/limits`, "utf8"))?.[1] ?? "?";
  return {
    port, fdLimit, version,
    stop: async () => {
      const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await gone;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function collect(child: ChildProcess, timeoutMs: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout?.on("data", (b: Buffer) => (out += b.toString("utf8")));
    child.stderr?.on("data", (b: Buffer) => (err += b.toString("utf8")));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${what} did not finish within ${timeoutMs / 1000} s: ${out}\n${err}`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (code !== 0 && out === "") reject(new Error(`${what} exited with ${String(code)}: ${err}`));
      else resolve(out);
    });
  });
}

const kib = (b: number): string => `${(b / 1024).toFixed(2)} KiB`;

async function main(): Promise<void> {
  const started = performance.now();
  const cpu = os.cpus()[0]?.model ?? "unknown";
  const date = new Date().toISOString();
  const header = `tinymqtt scale bench — ${cpu} (${os.cpus().length} CPUs), Node ${process.version}, ${date}`;
  console.log(header);
  const broker = await startBroker();
  console.log(`mosquitto ${broker.version} on 127.0.0.1:${broker.port}, max_connections -1, its fd limit ${broker.fdLimit}`);
  const measures: Measure[] = [];
  let simulateOut = "";
  try {
    for (const contender of ["tinymqtt", "tinymqtt-small-budget", "tinymqtt-lite", "mqtt.js", "socket"]) {
      const child = raisedSpawn(process.execPath, ["--expose-gc", SELF, "child", contender, String(broker.port), String(DEVICES)], "pipe");
      const out = await collect(child, CONNECT_TIMEOUT_MS + 60_000, `${contender} with ${DEVICES} clients`);
      const m = JSON.parse(out.trim().split("\n").pop()!) as Measure;
      measures.push(m);
      console.log(`  ${contender}: ${m.connected}/${m.devices} connected in ${m.connectSeconds.toFixed(1)} s (fd limit ${m.fdLimit}); per client: heap ${kib(m.heap)}, array buffers ${kib(m.arrayBuffers)}, RSS ${kib(m.rss)}`);
    }
    console.log(`\n  tinymqtt simulate --devices ${DEVICES} --rate 0.2 --duration 30 --qos 1 --cut-rate 20 (through the same mosquitto):`);
    const report = join(ROOT, "bench/results", `simulate-${DEVICES}.html`);
    mkdirSync(dirname(report), { recursive: true });
    const sim = raisedSpawn(process.execPath, [join(ROOT, "dist/hosts/node/cli.js"), "simulate", "--devices", String(DEVICES), "--rate", "0.2", "--duration", "30",
      "--qos", "1", "--cut-rate", "20", "--connect-batch", String(BATCH), "--broker", `mqtt://127.0.0.1:${broker.port}`, "--report", report], "pipe");
    simulateOut = await collect(sim, 400_000, "simulate");
    console.log(simulateOut.split("\n").map((l) => `    ${l}`).join("\n"));
  } finally {
    await broker.stop();
  }

  const tiny = measures.find((m) => m.contender === "tinymqtt")!;
  const mq = measures.find((m) => m.contender === "mqtt.js")!;
  const rows = measures.map((m) => [m.contender, `${m.connected.toLocaleString("en-US")}/${m.devices.toLocaleString("en-US")}`, `${m.connectSeconds.toFixed(1)} s`,
    kib(m.heap), kib(m.arrayBuffers), kib(m.heap + m.arrayBuffers), kib(m.rss)]);
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)} (1/${(b / a).toFixed(1)})`;
  for (const t of measures.filter((m) => m.contender.startsWith("tinymqtt"))) {
    rows.push([`${t.contender} / MQTT.js`, "", "", ratio(t.heap, mq.heap), "", ratio(t.heap + t.arrayBuffers, mq.heap + mq.arrayBuffers), ratio(t.rss, mq.rss)]);
  }
  const socket = measures.find((m) => m.contender === "socket")!;
  const clients = measures.filter((m) => m.contender !== "socket");
  for (const m of clients) {
    rows.push([`${m.contender} beyond a bare socket`, "", "", kib(m.heap - socket.heap), "", kib(m.heap + m.arrayBuffers - socket.heap - socket.arrayBuffers), kib(m.rss - socket.rss)]);
  }
  const head = ["client", "connected", "connect time", "V8 heap / client", "array buffers / client", "heap + buffers / client", "RSS / client"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  const table = [line(head), `|${widths.map((w, i) => (i === 0 ? ` ${"-".repeat(w)} ` : ` ${"-".repeat(w - 1)}: `)).join("|")}|`, ...rows.map(line)].join("\n");
  const met = (a: number, b: number): string => (a / b <= TARGET_RATIO ? "yes" : "NO");
  const verdict = measures.filter((m) => m.contender.startsWith("tinymqtt")).map((t) =>
    `Target (${t.contender}): at most 1/5 of MQTT.js's memory per connected client. V8 heap: ${met(t.heap, mq.heap)}; ` +
    `heap + array buffers (everything the JS side holds): ${met(t.heap + t.arrayBuffers, mq.heap + mq.arrayBuffers)}; RSS: ${met(t.rss, mq.rss)}.`).join("\n") +
    "\n" + measures.filter((m) => m.contender.startsWith("tinymqtt")).map((t) => {
      const beyond = t.heap - socket.heap;
      return `Target (issue 12, ${t.contender}): V8 heap per idle connected client beyond a bare connected socket <= 2 KiB: ${kib(beyond)} ` +
        `(${beyond <= 2048 ? "met" : `missed by ${kib(beyond - 2048)}`}; MQTT.js ${kib(mq.heap - socket.heap)}).`;
    }).join("\n");
  console.log(`\n${table}\n\n${verdict}\n\n(${((performance.now() - started) / 1000).toFixed(0)} s)`);
  const method = `${DEVICES.toLocaleString("en-US")} clients in one Node process (each contender in a child of its own, node --expose-gc), connected in batches of ${BATCH} to mosquitto ${broker.version} ` +
    `(max_connections -1; fd limit ${broker.fdLimit} for mosquitto and ${tiny.fdLimit} for the clients' process: ${FD_LIMIT} was asked, the hard limit here allows less). ` +
    "tinymqtt clients: ESP32_BUDGET (about 13 KiB of buffers, allocated at construction), a will, keepalive 60, loopStart(); tinymqtt-small-budget: the same with " +
    `budget ${JSON.stringify(SMALL_BUDGET)}; tinymqtt-lite: tinymqtt/lite (hosts/node/lite.ts, maxPacketSize 1024), the same will and keepalive, reconnect 1000. MQTT.js 5 clients: the same will and keepalive, ` +
    "reconnectPeriod 1000. socket: a bare net.Socket that wrote a CONNECT and read the CONNACK, the floor every client pays in Node. Memory = (after - before) / clients, each after a full GC, 2 s after the last connection; RSS includes the sockets' Node objects and buffers, not the kernel's.";
  const md = `# Scale: ${DEVICES.toLocaleString("en-US")} connected clients from one process\n\n${header}\n\n${method}\n\n` +
    "Reproduce: `npm run bench:scale` (writes this file, scale.json and simulate-" + DEVICES + ".html).\n\n" +
    `${table}\n\n${verdict}\n\n## tinymqtt simulate with ${DEVICES.toLocaleString("en-US")} devices\n\n` +
    "`tinymqtt simulate --devices " + DEVICES + " --rate 0.2 --duration 30 --qos 1 --cut-rate 20 --broker mqtt://127.0.0.1:PORT` through the same mosquitto; its report: " +
    `[simulate-${DEVICES}.html](simulate-${DEVICES}.html).\n\n\`\`\`\n${simulateOut.split("\n").filter((l) => !l.startsWith("[")).join("\n").trim()}\n\`\`\`\n`;
  writeFileSync(join(ROOT, "bench/results/scale.md"), md);
  writeFileSync(join(ROOT, "bench/results/scale.json"), JSON.stringify({ machine: { cpu, cpus: os.cpus().length, node: process.version, date }, devices: DEVICES, batch: BATCH,
    mosquitto: { version: broker.version, fdLimit: broker.fdLimit }, measures, simulate: simulateOut }, null, 2) + "\n");
  console.log(`wrote ${join(ROOT, "bench/results/scale.md")} and scale.json`);
}

const [role, contender, port, n] = process.argv.slice(2);
if (role === "child") await measureChild(contender!, Number(port), Number(n));
else await main();
