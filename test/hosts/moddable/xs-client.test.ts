/**
 * The XS lane: the whole client (src/, engine and all, bundled with the small host in test/hosts/moddable/xs-client/)
 * runs inside Moddable's XS engine (xsnap-worker), its socket bytes and timer ticks bridged by a Node
 * driver to a real mosquitto. The same checks as on Node (client-mosquitto.test.ts): connect, every
 * callback's arguments, subscribe, QoS 0/1/2 both ways, keepalive pings and a keepalive timeout, the will
 * on a cut link, reconnecting with a queued QoS 1 publish; the ECMA-419 client class on the same engine;
 * and the memory budget: live XS slots after gc() must not grow from 2,000 to 10,000 messages each way.
 *
 * The peer on the other side of the broker is the Node host's client. Every wait is bounded.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { Client, type MQTTMessage, MQTTv31, MQTTv311, MQTTv5, MQTT_ERR_SUCCESS, type ProtocolVersion, type QoS } from "../../../hosts/node/index.js";
import { type Broker, freePort, startMosquitto } from "../../support/mosquitto.js";
import { type Proxy, startProxy } from "../../support/proxy.js";
import { PINGREQ, PINGRESP, XsDriver, type XsEvent } from "./xs-client/driver.js";
import { profileMemory } from "./xs-client/memory.js";
import { sleep, until } from "../../support/wait.js";

const HOST = "127.0.0.1";
const PROTOCOLS: ReadonlyArray<readonly [ProtocolVersion, string]> = [[MQTTv31, "3.1"], [MQTTv311, "3.1.1"], [MQTTv5, "5"]];
/**
 * The hosts under the client: the bridge host (test/hosts/moddable/xs-client/xs-host.ts), and hosts/moddable itself over
 * fakes of Moddable's socket, timer and time modules with their documented semantics (moddable-fakes/).
 */
const HOSTS: ReadonlyArray<readonly [boolean, string]> = [[false, "bridge host"], [true, "Moddable host"]];
/** Live slots steady-state traffic may add between the two checkpoints (none are expected). */
const SLOT_SLACK = 16;

const text = (bytes: unknown): string => Buffer.from(bytes as Uint8Array).toString("utf8");

// ---- the client in XS, seen from here --------------------------------------------------------

let nextXs = 1;

/** One client inside the worker: calls go in as remote calls, its callbacks come back as events. */
class XsClient {
  readonly id = nextXs++;
  private token = 0;
  constructor(readonly d: XsDriver) {}

  static async create(d: XsDriver, options: Record<string, unknown>): Promise<XsClient> {
    const c = new XsClient(d);
    await d.call("create", c.id, options);
    return c;
  }

  /** A synchronous Client method; MessageInfo comes back as { rc, mid }. */
  invoke<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
    return this.d.call<T>("invoke", this.id, method, args);
  }

  /** A Promise-returning Client method: resolves or rejects with what it settled to inside XS. */
  async settle(method: string, ...args: unknown[]): Promise<unknown> {
    const token = ++this.token;
    await this.d.call("invoke", this.id, method, args, token);
    const e = await this.d.waitFor((x) => x.client === this.id && x.type === "settled" && x.token === token, 5000, `${method}() to settle`);
    if (e.ok !== true) throw new Error(`${method}() rejected: ${JSON.stringify(e.value)}`);
    return e.value;
  }

  events(type?: string): XsEvent[] {
    return this.d.events.filter((e) => e.client === this.id && (type === undefined || e.type === type));
  }

  messages(prefix: string): XsEvent[] {
    return this.events("message").filter((m) => (m.topic as string).startsWith(prefix));
  }

  wait(type: string, count: number, ms = 3000, extra = ""): Promise<void> {
    return until(() => this.events(type).length >= count, ms, () => `${count} ${type} event(s) ${extra}\n${this.logText()}`);
  }

  logText(): string {
    return this.events("log").map((e) => `[${String(e.level)}] ${String(e.buf)}`).join("\n");
  }

  /** Connects with loopStart() and waits for the CONNACK, as the Node tests' online() does. */
  async online(port: number, keepalive = 30): Promise<void> {
    assert.equal(await this.settle("connect", HOST, port, keepalive), MQTT_ERR_SUCCESS);
    assert.equal(await this.invoke("loopStart"), MQTT_ERR_SUCCESS);
    await this.wait("connect", 1);
    assert.equal(this.events("connect")[0]!.rc, 0, "CONNACK accepted");
  }

  async subscribed(...args: unknown[]): Promise<number[]> {
    const [rc, mid] = await this.invoke<[number, number]>("subscribe", ...args);
    assert.equal(rc, MQTT_ERR_SUCCESS);
    await until(() => this.events("subscribe").some((e) => e.mid === mid), 3000, `SUBACK for mid ${mid}`);
    return this.events("subscribe").find((e) => e.mid === mid)!.rcs as number[];
  }
}

