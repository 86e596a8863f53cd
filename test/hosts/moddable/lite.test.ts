/**
 * tinymqtt/lite on Moddable (hosts/moddable/lite.ts) with the real toolchain: test/hosts/moddable/lite-app is
 * built from manifests/lite.json alone (mcconfig -d -m -p lin -t build) and run in mcsim against mosquitto.
 * Its build holds the lite client and two codec modules, nothing of the engine, the Paho layer, MQTT 5 or the
 * session store, with no xsl warning of ours; in mcsim it does QoS 0/1/2 both ways, keeps its session (and so
 * its subscription) across a broker restart, keeps an idle link alive with its keepalive, and its will is published when it is killed.
 * Without the SDK beside the repository (../shared/moddable-sdk) the suite is skipped, loudly; in CI it fails.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client, ReceivedMessage } from "../../../hosts/node/index.js";
import { type Broker, startMosquitto } from "../../support/mosquitto.js";
import { type AppRun, type BuiltApp, buildApp, builtModules, moddableSdk, recorder, startApp } from "../../support/moddable.js";
import { until } from "../../support/wait.js";

const sdk = moddableSdk();
if (sdk === undefined) {
  if (process.env["CI"]) throw new Error("the Moddable SDK (../shared/moddable-sdk) is missing: CI runs this suite");
  console.error("\n*** NOTE: the Moddable SDK (../shared/moddable-sdk) is missing: the tinymqtt/lite tests are SKIPPED ***\n");
}

const BASE = `tinymqtt-lite-${process.pid}`;

const text = (m: ReceivedMessage): string => Buffer.from(m.payload).toString("utf8");

describe("tinymqtt/lite on the Moddable toolchain", { skip: sdk === undefined ? "no Moddable SDK" : false }, () => {
  let broker: Broker;
  let out: string;
  let app: BuiltApp;
  const runs: AppRun[] = [];
  const clients: Client[] = [];

  before(async () => {
    broker = await startMosquitto({ persistence: true });
    out = mkdtempSync(join(tmpdir(), "tinymqtt-lite-"));
    app = await buildApp(sdk!, "test/hosts/moddable/lite-app", out, { broker: "127.0.0.1", port: String(broker.port), base: BASE });
  }, { timeout: 600_000 });

  after(async () => {
    for (const run of runs) run.kill();
    for (const client of clients) client.disconnect();
    await broker?.stop();
    if (out !== undefined) rmSync(out, { recursive: true, force: true });
  });

  test("the lite profile (manifests/lite.json) builds five modules of ours and no xsl warning", () => {
    const ours = builtModules(app.modules).filter((m) => m.startsWith("tinymqtt"));
    assert.deepEqual(ours.sort(), ["tinymqtt/hosts/moddable/lite", "tinymqtt/lite", "tinymqtt/src/codec/topics", "tinymqtt/src/codec/utf8", "tinymqtt/src/lite/client"]);
    assert.deepEqual(app.warnings.filter((w) => /^### warning: tinymqtt\b/.test(w)), []);
  });

  test("in mcsim: QoS 0/1/2 both ways, its session across a broker restart, its will when killed", { timeout: 120_000 }, async () => {
    // A persistent session, so that what the app publishes while the watcher reconnects after the broker's
    // restart is kept for it (QoS 1 and 2).
    const { client: watch, got } = await recorder(broker.port, `${BASE}-watch`, [[`${BASE}/out/#`, 2], [`${BASE}/status`, 1]], false);
    clients.push(watch);

    const run = startApp(sdk!, app.binary);
    runs.push(run);
    const traces = (): string => run.lines.join("\n");
    await until(() => run.lines.includes("lite: subscribed 2"), 30_000, () => `the app subscribed; traces:\n${traces()}`);

    const outAt = (round: number): string[] => got.filter((m) => m.topic.startsWith(`${BASE}/out/`) && text(m).endsWith(`#${round}`))
      .map((m) => `${m.topic} qos ${m.qos} ${text(m)}`).sort();
    const expected = (round: number): string[] => [0, 1, 2].map((q) => `${BASE}/out/${q} qos ${q} q${q} #${round}`);
    await until(() => outAt(1).length >= 3, 20_000, () => `3 messages from the app, got ${outAt(1).join(", ")}`);
    assert.deepEqual(outAt(1), expected(1));
    const received = async (tag: string): Promise<void> => {
      for (let qos = 0; qos <= 2; qos++) watch.publish(`${BASE}/in/${qos}`, `${tag} q${qos}`, qos as 0 | 1 | 2);
      const lines = [0, 1, 2].map((qos) => `lite: got ${BASE}/in/${qos} ${tag} q${qos}`);
      await until(() => lines.every((l) => run.lines.includes(l)), 20_000, () => `the app received QoS 0/1/2 (${tag}); traces:\n${traces()}`);
      // Each once: QoS 2 exactly once, and no duplicate of the others here either.
      for (const l of lines) assert.equal(run.lines.filter((x) => x === l).length, 1, `${l} once`);
    };
    await received("first");
    // Idle for longer than mosquitto waits (1.5 times the app's keepalive of 2 s): the app's timer pings.
    await new Promise((resolve) => setTimeout(resolve, 3500));
    assert.ok(!run.lines.some((l) => l.startsWith("lite: closed ")), `still connected after 3.5 s idle; traces:\n${traces()}`);

    // A broker restart: the app reconnects by itself; the broker kept its session, so the subscription it
    // made once still delivers, and it publishes again.
    await broker.restart();
    await until(() => run.lines.includes("lite: ready 2"), 30_000, () => `the app back; traces:\n${traces()}`);
    assert.ok(run.lines.some((l) => l.startsWith("lite: closed ")), "the drop was traced");
    // QoS 1 and 2: a QoS 0 message may go before the watcher is back.
    const reliable = (round: number): string[] => outAt(round).filter((m) => !m.includes(" qos 0 "));
    await until(() => reliable(2).length >= 2, 20_000, () => `the QoS 1/2 messages from the app, got ${outAt(2).join(", ")}`);
    assert.deepEqual(reliable(2), expected(2).slice(1));
    await until(() => watch.isConnected(), 20_000, "the watcher back");
    await received("after restart");

    // Killed by its PID (its process group): the broker publishes the will, retained.
    const statusSeen = (): string[] => got.filter((m) => m.topic === `${BASE}/status`).map(text);
    run.kill();
    await run.exited;
    await until(() => statusSeen().includes("offline"), 30_000, () => `the will; status seen: ${statusSeen().join(",")}`);
    // The debug build traces every throw: the app provoked none.
    assert.deepEqual(run.lines.filter((l) => /exception|XS abort/.test(l)), []);
  });
});
