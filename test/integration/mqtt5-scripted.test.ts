/**
 * MQTT 5 against a scripted broker (test/support/scripted-broker.ts, on our own codec): what mosquitto
 * cannot be made to do, and what is best seen on the wire. Every property the client sends (CONNECT and
 * will, PUBLISH, SUBSCRIBE with its options, UNSUBSCRIBE, DISCONNECT) and every one it is sent (CONNACK,
 * PUBACK/PUBREC/PUBCOMP reason codes and strings, SUBACK, UNSUBACK, DISCONNECT, AUTH); enhanced
 * authentication (a two-step challenge, re-authentication, the failures); server redirection on CONNACK
 * 0x9C and DISCONNECT 0x9D; topic aliases both ways (a bad incoming alias is DISCONNECT 0x94); our
 * Maximum Packet Size (0x95) and Receive Maximum (0x93) enforced; the broker's Receive Maximum, Maximum
 * Packet Size, Maximum QoS, Retain Available, Topic Alias Maximum, Server Keep Alive and Assigned Client
 * Identifier honoured.
 *
 * Every wait is bounded; every client is disconnected after its test; every broker is closed in after().
 */
import { after, afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  Client, type ClientOptions, type ConnectFlags, type DisconnectFlags, type MQTTMessage, MQTTv311, MQTTv5,
  MQTT_ERR_INVAL, MQTT_ERR_NOT_SUPPORTED, MQTT_ERR_PAYLOAD_SIZE, MQTT_ERR_NO_CONN, MQTT_ERR_SUCCESS, type Properties, codec, topicMatchesSub,
} from "../../hosts/node/index.js";
import { type ReceivedPacket, type ScriptedBroker, type ScriptedConnection, startScriptedBroker } from "../support/scripted-broker.js";
import { sleep, until } from "../support/wait.js";
import { owned } from "../support/clients.js";

const { AUTH, CONNACK, CONNECT, DISCONNECT, PINGREQ, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE } = codec;
type Packet = codec.Packet;
type Authenticator = NonNullable<Parameters<Client["authenticatorSet"]>[0]>;

const HOST = "127.0.0.1";

const text = (b: Uint8Array | undefined): string => (b === undefined ? "<none>" : Buffer.from(b).toString("utf8"));
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "utf8"));

// ---- the scripted broker ------------------------------------------------------------------------

interface Seen { conn: number; at: number; p: ReceivedPacket }

interface Ctx {
  conn: ScriptedConnection;
  /** 0 for the broker's first connection, 1 for the next... */
  n: number;
  /** The client's next packet (recorded in seen), null once it closed. */
  next(ms?: number): Promise<ReceivedPacket | null>;
  send(p: Packet): Promise<void>;
}

interface ServeOptions {
  /** The CONNACK for a CONNECT (default: accepted, no session, no properties); null: none. May talk first (AUTH). */
  connack?: (connect: ReceivedPacket & { type: typeof CONNECT }, ctx: Ctx) => Packet | null | Promise<Packet | null>;
  /** Runs once the CONNACK is sent, beside the reading loop. */
  after?: (ctx: Ctx) => void | Promise<void>;
  /** Every packet after CONNECT; return true when it was answered here (no default answer). */
  on?: (p: ReceivedPacket, ctx: Ctx) => boolean | void | Promise<boolean | void>;
}

interface Scripted {
  broker: ScriptedBroker;
  port: number;
  seen: Seen[];
  /** The packets of one type the client sent, in order (on connection n only, when given). */
  of<T extends number>(type: T, n?: number): Array<Extract<ReceivedPacket, { type: T }>>;
}

const brokers: ScriptedBroker[] = [];

/** A broker that answers what the test does not script: PINGREQ, acks, SUBSCRIBE/UNSUBSCRIBE. */
async function scripted(o: ServeOptions = {}): Promise<Scripted> {
  const seen: Seen[] = [];
  const broker = await startScriptedBroker(async (conn) => {
    const n = broker.connections.indexOf(conn);
    const ctx: Ctx = {
      conn,
      n,
      async next(ms = 30_000) {
        const p = await conn.next(ms);
        if (p !== null) seen.push({ conn: n, at: Date.now(), p });
        return p;
      },
      send: (p) => conn.send(p),
    };
    const connect = await ctx.next(5000);
    if (connect === null) return;
    if (connect.type !== CONNECT) throw new Error(`expected CONNECT, got ${JSON.stringify(connect)}`);
    const connack = o.connack === undefined ? { type: CONNACK, sessionPresent: false, reasonCode: 0 } as Packet
      : await o.connack(connect as ReceivedPacket & { type: typeof CONNECT }, ctx);
    if (connack === null) return;
    await ctx.send(connack);
    if ((connack as { reasonCode: number }).reasonCode >= 0x80) {
      conn.end();
      return;
    }
    if (o.after !== undefined) Promise.resolve(o.after(ctx)).catch((e: unknown) => broker.errors.push(e));
    for (;;) {
      const p = await ctx.next();
      if (p === null) return;
      if (o.on !== undefined && (await o.on(p, ctx)) === true) continue;
      switch (p.type) {
        case PINGREQ: await ctx.send({ type: PINGRESP }); break;
        case PUBLISH:
          if (p.qos === 1) await ctx.send({ type: PUBACK, packetId: p.packetId, reasonCode: 0 });
          if (p.qos === 2) await ctx.send({ type: PUBREC, packetId: p.packetId, reasonCode: 0 });
          break;
        case PUBREL: await ctx.send({ type: PUBCOMP, packetId: p.packetId, reasonCode: 0 }); break;
        case SUBSCRIBE: await ctx.send({ type: SUBACK, packetId: p.packetId, reasonCodes: p.subscriptions.map((s) => s.qos) }); break;
        case UNSUBSCRIBE: await ctx.send({ type: UNSUBACK, packetId: p.packetId, reasonCodes: p.topicFilters.map(() => 0) }); break;
        case DISCONNECT: conn.end(); return;
      }
    }
  });
  brokers.push(broker);
  return {
    broker,
    port: broker.port,
    seen,
    of<T extends number>(type: T, n?: number) {
      return seen.filter((s) => s.p.type === type && (n === undefined || s.conn === n)).map((s) => s.p) as Array<Extract<ReceivedPacket, { type: T }>>;
    },
  };
}

const acceptWith = (properties: Properties, sessionPresent = false): ServeOptions["connack"] =>
  () => ({ type: CONNACK, sessionPresent, reasonCode: 0, properties });

const publishPacket = (topic: string, payload: string | Uint8Array, qos: 0 | 1 | 2 = 0, packetId = 0, properties?: Properties): Packet =>
  ({ type: PUBLISH, topic, payload: typeof payload === "string" ? bytes(payload) : payload, qos, retain: false, dup: false, packetId, properties });

// ---- recording clients -------------------------------------------------------------------------

interface Got { topic: string; text: string; qos: number; properties: Properties | undefined; via: string }

class Rec {
  connects: Array<{ flags: ConnectFlags; rc: number; props: Properties; at: number }> = [];
  connectFails = 0;
  disconnects: Array<{ flags: DisconnectFlags; rc: number; props: Properties; at: number }> = [];
  messages: Got[] = [];
  published: Array<{ mid: number; rc: number; props: Properties }> = [];
  subscribed: Array<{ mid: number; rcs: number[]; props: Properties }> = [];
  unsubscribed: Array<{ mid: number; rcs: number[]; props: Properties }> = [];
  logs: string[] = [];
  logText(): string {
    return this.logs.join("\n");
  }
}

