/**
 * Messages kept after their callback, the most common Paho habit (a queue, an array, an async handler),
 * against mosquitto: by default a kept message keeps its own topic, payload, QoS and properties however
 * many messages follow; with zeroCopyMessages any use after the callback throws an error naming
 * message.copy(), never showing another message's data; the subscribe helpers return copies.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Client, type MQTTMessage, MQTTv5, type ClientOptions } from "../../hosts/node/index.js";
import { simple } from "../../hosts/node/subscribe-helpers.js";
import { type Broker, startMosquitto } from "../support/mosquitto.js";
import { until, within } from "../support/wait.js";

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
let ids = 0;

/** A subscriber to `filter` (SUBACK received) whose callbacks are set by `setup`, and a publisher. */
async function pair(broker: Broker, filter: string, options: ClientOptions, setup: (sub: Client) => void): Promise<{ sub: Client; pub: Client; close(): void }> {
  const sub = new Client({ protocol: MQTTv5, clientId: `kept-sub-${ids++}`, ...options });
  setup(sub);
  const subscribed = new Promise<void>((resolve) => (sub.onSubscribe = () => resolve()));
  sub.onConnect = (c) => c.subscribe(filter, 2);
  await sub.connect(broker.host, broker.port);
  sub.loopStart();
  await within(subscribed, 5000, "SUBACK");
  const pub = new Client({ protocol: MQTTv5, clientId: `kept-pub-${ids++}` });
  const connected = new Promise<void>((resolve) => (pub.onConnect = () => resolve()));
  await pub.connect(broker.host, broker.port);
  pub.loopStart();
  await within(connected, 5000, "CONNACK");
  return {
    sub, pub,
    close() {
      for (const c of [sub, pub]) {
        c.disconnect();
        c.loopStop();
      }
    },
  };
}

/** Two messages that differ in everything a message carries, sent one after the other. */
async function sendTwo(pub: Client, base: string): Promise<void> {
  await pub.publish(`${base}/first`, "first payload", 1, false, { contentType: "text/first" }).waitForPublish(5000);
  await pub.publish(`${base}/second`, "2nd", 2, false, { contentType: "text/second" }).waitForPublish(5000);
}

