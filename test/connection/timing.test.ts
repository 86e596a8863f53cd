/**
 * The Client's timing paths over test/support/fake-host.ts: reconnect backoff, keepalive loss, CONNACK and
 * retry timers, the network loop's start and end, callback order, user exceptions and write backpressure.
 * The clock moves only by host.advance(); the broker is the test, on the fake link's peer side. Nothing
 * sleeps and no socket is opened.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Client, type ClientOptions, MqttConnectionError } from "../../src/paho/client.js";
import { CONNACK, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, type Packet, type QoS } from "../../src/codec/index.js";
import type { Properties } from "../../src/codec/properties.js";
import { MQTT_ERR_NO_CONN, MQTT_ERR_SUCCESS, MQTT_LOG_ERR } from "../../src/paho/constants.js";
import { FakeHost, type FakeLink, type Seen } from "../support/fake-host.js";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: number[] | Uint8Array): string => new TextDecoder().decode(Uint8Array.from(b));

interface Tracked<T> {
  settled: boolean;
  value: T | undefined;
  error: unknown;
}

function track<T>(p: Promise<T>): Tracked<T> {
  const t: Tracked<T> = { settled: false, value: undefined, error: undefined };
  p.then((v) => { t.settled = true; t.value = v; }, (e: unknown) => { t.settled = true; t.error = e; });
  return t;
}

/** Lets promise reactions run; the fake clock does not move. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

interface BrokerOptions {
  /** CONNACK for the nth CONNECT (0-based); null: never answer. Default: accept, no session. */
  connack?: (n: number, connect: Seen) => Packet | null;
  pingresp?: boolean;
  /** Acknowledge the client's QoS 1/2 publishes (PUBACK; PUBREC then PUBCOMP). Default true. */
  ack?: boolean;
}

/** A scripted broker: accepts every link, answers CONNECT and PINGREQ, acknowledges, answers PUBREL. */
function broker(host: FakeHost, o: BrokerOptions = {}): { connects: number; times: Record<string, number[]> } {
  const state = { connects: 0, times: {} as Record<string, number[]> };
  host.onLink = (link) => {
    link.accept();
    link.onPacket = (p, l) => {
      (state.times[p.name] ??= []).push(p.at!);
      switch (p.name) {
        case "CONNECT": {
          const reply = o.connack === undefined ? { type: CONNACK, sessionPresent: false, reasonCode: 0 } as Packet : o.connack(state.connects, p);
          state.connects++;
          if (reply !== null) l.send(reply);
          return;
        }
        case "PINGREQ":
          if (o.pingresp ?? true) l.send({ type: PINGRESP });
          return;
        case "PUBLISH":
          if (o.ack ?? true) {
            if (p.qos === 1) l.send({ type: PUBACK, packetId: p.packetId! });
            if (p.qos === 2) l.send({ type: PUBREC, packetId: p.packetId! });
          }
          return;
        case "PUBREL":
          if (o.ack ?? true) l.send({ type: PUBCOMP, packetId: p.packetId! });
          return;
        case "PUBREC":
          l.send({ type: PUBREL, packetId: p.packetId! });
          return;
      }
    };
  };
  return state;
}

function setup(options: ClientOptions = {}): { host: FakeHost; client: Client; logs: Array<[number, string]> } {
  const host = new FakeHost();
  const client = new Client({ host, clientId: "c", ...options });
  const logs: Array<[number, string]> = [];
  client.onLog = (_c, _u, level, buf) => logs.push([level, buf]);
  return { host, client, logs };
}

const gaps = (times: number[]): number[] => times.slice(1).map((t, i) => t - times[i]!);

function incoming(topic: string, payload: string, qos: QoS, packetId: number, properties?: Properties): Packet {
  return { type: PUBLISH, topic, payload: text(payload), qos, retain: false, dup: false, packetId, properties };
}

