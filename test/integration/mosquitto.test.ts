/**
 * The client against a real mosquitto (2.0.x, started by the test on a free loopback port), on MQTT 3.1,
 * 3.1.1 and 5: callback signatures, QoS 0/1/2 both ways, retained messages, wills, keepalive against a
 * frozen broker, overlapping subscriptions and messageCallbackAdd routing, $SYS and "#", empty client ids,
 * unsubscribe, offline queueing, and QoS 1/2 redelivery after the link is cut mid-flow by a TCP proxy.
 *
 * Every wait is bounded (within()/until() reject with what they were waiting for); every client made by
 * online() is disconnected after its test; every broker and proxy is stopped in after().
 */
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import {
  Client, type ClientOptions, type ConnectFlags, type DisconnectFlags, type MQTTMessage, type MessageInfo,
  MQTTv31, MQTTv311, MQTTv5, MQTT_ERR_NO_CONN, MQTT_ERR_SUCCESS, MQTT_LOG_DEBUG, MQTT_LOG_ERR, MQTT_LOG_INFO,
  MQTT_LOG_NOTICE, MQTT_LOG_WARNING, type Properties, type ProtocolVersion, topicMatchesSub,
} from "../../hosts/node/index.js";
import { type Broker, startMosquitto } from "../support/mosquitto.js";
import { type Proxy, startProxy } from "../support/proxy.js";
import { sleep, until, within } from "../support/wait.js";
import { owned, disconnectAll } from "../support/clients.js";

const HOST = "127.0.0.1";
const PROTOCOLS: ReadonlyArray<readonly [ProtocolVersion, string]> = [[MQTTv31, "3.1"], [MQTTv311, "3.1.1"], [MQTTv5, "5"]];
const LOG_LEVELS = new Set([MQTT_LOG_INFO, MQTT_LOG_NOTICE, MQTT_LOG_WARNING, MQTT_LOG_ERR, MQTT_LOG_DEBUG]);

// ---- recording callbacks -----------------------------------------------------------------------

/** A received message, copied out of the callback (the MQTTMessage itself is only valid inside it). */
interface Got {
  topic: string;
  text: string;
  bytes: Uint8Array;
  qos: number;
  retain: boolean;
  dup: boolean;
  mid: number;
  properties: Properties | undefined;
  at: number;
}

function got(m: MQTTMessage): Got {
  const bytes = new Uint8Array(m.payload);
  // properties is copied deeply: its binary values (correlationData) may be views into the receive buffer.
  return { topic: m.topic, text: Buffer.from(bytes).toString("utf8"), bytes, qos: m.qos, retain: m.retain, dup: m.dup,
    mid: m.mid, properties: owned(m.properties), at: Date.now() };
}

class Rec {
  connects: Array<{ flags: ConnectFlags; rc: number; props: Properties; at: number }> = [];
  connectFails = 0;
  disconnects: Array<{ flags: DisconnectFlags; rc: number; props: Properties; at: number }> = [];
  messages: Got[] = [];
  published: Array<{ mid: number; rc: number; props: Properties }> = [];
  subscribed: Array<{ mid: number; rcs: number[]; props: Properties }> = [];
  unsubscribed: Array<{ mid: number; rcs: number[]; props: Properties }> = [];
  logs: Array<{ level: number; buf: string }> = [];
  preConnects = 0;
  socketsOpened: unknown[] = [];
  socketsClosed: unknown[] = [];
  /** Broken callback contracts (wrong client, userdata, argument count): asserted empty. */
  problems: string[] = [];

  topics(prefix: string): Got[] {
    return this.messages.filter((m) => m.topic.startsWith(prefix));
  }

  logText(): string {
    return this.logs.map((l) => `[${l.level}] ${l.buf}`).join("\n");
  }
}

/** Records every callback of `client`, checking each gets (client, userdata, ...) with the right arity. */
function watch(client: Client): Rec {
  const rec = new Rec();
  const check = (name: string, c: Client, u: unknown, n: number, expected: number): void => {
    if (c !== client) rec.problems.push(`${name}: first argument is not the client`);
    if (u !== client.userdata) rec.problems.push(`${name}: second argument is not the userdata`);
    if (n !== expected) rec.problems.push(`${name}: called with ${n} arguments, expected ${expected}`);
  };
  client.onConnect = function (c, u, flags, rc, props) {
    check("onConnect", c, u, arguments.length, 5);
    rec.connects.push({ flags, rc, props, at: Date.now() });
  };
  client.onConnectFail = function (c, u) {
    check("onConnectFail", c, u, arguments.length, 2);
    rec.connectFails++;
  };
  client.onDisconnect = function (c, u, flags, rc, props) {
    check("onDisconnect", c, u, arguments.length, 5);
    rec.disconnects.push({ flags, rc, props, at: Date.now() });
  };
  client.onMessage = function (c, u, m) {
    check("onMessage", c, u, arguments.length, 3);
    rec.messages.push(got(m));
  };
  client.onPublish = function (c, u, mid, rc, props) {
    check("onPublish", c, u, arguments.length, 5);
    rec.published.push({ mid, rc, props });
  };
  client.onSubscribe = function (c, u, mid, rcs, props) {
    check("onSubscribe", c, u, arguments.length, 5);
    rec.subscribed.push({ mid, rcs: [...rcs], props });
  };
  client.onUnsubscribe = function (c, u, mid, rcs, props) {
    check("onUnsubscribe", c, u, arguments.length, 5);
    rec.unsubscribed.push({ mid, rcs: [...rcs], props });
  };
  client.onLog = function (c, u, level, buf) {
    check("onLog", c, u, arguments.length, 4);
    rec.logs.push({ level, buf });
  };
  client.onPreConnect = function (c, u) {
    check("onPreConnect", c, u, arguments.length, 2);
    rec.preConnects++;
  };
  client.onSocketOpen = function (c, u, sock) {
    check("onSocketOpen", c, u, arguments.length, 3);
    rec.socketsOpened.push(sock);
  };
  client.onSocketClose = function (c, u, sock) {
    check("onSocketClose", c, u, arguments.length, 3);
    rec.socketsClosed.push(sock);
  };
  return rec;
}

// ---- clients -----------------------------------------------------------------------------------

const live = new Set<Client>();

/** Disconnects every client online() made (safe on clients already disconnected). */
const closeAll = (): void => disconnectAll(live);