describe("kept messages against mosquitto", { timeout: 60_000 }, () => {
  let broker: Broker;
  before(async () => {
    broker = await startMosquitto();
  });
  after(() => broker?.stop());

  test("by default a message kept from onMessage stays what it was while more messages arrive", async () => {
    const kept: MQTTMessage[] = [];
    const { pub, close } = await pair(broker, "kept/default/#", {}, (sub) => {
      sub.onMessage = (_c, _u, m) => kept.push(m);
    });
    try {
      await sendTwo(pub, "kept/default");
      await until(() => kept.length === 2, 5000, "two messages");
      const [first, second] = kept as [MQTTMessage, MQTTMessage];
      assert.deepEqual([first.topic, text(first.payload), first.qos, first.properties?.contentType],
        ["kept/default/first", "first payload", 1, "text/first"]);
      assert.deepEqual([second.topic, text(second.payload), second.qos, second.properties?.contentType],
        ["kept/default/second", "2nd", 2, "text/second"]);
    } finally {
      close();
    }
  });

  test("a kept message holds its own bytes only, not the chunk it arrived in with others, and so do copies", async () => {
    const kept: MQTTMessage[] = [];
    const copies: Array<ReturnType<MQTTMessage["copy"]>> = [];
    const { pub, close } = await pair(broker, "kept/own/#", {}, (sub) => {
      sub.onMessage = (_c, _u, m) => {
        kept.push(m);
        copies.push(m.copy());
      };
    });
    try {
      // A burst: the broker's messages arrive many to a chunk.
      for (let i = 0; i < 200; i++) pub.publish(`kept/own/${i}`, `payload ${i}`, 0);
      await until(() => kept.length === 200, 5000, "200 messages");
      kept.forEach((m, i) => {
        assert.equal(text(m.payload), `payload ${i}`);
        // Its properties (one byte of length on MQTT 5) and payload: nothing of the other messages.
        assert.ok(m.payload.buffer.byteLength <= m.payload.length + 1, `message ${i} holds ${m.payload.buffer.byteLength} bytes for a ${m.payload.length}-byte payload`);
        assert.equal(copies[i]!.payload.buffer.byteLength, copies[i]!.payload.length, `copy ${i} holds its payload only`);
      });
    } finally {
      close();
    }
  });

  test("by default messageCallbackAdd callbacks may keep their messages too", async () => {
    const kept: MQTTMessage[] = [];
    const { pub, close } = await pair(broker, "kept/filtered/#", {}, (sub) => {
      sub.messageCallbackAdd("kept/filtered/+", (_c, _u, m) => kept.push(m));
    });
    try {
      await sendTwo(pub, "kept/filtered");
      await until(() => kept.length === 2, 5000, "two messages");
      assert.deepEqual(kept.map((m) => `${m.topic} ${text(m.payload)} ${m.qos}`), ["kept/filtered/first first payload 1", "kept/filtered/second 2nd 2"]);
    } finally {
      close();
    }
  });

  test("zeroCopyMessages: valid in the callback; any use after it throws an error naming message.copy(); copies stay right", async () => {
    const kept: MQTTMessage[] = [];
    const seen: string[] = [];
    const copies: Array<ReturnType<MQTTMessage["copy"]>> = [];
    const { pub, close } = await pair(broker, "kept/view/#", { zeroCopyMessages: true }, (sub) => {
      sub.onMessage = (_c, _u, m) => {
        seen.push(`${m.topic} ${text(m.payload)} ${m.qos}`);
        copies.push(m.copy());
        kept.push(m);
      };
    });
    try {
      await sendTwo(pub, "kept/view");
      await until(() => kept.length === 2, 5000, "two messages");
      assert.deepEqual(seen, ["kept/view/first first payload 1", "kept/view/second 2nd 2"]);
      for (const use of [(m: MQTTMessage) => m.topic, (m: MQTTMessage) => m.payload, (m: MQTTMessage) => m.qos,
        (m: MQTTMessage) => m.retain, (m: MQTTMessage) => m.dup, (m: MQTTMessage) => m.mid, (m: MQTTMessage) => m.properties,
        (m: MQTTMessage) => m.copy()]) {
        assert.throws(() => use(kept[0]!), /message\.copy\(\)/);
      }
      assert.deepEqual(copies.map((m) => `${m.topic} ${text(m.payload)} ${m.qos} ${m.properties?.contentType}`),
        ["kept/view/first first payload 1 text/first", "kept/view/second 2nd 2 text/second"]);
    } finally {
      close();
    }
  });

  test("subscribe.simple's messages own their data", async () => {
    const received = simple("kept/simple/#", { hostname: broker.host, port: broker.port, msgCount: 2, qos: 1 });
    const pub = new Client({ clientId: `kept-simple-pub-${ids++}` });
    const connected = new Promise<void>((resolve) => (pub.onConnect = () => resolve()));
    await pub.connect(broker.host, broker.port);
    pub.loopStart();
    try {
      await within(connected, 5000, "CONNACK");
      // The helper subscribes in its own onConnect: publish until it has its two messages.
      let n = 0;
      const sending = setInterval(() => pub.publish(`kept/simple/${n}`, `payload ${n++}`, 1), 50);
      const messages = await within(received, 10_000, "two messages").finally(() => clearInterval(sending));
      assert.equal(messages.length, 2);
      const [a, b] = messages;
      assert.notEqual(a!.topic, b!.topic);
      assert.equal(text(a!.payload), a!.topic.replace("kept/simple/", "payload "));
      assert.equal(text(b!.payload), b!.topic.replace("kept/simple/", "payload "));
    } finally {
      pub.disconnect();
      pub.loopStop();
    }
  });
});
