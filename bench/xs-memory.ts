// `npm run bench:xs`: the client's memory on the real XS engine (xsnap-worker, the engine Moddable runs on
// an ESP32), with ESP32_BUDGET, connected to a mosquitto this script starts on loopback. Prints a
// README-ready table: the idle connected client; live slots after gc() once 2,000 and 10,000 QoS 0 and
// 10,000 QoS 1 messages have gone each way; compute and short-lived slots per message received and sent.
// Columns: the client on hosts/moddable (over fakes of Moddable's socket/timer/time modules), on the lane's
// plain bridge host, and Moddable's own mqtt module (MQTT 3.1.1, QoS 0 only) taken from the SDK at run time
// (../shared/moddable-sdk, set up by scripts/setup-tests.sh) over the same fakes and bridge, with the ratio of
// hosts/moddable to it and the issue-12 targets. Then tinymqtt/lite (hosts/moddable/lite.ts, the API of Moddable's
// mqtt module) beside Moddable's mqtt, both driven by the same harness over the same fakes, with the same targets.
//
//   node dist/bench/xs-memory.js [--messages 2000,10000] [--payload 32]
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ESP32_BUDGET } from "../src/engine/budget.js";
import { startMosquitto } from "../test/support/mosquitto.js";
import { moddableSdk } from "../test/support/moddable.js";
import { repoRoot } from "../test/support/xs/xsnap.js";
import { type CensusGroup, type MemoryProfile, type PeerProfile, bareSocket, profileMemory, profileModdableMqtt } from "../test/hosts/moddable/xs-client/memory.js";

/** sizeof(txSlot) in XS on a 32-bit microcontroller such as the ESP32. */
const SLOT_BYTES_ESP32 = 16;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}

const checkpoints = arg("messages", "2000,10000").split(",").map(Number);
const payloadBytes = Number(arg("payload", "32"));
const n = (x: number): string => Math.round(x).toLocaleString("en-US");
const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

/** Moddable's mqtt module in the SDK beside the repository, or undefined (the column is then left out, loudly). */
function moddableMqttSource(): { path: string; version: string } | undefined {
  const sdk = moddableSdk();
  const path = sdk === undefined ? undefined : join(sdk.env["MODDABLE"]!, "modules/network/mqtt/mqtt.js");
  return sdk === undefined || path === undefined || !existsSync(path) ? undefined : { path, version: sdk.version };
}

