// `node dist/bench/xs-publish-run.js [--count 2000]`: the Paho Client's publish path alone inside XS
// (xsnap-worker), over an in-memory link (bench/xs-publish.ts): the meter's compute per message published
// at QoS 0, 1 and 2, the difference between two counts so the command's fixed cost drops out. The meter is
// deterministic: the same commit prints the same figures, so a change shows to the unit.
import { build } from "esbuild";
import { join } from "node:path";
import { Xsnap, repoRoot } from "../test/support/xs/xsnap.js";

const i = process.argv.indexOf("--count");
const count = i > 0 ? Number(process.argv[i + 1]) : 2000;
// --entry: the same meter over another checkout (to compare commits: copy bench/xs-publish.ts there).
const e = process.argv.indexOf("--entry");
const entry = e > 0 ? process.argv[e + 1]! : join(repoRoot(), "bench/xs-publish.ts");
const out = await build({ entryPoints: [entry], bundle: true, write: false, format: "iife", platform: "neutral", target: "es2022", logLevel: "silent" });
const source = out.outputFiles[0]!.text;
const xs = new Xsnap();
try {
  await xs.evaluate(source);
  const encoder = new TextEncoder();
  const rows: string[] = [];
  if (process.argv.includes("--profile")) {
    // The method-level profile (bench/xs-profile.ts) of each QoS, after the plain figures' warm-up.
    for (const qos of [0, 1, 2]) {
      await xs.command(encoder.encode(`${qos} ${count}`));
      const reply = await xs.command(encoder.encode(`${qos} ${count} profile`));
      const { profile } = JSON.parse(new TextDecoder().decode(reply.result)) as { profile: Array<{ name: string; compute: number; calls: number }> };
      const total = profile.reduce((sum, p) => sum + p.compute, 0);
      console.log(`\nQoS ${qos}: ${Math.round(total)} per message with the profiler's wrappers; exclusive compute per message by method:`);
      for (const p of profile.slice(0, 40)) console.log(`  ${p.compute.toFixed(0).padStart(7)}  ${p.calls.toFixed(2).padStart(6)} calls  ${p.name}`);
    }
  }
  for (const qos of [0, 1, 2]) {
    const run = async (n: number): Promise<number> => {
      const reply = await xs.command(encoder.encode(`${qos} ${n}`));
      const { published } = JSON.parse(new TextDecoder().decode(reply.result)) as { published: number };
      if (published !== n) throw new Error(`QoS ${qos}: ${published} of ${n} published`);
      return reply.meter.compute;
    };
    await run(count); // warm: the first publishes of a QoS take the paths that allocate once
    const small = await run(count);
    const large = await run(2 * count);
    rows.push(`| QoS ${qos} | ${Math.round((large - small) / count).toLocaleString("en-US")} |`);
  }
  console.log(`XS compute per message published, the Client alone over an in-memory link (${count} vs ${2 * count} messages, 32-byte payloads):\n`);
  console.log("| | compute per message |\n|---|--:|");
  for (const row of rows) console.log(row);
} finally {
  await xs.close();
}
