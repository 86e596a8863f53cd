/**
 * Driving the client without loopStart(): a hand-written select-style loop over loopRead / loopWrite /
 * loopMisc / socket() / wantWrite() (Paho's external event loop contract), and Paho's loop(timeout) in a
 * plain while loop. Against a real mosquitto (through a TCP proxy where the link must be cut).
 */
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import {
  Client, type MQTTMessage, MQTTv31, MQTTv311, MQTTv5, MQTT_ERR_NO_CONN, MQTT_ERR_SUCCESS, type ProtocolVersion,
  type ReceivedMessage,
} from "../../hosts/node/index.js";
import { type Broker, startMosquitto } from "../support/mosquitto.js";
import { type Proxy, startProxy } from "../support/proxy.js";
import { sleep, within } from "../support/wait.js";

const HOST = "127.0.0.1";
const PROTOCOLS: ReadonlyArray<readonly [ProtocolVersion, string]> = [[MQTTv31, "3.1"], [MQTTv311, "3.1.1"], [MQTTv5, "5"]];
const TICK_MS = 100;

interface Rec {
  connects: Array<{ sessionPresent: boolean; rc: number }>;
  disconnects: number[];
  messages: ReceivedMessage[];
  published: number[];
  subscribed: number[];
  logs: string[];
  registerWrite: number;
  unregisterWrite: number;
  opened: unknown[];
  closed: unknown[];
}

function watch(client: Client): Rec {
  const rec: Rec = { connects: [], disconnects: [], messages: [], published: [], subscribed: [], logs: [], registerWrite: 0,
    unregisterWrite: 0, opened: [], closed: [] };
  client.onConnect = (_c, _u, flags, rc) => rec.connects.push({ sessionPresent: flags.sessionPresent, rc });
  client.onDisconnect = (_c, _u, _f, rc) => rec.disconnects.push(rc);
  client.onMessage = (_c, _u, m: MQTTMessage) => rec.messages.push(m.copy());
  client.onPublish = (_c, _u, mid) => rec.published.push(mid);
  client.onSubscribe = (_c, _u, mid) => rec.subscribed.push(mid);
  client.onLog = (_c, _u, _l, buf) => rec.logs.push(buf);
  client.onSocketOpen = (_c, _u, sock) => rec.opened.push(sock);
  client.onSocketClose = (_c, _u, sock) => rec.closed.push(sock);
  client.onSocketRegisterWrite = () => rec.registerWrite++;
  client.onSocketUnregisterWrite = () => rec.unregisterWrite++;
  return rec;
}

/** Stats of one select loop run, to show it really was the loop that did the work. */
interface LoopStats { reads: number; writes: number; miscs: number; readableWakeups: number; ticks: number }

/**
 * A select()-style loop as a host with its own event loop would write it: wait until the socket is readable,
 * the client wants to write, or a 100 ms tick passes; then loopRead() / loopWrite() as they apply, and
 * loopMisc() on every pass. Runs until done() or rejects after ms.
 */
async function selectLoop(client: Client, done: () => boolean, ms: number, what: string, stats?: LoopStats): Promise<void> {
  const deadline = Date.now() + ms;
  const s = stats ?? { reads: 0, writes: 0, miscs: 0, readableWakeups: 0, ticks: 0 };
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`select loop: timed out after ${ms} ms waiting for ${what}`);
    const sock = client.socket() as net.Socket | null;
    if (sock === null) throw new Error(`select loop: no socket while waiting for ${what}`);
    let readable = sock.readableLength > 0;
    if (!readable && !client.wantWrite()) {
      readable = await new Promise<boolean>((resolve) => {
        const finish = (value: boolean): void => {
          clearTimeout(timer);
          sock.removeListener("readable", onReadable);
          sock.removeListener("close", onClose);
          resolve(value);
        };
        const onReadable = (): void => finish(true);
        const onClose = (): void => finish(true);
        const timer = setTimeout(() => finish(false), TICK_MS);
        sock.once("readable", onReadable);
        sock.once("close", onClose);
      });
      if (readable) s.readableWakeups++;
      else s.ticks++;
    }
    if (readable) {
      s.reads++;
      const rc = client.loopRead();
      if (rc !== MQTT_ERR_SUCCESS && done()) return;
      if (rc !== MQTT_ERR_SUCCESS) throw new Error(`loopRead() returned ${rc} while waiting for ${what}`);
    }
    if (client.wantWrite()) {
      s.writes++;
      client.loopWrite();
    }
    s.miscs++;
    const rc = client.loopMisc();
    if (rc !== MQTT_ERR_SUCCESS && !done()) throw new Error(`loopMisc() returned ${rc} while waiting for ${what}`);
  }
}