const broker = await startMosquitto({ maxInflightMessages: 100, maxQueuedMessages: 20000 });
try {
  const profiles: MemoryProfile[] = [];
  for (const moddable of [true, false]) {
    console.error(`${moddable ? "hosts/moddable" : "bridge host"}:`);
    profiles.push(await profileMemory({ broker, checkpoints, payloadBytes, moddable, log: (line) => console.error(`  ${line}`) }));
  }
  const source = moddableMqttSource();
  let peer: PeerProfile | undefined;
  if (source === undefined) {
    console.error("\n*** NOTE: no Moddable SDK beside the repository (../shared/moddable-sdk): Moddable's mqtt column is LEFT OUT ***\n");
  } else {
    console.error(`Moddable mqtt (${source.path}):`);
    peer = await profileModdableMqtt({ broker, moddableMqtt: source.path, checkpoints, payloadBytes, log: (line) => console.error(`  ${line}`) });
  }
  // tinymqtt/lite has the API of Moddable's mqtt module: the same harness drives it, over the same fakes.
  console.error("tinymqtt/lite (hosts/moddable/lite.ts):");
  const lite = await profileModdableMqtt({ broker, moddableMqtt: join(repoRoot(), "hosts/moddable/lite.ts"), checkpoints, payloadBytes,
    qos1Messages: checkpoints[0], log: (line) => console.error(`  ${line}`) });
  // A PUBLISH as both clients send it here: fixed header 2, topic length 2, the topic, the payload.
  const fakes = await bareSocket(broker, 2 + 2 + "xsmem/mqttjs/out".length + payloadBytes);
  const bare = fakes.slots;
  const mine = profiles[0]!;
  const b = ESP32_BUDGET;
  const ratio = (a: number, z: number): string => `${(a / z).toFixed(2)}x`;
  const row = (label: string, cell: (p: MemoryProfile) => string, peerCell: () => string = () => "", ratioCell: () => string = () => ""): void => {
    console.log(`| ${label} | ${profiles.map(cell).join(" | ")}${peer === undefined ? "" : ` | ${peerCell()} | ${ratioCell()}`} |`);
  };
  const objects = (p: MemoryProfile | PeerProfile, slots: number): string => `${n(slots - p.baseSlots)} slots = ${kib((slots - p.baseSlots) * SLOT_BYTES_ESP32)}`;
  const cost = (p: MemoryProfile | PeerProfile, what: string): PhaseCostLike | undefined => p.costs.find((c) => c.what === what);
  console.log(`\nOne connected client inside XS (xsnap-worker), ESP32_BUDGET (maxPacketSize ${b.maxPacketSize}, outputBytes ${b.outputBytes}, ` +
    `storeBytes ${b.storeBytes}, maxMessages ${b.maxMessages}), ${payloadBytes}-byte payloads, against mosquitto. ` +
    `Live slots are read from the worker's meter after gc(); bytes are for an ESP32 (16-byte XS slots).` +
    (peer === undefined ? "" : ` Moddable's mqtt module from SDK ${source!.version} (modules/network/mqtt/mqtt.js, bundled at run time), ` +
      "over the same fakes and bridge as hosts/moddable; the last column divides hosts/moddable by it.") + "\n");
  console.log(`| | on hosts/moddable | on the bridge host |${peer === undefined ? "" : " Moddable mqtt.js (same fakes) | hosts/moddable ÷ mqtt.js |"}`);
  console.log(`|---|---:|---:|${peer === undefined ? "" : "---:|---:|"}`);
  row("idle connected client: objects", (p) => objects(p, p.idleSlots), () => objects(peer!, peer!.idleSlots),
    () => ratio(mine.idleSlots - mine.baseSlots, peer!.idleSlots - peer!.baseSlots));
  const beyond = (p: MemoryProfile | PeerProfile): number => p.idleSlots - p.baseSlots - bare;
  row(`idle connected client: objects beyond the fakes' socket and timer (${bare} slots; native on a device)`,
    (p) => `${n(beyond(p))} slots = ${kib(beyond(p) * SLOT_BYTES_ESP32)}`, () => `${n(beyond(peer!))} slots = ${kib(beyond(peer!) * SLOT_BYTES_ESP32)}`,
    () => ratio(beyond(mine), beyond(peer!)));
  row("idle connected client: buffers and tables (allocated up front)", (p) => kib(p.bufferBytes), () => "none (a buffer per packet)");
  row("**idle connected client, in all**", (p) => `**${kib((p.idleSlots - p.baseSlots) * SLOT_BYTES_ESP32 + p.bufferBytes)}**`);
  for (const [i, c] of mine.checkpoints.entries()) {
    row(`objects after ${n(c.messages)} QoS 0 + ${n(c.messages)} QoS 1 messages each way`, (p) => objects(p, p.checkpoints[i]!.slots),
      () => `${objects(peer!, peer!.checkpoints[i]!.slots)} (QoS 0 only)`);
  }
  const growth = (p: MemoryProfile | PeerProfile): string => {
    const grown = p.checkpoints[p.checkpoints.length - 1]!.slots - p.checkpoints[0]!.slots;
    return grown === 0 ? "**none** (0 slots)" : `${grown} slots`;
  };
  if (checkpoints.length > 1) {
    row(`growth from ${n(checkpoints[0]!)} to ${n(checkpoints[checkpoints.length - 1]!)} messages`, growth, () => growth(peer!));
  }
  for (const c of mine.costs) {
    const theirs = peer === undefined ? undefined : cost(peer, c.what);
    row(`per message ${c.what}: XS compute / short-lived slots`, (p) => `${n(cost(p, c.what)!.compute)} / ${cost(p, c.what)!.transientSlots.toFixed(0)}`,
      () => (theirs === undefined ? "(no QoS 1)" : `${n(theirs.compute)} / ${theirs.transientSlots.toFixed(0)}`),
      () => (theirs === undefined ? "" : ratio(c.compute, theirs.compute)));
  }
  console.log("\nCompute is the meter's deterministic count of XS work. Per-message figures include the lane's bridge (a socket");
  console.log("write is an issueCommand to Node, a received TCP segment a handleCommand from it) and, on hosts/moddable and for");
  console.log("Moddable's mqtt, the fakes of Moddable's socket/timer/time modules; short-lived slots are garbage the next GC takes");
  console.log("back. Sending includes each side's driving code in the app: tinymqtt's burst publishes again from onPublish, Moddable's");
  console.log("mqtt (no flow control, no QoS 0 callback) is called in batches while the socket has room. Moddable's mqtt writes each");
  console.log(`PUBLISH with a write() of its own: through the fakes and the bridge one costs ${n(fakes.computePerWrite)} compute (measured on a bare`);
  console.log("socket), which on a device is a native call; tinymqtt writes what it has queued in one write().");
  if (peer !== undefined) {
    const target = (what: string, limit: number, mineValue: number, theirs: number): string => {
      const r = mineValue / theirs;
      return `- ${what}: ${r.toFixed(2)}x (target <= ${limit}x): ${r <= limit ? "met" : `missed by ${((r / limit - 1) * 100).toFixed(0)} %`}`;
    };
    console.log("\nIssue-12 targets, hosts/moddable against Moddable's mqtt in this run:");
    console.log(target("idle connected client objects (slots), as measured here", 1.5, mine.idleSlots - mine.baseSlots, peer.idleSlots - peer.baseSlots));
    console.log(target("idle connected client objects beyond the fakes' socket and timer (what a device pays)", 1.5, beyond(mine), beyond(peer)));
    console.log(target("XS compute per QoS 0 message sent", 1.0, cost(mine, "sent QoS 0")!.compute, cost(peer, "sent QoS 0")!.compute));
    console.log(target("the same, less Moddable's write() per PUBLISH through the fakes (native on a device; tinymqtt's fewer, batched writes left in, so an upper bound)", 1.0,
      cost(mine, "sent QoS 0")!.compute, cost(peer, "sent QoS 0")!.compute - fakes.computePerWrite));
    console.log(target("XS compute per QoS 0 message received", 0.8, cost(mine, "received QoS 0")!.compute, cost(peer, "received QoS 0")!.compute));
    console.log(`- QoS 1 beside them (Moddable's mqtt has none): sent ${n(cost(mine, "sent QoS 1")!.compute)}, received ${n(cost(mine, "received QoS 1")!.compute)}`);
    console.log(`- slot growth per message: ${growth(mine)} (Moddable's mqtt: ${growth(peer)})`);
    const top = (groups: CensusGroup[]): string => groups.slice(0, 10).map((g) => `${g.path} ${g.slots} (${g.objects} objects)`).join(", ");
    console.log("\nWhere the idle objects are (app.ts census: reachable through own properties, frozen and shared objects and the");
    console.log("fakes' socket left out; estimated slots, by the first two property names):");
    console.log(`- hosts/moddable Client, ${mine.census.reduce((x, g) => x + g.slots, 0)} slots: ${top(mine.census)}`);
    console.log(`- Moddable mqtt, ${peer.census.reduce((x, g) => x + g.slots, 0)} slots: ${top(peer.census)}`);
  }
  if (peer !== undefined) printLite(lite, peer, bare);
} finally {
  await broker.stop();
}

