/**
 * MQTT 3.1.1 on one connection: CONNECT first (3.1.0), keep alive (3.1.2.10), the Client Identifier and the
 * session it names (3.1.3.1), closing after DISCONNECT (3.14.4) and on errors (4.8), and the transport (7.1.2).
 * The engine on its fake clock (test/support/engine-rig.ts), and the whole Client over the fake host
 * (test/support/fake-host.ts), whose links record how the client ended them; one test opens a real TCP
 * socket to the scripted broker (test/support/scripted-broker.ts).
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CONNACK, CONNECT, MQTTv31, MQTTv311, PUBACK, PUBLISH, SUBACK, SUBSCRIBE, type Packet } from "../../../src/codec/index.js";
import { Client, type ClientOptions } from "../../../src/paho/client.js";
import { Ecma419Client } from "../../../src/ecma419/client.js";
import { MemoryStore, type StoredSession } from "../../../src/session/store.js";
import { MQTT_ERR_NO_CONN, MQTT_ERR_SUCCESS, MQTT_ERR_UNKNOWN } from "../../../src/paho/constants.js";
import { CLOSING } from "../../../src/engine/engine.js";
import { Client as NodeClient } from "../../../hosts/node/index.js";
import { FakeHost, type Seen } from "../../support/fake-host.js";
import { Rig, connack, ids, incoming, names, text } from "../../support/engine-rig.js";
import { startScriptedBroker } from "../../support/scripted-broker.js";
import { until } from "../../support/wait.js";

const v311 = (o: ConstructorParameters<typeof Rig>[0] = {}): Rig => new Rig({ version: 4, keepAlive: 0, ...o });

/** Lets promise reactions run; the fake clock does not move. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

interface Played {
  /** What the broker answers each packet the client writes with (nothing by default). */
  answer?: (p: Seen) => Packet[];
  sessionPresent?: boolean;
}

/** A Client on a fake host whose broker accepts every link and every CONNECT, then answers as `play` says. */
function fakeClient(options: ClientOptions = {}, play: Played = {}): { host: FakeHost; client: Client; disconnects: number[]; logs: string[] } {
  const host = new FakeHost();
  host.onLink = (link) => {
    link.accept();
    link.onPacket = (p, l) => {
      if (p.name === "CONNECT") l.send({ type: CONNACK, sessionPresent: play.sessionPresent ?? false, reasonCode: 0 });
      const replies = play.answer?.(p) ?? [];
      if (replies.length > 0) l.send(...replies);
    };
  };
  const client = new Client({ host, clientId: "c", ...options });
  const disconnects: number[] = [];
  const logs: string[] = [];
  client.onDisconnect = (_c, _u, _f, rc) => disconnects.push(rc);
  client.onLog = (_c, _u, _level, buf) => logs.push(buf);
  client.connectAsync("broker", 1883, 60);
  void client.loopForever();
  host.flush();
  return { host, client, disconnects, logs };
}

