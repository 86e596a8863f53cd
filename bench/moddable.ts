// npm run bench:moddable: tinymqtt on Moddable's own toolchain beside Moddable's own MQTT module, in one run.
// Five apps (bench/moddable/*) are built with `mcconfig -i -m -p lin -t build` (release code with
// instrumentation) from the SDK that scripts/setup-tests.sh sets up (../shared/moddable-sdk; Moddable's `mqtt`
// module is taken from that SDK at build time, never copied here), and run in mcsim against one mosquitto:
// tinymqtt's Paho profile (manifests/tinymqtt.json, 1 KiB packets), its 3.1.1 Paho profile (manifests/mqtt311.json:
// no MQTT 5, no failover), its ECMA-419 profile (3.1.1 too), its lite profile (manifests/lite.json: the smallest
// client, with the API of Moddable's mqtt module, MQTT 3.1.1 with QoS 0/1/2, will, keepalive and reconnect), and
// Moddable's mqtt (MQTT 3.1.1, QoS 0 only). Each connects, idles, then publishes 2,000 and 8,000 more QoS 0
// messages of 32 bytes. Printed: the XS bytecode of each client's modules (the .xsb files xsc wrote), and
// live XS slot and chunk heap use (after a gc) once connected and idle, and after 2,000 and 10,000 messages.
// mcsim on Linux is 64-bit: a slot is 32 bytes there (16 on an ESP32), so compare the columns, not a device.
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startMosquitto } from "../test/support/mosquitto.js";
import { type BuiltApp, buildApp, moddableSdk, startApp } from "../test/support/moddable.js";
import { until } from "../test/support/wait.js";

const sdk = moddableSdk();
if (sdk === undefined) {
  console.error("bench:moddable needs the Moddable SDK beside the repository (../shared/moddable-sdk)");
  process.exit(1);
}

interface Side { name: string; app: string; modules: (file: string) => boolean }
const SIDES: Side[] = [
  { name: "tinymqtt (\"tinymqtt\", manifests/tinymqtt.json)", app: "bench/moddable/tinymqtt", modules: (f) => f === "tinymqtt.xsb" || f.startsWith("tinymqtt/") },
  { name: "tinymqtt 3.1.1 (\"tinymqtt/mqtt311\", manifests/mqtt311.json)", app: "bench/moddable/mqtt311", modules: (f) => f.startsWith("tinymqtt/") },
  { name: "tinymqtt ECMA-419 (manifests/ecma419.json)", app: "bench/moddable/ecma419", modules: (f) => f.startsWith("tinymqtt/") || f.startsWith("~.embedded/network/mqtt/") },
  { name: "tinymqtt lite (\"tinymqtt/lite\", manifests/lite.json)", app: "bench/moddable/lite", modules: (f) => f === "tinymqtt/lite.xsb" || f.startsWith("tinymqtt/") },
  { name: "Moddable mqtt (SDK modules/network/mqtt)", app: "bench/moddable/moddable-mqtt", modules: (f) => f === "mqtt.xsb" },
];

// BENCH_APPS=lite,mqtt311 (app folder names): a quicker look at some profiles; Moddable's mqtt always runs, as every ratio is to it.
const chosen = process.env["BENCH_APPS"]?.split(",");
const RUN_SIDES = SIDES.filter((side) => chosen === undefined || side.app === "bench/moddable/moddable-mqtt" || chosen.includes(side.app.split("/").pop()!));

function xsbFiles(dir: string, prefix = ""): Array<{ file: string; bytes: number }> {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => e.isDirectory()
    ? xsbFiles(join(dir, e.name), `${prefix}${e.name}/`)
    : e.name.endsWith(".xsb") ? [{ file: prefix + e.name, bytes: statSync(join(dir, e.name)).size }] : []);
}

interface Figures { bytecode: number; files: number; modules: Array<{ file: string; bytes: number }>; heap: Map<string, { slots: number; chunks: number }> }