const live = new Set<Client>();

afterEach(() => {
  for (const c of live) {
    try {
      c.disconnect();
      c.loopStop();
    } catch {
      // Already down.
    }
  }
  live.clear();
});

after(async () => {
  await Promise.all(brokers.map((b) => b.close()));
});

let ids = 0;

function recorded(options: ClientOptions = {}): { client: Client; rec: Rec } {
  const client = new Client({ protocol: MQTTv5, clientId: `s${++ids}`, ...options });
  const rec = new Rec();
  client.onConnect = (_c, _u, flags, rc, props) => rec.connects.push({ flags, rc, props: owned(props), at: Date.now() });
  client.onConnectFail = () => rec.connectFails++;
  client.onDisconnect = (_c, _u, flags, rc, props) => rec.disconnects.push({ flags, rc, props: owned(props), at: Date.now() });
  client.onMessage = (_c, _u, m: MQTTMessage) => rec.messages.push({ topic: m.topic, text: text(m.payload), qos: m.qos, properties: owned(m.properties), via: "" });
  client.onPublish = (_c, _u, mid, rc, props) => rec.published.push({ mid, rc, props: owned(props) });
  client.onSubscribe = (_c, _u, mid, rcs, props) => rec.subscribed.push({ mid, rcs: [...rcs], props: owned(props) });
  client.onUnsubscribe = (_c, _u, mid, rcs, props) => rec.unsubscribed.push({ mid, rcs: [...rcs], props: owned(props) });
  client.onLog = (_c, _u, level, buf) => rec.logs.push(`[${level}] ${buf}`);
  live.add(client);
  return { client, rec };
}

interface GoOptions {
  keepalive?: number;
  cleanStart?: boolean;
  properties?: Properties;
  /** Wait for onConnect (default true). */
  wait?: boolean;
}

/** connect() + loopStart(), then (by default) waits for onConnect. */
async function go(client: Client, rec: Rec, port: number, o: GoOptions = {}): Promise<void> {
  assert.equal(await client.connect(HOST, port, o.keepalive ?? 30, "", o.cleanStart, o.properties), MQTT_ERR_SUCCESS);
  assert.equal(client.loopStart(), MQTT_ERR_SUCCESS);
  if (o.wait ?? true) await until(() => rec.connects.length > 0, 3000, () => `onConnect\n${rec.logText()}`);
}

async function online(s: Scripted, options: ClientOptions = {}, o: GoOptions = {}): Promise<{ client: Client; rec: Rec }> {
  const r = recorded(options);
  await go(r.client, r.rec, s.port, o);
  assert.equal(r.rec.connects[0]!.rc, 0, r.rec.logText());
  return r;
}

function noErrors(s: Scripted): void {
  assert.deepEqual(s.broker.errors.map(String), [], "the broker script ran without errors");
}

// =================================================================================================

