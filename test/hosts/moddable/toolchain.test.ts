/**
 * tinymqtt built and run by Moddable's own toolchain: mcconfig (with the project's TypeScript) compiles the
 * sources, xsl links them, and the apps run headless in mcsim against a mosquitto on loopback. Asserted from
 * the apps' traces and from what the broker delivers to a Node client:
 * - test/hosts/moddable/app: QoS 0/1/2 both ways through each manifest name ("tinymqtt", "tinymqtt/moddable",
 *   "embedded:network/mqtt/client"), which also proves that each name resolves;
 * - examples/moddable-sensor: it connects and reports; its will is delivered when the app is killed; after a
 *   broker restart (persistence on) it reconnects by itself and resumes its session;
 * - test/hosts/moddable/store-app: a FlashStore keeps QoS 1/2 publishes made while no broker listens across
 *   app restarts (SIGKILL), and the restarted app delivers them, each once. The lin platform has no flash
 *   module (the SDK gives it `file` and `preference`), so there "tinymqtt/session-partition" is a file under
 *   /tmp/ that behaves as flash (hosts/moddable/file-partition.ts) and the same FlashStore runs over it;
 *   power cuts at every flash write are tested on a fake flash (flash-store.test.ts);
 * - xsl prints no warning about tinymqtt's modules (frozen tables, no mutable module state).
 * Without the SDK beside the repository (../shared/moddable-sdk) the suite is skipped, loudly; in CI it fails.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, MQTT_ERR_SUCCESS, type ReceivedMessage } from "../../../hosts/node/index.js";
import { type Broker, freePort, startMosquitto } from "../../support/mosquitto.js";
import { type AppRun, type BuiltApp, buildApp, moddableSdk, recorder, startApp } from "../../support/moddable.js";
import { until, within } from "../../support/wait.js";

const sdk = moddableSdk();
if (sdk === undefined) {
  if (process.env["CI"]) throw new Error("the Moddable SDK (../shared/moddable-sdk) is missing: CI runs this suite");
  console.error("\n*** NOTE: the Moddable SDK (../shared/moddable-sdk) is missing: the toolchain tests are SKIPPED ***\n");
}

const LANES = ["tinymqtt", "tinymqtt-moddable", "ecma419"];
const BASE = `tinymqtt-mcsim-${process.pid}`;

let recorders = 0;

/** A Node client at the broker that records everything on `filter`. */
/** A recorder (test/support/moddable.ts) of one filter at QoS 2. */
function recorderOf(port: number, filter: string): ReturnType<typeof recorder> {
  return recorder(port, `${BASE}-recorder-${++recorders}`, [[filter, 2]]);
}

const text = (m: ReceivedMessage): string => Buffer.from(m.payload).toString("utf8");
const ours = (warning: string): boolean => /^### warning: (tinymqtt|embedded:network\/mqtt\/client)\b/.test(warning);