// ---- the peer on Node ------------------------------------------------------------------------

interface Got { topic: string; bytes: Uint8Array; qos: number; retain: boolean; dup: boolean }

const peers = new Set<Client>();
let peerCount = 0;

async function peer(port: number, protocol: ProtocolVersion = MQTTv311): Promise<{ client: Client; got: Got[] }> {
  const client = new Client({ clientId: `xs-peer-${process.pid}-${++peerCount}`, protocol });
  peers.add(client);
  const got: Got[] = [];
  let connected = false;
  client.onConnect = () => { connected = true; };
  client.onMessage = (_c, _u, m: MQTTMessage) => { got.push({ topic: m.topic, bytes: m.payload.slice(), qos: m.qos, retain: m.retain, dup: m.dup }); };
  await client.connect(HOST, port, 30);
  client.loopStart();
  await until(() => connected, 3000, "the peer's CONNACK");
  return { client, got };
}

async function peerSubscribe(client: Client, topic: string, qos: QoS): Promise<void> {
  let done = false;
  client.onSubscribe = () => { done = true; };
  client.subscribe(topic, qos);
  await until(() => done, 3000, `the peer's SUBACK for ${topic}`);
}

function closePeers(): void {
  for (const c of peers) {
    c.disconnect();
    c.loopStop();
  }
  peers.clear();
}

let topicCounter = 0;
const root = (what: string): string => `xs${process.pid}-${++topicCounter}/${what}`;

// =================================================================================================