interface OnlineOptions extends ClientOptions {
  keepalive?: number;
  cleanStart?: boolean;
  connectProperties?: Properties;
  /** Runs after the callbacks are in place, before connect(): willSet, reconnectDelaySet... */
  setup?: (client: Client, rec: Rec) => void;
}

let idCounter = 0;
/** A unique client id (mosquitto takes a session over when two clients share one). */
const uid = (what: string): string => `${what}-${process.pid}-${++idCounter}`;
let topicCounter = 0;
/** A topic root of its own for each test, so no test sees another's messages. */
const root = (what: string): string => `tm${++topicCounter}/${what}`;

/** Connects a recorded client with loopStart() and waits for its CONNACK. */
async function online(port: number, options: OnlineOptions = {}): Promise<{ client: Client; rec: Rec }> {
  const { keepalive = 30, cleanStart, connectProperties, setup, ...clientOptions } = options;
  const client = new Client({ clientId: uid("c"), ...clientOptions });
  const rec = watch(client);
  setup?.(client, rec);
  live.add(client);
  const rc = await within(client.connect(HOST, port, keepalive, "", cleanStart, connectProperties), 3000, "connect() resolves");
  assert.equal(rc, MQTT_ERR_SUCCESS);
  assert.equal(client.loopStart(), MQTT_ERR_SUCCESS);
  await until(() => rec.connects.length > 0, 3000, () => `onConnect\n${rec.logText()}`);
  assert.equal(rec.connects[0]!.rc, 0, `CONNACK accepted\n${rec.logText()}`);
  return { client, rec };
}

/** Subscribes and waits for the SUBACK; returns the granted codes. */
async function subscribed(client: Client, rec: Rec, ...args: Parameters<Client["subscribe"]>): Promise<number[]> {
  const [rc, mid] = client.subscribe(...args);
  assert.equal(rc, MQTT_ERR_SUCCESS, "subscribe() rc");
  await until(() => rec.subscribed.some((s) => s.mid === mid), 3000, `SUBACK for mid ${mid}`);
  return rec.subscribed.find((s) => s.mid === mid)!.rcs;
}

/**
 * Waits until count() reaches target, or until it has not changed for idleMs (bounded by maxMs in all): for
 * counting tests, so a lost message fails in about idleMs with the count, not after a long timeout.
 */
async function settled(count: () => number, target: number, idleMs: number, maxMs: number): Promise<number> {
  const deadline = Date.now() + maxMs;
  let last = count();
  let changedAt = Date.now();
  while (last < target && Date.now() < deadline && Date.now() - changedAt < idleMs) {
    await sleep(10);
    const now = count();
    if (now !== last) {
      last = now;
      changedAt = Date.now();
    }
  }
  return last;
}

async function allPublished(infos: MessageInfo[], ms: number, what: string): Promise<void> {
  await within(Promise.all(infos.map((i) => i.waitForPublish())), ms, what);
}

/** A connected client's socket, as the brief's abnormal close uses it. */
function sock(client: Client): net.Socket {
  const s = client.socket() as net.Socket | null;
  assert.ok(s !== null, "client.socket() while connected");
  return s;
}

// =================================================================================================

