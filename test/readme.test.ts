/**
 * The README as a user meets it: every TypeScript example in it runs as written (compiled from the README's
 * own text, the broker's address being the only thing changed) and prints what its comments say; the API
 * reference and the license it links are in the repository; and the differences from Paho it lists hold
 * against mosquitto.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";
import { Client } from "../hosts/node/index.js";
import { type Broker, startMosquitto } from "./support/mosquitto.js";
import { startProxy } from "./support/proxy.js";
import { runNode } from "./support/run.js";
import { within } from "./support/wait.js";

const packageRoot = fileURLToPath(new URL("../..", import.meta.url));
const readme = fs.readFileSync(path.join(packageRoot, "README.md"), "utf8");
const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

/**
 * Runs one README example as a program. It is written inside the package (dist/readme-examples/), so its
 * `import ... from "tinymqtt"` resolves to this package as it would in a user's project, and run from
 * `cwd`. The only edit: `connect("localhost", 1883` points at the test's broker.
 */
async function runExample(index: number, broker: Broker | undefined, cwd: string): Promise<string> {
  let source = examples[index]!;
  if (broker !== undefined) {
    const to = `connect(${JSON.stringify(broker.host)}, ${broker.port}`;
    assert.ok(source.includes(`connect("localhost", 1883`), "the example connects to localhost:1883");
    source = source.replace(`connect("localhost", 1883`, to);
  }
  const js = transformSync(source, { loader: "ts", format: "esm", target: "es2022" }).code;
  const dir = path.join(packageRoot, "dist", "readme-examples");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `example-${index}-${process.pid}.mjs`);
  fs.writeFileSync(file, js);
  try {
    const run = await runNode(file, [], { timeoutMs: 10_000, what: `README example ${index + 1}`, cwd });
    assert.equal(run.code, 0, `README example ${index + 1} failed: ${run.stderr}`);
    return run.stdout;
  } finally {
    fs.rmSync(file, { force: true });
  }
}

describe("README", { timeout: 60_000 }, () => {
  let broker: Broker;
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "tinymqtt-readme-"));
  before(async () => {
    broker = await startMosquitto();
  });
  after(() => {
    broker?.stop();
    fs.rmSync(cwd, { recursive: true, force: true });
  });

  test("has exactly the two TypeScript examples these tests run", () => {
    assert.equal(examples.length, 2);
  });

  test("the first example prints the message it publishes, as text, and ends", async () => {
    const out = await runExample(0, broker, cwd);
    assert.equal(out, "sensors/sensor-1/temperature 21.5\n");
  });

  test("the session store example makes a private store folder where it says", async () => {
    await runExample(1, undefined, cwd);
    const folder = path.join(cwd, "sensor-session");
    assert.equal((fs.statSync(folder).mode & 0o777).toString(8), "700");
  });

  test("links only files inside the repository, which exist: the API reference and the license", () => {
    assert.doesNotMatch(readme, /\.\.\/shared|\(\.\.\//, "no link outside the repository");
    const links = [...readme.matchAll(/\]\(([^)#:]+)\)/g)].map((m) => m[1]!);
    assert.ok(links.includes("docs/api.md") && links.includes("LICENSE"), `links: ${links.join(", ")}`);
    for (const link of links) assert.ok(fs.existsSync(path.join(packageRoot, link)), `${link} exists`);
    const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot, "package.json"), "utf8")) as { license: string; files: string[] };
    assert.equal(pkg.license, "EPL-2.0");
    const license = fs.readFileSync(path.join(packageRoot, "LICENSE"), "utf8");
    assert.match(license, /^Eclipse Public License - v 2\.0\n/);
    assert.match(license, /Exhibit A - Form of Secondary Licenses Notice/);
    assert.ok(pkg.files.includes("docs"), "the API reference ships in the package");
  });

  test("the differences from Paho it lists hold: a lost link reports 128 to onDisconnect, where Paho 1.x reports 7", async () => {
    const differences = readme.slice(readme.indexOf("Differences from Paho"), readme.indexOf("## The main job"));
    assert.match(differences, /lost link reports reason code 128/);
    assert.match(differences, /Paho 1\.x reports 7/);
    assert.match(differences, /QoS 2 message is delivered when its PUBLISH arrives/);
    assert.match(differences, /On MQTT 5, CONNECT carries Receive Maximum, Maximum Packet Size and Topic Alias Maximum/);

    const proxy = await startProxy(broker.port);
    const client = new Client();
    try {
      const connected = new Promise<void>((resolve) => (client.onConnect = () => resolve()));
      const lost = new Promise<number>((resolve) => (client.onDisconnect = (_c, _u, _f, reasonCode) => resolve(reasonCode)));
      await client.connect(proxy.host, proxy.port);
      client.loopStart();
      await within(connected, 5000, "CONNACK");
      proxy.cut();
      assert.equal(await within(lost, 5000, "onDisconnect"), 128);
    } finally {
      client.disconnect();
      client.loopStop();
      await proxy.close();
    }
  });
});
