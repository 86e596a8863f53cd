/**
 * MQTT 5 against a real mosquitto (2.0.x): everything of the "MQTT 5, all of it" issue that mosquitto
 * implements. Properties on PUBLISH (user properties in order, with repeats, end to end), on the will, on
 * SUBSCRIBE/UNSUBSCRIBE and their acknowledgements, CONNACK's limits and DISCONNECT both ways; subscription
 * options, subscription identifiers, shared subscriptions; session expiry, message expiry, will delay;
 * topic aliases (ours, verified on the wire by a sniffing proxy and by a subscriber that gets the full topic
 * every time; mosquitto's toward us, if it sends any); Receive Maximum (mosquitto's max_inflight_messages 2,
 * in-flight counted on the wire), Maximum Packet Size, Retain Available, Maximum QoS, Server Keep Alive,
 * Assigned Client Identifier; and examples/request-response.ts run as a program.
 *
 * Two brokers: `main` (mosquitto's defaults but room for counting) and `limits` (max_packet_size 1000,
 * retain_available false, max_qos 1, max_keepalive 10, max_topic_alias 2, max_inflight_messages 2).
 * Every wait is bounded; every client is disconnected after its test; brokers and proxies stop in after().
 */
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import {
  Client, type ClientOptions, type ConnectFlags, type DisconnectFlags, type MQTTMessage, MQTTv5,
  MQTT_ERR_NO_CONN, MQTT_ERR_NOT_SUPPORTED, MQTT_ERR_PAYLOAD_SIZE, MQTT_ERR_SUCCESS, type Properties, codec, topicMatchesSub,
} from "../../hosts/node/index.js";
import { type Broker, startMosquitto } from "../support/mosquitto.js";
import { sleep, until, within } from "../support/wait.js";
import { owned, disconnectAll } from "../support/clients.js";

const HOST = "127.0.0.1";

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString("utf8");
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "utf8"));

// ---- recording clients -------------------------------------------------------------------------

interface Got {
  topic: string;
  text: string;
  qos: number;
  retain: boolean;
  properties: Properties | undefined;
  at: number;
  /** Which messageCallbackAdd filter took it ("" for onMessage). */
  via: string;
}

const got = (m: MQTTMessage, via = ""): Got =>
  ({ topic: m.topic, text: text(m.payload), qos: m.qos, retain: m.retain, properties: owned(m.properties), at: Date.now(), via });

class Rec {
  connects: Array<{ flags: ConnectFlags; rc: number; props: Properties }> = [];
  disconnects: Array<{ flags: DisconnectFlags; rc: number; props: Properties; at: number }> = [];
  messages: Got[] = [];
  published: Array<{ mid: number; rc: number; props: Properties }> = [];
  subscribed: Array<{ mid: number; rcs: number[]; props: Properties }> = [];
  unsubscribed: Array<{ mid: number; rcs: number[]; props: Properties }> = [];
  logs: string[] = [];
  texts(prefix: string): string[] {
    return this.messages.filter((m) => m.topic.startsWith(prefix)).map((m) => m.text);
  }
  logText(): string {
    return this.logs.join("\n");
  }
}

function watch(client: Client): Rec {
  const rec = new Rec();
  client.onConnect = (_c, _u, flags, rc, props) => rec.connects.push({ flags, rc, props: owned(props) });
  client.onDisconnect = (_c, _u, flags, rc, props) => rec.disconnects.push({ flags, rc, props: owned(props), at: Date.now() });
  client.onMessage = (_c, _u, m) => rec.messages.push(got(m));
  client.onPublish = (_c, _u, mid, rc, props) => rec.published.push({ mid, rc, props: owned(props) });
  client.onSubscribe = (_c, _u, mid, rcs, props) => rec.subscribed.push({ mid, rcs: [...rcs], props: owned(props) });
  client.onUnsubscribe = (_c, _u, mid, rcs, props) => rec.unsubscribed.push({ mid, rcs: [...rcs], props: owned(props) });
  client.onLog = (_c, _u, level, buf) => rec.logs.push(`[${level}] ${buf}`);
  return rec;
}

const live = new Set<Client>();

const closeAll = (): void => disconnectAll(live);

let idCounter = 0;
const uid = (what: string): string => `${what}-${process.pid}-${++idCounter}`;
let topicCounter = 0;
/** A topic root of its own for each test. */
const root = (what: string): string => `m5-${process.pid}-${++topicCounter}/${what}`;

interface OnlineOptions extends ClientOptions {
  keepalive?: number;
  cleanStart?: boolean;
  connectProperties?: Properties;
  setup?: (client: Client, rec: Rec) => void;
  /** Wait for a CONNACK accepting the connection (default true). */
  accepted?: boolean;
}

/** A v5 client with recorded callbacks, connected with loopStart() (CONNACK received). */
async function online(port: number, options: OnlineOptions = {}): Promise<{ client: Client; rec: Rec }> {
  const { keepalive = 30, cleanStart, connectProperties, setup, accepted = true, ...clientOptions } = options;
  const client = new Client({ clientId: uid("c"), protocol: MQTTv5, ...clientOptions });
  const rec = watch(client);
  setup?.(client, rec);
  live.add(client);
  assert.equal(await within(client.connect(HOST, port, keepalive, "", cleanStart, connectProperties), 3000, "connect()"), MQTT_ERR_SUCCESS);
  assert.equal(client.loopStart(), MQTT_ERR_SUCCESS);
  await until(() => rec.connects.length > 0, 3000, () => `onConnect\n${rec.logText()}`);
  if (accepted) assert.equal(rec.connects[0]!.rc, 0, `CONNACK accepted\n${rec.logText()}`);
  return { client, rec };
}

