// Per-client memory, measured precisely: where a tinymqtt client's bytes go, next to MQTT.js and a bare
// net.Socket connected to the same server.
//   node --expose-gc dist/bench/client-memory.js [--n 2000] [--only name,name] [--breakdown [--breakdown-n 200]]
// Each contender runs in a child of its own (a fresh heap), against a tiny MQTT server in this process
// (a net.Server that answers CONNECT with CONNACK 20 02 00 00, PINGREQ with PINGRESP, and keeps the socket),
// so the server's own sockets are not counted. In the child: W warm-up clients (compiled code, shared
// tables), a full GC, the baseline, N more clients, a pause, a full GC, and (after - baseline) / N.
//   tinymqtt-new, tinymqtt-new-small   constructed (budget allocated), never connected
//   tinymqtt, tinymqtt-small           connectAsync + loopStart, until CONNACK
//   lite                               tinymqtt/lite (hosts/node/lite.ts), until onReady
//   mqtt.js                            mqtt.connect, until 'connect'
//   socket                             net.connect, a CONNECT written, the CONNACK read: Node's own floor
// --breakdown: the same with a smaller N, and a V8 heap snapshot before and after; the difference per
// client, grouped by object kind and constructor (typed arrays, closures, Maps, strings...).
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";

const SELF = fileURLToPath(import.meta.url);
const WARMUP = 20;
/** The scale bench's small budget: packets up to 256 bytes, 8 messages in flight, no topic aliases. */
const SMALL_BUDGET = { maxPacketSize: 256, outputBytes: 256, storeBytes: 512, maxMessages: 8, maxIncomingQos2: 4, maxTopicAliases: 0 };
const CONTENDERS = ["tinymqtt-new", "tinymqtt-new-small", "tinymqtt", "tinymqtt-small", "lite", "mqtt.js", "socket"];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const kib = (b: number): string => `${(b / 1024).toFixed(2)}`;

interface Sample { heap: number; arrayBuffers: number; external: number; rss: number }
interface Result extends Sample { contender: string; n: number; connected: number; breakdown?: BreakdownRow[] }
interface BreakdownRow { kind: string; count: number; bytes: number }

async function settle(): Promise<Sample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with node --expose-gc");
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(30);
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed, arrayBuffers: m.arrayBuffers, external: m.external, rss: m.rss };
}

// ---- the server -----------------------------------------------------------------------------------

/** Answers CONNECT with CONNACK (accepted, no session), PINGREQ with PINGRESP; keeps every socket. */
function startServer(): Promise<{ port: number; server: net.Server }> {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      for (;;) {
        let i = 1;
        let remaining = 0;
        let multiplier = 1;
        for (; i < pending.length && i <= 4; i++) {
          remaining += (pending[i]! & 0x7f) * multiplier;
          multiplier *= 128;
          if ((pending[i]! & 0x80) === 0) break;
        }
        if (i >= pending.length) break;
        const total = i + 1 + remaining;
        if (pending.length < total) break;
        const type = pending[0]! >> 4;
        if (type === 1) socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
        else if (type === 12) socket.write(Buffer.from([0xd0, 0x00]));
        else if (type === 14) socket.end();
        pending = pending.subarray(total);
      }
    });
    socket.on("error", () => {});
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve({ port: (server.address() as net.AddressInfo).port, server }));
  });
}

// ---- heap snapshots -------------------------------------------------------------------------------