describe("MQTT 3.1.1 CONNECT first, and keep alive (3.1.0, 3.1.2.10)", () => {
  test("[MQTT-3.1.0-1] the first packet the client sends is CONNECT: nothing published or queued before it goes out first", () => {
    const r = v311();
    assert.equal(r.publish("t", "q0", 0).rc, MQTT_ERR_NO_CONN);
    const queued = r.publish("t", "q1", 1);
    assert.equal(queued.rc, MQTT_ERR_SUCCESS);
    assert.deepEqual(r.out(), []);
    assert.deepEqual(names(r.begin()), ["CONNECT"]);
    r.recv(connack(false));
    assert.deepEqual(ids(r.out()), [`PUBLISH ${queued.mid}`]);

    const host = new FakeHost();
    const client = new Client({ host, clientId: "c" });
    client.publish("t", "before", 1);
    client.connectAsync("broker");
    void client.loopForever();
    host.flush();
    host.link.accept();
    host.flush();
    assert.deepEqual(host.link.takeNames(), ["CONNECT"], "the whole client, on a real link: CONNECT alone until CONNACK");
    host.link.send({ type: CONNACK, sessionPresent: false, reasonCode: 0 });
    host.flush();
    assert.deepEqual(host.link.takeNames(), ["PUBLISH"]);
    client.disconnect();
  });

  test("[MQTT-3.1.2-23] the client never lets more than Keep Alive pass without sending: PINGREQ when it has sent nothing else", () => {
    const r = new Rig({ version: 4, keepAlive: 10 });
    r.connect();
    r.out();
    r.now = 5_000;
    r.publish("t", "x", 0);
    r.recv(incoming("t", "x", 0, 0));
    r.out();
    r.tick(14_999);
    assert.deepEqual(r.out(), [], "9.999 s after the PUBLISH is not idle yet");
    r.tick(15_000);
    assert.deepEqual(names(r.out()), ["PINGREQ"], "10 s after the last packet it sent");
    r.recv({ type: 13 });
    r.tick(24_999);
    assert.deepEqual(r.out(), []);
    r.tick(25_000);
    assert.deepEqual(names(r.out()), ["PINGREQ"], "and every 10 s of silence after that");

    const { host, client } = fakeClient({}, { answer: (p) => (p.name === "PINGREQ" ? [{ type: 13 }] : []) });
    host.advance(600_000);
    const sent = host.link.log.map((p) => p.at!);
    const gaps = sent.slice(1).map((t, i) => t - sent[i]!);
    assert.equal(gaps.length, 10, "the whole client over ten minutes: a PINGREQ a minute");
    assert.ok(gaps.every((g) => g <= 60_000), `gaps ${gaps.join(", ")} ms, keep alive 60 s`);
    client.disconnect();
  });
});

describe("MQTT 3.1.1 the Client Identifier and its session (3.1.3.1)", () => {
  test("[MQTT-3.1.3-7] with CleanSession 0 the client needs an id: the engine, the Paho and the ECMA-419 clients refuse an empty one on 3.1 and 3.1.1", () => {
    for (const protocolVersion of [MQTTv31, MQTTv311] as const) {
      const r = new Rig({ version: protocolVersion });
      assert.throws(() => r.engine.begin({ type: CONNECT, protocolVersion, clientId: "", cleanStart: false, keepAlive: 0 }, 0), /\[MQTT-3\.1\.3-7\]/);
      assert.deepEqual(r.out(), [], "nothing written");
      r.engine.begin({ type: CONNECT, protocolVersion, clientId: "", cleanStart: true, keepAlive: 0 }, 0);
      assert.deepEqual(r.out().map((p) => [p.name, p.clientId, p.cleanStart]), [["CONNECT", "", true]]);
    }
    const five = new Rig({ version: 5 });
    five.engine.begin({ type: CONNECT, protocolVersion: 5, clientId: "", cleanStart: false, keepAlive: 0 }, 0);
    assert.deepEqual(names(five.out()), ["CONNECT"], "MQTT 5 allows it: the broker assigns an id");
    for (const protocol of [MQTTv31, MQTTv311] as const) {
      assert.throws(() => new Client({ host: new FakeHost(), protocol, clientId: "", cleanSession: false }), /client id must be given/);
      assert.doesNotThrow(() => new Client({ host: new FakeHost(), protocol, clientId: "", cleanSession: true }));
    }
    assert.throws(() => new Ecma419Client({ host: "broker", platform: new FakeHost(), clean: false }), /MQTT-3\.1\.3-7/);
    const host = new FakeHost();
    const ecma = new Ecma419Client({ host: "broker", platform: host, clean: true });
    host.flush();
    host.link.accept();
    host.flush();
    const connect = host.link.take()[0]!;
    assert.deepEqual([connect.name, connect.clientId, connect.cleanStart], ["CONNECT", "", true], "an empty id goes with CleanSession 1");
    ecma.close();
  });

  test("[MQTT-3.1.3-2] the Client Identifier names the session the client keeps: the same id resumes it, another id starts empty", async () => {
    const opened: Array<[string, StoredSession]> = [];
    const store = new (class extends MemoryStore {
      override open(clientId: string, version: number): StoredSession {
        const s = super.open(clientId, version);
        opened.push([clientId, s]);
        return s;
      }
    })();
    const first = fakeClient({ clientId: "sensor-a", cleanSession: false, store });
    const mid = first.client.publish("t", "kept", 1).mid;
    first.host.flush();
    first.client.disconnect();
    first.host.flush();
    await settle();
    assert.deepEqual(opened.map(([id, s]) => [id, s.outgoing.length]), [["sensor-a", 0]]);

    const again = fakeClient({ clientId: "sensor-a", cleanSession: false, store }, { sessionPresent: true });
    assert.deepEqual(opened.map(([id, s]) => [id, s.outgoing.map((p) => p.id)]), [["sensor-a", []], ["sensor-a", [mid]]]);
    assert.deepEqual(again.host.link.take().map((p) => [p.name, p.packetId, p.dup]).slice(1), [["PUBLISH", mid, true]], "resumed under the same id");
    again.client.disconnect();
    again.host.flush();
    store.close();

    const other = fakeClient({ clientId: "sensor-b", cleanSession: false, store }, { sessionPresent: true });
    assert.deepEqual(opened.at(-1)?.[0], "sensor-b");
    assert.deepEqual(opened.at(-1)?.[1], { outgoing: [], incoming: [] }, "nothing of sensor-a's session");
    assert.deepEqual(other.host.link.takeNames(), ["CONNECT"]);
    other.client.disconnect();
  });
});