describe("reconnecting", () => {
  test("reconnectDelaySet(1, 8): opens after repeated failures are 1, 2, 4, 8, 8 s apart, and back to 1 s after a CONNACK", async () => {
    const { host, client } = setup();
    client.reconnectDelaySet(1, 8);
    client.connectAsync("broker", 1883, 60);
    host.onLink = (link) => link.refuse();
    const forever = track(client.loopForever({ retryFirstConnection: true }));
    host.advance(23_000);
    assert.deepEqual(host.opens.map((o) => o.at), [0, 1_000, 3_000, 7_000, 15_000, 23_000]);
    assert.deepEqual(gaps(host.opens.map((o) => o.at)), [1_000, 2_000, 4_000, 8_000, 8_000]);
    assert.deepEqual(host.opens.map((o) => [o.params.host, o.params.port]), Array(6).fill(["broker", 1883]));

    const b = broker(host);
    let connected = 0;
    client.onConnect = () => { connected++; };
    host.advance(8_000);
    assert.equal(host.opens.length, 7);
    assert.equal(host.opens[6]!.at, 31_000);
    assert.equal(connected, 1);
    assert.equal(b.connects, 1);

    // The connection holds for longer than the supervisor's STABLE_MS: only then is the backoff reset.
    host.advance(10_500);
    host.link.drop();
    host.onLink = (link) => link.refuse();
    host.advance(10_000);
    assert.deepEqual(host.opens.slice(7).map((o) => o.at), [42_500, 44_500, 48_500], "1 s after the lost connection, then 2, 4 again");

    await settle();
    assert.equal(forever.settled, false);
    client.disconnect();
    await settle();
    assert.deepEqual([forever.value, forever.error], [MQTT_ERR_SUCCESS, undefined]);
    host.advance(600_000);
    assert.equal(host.opens.length, 10, "no reconnect after disconnect()");
  });

  test("keepalive loss: onDisconnect with reason 0x8D, then a reconnect after the delay", async () => {
    const { host, client } = setup();
    const b = broker(host, { pingresp: false });
    const seen: Array<[string, number, number?]> = [];
    client.onConnect = (_c, _u, _f, rc) => seen.push(["connect", host.now(), rc]);
    client.onDisconnect = (_c, _u, _f, rc) => seen.push(["disconnect", host.now(), rc]);
    client.connectAsync("broker", 1883, 10);
    const forever = track(client.loopForever());
    host.advance(16_000);
    assert.deepEqual(b.times.PINGREQ, [10_000]);
    assert.deepEqual(seen, [["connect", 0, 0], ["disconnect", 15_000, 0x8d], ["connect", 16_000, 0]]);
    assert.deepEqual(host.opens.map((o) => o.at), [0, 16_000]);
    assert.equal(host.opens[0]!.link.endedBy, "close");
    client.disconnect();
    await settle();
    assert.equal(forever.value, MQTT_ERR_SUCCESS);
  });

  test("keepalive loss on a link that takes no more bytes still drops the link and reconnects", async () => {
    const { host, client } = setup();
    broker(host, { pingresp: false });
    const seen: Array<[string, number, number?]> = [];
    client.onDisconnect = (_c, _u, _f, rc) => seen.push(["disconnect", host.now(), rc]);
    client.connectAsync("broker", 1883, 10);
    const forever = track(client.loopForever());
    host.flush();
    host.link.window = 0; // the peer is gone: the send buffer is full and stays full
    client.publish("t", "x".repeat(64), 0);
    host.advance(20_000);
    assert.deepEqual(seen, [["disconnect", 15_000, 0x8d]]);
    assert.equal(host.opens[0]!.link.endedBy, "destroy");
    assert.deepEqual(host.opens.map((o) => o.at), [0, 16_000]);
    client.disconnect();
    await settle();
    assert.equal(forever.value, MQTT_ERR_SUCCESS);
  });

  test("disconnect() on a link that takes no more bytes gives up after the keepalive, as Paho does", async () => {
    const { host, client } = setup();
    broker(host);
    client.connectAsync("broker", 1883, 10);
    const forever = track(client.loopForever());
    host.flush();
    host.link.window = 0;
    client.disconnect();
    host.advance(60_000);
    await settle();
    assert.equal(forever.value, MQTT_ERR_SUCCESS);
    assert.notEqual(host.link.endedBy, undefined);
  });

  test("a broker that answers PINGREQ keeps the connection: one PINGREQ per keepalive interval", async () => {
    const { host, client } = setup();
    const b = broker(host);
    client.connectAsync("broker", 1883, 10);
    const forever = track(client.loopForever());
    host.advance(45_000);
    assert.deepEqual(b.times.PINGREQ, [10_000, 20_000, 30_000, 40_000]);
    assert.equal(host.opens.length, 1);
    client.disconnect();
    await settle();
    assert.equal(forever.value, MQTT_ERR_SUCCESS);
  });

  test("no CONNACK within the connect timeout drops the link and reconnects", async () => {
    const { host, client } = setup();
    const failed: number[] = [];
    client.onConnectFail = () => failed.push(host.now());
    broker(host, { connack: (n) => (n === 0 ? null : { type: CONNACK, sessionPresent: false, reasonCode: 0 }) });
    client.connectTimeoutSet(30);
    client.connectAsync("broker", 1883, 60);
    const forever = track(client.loopForever({ retryFirstConnection: true }));
    host.advance(31_000);
    assert.deepEqual(failed, [30_000]);
    assert.deepEqual(host.opens.map((o) => o.at), [0, 31_000]);
    assert.equal(client.isConnected(), true);
    client.disconnect();
    await settle();
    assert.equal(forever.value, MQTT_ERR_SUCCESS);
  });
});

