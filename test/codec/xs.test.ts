// Runs every portable suite inside Moddable's real XS engine (xsnap-worker), one fresh worker each,
// and reports the engine's own meter: compute is deterministic, heap count is live XS slots.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { Summary } from "./portable/harness.js";
import { bundleSuite } from "../support/xs/bundle.js";
import { repoRoot, Xsnap } from "../support/xs/xsnap.js";

const dir = join(repoRoot(), "test/codec/portable");
const suites = readdirSync(dir).filter((f) => f.endsWith(".suite.ts")).sort();

for (const file of suites) {
  test(`XS: ${file}`, async (t) => {
    const source = await bundleSuite(join(dir, file));
    const xs = new Xsnap();
    try {
      const load = await xs.evaluate(source);
      const started = performance.now();
      const run = await xs.command(new Uint8Array(0));
      const ms = performance.now() - started;
      const summary = JSON.parse(new TextDecoder().decode(run.result)) as Summary;
      t.diagnostic(
        `${summary.passed} passed in ${ms.toFixed(1)} ms; run: compute ${run.meter.compute}, heap ${run.meter.currentHeapCount} slots; ` +
          `load (${(source.length / 1024).toFixed(1)} KiB): compute ${load.meter.compute}, heap ${load.meter.currentHeapCount} slots`,
      );
      const failures = summary.failed.map((f) => `  ✗ ${f.name}\n    ${f.message.replaceAll("\n", "\n    ")}`);
      assert.equal(summary.failed.length, 0, `${failures.length} failed in XS:\n${failures.join("\n")}`);
    } finally {
      await xs.close();
    }
  });
}