describe("the whole client inside XS (xsnap-worker) against mosquitto", { timeout: 120_000 }, () => {
  let broker: Broker;
  let d: XsDriver;
  before(async () => {
    broker = await startMosquitto({ maxInflightMessages: 100, maxQueuedMessages: 20000 });
    d = await XsDriver.start();
  });
  after(async () => {
    closePeers();
    await d?.close();
    await broker?.stop();
  });
  afterEach(closePeers);

  for (const [moddable, hostName] of HOSTS) for (const [protocol, name] of PROTOCOLS) {
    test(`${hostName}, MQTT ${name}: connect, subscribe, publish, unsubscribe, disconnect; every callback with its arguments`, async () => {
      const t = root(`cb${protocol}`);
      const xs = await XsClient.create(d, { clientId: `xs-cb-${protocol}-${process.pid}-${nextXs}`, protocol, log: true, moddable });
      await xs.online(broker.port);
      assert.equal(await xs.invoke("isConnected"), true);
      assert.equal(xs.events("socketOpen").length, 1, "onSocketOpen once");
      const c = xs.events("connect")[0]!;
      assert.deepEqual(c.flags, { sessionPresent: false });
      if (protocol === MQTTv5) {
        assert.equal((c.properties as { receiveMaximum?: number }).receiveMaximum, 100, "mosquitto's Receive Maximum");
      } else {
        assert.deepEqual(c.properties, {});
      }

      assert.deepEqual(await xs.subscribed([[`${t}/q0`, 0], [`${t}/q1`, 1], [`${t}/q2`, 2]]), [0, 1, 2]);
      const v5 = protocol === MQTTv5 ? { contentType: "text/plain", correlationData: new Uint8Array([1, 2, 3]), userProperties: [["k", "v"], ["k", "w"]] } : undefined;
      const infos: Array<{ rc: number; mid: number }> = [];
      for (const q of [0, 1, 2]) infos.push(await xs.invoke("publish", `${t}/q${q}`, `payload ${q}`, q, false, v5));
      for (const info of infos) assert.equal(info.rc, MQTT_ERR_SUCCESS);
      assert.equal(new Set(infos.map((i) => i.mid)).size, 3, "distinct mids");
      await xs.wait("publish", 3);
      assert.deepEqual(xs.events("publish").map((p) => p.mid).sort(), infos.map((i) => i.mid).sort());
      await until(() => xs.messages(t).length === 3, 3000, "our three messages back");
      for (const q of [0, 1, 2]) {
        const m = xs.messages(`${t}/q${q}`)[0]!;
        assert.equal(text(m.payload), `payload ${q}`);
        assert.equal(m.qos, q);
        assert.equal(m.retain, false);
        assert.equal(m.dup, false);
        if (q === 0) assert.equal(m.mid, 0);
        else assert.ok((m.mid as number) > 0);
        if (protocol === MQTTv5) {
          const p = m.properties as { contentType: string; correlationData: Uint8Array; userProperties: string[][] };
          assert.equal(p.contentType, "text/plain");
          assert.deepEqual([...p.correlationData], [1, 2, 3]);
          assert.deepEqual(p.userProperties, [["k", "v"], ["k", "w"]]);
        } else {
          assert.equal(m.properties, null);
        }
      }

      const [urc, umid] = await xs.invoke<[number, number]>("unsubscribe", [`${t}/q0`, `${t}/q1`, `${t}/q2`]);
      assert.equal(urc, MQTT_ERR_SUCCESS);
      await xs.wait("unsubscribe", 1);
      assert.deepEqual(xs.events("unsubscribe")[0]!.mid, umid);
      assert.deepEqual(xs.events("unsubscribe")[0]!.rcs, protocol === MQTTv5 ? [0, 0, 0] : []);

      assert.equal(await xs.invoke("disconnect"), MQTT_ERR_SUCCESS);
      await xs.wait("disconnect", 1);
      const dis = xs.events("disconnect")[0]!;
      assert.deepEqual([dis.flags, dis.rc], [{ isDisconnectPacketFromServer: false }, 0]);
      assert.equal(xs.events("socketClose").length, 1, "onSocketClose once");
      await sleep(150);
      assert.equal(xs.events("connect").length, 1, "no reconnect after disconnect()");
      const log = xs.logText();
      assert.match(log, /Sending CONNECT/);
      assert.match(log, /Received CONNACK \(0, 0\)/);
      assert.match(log, /Received PUBLISH/);
    });
  }

  for (const [moddable, hostName] of HOSTS) for (const [protocol, name] of PROTOCOLS) {
    test(`${hostName}, MQTT ${name}: QoS 0/1/2 both ways, delivered at the lower QoS, payloads intact`, async () => {
      const t = root(`qos${protocol}`);
      const xs = await XsClient.create(d, { clientId: `xs-qos-${protocol}-${process.pid}-${nextXs}`, protocol, moddable });
      await xs.online(broker.port);
      const { client: p, got } = await peer(broker.port, protocol);
      await peerSubscribe(p, `${t}/out/#`, 2);
      assert.deepEqual(await xs.subscribed([[`${t}/in/s0`, 0], [`${t}/in/s1`, 1], [`${t}/in/s2`, 2]]), [0, 1, 2]);

      // Into XS: every QoS to every subscription QoS; one payload larger than a TCP segment (the
      // ESP32 budget takes packets up to 4096 bytes).
      const big = "b".repeat(3000);
      const expected: string[] = [];
      let k = 0;
      for (const s of [0, 1, 2]) {
        for (const q of [0, 1, 2] as const) {
          const payload = k++ % 3 === 2 ? big : `in s${s} q${q}`;
          const info = p.publish(`${t}/in/s${s}`, payload, q);
          assert.equal(info.rc, MQTT_ERR_SUCCESS);
          expected.push(`${t}/in/s${s} q${Math.min(s, q)} ${payload.length}:${payload.slice(0, 12)}`);
        }
      }
      await until(() => xs.messages(`${t}/in`).length >= 9, 5000, () => `nine deliveries in XS, got ${xs.messages(`${t}/in`).length}`);
      await sleep(100);
      const received = xs.messages(`${t}/in`).map((m) => `${String(m.topic)} q${String(m.qos)} ${text(m.payload).length}:${text(m.payload).slice(0, 12)}`);
      assert.deepEqual(received.sort(), expected.sort());
      for (const m of xs.messages(`${t}/in`)) assert.equal(m.dup, false);

      // Out of XS: each QoS once, onPublish for each.
      const payloads = ["zero", "o".repeat(1500), "two"];
      const mids: number[] = [];
      for (const q of [0, 1, 2]) {
        const info = await xs.invoke<{ rc: number; mid: number }>("publish", `${t}/out/q${q}`, payloads[q], q);
        assert.equal(info.rc, MQTT_ERR_SUCCESS);
        mids.push(info.mid);
      }
      await until(() => got.length >= 3, 5000, () => `three deliveries to the peer, got ${got.length}`);
      await xs.wait("publish", 3);
      assert.deepEqual(xs.events("publish").map((e) => e.mid).sort(), [...mids].sort());
      for (const q of [0, 1, 2]) {
        const m = got.find((g) => g.topic === `${t}/out/q${q}`)!;
        assert.equal(m.qos, q);
        assert.equal(text(m.bytes), payloads[q]);
      }
      await xs.invoke("disconnect");
    });
  }

  test("bridge host, keepalive 1 s: PINGREQ goes out on an idle link and PINGRESP keeps it up", async () => {
    const xs = await XsClient.create(d, { clientId: `xs-ka-${process.pid}` });
    const pingsBefore = d.sentCount(PINGREQ);
    const pongsBefore = d.receivedCount(PINGRESP);
    await xs.online(broker.port, 1);
    await sleep(3500);
    const pings = d.sentCount(PINGREQ) - pingsBefore;
    const pongs = d.receivedCount(PINGRESP) - pongsBefore;
    assert.ok(pings >= 2 && pings <= 5, `PINGREQ about once a second of idleness (${pings} in 3.5 s)`);
    assert.ok(pongs >= 2, `PINGRESP answered (${pongs})`);
    assert.equal(xs.events("disconnect").length, 0, "no disconnection");
    assert.equal(await xs.invoke("isConnected"), true);
    await xs.invoke("disconnect");
    await xs.wait("disconnect", 1);
  });

  test("Moddable host across a Time.ticks wrap (signed 32-bit, +2147483647 to -2147483648): pings and QoS 1 both ways go on", async () => {
    const t = root("wrap");
    const w = await XsDriver.start(); // a worker of its own: its fake Time.ticks wraps 2 s after the first reading
    try {
      const { client: p, got } = await peer(broker.port);
      await peerSubscribe(p, `${t}/out`, 1);
      const xs = await XsClient.create(w, { clientId: `xs-wrap-${process.pid}`, moddable: true });
      await xs.online(broker.port, 1);
      const before = await w.call<number>("ticks");
      assert.ok(before > 2 ** 31 - 2500, `Time.ticks starts just below the wrap (${before})`);
      await xs.subscribed(`${t}/in`, 1);
      const exchange = async (n: number): Promise<void> => {
        const info = await xs.invoke<{ rc: number; mid: number }>("publish", `${t}/out`, `out ${n}`, 1);
        assert.equal(info.rc, MQTT_ERR_SUCCESS);
        p.publish(`${t}/in`, `in ${n}`, 1);
        await until(() => got.some((m) => text(m.bytes) === `out ${n}`), 3000, `out ${n} at the peer`);
        await until(() => xs.messages(`${t}/in`).some((m) => text(m.payload) === `in ${n}`), 3000, `in ${n} in XS`);
      };
      await exchange(1);
      const pings = w.sentCount(PINGREQ);
      await sleep(3000);
      const after = await w.call<number>("ticks");
      assert.ok(after < 0, `Time.ticks wrapped (${after})`);
      assert.ok(w.sentCount(PINGREQ) - pings >= 2, "PINGREQ kept going across the wrap");
      assert.equal(xs.events("disconnect").length, 0, "no keepalive timeout from a wrapped clock");
      await exchange(2);
      await xs.invoke("disconnect");
      await xs.wait("disconnect", 1);
    } finally {
      await w.close();
    }
  });

  describe("through a TCP proxy", () => {
    let proxy: Proxy;
    before(async () => { proxy = await startProxy(broker.port); });
    after(async () => { proxy?.resume(); await proxy?.close(); });

    for (const [moddable, hostName] of HOSTS) test(`${hostName}, keepalive 1 s on a stalled link: onDisconnect 0x8D within 1.5 x keepalive, then loopStart reconnects`, async () => {
      const xs = await XsClient.create(d, { clientId: `xs-stall-${process.pid}-${nextXs}`, log: true, moddable });
      await xs.invoke("reconnectDelaySet", 0.1, 0.5);
      await xs.online(proxy.port, 1);
      await xs.invoke("publish", "xs/stall", "x", 1);
      await xs.wait("publish", 1);
      const stalledAt = Date.now();
      proxy.stall();
      try {
        await xs.wait("disconnect", 1, 1500 + 1500, "while the link is stalled");
        const elapsed = Date.now() - stalledAt;
        assert.equal(xs.events("disconnect")[0]!.rc, 0x8d, "reason 0x8D, Keep Alive timeout");
        assert.ok(elapsed >= 1500 - 200 && elapsed <= 1500 + 1000, `1.5 x keepalive after the stall (${elapsed} ms)`);
        assert.match(xs.logText(), /keepalive/i);
      } finally {
        proxy.resume();
      }
      await xs.wait("connect", 2, 8000, "the automatic reconnect");
      assert.equal(xs.events("connect")[1]!.rc, 0);
      const info = await xs.invoke<{ rc: number; mid: number }>("publish", "xs/stall", "after", 1);
      await until(() => xs.events("publish").some((e) => e.mid === info.mid), 3000, "a publish after the reconnect");
      await xs.invoke("disconnect");
    });
  });

  for (const [moddable, hostName] of HOSTS) for (const [protocol, name] of PROTOCOLS) {
    test(`${hostName}, MQTT ${name}: the will on a cut link; the client reconnects and delivers what was published while down`, async () => {
      const t = root(`will${protocol}`);
      const { client: watcher, got } = await peer(broker.port, protocol);
      await peerSubscribe(watcher, `${t}/#`, 2);

      const a = await XsClient.create(d, { clientId: `xs-will-a-${protocol}-${process.pid}-${nextXs}`, protocol, moddable });
      await a.invoke("willSet", `${t}/a`, "a died", 1, false);
      await a.invoke("reconnectDelaySet", 0.05, 0.2);
      await a.online(broker.port);
      d.cut();
      await until(() => got.some((m) => m.topic === `${t}/a`), 3000, "the will of the cut connection");
      const will = got.find((m) => m.topic === `${t}/a`)!;
      assert.deepEqual([text(will.bytes), will.qos, will.retain], ["a died", 1, false]);
      await a.wait("disconnect", 1);
      assert.notEqual(a.events("disconnect")[0]!.rc, 0, "a lost connection is not a normal disconnection");
      await a.wait("connect", 2, 3000, "the automatic reconnect");

      // Published while the link is down: queued, then delivered once the client is back.
      d.cut();
      const queued = await a.invoke<{ rc: number; mid: number }>("publish", `${t}/queued`, "while down", 1);
      assert.equal(queued.rc, MQTT_ERR_SUCCESS);
      await a.wait("connect", 3, 3000, "the second reconnect");
      await until(() => got.some((m) => m.topic === `${t}/queued`), 3000, "the QoS 1 message published while down");
      await until(() => a.events("publish").some((e) => e.mid === queued.mid), 3000, "its onPublish");
      assert.equal(text(got.find((m) => m.topic === `${t}/queued`)!.bytes), "while down");

      const b = await XsClient.create(d, { clientId: `xs-will-b-${protocol}-${process.pid}-${nextXs}`, protocol, moddable });
      await b.invoke("willSet", `${t}/b`, "b died", 1);
      await b.online(broker.port);
      await b.invoke("disconnect");
      await b.wait("disconnect", 1);
      assert.equal(b.events("disconnect")[0]!.rc, 0);
      await a.invoke("disconnect");
      await a.wait("disconnect", 3);
      watcher.publish(`${t}/sentinel`, "after", 1);
      await until(() => got.some((m) => m.topic === `${t}/sentinel`), 3000, "the sentinel");
      await sleep(150);
      assert.deepEqual(got.filter((m) => m.topic === `${t}/b`), [], "no will after disconnect()");
      assert.equal(got.filter((m) => m.topic === `${t}/a`).length, 2, "a's two cuts, two wills; none after its disconnect()");
    });
  }

  for (const [moddable, hostName] of HOSTS) test(`${hostName}, the ECMA-419 client class on the same engine: onControl, onReadable/read, fragmented write, onClose`, async () => {
    const t = root("419");
    const { client: p, got } = await peer(broker.port);
    await peerSubscribe(p, `${t}/out/#`, 2);
    const id = nextXs++;
    const events = (type: string): XsEvent[] => d.events.filter((e) => e.client === id && e.type === type);
    await d.call("create419", id, { host: HOST, port: broker.port, id: `xs-419-${process.pid}-${id}`, keepAlive: 30_000 }, moddable);
    await until(() => events("control").length >= 1, 3000, "CONNACK through onControl");
    assert.deepEqual(events("control")[0], { client: id, type: "control", operation: 2, id: 0 });
    await until(() => events("writable").length >= 1, 3000, "onWritable after CONNACK");
    assert.ok((events("writable")[0]!.count as number) > 0);

    await d.call("write419", id, null, { operation: 8, items: [{ topic: `${t}/in/0` }, { topic: `${t}/in/1`, QoS: 1 }, { topic: `${t}/in/2`, QoS: 2 }] });
    await until(() => events("control").some((e) => e.operation === 9), 3000, "SUBACK");
    assert.deepEqual([...(events("control").find((e) => e.operation === 9)!.payload as Uint8Array)], [0, 1, 2]);

    for (const q of [0, 1, 2] as const) p.publish(`${t}/in/${q}`, `message at QoS ${q}`, q);
    await until(() => events("readable").length >= 3, 3000, "three onReadable");
    for (const q of [0, 1, 2]) {
      const r = events("readable").find((e) => (e.options as { topic: string }).topic === `${t}/in/${q}`)!;
      const payload = `message at QoS ${q}`;
      assert.equal(r.count, payload.length);
      assert.deepEqual(r.options, { more: false, topic: `${t}/in/${q}`, QoS: q, byteLength: payload.length, retain: false, duplicate: false });
      assert.equal(text(r.payload), payload, "read(buffer) then read() give the whole payload");
    }

    // A fragmented QoS 1 payload: 4 bytes now, the other 6 in a second write.
    await d.call("write419", id, new TextEncoder().encode("frag"), { topic: `${t}/out/1`, QoS: 1, byteLength: 10 });
    await d.call("write419", id, new TextEncoder().encode("mented"));
    await d.call("write419", id, new TextEncoder().encode("exactly once"), { topic: `${t}/out/2`, QoS: 2 });
    await until(() => got.length >= 2, 3000, "both publishes at the peer");
    assert.equal(text(got.find((m) => m.topic === `${t}/out/1`)!.bytes), "fragmented");
    assert.equal(got.find((m) => m.topic === `${t}/out/1`)!.qos, 1);
    assert.equal(text(got.find((m) => m.topic === `${t}/out/2`)!.bytes), "exactly once");
    await until(() => events("control").some((e) => e.operation === 4) && events("control").some((e) => e.operation === 7), 3000, "PUBACK and PUBCOMP");

    await d.call("write419", id, null, { operation: 14 });
    await until(() => events("close").length === 1, 3000, "onClose after DISCONNECT");
    assert.deepEqual(events("error"), []);
    await d.call("close419", id);
  });

  test("Moddable host, the ECMA-419 client reads pull-style: an unread payload holds back the next message until read()", async () => {
    const t = root("419pull");
    const { client: p } = await peer(broker.port);
    const id = nextXs++;
    const events = (type: string): XsEvent[] => d.events.filter((e) => e.client === id && e.type === type);
    await d.call("create419", id, { host: HOST, port: broker.port, id: `xs-419p-${process.pid}` }, true, true);
    await until(() => events("control").length >= 1, 3000, "CONNACK");
    await d.call("write419", id, null, { operation: 8, items: [{ topic: `${t}/in`, QoS: 1 }] });
    await until(() => events("control").some((e) => e.operation === 9), 3000, "SUBACK");
    p.publish(`${t}/in`, "first", 1);
    p.publish(`${t}/in`, "second", 1);
    await until(() => events("readable").length >= 1, 3000, "the first onReadable");
    await sleep(200);
    assert.equal(events("readable").length, 1, "the second waits while the first is unread");
    assert.equal(text(await d.call("read419", id)), "first");
    await until(() => events("readable").length >= 2, 3000, "the second onReadable once the first was read");
    assert.equal(text(await d.call("read419", id)), "second");
    assert.equal(await d.call("read419", id), null, "nothing left to read");
    await d.call("close419", id);

    // A broker that is not there: onError, not onClose.
    const bad = nextXs++;
    const port = await freePort();
    await d.call("create419", bad, { host: HOST, port, id: `xs-419e-${process.pid}` }, true);
    await until(() => d.events.some((e) => e.client === bad && e.type === "error"), 3000, "onError for a refused connection");
    assert.equal(d.events.filter((e) => e.client === bad && e.type === "close").length, 0);
    await d.call("close419", bad);
  });

  test("a chunk of 600 QoS 1 messages is delivered whole, even though the acknowledgements overflow the output once",
    async () => {
      assert.equal(await d.call("oneChunk", 600), 600);
    });

  test("after every client above has disconnected, the XS host holds no link and no timer", async () => {
    await until(() => d.links.size === 0, 3000, "the driver's sockets to close");
    assert.deepEqual(await d.call("hostState"), { links: 0, timers: 0 });
  });
});