describe("the network loop", () => {
  test("connect() then loopForever(), as in Paho: the CONNACK read by the loop, then keepalive on time", async () => {
    const { host, client } = setup();
    const b = broker(host);
    let connected = 0;
    client.onConnect = () => { connected++; };
    const opened = track(client.connect("broker", 1883, 10));
    host.flush();
    await settle();
    assert.equal(opened.value, MQTT_ERR_SUCCESS);
    assert.equal(connected, 0, "nothing reads the CONNACK before a loop runs");
    const forever = track(client.loopForever());
    host.flush();
    assert.equal(connected, 1);
    host.advance(21_000);
    assert.deepEqual(b.times.PINGREQ, [10_000, 20_000]);
    client.disconnect();
    await settle();
    assert.equal(forever.value, MQTT_ERR_SUCCESS);
  });

  test("a QoS 1 publish unacknowledged when the link drops is re-sent with DUP after the reconnect, and published once", async () => {
    const { host, client } = setup({ cleanSession: false });
    const b = broker(host, { connack: (n) => ({ type: CONNACK, sessionPresent: n > 0, reasonCode: 0 }), ack: false });
    const published: Array<[number, number]> = [];
    client.onPublish = (_c, _u, mid) => published.push([mid, host.now()]);
    client.connectAsync("broker", 1883, 60);
    const forever = track(client.loopForever());
    host.flush();
    const info = client.publish("t", "x", 1);
    host.flush();
    host.advance(2_000);
    host.link.drop();
    host.advance(1_000);
    assert.deepEqual(host.opens.map((o) => o.at), [0, 3_000]);
    const again = host.link.log.filter((p) => p.name === "PUBLISH");
    assert.deepEqual(again.map((p) => [p.packetId, p.dup, str(p.payload!)]), [[info.mid, true, "x"]]);
    assert.deepEqual(b.times.PUBLISH, [0, 3_000]);
    host.link.send({ type: PUBACK, packetId: info.mid });
    host.advance(1_000);
    assert.deepEqual(published, [[info.mid, 3_000]]);
    assert.equal(info.isPublished(), true);
    client.disconnect();
    await settle();
    assert.equal(forever.value, MQTT_ERR_SUCCESS);
  });

  test("loopForever resolves after disconnect(): DISCONNECT written, link closed, no timers left", async () => {
    const { host, client } = setup();
    const b = broker(host);
    const reasons: number[] = [];
    client.onDisconnect = (_c, _u, _f, rc) => reasons.push(rc);
    client.connectAsync("broker", 1883, 60);
    const forever = track(client.loopForever());
    host.advance(1_000);
    assert.equal(client.isConnected(), true);
    await settle();
    assert.equal(forever.settled, false);
    assert.equal(client.disconnect(), MQTT_ERR_SUCCESS);
    host.flush();
    await settle();
    assert.deepEqual([forever.value, forever.error], [MQTT_ERR_SUCCESS, undefined]);
    assert.deepEqual(b.times.DISCONNECT, [1_000]);
    assert.equal(host.link.endedBy, "close");
    assert.deepEqual(reasons, [0]);
    assert.deepEqual(host.pendingTimers, []);
  });

  test("loopForever resolves after disconnect() while waiting to reconnect", async () => {
    const { host, client } = setup();
    host.onLink = (link) => link.refuse();
    client.connectAsync("broker");
    const forever = track(client.loopForever({ retryFirstConnection: true }));
    host.advance(500);
    assert.equal(client.disconnect(), MQTT_ERR_NO_CONN);
    await settle();
    assert.equal(forever.value, MQTT_ERR_SUCCESS);
    host.advance(600_000);
    assert.equal(host.opens.length, 1);
  });

  test("loopForever({ retryFirstConnection: false }) rejects when the first open fails, and does not retry", async () => {
    const { host, client } = setup();
    host.onLink = (link) => link.refuse(MQTT_ERR_NO_CONN, "ECONNREFUSED");
    client.connectAsync("broker");
    const forever = track(client.loopForever({ retryFirstConnection: false }));
    host.flush();
    await settle();
    assert.ok(forever.error instanceof MqttConnectionError, String(forever.error));
    assert.equal(forever.error.rc, MQTT_ERR_NO_CONN);
    host.advance(600_000);
    assert.equal(host.opens.length, 1);
  });
});