describe("client against mosquitto", { timeout: 120_000 }, () => {
  let broker: Broker;
  before(async () => {
    // Counted tests need room: a window of 100 unfinished QoS 2 per client and 10000 queued (DESIGN.md).
    // sys_interval 1: $SYS topics are published every second, for the "#" test.
    broker = await startMosquitto({ maxInflightMessages: 100, maxQueuedMessages: 10000, config: "sys_interval 1" });
  });
  after(async () => {
    closeAll();
    await broker?.stop();
  });
  afterEach(closeAll);

  describe("callbacks", () => {
    for (const [protocol, name] of PROTOCOLS) {
      test(`MQTT ${name}: every callback fires with its documented signature`, async () => {
        const t = root(`cb${protocol}`);
        const userdata = { tag: `user-${name}` };
        const { client, rec } = await online(broker.port, { protocol, userdata });
        assert.equal(client.userdata, userdata);
        assert.ok(client.isConnected());
        assert.equal(rec.preConnects, 1, "onPreConnect before the connection");
        assert.equal(rec.socketsOpened.length, 1, "onSocketOpen once");
        assert.equal(rec.socketsOpened[0], client.socket(), "onSocketOpen gets the socket client.socket() returns");

        // onConnect(client, userdata, flags, reasonCode, properties)
        const c = rec.connects[0]!;
        assert.deepEqual(c.flags, { sessionPresent: false });
        assert.equal(c.rc, 0);
        if (protocol === MQTTv5) {
          assert.equal(c.props.receiveMaximum, 100, "mosquitto advertises max_inflight_messages as Receive Maximum");
          assert.equal(typeof c.props.topicAliasMaximum, "number");
        } else {
          assert.deepEqual(c.props, {}, "no CONNACK properties before MQTT 5");
        }

        // onSubscribe(client, userdata, mid, reasonCodes, properties): one granted QoS per filter, in order.
        const [src, smid] = client.subscribe([[`${t}/q0`, 0], [`${t}/q1`, 1], [`${t}/q2`, 2]]);
        assert.equal(src, MQTT_ERR_SUCCESS);
        assert.ok(smid > 0);
        await until(() => rec.subscribed.length === 1, 3000, "onSubscribe");
        assert.deepEqual(rec.subscribed[0], { mid: smid, rcs: [0, 1, 2], props: {} });

        // onPublish(client, userdata, mid, reasonCode, properties) with MessageInfo.mid; QoS 0 counts once written.
        const v5props: Properties = { contentType: "text/plain", responseTopic: `${t}/reply`,
          correlationData: new Uint8Array([1, 2, 3]), userProperties: [["k", "v"], ["k", "w"]] };
        const infos = ([0, 1, 2] as const).map((q) => client.publish(`${t}/q${q}`, `payload ${q}`, q, false, protocol === MQTTv5 ? v5props : undefined));
        for (const info of infos) {
          assert.equal(info.rc, MQTT_ERR_SUCCESS);
          assert.ok(info.mid > 0, "every publish gets a mid, QoS 0 included (Paho)");
        }
        assert.equal(new Set(infos.map((i) => i.mid)).size, 3, "mids are distinct");
        await allPublished(infos, 3000, "waitForPublish() of QoS 0, 1 and 2");
        for (const info of infos) assert.equal(info.isPublished(), true);
        await until(() => rec.published.length === 3, 3000, "three onPublish calls");
        assert.deepEqual(rec.published.map((p) => p.mid).sort((a, b) => a - b), infos.map((i) => i.mid).sort((a, b) => a - b));
        for (const p of rec.published) {
          assert.equal(p.rc, 0);
          assert.deepEqual(p.props, {});
        }

        // onMessage(client, userdata, message): our own three messages come back at the granted QoS.
        await until(() => rec.messages.length === 3, 3000, "three onMessage calls");
        for (const q of [0, 1, 2]) {
          const m = rec.messages.find((x) => x.topic === `${t}/q${q}`);
          assert.ok(m !== undefined, `message on ${t}/q${q}`);
          assert.equal(m.text, `payload ${q}`);
          assert.ok(m.bytes instanceof Uint8Array);
          assert.equal(m.qos, q);
          assert.equal(m.retain, false);
          assert.equal(m.dup, false);
          if (q === 0) assert.equal(m.mid, 0, "a QoS 0 message has no packet id");
          else assert.ok(m.mid > 0 && m.mid <= 65535, "a QoS 1/2 message carries its packet id");
          if (protocol === MQTTv5) {
            assert.equal(m.properties?.contentType, "text/plain");
            assert.equal(m.properties?.responseTopic, `${t}/reply`);
            assert.deepEqual(m.properties?.correlationData, new Uint8Array([1, 2, 3]));
            assert.deepEqual(m.properties?.userProperties, [["k", "v"], ["k", "w"]], "user properties keep order and repeats");
          } else {
            assert.equal(m.properties, undefined);
          }
        }

        // onUnsubscribe(client, userdata, mid, reasonCodes, properties): 3.x UNSUBACK has no reason codes.
        const [urc, umid] = client.unsubscribe([`${t}/q0`, `${t}/q1`, `${t}/q2`]);
        assert.equal(urc, MQTT_ERR_SUCCESS);
        await until(() => rec.unsubscribed.length === 1, 3000, "onUnsubscribe");
        assert.deepEqual(rec.unsubscribed[0], { mid: umid, rcs: protocol === MQTTv5 ? [0, 0, 0] : [], props: {} });

        // onDisconnect(client, userdata, flags, reasonCode, properties) after disconnect(): reason 0.
        assert.equal(client.disconnect(), MQTT_ERR_SUCCESS);
        await until(() => rec.disconnects.length === 1, 3000, "onDisconnect");
        assert.deepEqual(rec.disconnects[0]!.flags, { isDisconnectPacketFromServer: false });
        assert.equal(rec.disconnects[0]!.rc, 0);
        assert.deepEqual(rec.disconnects[0]!.props, {});
        assert.equal(client.isConnected(), false);
        assert.equal(rec.socketsClosed.length, 1, "onSocketClose once");
        assert.equal(rec.socketsClosed[0], rec.socketsOpened[0]);
        await sleep(100);
        assert.equal(rec.disconnects.length, 1, "no reconnect after disconnect()");
        assert.equal(rec.connects.length, 1);

        // onLog(client, userdata, level, buf): Paho-style lines at MQTT_LOG_* levels.
        assert.ok(rec.logs.length > 5, "onLog receives lines");
        for (const l of rec.logs) {
          assert.ok(LOG_LEVELS.has(l.level), `log level ${l.level} is an MQTT_LOG_* value`);
          assert.equal(typeof l.buf, "string");
        }
        const text = rec.logText();
        assert.match(text, /Sending CONNECT/);
        assert.match(text, /Received CONNACK \(0, 0\)/);
        assert.match(text, /Sending SUBSCRIBE/);
        assert.match(text, /Sending PUBLISH .*q2/);
        assert.match(text, /Received PUBLISH/);
        assert.deepEqual(rec.problems, []);
      });
    }

    test("publish before the connection: MQTT_ERR_NO_CONN at every QoS (Paho); QoS 1/2 still go out after CONNACK", async () => {
      const t = root("early");
      const { client: sub, rec: srec } = await online(broker.port);
      await subscribed(sub, srec, `${t}/#`, 1);
      const client = new Client({ clientId: uid("early") });
      live.add(client);
      const rec = watch(client);
      const early = client.publish(`${t}/q1`, "queued before connect", 1);
      assert.equal(early.rc, MQTT_ERR_NO_CONN, "not connected, as Paho says, though the QoS 1 publish is queued");
      assert.equal(early.isPublished(), false);
      const [rc2, mid2] = client.publish(`${t}/q2`, "queued before connect too", 2);
      assert.equal(rc2, MQTT_ERR_NO_CONN);
      assert.ok(mid2 !== undefined && mid2 > 0 && mid2 !== early.mid, `a mid of its own: ${mid2}`);
      const q0 = client.publish(`${t}/q0`, "lost", 0);
      assert.equal(q0.rc, MQTT_ERR_NO_CONN);
      await assert.rejects(q0.waitForPublish(1000), /not queued/);
      await assert.rejects(early.waitForPublish(50), /not published within 50 ms/, "waitForPublish(timeout) rejects in time");
      await client.connect(HOST, broker.port);
      client.loopStart();
      await within(early.waitForPublish(), 3000, "the early QoS 1 publish goes out after CONNACK");
      await until(() => srec.topics(t).length === 2, 3000, "the early messages delivered");
      assert.deepEqual(srec.topics(t).map((m) => m.text).sort(), ["queued before connect", "queued before connect too"]);
      const [rcOnline] = client.publish(`${t}/q1`, "connected now", 1);
      assert.equal(rcOnline, MQTT_ERR_SUCCESS);
      assert.deepEqual(rec.problems, []);
    });
  });

  describe("QoS 0/1/2 both ways", () => {
    for (const [protocol, name] of PROTOCOLS) {
      test(`MQTT ${name}: every publish QoS to every subscription QoS, delivered at the lower of the two`, async () => {
        const t = root(`qos${protocol}`);
        const { client: sub, rec: srec } = await online(broker.port, { protocol });
        const { client: pub, rec: prec } = await online(broker.port, { protocol });
        assert.deepEqual(await subscribed(sub, srec, [[`${t}/s0`, 0], [`${t}/s1`, 1], [`${t}/s2`, 2]]), [0, 1, 2]);
        // Payloads of every accepted kind: string, Uint8Array, ArrayBuffer, number, empty, large.
        const payloads: Array<[Parameters<Client["publish"]>[1], string]> = [
          ["text \u00e9\u{1F600}", "text \u00e9\u{1F600}"],
          [new Uint8Array([0x62, 0x79, 0x74, 0x65, 0x73]), "bytes"],
          [new Uint8Array([0x61, 0x62]).buffer, "ab"],
          [42.5, "42.5"],
          [undefined, ""],
          ["x".repeat(100_000), "x".repeat(100_000)],
        ];
        const infos: MessageInfo[] = [];
        const expected: Array<{ topic: string; qos: number; text: string }> = [];
        let k = 0;
        for (const s of [0, 1, 2]) {
          for (const q of [0, 1, 2] as const) {
            const [payload, text] = payloads[k++ % payloads.length]!;
            infos.push(pub.publish(`${t}/s${s}`, payload, q));
            expected.push({ topic: `${t}/s${s}`, qos: Math.min(s, q), text });
          }
        }
        await allPublished(infos, 5000, "all nine publishes complete");
        await until(() => srec.topics(t).length >= 9, 5000, () => `nine deliveries, got ${srec.topics(t).length}`);
        await sleep(100);
        const received = srec.topics(t).map((m) => ({ topic: m.topic, qos: m.qos, text: m.text }));
        const key = (x: { topic: string; qos: number; text: string }): string => `${x.topic} q${x.qos} ${x.text.length}:${x.text.slice(0, 20)}`;
        assert.deepEqual(received.map(key).sort(), expected.map(key).sort());
        for (const m of srec.topics(t)) assert.equal(m.dup, false);
        assert.equal(prec.published.length, 9, "one onPublish per message");
        assert.deepEqual(srec.problems, []);
        assert.deepEqual(prec.problems, []);
      });
    }
  });

  describe("retained messages", () => {
    for (const [protocol, name] of PROTOCOLS) {
      test(`MQTT ${name}: retain is set on delivery to a new subscriber, not on live delivery; an empty payload clears it`, async () => {
        const t = root(`ret${protocol}`);
        const { client: early, rec: erec } = await online(broker.port, { protocol });
        await subscribed(early, erec, `${t}/#`, 1);
        const { client: pub } = await online(broker.port, { protocol });
        await within(pub.publish(`${t}/kept`, "retained value", 1, true).waitForPublish(), 3000, "retained publish");
        await until(() => erec.topics(t).length === 1, 3000, "live delivery");
        assert.equal(erec.topics(t)[0]!.retain, false, "a live delivery has retain 0");

        const { client: late, rec: lrec } = await online(broker.port, { protocol });
        await subscribed(late, lrec, `${t}/#`, 2);
        await until(() => lrec.topics(t).length === 1, 3000, "the retained message on subscribe");
        const m = lrec.topics(t)[0]!;
        assert.deepEqual([m.topic, m.text, m.retain, m.qos], [`${t}/kept`, "retained value", true, 1]);

        // Clear it; a retained message on another topic is the sentinel that the subscription is served.
        await within(pub.publish(`${t}/kept`, "", 1, true).waitForPublish(), 3000, "clearing publish");
        await within(pub.publish(`${t}/other`, "sentinel", 1, true).waitForPublish(), 3000, "sentinel publish");
        const { client: later, rec: rrec } = await online(broker.port, { protocol });
        await subscribed(later, rrec, `${t}/#`, 1);
        await until(() => rrec.topics(`${t}/other`).length === 1, 3000, "the retained sentinel");
        await sleep(150);
        assert.deepEqual(rrec.topics(`${t}/kept`), [], "a cleared retained message is not delivered");
        await within(pub.publish(`${t}/other`, "", 0, true).waitForPublish(), 3000, "clearing the sentinel");
      });
    }
  });

  describe("wills", () => {
    for (const [protocol, name] of PROTOCOLS) {
      test(`MQTT ${name}: the will is published on an abnormal close, not after disconnect()`, async () => {
        const t = root(`will${protocol}`);
        const { client: watcher, rec: wrec } = await online(broker.port, { protocol });
        await subscribed(watcher, wrec, `${t}/#`, 2);

        const willProps: Properties | undefined = protocol === MQTTv5 ? { contentType: "text/x-will", userProperties: [["who", "a"]] } : undefined;
        const { client: a, rec: arec } = await online(broker.port, { protocol, setup: (c) => {
          c.willSet(`${t}/a`, "a died", 1, false, willProps);
          c.reconnectDelaySet(0.05, 0.2);
        } });
        sock(a).destroy();
        await until(() => wrec.topics(`${t}/a`).length === 1, 3000, "the will of a destroyed connection");
        const will = wrec.topics(`${t}/a`)[0]!;
        assert.deepEqual([will.text, will.qos, will.retain], ["a died", 1, false]);
        if (protocol === MQTTv5) {
          assert.equal(will.properties?.contentType, "text/x-will");
          assert.deepEqual(will.properties?.userProperties, [["who", "a"]]);
        }
        await until(() => arec.disconnects.length === 1, 3000, "onDisconnect after the socket was destroyed");
        assert.notEqual(arec.disconnects[0]!.rc, 0, "a lost connection is not a normal disconnection");
        // loopStart() reconnects by itself.
        await until(() => arec.connects.length === 2, 3000, "the automatic reconnect");

        const { client: b, rec: brec } = await online(broker.port, { protocol, setup: (c) => c.willSet(`${t}/b`, "b died", 1) });
        b.disconnect();
        await until(() => brec.disconnects.length === 1, 3000, "b's onDisconnect");
        assert.equal(brec.disconnects[0]!.rc, 0);
        await within(watcher.publish(`${t}/sentinel`, "after b", 1).waitForPublish(), 3000, "sentinel");
        await until(() => wrec.topics(`${t}/sentinel`).length === 1, 3000, "the sentinel");
        await sleep(200);
        assert.deepEqual(wrec.topics(`${t}/b`), [], "no will after disconnect()");

        // a's reconnected session still carries the will; disconnect() discards it too.
        a.disconnect();
        await sleep(200);
        assert.equal(wrec.topics(`${t}/a`).length, 1, "no second will from a after disconnect()");
      });
    }

    test("MQTT 5: disconnect(0x04) asks the broker to publish the will; a retained will stays retained", async () => {
      const t = root("will5x");
      const { client: watcher, rec: wrec } = await online(broker.port, { protocol: MQTTv5 });
      await subscribed(watcher, wrec, `${t}/#`, 1);
      const { client } = await online(broker.port, { protocol: MQTTv5, setup: (c) => c.willSet(`${t}/w`, "with will", 1, true) });
      assert.equal(client.disconnect(0x04), MQTT_ERR_SUCCESS);
      await until(() => wrec.topics(`${t}/w`).length === 1, 3000, "the will after DISCONNECT 0x04");
      const { client: late, rec: lrec } = await online(broker.port, { protocol: MQTTv5 });
      await subscribed(late, lrec, `${t}/w`, 1);
      await until(() => lrec.topics(`${t}/w`).length === 1, 3000, "the retained will");
      assert.equal(lrec.topics(`${t}/w`)[0]!.retain, true);
      await within(watcher.publish(`${t}/w`, "", 1, true).waitForPublish(), 3000, "clearing");
    });
  });

  describe("overlapping subscriptions and messageCallbackAdd", () => {
    for (const [protocol, name] of PROTOCOLS) {
      test(`MQTT ${name}: a/# and a/+ both match; every matching callback runs, onMessage only when none matched`, async () => {
        const t = root(`ovl${protocol}`);
        const hash: Got[] = [];
        const plus: Got[] = [];
        const { client, rec } = await online(broker.port, { protocol });
        client.messageCallbackAdd(`${t}/a/#`, (c, u, m) => {
          assert.equal(c, client);
          assert.equal(u, client.userdata);
          hash.push(got(m));
        });
        client.messageCallbackAdd(`${t}/a/+`, (_c, _u, m) => plus.push(got(m)));
        client.messageCallbackAdd(`${t}/nomatch/+/x`, () => assert.fail("a callback whose filter does not match ran"));
        assert.deepEqual(await subscribed(client, rec, [[`${t}/a/#`, 1], [`${t}/a/+`, 2], [`${t}/b/#`, 1]]), [1, 2, 1]);

        const { client: pub } = await online(broker.port, { protocol });
        await within(pub.publish(`${t}/a/x`, "both", 2).waitForPublish(), 3000, "publish a/x");
        await within(pub.publish(`${t}/b/y`, "neither callback", 1).waitForPublish(), 3000, "publish b/y");
        await within(pub.publish(`${t}/a/x/deep`, "only a/#", 1).waitForPublish(), 3000, "publish a/x/deep");
        await until(() => rec.messages.length === 1 && hash.some((m) => m.topic === `${t}/a/x/deep`), 3000,
          () => `deliveries: hash ${hash.length}, plus ${plus.length}, onMessage ${rec.messages.length}`);
        await sleep(150);

        // What mosquitto 2.0.11 does with overlapping subscriptions (observed, documented here):
        // MQTT 3.x: one copy, at the QoS of the a/+ subscription (mosquitto does not take the maximum);
        // MQTT 5: one copy per matching subscription, each at its own QoS (the spec allows both).
        const copies = protocol === MQTTv5 ? 2 : 1;
        const both = hash.filter((m) => m.topic === `${t}/a/x`);
        assert.equal(both.length, copies, `mosquitto delivers a/x ${copies} time(s) on MQTT ${name}`);
        assert.deepEqual(plus.map((m) => m.topic), Array(copies).fill(`${t}/a/x`), "a/+'s callback runs for every delivery of a/x");
        if (protocol === MQTTv5) assert.deepEqual(both.map((m) => m.qos).sort(), [1, 2]);
        else assert.deepEqual(both.map((m) => m.qos), [2]);
        assert.deepEqual(hash.filter((m) => m.topic === `${t}/a/x/deep`).map((m) => m.text), ["only a/#"]);
        assert.equal(plus.some((m) => m.topic === `${t}/a/x/deep`), false, "a/+ does not match a/x/deep");
        assert.deepEqual(rec.messages.map((m) => [m.topic, m.text]), [[`${t}/b/y`, "neither callback"]],
          "onMessage gets only what no callback filter matched");

        // messageCallbackRemove: a/x now goes to a/# only; removing both sends it to onMessage.
        client.messageCallbackRemove(`${t}/a/+`);
        await within(pub.publish(`${t}/a/x`, "after remove", 1).waitForPublish(), 3000, "publish");
        await until(() => hash.filter((m) => m.text === "after remove").length === copies, 3000, "a/# callback after remove");
        assert.equal(plus.filter((m) => m.text === "after remove").length, 0);
        client.messageCallbackRemove(`${t}/a/#`);
        await within(pub.publish(`${t}/a/x`, "no callbacks", 1).waitForPublish(), 3000, "publish");
        await until(() => rec.messages.filter((m) => m.text === "no callbacks").length === copies, 3000, "onMessage after removing both");
        assert.deepEqual(rec.problems, []);
      });
    }
  });

  describe("$SYS topics", () => {
    test("topicMatchesSub: wildcards at the first level never match a topic starting with $", () => {
      assert.equal(topicMatchesSub("#", "$SYS/broker/uptime"), false);
      assert.equal(topicMatchesSub("+/broker/uptime", "$SYS/broker/uptime"), false);
      assert.equal(topicMatchesSub("+/#", "$SYS/broker/uptime"), false);
      assert.equal(topicMatchesSub("$SYS/#", "$SYS/broker/uptime"), true);
      assert.equal(topicMatchesSub("$SYS/+/uptime", "$SYS/broker/uptime"), true);
      assert.equal(topicMatchesSub("#", "a/$SYS"), true, "$ matters only at the start of the topic");
      assert.equal(topicMatchesSub("a/#", "a"), true, "a/# matches its parent level");
      assert.equal(topicMatchesSub("a/+", "a/b/c"), false);
    });

    for (const [protocol, name] of PROTOCOLS) {
      test(`MQTT ${name}: a "#" subscription receives no $SYS messages while a "$SYS/#" one does`, async () => {
        const t = root(`sys${protocol}`);
        const { client: all, rec: arec } = await online(broker.port, { protocol });
        const { client: sys, rec: srec } = await online(broker.port, { protocol });
        await subscribed(all, arec, [["#", 0], ["+/broker/#", 0]]);
        await subscribed(sys, srec, "$SYS/#", 0);
        // With sys_interval 1 mosquitto publishes $SYS updates every second; wait for a fresh one after both
        // subscriptions exist, then for our own message through "#".
        const seen = srec.messages.length;
        await until(() => srec.messages.some((m, i) => i >= seen && !m.retain), 3000, "a live $SYS update");
        await within(sys.publish(`${t}/x`, "ordinary", 0).waitForPublish(), 3000, "publish");
        await until(() => arec.topics(t).length === 1, 3000, 'an ordinary message through "#"');
        assert.ok(srec.messages.every((m) => m.topic.startsWith("$SYS/")));
        assert.deepEqual(arec.messages.filter((m) => m.topic.startsWith("$")).map((m) => m.topic), [], '"#" and "+/..." get no $SYS topic');
      });
    }
  });

  describe("zero-length client id", () => {
    test("MQTT 3.1.1: sent empty, the broker accepts it", async () => {
      const t = root("id4");
      const { client, rec } = await online(broker.port, { protocol: MQTTv311, clientId: "" });
      assert.match(rec.logText(), /client_id=$/m, "CONNECT carried an empty client id");
      await subscribed(client, rec, `${t}/x`, 1);
      await within(client.publish(`${t}/x`, "hi", 1).waitForPublish(), 3000, "publish");
      await until(() => rec.messages.length === 1, 3000, "round trip");
    });

    test("MQTT 5: sent empty, the broker's id arrives as assignedClientIdentifier", async () => {
      const { rec } = await online(broker.port, { protocol: MQTTv5, clientId: "" });
      const assigned = rec.connects[0]!.props.assignedClientIdentifier;
      assert.equal(typeof assigned, "string");
      assert.ok((assigned ?? "").length > 0, "a non-empty assigned id");
      const { rec: rec2 } = await online(broker.port, { protocol: MQTTv5, clientId: "given" });
      assert.equal(rec2.connects[0]!.props.assignedClientIdentifier, undefined, "no assigned id when we gave one");
    });

    test("MQTT 3.1: the client makes an id up (3.1 forbids empty ids); two such clients do not collide", async () => {
      const one = await online(broker.port, { protocol: MQTTv31, clientId: "" });
      const two = await online(broker.port, { protocol: MQTTv31 });
      const id = (rec: Rec): string => /client_id=(\S*)$/m.exec(rec.logText())?.[1] ?? "";
      assert.ok(id(one.rec).length > 0 && id(one.rec).length <= 23, `made-up id ${id(one.rec)} is 1..23 characters`);
      assert.notEqual(id(one.rec), id(two.rec));
      await sleep(200);
      assert.ok(one.client.isConnected() && two.client.isConnected(), "neither took the other's session over");
    });

    test("MQTT 3.x: an empty id with cleanSession false is refused up front; MQTT 5 allows it", () => {
      assert.throws(() => new Client({ protocol: MQTTv311, clientId: "", cleanSession: false }), RangeError);
      assert.throws(() => new Client({ protocol: MQTTv31, cleanSession: false }), RangeError);
      assert.doesNotThrow(() => new Client({ protocol: MQTTv5, clientId: "", cleanSession: false }));
    });
  });

  describe("unsubscribe", () => {
    for (const [protocol, name] of PROTOCOLS) {
      test(`MQTT ${name}: unsubscribe stops delivery`, async () => {
        const t = root(`uns${protocol}`);
        const { client, rec } = await online(broker.port, { protocol });
        const { client: pub } = await online(broker.port, { protocol });
        await subscribed(client, rec, [[`${t}/x`, 1], [`${t}/sentinel`, 1]]);
        await within(pub.publish(`${t}/x`, "one", 1).waitForPublish(), 3000, "publish");
        await until(() => rec.topics(`${t}/x`).length === 1, 3000, "delivery while subscribed");
        const [rc, mid] = client.unsubscribe(`${t}/x`);
        assert.equal(rc, MQTT_ERR_SUCCESS);
        await until(() => rec.unsubscribed.some((u) => u.mid === mid), 3000, "UNSUBACK");
        // One publisher, one subscriber, one QoS: mosquitto keeps the order, so the sentinel comes after x would.
        await within(pub.publish(`${t}/x`, "two", 1).waitForPublish(), 3000, "publish");
        await within(pub.publish(`${t}/sentinel`, "end", 1).waitForPublish(), 3000, "publish");
        await until(() => rec.topics(`${t}/sentinel`).length === 1, 3000, "the sentinel");
        await sleep(100);
        assert.deepEqual(rec.topics(`${t}/x`).map((m) => m.text), ["one"]);
      });
    }
  });

  describe("offline queueing", () => {
    for (const [protocol, name] of PROTOCOLS) {
      test(`MQTT ${name}: QoS 1/2 published while a persistent subscriber is away arrive when it returns`, async () => {
        const t = root(`off${protocol}`);
        const clientId = uid(`offline${protocol}`);
        // MQTT 5 keeps the session after the connection only with a Session Expiry Interval.
        const connectProperties = protocol === MQTTv5 ? { sessionExpiryInterval: 300 } : undefined;
        const { client: sub, rec } = await online(broker.port, { protocol, clientId, cleanSession: false, connectProperties });
        assert.equal(rec.connects[0]!.flags.sessionPresent, false);
        await subscribed(sub, rec, `${t}/#`, 2);
        sub.disconnect();
        await until(() => rec.disconnects.length === 1, 3000, "disconnect");

        const { client: pub } = await online(broker.port, { protocol });
        const infos: MessageInfo[] = [];
        for (let i = 0; i < 20; i++) infos.push(pub.publish(`${t}/m`, `m${i}`, i % 2 === 0 ? 1 : 2));
        infos.push(pub.publish(`${t}/m`, "qos0", 0));
        await allPublished(infos, 5000, "publishes while the subscriber is away");

        await within(sub.connect(HOST, broker.port, 30, "", undefined, connectProperties), 3000, "reconnect");
        sub.loopStart();
        await until(() => rec.connects.length === 2, 3000, "second onConnect");
        // MQTT 3.1's CONNACK has no session-present flag (the byte is reserved): it always reads false.
        assert.equal(rec.connects[1]!.flags.sessionPresent, protocol !== MQTTv31, "the broker kept the session");
        await until(() => rec.topics(t).length >= 20, 5000, () => `20 queued messages, got ${rec.topics(t).length}`);
        await sleep(200);
        const received = rec.topics(t);
        const texts = received.map((m) => m.text);
        assert.equal(texts.length, 20, `every queued QoS 1/2 message once: ${texts.join(" ")}`);
        for (const m of received) assert.equal(m.qos, Number(m.text.slice(1)) % 2 === 0 ? 1 : 2);
        // mosquitto 2.0.11 sends an offline client's queued QoS 1 messages before its queued QoS 2 ones; the
        // order within one QoS is kept (all MQTT promises).
        for (const q of [1, 2]) {
          assert.deepEqual(received.filter((m) => m.qos === q).map((m) => m.text),
            Array.from({ length: 20 }, (_, i) => i).filter((i) => (i % 2 === 0 ? 1 : 2) === q).map((i) => `m${i}`), `QoS ${q} in order`);
        }
        assert.equal(texts.includes("qos0"), false, "mosquitto does not queue QoS 0 for an offline client (queue_qos0_messages false)");
        // Leave no session behind.
        sub.disconnect();
      });
    }
  });

  describe("QoS 1/2 redelivery after the link is cut mid-flow", () => {
    let proxy: Proxy;
    before(async () => {
      proxy = await startProxy(broker.port);
    });
    after(async () => {
      await proxy?.close();
    });

    const BURST = 300;
    const qosOf = (i: number): 1 | 2 => (i % 2 === 0 ? 1 : 2);

    /** Counts per message index; asserts every QoS 1 at least once, every QoS 2 exactly once. */
    function checkCounts(messages: Got[], prefix: string): { dups: number; redelivered: number } {
      const counts = new Array<number>(BURST).fill(0);
      let dups = 0;
      for (const m of messages) {
        const i = Number(/^(\d+)$/.exec(m.text)?.[1] ?? NaN);
        assert.ok(Number.isInteger(i) && i >= 0 && i < BURST, `unexpected payload ${m.text}`);
        assert.equal(m.qos, qosOf(i), `message ${i} arrives at QoS ${qosOf(i)}`);
        counts[i]!++;
        if (m.dup) dups++;
      }
      const missing = counts.flatMap((n, i) => (n === 0 ? [i] : []));
      assert.deepEqual(missing, [], `${prefix}: no message missing`);
      const twiceQos2 = counts.flatMap((n, i) => (qosOf(i) === 2 && n !== 1 ? [`${i}x${n}`] : []));
      assert.deepEqual(twiceQos2, [], `${prefix}: every QoS 2 message exactly once`);
      return { dups, redelivered: counts.filter((n) => n > 1).length };
    }

    for (const [protocol, name] of PROTOCOLS) {
      const connectProperties = protocol === MQTTv5 ? { sessionExpiryInterval: 300 } : undefined;

      test(`MQTT ${name}: the publisher's link is cut; it reconnects and finishes every flow`, async () => {
        const t = root(`cutp${protocol}`);
        const { client: sub, rec: srec } = await online(broker.port, { protocol, budget: { maxIncomingQos2: 1024 } });
        await subscribed(sub, srec, `${t}/#`, 2);
        let cutAt = -1;
        const acceptedBefore = proxy.accepted;
        const { client: pub, rec: prec } = await online(proxy.port, { protocol, cleanSession: false, connectProperties,
          setup: (c, r) => {
            c.reconnectDelaySet(0.05, 0.2);
            const onPublish = c.onPublish!;
            c.onPublish = (...args) => {
              onPublish(...args);
              if (cutAt < 0 && r.published.length === 60) {
                cutAt = r.published.length;
                proxy.cut();
              }
            };
          } });
        const infos: MessageInfo[] = [];
        for (let i = 0; i < BURST; i++) infos.push(pub.publish(`${t}/m`, String(i), qosOf(i)));
        assert.ok(infos.every((i) => i.rc === MQTT_ERR_SUCCESS));
        await allPublished(infos, 15_000, "every publish completes across the cut");
        assert.ok(cutAt > 0, "the link was cut mid-flow");
        assert.ok(proxy.accepted >= acceptedBefore + 2, "the publisher reconnected through the proxy");
        assert.ok(prec.connects.length >= 2);
        assert.equal(prec.connects[1]!.flags.sessionPresent, protocol !== MQTTv31, "the broker kept the publisher's session (3.1 has no flag)");
        assert.ok(prec.disconnects.length >= 1);
        await settled(() => new Set(srec.topics(t).map((m) => m.text)).size, BURST, 2000, 10_000);
        await sleep(200);
        checkCounts(srec.topics(t), `MQTT ${name} publisher cut`);
        assert.equal(new Set(prec.published.map((p) => p.mid)).size, prec.published.length, "onPublish once per mid");
        pub.disconnect();
      });

      test(`MQTT ${name}: the subscriber's link is cut; QoS 1 arrives at least once, QoS 2 exactly once`, async () => {
        const t = root(`cuts${protocol}`);
        let cut = false;
        // A QoS 2 table larger than the whole burst: mosquitto 2.0.11 overruns a client's window (see the tests
        // below), and this test is about the cut, not about the table.
        const { client: sub, rec: srec } = await online(proxy.port, { protocol, cleanSession: false, connectProperties,
          budget: { maxIncomingQos2: 1024 },
          setup: (c, r) => {
            c.reconnectDelaySet(0.05, 0.2);
            const onMessage = c.onMessage!;
            c.onMessage = (...args) => {
              onMessage(...args);
              // Cut inside the callback: the acknowledgement of this message is still owed.
              if (!cut && r.messages.length === 60) {
                cut = true;
                proxy.cut();
              }
            };
          } });
        await subscribed(sub, srec, `${t}/#`, 2);
        const { client: pub } = await online(broker.port, { protocol });
        const infos: MessageInfo[] = [];
        for (let i = 0; i < BURST; i++) infos.push(pub.publish(`${t}/m`, String(i), qosOf(i)));
        await allPublished(infos, 10_000, "every publish reaches the broker");
        await settled(() => new Set(srec.topics(t).map((m) => m.text)).size, BURST, 2000, 15_000);
        await sleep(300);
        assert.ok(cut, "the link was cut mid-flow");
        assert.ok(srec.connects.length >= 2, "the subscriber reconnected");
        assert.equal(srec.connects[1]!.flags.sessionPresent, protocol !== MQTTv31, "session present (3.1 has no flag)");
        const { dups } = checkCounts(srec.topics(t), `MQTT ${name} subscriber cut`);
        assert.ok(dups >= 0);
        sub.disconnect();
      });
    }
  });
});

