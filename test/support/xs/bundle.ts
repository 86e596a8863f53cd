// Bundles one portable suite (TypeScript sources, no tsc step) into a single script for XS.
// The script defines globalThis.handleCommand(ArrayBuffer): the request is a test name in UTF-8
// (empty = run all) and the reply is the JSON Summary of test/codec/portable/harness.ts, UTF-8 encoded.
// XS has TextEncoder/TextDecoder, so no hand-rolled UTF-8 is needed.
import { build } from "esbuild";
import { dirname, join, resolve } from "node:path";
import { repoRoot } from "./xsnap.js";

export async function bundleSuite(suitePath: string): Promise<string> {
  const suite = resolve(suitePath);
  const harness = join(repoRoot(), "test/codec/portable/harness.ts");
  const entry = `
    import { tests } from ${JSON.stringify(suite)};
    import { runTests } from ${JSON.stringify(harness)};
    globalThis.handleCommand = (request) => {
      const name = new TextDecoder().decode(request);
      const summary = runTests(tests, name === "" ? undefined : name);
      return new TextEncoder().encode(JSON.stringify(summary)).buffer;
    };`;
  const out = await build({
    stdin: { contents: entry, loader: "ts", resolveDir: dirname(suite), sourcefile: "xs-entry.ts" },
    bundle: true,
    write: false,
    format: "iife",
    platform: "neutral",
    target: "es2022",
    logLevel: "silent", // errors are thrown with their messages; no duplicate printing
  });
  const file = out.outputFiles[0];
  if (!file) throw new Error(`esbuild produced no output for ${suite}`);
  return file.text;
}
