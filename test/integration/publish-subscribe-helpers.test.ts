/**
 * tinymqtt/publish and tinymqtt/subscribe (Paho's helpers) end to end: round trips through a real mosquitto
 * at QoS 0, 1 and 2 on MQTT 3.1.1 and 5, retained handling, more messages than the client's budget holds,
 * and every way a helper fails (closed port, refused CONNACK, refused subscription or message, lost
 * connection, a throwing callback), the broker's side of those scripted where mosquitto cannot be made to.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Client, MQTT_ERR_AUTH, MQTT_ERR_CONN_LOST, MQTT_ERR_SUCCESS, MqttConnectionError, type MQTTMessage, type ReceivedMessage } from "../../hosts/node/index.js";
import { ConnectionRefusedError, multiple, single } from "../../hosts/node/publish-helpers.js";
import { callback, simple } from "../../hosts/node/subscribe-helpers.js";
import { CONNACK, CONNECT, DISCONNECT, PUBACK, PUBLISH, SUBACK, SUBSCRIBE } from "../../src/codec/index.js";
import { type Broker, freePort, startMosquitto } from "../support/mosquitto.js";
import { type ScriptedBroker, type ScriptedConnection, startScriptedBroker } from "../support/scripted-broker.js";

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
let topicCounter = 0;
/** A topic tree no other test uses. */
const fresh = (name: string): string => `helpers/${name}/${process.pid}-${++topicCounter}`;

/** Publishes `payload(i)` to `topic` every 50 ms from its own client until stop() is called. */
async function repeatPublisher(broker: Broker, topic: string): Promise<{ stop(): Promise<void> }> {
  const client = new Client();
  await client.connect(broker.host, broker.port);
  client.loopStart();
  let i = 0;
  const timer = setInterval(() => client.publish(topic, `live ${++i}`, 1), 50);
  return {
    async stop() {
      clearInterval(timer);
      const gone = new Promise<void>((resolve) => {
        client.onDisconnect = () => resolve();
      });
      client.disconnect();
      await gone;
      client.loopStop();
    },
  };
}

/** A scripted broker that serves every connection with `script`; closed after the test. */
async function scripted(script: (conn: ScriptedConnection) => Promise<void>): Promise<ScriptedBroker> {
  return startScriptedBroker(script);
}

