// `npm run bench:xs`: the client's memory on the real XS engine (xsnap-worker, the engine Moddable runs on
// an ESP32), with ESP32_BUDGET, connected to a mosquitto this script starts on loopback. Prints a
// README-ready table: the idle connected client; live slots after gc() once 2,000 and 10,000 QoS 0 and
// 10,000 QoS 1 messages have gone each way; compute and short-lived slots per message received and sent.
// Two columns: the client on hosts/moddable (over fakes of Moddable's socket/timer/time modules) and on
// the lane's plain bridge host.
//
//   node dist/bench/xs-memory.js [--messages 2000,10000] [--payload 32]
import { ESP32_BUDGET } from "../src/engine/budget.js";
import { startMosquitto } from "../test/support/mosquitto.js";
import { type MemoryProfile, profileMemory } from "../test/hosts/moddable/xs-client/memory.js";

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

const broker = await startMosquitto({ maxInflightMessages: 100, maxQueuedMessages: 20000 });
try {
  const profiles: MemoryProfile[] = [];
  for (const moddable of [true, false]) {
    console.error(`${moddable ? "hosts/moddable" : "bridge host"}:`);
    profiles.push(await profileMemory({ broker, checkpoints, payloadBytes, moddable, log: (line) => console.error(`  ${line}`) }));
  }
  const b = ESP32_BUDGET;
  const row = (label: string, cell: (p: MemoryProfile) => string): void => {
    console.log(`| ${label} | ${profiles.map(cell).join(" | ")} |`);
  };
  const objects = (p: MemoryProfile, slots: number): string => `${n(slots - p.baseSlots)} slots = ${kib((slots - p.baseSlots) * SLOT_BYTES_ESP32)}`;
  console.log(`\nOne connected client inside XS (xsnap-worker), ESP32_BUDGET (maxPacketSize ${b.maxPacketSize}, outputBytes ${b.outputBytes}, ` +
    `storeBytes ${b.storeBytes}, maxMessages ${b.maxMessages}), ${payloadBytes}-byte payloads, against mosquitto. ` +
    `Live slots are read from the worker's meter after gc(); bytes are for an ESP32 (16-byte XS slots).\n`);
  console.log("| | on hosts/moddable | on the bridge host |");
  console.log("|---|---:|---:|");
  row("idle connected client: objects", (p) => objects(p, p.idleSlots));
  row("idle connected client: buffers and tables (allocated up front)", (p) => kib(p.bufferBytes));
  row("**idle connected client, in all**", (p) => `**${kib((p.idleSlots - p.baseSlots) * SLOT_BYTES_ESP32 + p.bufferBytes)}**`);
  for (const [i, c] of profiles[0]!.checkpoints.entries()) {
    row(`objects after ${n(c.messages)} QoS 0 + ${n(c.messages)} QoS 1 messages each way`, (p) => objects(p, p.checkpoints[i]!.slots));
  }
  if (checkpoints.length > 1) {
    row(`growth from ${n(checkpoints[0]!)} to ${n(checkpoints[checkpoints.length - 1]!)} messages`, (p) => {
      const grown = p.checkpoints[p.checkpoints.length - 1]!.slots - p.checkpoints[0]!.slots;
      return grown === 0 ? "**none** (0 slots)" : `${grown} slots`;
    });
  }
  for (const [i, c] of profiles[0]!.costs.entries()) {
    row(`per message ${c.what}: XS compute / short-lived slots`, (p) => `${n(p.costs[i]!.compute)} / ${p.costs[i]!.transientSlots.toFixed(0)}`);
  }
  console.log("\nCompute is the meter's deterministic count of XS work. Per-message figures include the lane's bridge (a socket");
  console.log("write is an issueCommand to Node, a received TCP segment a handleCommand from it) and, on hosts/moddable, the");
  console.log("fakes of Moddable's socket/timer/time modules; short-lived slots are garbage the next GC takes back.");
} finally {
  await broker.stop();
}
