/**
 * The basic round trips against a second broker, aedes (devDependency, v1), run in-process on a free
 * loopback port: QoS 0/1/2 both ways, retained messages, the will on an abnormal close and not after
 * disconnect(), unsubscribe. aedes speaks MQTT 3.1 and 3.1.1 only; an MQTT 5 CONNECT must fail cleanly.
 */
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import {
  Client, type ClientOptions, type MessageInfo, MQTTv31, MQTTv311, MQTTv5, MQTT_ERR_SUCCESS, type ProtocolVersion,
  type ReceivedMessage,
} from "../../hosts/node/index.js";
import { sleep, until, within } from "../support/wait.js";

const HOST = "127.0.0.1";
const PROTOCOLS: ReadonlyArray<readonly [ProtocolVersion, string]> = [[MQTTv31, "3.1"], [MQTTv311, "3.1.1"]];

interface Rec {
  connects: Array<{ sessionPresent: boolean; rc: number }>;
  connectFails: number;
  disconnects: number[];
  messages: ReceivedMessage[];
  subscribed: Map<number, number[]>;
  unsubscribed: Set<number>;
  logs: string[];
}

const live = new Set<Client>();
let idCounter = 0;
let topicCounter = 0;
const root = (what: string): string => `ae${++topicCounter}/${what}`;

/** A client with recorded callbacks, connected with loopStart(); waits for onConnect (rc 0 unless `refused`). */
async function online(port: number, options: ClientOptions & { setup?: (c: Client) => void; refused?: boolean } = {}): Promise<{ client: Client; rec: Rec }> {
  const { setup, refused = false, ...clientOptions } = options;
  const client = new Client({ clientId: `aedes-${process.pid}-${++idCounter}`, ...clientOptions });
  live.add(client);
  const rec: Rec = { connects: [], connectFails: 0, disconnects: [], messages: [], subscribed: new Map(), unsubscribed: new Set(), logs: [] };
  client.onConnect = (_c, _u, flags, rc) => rec.connects.push({ sessionPresent: flags.sessionPresent, rc });
  client.onConnectFail = () => rec.connectFails++;
  client.onDisconnect = (_c, _u, _f, rc) => rec.disconnects.push(rc);
  client.onMessage = (_c, _u, m) => rec.messages.push(m.copy());
  client.onSubscribe = (_c, _u, mid, rcs) => rec.subscribed.set(mid, [...rcs]);
  client.onUnsubscribe = (_c, _u, mid) => rec.unsubscribed.add(mid);
  client.onLog = (_c, _u, _level, buf) => rec.logs.push(buf);
  setup?.(client);
  assert.equal(await within(client.connect(HOST, port, 30), 3000, "connect()"), MQTT_ERR_SUCCESS);
  client.loopStart();
  await until(() => rec.connects.length > 0 || rec.connectFails > 0 || rec.disconnects.length > 0, 3000,
    () => `onConnect\n${rec.logs.join("\n")}`);
  if (!refused) assert.equal(rec.connects[0]?.rc, 0, rec.logs.join("\n"));
  return { client, rec };
}

async function subscribed(client: Client, rec: Rec, ...args: Parameters<Client["subscribe"]>): Promise<number[]> {
  const [rc, mid] = client.subscribe(...args);
  assert.equal(rc, MQTT_ERR_SUCCESS);
  await until(() => rec.subscribed.has(mid), 3000, `SUBACK ${mid}`);
  return rec.subscribed.get(mid)!;
}

const text = (m: ReceivedMessage): string => Buffer.from(m.payload).toString("utf8");