describe("a broker that sends more QoS 2 than the client's table holds", { timeout: 60_000 }, () => {
  let broker: Broker;
  before(async () => {
    broker = await startMosquitto({ maxInflightMessages: 100, maxQueuedMessages: 10000 });
  });
  after(async () => {
    closeAll();
    await broker?.stop();
  });
  afterEach(closeAll);

  const BURST = 200;
  const qosOf = (i: number): 1 | 2 => (i % 2 === 0 ? 1 : 2);

  async function burst(protocol: ProtocolVersion, sub: Rec, t: string, ms: number): Promise<void> {
    const { client: pub } = await online(broker.port, { protocol });
    const infos: MessageInfo[] = [];
    for (let i = 0; i < BURST; i++) infos.push(pub.publish(`${t}/m`, String(i), qosOf(i)));
    await allPublished(infos, 10_000, "the burst reaches the broker");
    const distinct = await settled(() => new Set(sub.topics(t).map((m) => m.text)).size, BURST, 2000, ms);
    assert.equal(distinct, BURST, `all ${BURST} messages, got ${distinct} distinct; connects ${sub.connects.length}; ` +
        `log:\n${sub.logs.filter((l) => l.level !== MQTT_LOG_DEBUG).slice(0, 4).map((l) => l.buf).join("\n")}`);
    await sleep(200);
    const counts = new Map<string, number>();
    for (const m of sub.topics(t)) counts.set(m.text, (counts.get(m.text) ?? 0) + 1);
    const twice = [...counts].filter(([text, n]) => qosOf(Number(text)) === 2 && n !== 1);
    assert.deepEqual(twice, [], "every QoS 2 message exactly once");
  }

  // Measured: mosquitto 2.0.11 does not keep to a v5 client's Receive Maximum when QoS 1 and QoS 2 messages
  // are mixed (a client advertising 10 that acknowledges only the QoS 1 ones receives 15+ unacknowledged
  // QoS 2 PUBLISHes live, 66 from an offline queue). The spec's answer is DISCONNECT 0x93, which
  // mqtt5-scripted tests deterministically; here it happens only when mosquitto overruns.
  test("MQTT 5: a Receive Maximum overrun ends the connection with 0x93; reconnecting, every message still arrives once", async (t) => {
    const topic = root("rm5");
    const { client: sub, rec } = await online(broker.port, { protocol: MQTTv5, cleanSession: false,
      connectProperties: { sessionExpiryInterval: 300 }, budget: { maxIncomingQos2: 8 },
      setup: (c) => c.reconnectDelaySet(0.05, 0.2) });
    await subscribed(sub, rec, `${topic}/#`, 2);
    await burst(MQTTv5, rec, topic, 20_000);
    const overruns = rec.disconnects.filter((d) => d.rc === 0x93);
    t.diagnostic(`Receive Maximum overruns by the broker: ${overruns.length}; reconnects: ${rec.connects.length - 1}`);
    assert.equal(overruns.length, rec.disconnects.length, "every disconnection was the 0x93 overrun");
    if (overruns.length > 0) assert.match(rec.logText(), /more than 8 QoS 2 messages in flight/);
  });

  for (const [protocol, name] of PROTOCOLS.filter(([p]) => p !== MQTTv5)) {
    // MQTT 3.x has no Receive Maximum: mosquitto sends max_inflight_messages at once, before it reads a PUBREC.
    // With the table full the client drops the PUBLISH unacknowledged, "left for the broker to re-send"; but a
    // 3.1.1 broker re-sends only on a reconnect [MQTT-4.4.0-1], so the message (and the broker's in-flight slot
    // it holds) is stuck for the life of the connection, and with cleanSession true it is never delivered.
    test(`MQTT ${name}: a full incoming QoS 2 table does not stall delivery`,
      async () => {
        const topic = root(`tbl${protocol}`);
        const { client: sub, rec } = await online(broker.port, { protocol, budget: { maxIncomingQos2: 4 } });
        await subscribed(sub, rec, `${topic}/#`, 2);
        await burst(protocol, rec, topic, 5000);
      });
  }
});