describe("preloading on Moddable (built-in prototypes frozen)", () => {
  test("the client's errors can still be made once Error.prototype is frozen",
    async () => {
      const d = await XsDriver.start();
      try {
        assert.deepEqual(await d.call("frozenErrors"), ["MqttConnectionError", "MqttProtocolError"]);
      } finally {
        await d.close();
      }
    });
});

describe("the memory budget on XS (ESP32_BUDGET), against mosquitto", { timeout: 180_000 }, () => {
  let broker: Broker;
  before(async () => { broker = await startMosquitto({ maxInflightMessages: 100, maxQueuedMessages: 20000 }); });
  after(async () => { await broker?.stop(); });

  for (const [moddable, hostName] of HOSTS) {
    test(`${hostName}: steady-state QoS 0/1 traffic both ways does not grow the XS heap (live slots after gc at 2,000 and 10,000 messages)`, async (t) => {
      const p = await profileMemory({ broker, checkpoints: [2000, 10000], moddable });
      const [early, late] = p.checkpoints;
      t.diagnostic(`idle connected client: ${p.idleSlots - p.baseSlots} slots + ${p.bufferBytes} bytes of buffers`);
      t.diagnostic(`live slots after gc: ${early!.slots} at 2,000, ${late!.slots} at 10,000 messages each way at QoS 0 and 1`);
      for (const c of p.costs) t.diagnostic(`${c.what}: compute ${c.compute.toFixed(0)} per message, ${c.transientSlots.toFixed(1)} transient slots`);
      assert.ok(late!.slots - early!.slots <= SLOT_SLACK,
        `the XS heap grew by ${late!.slots - early!.slots} live slots from 2,000 to 10,000 messages (allowed ${SLOT_SLACK})`);
      assert.ok(late!.slots - p.idleSlots <= 64, `traffic left ${late!.slots - p.idleSlots} live slots over the idle client`);
      assert.deepEqual(p.hostState, { links: 1, timers: 1 }, "one link and one timer (keepalive) held by the host");
    });
  }
});