describe("MQTT 3.1.1 closing (3.14.4, 4.8)", () => {
  test("[MQTT-3.14.4-1] [MQTT-3.14.4-2] after its DISCONNECT the client closes the connection and sends nothing more on it", () => {
    const r = new Rig({ version: 4, keepAlive: 5 });
    r.connect();
    r.publish("t", "x", 1);
    r.out();
    assert.equal(r.engine.disconnect(0, undefined, r.now), MQTT_ERR_SUCCESS);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0xe0, 0x00]]);
    assert.equal(r.publish("t", "y", 0).rc, MQTT_ERR_NO_CONN);
    r.publish("t", "z", 1);
    assert.equal(r.engine.subscribe([{ topicFilter: "s", qos: 0 }], undefined, r.now).rc, MQTT_ERR_NO_CONN);
    r.recv(incoming("t", "in", 1, 9), { type: PUBACK, packetId: 1 });
    r.tick(60_000);
    assert.deepEqual(r.out(), [], "no PUBLISH, PUBACK or PINGREQ");

    const { host, client, disconnects } = fakeClient();
    host.link.take();
    client.publish("t", "last", 0);
    client.disconnect();
    host.flush();
    const link = host.link;
    assert.deepEqual(link.takeNames(), ["PUBLISH", "DISCONNECT"]);
    assert.equal(link.endedBy, "close", "the client closed the connection");
    assert.equal(client.publish("t", "after", 0).rc, MQTT_ERR_NO_CONN);
    host.advance(120_000);
    assert.deepEqual(link.take(), [], "nothing written after DISCONNECT");
    assert.deepEqual(disconnects, [MQTT_ERR_SUCCESS]);
    assert.equal(host.opens.length, 1, "and it stays closed");
  });

  // What a conforming broker never sends, each a protocol violation for a 3.1.1 client.
  const violations: Array<[string, (link: FakeHost["link"]) => void]> = [
    ["a PUBLISH with QoS 3", (l) => l.sendBytes([0x36, 0x05, 0x00, 0x01, 0x74, 0x00, 0x01])],
    ["a packet with reserved flags set", (l) => l.sendBytes([0x41, 0x02, 0x00, 0x01])],
    ["a second CONNACK", (l) => l.send({ type: CONNACK, sessionPresent: false, reasonCode: 0 })],
    ["a SUBSCRIBE, which only a client sends", (l) => l.send({ type: SUBSCRIBE, packetId: 1, subscriptions: [{ topicFilter: "t", qos: 0 }] })],
    ["a SUBACK with two return codes for one filter", (l) => l.send({ type: SUBACK, packetId: 1, reasonCodes: [0, 0] })],
  ];
  test("[MQTT-4.8.0-1] a protocol violation by the broker: the client closes the connection, sending nothing (3.1.1 has no reason to send)", () => {
    for (const [what, send] of violations) {
      const { host, client, disconnects } = fakeClient();
      client.subscribe("t", 0);
      host.flush();
      host.link.take();
      const link = host.link;
      send(link);
      link.send({ type: PUBLISH, topic: "t", payload: text("after"), qos: 1, retain: false, dup: false, packetId: 2 });
      host.flush();
      assert.notEqual(link.endedBy, undefined, `${what}: the client closed the connection`);
      assert.deepEqual(link.take(), [], `${what}: nothing written, not even the PUBACK for what followed`);
      assert.equal(disconnects.length, 1, what);
      assert.ok(disconnects[0]! >= 0x80, `${what}: onDisconnect reports an error (0x${disconnects[0]!.toString(16)})`);
      client.disconnect();
    }
  });

  test("[MQTT-4.8.0-2] a transient error while processing an inbound packet (the session store fails) closes the connection; no PUBREC for it", () => {
    class FullDisk extends MemoryStore {
      override saveIncoming(): void {
        throw new Error("ENOSPC: no space left on device");
      }
    }
    const { host, client, disconnects, logs } = fakeClient({ cleanSession: false, store: new FullDisk() });
    host.link.take();
    const link = host.link;
    link.send({ type: PUBLISH, topic: "t", payload: text("x"), qos: 2, retain: false, dup: false, packetId: 5 });
    assert.doesNotThrow(() => host.flush(), "nothing escapes into the host's event loop");
    assert.notEqual(link.endedBy, undefined, "the client closed the connection");
    assert.deepEqual(link.take(), [], "the id could not be kept, so no PUBREC: the broker will send the message again");
    assert.deepEqual(disconnects, [0x80]);
    assert.ok(logs.some((l) => /session store failed.*ENOSPC/.test(l)), logs.join("\n"));
    client.disconnect();

    const r = new Rig({ version: 4, keepAlive: 0 });
    r.configure({ store: new FullDisk() });
    r.connect();
    assert.deepEqual(r.recv(incoming("t", "x", 2, 5)), [{ type: "message", topic: "t", payload: "x", qos: 2, dup: false, retain: false, mid: 5 },
      { type: "closed", rc: MQTT_ERR_UNKNOWN, reasonCode: 0x80 }]);
    assert.deepEqual(r.out(), []);
    assert.equal(r.engine.state, CLOSING);
  });
});