describe("keepalive against a frozen broker (SIGSTOP)", { timeout: 60_000 }, () => {
  let broker: Broker;
  before(async () => {
    broker = await startMosquitto({ maxInflightMessages: 100, maxQueuedMessages: 1000 });
  });
  after(async () => {
    closeAll();
    broker?.resume();
    await broker?.stop();
  });

  test("keepalive 2 s: onDisconnect 0x8D within 1.5 x keepalive, then loopStart reconnects after SIGCONT (3.1, 3.1.1, 5 together)", async () => {
    const KEEPALIVE = 2;
    const clients = await Promise.all(PROTOCOLS.map(([protocol]) =>
      online(broker.port, { protocol, keepalive: KEEPALIVE, setup: (c) => c.reconnectDelaySet(0.1, 0.5) })));
    // Something just received from each: the 1.5 x keepalive clock starts now.
    await Promise.all(clients.map(({ client }, i) => within(client.publish(`ka/${i}`, "x", 1).waitForPublish(), 3000, "a PUBACK")));
    const pausedAt = Date.now();
    broker.pause();
    let resumed = false;
    try {
      for (const [i, { rec }] of clients.entries()) {
        const name = PROTOCOLS[i]![1];
        await until(() => rec.disconnects.length > 0, KEEPALIVE * 1500 + 1500, `MQTT ${name}: onDisconnect while the broker is frozen`);
        const d = rec.disconnects[0]!;
        const elapsed = d.at - pausedAt;
        assert.equal(d.rc, 0x8d, `MQTT ${name}: reason code 0x8D (Keep Alive timeout), got 0x${d.rc.toString(16)}`);
        assert.ok(elapsed >= KEEPALIVE * 1500 - 200, `MQTT ${name}: not before 1.5 x keepalive (${elapsed} ms)`);
        assert.ok(elapsed <= KEEPALIVE * 1500 + 1000, `MQTT ${name}: within 1.5 x keepalive plus 1 s (${elapsed} ms)`);
        assert.match(rec.logText(), /keepalive/i, `MQTT ${name}: onLog says why`);
      }
      await sleep(300);
      broker.resume();
      resumed = true;
      const resumedAt = Date.now();
      for (const [i, { client, rec }] of clients.entries()) {
        await until(() => rec.connects.length >= 2, 8000, `MQTT ${PROTOCOLS[i]![1]}: the automatic reconnect after SIGCONT`);
        assert.equal(rec.connects[1]!.rc, 0);
        assert.ok(client.isConnected());
        assert.ok(rec.connects[1]!.at - resumedAt < 8000);
      }
      // The reconnected clients work.
      for (const { client } of clients) await within(client.publish("ka/after", "y", 1).waitForPublish(), 3000, "publish after reconnect");
    } finally {
      if (!resumed) broker.resume();
    }
  });
});