describe("properties out: CONNECT, will, PUBLISH, SUBSCRIBE, UNSUBSCRIBE, DISCONNECT", () => {
  test("CONNECT advertises Receive Maximum, Maximum Packet Size and Topic Alias Maximum from the budget, beside the user's properties", async () => {
    const s = await scripted();
    const { client } = await online(s, { budget: { maxIncomingQos2: 7, maxPacketSize: 3000, maxTopicAliases: 5 } }, {
      properties: { sessionExpiryInterval: 120, requestResponseInformation: 1, requestProblemInformation: 0,
        userProperties: [["a", "1"], ["a", "2"], ["b", "3"], ["a", "1"]] },
    });
    const connect = s.of(CONNECT)[0]!;
    assert.deepEqual(connect.properties, {
      sessionExpiryInterval: 120, requestProblemInformation: 0, requestResponseInformation: 1, receiveMaximum: 7,
      topicAliasMaximum: 5, userProperties: [["a", "1"], ["a", "2"], ["b", "3"], ["a", "1"]], maximumPacketSize: 3000,
    });
    client.disconnect();

    const s0 = await scripted();
    await online(s0, { budget: { maxTopicAliases: 0 } });
    assert.equal(s0.of(CONNECT)[0]!.properties?.topicAliasMaximum, undefined, "no aliases: none advertised");
    assert.equal(s0.of(CONNECT)[0]!.properties?.receiveMaximum, 64, "DEFAULT_BUDGET.maxIncomingQos2");
    assert.equal(s0.of(CONNECT)[0]!.properties?.maximumPacketSize, 256 * 1024, "DEFAULT_BUDGET.maxPacketSize");
    noErrors(s);
  });

  test("what CONNECT advertises never exceeds the budget, even when the user's connect properties ask for more", async () => {
    const s = await scripted({ after: (ctx) => ctx.send(publishPacket("big", new Uint8Array(500))) });
    const { client, rec } = recorded({ budget: { maxPacketSize: 200, maxIncomingQos2: 2 } });
    try {
      await go(client, rec, s.port, { properties: { maximumPacketSize: 1000, receiveMaximum: 50 } });
    } catch (e) {
      assert.ok(e instanceof RangeError, `refusing is fine too, with a RangeError: ${String(e)}`);
      return;
    }
    const props = s.of(CONNECT)[0]!.properties!;
    assert.ok(props.maximumPacketSize! <= 200, `advertised Maximum Packet Size ${props.maximumPacketSize} within budget.maxPacketSize 200`);
    assert.ok(props.receiveMaximum! <= 2, `advertised Receive Maximum ${props.receiveMaximum} within budget.maxIncomingQos2 2`);
  });

  test("the will carries its properties, Will Delay Interval included", async () => {
    const s = await scripted();
    const { client, rec } = recorded();
    client.willSet("w/t", "bye", 1, true, { willDelayInterval: 5, messageExpiryInterval: 10, contentType: "text/plain",
      payloadFormatIndicator: 1, responseTopic: "w/r", correlationData: bytes("c"), userProperties: [["wk", "1"], ["wk", "0"]] });
    await go(client, rec, s.port);
    const will = s.of(CONNECT).at(-1)!.will!;
    assert.equal(will.topic, "w/t");
    assert.equal(text(will.payload), "bye");
    assert.equal(will.qos, 1);
    assert.equal(will.retain, true);
    assert.deepEqual(will.properties, { payloadFormatIndicator: 1, messageExpiryInterval: 10, contentType: "text/plain",
      responseTopic: "w/r", correlationData: bytes("c"), willDelayInterval: 5, userProperties: [["wk", "1"], ["wk", "0"]] });
    noErrors(s);
  });

  test("PUBLISH carries the publish properties as given", async () => {
    const s = await scripted();
    const { client, rec } = await online(s);
    const props: Properties = { payloadFormatIndicator: 0, messageExpiryInterval: 30, contentType: "application/octet-stream",
      responseTopic: "r/t", correlationData: new Uint8Array([9, 8, 7]), userProperties: [["z", "1"], ["a", "2"], ["z", "3"]] };
    for (const qos of [0, 1, 2] as const) client.publish(`p/${qos}`, "x", qos, false, props);
    await until(() => rec.published.length === 3, 3000, "three onPublish");
    const sent = s.of(PUBLISH);
    assert.deepEqual(sent.map((p) => [p.topic, p.qos]), [["p/0", 0], ["p/1", 1], ["p/2", 2]]);
    for (const p of sent) assert.deepEqual(p.properties, props);
    noErrors(s);
  });

  test("SUBSCRIBE carries the options and properties; UNSUBSCRIBE its properties; SUBACK/UNSUBACK codes and properties reach the callbacks", async () => {
    const s = await scripted({
      on: async (p, ctx) => {
        if (p.type === SUBSCRIBE) {
          await ctx.send({ type: SUBACK, packetId: p.packetId, reasonCodes: [1, 0x9e, 0x87],
            properties: { reasonString: "partly", userProperties: [["r", "1"], ["r", "2"]] } });
          return true;
        }
        if (p.type === UNSUBSCRIBE) {
          await ctx.send({ type: UNSUBACK, packetId: p.packetId, reasonCodes: [0x00, 0x11], properties: { reasonString: "one was not there" } });
          return true;
        }
      },
    });
    const { client, rec } = await online(s);
    const [rc, mid] = client.subscribe([
      ["s/a", { qos: 1, noLocal: true, retainAsPublished: true, retainHandling: 2 }],
      ["$share/g/s/b", { qos: 2, retainHandling: 1 }],
      ["s/c", 0],
    ], 0, undefined, { subscriptionIdentifier: 42, userProperties: [["sp", "1"], ["sp", "2"]] });
    assert.equal(rc, MQTT_ERR_SUCCESS);
    await until(() => rec.subscribed.length === 1, 3000, "onSubscribe");
    const sub = s.of(SUBSCRIBE)[0]!;
    assert.deepEqual(sub.subscriptions, [
      { topicFilter: "s/a", qos: 1, noLocal: true, retainAsPublished: true, retainHandling: 2 },
      { topicFilter: "$share/g/s/b", qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 1 },
      { topicFilter: "s/c", qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
    ]);
    assert.deepEqual(sub.properties, { subscriptionIdentifier: 42, userProperties: [["sp", "1"], ["sp", "2"]] });
    assert.deepEqual(rec.subscribed[0], { mid, rcs: [1, 0x9e, 0x87], props: { reasonString: "partly", userProperties: [["r", "1"], ["r", "2"]] } });

    const [urc, umid] = client.unsubscribe(["s/a", "s/x"], { userProperties: [["up", "1"]] });
    assert.equal(urc, MQTT_ERR_SUCCESS);
    await until(() => rec.unsubscribed.length === 1, 3000, "onUnsubscribe");
    assert.deepEqual(s.of(UNSUBSCRIBE)[0]!.topicFilters, ["s/a", "s/x"]);
    assert.deepEqual(s.of(UNSUBSCRIBE)[0]!.properties, { userProperties: [["up", "1"]] });
    assert.deepEqual(rec.unsubscribed[0], { mid: umid, rcs: [0x00, 0x11], props: { reasonString: "one was not there" } });
    assert.ok(client.isConnected());

    // What the client refuses before anything is sent: No Local on a shared subscription [MQTT-3.8.3-4].
    assert.throws(() => client.subscribe("$share/g/x", 0, { noLocal: true }), RangeError);
    noErrors(s);
  });

  test("disconnect(reasonCode, properties) sends them: Session Expiry Interval, reason string, user properties", async () => {
    const s = await scripted();
    const { client, rec } = await online(s, {}, { properties: { sessionExpiryInterval: 300 } });
    assert.equal(client.disconnect(0x04, { sessionExpiryInterval: 0, reasonString: "bye", userProperties: [["d", "1"], ["d", "2"]] }), MQTT_ERR_SUCCESS);
    await until(() => s.of(DISCONNECT).length === 1, 3000, "DISCONNECT at the broker");
    const d = s.of(DISCONNECT)[0]!;
    assert.equal(d.reasonCode, 0x04);
    assert.deepEqual(d.properties, { sessionExpiryInterval: 0, reasonString: "bye", userProperties: [["d", "1"], ["d", "2"]] });
    await until(() => rec.disconnects.length === 1, 3000, "onDisconnect");
    assert.equal(rec.disconnects[0]!.flags.isDisconnectPacketFromServer, false);
    noErrors(s);
  });
});

describe("properties in: CONNACK, acknowledgements, DISCONNECT, PUBLISH", () => {
  test("CONNACK properties reach onConnect", async () => {
    const props: Properties = { sessionExpiryInterval: 60, receiveMaximum: 10, maximumQos: 1, retainAvailable: 1,
      maximumPacketSize: 5000, topicAliasMaximum: 3, responseInformation: "resp/root", reasonString: "welcome",
      userProperties: [["x", "1"], ["x", "1"], ["y", "2"]], wildcardSubscriptionAvailable: 1, subscriptionIdentifiersAvailable: 0,
      sharedSubscriptionAvailable: 1, serverKeepAlive: 45 };
    const s = await scripted({ connack: acceptWith(props) });
    const { rec } = await online(s, {}, { properties: { requestResponseInformation: 1 } });
    assert.deepEqual(rec.connects[0]!.props, props);
    assert.deepEqual(rec.connects[0]!.flags, { sessionPresent: false });
    noErrors(s);
  });

  test("PUBACK/PUBREC/PUBCOMP reason codes, reason strings and user properties reach onPublish; a failed PUBREC ends the flow", async () => {
    const s = await scripted({
      on: async (p, ctx) => {
        if (p.type === PUBLISH) {
          const answers: Record<string, Packet> = {
            "a/nobody": { type: PUBACK, packetId: p.packetId, reasonCode: 0x10, properties: { reasonString: "nobody listens", userProperties: [["k", "v"], ["k", "v2"]] } },
            "a/quota": { type: PUBACK, packetId: p.packetId, reasonCode: 0x97, properties: { reasonString: "quota exceeded" } },
            "a/refused": { type: PUBREC, packetId: p.packetId, reasonCode: 0x87, properties: { reasonString: "not authorized" } },
            "a/ok": { type: PUBREC, packetId: p.packetId, reasonCode: 0, properties: { reasonString: "received" } },
          };
          const a = answers[p.topic];
          if (a !== undefined) await ctx.send(a);
          return a !== undefined;
        }
        if (p.type === PUBREL) {
          await ctx.send({ type: PUBCOMP, packetId: p.packetId, reasonCode: 0, properties: { reasonString: "complete", userProperties: [["c", "1"]] } });
          return true;
        }
      },
    });
    const { client, rec } = await online(s);
    const mids = [client.publish("a/nobody", "1", 1), client.publish("a/quota", "2", 1), client.publish("a/refused", "3", 2), client.publish("a/ok", "4", 2)]
      .map((i) => i.mid);
    await until(() => rec.published.length === 4, 3000, "four onPublish");
    const by = (mid: number): { rc: number; props: Properties } => {
      const p = rec.published.find((x) => x.mid === mid)!;
      return { rc: p.rc, props: p.props };
    };
    assert.deepEqual(by(mids[0]!), { rc: 0x10, props: { reasonString: "nobody listens", userProperties: [["k", "v"], ["k", "v2"]] } });
    assert.deepEqual(by(mids[1]!), { rc: 0x97, props: { reasonString: "quota exceeded" } });
    assert.deepEqual(by(mids[2]!), { rc: 0x87, props: { reasonString: "not authorized" } });
    assert.deepEqual(by(mids[3]!), { rc: 0, props: { reasonString: "complete", userProperties: [["c", "1"]] } });
    const pubrels = s.seen.filter((x) => x.p.type === PUBREL).map((x) => x.p as codec.AckPacket);
    assert.deepEqual(pubrels.map((p) => p.packetId), [mids[3]], "PUBREL only for the accepted QoS 2 message [MQTT-4.3.3-4]");
    assert.ok(client.isConnected());
    noErrors(s);
  });

  test("a broker's DISCONNECT with reason string and user properties reaches onDisconnect", async () => {
    const s = await scripted({
      after: async (ctx) => {
        if (ctx.n > 0) return;
        await sleep(50);
        await ctx.send({ type: DISCONNECT, reasonCode: 0x89, properties: { reasonString: "going down for maintenance",
          userProperties: [["u", "1"], ["u", "1"], ["v", "2"]] } });
        ctx.conn.end();
      },
    });
    const { rec } = await online(s);
    await until(() => rec.disconnects.length === 1, 3000, "onDisconnect");
    const d = rec.disconnects[0]!;
    assert.equal(d.rc, 0x89);
    assert.deepEqual(d.flags, { isDisconnectPacketFromServer: true });
    assert.deepEqual(d.props, { reasonString: "going down for maintenance", userProperties: [["u", "1"], ["u", "1"], ["v", "2"]] });
    noErrors(s);
  });

  test("subscription identifiers on a received message: a number, or a number[] when several matched", async () => {
    const s = await scripted({
      after: async (ctx) => {
        await ctx.send(publishPacket("i/one", "1", 0, 0, { subscriptionIdentifier: 3 }));
        await ctx.send(publishPacket("i/two", "2", 1, 1, { subscriptionIdentifier: [3, 7] }));
      },
    });
    const { rec } = await online(s);
    await until(() => rec.messages.length === 2, 3000, "two messages");
    assert.equal(rec.messages[0]!.properties?.subscriptionIdentifier, 3);
    assert.deepEqual(rec.messages[1]!.properties?.subscriptionIdentifier, [3, 7]);
    noErrors(s);
  });

  test("shared subscriptions: messageCallbackAdd('$share/g/filter') receives the filter's messages; topicMatchesSub understands $share", async () => {
    assert.equal(topicMatchesSub("$share/g/sh/+", "sh/x"), true);
    assert.equal(topicMatchesSub("$share/g/sh/#", "sh"), true);
    assert.equal(topicMatchesSub("$share/g/sh/+", "other/x"), false);
    assert.equal(topicMatchesSub("$share/g/#", "$SYS/x"), false, "wildcards first still skip $ topics");
    assert.equal(topicMatchesSub("$share/g", "g"), false, "not a whole shared filter");
    const s = await scripted({
      on: async (p, ctx) => {
        if (p.type !== SUBSCRIBE) return;
        await ctx.send({ type: SUBACK, packetId: p.packetId, reasonCodes: [1] });
        await ctx.send(publishPacket("sh/x", "shared", 1, 9));
        await ctx.send(publishPacket("other", "not shared", 0));
        return true;
      },
    });
    const { client, rec } = await online(s);
    client.messageCallbackAdd("$share/g/sh/+", (_c, _u, m) => rec.messages.push({ topic: m.topic, text: text(m.payload), qos: m.qos, properties: undefined, via: "$share/g/sh/+" }));
    client.subscribe("$share/g/sh/+", 1);
    await until(() => rec.messages.length === 2, 3000, "two messages");
    assert.deepEqual(rec.messages.map((m) => [m.topic, m.via]), [["sh/x", "$share/g/sh/+"], ["other", ""]]);
    noErrors(s);
  });
});

describe("enhanced authentication", () => {
  const METHOD = "TEST-CHALLENGE";

  function authenticator(log: string[]): Authenticator {
    let step = 0;
    return {
      method: METHOD,
      initialData: () => bytes("client-first"),
      challenge(data, props) {
        step++;
        log.push(`challenge ${text(data)} (${props.reasonString ?? ""})`);
        return bytes(`response-${step}`);
      },
      done(props) {
        log.push(`done (${props.reasonString ?? ""})`);
      },
    };
  }

  test("a two-step challenge before CONNACK, then a re-authentication on demand", async () => {
    const broker: string[] = [];
    const s = await scripted({
      connack: async (connect, ctx) => {
        broker.push(`CONNECT ${connect.properties?.authenticationMethod} ${text(connect.properties?.authenticationData)}`);
        for (const step of [1, 2]) {
          await ctx.send({ type: AUTH, reasonCode: 0x18, properties: { authenticationMethod: METHOD, authenticationData: bytes(`challenge-${step}`), reasonString: `step ${step}` } });
          const r = await ctx.next(3000);
          if (r?.type !== AUTH) throw new Error(`expected AUTH, got ${JSON.stringify(r)}`);
          broker.push(`AUTH 0x${r.reasonCode!.toString(16)} ${r.properties?.authenticationMethod} ${text(r.properties?.authenticationData)}`);
        }
        return { type: CONNACK, sessionPresent: false, reasonCode: 0, properties: { authenticationMethod: METHOD, authenticationData: bytes("server-final") } };
      },
      on: async (p, ctx) => {
        if (p.type !== AUTH) return;
        broker.push(`AUTH 0x${p.reasonCode!.toString(16)} ${p.properties?.authenticationMethod} ${text(p.properties?.authenticationData)}`);
        if (p.reasonCode === 0x19) {
          await ctx.send({ type: AUTH, reasonCode: 0x18, properties: { authenticationMethod: METHOD, authenticationData: bytes("challenge-3"), reasonString: "again" } });
        } else {
          await ctx.send({ type: AUTH, reasonCode: 0x00, properties: { authenticationMethod: METHOD, reasonString: "re-authenticated" } });
        }
        return true;
      },
    });
    const log: string[] = [];
    const { client, rec } = recorded();
    client.authenticatorSet(authenticator(log));
    await go(client, rec, s.port);
    assert.equal(rec.connects[0]!.rc, 0, rec.logText());
    assert.equal(text(rec.connects[0]!.props.authenticationData), "server-final", "the server's final data reaches onConnect");
    assert.deepEqual(log, ["challenge challenge-1 (step 1)", "challenge challenge-2 (step 2)"]);
    assert.deepEqual(broker, [
      `CONNECT ${METHOD} client-first`,
      `AUTH 0x18 ${METHOD} response-1`,
      `AUTH 0x18 ${METHOD} response-2`,
    ]);

    assert.equal(client.reauthenticate(), MQTT_ERR_SUCCESS);
    await until(() => log.length === 4, 3000, () => `re-authentication done: ${JSON.stringify(log)}`);
    assert.deepEqual(log.slice(2), ["challenge challenge-3 (again)", "done (re-authenticated)"]);
    assert.deepEqual(broker.slice(3), [`AUTH 0x19 ${METHOD} client-first`, `AUTH 0x18 ${METHOD} response-3`]);
    assert.ok(client.isConnected());
    // The connection works on after it.
    await client.publish("after/reauth", "x", 1).waitForPublish(3000);
    noErrors(s);
  });

  test("the failures: no authenticator, no MQTT 5, another method in AUTH (0x82), a refusing CONNACK (0x87), AUTH to a client without a method", async () => {
    const plain = await scripted();
    const { client } = await online(plain);
    assert.equal(client.reauthenticate(), MQTT_ERR_INVAL, "reauthenticate() without an authenticator");
    assert.throws(() => new Client({ protocol: MQTTv311 }).authenticatorSet(authenticator([])), RangeError);
    assert.throws(() => client.authenticatorSet({ method: "", challenge: () => undefined }), TypeError);
    assert.throws(() => client.authenticatorSet({ method: "M" } as unknown as Authenticator), TypeError, "an authenticator without challenge()");
    const offline = new Client({ protocol: MQTTv5 });
    offline.authenticatorSet(authenticator([]));
    assert.equal(offline.reauthenticate(), MQTT_ERR_NO_CONN, "reauthenticate() while not connected");

    // The broker's AUTH names another method than CONNECT did.
    const other = await scripted({
      connack: async (_connect, ctx) => {
        await ctx.send({ type: AUTH, reasonCode: 0x18, properties: { authenticationMethod: "SOMETHING-ELSE" } });
        await ctx.next(3000);
        return null;
      },
    });
    const a = recorded();
    a.client.authenticatorSet(authenticator([]));
    a.client.reconnectDelaySet(60, 60);
    await go(a.client, a.rec, other.port, { wait: false });
    await until(() => other.of(DISCONNECT).length === 1, 3000, "DISCONNECT from the client");
    assert.equal(other.of(DISCONNECT)[0]!.reasonCode, 0x82);
    await until(() => a.rec.connectFails === 1, 3000, "onConnectFail");

    // A wrong response: CONNACK 0x87 Not authorized.
    const refusing = await scripted({
      connack: async (_connect, ctx) => {
        await ctx.send({ type: AUTH, reasonCode: 0x18, properties: { authenticationMethod: METHOD, authenticationData: bytes("prove it") } });
        await ctx.next(3000);
        return { type: CONNACK, sessionPresent: false, reasonCode: 0x87, properties: { reasonString: "wrong answer" } };
      },
    });
    const b = recorded();
    b.client.authenticatorSet(authenticator([]));
    b.client.reconnectDelaySet(60, 60);
    await go(b.client, b.rec, refusing.port);
    assert.equal(b.rec.connects[0]!.rc, 0x87);
    assert.equal(b.rec.connects[0]!.props.reasonString, "wrong answer");

    // AUTH to a client that named no method.
    const unasked = await scripted({
      connack: async (_connect, ctx) => {
        await ctx.send({ type: AUTH, reasonCode: 0x18, properties: { authenticationMethod: METHOD } });
        await ctx.next(3000);
        return null;
      },
    });
    const c = recorded();
    c.client.reconnectDelaySet(60, 60);
    await go(c.client, c.rec, unasked.port, { wait: false });
    await until(() => unasked.of(DISCONNECT).length === 1, 3000, "DISCONNECT from the client");
    assert.equal(unasked.of(DISCONNECT)[0]!.reasonCode, 0x82);
    for (const s of [plain, other, refusing, unasked]) noErrors(s);
  });
});

describe("server redirection", () => {
  test("CONNACK 0x9C Use another server, with serverRedirectSet(true): the next connection goes to the reference", async () => {
    const target = await scripted();
    const first = await scripted({ connack: () => ({ type: CONNACK, sessionPresent: false, reasonCode: 0x9c,
      properties: { serverReference: `127.0.0.1:${target.port} 127.0.0.1:1`, reasonString: "go elsewhere" } }) });
    const { client, rec } = recorded();
    client.serverRedirectSet(true);
    client.reconnectDelaySet(0.1, 0.1);
    await go(client, rec, first.port);
    await until(() => rec.connects.length === 2, 3000, () => `a second onConnect\n${rec.logText()}`);
    assert.equal(rec.connects[0]!.rc, 0x9c);
    assert.equal(rec.connects[0]!.props.serverReference, `127.0.0.1:${target.port} 127.0.0.1:1`, "the reference is reported");
    assert.equal(rec.connects[1]!.rc, 0);
    assert.equal(first.of(CONNECT).length, 1);
    assert.equal(target.of(CONNECT).length, 1, "the referenced broker got the next CONNECT");
    assert.ok(client.isConnected());
    noErrors(first);
    noErrors(target);
  });

  test("DISCONNECT 0x9D Server moved, with serverRedirectSet(true): onDisconnect reports it, the next connection goes to the reference", async () => {
    const target = await scripted();
    const first = await scripted({
      after: async (ctx) => {
        await sleep(50);
        await ctx.send({ type: DISCONNECT, reasonCode: 0x9d, properties: { serverReference: `127.0.0.1:${target.port}`, reasonString: "moved" } });
        ctx.conn.end();
      },
    });
    const { client, rec } = recorded();
    client.serverRedirectSet(true);
    client.reconnectDelaySet(0.1, 0.1);
    await go(client, rec, first.port);
    await until(() => rec.connects.length === 2, 3000, () => `a second onConnect\n${rec.logText()}`);
    assert.equal(rec.disconnects[0]!.rc, 0x9d);
    assert.equal(rec.disconnects[0]!.flags.isDisconnectPacketFromServer, true);
    assert.deepEqual(rec.disconnects[0]!.props, { serverReference: `127.0.0.1:${target.port}`, reasonString: "moved" });
    assert.equal(first.of(CONNECT).length, 1);
    assert.equal(target.of(CONNECT).length, 1);
    noErrors(first);
  });

  test("without serverRedirectSet(true) the reference is only reported: the next attempt goes to the same broker", async () => {
    const target = await scripted();
    const first = await scripted({ connack: (_c, ctx) => (ctx.n === 0
      ? { type: CONNACK, sessionPresent: false, reasonCode: 0x9c, properties: { serverReference: `127.0.0.1:${target.port}` } }
      : { type: CONNACK, sessionPresent: false, reasonCode: 0 }) });
    const { client, rec } = recorded();
    client.reconnectDelaySet(0.1, 0.1);
    await go(client, rec, first.port);
    await until(() => rec.connects.length === 2, 3000, () => `a second onConnect\n${rec.logText()}`);
    assert.equal(rec.connects[0]!.props.serverReference, `127.0.0.1:${target.port}`);
    assert.equal(first.of(CONNECT).length, 2);
    assert.equal(target.of(CONNECT).length, 0);
    assert.ok(rec.logs.some((l) => l.includes("not followed")), rec.logText());
    assert.ok(client.isConnected());
  });
});

describe("topic aliases", () => {
  test("incoming: aliases are resolved (and reassigned), and route to messageCallbackAdd", async () => {
    const s = await scripted({
      after: async (ctx) => {
        await ctx.send(publishPacket("in/a", "1", 0, 0, { topicAlias: 1 }));
        await ctx.send(publishPacket("", "2", 1, 1, { topicAlias: 1 }));
        await ctx.send(publishPacket("in/b", "3", 2, 2, { topicAlias: 64 }));
        await ctx.send(publishPacket("", "4", 0, 0, { topicAlias: 64 }));
        await ctx.send(publishPacket("in/c", "5", 0, 0, { topicAlias: 1 }));
        await ctx.send(publishPacket("", "6", 1, 3, { topicAlias: 1 }));
      },
    });
    const { client, rec } = recorded();
    client.messageCallbackAdd("in/b", (_c, _u, m) => rec.messages.push({ topic: m.topic, text: text(m.payload), qos: m.qos, properties: undefined, via: "in/b" }));
    await go(client, rec, s.port);
    await until(() => rec.messages.length === 6, 3000, "six messages");
    assert.deepEqual(rec.messages.map((m) => [m.topic, m.text, m.via]),
      [["in/a", "1", ""], ["in/a", "2", ""], ["in/b", "3", "in/b"], ["in/b", "4", "in/b"], ["in/c", "5", ""], ["in/c", "6", ""]]);
    assert.equal(s.of(CONNECT)[0]!.properties?.topicAliasMaximum, 64);
    assert.ok(client.isConnected());
    noErrors(s);
  });

  const badAlias = async (name: string, budget: ClientOptions["budget"], packet: Packet, why: RegExp): Promise<void> => {
    const s = await scripted({ after: async (ctx) => { if (ctx.n === 0) await ctx.send(packet); } });
    const { rec } = await online(s, { budget });
    await until(() => rec.disconnects.length === 1, 3000, `onDisconnect (${name})`);
    assert.equal(rec.disconnects[0]!.rc, 0x94, `onDisconnect says Topic Alias invalid (${name})`);
    assert.equal(rec.disconnects[0]!.flags.isDisconnectPacketFromServer, false);
    assert.ok(rec.logs.some((l) => why.test(l)), `the log says why (${name}):\n${rec.logText()}`);
    await until(() => s.of(DISCONNECT).length === 1, 3000, "DISCONNECT at the broker");
    assert.equal(s.of(DISCONNECT)[0]!.reasonCode, 0x94);
    assert.deepEqual(rec.messages, [], "nothing delivered");
    noErrors(s);
  };

  test("incoming: an alias never set on this connection is DISCONNECT 0x94", () =>
    badAlias("unknown", undefined, publishPacket("", "x", 0, 0, { topicAlias: 3 }), /topic alias 3 was never set/));

  test("incoming: an alias above our Topic Alias Maximum is DISCONNECT 0x94 (the maximum itself is fine)", async () => {
    const ok = await scripted({ after: (ctx) => ctx.send(publishPacket("in/max", "x", 0, 0, { topicAlias: 4 })) });
    const { rec } = await online(ok, { budget: { maxTopicAliases: 4 } });
    await until(() => rec.messages.length === 1, 3000, "the message with alias 4");
    assert.equal(rec.messages[0]!.topic, "in/max");
    await badAlias("above", { maxTopicAliases: 4 }, publishPacket("in/x", "x", 0, 0, { topicAlias: 5 }), /above our Topic Alias Maximum of 4/);
  });

  test("incoming: with budget.maxTopicAliases 0 none is advertised and any alias is DISCONNECT 0x94", () =>
    badAlias("none", { maxTopicAliases: 0 }, publishPacket("in/x", "x", 0, 0, { topicAlias: 1 }), /above our Topic Alias Maximum of 0/));

  test("outgoing: within the broker's Topic Alias Maximum, the topic goes only the first time; QoS 1 never uses one", async () => {
    const s = await scripted({ connack: acceptWith({ topicAliasMaximum: 2 }) });
    const { client, rec } = recorded();
    client.outgoingTopicAliasesSet(true); // an option: before connect()
    await go(client, rec, s.port);
    for (const t of ["a", "a", "b", "c", "b", "a", "c"]) assert.equal(client.publish(`o/${t}`, t, 0).rc, MQTT_ERR_SUCCESS);
    client.publish("o/a", "q1", 1);
    await until(() => rec.published.length === 8, 3000, "eight onPublish");
    await until(() => s.of(PUBLISH).length === 8, 3000, "eight PUBLISH at the broker");
    assert.deepEqual(s.of(PUBLISH).map((p) => [p.topic, p.topicAlias ?? 0]),
      [["o/a", 1], ["", 1], ["o/b", 2], ["o/c", 0], ["", 2], ["", 1], ["o/c", 0], ["o/a", 0]]);
    noErrors(s);
  });

  test("outgoing: none without the broker's Topic Alias Maximum; at most budget.maxTopicAliases; all new after a reconnect", async () => {
    const none = await scripted();
    const a = recorded();
    a.client.outgoingTopicAliasesSet(true);
    await go(a.client, a.rec, none.port);
    for (let i = 0; i < 3; i++) a.client.publish("n/a", "x", 0);
    await until(() => none.of(PUBLISH).length === 3, 3000, "three PUBLISH");
    assert.deepEqual(none.of(PUBLISH).map((p) => [p.topic, p.topicAlias ?? 0]), [["n/a", 0], ["n/a", 0], ["n/a", 0]]);

    const many = await scripted({
      connack: acceptWith({ topicAliasMaximum: 10 }),
      on: (p, ctx) => {
        if (p.type === PUBLISH && p.topic === "drop") ctx.conn.destroy();
      },
    });
    const b = recorded({ budget: { maxTopicAliases: 1 } });
    b.client.outgoingTopicAliasesSet(true);
    b.client.reconnectDelaySet(0.1, 0.1);
    await go(b.client, b.rec, many.port);
    for (const t of ["m/a", "m/b", "m/a", "m/b"]) b.client.publish(t, "x", 0);
    await until(() => many.of(PUBLISH, 0).length === 4, 3000, "four PUBLISH");
    assert.deepEqual(many.of(PUBLISH, 0).map((p) => [p.topic, p.topicAlias ?? 0]), [["m/a", 1], ["m/b", 0], ["", 1], ["m/b", 0]]);
    b.client.publish("drop", "x", 0);
    await until(() => b.rec.connects.length === 2, 3000, "the reconnection");
    b.client.publish("m/a", "x", 0);
    await until(() => many.of(PUBLISH, 1).length === 1, 3000, "PUBLISH on the new connection");
    assert.deepEqual(many.of(PUBLISH, 1).map((p) => [p.topic, p.topicAlias ?? 0]), [["m/a", 1]], "aliases die with the connection");

    assert.throws(() => new Client({ protocol: MQTTv311 }).outgoingTopicAliasesSet(true), RangeError);
    noErrors(many);
  });

  test("outgoing: a publish that fails (MQTT_ERR_PAYLOAD_SIZE) does not use up its topic's alias", async () => {
    const s = await scripted({ connack: acceptWith({ topicAliasMaximum: 5, maximumPacketSize: 100 }) });
    const { client, rec } = recorded();
    client.outgoingTopicAliasesSet(true);
    await go(client, rec, s.port);
    assert.equal(client.publish("big/topic", new Uint8Array(200), 0).rc, MQTT_ERR_PAYLOAD_SIZE);
    assert.equal(client.publish("big/topic", "small", 0).rc, MQTT_ERR_SUCCESS);
    await until(() => s.of(PUBLISH).length === 1, 3000, "the small PUBLISH");
    assert.equal(s.of(PUBLISH)[0]!.topic, "big/topic", "the first PUBLISH that goes out for a topic carries the topic");
    assert.ok(rec.disconnects.length === 0);
  });
});

describe("limits: ours enforced on the broker, the broker's honoured by us", () => {
  test("our Maximum Packet Size (budget.maxPacketSize): a packet of exactly that size is taken, one byte more is DISCONNECT 0x95", async () => {
    const encoder = new codec.Encoder();
    encoder.version = MQTTv5;
    const fits = publishPacket("big", new Uint8Array(191).fill(0x61));
    const over = publishPacket("big", new Uint8Array(192).fill(0x62));
    assert.equal(encoder.encode(fits).length, 200);
    assert.equal(encoder.encode(over).length, 201);
    const s = await scripted({ after: async (ctx) => { if (ctx.n === 0) { await ctx.send(fits); await ctx.send(over); } } });
    const { rec } = await online(s, { budget: { maxPacketSize: 200 } });
    assert.equal(s.of(CONNECT)[0]!.properties?.maximumPacketSize, 200);
    await until(() => rec.disconnects.length === 1, 3000, "onDisconnect");
    assert.deepEqual(rec.messages.map((m) => m.text.length), [191], "the 200-byte packet was delivered");
    assert.equal(rec.disconnects[0]!.rc, 0x95);
    await until(() => s.of(DISCONNECT).length === 1, 3000, "DISCONNECT at the broker");
    assert.equal(s.of(DISCONNECT)[0]!.reasonCode, 0x95);
    noErrors(s);
  });

  test("a Maximum Packet Size asked for in connect properties, below the budget, is enforced too: DISCONNECT 0x95, reason in onDisconnect and the log", async () => {
    // ejabberd sends a 92-byte PUBLISH to a client that advertised 64 (3.1.2.11.4 makes that a Protocol Error).
    const encoder = new codec.Encoder();
    encoder.version = MQTTv5;
    const fits = publishPacket("t", new Uint8Array(58).fill(0x61));
    const over = publishPacket("t", new Uint8Array(86).fill(0x62));
    assert.equal(encoder.encode(fits).length, 64);
    assert.equal(encoder.encode(over).length, 92);
    const s = await scripted({ after: async (ctx) => { if (ctx.n === 0) { await ctx.send(fits); await ctx.send(over); } } });
    const { rec } = await online(s, {}, { properties: { maximumPacketSize: 64 } });
    assert.equal(s.of(CONNECT)[0]!.properties?.maximumPacketSize, 64);
    await until(() => rec.disconnects.length === 1, 3000, "onDisconnect");
    assert.deepEqual(rec.messages.map((m) => m.text.length), [58], "the 64-byte packet was delivered, the 92-byte one not");
    assert.equal(rec.disconnects[0]!.rc, 0x95);
    assert.match(rec.logText(), /PUBLISH of 92 bytes exceeds the maximum packet size of 64/);
    await until(() => s.of(DISCONNECT).length === 1, 3000, "DISCONNECT at the broker");
    assert.equal(s.of(DISCONNECT)[0]!.reasonCode, 0x95);
    noErrors(s);
  });

  test("[5.0 MQTT-3.3.4-9] our Receive Maximum (budget.maxIncomingQos2): one QoS 2 message more in flight is DISCONNECT 0x93", async () => {
    const s = await scripted({
      after: async (ctx) => {
        if (ctx.n > 0) return;
        for (const id of [1, 2, 3]) await ctx.send(publishPacket("q2", `m${id}`, 2, id));
      },
      on: (p) => p.type === PUBREC, // never release: all stay in flight
    });
    const { rec } = await online(s, { budget: { maxIncomingQos2: 2 } });
    assert.equal(s.of(CONNECT)[0]!.properties?.receiveMaximum, 2);
    await until(() => rec.disconnects.length === 1, 3000, "onDisconnect");
    assert.equal(rec.disconnects[0]!.rc, 0x93);
    assert.deepEqual(rec.messages.map((m) => m.text), ["m1", "m2"]);
    await until(() => s.of(DISCONNECT).length === 1, 3000, "DISCONNECT at the broker");
    assert.equal(s.of(DISCONNECT)[0]!.reasonCode, 0x93);
  });

  test("the broker's Receive Maximum 2: never more than 2 unacknowledged while 20 QoS 1 (then 10 QoS 2) are published", async () => {
    const open = new Set<number>();
    let max = 0;
    let violations = 0;
    const later = (ms: number, fn: () => Promise<void>): void => { setTimeout(() => { fn().catch(() => {}); }, ms); };
    const s = await scripted({
      connack: acceptWith({ receiveMaximum: 2 }),
      on: (p, ctx) => {
        if (p.type === PUBLISH && p.qos > 0) {
          if (open.has(p.packetId)) violations++;
          open.add(p.packetId);
          max = Math.max(max, open.size);
          const id = p.packetId;
          // Acknowledged a little later, so the client has every chance to overrun the window.
          if (p.qos === 1) later(15, async () => { open.delete(id); await ctx.send({ type: PUBACK, packetId: id, reasonCode: 0 }); });
          else later(5, () => ctx.send({ type: PUBREC, packetId: id, reasonCode: 0 }));
          return true;
        }
        if (p.type === PUBREL) {
          const id = p.packetId;
          later(10, async () => { open.delete(id); await ctx.send({ type: PUBCOMP, packetId: id, reasonCode: 0 }); });
          return true;
        }
      },
    });
    const { client, rec } = await online(s);
    const q1 = Array.from({ length: 20 }, (_, i) => client.publish("rm/q1", `${i}`, 1));
    assert.ok(q1.every((i) => i.rc === MQTT_ERR_SUCCESS));
    await until(() => rec.published.length === 20, 5000, () => `20 onPublish (${rec.published.length})`);
    const q2 = Array.from({ length: 10 }, (_, i) => client.publish("rm/q2", `${i}`, 2));
    assert.ok(q2.every((i) => i.rc === MQTT_ERR_SUCCESS));
    await until(() => rec.published.length === 30, 5000, () => `30 onPublish (${rec.published.length})`);
    assert.ok(max <= 2, `at most 2 in flight, saw ${max}`);
    assert.equal(max, 2, "the window is used");
    assert.equal(violations, 0);
    assert.deepEqual(s.of(PUBLISH).filter((p) => p.topic === "rm/q1").map((p) => text(p.payload)), Array.from({ length: 20 }, (_, i) => `${i}`), "each once, in order");
    assert.ok(rec.published.every((p) => p.rc === 0));
    noErrors(s);
  });

  test("the broker's Maximum Packet Size, Maximum QoS and Retain Available: publishes it cannot take fail at once, nothing is sent, the connection stays", async () => {
    const s = await scripted({ connack: acceptWith({ maximumPacketSize: 100, maximumQos: 1, retainAvailable: 0 }) });
    const { client, rec } = await online(s);
    // 1 + 1 (Remaining Length) + 2 + 3 ("l/t") + 1 (no properties) + payload [+ 2 packet id at QoS 1]
    assert.equal(client.publish("l/t", new Uint8Array(93), 0).rc, MQTT_ERR_PAYLOAD_SIZE, "101 bytes");
    assert.equal(client.publish("l/t", new Uint8Array(91), 1).rc, MQTT_ERR_PAYLOAD_SIZE, "101 bytes at QoS 1");
    assert.equal(client.publish("l/t", "x", 2).rc, MQTT_ERR_NOT_SUPPORTED, "QoS 2 over Maximum QoS 1");
    assert.equal(client.publish("l/t", "x", 0, true).rc, MQTT_ERR_NOT_SUPPORTED, "retain without Retain Available");
    assert.equal(client.publish("l/t", new Uint8Array(92), 0).rc, MQTT_ERR_SUCCESS, "exactly 100 bytes");
    assert.equal(client.publish("l/t", new Uint8Array(90), 1).rc, MQTT_ERR_SUCCESS, "exactly 100 bytes at QoS 1");
    await until(() => rec.published.length === 2, 3000, "two onPublish");
    await sleep(100);
    assert.deepEqual(s.of(PUBLISH).map((p) => [p.qos, p.payload.length]), [[0, 92], [1, 90]]);
    assert.ok(client.isConnected());
    assert.deepEqual(rec.disconnects, []);

    const zero = await scripted({ connack: acceptWith({ maximumQos: 0 }) });
    const z = await online(zero);
    assert.equal(z.client.publish("z", "x", 1).rc, MQTT_ERR_NOT_SUPPORTED, "QoS 1 over Maximum QoS 0");
    assert.equal(z.client.publish("z", "x", 0).rc, MQTT_ERR_SUCCESS);
    noErrors(s);
  });

  test("the broker's Maximum Packet Size also holds for a QoS 1 message queued before the CONNACK said it", async () => {
    const s = await scripted({ connack: acceptWith({ maximumPacketSize: 100 }) });
    const { client, rec } = recorded();
    assert.equal(await client.connect(HOST, s.port, 30), MQTT_ERR_SUCCESS);
    // CONNECT is written, the CONNACK not yet handled (no loop runs): the limit is not known yet.
    const info = client.publish("q/t", new Uint8Array(200), 1);
    assert.equal(info.rc, MQTT_ERR_NO_CONN, "not connected yet (as Paho says), queued all the same");
    client.loopStart();
    await until(() => rec.connects.length === 1, 3000, "onConnect");
    await until(() => rec.published.length === 1 || s.of(PUBLISH).length > 0, 3000, "onPublish or a PUBLISH");
    await sleep(100);
    assert.deepEqual(s.of(PUBLISH).map((p) => p.payload.length), [], "nothing over the broker's Maximum Packet Size is sent");
    assert.ok(rec.published.length === 1 && rec.published[0]!.rc >= 0x80, `the publish fails with a clear reason (e.g. 0x95): ${JSON.stringify(rec.published)}`);
  });

  test("the broker's Maximum Packet Size also holds for SUBSCRIBE and UNSUBSCRIBE", async () => {
    const s = await scripted({ connack: acceptWith({ maximumPacketSize: 100 }) });
    const { client } = await online(s);
    const long = `f/${"x".repeat(150)}`;
    assert.equal(client.subscribe(long, 0)[0], MQTT_ERR_PAYLOAD_SIZE, "subscribe() refuses it");
    assert.equal(client.unsubscribe(long)[0], MQTT_ERR_PAYLOAD_SIZE, "unsubscribe() refuses it");
    await sleep(100);
    assert.deepEqual([...s.of(SUBSCRIBE), ...s.of(UNSUBSCRIBE)], [], "nothing sent");
    assert.ok(client.isConnected());
  });

  test("Server Keep Alive overrides ours: PINGREQ every second with serverKeepAlive 1 (we asked 60), and its timeout applies", async () => {
    const s = await scripted({ connack: acceptWith({ serverKeepAlive: 1 }) });
    const { client, rec } = await online(s, {}, { keepalive: 60 });
    const connackAt = rec.connects[0]!.at;
    await until(() => s.of(PINGREQ).length >= 2, 4000, "two PINGREQ");
    const at = s.seen.filter((x) => x.p.type === PINGREQ).map((x) => x.at);
    assert.ok(at[0]! - connackAt >= 700 && at[0]! - connackAt <= 1600, `first PINGREQ ${at[0]! - connackAt} ms after CONNACK`);
    assert.ok(at[1]! - at[0]! >= 700 && at[1]! - at[0]! <= 1600, `second PINGREQ ${at[1]! - at[0]!} ms after the first`);
    client.disconnect();

    // Without it, our 60 s holds: no PINGREQ for a while.
    const quiet = await scripted();
    await online(quiet, {}, { keepalive: 60 });
    await sleep(1500);
    assert.equal(quiet.of(PINGREQ).length, 0);

    // A broker that stops answering is given 1.5 x its Server Keep Alive.
    const mute = await scripted({ connack: acceptWith({ serverKeepAlive: 1 }), on: (p) => p.type === PINGREQ });
    const m = await online(mute, {}, { keepalive: 60 });
    await until(() => m.rec.disconnects.length === 1, 4000, "onDisconnect for the keepalive");
    assert.equal(m.rec.disconnects[0]!.rc, 0x8d, "Keep alive timeout");
    const after = m.rec.disconnects[0]!.at - m.rec.connects[0]!.at;
    assert.ok(after >= 1300 && after <= 3000, `dropped ${after} ms after CONNACK`);
    noErrors(s);
  });

  test("Assigned Client Identifier: adopted, and reused on the automatic reconnect", async () => {
    const s = await scripted({
      connack: (_c, ctx) => ({ type: CONNACK, sessionPresent: ctx.n > 0, reasonCode: 0,
        properties: ctx.n === 0 ? { assignedClientIdentifier: "srv-given-42" } : {} }),
      after: async (ctx) => {
        if (ctx.n > 0) return;
        await sleep(50);
        ctx.conn.destroy();
      },
    });
    const { client, rec } = recorded({ clientId: "" });
    client.reconnectDelaySet(0.1, 0.1);
    await go(client, rec, s.port, { cleanStart: false, properties: { sessionExpiryInterval: 60 } });
    await until(() => rec.connects.length === 2, 3000, () => `the reconnection\n${rec.logText()}`);
    assert.deepEqual(s.of(CONNECT).map((c) => c.clientId), ["", "srv-given-42"]);
    assert.equal(rec.connects[0]!.props.assignedClientIdentifier, "srv-given-42");
    assert.equal(rec.connects[1]!.flags.sessionPresent, true);
    noErrors(s);
  });
});

describe("MQTT 5.0 conformance on the wire: the session's client identifier, PUBLISH properties, closing", () => {
  test("[5.0 MQTT-3.1.3-2] the client identifier names the session: the reconnection asks for the same one and resumes its unacknowledged PUBLISH", async () => {
    const s = await scripted({
      connack: (_c, ctx) => ({ type: CONNACK, sessionPresent: ctx.n > 0, reasonCode: 0 }),
      on: (p, ctx) => {
        if (p.type !== PUBLISH || ctx.n > 0) return false;
        ctx.conn.destroy(); // the first connection ends before the PUBACK
        return true;
      },
    });
    const { client, rec } = recorded({ clientId: "session-7" });
    client.reconnectDelaySet(0.1, 0.1);
    await go(client, rec, s.port, { cleanStart: false, properties: { sessionExpiryInterval: 60 } });
    const mid = client.publish("t", "x", 1).mid;
    await until(() => rec.published.length === 1, 3000, () => `the PUBACK on the second connection\n${rec.logText()}`);
    assert.deepEqual(s.of(CONNECT).map((c) => [c.clientId, c.cleanStart]), [["session-7", false], ["session-7", false]]);
    assert.deepEqual(s.of(PUBLISH).map((p) => [p.packetId, p.dup]), [[mid, false], [mid, true]]);
    noErrors(s);
  });

  test("[5.0 MQTT-3.3.4-6] publish() refuses a Subscription Identifier: only the broker puts one in a PUBLISH", () => {
    const client = new Client({ protocol: MQTTv5 });
    assert.throws(() => client.publish("t", "x", 1, false, { subscriptionIdentifier: 1 }), /Subscription Identifier/);
    assert.throws(() => client.publish("t", "x", 0, false, { subscriptionIdentifier: [1, 2] }), RangeError);
  });

  test("[5.0 MQTT-3.14.4-2] [5.0 MQTT-3.14.4-1] after its DISCONNECT the client closes the connection and sends nothing more", async () => {
    const s = await scripted({ on: (p) => p.type === DISCONNECT });
    const { client } = await online(s);
    client.disconnect();
    const conn = s.broker.connections[0]!;
    let closed = false;
    void conn.closed.then(() => { closed = true; });
    await until(() => closed, 3000, () => "the client closes the connection");
    assert.deepEqual(s.seen.map((x) => x.p.type).slice(-1), [DISCONNECT], "DISCONNECT was the last packet");
    noErrors(s);
  });
});