interface RawSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Live objects by kind: "type name" for objects and closures, the type alone for strings, code and the like. */
async function heapCensus(): Promise<Map<string, { count: number; bytes: number }>> {
  await settle();
  const chunks: Buffer[] = [];
  for await (const chunk of v8.getHeapSnapshot()) chunks.push(chunk as Buffer);
  const snap = JSON.parse(Buffer.concat(chunks).toString("utf8")) as RawSnapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const fType = fields.indexOf("type");
  const fName = fields.indexOf("name");
  const fSize = fields.indexOf("self_size");
  const census = new Map<string, { count: number; bytes: number }>();
  const { nodes, strings } = snap;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + fType]!]!;
    const name = strings[nodes[i + fName]!]!;
    const size = nodes[i + fSize]!;
    let kind: string;
    if (type === "object" || type === "closure" || type === "native") kind = `${type} ${name}`;
    else if (type === "hidden" || type === "array" || type === "object shape") kind = `${type} ${name.length > 40 ? `${name.slice(0, 40)}...` : name}`;
    else kind = type;
    const entry = census.get(kind);
    if (entry === undefined) census.set(kind, { count: 1, bytes: size });
    else {
      entry.count++;
      entry.bytes += size;
    }
  }
  return census;
}

function censusDelta(before: Map<string, { count: number; bytes: number }>, after: Map<string, { count: number; bytes: number }>, n: number): BreakdownRow[] {
  const rows: BreakdownRow[] = [];
  for (const [kind, a] of after) {
    const b = before.get(kind) ?? { count: 0, bytes: 0 };
    const bytes = (a.bytes - b.bytes) / n;
    const count = (a.count - b.count) / n;
    if (Math.abs(bytes) >= 8 || Math.abs(count) >= 0.5) rows.push({ kind, count, bytes });
  }
  return rows.sort((x, y) => y.bytes - x.bytes);
}

// ---- the child --------------------------------------------------------------------------------------