describe("callbacks", () => {
  test("the onSocket* callbacks come in Paho's order, around writes the link could not take at once", async () => {
    const { host, client } = setup();
    const calls: string[] = [];
    const sockets = new Set<unknown>();
    const socketCall = (name: string) => (_c: Client, _u: unknown, sock: unknown): void => {
      calls.push(name);
      sockets.add(sock);
    };
    client.onPreConnect = () => calls.push("onPreConnect");
    client.onSocketOpen = socketCall("onSocketOpen");
    client.onSocketRegisterWrite = socketCall("onSocketRegisterWrite");
    client.onSocketUnregisterWrite = socketCall("onSocketUnregisterWrite");
    client.onSocketClose = socketCall("onSocketClose");
    client.onConnect = () => calls.push("onConnect");
    client.onPublish = () => calls.push("onPublish");
    client.onDisconnect = () => calls.push("onDisconnect");
    broker(host);
    host.onLink = ((script) => (link: FakeLink) => {
      link.window = 5; // the CONNECT goes out in two writes
      script!(link);
    })(host.onLink);
    client.connectAsync("broker");
    const forever = track(client.loopForever());
    host.flush();
    assert.deepEqual(calls, ["onPreConnect", "onSocketOpen", "onSocketRegisterWrite"]);
    assert.equal(client.wantWrite(), true);
    host.link.grant();
    host.flush();
    assert.deepEqual(calls.splice(0), ["onPreConnect", "onSocketOpen", "onSocketRegisterWrite", "onSocketUnregisterWrite", "onConnect"]);
    assert.equal(client.wantWrite(), false);

    client.publish("t", "x", 1);
    host.flush();
    host.link.drop();
    host.flush();
    assert.deepEqual(calls.splice(0), ["onPublish", "onSocketClose", "onDisconnect"]);
    assert.deepEqual([...sockets], [host.link.socket], "every socket callback gets the link's socket");
    client.disconnect();
    await settle();
    assert.equal(forever.value, MQTT_ERR_SUCCESS);
  });

  test("without backpressure, a write never leaves onSocketRegisterWrite without its onSocketUnregisterWrite", async () => {
    const { host, client } = setup();
    const calls: string[] = [];
    client.onSocketOpen = () => calls.push("open");
    client.onSocketRegisterWrite = () => calls.push("register");
    client.onSocketUnregisterWrite = () => calls.push("unregister");
    client.onConnect = () => calls.push("connect");
    client.onSocketClose = () => calls.push("close");
    client.onDisconnect = () => calls.push("disconnect");
    broker(host);
    client.connectAsync("broker");
    const forever = track(client.loopForever());
    host.flush();
    for (let i = 0; i < 5; i++) client.publish("t", String(i), 1);
    host.flush();
    client.disconnect();
    await settle();
    assert.equal(forever.value, MQTT_ERR_SUCCESS);
    const writes = calls.filter((c) => c === "register" || c === "unregister");
    assert.ok(writes.every((c, i) => c === (i % 2 === 0 ? "register" : "unregister")), writes.join(","));
    assert.equal(writes.length % 2, 0);
    const order = calls.filter((c) => c !== "register" && c !== "unregister");
    assert.deepEqual(order, ["open", "connect", "close", "disconnect"]);
  });

  test("an exception thrown by onMessage is reported through onLog and the client keeps working", async () => {
    const { host, client, logs } = setup();
    broker(host);
    const got: string[] = [];
    client.onMessage = (_c, _u, m) => {
      got.push(str(m.payload));
      if (got.length === 1) throw new Error("boom");
    };
    client.connectAsync("broker");
    const forever = track(client.loopForever());
    host.flush();
    host.link.take();
    host.link.send(incoming("t", "first", 1, 1), incoming("t", "second", 1, 2));
    host.flush();
    assert.deepEqual(got, ["first", "second"]);
    const errors = logs.filter(([level]) => level === MQTT_LOG_ERR).map(([, buf]) => buf);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /^Caught exception in onMessage: .*boom/s);
    assert.deepEqual(host.link.take().map((p) => `${p.name} ${p.packetId}`), ["PUBACK 1", "PUBACK 2"], "both still acknowledged");
    assert.equal(client.isConnected(), true);
    const info = client.publish("t", "after", 1);
    host.flush();
    assert.equal(info.isPublished(), true);
    client.disconnect();
    await settle();
    assert.equal(forever.value, MQTT_ERR_SUCCESS);
  });

  test("exceptions from onConnect and onPublish are logged too, and nothing is lost", async () => {
    const { host, client, logs } = setup();
    broker(host);
    client.onConnect = () => { throw new Error("in connect"); };
    client.onPublish = () => { throw new Error("in publish"); };
    client.connectAsync("broker");
    const forever = track(client.loopForever());
    host.flush();
    const info = client.publish("t", "x", 2);
    host.flush();
    assert.equal(info.isPublished(), true);
    const errors = logs.filter(([level]) => level === MQTT_LOG_ERR).map(([, buf]) => buf.split(":")[0]);
    assert.deepEqual(errors, ["Caught exception in onConnect", "Caught exception in onPublish"]);
    client.disconnect();
    await settle();
    assert.equal(forever.value, MQTT_ERR_SUCCESS);
  });
});