describe("client against aedes", { timeout: 60_000 }, () => {
  let server: net.Server;
  let broker: { close(cb?: () => void): void; handle: (socket: net.Socket) => unknown };
  let port = 0;
  const sockets = new Set<net.Socket>();

  before(async () => {
    const { Aedes } = await import("aedes");
    broker = await Aedes.createBroker();
    server = net.createServer((socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
      broker.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, HOST, () => resolve());
    });
    port = (server.address() as net.AddressInfo).port;
  });
  afterEach(() => {
    for (const c of live) {
      c.disconnect();
      c.loopStop();
    }
    live.clear();
  });
  after(async () => {
    for (const c of live) c.disconnect();
    live.clear();
    await within(new Promise<void>((resolve) => broker?.close(() => resolve())), 3000, "aedes closes");
    for (const socket of sockets) socket.destroy();
    await within(new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve()))), 3000, "the server closes");
  });

  for (const [protocol, name] of PROTOCOLS) {
    test(`MQTT ${name}: QoS 0/1/2 both ways, delivered at the lower of publish and subscription QoS`, async () => {
      const t = root(`qos${protocol}`);
      const { client: sub, rec: srec } = await online(port, { protocol });
      const { client: pub, rec: prec } = await online(port, { protocol });
      assert.deepEqual(await subscribed(sub, srec, [[`${t}/s0`, 0], [`${t}/s1`, 1], [`${t}/s2`, 2]]), [0, 1, 2]);
      const infos: MessageInfo[] = [];
      const expected: string[] = [];
      for (const s of [0, 1, 2]) {
        for (const q of [0, 1, 2] as const) {
          infos.push(pub.publish(`${t}/s${s}`, `s${s}q${q}`, q));
          expected.push(`${t}/s${s} s${s}q${q} ${Math.min(s, q)}`);
        }
      }
      await within(Promise.all(infos.map((i) => i.waitForPublish())), 3000, "all publishes complete");
      assert.ok(infos.every((i) => i.isPublished()));
      await until(() => srec.messages.length >= 9, 3000, () => `nine deliveries, got ${srec.messages.length}`);
      await sleep(100);
      assert.deepEqual(srec.messages.map((m) => `${m.topic} ${text(m)} ${m.qos}`).sort(), expected.sort());
      // The subscriber can publish too: the other way round.
      const { rec: back } = { rec: prec };
      await subscribed(pub, back, `${t}/back`, 2);
      await within(sub.publish(`${t}/back`, "reply", 2).waitForPublish(), 3000, "publish back");
      await until(() => back.messages.length === 1, 3000, "the reply");
      assert.deepEqual([back.messages[0]!.topic, text(back.messages[0]!), back.messages[0]!.qos], [`${t}/back`, "reply", 2]);
    });

    test(`MQTT ${name}: a retained message reaches a new subscriber with retain set`, async () => {
      const t = root(`ret${protocol}`);
      const { client: pub } = await online(port, { protocol });
      await within(pub.publish(`${t}/kept`, "retained", 1, true).waitForPublish(), 3000, "retained publish");
      const { client: sub, rec } = await online(port, { protocol });
      await subscribed(sub, rec, `${t}/#`, 1);
      await until(() => rec.messages.length === 1, 3000, "the retained message");
      assert.deepEqual([rec.messages[0]!.topic, text(rec.messages[0]!), rec.messages[0]!.retain, rec.messages[0]!.qos], [`${t}/kept`, "retained", true, 1]);
      // Live deliveries to an existing subscriber have retain 0.
      await within(pub.publish(`${t}/kept`, "live", 1, true).waitForPublish(), 3000, "second retained publish");
      await until(() => rec.messages.length === 2, 3000, "the live delivery");
      assert.equal(rec.messages[1]!.retain, false);
      await within(pub.publish(`${t}/kept`, "", 1, true).waitForPublish(), 3000, "clear");
    });

    test(`MQTT ${name}: the will is published on an abnormal close and not after disconnect()`, async () => {
      const t = root(`will${protocol}`);
      const { client: watcher, rec: wrec } = await online(port, { protocol });
      await subscribed(watcher, wrec, `${t}/#`, 1);
      const { client: a, rec: arec } = await online(port, { protocol, setup: (c) => {
        c.willSet(`${t}/a`, "a died", 1);
        c.reconnectDelaySet(0.05, 0.2);
      } });
      (a.socket() as net.Socket).destroy();
      await until(() => wrec.messages.some((m) => m.topic === `${t}/a`), 3000, "the will");
      assert.equal(text(wrec.messages.find((m) => m.topic === `${t}/a`)!), "a died");
      await until(() => arec.disconnects.length === 1, 3000, "a's onDisconnect");
      assert.notEqual(arec.disconnects[0], 0);

      const { client: b, rec: brec } = await online(port, { protocol, setup: (c) => c.willSet(`${t}/b`, "b died", 1) });
      b.disconnect();
      await until(() => brec.disconnects.length === 1, 3000, "b's onDisconnect");
      assert.equal(brec.disconnects[0], 0);
      await within(watcher.publish(`${t}/sentinel`, "x", 1).waitForPublish(), 3000, "sentinel");
      await until(() => wrec.messages.some((m) => m.topic === `${t}/sentinel`), 3000, "the sentinel");
      await sleep(200);
      assert.equal(wrec.messages.some((m) => m.topic === `${t}/b`), false, "no will after disconnect()");
    });

    test(`MQTT ${name}: unsubscribe stops delivery`, async () => {
      const t = root(`uns${protocol}`);
      const { client, rec } = await online(port, { protocol });
      await subscribed(client, rec, [[`${t}/x`, 1], [`${t}/end`, 1]]);
      const [, mid] = client.unsubscribe(`${t}/x`);
      await until(() => rec.unsubscribed.has(mid), 3000, "UNSUBACK");
      await within(client.publish(`${t}/x`, "gone", 1).waitForPublish(), 3000, "publish");
      await within(client.publish(`${t}/end`, "end", 1).waitForPublish(), 3000, "publish");
      await until(() => rec.messages.some((m) => m.topic === `${t}/end`), 3000, "the sentinel");
      await sleep(100);
      assert.equal(rec.messages.some((m) => m.topic === `${t}/x`), false);
    });
  }

  test("MQTT 5 against a 3.1.1-only broker fails cleanly", async () => {
    const { client, rec } = await online(port, { protocol: MQTTv5, refused: true, setup: (c) => c.reconnectDelaySet(30, 30) });
    await sleep(100);
    assert.equal(client.isConnected(), false);
    assert.ok(rec.connects.every((c) => c.rc !== 0), `not accepted: ${JSON.stringify(rec.connects)}\n${rec.logs.join("\n")}`);
    // aedes answers a level-5 CONNECT with a 3.1.1 CONNACK, return code 1 (unacceptable protocol version). Read
    // as an MQTT 5 CONNACK, 0x01 is no reason code: the client takes it for a failed connection, and says so.
    assert.equal(rec.connects.length, 0, JSON.stringify(rec.connects));
    assert.equal(rec.connectFails, 1);
    assert.ok(rec.logs.some((l) => /CONNACK carries an undefined reason code 0x1/.test(l)), rec.logs.join("\n"));
  });
});
