// Sharding benchmark: one QoS 1 fleet run by `tinymqtt simulate` in one process, and the same fleet across 4
// shard processes (`--shard K/4 --run ID`, gathered by `--collect ID` over the same broker), against one
// mosquitto; per-shard and total rates, latency and heap per device side by side, at each rate asked.
//   npm run bench:shards   (node dist/bench/shards.js; SHARDS_DEVICES (default 40,000), SHARDS_RATES (default
//   "0.2,1" messages/s per device), SHARDS_DURATION (default 20 s))
// File descriptors: every device is a socket in its own process and one in mosquitto's, so mosquitto holds
// the whole fleet: its soft limit is raised to the hard one (bash -c 'ulimit -n ...'), and `max_connections
// -1`. When the hard limit is below the fleet (a process without CAP_SYS_RESOURCE cannot raise it), the
// fleet is cut to what fits and the report says so.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEjabberdCluster } from "../test/support/ejabberd.js";

const ASKED = Number(process.env["SHARDS_DEVICES"] ?? 40_000);
const RATES = (process.env["SHARDS_RATES"] ?? "0.2,1").split(",").map(Number);
const DURATION = Number(process.env["SHARDS_DURATION"] ?? 20);
const SHARDS = 4;
/** Link cuts per second across the fleet, as in the scale bench's simulate run. */
const CUT_RATE = 20;
/** Descriptors mosquitto needs beside the devices: listener, log, the checkers, reporters and collector, slack. */
const FD_RESERVE = 100;
const SELF = fileURLToPath(import.meta.url);
const ROOT = join(dirname(SELF), "../..");
const CLI = join(ROOT, "dist/hosts/node/cli.js");
const RESULTS = join(ROOT, "bench/results");
const MOSQUITTO = process.env["MOSQUITTO"] ?? "/usr/sbin/mosquitto";
const RUN_TIMEOUT_MS = (DURATION + 240) * 1000;
/** The cluster run: this many devices at CLUSTER_RATE over two ejabberd nodes, node 2 killed mid-run (0: no cluster run). */
const CLUSTER_DEVICES = Number(process.env["SHARDS_CLUSTER_DEVICES"] ?? 2000);
const CLUSTER_RATE = 0.5;
/** Whole seconds into the run (the first telemetry line at or after it) when node 2 is SIGKILLed. */
const CLUSTER_KILL_AT = 10;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const quote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;
const ULIMIT = 'ulimit -n "$(ulimit -Hn)"';

function hardFdLimit(pid: number | "self"): number {
  const m = /Max open files\s+(\d+)\s+(\d+)/.exec(readFileSync(`/proc/${pid}/limits`, "utf8"));
  return Number(m?.[2] ?? NaN);
}

/** CAP_SYS_RESOURCE (bit 24) in this process's effective capabilities: what raising a hard limit takes. */
function canRaiseHardLimit(): boolean {
  const hex = /CapEff:\s*([0-9a-f]+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? "0";
  return (BigInt(`0x${hex}`) >> 24n) % 2n === 1n;
}

function raisedSpawn(command: string, args: string[]): ChildProcess {
  return spawn("bash", ["-c", `${ULIMIT}; exec ${[command, ...args].map(quote).join(" ")}`], { stdio: ["ignore", "pipe", "pipe"] });
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

interface Broker { port: number; fdLimit: string; version: string; stop(): Promise<void> }

async function startBroker(): Promise<Broker> {
  const dir = mkdtempSync(join(os.tmpdir(), "tinymqtt-shards-"));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const config = join(dir, "mosquitto.conf");
  // The checkers count messages, so nothing may be dropped: a large inflight window and queue (DESIGN.md).
  writeFileSync(config, [`listener ${port} 127.0.0.1`, "allow_anonymous true", "max_connections -1", "max_inflight_messages 100",
    "max_queued_messages 1000000", "log_dest stderr", "log_type error", "log_type warning"].join("\n") + "\n", { mode: 0o644 });
  const child = raisedSpawn(MOSQUITTO, ["-c", config]);
  let log = "";
  child.stderr!.on("data", (b: Buffer) => (log = (log + b.toString("utf8")).slice(-20000)));
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
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await gone;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Run { code: number | null; stdout: string; stderr: string }

function cli(args: string[], onStdout?: (text: string) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = raisedSpawn(process.execPath, ["--expose-gc", CLI, ...args]);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (b: Buffer) => {
      stdout += b.toString("utf8");
      onStdout?.(b.toString("utf8"));
    });
    child.stderr!.on("data", (b: Buffer) => (stderr += b.toString("utf8")));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`tinymqtt ${args.join(" ")} did not end within ${RUN_TIMEOUT_MS / 1000} s: ${stdout} ${stderr}`));
    }, RUN_TIMEOUT_MS);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function row(stdout: string, label: string): string {
  const line = stdout.split("\n").find((l) => l.startsWith(`${label} `));
  if (line === undefined) throw new Error(`no "${label}" row in:\n${stdout}`);
  return line.slice(label.length).trim();
}
const numberIn = (text: string, re: RegExp): number => Number(re.exec(text)?.[1]?.replace(/,/g, "") ?? NaN);

