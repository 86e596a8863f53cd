// `npm run size`: how much code a Moddable application takes in with tinymqtt, minified by esbuild
// (and gzipped), beside Moddable's own MQTT modules and MQTT.js's browser bundle.
//
// Moddable's modules are the SDK's, not ours: they are measured from $MODDABLE (a Moddable SDK checkout)
// when it is set, and otherwise the figures recorded below are printed, marked as such.
//
//   node dist/bench/size.js
import { build, transform } from "esbuild";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { repoRoot } from "../test/support/xs/xsnap.js";

/** Modules Moddable provides (native or SDK JavaScript): not part of what we ship. */
const MODDABLE_MODULES = ["socket", "securesocket", "time", "timer", "Resource", "websocket", "mc/config", "net", "file", "flash"];

interface Row {
  what: string;
  minified: number;
  gzipped: number;
  note?: string;
}

/** Recorded from Moddable SDK 8.2.3 (commit 48ee02d8c), the same esbuild minify as below. */
const RECORDED: Record<string, { minified: number; gzipped: number }> = {
  "modules/network/mqtt/mqtt.js": { minified: 9021, gzipped: 2931 },
  "examples/io/tcp/mqttclient/mqttclient.js": { minified: 9092, gzipped: 3166 },
};

const root = repoRoot();

async function bundle(what: string, entry: string): Promise<Row> {
  const out = await build({
    entryPoints: [join(root, entry)],
    bundle: true,
    write: false,
    minify: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    external: MODDABLE_MODULES,
    logLevel: "silent",
  });
  const bytes = out.outputFiles[0]!.contents;
  return { what, minified: bytes.length, gzipped: gzipSync(bytes, { level: 9 }).length };
}

/** Every module the manifest compiles into a Moddable build: all of src/ and hosts/moddable/, imported or not. */
async function manifestModules(what: string): Promise<Row> {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (path !== "hosts/moddable/entries") walk(path);
      } else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) files.push(path);
    }
  };
  walk("src");
  walk("hosts/moddable");
  const contents = files.map((f, i) => `export * as m${i} from ${JSON.stringify(`./${f}`)};`).join("\n");
  const out = await build({
    stdin: { contents, resolveDir: root, loader: "ts" },
    bundle: true,
    write: false,
    minify: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    external: MODDABLE_MODULES,
    logLevel: "silent",
  });
  const bytes = out.outputFiles[0]!.contents;
  return { what, minified: bytes.length, gzipped: gzipSync(bytes, { level: 9 }).length, note: `${files.length} modules` };
}

async function moddable(what: string, path: string): Promise<Row> {
  const sdk = process.env["MODDABLE"];
  const file = sdk === undefined ? undefined : join(sdk, path);
  if (file !== undefined && existsSync(file)) {
    const out = await transform(readFileSync(file, "utf8"), { minify: true, format: "esm", target: "es2022", loader: "js" });
    const bytes = Buffer.from(out.code);
    return { what, minified: bytes.length, gzipped: gzipSync(bytes, { level: 9 }).length, note: `measured from ${file}` };
  }
  const r = RECORDED[path]!;
  return { what, ...r, note: "recorded from Moddable SDK 8.2.3; set MODDABLE to re-measure" };
}

function file(what: string, path: string, note: string): Row {
  const bytes = readFileSync(join(root, path));
  return { what, minified: bytes.length, gzipped: gzipSync(bytes, { level: 9 }).length, note };
}

const rows: Row[] = [
  await bundle("tinymqtt core, Paho API (src/index.ts)", "src/index.ts"),
  await bundle("**tinymqtt for Moddable, Paho API** (core + Moddable host: `import { Client } from \"tinymqtt\"`)", "hosts/moddable/client.ts"),
  await bundle("tinymqtt for Moddable, Paho API for MQTT 3.1.1 (`import { Client } from \"tinymqtt/mqtt311\"`: no MQTT 5, no failover)", "hosts/moddable/mqtt311.ts"),
  await bundle("tinymqtt for Moddable, ECMA-419 only (`embedded:network/mqtt/client`)", "hosts/moddable/ecma419-client.ts"),
  await bundle("tinymqtt/lite for Moddable (`import Client from \"tinymqtt/lite\"`: the API of Moddable's `mqtt`, MQTT 3.1.1, QoS 0/1/2, reconnect)", "hosts/moddable/lite.ts"),
  await manifestModules("tinymqtt, every module the manifest builds in (both APIs, publish/subscribe helpers, session code)"),
  await moddable("Moddable `mqtt` module (MQTT 3.1.1, QoS 0 only; its WebSocket transport not counted)", "modules/network/mqtt/mqtt.js"),
  await moddable("Moddable ECMA-419 `embedded:network/mqtt/client` (SDK example; MQTT 3.1.1, no resend or session)", "examples/io/tcp/mqttclient/mqttclient.js"),
  file("MQTT.js 5 browser bundle (dist/mqtt.min.js)", "node_modules/mqtt/dist/mqtt.min.js", "as shipped"),
];

const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB (${n.toLocaleString("en-US")} B)`;
console.log("| code | minified | minified + gzip | |");
console.log("|---|---:|---:|---|");
for (const r of rows) console.log(`| ${r.what} | ${kib(r.minified)} | ${kib(r.gzipped)} | ${r.note ?? ""} |`);
console.log("\nesbuild --minify, ES2022; Moddable's own modules (socket, timer, time, securesocket) are not counted on either side.");