/** tinymqtt/lite beside Moddable's mqtt, both driven by the same harness over the same fakes, with issue 12's targets. */
function printLite(lite: PeerProfile, peer: PeerProfile, bare: number): void {
  const ratio = (a: number, z: number): string => `${(a / z).toFixed(2)}x`;
  const idle = (p: PeerProfile): number => p.idleSlots - p.baseSlots;
  const beyond = (p: PeerProfile): number => idle(p) - bare;
  const cost = (p: PeerProfile, what: string): number => p.costs.find((c) => c.what === what)!.compute;
  const growth = (p: PeerProfile): number => p.checkpoints[p.checkpoints.length - 1]!.slots - p.checkpoints[0]!.slots;
  console.log("\ntinymqtt/lite (manifests/lite.json: the API of Moddable's mqtt module, MQTT 3.1.1 with QoS 0/1/2, will, keepalive,");
  console.log("reconnect; maxPacketSize 1024) and Moddable's mqtt, driven by the same calls over the same fakes and bridge:\n");
  console.log("| | tinymqtt/lite | Moddable mqtt.js | lite ÷ mqtt.js |");
  console.log("|---|--:|--:|--:|");
  const line = (label: string, a: number, z: number, unit = (x: number): string => n(x)): void => console.log(`| ${label} | ${unit(a)} | ${unit(z)} | ${ratio(a, z)} |`);
  const slots = (x: number): string => `${n(x)} slots = ${kib(x * SLOT_BYTES_ESP32)}`;
  line("idle connected client: objects", idle(lite), idle(peer), slots);
  line(`the same beyond the fakes' socket and timer (${bare} slots)`, beyond(lite), beyond(peer), slots);
  console.log(`| growth from ${n(checkpoints[0]!)} to ${n(checkpoints[checkpoints.length - 1]!)} messages | ${growth(lite)} slots | ${growth(peer)} slots | |`);
  line("compute per message received, QoS 0", cost(lite, "received QoS 0"), cost(peer, "received QoS 0"));
  line("compute per message sent, QoS 0", cost(lite, "sent QoS 0"), cost(peer, "sent QoS 0"));
  console.log(`| compute per message received / sent, QoS 1 | ${n(cost(lite, "received QoS 1"))} / ${n(cost(lite, "sent QoS 1"))} | (QoS 0 only) | |`);
  const target = (what: string, limit: number, r: number): string =>
    `- ${what}: ${r.toFixed(2)}x (target <= ${limit}x): ${r <= limit ? "met" : `missed by ${((r / limit - 1) * 100).toFixed(0)} %`}`;
  console.log("\nIssue-12 targets, tinymqtt/lite against Moddable's mqtt in this run:");
  console.log(target("idle connected client objects beyond the fakes' socket and timer", 1.5, beyond(lite) / beyond(peer)));
  console.log(target("idle connected client objects, the fakes included", 1.5, idle(lite) / idle(peer)));
  console.log(target("XS compute per QoS 0 message sent", 1.0, cost(lite, "sent QoS 0") / cost(peer, "sent QoS 0")));
  console.log(target("XS compute per QoS 0 message received", 0.8, cost(lite, "received QoS 0") / cost(peer, "received QoS 0")));
  console.log(`- QoS 1 beside them (Moddable's mqtt has none): received ${n(cost(lite, "received QoS 1"))}, sent ${n(cost(lite, "sent QoS 1"))} (its PUBACKs included)`);
  console.log(`- slot growth per message: ${growth(lite)} slots (Moddable's mqtt: ${growth(peer)})`);
}

interface PhaseCostLike { what: string; compute: number; transientSlots: number }
