// Registers every compiled portable suite (dist/test/codec/portable/*.suite.js) as node:test tests, so the
// same cases that run in XS (test/codec/xs.test.ts) run under Node with its usual reporting.
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { PortableTest } from "./portable/harness.js";

const dir = join(dirname(fileURLToPath(import.meta.url)), "portable");
const suites = readdirSync(dir).filter((f) => f.endsWith(".suite.js")).sort();

for (const file of suites) {
  const { tests } = (await import(pathToFileURL(join(dir, file)).href)) as { tests: PortableTest[] };
  describe(file.replace(/\.js$/, ".ts"), () => {
    for (const t of tests) test(t.name, () => t.fn());
  });
}