describe("the external event loop", { timeout: 60_000 }, () => {
  let broker: Broker;
  let proxy: Proxy;
  const clients = new Set<Client>();
  let n = 0;
  const make = (protocol: ProtocolVersion): { client: Client; rec: Rec } => {
    const client = new Client({ protocol, clientId: `ext-${process.pid}-${++n}` });
    clients.add(client);
    return { client, rec: watch(client) };
  };

  before(async () => {
    broker = await startMosquitto({ maxInflightMessages: 20, maxQueuedMessages: 1000 });
    proxy = await startProxy(broker.port);
  });
  afterEach(() => {
    for (const c of clients) c.disconnect();
    clients.clear();
  });
  after(async () => {
    await proxy?.close();
    await broker?.stop();
  });

  for (const [protocol, name] of PROTOCOLS) {
    test(`MQTT ${name}: a select-style loop over loopRead/loopWrite/loopMisc connects, subscribes, publishes QoS 1, receives it, disconnects`, async () => {
      const { client, rec } = make(protocol);
      const stats: LoopStats = { reads: 0, writes: 0, miscs: 0, readableWakeups: 0, ticks: 0 };
      assert.equal(client.socket(), null, "no socket before connect()");
      assert.equal(client.loopRead(), MQTT_ERR_NO_CONN);
      assert.equal(client.loopWrite(), MQTT_ERR_NO_CONN);
      assert.equal(client.loopMisc(), MQTT_ERR_NO_CONN);
      assert.equal(await within(client.connect(HOST, broker.port, 30), 3000, "connect()"), MQTT_ERR_SUCCESS);
      await sleep(200);
      assert.equal(rec.connects.length, 0, "the CONNACK waits for the loop: no callback runs outside loop calls");
      assert.equal(rec.opened[0], client.socket(), "onSocketOpen hands over the socket socket() returns");
      await selectLoop(client, () => rec.connects.length > 0, 3000, "CONNACK", stats);
      assert.equal(rec.connects[0]!.rc, 0);
      assert.ok(client.isConnected());

      const [src, smid] = client.subscribe("ext/loop", 1);
      assert.equal(src, MQTT_ERR_SUCCESS);
      await selectLoop(client, () => rec.subscribed.includes(smid), 3000, "SUBACK", stats);
      const info = client.publish("ext/loop", `via select ${name}`, 1);
      assert.equal(info.rc, MQTT_ERR_SUCCESS);
      await selectLoop(client, () => info.isPublished() && rec.messages.length === 1, 3000, "PUBACK and the message", stats);
      assert.ok(rec.published.includes(info.mid));
      const m = rec.messages[0]!;
      assert.deepEqual([m.topic, Buffer.from(m.payload).toString(), m.qos], ["ext/loop", `via select ${name}`, 1]);
      // Nothing was handled outside the loop's calls: every packet arrived through a readable wakeup or a tick.
      assert.ok(stats.reads >= 3, `loopRead() did the reading (${JSON.stringify(stats)})`);

      assert.equal(client.disconnect(), MQTT_ERR_SUCCESS);
      if (rec.disconnects.length === 0) await selectLoop(client, () => rec.disconnects.length > 0, 3000, "onDisconnect");
      assert.deepEqual(rec.disconnects, [0]);
      assert.equal(client.socket(), null);
      assert.equal(rec.closed.length, 1);
      assert.equal(client.loopRead(), MQTT_ERR_NO_CONN, "no link after disconnect");
      assert.equal(rec.registerWrite, rec.unregisterWrite, "every onSocketRegisterWrite was matched by an unregister");
    });
  }

  test("the select loop's loopMisc() keeps the connection alive (keepalive 1 s, no traffic for 3.5 s)", async () => {
    const { client, rec } = make(MQTTv311);
    await within(client.connect(HOST, broker.port, 1), 3000, "connect()");
    await selectLoop(client, () => rec.connects.length > 0, 3000, "CONNACK");
    const until = Date.now() + 3500;
    await selectLoop(client, () => Date.now() > until || rec.disconnects.length > 0, 5000, "3.5 s");
    assert.deepEqual(rec.disconnects, [], "mosquitto kept the connection (it drops a client silent for 1.5 x keepalive)");
    assert.ok(client.isConnected());
    // Still alive: a round trip.
    const info = client.publish("ext/ka", "x", 1);
    await selectLoop(client, () => info.isPublished(), 3000, "PUBACK");
  });

  test("many publishes from the select loop: writes go out, every PUBACK comes back", async () => {
    const { client, rec } = make(MQTTv5);
    client.maxInflightMessagesSet(10);
    await within(client.connect(HOST, broker.port, 30), 3000, "connect()");
    await selectLoop(client, () => rec.connects.length > 0, 3000, "CONNACK");
    const [, smid] = client.subscribe("ext/many", 1);
    await selectLoop(client, () => rec.subscribed.includes(smid), 3000, "SUBACK");
    const infos = Array.from({ length: 200 }, (_, i) => client.publish("ext/many", `m${i}`, 1));
    assert.ok(infos.every((i) => i.rc === MQTT_ERR_SUCCESS));
    await selectLoop(client, () => infos.every((i) => i.isPublished()) && rec.messages.length === 200, 10_000,
      `200 PUBACKs and messages (published ${infos.filter((i) => i.isPublished()).length}, received ${rec.messages.length})`);
    assert.deepEqual(rec.messages.map((m) => Buffer.from(m.payload).toString()), infos.map((_, i) => `m${i}`));
  });

  test("a cut link: the loop sees it (onDisconnect, loop calls stop returning success) and reconnect() restores it", async () => {
    const { client, rec } = make(MQTTv311);
    await within(client.connect(HOST, proxy.port, 30), 3000, "connect()");
    await selectLoop(client, () => rec.connects.length > 0, 3000, "CONNACK");
    proxy.cut();
    const deadline = Date.now() + 3000;
    let rc = MQTT_ERR_SUCCESS;
    while (rc === MQTT_ERR_SUCCESS) {
      if (Date.now() > deadline) throw new Error("timed out: the loop never noticed the cut link");
      await sleep(TICK_MS / 2);
      rc = client.loopRead();
      if (rc === MQTT_ERR_SUCCESS) rc = client.loopMisc();
    }
    assert.notEqual(rc, MQTT_ERR_SUCCESS);
    assert.equal(rec.disconnects.length, 1);
    assert.notEqual(rec.disconnects[0], 0, "a lost link is not a normal disconnection");
    assert.equal(await within(client.reconnect(), 3000, "reconnect()"), MQTT_ERR_SUCCESS);
    await selectLoop(client, () => rec.connects.length === 2, 3000, "the second CONNACK");
    assert.ok(client.isConnected());
  });

  for (const [protocol, name] of PROTOCOLS) {
    test(`MQTT ${name}: loop(0.1) in a plain while loop, as Paho's loop()`, async () => {
      const { client, rec } = make(protocol);
      assert.equal(await client.loop(0.1), MQTT_ERR_NO_CONN, "loop() without a connection");
      await within(client.connect(HOST, broker.port, 30), 3000, "connect()");
      const run = async (done: () => boolean, ms: number, what: string): Promise<number> => {
        const deadline = Date.now() + ms;
        let calls = 0;
        while (!done()) {
          if (Date.now() > deadline) throw new Error(`loop(): timed out after ${ms} ms waiting for ${what}`);
          const rc = await client.loop(0.1);
          calls++;
          if (rc !== MQTT_ERR_SUCCESS && !done()) throw new Error(`loop() returned ${rc} while waiting for ${what}`);
        }
        return calls;
      };
      await run(() => rec.connects.length > 0, 3000, "CONNACK");
      assert.equal(rec.connects[0]!.rc, 0);
      const [, smid] = client.subscribe("ext/plain", 1);
      await run(() => rec.subscribed.includes(smid), 3000, "SUBACK");
      const info = client.publish("ext/plain", `plain ${name}`, 1);
      const started = Date.now();
      await run(() => info.isPublished() && rec.messages.length === 1, 3000, "PUBACK and the message");
      assert.ok(Date.now() - started < 1000, "loop() returns when bytes arrive, not only when its timeout ends");
      assert.equal(Buffer.from(rec.messages[0]!.payload).toString(), `plain ${name}`);

      // An idle loop(0.1) waits about its timeout.
      const idleStart = Date.now();
      assert.equal(await client.loop(0.1), MQTT_ERR_SUCCESS);
      const idle = Date.now() - idleStart;
      assert.ok(idle >= 80 && idle < 1000, `an idle loop(0.1) took ${idle} ms`);

      client.disconnect();
      await run(() => rec.disconnects.length > 0, 3000, "onDisconnect").catch((e: Error) => {
        if (rec.disconnects.length === 0) throw e;
      });
      assert.deepEqual(rec.disconnects, [0]);
      assert.equal(await client.loop(0.1), MQTT_ERR_NO_CONN);
    });
  }

  test("loop(0.1) alone keeps the connection alive (keepalive 1 s, 3.5 s idle)", async () => {
    const { client, rec } = make(MQTTv5);
    await within(client.connect(HOST, broker.port, 1), 3000, "connect()");
    const until = Date.now() + 3500;
    while (Date.now() < until) {
      const rc = await client.loop(0.1);
      assert.equal(rc, MQTT_ERR_SUCCESS, `loop() rc ${rc}\n${rec.logs.join("\n")}`);
    }
    assert.equal(rec.connects.length, 1);
    assert.deepEqual(rec.disconnects, []);
    assert.ok(client.isConnected());
  });
});
