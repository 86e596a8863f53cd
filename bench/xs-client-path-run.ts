// `node dist/bench/xs-client-path-run.js [--count 2000] [--profile] [--entry path]`: the Paho Client's own
// work inside XS (xsnap-worker) per message sent and received at QoS 0, 1 and 2, over an in-memory link
// (bench/xs-client-path.ts). Each figure is the meter's compute for 2 x count messages less that for count,
// so the command's fixed cost drops out. The meter is deterministic: the same commit prints the same
// figures, so a change shows to the unit. --profile adds, per direction and QoS, the compute of each method
// exclusive of what it calls (bench/xs-profile.ts). --entry: the same meter over another checkout (copy
// bench/xs-client-path.ts and xs-profile.ts there), to compare commits.
import { build } from "esbuild";
import { join } from "node:path";
import { Xsnap, repoRoot } from "../test/support/xs/xsnap.js";

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const count = Number(arg("count") ?? 2000);
const entry = arg("entry") ?? join(repoRoot(), "bench/xs-client-path.ts");
const out = await build({ entryPoints: [entry], bundle: true, write: false, format: "iife", platform: "neutral", target: "es2022", logLevel: "silent" });
const xs = new Xsnap();
const encoder = new TextEncoder();
interface Row { name: string; compute: number; calls: number }

async function call(command: string, expected: number): Promise<{ compute: number; profile: Row[] | undefined }> {
  const reply = await xs.command(encoder.encode(command));
  const { messages, profile } = JSON.parse(new TextDecoder().decode(reply.result)) as { messages: number; profile?: Row[] };
  if (messages !== expected) throw new Error(`${command}: ${messages} of ${expected} messages`);
  return { compute: reply.meter.compute, profile };
}

try {
  await xs.evaluate(out.outputFiles[0]!.text);
  const rows: string[] = [];
  for (const qos of [0, 1, 2]) {
    const cells: string[] = [];
    for (const direction of ["send", "receive"]) {
      await call(`${direction} ${qos} ${count}`, count); // warm: first uses take the paths that allocate once
      const small = await call(`${direction} ${qos} ${count}`, count);
      const large = await call(`${direction} ${qos} ${2 * count}`, 2 * count);
      cells.push(Math.round((large.compute - small.compute) / count).toLocaleString("en-US"));
    }
    rows.push(`| QoS ${qos} | ${cells.join(" | ")} |`);
  }
  console.log(`XS compute per message, the Paho Client alone over an in-memory link (${count} vs ${2 * count} messages, 32-byte payloads, ESP32_BUDGET, zero-copy messages):\n`);
  console.log("| | sent | received |\n|---|--:|--:|");
  for (const row of rows) console.log(row);
  if (process.argv.includes("--profile")) {
    // After the plain figures: the profiler's wrappers stay in place once installed.
    for (const direction of ["send", "receive"]) {
      for (const qos of [0, 1, 2]) {
        const { profile = [] } = await call(`${direction} ${qos} ${count} profile`, count);
        const total = profile.reduce((sum, p) => sum + p.compute, 0);
        console.log(`\n${direction} QoS ${qos}: ${Math.round(total)} per message with the profiler's wrappers; exclusive compute per message by method:`);
        for (const p of profile.slice(0, 30)) console.log(`  ${p.compute.toFixed(0).padStart(7)}  ${p.calls.toFixed(2).padStart(6)} calls  ${p.name}`);
      }
    }
  }
} finally {
  await xs.close();
}
