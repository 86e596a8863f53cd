/**
 * The Moddable profiles preload only what the app imports, asserted from the toolchain's own output (the .xsb
 * files mcconfig compiled and linked into the app) and by running the 3.1.1 profile in mcsim:
 * - test/hosts/moddable/mqtt311-app, built from manifests/mqtt311.json alone ("tinymqtt/mqtt311"): its build
 *   holds no MQTT 5 module (properties, topic aliases, enhanced authentication, the engine's and codec's
 *   MQTT 5 parts), no failover, no ECMA-419 class and no flash store; in mcsim it does QoS 0/1/2 both ways,
 *   reconnects after a broker restart, its will is delivered when it is killed, and asking it for MQTT 5,
 *   failover or enhanced authentication throws, saying so;
 * - bench/moddable/ecma419, built from manifests/ecma419.json alone: no Paho layer and no MQTT 5 module.
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
  console.error("\n*** NOTE: the Moddable SDK (../shared/moddable-sdk) is missing: the profile tests are SKIPPED ***\n");
}

const BASE = `tinymqtt-profiles-${process.pid}`;

/** What a 3.1.1 app must not carry: MQTT 5 (enhanced authentication included), failover, ECMA-419, the flash store. */
const MQTT5_MODULES = ["tinymqtt/src/codec/properties", "tinymqtt/src/codec/mqtt5", "tinymqtt/src/codec/index", "tinymqtt/src/engine/topic-aliases",
  "tinymqtt/src/engine/enhanced-auth", "tinymqtt/src/engine/mqtt5"];
const EXCLUDED_FROM_MQTT311 = [...MQTT5_MODULES, "tinymqtt/src/paho/enhanced-auth", "tinymqtt/src/paho/failover", "tinymqtt/src/paho/full-client", "tinymqtt/src/index",
  "tinymqtt/src/ecma419/client", "tinymqtt/src/ecma419/event-loop", "tinymqtt/src/ecma419/options", "tinymqtt/hosts/moddable/ecma419-client",
  "tinymqtt/hosts/moddable/flash-store", "tinymqtt/src/session/record-log", "tinymqtt/hosts/moddable/file-partition", "tinymqtt/moddable", "tinymqtt"];
const PAHO_MODULES = ["tinymqtt/src/paho/client", "tinymqtt/src/paho/event-loop", "tinymqtt/src/paho/message", "tinymqtt/src/paho/arguments",
  "tinymqtt/src/paho/completions", "tinymqtt/src/paho/connect-packet", "tinymqtt/src/paho/features", "tinymqtt/src/paho/full-client", "tinymqtt/hosts/moddable/client"];

const text = (m: ReceivedMessage): string => Buffer.from(m.payload).toString("utf8");
const ours = (warning: string): boolean => /^### warning: (tinymqtt|embedded:network\/mqtt\/client)\b/.test(warning);

