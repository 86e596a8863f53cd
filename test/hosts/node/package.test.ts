/**
 * The package as a user installs it: `npm pack`, then an install of the tarball in a temporary folder
 * (offline: the library has no runtime dependencies to fetch), then the `tinymqtt` bin from there.
 * `simulate` without --broker needs aedes, an optional peer dependency: without it the command says in one
 * line how to get it; with it (linked from this repository's node_modules) the same command runs.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runNode } from "../../support/run.js";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const SIMULATE = ["simulate", "--devices", "3", "--rate", "1", "--duration", "1", "--report", ""];
let dir: string;
let bin: string;

/** A folder none of whose parents holds a node_modules/aedes (which Node would find from the install). */
function isolatedTemp(): string {
  for (const root of ["/var/tmp", tmpdir()]) {
    if (!existsSync(root)) continue;
    let up = root;
    while (!existsSync(join(up, "node_modules", "aedes")) && dirname(up) !== up) up = dirname(up);
    if (!existsSync(join(up, "node_modules", "aedes"))) return mkdtempSync(join(root, "tinymqtt-package-"));
  }
  throw new Error("every temporary folder has a node_modules/aedes above it: the install would not be isolated");
}

before(() => {
  dir = isolatedTemp();
  const npm = (args: string[], cwd: string): string => execFileSync("npm", args, { cwd, encoding: "utf8", timeout: 120_000, stdio: ["ignore", "pipe", "pipe"] });
  const tarball = npm(["pack", "--silent", "--pack-destination", dir], ROOT).trim().split("\n").pop()!;
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "user-project", version: "1.0.0", private: true }));
  npm(["install", "--offline", "--no-audit", "--no-fund", join(dir, tarball)], dir);
  bin = join(dir, "node_modules", "tinymqtt", "dist", "hosts", "node", "cli.js");
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("installed from the packed tarball, simulate without aedes says in one line how to make it work, exit 1", { timeout: 180_000 }, async () => {
  const run = await runNode(bin, SIMULATE, { timeoutMs: 30_000 });
  assert.equal(run.code, 1);
  assert.equal(run.stderr, "Error: the in-process broker needs aedes, an optional peer dependency: run \"npm install aedes\" beside tinymqtt, " +
    "or give a broker: tinymqtt simulate --broker mqtt://host:port\n");
});

test("installed from the packed tarball with aedes beside it, simulate runs against the in-process broker, exit 0", { timeout: 60_000 }, async () => {
  symlinkSync(join(ROOT, "node_modules", "aedes"), join(dir, "node_modules", "aedes"), "dir");
  const run = await runNode(bin, SIMULATE, { timeoutMs: 45_000 });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /^broker +in-process aedes on 127\.0\.0\.1:\d+$/m);
  assert.match(run.stdout, /^result +ok/m);
});

test("installed from the packed tarball, tinymqtt/lite resolves to the lite client on Node", { timeout: 30_000 }, async () => {
  const script = join(dir, "lite-import.mjs");
  writeFileSync(script, 'import { Client } from "tinymqtt/lite";\n' +
    'try { new Client({ host: "" }); } catch (e) { console.log(`${typeof Client} ${e.message}`); }\n');
  const run = await runNode(script, [], { timeoutMs: 20_000 });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "function parameter host is required\n");
});