describe("publish and subscribe helpers against mosquitto", { timeout: 60_000 }, () => {
  let broker: Broker;
  before(async () => {
    broker = await startMosquitto({ maxQueuedMessages: 100_000, maxInflightMessages: 100 });
  });
  after(() => broker?.stop());
  const at = (): { hostname: string; port: number } => ({ hostname: broker.host, port: broker.port });

  for (const protocol of [4, 5] as const) {
    for (const qos of [0, 1, 2] as const) {
      test(`single() at QoS ${qos} (MQTT ${protocol === 5 ? "5" : "3.1.1"}) has the message at the broker when it resolves; simple() receives it`, async () => {
        const topic = fresh(`single-q${qos}-v${protocol}`);
        await single(topic, `retained at QoS ${qos}`, { ...at(), qos, retain: true, protocol });
        const msg = await simple(topic, { ...at(), qos: 2, protocol });
        assert.equal(msg.topic, topic);
        assert.equal(text(msg.payload), `retained at QoS ${qos}`);
        assert.equal(msg.qos, qos);
        assert.equal(msg.retain, true);
        await single(topic, null, { ...at(), retain: true }); // clears the retained message
      });
    }
  }

  test("simple() with msgCount > 1 resolves to a list of copies that stay valid", async () => {
    const base = fresh("count");
    const payloads = new Map<string, string>();
    for (let i = 0; i < 5; i++) payloads.set(`${base}/${i}`, `payload ${i} `.repeat(i + 1));
    await multiple([...payloads].map(([topic, payload]) => ({ topic, payload, qos: 1, retain: true })), at());
    const messages = await simple(`${base}/#`, { ...at(), msgCount: 5, qos: 1 });
    assert.ok(Array.isArray(messages));
    assert.equal(messages.length, 5);
    for (const m of messages) {
      assert.equal(text(m.payload), payloads.get(m.topic), `the payload of ${m.topic}`);
      assert.equal(m.retain, true);
    }
    await multiple([...payloads.keys()].map((topic) => [topic, null, 0, true] as const), at());
  });

  test("simple() skips retained messages with retained: false, and keeps them by default", async () => {
    const base = fresh("retained");
    await single(`${base}/old`, "stale", { ...at(), qos: 1, retain: true });
    const publisher = await repeatPublisher(broker, `${base}/new`);
    try {
      const messages = await simple(`${base}/#`, { ...at(), msgCount: 2, retained: false });
      assert.deepEqual(messages.map((m) => [m.topic, m.retain]), [[`${base}/new`, false], [`${base}/new`, false]]);
    } finally {
      await publisher.stop();
    }
    const first = await simple(`${base}/#`, at());
    assert.equal(first.topic, `${base}/old`);
    assert.equal(first.retain, true);
    await single(`${base}/old`, null, { ...at(), retain: true });
  });

  test("multiple() publishes objects and tuples in order; callback() gets (client, userdata, message) and ends on disconnect()", async () => {
    const base = fresh("callback");
    await single(`${base}/ready`, "ready", { ...at(), retain: true });
    const userdata = { got: [] as Array<[string, string, number]> };
    let ready!: () => void;
    const subscribed = new Promise<void>((resolve) => {
      ready = resolve;
    });
    let clientSeen: unknown;
    const done = callback((client, data, message: MQTTMessage) => {
      assert.equal(data, userdata);
      clientSeen = client;
      if (message.topic === `${base}/ready`) return ready();
      userdata.got.push([message.topic, text(message.payload), message.qos]);
      if (userdata.got.length === 3) client.disconnect();
    }, [`${base}/ready`, `${base}/data`], { ...at(), qos: 2, userdata });
    await subscribed;
    await multiple([
      { topic: `${base}/data`, payload: "one" },
      [`${base}/data`, "two", 1, false],
      { topic: `${base}/data`, payload: 3, qos: 2 },
    ], at());
    await done;
    assert.ok(clientSeen instanceof Client);
    assert.deepEqual(userdata.got, [[`${base}/data`, "one", 0], [`${base}/data`, "two", 1], [`${base}/data`, "3", 2]]);
    await single(`${base}/ready`, null, { ...at(), retain: true });
  });

  // MQTT orders messages per QoS only (mosquitto forwards a QoS 2 message once PUBREL arrives): one QoS a run.
  for (const qos of [1, 2] as const) {
    test(`multiple() sends more QoS ${qos} messages than the client's budget holds, in order`, async () => {
      const base = fresh(`budget-q${qos}`);
      const n = 1000;
      await single(`${base}/ready`, "ready", { ...at(), retain: true });
      let ready!: () => void;
      const subscribed = new Promise<void>((resolve) => {
        ready = resolve;
      });
      const got: string[] = [];
      const done = callback((client, _u, message) => {
        if (message.topic === `${base}/ready`) return ready();
        got.push(text(message.payload));
        if (got.length === n) client.disconnect();
      }, `${base}/#`, { ...at(), qos: 2 });
      await subscribed;
      const msgs = Array.from({ length: n }, (_, i) => ({ topic: `${base}/data`, payload: String(i), qos }));
      await multiple(msgs, { ...at(), budget: { maxMessages: 16, storeBytes: 1024 } });
      await done;
      assert.deepEqual(got, msgs.map((m) => m.payload));
      await single(`${base}/ready`, null, { ...at(), retain: true });
    });
  }

  // Found while writing examples/loop-start.ts (Paho's disconnect(); loop_stop()): the client's finishForever()
  // puts a loopStart() client back in manual mode on disconnect(), so the loopStop() that follows answers
  // MQTT_ERR_INVAL (3); Paho's loop_stop() succeeds there, since the background loop had been started.
  test("Client: loopStop() after disconnect() succeeds, as Paho's loop_stop()", async () => {
    const client = new Client();
    const connected = new Promise<void>((resolve) => {
      client.onConnect = () => resolve();
    });
    await client.connect(broker.host, broker.port);
    client.loopStart();
    await connected;
    const gone = new Promise<void>((resolve) => {
      client.onDisconnect = () => resolve();
    });
    assert.equal(client.disconnect(), MQTT_ERR_SUCCESS);
    await gone;
    assert.equal(client.loopStop(), MQTT_ERR_SUCCESS);
  });

  test("a broker refusing the CONNECT rejects with its CONNACK code and text (mosquitto, anonymous refused)", async () => {
    const strict = await startMosquitto({ config: "allow_anonymous false" });
    try {
      const where = { hostname: strict.host, port: strict.port };
      await assert.rejects(single("a/b", "x", where), (e: unknown) => {
        assert.ok(e instanceof ConnectionRefusedError);
        assert.equal(e.reasonCode, 5);
        assert.equal(e.rc, MQTT_ERR_AUTH);
        assert.match(e.message, /refused the connection: Connection Refused: not authorised\. \(CONNACK code 5\)/);
        return true;
      });
      await assert.rejects(simple("a/b", { ...where, protocol: 5 }), (e: unknown) => {
        assert.ok(e instanceof ConnectionRefusedError);
        assert.equal(e.reasonCode, 0x87);
        assert.match(e.message, /\(CONNACK reason code 0x87\)/);
        return true;
      });
    } finally {
      await strict.stop();
    }
  });
});

