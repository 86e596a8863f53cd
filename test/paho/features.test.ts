/**
 * The Paho client without its optional parts (src/paho/client.ts, what "tinymqtt/mqtt311" builds on) refuses
 * MQTT 5 and failover at the call that asks for them, with an error that says so; the public Client
 * (src/paho/full-client.ts, every entry but tinymqtt/mqtt311) has both. The engine behaves the same way
 * without its MQTT 5 part. No broker needed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MQTTv31, MQTTv311, MQTTv5 } from "../../src/codec/constants.js";
import { DEFAULT_BUDGET } from "../../src/engine/budget.js";
import { Engine } from "../../src/engine/engine.js";
import { MQTT5 } from "../../src/engine/mqtt5.js";
import { Client as CoreClient } from "../../src/paho/client.js";
import { Client } from "../../src/index.js";
import { FakeHost } from "../support/fake-host.js";

const NO_MQTT5 = /^RangeError: MQTT 5 is not part of this build \(a 3\.1\.1-only profile, such as tinymqtt\/mqtt311\)/;
const NO_FAILOVER = /^Error: failoverSet: failover is not part of this build/;

test("without the MQTT 5 part, protocol MQTTv5 is refused by the constructor and by reinitialise(), saying why", () => {
  const host = new FakeHost();
  assert.throws(() => new CoreClient({ host, protocol: MQTTv5 }), (e: Error) => NO_MQTT5.test(String(e)));
  const c = new CoreClient({ host, protocol: MQTTv311 });
  assert.throws(() => c.reinitialise({ host, protocol: MQTTv5 }), (e: Error) => NO_MQTT5.test(String(e)));
  // 3.1 and 3.1.1 are what it is for.
  assert.doesNotThrow(() => new CoreClient({ host, protocol: MQTTv31 }));
  assert.doesNotThrow(() => new CoreClient({ host }));
});

test("without the failover part, failoverSet() throws, saying why, and changes nothing", () => {
  const c = new CoreClient({ host: new FakeHost() });
  assert.throws(() => c.failoverSet([{ host: "127.0.0.2" }]), (e: Error) => NO_FAILOVER.test(String(e)));
});

test("the public Client has both parts: MQTTv5 and failoverSet() work as before", () => {
  const c = new Client({ host: new FakeHost(), protocol: MQTTv5 });
  c.failoverSet([{ host: "127.0.0.2", port: 1884 }]);
  assert.throws(() => c.failoverSet([{ host: "" }]), /every failover server needs a host/);
  assert.ok(c instanceof CoreClient);
});

test("an engine made without the MQTT 5 part refuses version 5 when made and when a v5 CONNECT begins", () => {
  assert.throws(() => new Engine(DEFAULT_BUDGET, 5), (e: Error) => NO_MQTT5.test(String(e)));
  const engine = new Engine(DEFAULT_BUDGET, 4);
  const connect = { type: 1 as const, protocolVersion: 5 as const, clientId: "c", cleanStart: true, keepAlive: 60 };
  assert.throws(() => engine.begin(connect, 0), (e: Error) => NO_MQTT5.test(String(e)));
  assert.doesNotThrow(() => new Engine(DEFAULT_BUDGET, 5, undefined, undefined, MQTT5).begin(connect, 0));
});

test("enhanced authentication is an MQTT 5 part: the client without it refuses authenticatorSet(), saying why", () => {
  const authenticator = { method: "SCRAM-SHA-1", challenge: () => undefined };
  const core = new CoreClient({ host: new FakeHost() });
  assert.throws(() => core.authenticatorSet(authenticator), /^RangeError: enhanced authentication needs MQTT 5$/);
  assert.doesNotThrow(() => core.authenticatorSet(null));
  const full = new Client({ host: new FakeHost(), protocol: MQTTv5 });
  assert.doesNotThrow(() => full.authenticatorSet(authenticator));
  assert.throws(() => new Client({ host: new FakeHost(), protocol: MQTTv311 }).authenticatorSet(authenticator), /needs MQTT 5/);
});