describe("the Moddable profiles: only what the app imports", { skip: sdk === undefined ? "no Moddable SDK" : false }, () => {
  let broker: Broker;
  let out: string;
  let mqtt311: BuiltApp;
  let ecma419: BuiltApp;
  const runs: AppRun[] = [];
  const clients: Client[] = [];

  before(async () => {
    broker = await startMosquitto();
    out = mkdtempSync(join(tmpdir(), "tinymqtt-profiles-"));
    const config = { broker: "127.0.0.1", port: String(broker.port) };
    mqtt311 = await buildApp(sdk!, "test/hosts/moddable/mqtt311-app", out, { ...config, base: BASE });
    ecma419 = await buildApp(sdk!, "bench/moddable/ecma419", out, config);
  }, { timeout: 900_000 });

  after(async () => {
    for (const run of runs) run.kill();
    for (const client of clients) client.disconnect();
    await broker?.stop();
    if (out !== undefined) rmSync(out, { recursive: true, force: true });
  });

  test("the 3.1.1 profile (manifests/mqtt311.json) builds no MQTT 5, failover, ECMA-419 or flash store module", () => {
    const modules = builtModules(mqtt311.modules);
    for (const m of ["tinymqtt/mqtt311", "tinymqtt/src/paho/client", "tinymqtt/src/engine/engine", "tinymqtt/src/codec/decoder", "tinymqtt/src/codec/property-codec"]) {
      assert.ok(modules.includes(m), `${m} is in the build: ${modules.join(", ")}`);
    }
    assert.deepEqual(modules.filter((m) => EXCLUDED_FROM_MQTT311.includes(m) || m.includes("ecma419") || m.includes("embedded")), []);
    assert.deepEqual(mqtt311.warnings.filter(ours), []);
  });

  test("the ECMA-419 profile (manifests/ecma419.json) builds no Paho layer and no MQTT 5 module", () => {
    const modules = builtModules(ecma419.modules);
    for (const m of ["tinymqtt/src/ecma419/client", "tinymqtt/hosts/moddable/ecma419-client", "tinymqtt/src/engine/engine"]) {
      assert.ok(modules.includes(m), `${m} is in the build: ${modules.join(", ")}`);
    }
    assert.deepEqual(modules.filter((m) => PAHO_MODULES.includes(m) || MQTT5_MODULES.includes(m)), []);
  });

  test("tinymqtt/mqtt311 in mcsim: refuses MQTT 5 and failover, QoS 0/1/2 both ways, reconnects, its will fires when killed", { timeout: 120_000 }, async () => {
    const { client: watch, got } = await recorder(broker.port, `${BASE}-watch`, [[`${BASE}/out/#`, 2], [`${BASE}/status`, 1]]);
    clients.push(watch);

    const run = startApp(sdk!, mqtt311.binary);
    runs.push(run);
    const ready = (): number => run.lines.filter((l) => l === "mqtt311: ready 2").length;
    await until(() => ready() >= 1, 30_000, () => `the app ready; traces:\n${run.lines.join("\n")}`);
    assert.ok(run.lines.some((l) => /^mqtt311: MQTTv5 refused: MQTT 5 is not part of this build/.test(l)), `MQTTv5 refused, saying why; traces:\n${run.lines.join("\n")}`);
    assert.ok(run.lines.some((l) => /^mqtt311: failover refused: failoverSet: failover is not part of this build/.test(l)), `failover refused, saying why; traces:\n${run.lines.join("\n")}`);
    assert.ok(run.lines.some((l) => /^mqtt311: authenticator refused: enhanced authentication needs MQTT 5/.test(l)), `authenticatorSet refused, saying why; traces:\n${run.lines.join("\n")}`);

    // Both ways at QoS 0, 1 and 2.
    for (let qos = 0; qos <= 2; qos++) watch.publish(`${BASE}/in/${qos}`, `in q${qos}`, qos as 0 | 1 | 2);
    const incoming = [0, 1, 2].map((qos) => `mqtt311: got ${BASE}/in/${qos} qos ${qos} in q${qos}`);
    await until(() => incoming.every((l) => run.lines.includes(l)), 20_000, () => `the app received QoS 0/1/2; traces:\n${run.lines.join("\n")}`);
    const sent = (n: number): string[] => [0, 1, 2].map((qos) => `${BASE}/out/${qos} qos ${qos} q${qos} #${n}`);
    const outAt = (): string[] => got.filter((m) => m.topic.startsWith(`${BASE}/out/`)).map((m) => `${m.topic} qos ${m.qos} ${text(m)}`).sort();
    await until(() => outAt().length >= 3, 20_000, () => `3 messages from the app, got ${outAt().join(", ")}`);
    assert.deepEqual(outAt(), sent(1));

    // A broker restart: the app reconnects by itself and subscribes and publishes again.
    await broker.restart();
    await until(() => run.lines.includes("mqtt311: connected 2") && ready() >= 2, 30_000, () => `the app back; traces:\n${run.lines.join("\n")}`);
    assert.ok(run.lines.some((l) => l.startsWith("mqtt311: disconnected ")), "the drop was traced");
    const after = await recorder(broker.port, `${BASE}-after`, [[`${BASE}/status`, 1]]);
    clients.push(after.client);
    const status = (): string[] => after.got.map(text);
    await until(() => status().includes("online"), 10_000, () => `the retained online status after the restart; seen: ${status().join(",")}`);

    // Killed by its PID (its process group): the broker publishes the will, retained.
    run.kill();
    await run.exited;
    await until(() => status().includes("offline"), 30_000, () => `the will; status seen: ${status().join(",")}`);
    // The debug build traces every throw: the three the app provoked (MQTTv5 in the engine, failoverSet,
    // authenticatorSet), nothing else.
    const thrown = run.lines.filter((l) => /exception|XS abort/.test(l));
    assert.equal(thrown.length, 3, `only the three provoked throws in the traces:\n${run.lines.join("\n")}`);
    assert.match(thrown[0]!, /src\/engine\/engine\.ts:\d+: exception: throw!/);
    assert.match(thrown[1]!, /src\/paho\/client\.ts:\d+: exception: throw!/);
    assert.match(thrown[2]!, /src\/paho\/client\.ts:\d+: exception: throw!/);
  });
});