describe("the Moddable toolchain: mcconfig -p lin, mcsim, mosquitto", { skip: sdk === undefined ? "no Moddable SDK" : false }, () => {
  let broker: Broker;
  let out: string;
  let app: BuiltApp;
  let sensor: BuiltApp;
  let storeApp: BuiltApp;
  /** The port the store app connects to: nothing listens there until the test starts a broker on it. */
  let storePort: number;
  const storeBase = `${BASE}-store`;
  /** What the store app keeps under lin's file root (/tmp/): its run counter and its session partition. */
  const storeFiles = [`/tmp/${storeBase}.runs`, `/tmp/tinymqtt-${storeBase}-session.partition`];
  const runs: AppRun[] = [];
  const clients: Client[] = [];
  const brokers: Broker[] = [];

  before(async () => {
    broker = await startMosquitto({ persistence: true });
    out = mkdtempSync(join(tmpdir(), "tinymqtt-mcconfig-"));
    const config = { broker: "127.0.0.1", port: String(broker.port) };
    app = await buildApp(sdk!, "test/hosts/moddable/app", out, { ...config, base: BASE });
    sensor = await buildApp(sdk!, "examples/moddable-sensor", out, { ...config, sensorId: `${BASE}-sensor`, interval: "1" });
    storePort = await freePort();
    storeApp = await buildApp(sdk!, "test/hosts/moddable/store-app", out, { broker: "127.0.0.1", port: String(storePort), base: storeBase });
  }, { timeout: 900_000 });

  after(async () => {
    for (const run of runs) run.kill();
    for (const client of clients) client.disconnect();
    await broker?.stop();
    for (const b of brokers) await b.stop();
    for (const file of storeFiles) rmSync(file, { force: true });
    if (out !== undefined) rmSync(out, { recursive: true, force: true });
  });

  test("xsl prints no warning about tinymqtt's modules (tables frozen, no mutable module state)", () => {
    assert.deepEqual(app.warnings.filter(ours), []);
    assert.deepEqual(sensor.warnings.filter(ours), []);
    assert.deepEqual(storeApp.warnings.filter(ours), []);
    assert.ok(app.log.includes("### ") && /instances/.test(app.log), "xsl's summary is in the log");
  });

  test("every manifest name imports; QoS 0/1/2 both ways through each", { timeout: 60_000 }, async () => {
    const outgoing = await recorderOf(broker.port, `${BASE}/+/out/#`);
    clients.push(outgoing.client);
    const run = startApp(sdk!, app.binary);
    runs.push(run);
    const ready = (lane: string): boolean => run.lines.some((l) => l.startsWith(`${lane}: ready `));
    await until(() => LANES.every(ready), 30_000, () => `the app's lanes ready; traces:\n${run.lines.join("\n")}`);
    assert.ok(run.lines.includes("app: FlashStore is a function"), "tinymqtt/moddable exports FlashStore");
    for (const lane of LANES) assert.ok(run.lines.includes(`${lane}: ready 2`), `${lane}: SUBACK granted QoS 2`);

    const sender = new Client({ clientId: `${BASE}-sender` });
    clients.push(sender);
    const online = new Promise<void>((resolve) => (sender.onConnect = () => resolve()));
    assert.equal(await within(sender.connect("127.0.0.1", broker.port, 60), 5000, "sender connects"), MQTT_ERR_SUCCESS);
    sender.loopStart();
    await within(online, 5000, "sender's CONNACK");
    for (const lane of LANES) for (let qos = 0; qos <= 2; qos++) sender.publish(`${BASE}/${lane}/in/${qos}`, `to ${lane} q${qos}`, qos as 0 | 1 | 2);

    const expected = LANES.flatMap((lane) => [0, 1, 2].map((qos) => `${lane}: got ${BASE}/${lane}/in/${qos} qos ${qos} to ${lane} q${qos}`));
    await until(() => expected.every((l) => run.lines.includes(l)), 20_000,
      () => `the app received every message; missing:\n${expected.filter((l) => !run.lines.includes(l)).join("\n")}\ntraces:\n${run.lines.join("\n")}`);
    await until(() => outgoing.got.length >= 9, 20_000, () => `9 messages from the app at the broker, got ${outgoing.got.length}`);
    const received = outgoing.got.map((m) => `${m.topic} qos ${m.qos} ${text(m)}`).sort();
    const sent = LANES.flatMap((lane) => [0, 1, 2].map((qos) => `${BASE}/${lane}/out/${qos} qos ${qos} ${lane} q${qos}`)).sort();
    assert.deepEqual(received, sent);
    assert.ok(!run.lines.some((l) => /exception|XS abort|error/.test(l)), `no exception in the traces:\n${run.lines.join("\n")}`);
    run.kill();
    await run.exited;
  });

  test("the sensor example: reports, resumes its session after a broker restart, and its will fires when killed", { timeout: 90_000 }, async () => {
    const base = `sensors/${BASE}-sensor`;
    const watch = await recorderOf(broker.port, `${base}/#`);
    clients.push(watch.client);
    const run = startApp(sdk!, sensor.binary);
    runs.push(run);
    const status = (): string[] => watch.got.filter((m) => m.topic === `${base}/status`).map(text);
    await until(() => run.lines.includes("connected") && status().includes("online"), 30_000, () => `the sensor online; traces:\n${run.lines.join("\n")}`);
    await until(() => watch.got.some((m) => m.topic === `${base}/temperature` && m.qos === 1), 10_000, "a QoS 1 reading");

    // A broker restart with persistence: the sensor reconnects by itself and finds its session (cleanSession false).
    await broker.restart();
    await until(() => run.lines.includes("connected (session resumed)"), 30_000, () => `the sensor back with its session; traces:\n${run.lines.join("\n")}`);
    assert.ok(run.lines.some((l) => l.startsWith("disconnected (")), "the drop was traced");
    // The watcher's own session is gone with the restart too: it subscribes again before the kill.
    watch.client.disconnect();
    const after = await recorderOf(broker.port, `${base}/status`);
    clients.push(after.client);
    await until(() => after.got.some((m) => text(m) === "online"), 5000, "the retained online status after the restart");

    // Killed by its PID (its process group): the broker publishes the will, retained.
    run.kill();
    await run.exited;
    await until(() => after.got.some((m) => text(m) === "offline"), 20_000, () => `the will; status seen: ${after.got.map(text).join(",")}`);
  });
  test("the session store on lin (FlashStore over a file partition): QoS 1/2 publishes made offline survive app restarts and are delivered once", { timeout: 120_000 }, async () => {
    for (const file of storeFiles) rmSync(file, { force: true });
    const published = (run: AppRun): string[] => run.lines.filter((l) => l.startsWith("store-app: published "));

    // Run 1: no broker listens on the app's port. Both publishes wait in the store; the app is killed.
    const first = startApp(sdk!, storeApp.binary);
    runs.push(first);
    await until(() => first.lines.includes("store-app: run 1 started"), 30_000, () => `run 1 started; traces:\n${first.lines.join("\n")}`);
    assert.ok(first.lines.includes("store-app: queued 1 2"), `run 1 queued mids 1 and 2; traces:\n${first.lines.join("\n")}`);
    assert.ok(existsSync(storeFiles[1]!), "the session partition is a file under /tmp/");
    first.kill();
    await first.exited;
    assert.deepEqual(published(first), [], "run 1 never reached a broker");

    // A broker on that port now, and a subscriber that records everything the app publishes.
    const storeBroker = await startMosquitto({ config: `listener ${storePort} 127.0.0.1` });
    brokers.push(storeBroker);
    const watch = await recorderOf(storeBroker.port, `${storeBase}/store/#`);
    clients.push(watch.client);
    const seen = (payload: string): ReceivedMessage[] => watch.got.filter((m) => text(m) === payload);

    // Run 2: the client restores the two publishes from the partition and sends them, then the app's "run 2".
    const second = startApp(sdk!, storeApp.binary);
    runs.push(second);
    await until(() => seen("run 2").length > 0 && published(second).length >= 3, 30_000,
      () => `run 2 delivered; at the broker: ${watch.got.map(text).join(", ")}; traces:\n${second.lines.join("\n")}`);
    second.kill();
    await second.exited;
    assert.equal(published(second).length, 3, `run 2 completed the 2 restored flows and its own; traces:\n${second.lines.join("\n")}`);

    // Run 3: the store holds nothing more (completed flows were removed from the log): only "run 3" goes out.
    const third = startApp(sdk!, storeApp.binary);
    runs.push(third);
    await until(() => seen("run 3").length > 0 && published(third).length >= 1, 30_000,
      () => `run 3 delivered; at the broker: ${watch.got.map(text).join(", ")}; traces:\n${third.lines.join("\n")}`);
    third.kill();
    await third.exited;
    assert.deepEqual(published(third).length, 1, `run 3 restored nothing; traces:\n${third.lines.join("\n")}`);

    // What mosquitto delivered: QoS 1 at least once, QoS 2 exactly once, nothing else.
    assert.ok(seen("q1 offline").length >= 1 && seen("q1 offline").every((m) => m.topic === `${storeBase}/store/1` && m.qos === 1), "q1 delivered at QoS 1");
    for (const [payload, topic] of [["q2 offline", "store/2"], ["run 2", "store/end"], ["run 3", "store/end"]] as const) {
      assert.deepEqual(seen(payload).map((m) => `${m.topic} qos ${m.qos}`), [`${storeBase}/${topic} qos 2`], `${payload}: exactly once, at QoS 2`);
    }
    assert.equal(watch.got.length, seen("q1 offline").length + 3, `nothing else delivered: ${watch.got.map(text).join(", ")}`);
  });
});