async function child(contender: string, port: number, n: number, breakdown: boolean): Promise<void> {
  const keep: unknown[] = [];
  let connected = 0;
  let make: (i: number) => void;
  if (contender.startsWith("tinymqtt")) {
    const { Client, ESP32_BUDGET } = await import("../hosts/node/index.js");
    const budget = contender.endsWith("-small") ? SMALL_BUDGET : ESP32_BUDGET;
    const connect = !contender.startsWith("tinymqtt-new");
    make = (i) => {
      const client = new Client({ clientId: `mem-tiny-${process.pid}-${i}`, budget });
      client.willSet(`mem/${i}/will`, "offline", 1);
      keep.push(client);
      if (!connect) return;
      client.onConnect = (_c, _u, _f, rc) => { if (rc === 0) connected++; };
      client.connectAsync("127.0.0.1", port, 60);
      client.loopStart();
    };
  } else if (contender === "lite") {
    const { Client } = await import("../hosts/node/lite.js");
    make = (i) => {
      const client = new Client({ host: "127.0.0.1", port, id: `mem-lite-${process.pid}-${i}`, timeout: 60_000, reconnect: 1000,
        will: { topic: `mem/${i}/will`, message: "offline", quality: 1 } });
      client.onReady = () => connected++;
      keep.push(client);
    };
  } else if (contender === "mqtt.js") {
    const mqtt = await import("mqtt");
    make = (i) => {
      const client = mqtt.connect({ host: "127.0.0.1", port, protocolVersion: 4, clean: true, keepalive: 60, reconnectPeriod: 1000,
        clientId: `mem-mqttjs-${process.pid}-${i}`, will: { topic: `mem/${i}/will`, payload: Buffer.from("offline"), qos: 1, retain: false } });
      client.on("connect", () => connected++);
      client.on("error", () => {});
      keep.push(client);
    };
  } else if (contender === "socket") {
    // A CONNECT with client id "s" (3.1.1, clean session, keepalive 60).
    const connectPacket = Buffer.from([0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x01, 0x73]);
    make = () => {
      const socket = net.connect({ host: "127.0.0.1", port });
      socket.on("connect", () => {
        socket.setNoDelay(true);
        socket.write(connectPacket);
      });
      socket.on("data", (b: Buffer) => { if (b[0] === 0x20) connected++; });
      socket.on("error", () => {});
      keep.push(socket);
    };
  } else {
    throw new Error(`unknown contender ${contender}`);
  }
  const connects = contender !== "tinymqtt-new" && contender !== "tinymqtt-new-small";
  const waitConnected = async (target: number): Promise<void> => {
    const t0 = Date.now();
    while (connects && connected < target && Date.now() - t0 < 60_000) await sleep(20);
  };
  for (let i = 0; i < WARMUP; i++) make(i);
  await waitConnected(WARMUP);
  await sleep(200);
  const before = await settle();
  const censusBefore = breakdown ? await heapCensus() : undefined;
  const base = await settle();
  for (let i = WARMUP; i < WARMUP + n; i++) {
    make(i);
    if (connects && i % 250 === 249) await waitConnected(i + 1 - 200);
  }
  await waitConnected(WARMUP + n);
  await sleep(500);
  const after = await settle();
  const result: Result = { contender, n, connected: connects ? connected - WARMUP : 0,
    heap: (after.heap - base.heap) / n, arrayBuffers: (after.arrayBuffers - base.arrayBuffers) / n,
    external: (after.external - base.external) / n, rss: (after.rss - before.rss) / n };
  if (censusBefore !== undefined) result.breakdown = censusDelta(censusBefore, await heapCensus(), n);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

// ---- the parent -----------------------------------------------------------------------------------

function run(args: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const c: ChildProcess = spawn(process.execPath, ["--expose-gc", SELF, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    c.stdout!.on("data", (b: Buffer) => (out += b.toString("utf8")));
    c.stderr!.on("data", (b: Buffer) => (err += b.toString("utf8")));
    c.once("exit", (code) => {
      const line = out.trim().split("\n").pop() ?? "";
      if (code !== 0 || !line.startsWith("{")) reject(new Error(`${args[1]} exited with ${String(code)}: ${err}${out}`));
      else resolve(JSON.parse(line) as Result);
    });
  });
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i < 0 ? undefined : argv[i + 1];
  };
  const n = Number(arg("--n") ?? 2000);
  const only = arg("--only")?.split(",") ?? CONTENDERS;
  const breakdown = argv.includes("--breakdown");
  const breakdownN = Number(arg("--breakdown-n") ?? 200);
  const { port, server } = await startServer();
  console.log(`per-client memory: Node ${process.version}, N = ${n} after ${WARMUP} warm-up clients; KiB per client`);
  const head = ["contender", "connected", "V8 heap", "array buffers", "heap + buffers", "external", "RSS"];
  const rows: string[][] = [];
  const results = new Map<string, Result>();
  for (const contender of only) {
    const r = await run(["child", contender, String(port), String(n)]);
    results.set(contender, r);
    rows.push([contender, contender.startsWith("tinymqtt-new") ? "-" : `${r.connected}/${r.n}`, kib(r.heap), kib(r.arrayBuffers),
      kib(r.heap + r.arrayBuffers), kib(r.external), kib(r.rss)]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  console.log([line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n"));
  const mq = results.get("mqtt.js");
  if (mq !== undefined) {
    const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}${a / b <= 0.2 ? " (<= 1/5)" : ""}`;
    for (const name of ["tinymqtt", "tinymqtt-small"]) {
      const t = results.get(name);
      if (t === undefined) continue;
      console.log(`${name} / mqtt.js: V8 heap ${ratio(t.heap, mq.heap)}, heap + buffers ${ratio(t.heap + t.arrayBuffers, mq.heap + mq.arrayBuffers)}, RSS ${ratio(t.rss, mq.rss)}`);
    }
  }
  if (breakdown) {
    for (const contender of only) {
      const r = await run(["child", contender, String(port), String(breakdownN), "breakdown"]);
      console.log(`\n${contender}: heap snapshot difference per client (N = ${breakdownN}), ${r.breakdown!.reduce((s, x) => s + x.bytes, 0).toFixed(0)} bytes in all`);
      for (const row of r.breakdown!.slice(0, 40)) {
        console.log(`  ${row.bytes.toFixed(0).padStart(7)} B  ${row.count.toFixed(2).padStart(7)} x  ${row.kind}`);
      }
    }
  }
  server.close();
  process.exit(0);
}

const argv = process.argv.slice(2);
if (argv[0] === "child") await child(argv[1]!, Number(argv[2]), Number(argv[3]), argv[4] === "breakdown");
else await main(argv);