/** Connects an existing client again (after disconnect()), waiting for the next onConnect. */
async function again(client: Client, rec: Rec, port: number, cleanStart: boolean, properties?: Properties): Promise<{ flags: ConnectFlags; rc: number; props: Properties }> {
  const n = rec.connects.length;
  client.loopStop();
  assert.equal(await within(client.connect(HOST, port, 30, "", cleanStart, properties), 3000, "connect() again"), MQTT_ERR_SUCCESS);
  client.loopStart();
  live.add(client);
  await until(() => rec.connects.length > n, 3000, () => `onConnect again\n${rec.logText()}`);
  return rec.connects[n]!;
}

/** disconnect() and wait for onDisconnect. */
async function offline(client: Client, rec: Rec, reasonCode?: number, properties?: Properties): Promise<void> {
  const n = rec.disconnects.length;
  assert.equal(client.disconnect(reasonCode, properties), MQTT_ERR_SUCCESS);
  await until(() => rec.disconnects.length > n, 3000, "onDisconnect after disconnect()");
  client.loopStop();
  live.delete(client);
}

async function subscribed(client: Client, rec: Rec, ...args: Parameters<Client["subscribe"]>): Promise<{ rcs: number[]; props: Properties }> {
  const [rc, mid] = client.subscribe(...args);
  assert.equal(rc, MQTT_ERR_SUCCESS, "subscribe() rc");
  await until(() => rec.subscribed.some((s) => s.mid === mid), 3000, `SUBACK for mid ${mid}`);
  return rec.subscribed.find((s) => s.mid === mid)!;
}

async function unsubscribed(client: Client, rec: Rec, ...args: Parameters<Client["unsubscribe"]>): Promise<{ rcs: number[]; props: Properties }> {
  const [rc, mid] = client.unsubscribe(...args);
  assert.equal(rc, MQTT_ERR_SUCCESS, "unsubscribe() rc");
  await until(() => rec.unsubscribed.some((s) => s.mid === mid), 3000, `UNSUBACK for mid ${mid}`);
  return rec.unsubscribed.find((s) => s.mid === mid)!;
}

/** Publishes and waits for the flow to finish (onPublish); returns the reason code and properties. */
async function published(client: Client, rec: Rec, ...args: Parameters<Client["publish"]>): Promise<{ rc: number; props: Properties }> {
  const info = client.publish(...args);
  assert.equal(info.rc, MQTT_ERR_SUCCESS, `publish(${args[0]}) rc`);
  await within(info.waitForPublish(), 3000, `publish of ${args[0]}`);
  await until(() => rec.published.some((p) => p.mid === info.mid), 3000, `onPublish for mid ${info.mid}`);
  return rec.published.find((p) => p.mid === info.mid)!;
}

/** Waits until count() reaches target, or has not changed for idleMs. */
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

// ---- a sniffing proxy: the packets both ways, decoded with our own codec ---------------------------

interface Sniffed {
  /** "up": client to broker; "down": broker to client. */
  dir: "up" | "down";
  type: number;
  at: number;
  topic?: string;
  topicAlias?: number;
  qos?: number;
  packetId?: number;
  reasonCode?: number;
  payloadLength?: number;
}

interface Sniffer {
  readonly port: number;
  readonly packets: Sniffed[];
  readonly errors: unknown[];
  /** Writes bytes toward the broker on every live connection, as if the client had sent them. */
  inject(bytes: Uint8Array): void;
  close(): Promise<void>;
}