async function measure(side: Side, built: BuiltApp): Promise<Figures> {
  const files = xsbFiles(built.modules).filter((x) => side.modules(x.file));
  const run = startApp(sdk!, built.binary);
  try {
    await until(() => run.lines.includes("bench: done"), 120_000, () => `${side.app} done; traces:\n${run.lines.join("\n")}`);
  } finally {
    run.kill();
    await run.exited;
  }
  const heap = new Map<string, { slots: number; chunks: number }>();
  for (const line of run.lines) {
    const m = /^bench: (.+) slots (\d+) chunks (\d+)$/.exec(line);
    if (m) heap.set(m[1]!, { slots: Number(m[2]), chunks: Number(m[3]) });
  }
  return { bytecode: files.reduce((n, x) => n + x.bytes, 0), files: files.length, modules: files.sort((a, b) => b.bytes - a.bytes), heap };
}

const broker = await startMosquitto();
const out = mkdtempSync(join(tmpdir(), "tinymqtt-bench-moddable-"));
try {
  const figures: Figures[] = [];
  for (const side of RUN_SIDES) {
    console.error(`building and running ${side.app}...`);
    const built = await buildApp(sdk, side.app, out, { broker: "127.0.0.1", port: String(broker.port) }, "-i");
    figures.push(await measure(side, built));
  }
  const peer = figures[figures.length - 1]!;
  const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
  const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}x` : "-");
  const delta = (f: Figures, label: string, what: "slots" | "chunks"): number => f.heap.get(label)![what] - f.heap.get("start")![what];
  console.log(`Moddable SDK ${sdk.version}, mcconfig -i -m -p lin -t build, mcsim (64-bit: 32-byte slots); ${new Date().toISOString().slice(0, 10)}`);
  console.log("");
  console.log("| | XS bytecode (.xsb) | idle connected: slots | chunks | slot growth 2k -> 10k msgs | chunk growth 2k -> 10k |");
  console.log("|---|--:|--:|--:|--:|--:|");
  const SLOT = 32;
  RUN_SIDES.forEach((side, i) => {
    const f = figures[i]!;
    const r = f === peer ? "" : ` (${ratio(f.bytecode, peer.bytecode)})`;
    const rs = f === peer ? "" : ` (${ratio(delta(f, "idle", "slots"), delta(peer, "idle", "slots"))})`;
    const rc = f === peer ? "" : ` (${ratio(delta(f, "idle", "chunks"), delta(peer, "idle", "chunks"))})`;
    const growS = f.heap.get("after 5x")!.slots - f.heap.get("after 1x")!.slots;
    const growC = f.heap.get("after 5x")!.chunks - f.heap.get("after 1x")!.chunks;
    console.log(`| ${side.name} | ${kib(f.bytecode)} in ${f.files} modules${r} | ${delta(f, "idle", "slots") / SLOT} slots = ${kib(delta(f, "idle", "slots"))}${rs} | ${kib(delta(f, "idle", "chunks"))}${rc} | ${growS} B | ${growC} B |`);
  });
  console.log("");
  console.log("Ratios in parentheses: to Moddable's mqtt in this run. Heap figures: live use once connected and idle, minus use");
  console.log("before the client was made (after a gc each time); chunks hold the buffers (tinymqtt here with a 1 KiB budget).");
  console.log("Here the socket and timers are native (a host object of a few slots) and every module is preloaded (its code and");
  console.log("frozen tables in flash, not in the slot heap): the slots are the client's own objects. npm run bench:xs runs both");
  console.log("clients over JavaScript fakes of socket/timer/time, which add their own slots to both sides (it prints how many).");
  console.log("");
  console.log("Largest modules of each profile (XS bytecode, the .xsb files xsc wrote):");
  RUN_SIDES.forEach((side, i) => {
    const f = figures[i]!;
    console.log(`- ${side.name}: ${f.modules.slice(0, 8).map((m) => `${m.file.replace(/\.xsb$/, "")} ${kib(m.bytes)}`).join(", ")}`);
  });
} finally {
  await broker.stop();
  rmSync(out, { recursive: true, force: true });
}