describe("MQTT 3.1.1 transport (7.1.2)", () => {
  const brokers: Array<{ close(): Promise<void> }> = [];
  after(async () => {
    for (const b of brokers) await b.close();
  });

  test("[MQTT-7.1.2-1] the client runs over TCP, an ordered, lossless byte stream both ways: 200 messages each way, in order, none lost", async () => {
    const N = 200;
    const broker = await startScriptedBroker(async (conn) => {
      const connect = await conn.next();
      assert.equal(connect?.type, CONNECT);
      await conn.send({ type: CONNACK, sessionPresent: false, reasonCode: 0 });
      for (let i = 0; i < N; i++) {
        const p = await conn.next();
        assert.ok(p?.type === PUBLISH);
        if (p.qos === 1) await conn.send({ type: PUBACK, packetId: p.packetId });
        await conn.send({ type: PUBLISH, topic: "back", payload: p.payload, qos: 0, retain: false, dup: false, packetId: 0 });
      }
    });
    brokers.push(broker);
    const client = new NodeClient({ clientId: "transport-311", protocol: MQTTv311 });
    const received: string[] = [];
    client.onMessage = (_c, _u, m) => received.push(new TextDecoder().decode(m.payload));
    let connected = false;
    client.onConnect = () => { connected = true; };
    assert.equal(await client.connect(broker.host, broker.port, 30), MQTT_ERR_SUCCESS);
    client.loopStart();
    await until(() => connected, 5000, () => "CONNACK");
    for (let i = 0; i < N; i++) client.publish("t", `m${i}`, 1);
    await until(() => received.length === N, 5000, () => `${received.length} of ${N} back`);
    assert.deepEqual(received, Array.from({ length: N }, (_, i) => `m${i}`));
    client.disconnect();
    client.loopStop();
    assert.deepEqual(broker.errors, []);
  });
});