describe("backpressure", () => {
  test("a link that takes a few bytes at a time loses nothing, in either direction", async () => {
    const { host, client } = setup({ budget: { outputBytes: 128, storeBytes: 1 << 14, maxMessages: 128 } });
    const b = broker(host);
    const received: string[] = [];
    client.onMessage = (_c, _u, m) => received.push(`${m.qos}:${str(m.payload)}`);
    const published: number[] = [];
    client.onPublish = (_c, _u, mid) => published.push(mid);
    client.maxInflightMessagesSet(0);
    client.connectAsync("broker", 1883, 0);
    const forever = track(client.loopForever());
    host.flush();
    assert.equal(client.isConnected(), true);
    const link = host.link;
    link.window = 0;

    const mids: number[] = [];
    for (let i = 0; i < 40; i++) {
      const info = client.publish("out", `o${i}`, (1 + (i % 2)) as QoS);
      assert.equal(info.rc, MQTT_ERR_SUCCESS);
      mids.push(info.mid);
    }
    const inbound: Packet[] = [];
    for (let i = 0; i < 40; i++) inbound.push(incoming("in", `i${i}`, (1 + (i % 2)) as QoS, 1000 + i));
    link.send(...inbound);
    host.flush();

    let partialWrites = 0;
    for (let round = 0; round < 10_000 && (published.length < 40 || received.length < 40 || client.wantWrite()); round++) {
      if (link.partialBytes > 0) partialWrites++;
      link.grant(Math.max(0, 7 - link.window));
      host.flush();
    }
    assert.ok(partialWrites > 0, "packets really were cut across writes");
    assert.deepEqual(received, inbound.map((_p, i) => `${1 + (i % 2)}:i${i}`), "every message delivered once, in order");
    assert.deepEqual([...published].sort((x, y) => x - y), [...mids].sort((x, y) => x - y));
    const out = link.log.filter((p) => p.name === "PUBLISH");
    assert.deepEqual(out.map((p) => str(p.payload!)), mids.map((_m, i) => `o${i}`), "every publish sent once, in order");
    assert.ok(out.every((p) => !p.dup));
    const acks = link.log.filter((p) => p.name === "PUBACK" || p.name === "PUBREC").map((p) => `${p.name} ${p.packetId}`);
    assert.deepEqual(acks, inbound.map((_p, i) => `${i % 2 === 0 ? "PUBACK" : "PUBREC"} ${1000 + i}`));
    assert.equal(link.log.filter((p) => p.name === "PUBCOMP").length, 20);
    assert.equal(b.connects, 1);
    link.grant();
    client.disconnect();
    host.flush();
    await settle();
    assert.equal(forever.value, MQTT_ERR_SUCCESS);
  });

  test("disconnect() waits for the output to drain before closing the link", async () => {
    const { host, client } = setup();
    const b = broker(host);
    client.connectAsync("broker");
    const forever = track(client.loopForever());
    host.flush();
    host.link.window = 0;
    client.publish("t", "x".repeat(100), 0);
    client.disconnect();
    host.flush();
    assert.equal(host.link.endedBy, undefined);
    host.link.grant();
    host.flush();
    await settle();
    assert.deepEqual(host.link.log.map((p) => p.name), ["CONNECT", "PUBLISH", "DISCONNECT"]);
    assert.equal(host.link.endedBy, "close");
    assert.equal(forever.value, MQTT_ERR_SUCCESS);
    assert.equal(b.connects, 1);
  });
});