/** What one summary says, the figures this bench compares. */
interface Figures {
  devices: number;
  maxConnected: number;
  telemetrySeconds: number;
  sent: number;
  unique: number;
  lost: number;
  p50: number;
  p99: number;
  heapIdle: number;
  heapLoaded: number;
  buffers: number;
  rssLoaded: number;
  result: string;
}

function figures(out: string): Figures {
  const latency = row(out, "latency p50 / p99 / max");
  const heap = row(out, "heap per device (idle / loaded)");
  return {
    devices: numberIn(row(out, "devices"), /^([\d,]+)/), maxConnected: numberIn(row(out, "devices"), /max connected ([\d,]+)/),
    telemetrySeconds: numberIn(row(out, "telemetry"), /for ([\d.]+) s/), sent: numberIn(row(out, "sent"), /^([\d,]+)/),
    unique: numberIn(row(out, "received"), /\(([\d,]+) unique\)/), lost: numberIn(row(out, "lost"), /^([\d,]+)/),
    p50: numberIn(latency, /^([\d.]+) ms/), p99: numberIn(latency, /\/ ([\d.]+) ms \//),
    heapIdle: numberIn(heap, /^([\d.]+) KiB/), heapLoaded: numberIn(heap, /\/ ([\d.]+) KiB V8 heap/), buffers: numberIn(heap, /\/ ([\d.]+) KiB buffers/),
    rssLoaded: numberIn(row(out, "process RSS (idle / loaded)"), /\/ ([\d.]+) MiB/), result: row(out, "result"),
  };
}

/** rate: messages sent per second of telemetry (the collected line's is the sum of the shards' own, their telemetry spans not being aligned). */
interface Line { label: string; f: Figures; rate: number }

const rateOf = (f: Figures): number => f.sent / f.telemetrySeconds;

const fmt = (x: number, digits = 0): string => (Number.isFinite(x) ? x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "-");

function table(lines: Line[]): string {
  const header = ["", "devices", "max connected", "sent", "sent/s", "seen", "lost", "p50 ms", "p99 ms", "heap/device idle / loaded KiB", "buffers/device KiB", "RSS loaded MiB", "result"];
  const rows = lines.map(({ label, f, rate }) => [label, fmt(f.devices), fmt(f.maxConnected), fmt(f.sent), fmt(rate), fmt(f.unique), fmt(f.lost),
    fmt(f.p50, 2), fmt(f.p99, 1), `${fmt(f.heapIdle, 2)} / ${fmt(f.heapLoaded, 2)}`, fmt(f.buffers, 2), fmt(f.rssLoaded, 1), f.result]);
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => (i === 0 || i === r.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  return [line(header), `| ${widths.map((w, i) => (i === 0 || i === widths.length - 1 ? "-".repeat(w) : `${"-".repeat(w - 1)}:`)).join(" | ")} |`, ...rows.map(line)].join("\n");
}

async function main(): Promise<void> {
  const hard = hardFdLimit("self");
  const fits = hard - FD_RESERVE;
  const devices = Math.min(ASKED, Math.floor(fits / 1000) * 1000);
  const capped = devices < ASKED
    ? `${fmt(ASKED)} devices were asked; ${fmt(devices)} ran. The limit is file descriptors: mosquitto holds one socket per device in one ` +
      `process, and the hard RLIMIT_NOFILE here is ${fmt(hard)} (${canRaiseHardLimit() ? "this process could raise it, as root with CAP_SYS_RESOURCE: " +
        "run the bench with a higher `ulimit -Hn`" : "without CAP_SYS_RESOURCE nothing here can raise it, so neither ulimit -n nor mosquitto's " +
        "max_connections -1 can go past it"}; /proc/sys/fs/nr_open is ${readFileSync("/proc/sys/fs/nr_open", "utf8").trim()}). The one-process run ` +
      `meets the same bound on the client side. Memory was not the limit (${fmt(os.totalmem() / 2 ** 30, 1)} GiB here).`
    : "";
  if (capped !== "") console.log(capped);
  const broker = await startBroker();
  const url = `mqtt://127.0.0.1:${broker.port}`;
  const load = (): string => os.loadavg().map((x) => x.toFixed(2)).join(" ");
  const sections: string[] = [];
  const json: unknown[] = [];
  mkdirSync(RESULTS, { recursive: true });
  try {
    for (const rate of RATES) {
      const common = ["--devices", String(devices), "--rate", String(rate), "--duration", String(DURATION), "--qos", "1", "--cut-rate", String(CUT_RATE),
        "--connect-batch", "500", "--broker", url];
      const loadBefore = load();
      console.log(`rate ${rate}: one process (load average ${loadBefore})`);
      const one = await cli(["simulate", ...common, "--report", ""]);
      if (one.code !== 0 && one.code !== 2) throw new Error(`the one-process run failed: ${one.stdout} ${one.stderr}`);
      const run = `bench${process.pid}r${String(rate).replace(".", "_")}`;
      const loadMiddle = load();
      console.log(`rate ${rate}: ${SHARDS} shards (load average ${loadMiddle})`);
      const shards = [...Array(SHARDS).keys()].map((k) => cli(["simulate", ...common, "--shard", `${k}/${SHARDS}`, "--run", run, "--interval", "5", "--report", ""]));
      const collected = await cli(["simulate", "--collect", run, "--broker", url, "--report", ""]);
      const own = await Promise.all(shards);
      if (collected.code !== 0 && collected.code !== 2) throw new Error(`the collector failed: ${collected.stdout} ${collected.stderr}`);
      const shardLines = own.map((s, k) => {
        const f = figures(s.stdout);
        return { label: `  shard ${k}`, f, rate: rateOf(f) };
      });
      const oneF = figures(one.stdout);
      const lines: Line[] = [
        { label: "one process", f: oneF, rate: rateOf(oneF) },
        { label: `${SHARDS} shards, collected`, f: figures(collected.stdout), rate: shardLines.reduce((n, l) => n + l.rate, 0) },
        ...shardLines,
      ];
      const ratio = lines[1]!.rate / lines[0]!.rate;
      sections.push([
        `## ${fmt(devices)} devices at ${rate} msg/s each (${fmt(devices * rate)} msg/s asked), QoS 1, ${DURATION} s, ${CUT_RATE} link cuts/s`,
        "",
        `Load average before the one-process run: ${loadBefore}; before the shards: ${loadMiddle}.`,
        "",
        table(lines),
        "",
        `Sharded / one process, messages sent per second: ${ratio.toFixed(2)}.`,
        "",
        "The collector's summary:",
        "",
        "```",
        collected.stdout.split("\n").filter((l) => !l.startsWith("[")).join("\n").trim(),
        "```",
      ].join("\n"));
      json.push({ rate, devices, lines, ratio, loadBefore, loadMiddle });
    }
  } finally {
    await broker.stop();
  }
  if (CLUSTER_DEVICES > 0) sections.push(await clusterRun());
  const cpu = os.cpus()[0]?.model ?? "?";
  const md = [
    `# Sharding: one fleet in one process and across ${SHARDS} shard processes`,
    "",
    `tinymqtt shards bench — ${cpu} (${os.cpus().length} CPUs), Node ${process.version}, mosquitto ${broker.version}, ${new Date().toISOString()}.`,
    "",
    `Each run is \`tinymqtt simulate --devices N --rate R --duration ${DURATION} --qos 1 --cut-rate ${CUT_RATE} --connect-batch 500 --broker URL\`, ` +
    `once in one process and once as \`--shard K/${SHARDS} --run ID\` in ${SHARDS} processes started together and gathered with \`--collect ID\`, ` +
    `against one mosquitto (max_connections -1, max_inflight_messages 100, max_queued_messages 1000000, fd limit ${broker.fdLimit}) on the same machine. ` +
    "sent/s is the messages the devices' clients accepted per second of telemetry (for the shards together, the sum of each shard's own); seen is the messages the checkers got (once each); heap per device is " +
    "each process's V8 heap growth over its baseline after a full GC, per device (the shards' weighted by their devices). The machine is shared with " +
    "other work (load averages below), so compare the two runs of a rate with each other, not with other days.",
    "",
    ...(capped === "" ? [] : [`**Fleet size.** ${capped}`, ""]),
    "Reproduce: `npm run bench:shards` (writes this file and shards.json).",
    "",
    sections.join("\n\n"),
    "",
  ].join("\n");
  writeFileSync(join(RESULTS, "shards.md"), md);
  writeFileSync(join(RESULTS, "shards.json"), `${JSON.stringify({ devices, asked: ASKED, hardFdLimit: hard, runs: json }, null, 2)}\n`);
  console.log(md);
}

/** The fleet over a two-node ejabberd cluster (test/support/ejabberd.ts), node 2 SIGKILLed mid-run. */
async function clusterRun(): Promise<string> {
  const cluster = await startEjabberdCluster(2);
  try {
    const loadBefore = os.loadavg().map((x) => x.toFixed(2)).join(" ");
    console.log(`cluster: ${CLUSTER_DEVICES} devices over 2 ejabberd nodes (load average ${loadBefore})`);
    let killedAt = "";
    const args = ["simulate", "--devices", String(CLUSTER_DEVICES), "--rate", String(CLUSTER_RATE), "--duration", String(DURATION), "--qos", "1", "--cut-rate", "0",
      "--connect-batch", "500", "--broker", cluster.urls, "--username", "sim", "--password", "x", "--report", ""];
    const run = await cli(args, (text) => {
      const m = /\[\s+(\d+) s\] telemetry/.exec(text);
      if (killedAt !== "" || m === null || Number(m[1]) < CLUSTER_KILL_AT) return;
      killedAt = m[1]!;
      void cluster.kill(1);
    });
    return [
      `## The cluster: ${fmt(CLUSTER_DEVICES)} devices at ${CLUSTER_RATE} msg/s, QoS 1, over two ejabberd 23.01 nodes, node 2 SIGKILLed ${killedAt} s into the run`,
      "",
      `\`tinymqtt simulate --devices ${CLUSTER_DEVICES} --rate ${CLUSTER_RATE} --duration ${DURATION} --qos 1 --cut-rate 0 --connect-batch 500 ` +
      "--broker mqtt://127.0.0.1:P1,mqtt://127.0.0.1:P2 --username sim --password x` (exit code " + String(run.code) + `; load average before: ${loadBefore}). ` +
      "Devices start on node (i mod 2) and fail over to the other; the checker has a client on each node (ejabberd offers no shared subscriptions). " +
      "The losses are split into the client's (never acknowledged) and the cluster's (acknowledged by a node, delivered to no checker).",
      "",
      "```",
      run.stdout.split("\n").filter((l) => !l.startsWith("[") || /telemetry/.test(l)).join("\n").trim(),
      "```",
    ].join("\n");
  } finally {
    await cluster.stop();
  }
}

await main();