describe("helpers: failures and options", { timeout: 30_000 }, () => {
  const brokers: ScriptedBroker[] = [];
  after(async () => {
    for (const b of brokers) await b.close();
  });
  const start = async (script: (conn: ScriptedConnection) => Promise<void>): Promise<ScriptedBroker> => {
    const b = await scripted(script);
    brokers.push(b);
    return b;
  };

  test("a closed port rejects every helper with MqttConnectionError", async () => {
    const port = await freePort();
    const where = { hostname: "127.0.0.1", port };
    for (const attempt of [() => single("a", "b", where), () => multiple([["a", "b"]], where), () => simple("a", where), () => callback(() => {}, "a", where)]) {
      await assert.rejects(attempt(), (e: unknown) => e instanceof MqttConnectionError && /connection refused by 127\.0\.0\.1:\d+/.test(e.message));
    }
  });

  test("invalid arguments reject before connecting", async () => {
    const where = { hostname: "127.0.0.1", port: await freePort() };
    await assert.rejects(multiple([], where), TypeError);
    await assert.rejects(single("a/#", "x", where), /invalid topic/);
    await assert.rejects(single("", "x", where), RangeError);
    await assert.rejects(multiple([{ topic: "a" }, { topic: "b", qos: 3 as 0 }], where), /message 1: invalid QoS 3/);
    await assert.rejects(simple("a/#/b", where), RangeError);
    await assert.rejects(simple("a", { ...where, msgCount: 0 }), /msgCount/);
    await assert.rejects(callback(() => {}, [], where), TypeError);
    await assert.rejects(callback(() => {}, "a", { ...where, qos: 3 as 0 }), /invalid QoS/);
  });

  test("the options reach the CONNECT: client id, keepalive, credentials, will, protocol", async () => {
    let connect: unknown;
    let publish: unknown;
    let ended = false;
    const b = await start(async (conn) => {
      connect = await conn.next();
      await conn.send({ type: CONNACK, sessionPresent: false, reasonCode: 0 });
      const p = await conn.next();
      publish = p;
      if (p?.type === PUBLISH) await conn.send({ type: PUBACK, packetId: p.packetId, reasonCode: 0 });
      ended = (await conn.next())?.type === DISCONNECT;
    });
    await single("opt/topic", "the payload", { hostname: b.host, port: b.port, qos: 1, retain: true, clientId: "helper-id",
      keepalive: 17, auth: { username: "user", password: "secret" }, protocol: 5,
      will: { topic: "opt/will", payload: "gone", qos: 2, retain: true }, properties: { contentType: "text/plain" } });
    assert.equal(b.errors.length, 0, String(b.errors[0]));
    const c = connect as { type: number; protocolVersion: number; clientId: string; keepAlive: number; username: string; password: Uint8Array;
      will: { topic: string; payload: Uint8Array; qos: number; retain: boolean } };
    assert.equal(c.type, CONNECT);
    assert.equal(c.protocolVersion, 5);
    assert.equal(c.clientId, "helper-id");
    assert.equal(c.keepAlive, 17);
    assert.equal(c.username, "user");
    assert.equal(text(c.password), "secret");
    assert.deepEqual({ ...c.will, payload: text(c.will.payload), properties: undefined }, { topic: "opt/will", payload: "gone", qos: 2, retain: true, properties: undefined });
    const p = publish as { type: number; topic: string; payload: Uint8Array; qos: number; retain: boolean; properties?: { contentType?: string } };
    assert.equal(p.type, PUBLISH);
    assert.deepEqual([p.topic, text(p.payload), p.qos, p.retain, p.properties?.contentType], ["opt/topic", "the payload", 1, true, "text/plain"]);
    await waitFor(() => ended, "the DISCONNECT");
  });

  test("a v5 PUBACK refusing a message rejects multiple() after a clean disconnect", async () => {
    const b = await start(async (conn) => {
      await conn.next();
      await conn.send({ type: CONNACK, sessionPresent: false, reasonCode: 0 });
      for (;;) {
        const p = await conn.next();
        if (p === null || p.type === DISCONNECT) return;
        if (p.type === PUBLISH) await conn.send({ type: PUBACK, packetId: p.packetId, reasonCode: p.topic === "denied" ? 0x87 : 0 });
      }
    });
    await assert.rejects(multiple([["ok", "1", 1], ["denied", "2", 1]], { hostname: b.host, port: b.port, protocol: 5 }),
      /the broker refused 1 of 2 messages: "denied": Not authorized \(0x87\)/);
  });

  test("a connection lost before every message is published rejects single() (no reconnecting)", async () => {
    const b = await start(async (conn) => {
      await conn.next();
      await conn.send({ type: CONNACK, sessionPresent: false, reasonCode: 0 });
      await conn.next(); // the PUBLISH, never acknowledged
      conn.destroy();
    });
    await assert.rejects(single("lost", "x", { hostname: b.host, port: b.port, qos: 1 }), (e: unknown) => {
      assert.ok(e instanceof MqttConnectionError);
      assert.equal(e.rc, MQTT_ERR_CONN_LOST);
      assert.match(e.message, /was lost .*0 of 1 messages published/);
      return true;
    });
    assert.equal(b.connections.length, 1);
  });

  test("a refused subscription rejects callback()", async () => {
    const b = await start(async (conn) => {
      await conn.next();
      await conn.send({ type: CONNACK, sessionPresent: false, reasonCode: 0 });
      const s = await conn.next();
      if (s?.type === SUBSCRIBE) await conn.send({ type: SUBACK, packetId: s.packetId, reasonCodes: [1, 0x80] });
      await conn.next();
    });
    await assert.rejects(callback(() => {}, ["fine", "forbidden"], { hostname: b.host, port: b.port, qos: 1 }),
      /the broker refused the subscription to "forbidden": .*\(0x80\)/);
  });

  test("a callback that throws rejects callback() with its error", async () => {
    const b = await start(async (conn) => {
      await conn.next();
      await conn.send({ type: CONNACK, sessionPresent: false, reasonCode: 0 });
      const s = await conn.next();
      if (s?.type === SUBSCRIBE) await conn.send({ type: SUBACK, packetId: s.packetId, reasonCodes: [0] });
      await conn.send({ type: PUBLISH, topic: "boom", payload: new Uint8Array([1]), qos: 0, retain: false, dup: false, packetId: 0 });
      await conn.next();
    });
    await assert.rejects(callback(() => {
      throw new Error("boom from the callback");
    }, "boom", { hostname: b.host, port: b.port }), /boom from the callback/);
  });

  test("a refused CONNACK is not retried: simple() rejects after one connection", async () => {
    const b = await start(async (conn) => {
      await conn.next();
      await conn.send({ type: CONNACK, sessionPresent: false, reasonCode: 2 });
    });
    await assert.rejects(simple("a", { hostname: b.host, port: b.port }),
      (e: unknown) => e instanceof ConnectionRefusedError && e.reasonCode === 2 && /identifier rejected/.test(e.message));
    await new Promise((resolve) => setTimeout(resolve, 1200));
    assert.equal(b.connections.length, 1);
  });

  test("simple() reconnects after a lost connection and subscribes again, as Paho's loop_forever", async () => {
    const b = await start(async (conn) => {
      await conn.next();
      await conn.send({ type: CONNACK, sessionPresent: false, reasonCode: 0 });
      const s = await conn.next();
      if (s?.type === SUBSCRIBE) await conn.send({ type: SUBACK, packetId: s.packetId, reasonCodes: [1] });
      if (b.connections.length === 1) {
        conn.destroy();
        return;
      }
      await conn.send({ type: PUBLISH, topic: "again", payload: new TextEncoder().encode("after reconnect"), qos: 1, retain: false, dup: false, packetId: 7 });
      await conn.next();
    });
    const msg: ReceivedMessage = await simple("again", { hostname: b.host, port: b.port, qos: 1 });
    assert.equal(text(msg.payload), "after reconnect");
    assert.equal(msg.qos, 1);
    assert.equal(b.connections.length, 2);
  });
});

async function waitFor(condition: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