describe("timers through the client", () => {
  test("a 3.1.1 QoS 1 publish is re-sent with DUP messageRetrySet seconds later", async () => {
    const { host, client } = setup();
    const b = broker(host, { ack: false });
    client.messageRetrySet(5);
    client.connectAsync("broker", 1883, 60);
    const forever = track(client.loopForever());
    host.flush();
    client.publish("t", "x", 1);
    host.advance(31_000);
    assert.deepEqual(b.times.PUBLISH?.slice(0, 2), [0, 5_000]);
    assert.equal(host.link.log.filter((p) => p.name === "PUBLISH")[1]?.dup, true);
    client.disconnect();
    await settle();
    assert.equal(forever.value, MQTT_ERR_SUCCESS);
  });

  test("a re-sent PUBLISH keeps coming every retry interval until acknowledged (timer armed by a prior event)", async () => {
    const { host, client } = setup();
    const b = broker(host, { ack: false });
    client.messageRetrySet(5);
    client.connectAsync("broker", 1883, 0);
    const forever = track(client.loopForever());
    host.flush();
    client.publish("t", "x", 1);
    host.flush();
    host.link.send({ type: PINGRESP }); // any received packet makes the client service and re-arm its timer
    host.advance(16_000);
    assert.deepEqual(b.times.PUBLISH, [0, 5_000, 10_000, 15_000]);
    host.link.send({ type: PUBACK, packetId: 1 });
    host.advance(60_000);
    assert.equal(b.times.PUBLISH?.length, 4);
    client.disconnect();
    await settle();
    assert.equal(forever.value, MQTT_ERR_SUCCESS);
  });

  test("waitForPublish(timeoutMs) rejects on the host's clock when no acknowledgement comes", async () => {
    const { host, client } = setup();
    broker(host, { ack: false });
    client.connectAsync("broker", 1883, 0);
    const forever = track(client.loopForever());
    host.flush();
    const info = client.publish("t", "x", 1);
    const waited = track(info.waitForPublish(2_000));
    host.advance(1_999);
    await settle();
    assert.equal(waited.settled, false);
    host.advance(1);
    await settle();
    assert.ok(waited.error instanceof Error);
    client.disconnect();
    await settle();
    assert.equal(forever.value, MQTT_ERR_SUCCESS);
  });
});