/** Decodes one direction of a stream with our Decoder, copying out what the tests look at. */
function sniff(dir: "up" | "down", out: Sniffed[], errors: unknown[]): (chunk: Buffer) => void {
  const decoder = new codec.Decoder({ maxPacketSize: 1 << 20, version: 5 });
  let failed = false;
  return (chunk) => {
    if (failed) return;
    decoder.feed(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    try {
      for (let p = decoder.next(); p !== null; p = decoder.next()) {
        const s: Sniffed = { dir, type: p.type, at: Date.now() };
        if (p.type === codec.PUBLISH) {
          const v = p as codec.PublishView;
          s.topic = v.topicEnd > v.topicStart ? text(v.topicBytes) : "";
          s.topicAlias = v.topicAlias;
          s.qos = v.qos;
          s.packetId = v.packetId;
          s.payloadLength = v.payloadLength;
        } else if (p.type >= codec.PUBACK && p.type <= codec.PUBCOMP) {
          const a = p as codec.AckView;
          s.packetId = a.packetId;
          s.reasonCode = a.reasonCode ?? 0;
        }
        out.push(s);
      }
    } catch (e) {
      failed = true;
      errors.push(e);
    }
  };
}

async function startSniffer(targetPort: number): Promise<Sniffer> {
  const packets: Sniffed[] = [];
  const errors: unknown[] = [];
  const sockets = new Set<net.Socket>();
  const upstreams = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: HOST, port: targetPort });
    upstreams.add(upstream);
    upstream.once("close", () => upstreams.delete(upstream));
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on("error", () => { client.destroy(); upstream.destroy(); });
      s.on("close", () => { sockets.delete(s); client.destroy(); upstream.destroy(); });
    }
    const up = sniff("up", packets, errors);
    const down = sniff("down", packets, errors);
    client.on("data", (chunk: Buffer) => { up(chunk); upstream.write(chunk); });
    upstream.on("data", (chunk: Buffer) => { down(chunk); client.write(chunk); });
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    packets,
    errors,
    inject(bytes) {
      for (const u of upstreams) u.write(bytes);
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The most QoS 1/2 publishes the client had unacknowledged at once, as the wire between saw it. */
function maxInflight(packets: Sniffed[]): number {
  const open = new Set<number>();
  let max = 0;
  for (const p of packets) {
    if (p.dir === "up" && p.type === codec.PUBLISH && p.qos! > 0) {
      open.add(p.packetId!);
      max = Math.max(max, open.size);
    } else if (p.dir === "down" && (p.type === codec.PUBACK || p.type === codec.PUBCOMP || (p.type === codec.PUBREC && p.reasonCode! >= 0x80))) {
      open.delete(p.packetId!);
    }
  }
  return max;
}

// ---- running an example ------------------------------------------------------------------------

function runExample(name: string, env: Record<string, string>, timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const file = fileURLToPath(new URL(`../../examples/${name}.js`, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`example ${name} did not exit within ${timeoutMs} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, timeoutMs);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

// =================================================================================================

describe("MQTT 5 against mosquitto", { timeout: 180_000 }, () => {
  let main: Broker;
  let limits: Broker;
  const sniffers: Sniffer[] = [];
  const sniffer = async (port: number): Promise<Sniffer> => {
    const s = await startSniffer(port);
    sniffers.push(s);
    return s;
  };

  before(async () => {
    [main, limits] = await Promise.all([
      startMosquitto({ maxInflightMessages: 100, maxQueuedMessages: 1000 }),
      startMosquitto({ maxInflightMessages: 2, maxQueuedMessages: 1000,
        config: ["max_packet_size 1000", "retain_available false", "max_qos 1", "max_keepalive 10", "max_topic_alias 2"].join("\n") }),
    ]);
  });
  after(async () => {
    closeAll();
    await Promise.all(sniffers.map((s) => s.close()));
    await Promise.all([main?.stop(), limits?.stop()]);
  });
  afterEach(closeAll);

  describe("properties", () => {
    test("CONNACK: mosquitto's limits reach onConnect", async () => {
      const { rec } = await online(main.port);
      const p = rec.connects[0]!.props;
      assert.equal(p.receiveMaximum, 100, "max_inflight_messages as Receive Maximum");
      assert.equal(p.topicAliasMaximum, 10, "mosquitto's default max_topic_alias");
      assert.equal(p.maximumQos, undefined, "QoS 2 is available: no Maximum QoS");
      assert.equal(p.retainAvailable, undefined);

      const l = (await online(limits.port, { keepalive: 60 })).rec.connects[0]!.props;
      assert.equal(l.receiveMaximum, 2);
      assert.equal(l.maximumPacketSize, 1000);
      assert.equal(l.retainAvailable, 0);
      assert.equal(l.maximumQos, 1);
      assert.equal(l.serverKeepAlive, 10, "max_keepalive 10 overrides our 60 s (Server Keep Alive)");
      assert.equal(l.topicAliasMaximum, 2);
    });

    test("PUBLISH properties travel end to end at QoS 0, 1 and 2; user properties keep order and repeats", async () => {
      const t = root("props");
      const sub = await online(main.port);
      await subscribed(sub.client, sub.rec, `${t}/#`, 2);
      const pub = await online(main.port);
      const userProperties: Array<[string, string]> = [["b", "1"], ["a", "2"], ["b", "3"], ["b", "1"], ["", ""], ["ключ", "значение ✓"]];
      const sent: Properties = {
        payloadFormatIndicator: 1, messageExpiryInterval: 3600, contentType: "application/json; charset=utf-8",
        responseTopic: `${t}/reply`, correlationData: new Uint8Array([0, 1, 2, 255]), userProperties,
      };
      for (const qos of [0, 1, 2] as const) await published(pub.client, pub.rec, `${t}/q${qos}`, `{"q":${qos}}`, qos, false, sent);
      await until(() => sub.rec.messages.length === 3, 3000, "three messages");
      for (const [i, m] of sub.rec.messages.entries()) {
        assert.equal(m.topic, `${t}/q${i}`);
        assert.equal(m.qos, i);
        const p = m.properties!;
        assert.deepEqual(p.userProperties, userProperties, "order, repeats, empty and non-ASCII strings kept");
        assert.equal(p.payloadFormatIndicator, 1);
        assert.equal(p.contentType, "application/json; charset=utf-8");
        assert.equal(p.responseTopic, `${t}/reply`);
        assert.deepEqual(p.correlationData, new Uint8Array([0, 1, 2, 255]));
        assert.ok(p.messageExpiryInterval! <= 3600 && p.messageExpiryInterval! >= 3590, `expiry forwarded (${p.messageExpiryInterval})`);
        assert.equal(p.subscriptionIdentifier, undefined, "no identifier was asked for");
        assert.equal(p.topicAlias, undefined);
      }
    });

    test("will properties reach the will's subscriber; DISCONNECT 0x04 (with will) sends it", async () => {
      const t = root("will-props");
      const watcher = await online(main.port);
      await subscribed(watcher.client, watcher.rec, `${t}/#`, 1);
      const willProps: Properties = { contentType: "text/plain", responseTopic: `${t}/answer`, correlationData: bytes("cd"),
        payloadFormatIndicator: 1, messageExpiryInterval: 600, userProperties: [["w", "1"], ["w", "2"], ["v", "0"]] };
      const { client, rec } = await online(main.port, { setup: (c) => c.willSet(`${t}/will`, "gone", 1, false, willProps) });
      await offline(client, rec, 0x04, { reasonString: "leaving with my will", userProperties: [["why", "test"]] });
      await until(() => watcher.rec.messages.length === 1, 3000, "the will");
      const w = watcher.rec.messages[0]!;
      assert.equal(w.topic, `${t}/will`);
      assert.equal(w.text, "gone");
      assert.equal(w.properties?.contentType, "text/plain");
      assert.equal(w.properties?.responseTopic, `${t}/answer`);
      assert.deepEqual(w.properties?.correlationData, bytes("cd"));
      assert.equal(w.properties?.payloadFormatIndicator, 1);
      assert.deepEqual(w.properties?.userProperties, [["w", "1"], ["w", "2"], ["v", "0"]]);
    });

    test("a plain disconnect() (0x00) sends no will", async () => {
      const t = root("no-will");
      const watcher = await online(main.port);
      await subscribed(watcher.client, watcher.rec, `${t}/#`, 1);
      const { client, rec } = await online(main.port, { setup: (c) => c.willSet(`${t}/will`, "gone", 1) });
      await offline(client, rec);
      await sleep(300);
      assert.deepEqual(watcher.rec.messages, []);
    });

    test("SUBSCRIBE/UNSUBSCRIBE carry user properties; SUBACK/UNSUBACK reason codes per filter reach the callbacks", async () => {
      const t = root("sub-props");
      const { client, rec } = await online(limits.port);
      const s = await subscribed(client, rec, [[`${t}/a`, 0], [`${t}/b`, 1], [`${t}/c`, 2]], 0, undefined, { userProperties: [["s", "1"], ["s", "2"]] });
      assert.deepEqual(s.rcs, [0, 1, 1], "max_qos 1: QoS 2 is granted as 1");
      const u = await unsubscribed(client, rec, [`${t}/a`, `${t}/never`], { userProperties: [["u", "1"]] });
      assert.deepEqual(u.rcs, [0x00, 0x11], "Success, No subscription existed");
      assert.ok(client.isConnected());
    });

    test("PUBACK reason codes reach onPublish: 0x10 No matching subscribers, then 0x00", async () => {
      const t = root("puback-rc");
      const { client, rec } = await online(main.port);
      const nobody = await published(client, rec, `${t}/nobody`, "x", 1);
      const nobody2 = await published(client, rec, `${t}/nobody`, "x", 2);
      await subscribed(client, rec, `${t}/#`, 1);
      const somebody = await published(client, rec, `${t}/somebody`, "x", 1);
      // mosquitto 2.0 answers 0x10 when nobody is subscribed; 0x00 is also a valid broker choice.
      assert.ok(nobody.rc === 0x10 || nobody.rc === 0, `PUBACK reason 0x${nobody.rc.toString(16)}`);
      assert.ok(nobody2.rc === 0x10 || nobody2.rc === 0, `PUBREC reason 0x${nobody2.rc.toString(16)} (QoS 2 completes)`);
      assert.equal(somebody.rc, 0);
    });
  });

  describe("subscriptions", () => {
    test("noLocal: our own messages do not come back, others' do", async () => {
      const t = root("nolocal");
      const a = await online(main.port);
      const b = await online(main.port);
      await subscribed(a.client, a.rec, `${t}/x`, 1, { noLocal: true });
      await subscribed(b.client, b.rec, `${t}/x`, 1, { noLocal: false });
      await published(a.client, a.rec, `${t}/x`, "from a", 1);
      await published(b.client, b.rec, `${t}/x`, "from b", 1);
      await until(() => a.rec.messages.length >= 1 && b.rec.messages.length >= 2, 3000, "deliveries");
      await sleep(200);
      assert.deepEqual(a.rec.texts(t), ["from b"], "noLocal");
      assert.deepEqual(b.rec.texts(t).sort(), ["from a", "from b"], "without noLocal our own message comes back");
    });

    test("retainAsPublished: the retain flag of a forwarded message is kept only when asked", async () => {
      const t = root("rap");
      const keep = await online(main.port);
      const clear = await online(main.port);
      await subscribed(keep.client, keep.rec, `${t}/x`, 1, { retainAsPublished: true });
      await subscribed(clear.client, clear.rec, `${t}/x`, 1, { retainAsPublished: false });
      const pub = await online(main.port);
      await published(pub.client, pub.rec, `${t}/x`, "retained", 1, true);
      await published(pub.client, pub.rec, `${t}/x`, "plain", 1, false);
      await until(() => keep.rec.messages.length === 2 && clear.rec.messages.length === 2, 3000, "deliveries");
      assert.deepEqual(keep.rec.messages.map((m) => [m.text, m.retain]), [["retained", true], ["plain", false]]);
      assert.deepEqual(clear.rec.messages.map((m) => [m.text, m.retain]), [["retained", false], ["plain", false]]);
      await published(pub.client, pub.rec, `${t}/x`, null, 1, true); // clear the retained message
    });

    test("retainHandling: 0 sends retained on every subscribe, 1 only on a new subscription, 2 never", async () => {
      const t = root("rh");
      const pub = await online(main.port);
      await published(pub.client, pub.rec, `${t}/x`, "kept", 1, true);
      try {
        const counts: number[][] = [];
        for (const rh of [0, 1, 2] as const) {
          const { client, rec } = await online(main.port);
          await subscribed(client, rec, `${t}/x`, 1, { retainHandling: rh });
          const first = await settled(() => rec.messages.length, 1, 300, 2000);
          await subscribed(client, rec, `${t}/x`, 1, { retainHandling: rh }); // the same subscription again
          const second = await settled(() => rec.messages.length, first + 1, 300, 2000);
          counts.push([first, second - first]);
          assert.ok(rec.messages.every((m) => m.retain && m.text === "kept"));
        }
        assert.deepEqual(counts, [[1, 1], [1, 0], [0, 0]], "[on the new subscription, on the repeated one] for rh 0, 1, 2");
      } finally {
        await published(pub.client, pub.rec, `${t}/x`, null, 1, true);
      }
    });

    test("subscription identifiers come back on the received message's properties", async () => {
      const t = root("subid");
      const { client, rec } = await online(main.port);
      await subscribed(client, rec, `${t}/+`, 1, undefined, { subscriptionIdentifier: 5 });
      await subscribed(client, rec, `${t}/#`, 1, undefined, { subscriptionIdentifier: 268435455 });
      await subscribed(client, rec, `${t}/plain/only`, 1); // no identifier
      const pub = await online(main.port);
      await published(pub.client, pub.rec, `${t}/deep/er`, "one match", 1);
      await until(() => rec.messages.length === 1, 3000, "the message matching one subscription");
      assert.equal(rec.messages[0]!.properties?.subscriptionIdentifier, 268435455, "the largest identifier there is");

      await published(pub.client, pub.rec, `${t}/x`, "two matches", 1);
      const n = await settled(() => rec.messages.length, 3, 300, 3000);
      // Overlapping subscriptions: one copy with both identifiers, or one copy per subscription, each with its own.
      const ids = rec.messages.slice(1, n).flatMap((m) => {
        const id = m.properties?.subscriptionIdentifier;
        return Array.isArray(id) ? id : id === undefined ? [] : [id];
      });
      assert.deepEqual(ids.sort((a, b) => a - b), [5, 268435455], `identifiers on the copies of "${t}/x"`);

      await published(pub.client, pub.rec, `${t}/plain/only`, "no id", 1);
      await until(() => rec.messages.some((m) => m.text === "no id"), 3000, "the message without identifier");
      const noId = rec.messages.filter((m) => m.text === "no id");
      // It also matches "#" (id 268435455); the copy for the plain subscription, if separate, carries none.
      assert.ok(noId.length >= 1);
      for (const m of noId) {
        const id = m.properties?.subscriptionIdentifier;
        assert.ok(id === undefined || id === 268435455 || (Array.isArray(id) && id.includes(268435455)), `unexpected ${JSON.stringify(id)}`);
      }
    });

    test("shared subscriptions: two subscribers in a group share the messages; messageCallbackAdd routes $share filters", async () => {
      const t = root("shared");
      const filter = `$share/grp/${t}/+`;
      assert.equal(topicMatchesSub(filter, `${t}/x`), true);
      assert.equal(topicMatchesSub(filter, `${t}/x/y`), false);
      assert.equal(topicMatchesSub(`$share/grp/${t}/#`, `${t}/x/y`), true);
      const members = await Promise.all([online(main.port), online(main.port)]);
      for (const m of members) {
        m.client.messageCallbackAdd(filter, (_c, _u, msg) => m.rec.messages.push(got(msg, filter)));
        const s = await subscribed(m.client, m.rec, filter, 1);
        assert.deepEqual(s.rcs, [1]);
      }
      const pub = await online(main.port);
      const N = 20;
      for (let i = 0; i < N; i++) await published(pub.client, pub.rec, `${t}/x`, `m${i}`, 1);
      const total = (): number => members[0]!.rec.messages.length + members[1]!.rec.messages.length;
      await settled(total, N, 500, 5000);
      await sleep(200);
      const all = [...members[0]!.rec.messages, ...members[1]!.rec.messages];
      assert.equal(all.length, N, "each message to exactly one member");
      assert.deepEqual(all.map((m) => m.text).sort(), Array.from({ length: N }, (_, i) => `m${i}`).sort());
      for (const m of members) {
        assert.ok(m.rec.messages.length > 0, "both members get a share");
        assert.ok(m.rec.messages.every((g) => g.via === filter), "routed to the $share filter's callback, not onMessage");
      }
    });
  });

  describe("sessions and expiry", () => {
    test("Session Expiry Interval 0: the session is gone on reconnect", async () => {
      const t = root("se0");
      const id = uid("se0");
      const { client, rec } = await online(main.port, { clientId: id, cleanStart: false });
      await subscribed(client, rec, `${t}/x`, 1);
      await offline(client, rec);
      const pub = await online(main.port);
      await published(pub.client, pub.rec, `${t}/x`, "while away", 1);
      const c = await again(client, rec, main.port, false);
      assert.equal(c.flags.sessionPresent, false);
      await sleep(300);
      assert.deepEqual(rec.texts(t), [], "no subscription survived");
    });

    test("Session Expiry Interval > 0: the session, its subscription and a queued message are kept", async () => {
      const t = root("se60");
      const id = uid("se60");
      const { client, rec } = await online(main.port, { clientId: id, cleanStart: true, connectProperties: { sessionExpiryInterval: 60 } });
      assert.equal(rec.connects[0]!.flags.sessionPresent, false);
      await subscribed(client, rec, `${t}/x`, 1);
      await offline(client, rec);
      const pub = await online(main.port);
      await published(pub.client, pub.rec, `${t}/x`, "queued while away", 1);
      const c = await again(client, rec, main.port, false, { sessionExpiryInterval: 60 });
      assert.equal(c.flags.sessionPresent, true);
      await until(() => rec.texts(t).length === 1, 3000, "the queued message");
      assert.deepEqual(rec.texts(t), ["queued while away"]);

      // DISCONNECT with Session Expiry Interval 0 ends the session at once.
      await offline(client, rec, 0, { sessionExpiryInterval: 0 });
      const d = await again(client, rec, main.port, false, { sessionExpiryInterval: 60 });
      assert.equal(d.flags.sessionPresent, false, "DISCONNECT's Session Expiry Interval 0 ended it");
    });

    test("Session Expiry Interval 1: the session expires while away", async () => {
      const id = uid("se1");
      const { client, rec } = await online(main.port, { clientId: id, connectProperties: { sessionExpiryInterval: 1 } });
      await subscribed(client, rec, `${root("se1")}/x`, 1);
      await offline(client, rec);
      await sleep(2500);
      const c = await again(client, rec, main.port, false, { sessionExpiryInterval: 60 });
      assert.equal(c.flags.sessionPresent, false);
    });

    test("Message Expiry Interval: an expired queued message is not delivered; the rest comes with its remaining lifetime", async () => {
      const t = root("mexp");
      const id = uid("mexp");
      const { client, rec } = await online(main.port, { clientId: id, connectProperties: { sessionExpiryInterval: 60 } });
      await subscribed(client, rec, `${t}/x`, 1);
      await offline(client, rec);
      const pub = await online(main.port);
      await published(pub.client, pub.rec, `${t}/x`, "expires in 1 s", 1, false, { messageExpiryInterval: 1 });
      await published(pub.client, pub.rec, `${t}/x`, "expires in 60 s", 1, false, { messageExpiryInterval: 60 });
      await published(pub.client, pub.rec, `${t}/x`, "never expires", 1);
      await sleep(2200);
      const c = await again(client, rec, main.port, false, { sessionExpiryInterval: 60 });
      assert.equal(c.flags.sessionPresent, true);
      await settled(() => rec.texts(t).length, 2, 500, 3000);
      await sleep(200);
      assert.deepEqual(rec.texts(t), ["expires in 60 s", "never expires"]);
      const left = rec.messages.find((m) => m.text === "expires in 60 s")!.properties?.messageExpiryInterval;
      assert.ok(left !== undefined && left < 60 && left >= 55, `remaining lifetime forwarded (${left})`);
      assert.equal(rec.messages.find((m) => m.text === "never expires")!.properties?.messageExpiryInterval, undefined);
    });

    test("Will Delay Interval: the will arrives after the delay", async () => {
      const t = root("wd");
      const watcher = await online(main.port);
      await subscribed(watcher.client, watcher.rec, `${t}/#`, 1);
      const { client } = await online(main.port, {
        connectProperties: { sessionExpiryInterval: 30 },
        setup: (c) => c.willSet(`${t}/will`, "delayed will", 1, false, { willDelayInterval: 2 }),
      });
      client.loopStop();
      const lostAt = Date.now();
      (client.socket() as net.Socket).destroy(); // an abnormal end: no DISCONNECT
      live.delete(client);
      await until(() => watcher.rec.messages.length === 1, 6000, "the delayed will");
      const after = watcher.rec.messages[0]!.at - lostAt;
      assert.equal(watcher.rec.messages[0]!.text, "delayed will");
      assert.ok(after >= 1500, `the will came ${after} ms after the connection was lost; the delay is 2 s`);
    });

    test("Will Delay Interval: no will when the client reconnects within the delay", async () => {
      const t = root("wd-back");
      const id = uid("wd-back");
      const watcher = await online(main.port);
      await subscribed(watcher.client, watcher.rec, `${t}/#`, 1);
      const { client, rec } = await online(main.port, {
        clientId: id,
        connectProperties: { sessionExpiryInterval: 30 },
        setup: (c) => c.willSet(`${t}/will`, "must not arrive", 1, false, { willDelayInterval: 3 }),
      });
      client.loopStop();
      (client.socket() as net.Socket).destroy();
      await sleep(500);
      const c = await again(client, rec, main.port, false, { sessionExpiryInterval: 30 });
      assert.equal(c.flags.sessionPresent, true);
      await sleep(3500);
      assert.deepEqual(watcher.rec.messages, [], "the reconnection cancelled the delayed will");
      client.willClear();
    });
  });

  describe("topic aliases", () => {
    test("ours: the topic goes once, then the alias alone; mosquitto delivers the full topic every time", async () => {
      const t = root("alias");
      const sub = await online(main.port);
      await subscribed(sub.client, sub.rec, `${t}/#`, 0);
      const s = await sniffer(main.port);
      const { client, rec } = await online(s.port, { setup: (c) => c.outgoingTopicAliasesSet(true) });
      const topics = [`${t}/a`, `${t}/a`, `${t}/b`, `${t}/a`, `${t}/b`, `${t}/b`];
      for (const [i, topic] of topics.entries()) await published(client, rec, topic, `p${i}`, 0);
      await published(client, rec, `${t}/a`, "qos1", 1); // QoS 1: no alias, by design
      await until(() => sub.rec.messages.length === topics.length + 1, 3000, "every message at the subscriber");
      assert.deepEqual(sub.rec.messages.map((m) => [m.topic, m.text]), [...topics.map((topic, i) => [topic, `p${i}`]), [`${t}/a`, "qos1"]]);
      const wire = s.packets.filter((p) => p.dir === "up" && p.type === codec.PUBLISH).map((p) => [p.topic, p.topicAlias]);
      assert.deepEqual(wire, [[`${t}/a`, 1], ["", 1], [`${t}/b`, 2], ["", 1], ["", 2], ["", 2], [`${t}/a`, 0]]);
      assert.ok(client.isConnected());
      assert.deepEqual(s.errors, []);
    });

    test("ours: no more aliases than mosquitto's Topic Alias Maximum (max_topic_alias 2); the rest go with their topic", async () => {
      const t = root("alias-max");
      const sub = await online(limits.port);
      await subscribed(sub.client, sub.rec, `${t}/#`, 0);
      const s = await sniffer(limits.port);
      const { client, rec } = await online(s.port, { setup: (c) => c.outgoingTopicAliasesSet(true) });
      const topics = [`${t}/a`, `${t}/b`, `${t}/c`, `${t}/a`, `${t}/b`, `${t}/c`];
      for (const [i, topic] of topics.entries()) await published(client, rec, topic, `p${i}`, 0);
      await until(() => sub.rec.messages.length === topics.length, 3000, "every message");
      assert.deepEqual(sub.rec.messages.map((m) => m.topic), topics);
      const wire = s.packets.filter((p) => p.dir === "up" && p.type === codec.PUBLISH).map((p) => [p.topic, p.topicAlias]);
      assert.deepEqual(wire, [[`${t}/a`, 1], [`${t}/b`, 2], [`${t}/c`, 0], ["", 1], ["", 2], [`${t}/c`, 0]]);
      assert.ok(client.isConnected());
    });

    test("mosquitto's toward us: whatever aliases it sends (if any) resolve to the full topic", async (ctx) => {
      const t = root("alias-in");
      const s = await sniffer(main.port);
      const { client, rec } = await online(s.port);
      await subscribed(client, rec, `${t}/#`, 1);
      const pub = await online(main.port);
      const topics = [`${t}/a`, `${t}/b`, `${t}/a`, `${t}/a`, `${t}/b`];
      for (const [i, topic] of topics.entries()) await published(pub.client, pub.rec, topic, `p${i}`, i % 2 === 0 ? 0 : 1);
      await until(() => rec.messages.length === topics.length, 3000, "every message");
      assert.deepEqual(rec.messages.map((m) => [m.topic, m.text]), topics.map((topic, i) => [topic, `p${i}`]));
      const down = s.packets.filter((p) => p.dir === "down" && p.type === codec.PUBLISH);
      assert.equal(down.length, topics.length);
      // mosquitto 2.0 sends no aliases to clients; if a later one does, each must have resolved above.
      const aliased = down.filter((p) => p.topicAlias !== 0).length;
      ctx.diagnostic(`mosquitto sent ${aliased} of ${down.length} publishes with a topic alias`);
      assert.ok(client.isConnected());
    });
  });

  describe("flow control and limits", () => {
    test("Receive Maximum 2 (max_inflight_messages 2): never more than 2 QoS 1/2 publishes unacknowledged on the wire", async () => {
      const t = root("rm");
      const sub = await online(limits.port);
      await subscribed(sub.client, sub.rec, `${t}/#`, 1);
      const s = await sniffer(limits.port);
      const { client, rec } = await online(s.port);
      assert.equal(rec.connects[0]!.props.receiveMaximum, 2);
      // Our own window (maxInflightMessagesSet) is the default 20: the broker's 2 is what limits.
      const infos = Array.from({ length: 20 }, (_, i) => client.publish(`${t}/q1`, `q1-${i}`, 1));
      for (const info of infos) assert.equal(info.rc, MQTT_ERR_SUCCESS);
      await within(Promise.all(infos.map((i) => i.waitForPublish())), 10_000, "20 publishes");
      await until(() => rec.published.length === 20, 3000, "20 onPublish");
      const sent = s.packets.filter((p) => p.dir === "up" && p.type === codec.PUBLISH);
      assert.equal(sent.length, 20, "each sent once");
      assert.equal(maxInflight(s.packets), 2, "the window is used, and never exceeded");
      await until(() => sub.rec.messages.length === 20, 5000, "20 at the subscriber");
      assert.deepEqual(sub.rec.texts(`${t}/q1`), Array.from({ length: 20 }, (_, i) => `q1-${i}`), "in order");
      assert.deepEqual(rec.disconnects, []);
    });

    test("our own in-flight window (maxInflightMessagesSet 3) counts QoS 2 until PUBCOMP", async () => {
      const t = root("rm2");
      // main grants QoS 2 (limits does not) and has Receive Maximum 100: our window of 3 is what limits.
      const s = await sniffer(main.port);
      const { client, rec } = await online(s.port, { setup: (c) => c.maxInflightMessagesSet(3) });
      const infos = Array.from({ length: 15 }, (_, i) => client.publish(`${t}/q2`, `q2-${i}`, 2));
      await within(Promise.all(infos.map((i) => i.waitForPublish())), 10_000, "15 QoS 2 publishes");
      await until(() => rec.published.length === 15, 3000, "15 onPublish");
      assert.equal(maxInflight(s.packets), 3);
    });

    test("Maximum Packet Size 1000: an oversize publish fails with MQTT_ERR_PAYLOAD_SIZE, nothing is sent, the connection stays", async () => {
      const t = root("mps");
      const sub = await online(limits.port);
      await subscribed(sub.client, sub.rec, `${t}/#`, 1);
      const s = await sniffer(limits.port);
      const { client, rec } = await online(s.port);
      assert.equal(rec.connects[0]!.props.maximumPacketSize, 1000);
      const topic = `${t}/x`;
      // PUBLISH = 1 + Remaining Length (2 bytes here) + 2 + topic + (QoS > 0: 2) + 1 (no properties) + payload.
      const fits = (qos: number): number => 1000 - (1 + 2 + 2 + Buffer.byteLength(topic) + (qos > 0 ? 2 : 0) + 1);
      for (const qos of [0, 1] as const) {
        const big = client.publish(topic, new Uint8Array(fits(qos) + 1), qos);
        assert.equal(big.rc, MQTT_ERR_PAYLOAD_SIZE, `QoS ${qos}: one byte over`);
        const huge = client.publish(topic, new Uint8Array(5000), qos);
        assert.equal(huge.rc, MQTT_ERR_PAYLOAD_SIZE, `QoS ${qos}: far over`);
        await assert.rejects(huge.waitForPublish(), /not queued/);
      }
      await sleep(200);
      assert.ok(client.isConnected(), "still connected");
      assert.equal(s.packets.filter((p) => p.dir === "up" && p.type === codec.PUBLISH).length, 0, "nothing was sent, not even cut");
      for (const qos of [0, 1] as const) await published(client, rec, topic, new Uint8Array(fits(qos)).fill(0x61), qos);
      const up = s.packets.filter((p) => p.dir === "up" && p.type === codec.PUBLISH);
      assert.deepEqual(up.map((p) => p.payloadLength), [fits(0), fits(1)]);
      await until(() => sub.rec.messages.length === 2, 3000, "the two that fit, at the subscriber");
      assert.deepEqual(sub.rec.messages.map((m) => m.text.length), [fits(0), fits(1)]);
      assert.ok(client.isConnected());
      assert.deepEqual(rec.disconnects, []);
    });

    test("Maximum Packet Size 1000: a QoS 1 message queued before the CONNACK does not get us disconnected (0x95) again and again", async () => {
      const t = root("mps-queued");
      const client = new Client({ clientId: uid("c"), protocol: MQTTv5 });
      const rec = watch(client);
      live.add(client);
      client.reconnectDelaySet(0.2, 0.2);
      assert.equal(await within(client.connect(HOST, limits.port, 30), 3000, "connect()"), MQTT_ERR_SUCCESS);
      // CONNECT is written; the CONNACK (maximumPacketSize 1000) is not handled before loopStart().
      assert.equal(client.publish(`${t}/x`, new Uint8Array(2000), 1).rc, MQTT_ERR_NO_CONN, "not connected yet (as Paho says), queued: the limit is not known yet");
      client.loopStart();
      await until(() => rec.connects.length > 0, 3000, "onConnect");
      await sleep(1000);
      assert.deepEqual(rec.disconnects.map((d) => d.rc), [], `no disconnection\n${rec.logText()}`);
      assert.ok(rec.published.length === 1 && rec.published[0]!.rc >= 0x80, `the publish fails with a clear reason: ${JSON.stringify(rec.published)}`);
    });

    test("Retain Available 0 and Maximum QoS 1: such publishes fail with MQTT_ERR_NOT_SUPPORTED, the connection stays", async () => {
      const t = root("caps");
      const { client, rec } = await online(limits.port);
      const retained = client.publish(`${t}/x`, "r", 0, true);
      assert.equal(retained.rc, MQTT_ERR_NOT_SUPPORTED);
      const qos2 = client.publish(`${t}/x`, "q2", 2);
      assert.equal(qos2.rc, MQTT_ERR_NOT_SUPPORTED);
      await sleep(200);
      assert.ok(client.isConnected());
      await published(client, rec, `${t}/x`, "q1", 1);
      await published(client, rec, `${t}/x`, "q0", 0);
      assert.deepEqual(rec.disconnects, []);
    });

    test("Assigned Client Identifier: adopted, and it names the session on the next connection", async () => {
      const { client, rec } = await online(main.port, { clientId: "", cleanStart: true, connectProperties: { sessionExpiryInterval: 60 } });
      const assigned = rec.connects[0]!.props.assignedClientIdentifier;
      assert.ok(typeof assigned === "string" && assigned.length > 0, "mosquitto assigned an id");
      await offline(client, rec);
      const c = await again(client, rec, main.port, false, { sessionExpiryInterval: 60 });
      assert.equal(c.flags.sessionPresent, true, "the session of the assigned id was resumed");
      assert.equal(c.props.assignedClientIdentifier, undefined, "no new id: we sent the assigned one");
      await offline(client, rec, 0, { sessionExpiryInterval: 0 });
    });

    test("a broker's DISCONNECT reaches onDisconnect with its reason code (mosquitto's 0x94 for a forged alias above its maximum)", async () => {
      const s = await sniffer(limits.port);
      const { client, rec } = await online(s.port);
      // What mosquitto does to a client that breaks its Topic Alias Maximum (2): the proxy forges one.
      const encoder = new codec.Encoder();
      encoder.version = 5;
      s.inject(encoder.encode({ type: codec.PUBLISH, topic: "forged", payload: bytes("x"), qos: 0, retain: false, dup: false, packetId: 0,
        properties: { topicAlias: 3 } }));
      await until(() => rec.disconnects.length > 0, 3000, "onDisconnect");
      client.disconnect(); // no reconnecting
      const d = rec.disconnects[0]!;
      const wire = s.packets.filter((p) => p.dir === "down").map((p) => `${codec.PACKET_NAMES[p.type]}`);
      assert.deepEqual(wire.slice(-1), ["DISCONNECT"], "mosquitto sent DISCONNECT");
      assert.equal(d.rc, 0x94, `${rec.logText()}`);
      assert.equal(d.flags.isDisconnectPacketFromServer, true);
    });
  });

  test("examples/request-response.ts: a responder and a requester, matched by Correlation Data, exits by itself", async () => {
    const run = await runExample("request-response", { MQTT_HOST: main.host, MQTT_PORT: String(main.port) });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "request 1: 1 + 10 = 11\nrequest 2: 2 + 20 = 22\nrequest 3: 3 + 30 = 33\n");
    assert.equal(run.stderr, "");
  });
});
