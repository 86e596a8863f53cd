/**
 * The client against a scripted broker that misbehaves: malformed packets, out-of-order and duplicate
 * control packets, a 256 MB remaining length, a half packet and then silence, refusals and early closes,
 * input in tiny fragments. The client must close cleanly with the right reason (onDisconnect,
 * onConnectFail and onLog say why; a v5 client sends DISCONNECT with the reason code), keep its memory
 * flat, and never throw out of the event loop: a process-wide 'uncaughtException' / 'unhandledRejection'
 * watcher is asserted empty at the end.
 */
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import v8 from "node:v8";
import vm from "node:vm";
import {
  Client, type ConnectFlags, type DisconnectFlags, type MQTTMessage, MQTTv31, MQTTv311, MQTTv5, MQTT_ERR_NO_CONN,
  MQTT_ERR_SUCCESS, MQTT_LOG_ERR, type Properties, type ProtocolVersion, type ReceivedMessage,
} from "../../hosts/node/index.js";
import { CONNACK, CONNECT, DISCONNECT, Encoder, PINGREQ, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK,
  SUBSCRIBE, type Packet } from "../../src/codec/index.js";
import { type ReceivedPacket, type ScriptedBroker, type ScriptedConnection, startScriptedBroker } from "../support/scripted-broker.js";
import { sleep, until, within } from "../support/wait.js";

const HOST = "127.0.0.1";

// ---- nothing may escape the client -------------------------------------------------------------

const escaped: unknown[] = [];
const onUncaught = (e: unknown): void => {
  escaped.push(e);
};

// ---- recording ---------------------------------------------------------------------------------

class Rec {
  connects: Array<{ flags: ConnectFlags; rc: number; props: Properties }> = [];
  connectFails = 0;
  disconnects: Array<{ flags: DisconnectFlags; rc: number; props: Properties; at: number }> = [];
  messages: ReceivedMessage[] = [];
  logs: Array<{ level: number; buf: string }> = [];

  logText(): string {
    return this.logs.map((l) => `[${l.level}] ${l.buf}`).join("\n");
  }
}

const clients = new Set<Client>();
const brokers = new Set<ScriptedBroker>();

function watched(protocol: ProtocolVersion, options: ConstructorParameters<typeof Client>[0] = {}): { client: Client; rec: Rec } {
  const client = new Client({ protocol, clientId: `hostile-${protocol}`, ...options });
  clients.add(client);
  const rec = new Rec();
  client.onConnect = (_c, _u, flags, rc, props) => rec.connects.push({ flags, rc, props });
  client.onConnectFail = () => rec.connectFails++;
  client.onDisconnect = (_c, _u, flags, rc, props) => rec.disconnects.push({ flags, rc, props, at: Date.now() });
  client.onMessage = (_c, _u, m: MQTTMessage) => rec.messages.push(m.copy());
  client.onLog = (_c, _u, level, buf) => rec.logs.push({ level, buf });
  return { client, rec };
}

async function scripted(script: (conn: ScriptedConnection) => void | Promise<void>): Promise<ScriptedBroker> {
  const broker = await startScriptedBroker(script);
  brokers.add(broker);
  return broker;
}

/** Reads the client's CONNECT and accepts it. */
async function accept(conn: ScriptedConnection, properties?: Properties): Promise<ReceivedPacket> {
  const connect = await conn.next();
  assert.equal(connect?.type, CONNECT, "the client starts with CONNECT");
  await conn.send({ type: CONNACK, sessionPresent: false, reasonCode: 0, properties: conn.version === 5 ? properties : undefined });
  return connect!;
}

/** The next packet of a given type, skipping PINGREQs (answered) and anything else listed in `skip`. */
async function nextOf(conn: ScriptedConnection, type: number, timeoutMs = 3000): Promise<ReceivedPacket | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await conn.next(Math.max(1, deadline - Date.now()));
    if (p === null || p.type === type) return p;
    if (p.type === PINGREQ) await conn.send({ type: PINGRESP });
  }
}

/** Connects with loopStart and waits for onConnect. */
async function up(client: Client, rec: Rec, port: number, keepalive = 30): Promise<void> {
  assert.equal(await within(client.connect(HOST, port, keepalive), 3000, "connect()"), MQTT_ERR_SUCCESS);
  client.loopStart();
  await until(() => rec.connects.length > 0 || rec.disconnects.length > 0 || rec.connectFails > 0, 3000,
    () => `onConnect\n${rec.logText()}`);
}

const encoders = new Map<ProtocolVersion, Encoder>();
function encode(packet: Packet, version: ProtocolVersion): Uint8Array {
  let e = encoders.get(version);
  if (e === undefined) encoders.set(version, (e = new Encoder(version)));
  return e.encode(packet).slice();
}

/** Whatever garbage collection this process may run: --expose-gc's gc, or one obtained through v8 flags. */
function collector(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === "function") return existing;
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
}

// =================================================================================================

describe("client against a hostile broker", { timeout: 90_000 }, () => {
  before(() => {
    process.on("uncaughtException", onUncaught);
    process.on("unhandledRejection", onUncaught);
  });
  afterEach(async () => {
    for (const c of clients) {
      c.disconnect();
      c.loopStop();
    }
    clients.clear();
    for (const b of brokers) await b.close();
    brokers.clear();
  });
  after(() => {
    process.removeListener("uncaughtException", onUncaught);
    process.removeListener("unhandledRejection", onUncaught);
    assert.deepEqual(escaped, [], "nothing was thrown out of the event loop");
  });

  describe("malformed packets close the connection with the reason", () => {
    /** bytes5: the MQTT 5 form, where it differs (a property length). */
    const cases: Array<{ name: string; bytes: number[]; bytes5?: number[]; reason: number; log: RegExp; v5only?: boolean }> = [
      { name: "PUBLISH with QoS 3", bytes: [0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01], reason: 0x81, log: /QoS 3/ },
      { name: "PUBLISH topic of bad UTF-8", bytes: [0x30, 0x04, 0x00, 0x02, 0xff, 0xfe], reason: 0x81, log: /not valid UTF-8/ },
      { name: "PUBLISH topic with an unpaired surrogate encoded (CESU)", bytes: [0x30, 0x05, 0x00, 0x03, 0xed, 0xa0, 0x80], reason: 0x81, log: /not valid UTF-8/ },
      { name: "PUBLISH topic with a wildcard", bytes: [0x30, 0x05, 0x00, 0x03, 0x61, 0x2f, 0x23], reason: 0x81, log: /wildcard/ },
      { name: "PUBLISH topic with U+0000", bytes: [0x30, 0x05, 0x00, 0x03, 0x61, 0x00, 0x62], reason: 0x81, log: /U\+0000/ },
      { name: "PUBLISH QoS 0 with DUP", bytes: [0x38, 0x03, 0x00, 0x01, 0x61], reason: 0x81, log: /DUP/ },
      { name: "PUBLISH QoS 1 with packet id 0", bytes: [0x32, 0x05, 0x00, 0x01, 0x61, 0x00, 0x00], reason: 0x82, log: /packet identifier 0/ },
      { name: "PUBLISH shorter than its topic length", bytes: [0x30, 0x03, 0x00, 0x09, 0x61], reason: 0x81, log: /./ },
      { name: "reserved packet type 0", bytes: [0x00, 0x00], reason: 0x81, log: /type 0/ },
      { name: "PUBACK with reserved flag bits", bytes: [0x41, 0x02, 0x00, 0x01], reason: 0x81, log: /reserved flag/ },
      { name: "Remaining Length of five bytes", bytes: [0x30, 0xff, 0xff, 0xff, 0xff, 0x7f], reason: 0x81, log: /longer than 4 bytes/ },
      { name: "Remaining Length not minimally encoded", bytes: [0xd0, 0x80, 0x00], reason: 0x81, log: /minimally/ },
      { name: "PINGRESP with a body", bytes: [0xd0, 0x01, 0x00], reason: 0x81, log: /trailing|PINGRESP/ },
      { name: "a PINGREQ from the server", bytes: [0xc0, 0x00], reason: 0x82, log: /never sends PINGREQ/ },
      { name: "a SUBSCRIBE from the server", bytes: [0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x00],
        bytes5: [0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 0x61, 0x00], reason: 0x82, log: /never sends SUBSCRIBE/ },
      { name: "AUTH without an authentication method", bytes: [0xf0, 0x00], reason: 0x82, log: /AUTH/, v5only: true },
    ];
    for (const protocol of [MQTTv311, MQTTv5] as const) {
      for (const c of cases) {
        if (c.v5only === true && protocol !== MQTTv5) continue;
        test(`MQTT ${protocol === MQTTv5 ? "5" : "3.1.1"}: ${c.name}`, async () => {
          let disconnect: ReceivedPacket | null = null;
          const broker = await scripted(async (conn) => {
            await accept(conn);
            await conn.sendRaw(new Uint8Array(protocol === MQTTv5 ? c.bytes5 ?? c.bytes : c.bytes));
            disconnect = await nextOf(conn, DISCONNECT);
          });
          const { client, rec } = watched(protocol);
          await up(client, rec, broker.port);
          await until(() => rec.disconnects.length > 0, 3000, () => `onDisconnect\n${rec.logText()}`);
          const d = rec.disconnects[0]!;
          assert.equal(d.rc, c.reason, `onDisconnect reason 0x${d.rc.toString(16)}, expected 0x${c.reason.toString(16)}\n${rec.logText()}`);
          assert.equal(d.flags.isDisconnectPacketFromServer, false);
          assert.match(rec.logs.filter((l) => l.level === MQTT_LOG_ERR).map((l) => l.buf).join("\n"), c.log, "an MQTT_LOG_ERR line says why");
          assert.equal(rec.messages.length, 0, "nothing malformed is delivered");
          await until(() => broker.connections[0]?.socket.destroyed === true || disconnect !== null, 3000, "the client closes its socket");
          if (protocol === MQTTv5) {
            await until(() => disconnect !== null, 3000, "the v5 DISCONNECT");
            assert.equal((disconnect as ReceivedPacket | null)?.type, DISCONNECT);
            assert.equal((disconnect as { reasonCode?: number } | null)?.reasonCode, c.reason, "a v5 client tells the broker why");
          }
          assert.deepEqual(broker.errors, []);
        });
      }
    }
  });

  for (const protocol of [MQTTv311, MQTTv5] as const) {
    const name = protocol === MQTTv5 ? "MQTT 5" : "MQTT 3.1.1";

    test(`${name}: a CONNACK sent before the client's CONNECT was read still connects`, async () => {
      const broker = await scripted(async (conn) => {
        // CONNACK at once: the broker has not read a byte yet.
        await conn.send({ type: CONNACK, sessionPresent: false, reasonCode: 0 }, protocol);
        const connect = await conn.next();
        assert.equal(connect?.type, CONNECT);
        const sub = await nextOf(conn, SUBSCRIBE);
        if (sub?.type !== SUBSCRIBE) return;
        await conn.send({ type: SUBACK, packetId: sub.packetId, reasonCodes: [1] });
        await conn.send({ type: PUBLISH, topic: "early/ok", payload: new Uint8Array([0x6f, 0x6b]), qos: 1, retain: false, dup: false, packetId: 5 });
        const ack = await nextOf(conn, PUBACK);
        assert.equal(ack?.type === PUBACK ? ack.packetId : -1, 5);
        await conn.next(5000);
      });
      const { client, rec } = watched(protocol);
      await up(client, rec, broker.port);
      assert.equal(rec.connects[0]?.rc, 0, rec.logText());
      client.subscribe("early/#", 1);
      await until(() => rec.messages.length === 1, 3000, "the message after the early CONNACK");
      assert.equal(Buffer.from(rec.messages[0]!.payload).toString(), "ok");
      await sleep(50);
      assert.deepEqual(broker.errors, []);
      assert.ok(client.isConnected());
    });

    test(`${name}: a second CONNACK is a protocol error (0x82)`, async () => {
      let disconnect: ReceivedPacket | null = null;
      const broker = await scripted(async (conn) => {
        await accept(conn);
        await conn.send({ type: CONNACK, sessionPresent: true, reasonCode: 0 });
        disconnect = await nextOf(conn, DISCONNECT);
      });
      const { client, rec } = watched(protocol);
      await up(client, rec, broker.port);
      await until(() => rec.disconnects.length > 0, 3000, "onDisconnect");
      assert.equal(rec.connects.length, 1, "the second CONNACK is not reported as a connection");
      assert.equal(rec.disconnects[0]!.rc, 0x82);
      assert.match(rec.logText(), /second CONNACK/);
      if (protocol === MQTTv5) {
        await until(() => disconnect !== null, 3000, "DISCONNECT");
        assert.equal((disconnect as { reasonCode?: number } | null)?.reasonCode, 0x82);
      }
    });

    test(`${name}: an unexpected PUBREL is answered with PUBCOMP; stray acknowledgements are logged; the connection lives on`, async () => {
      const answers: ReceivedPacket[] = [];
      const broker = await scripted(async (conn) => {
        await accept(conn);
        await conn.send({ type: PUBREL, packetId: 77, reasonCode: 0 });
        answers.push((await nextOf(conn, PUBCOMP))!);
        await conn.send({ type: PUBACK, packetId: 78, reasonCode: 0 });
        await conn.send({ type: PUBCOMP, packetId: 79, reasonCode: 0 });
        await conn.send({ type: SUBACK, packetId: 80, reasonCodes: [0] });
        await conn.send({ type: PUBREC, packetId: 81, reasonCode: 0 });
        if (protocol === MQTTv5) answers.push((await nextOf(conn, PUBREL))!);
        await conn.send({ type: PUBLISH, topic: "still/alive", payload: new Uint8Array([1]), qos: 1, retain: false, dup: false, packetId: 82 });
        answers.push((await nextOf(conn, PUBACK))!);
        await conn.next(5000);
      });
      const { client, rec } = watched(protocol);
      await up(client, rec, broker.port);
      await until(() => rec.messages.length === 1, 3000, () => `the message after the stray packets\n${rec.logText()}`);
      await until(() => answers.length === (protocol === MQTTv5 ? 3 : 2), 3000, "the answers");
      const [pubcomp] = answers;
      assert.equal(pubcomp?.type, PUBCOMP);
      assert.equal(pubcomp?.type === PUBCOMP ? pubcomp.packetId : 0, 77);
      // MQTT 5: 0x92 Packet Identifier not found; 3.1.1 has no reason code.
      assert.equal(pubcomp?.type === PUBCOMP ? pubcomp.reasonCode ?? 0 : -1, protocol === MQTTv5 ? 0x92 : 0);
      if (protocol === MQTTv5) {
        const pubrel = answers[1];
        assert.equal(pubrel?.type === PUBREL ? `${pubrel.packetId}:${pubrel.reasonCode}` : "", "81:146", "v5: PUBREL 0x92 for an unknown PUBREC");
      }
      const text = rec.logText();
      assert.match(text, /PUBACK for mid 78/);
      assert.match(text, /PUBCOMP for mid 79/);
      assert.match(text, /SUBACK for mid 80/);
      assert.match(text, /PUBREC for mid 81/);
      assert.equal(rec.disconnects.length, 0);
      assert.ok(client.isConnected());
    });

    /** A broker that announces a 268435455-byte PUBLISH and then streams zeros as fast as the client takes them. */
    async function hugePacketBroker(state: { streamed: number; disconnect: ReceivedPacket | null; connectProperties?: Properties }): Promise<ScriptedBroker> {
      return scripted(async (conn) => {
        const connect = await accept(conn);
        state.connectProperties = connect.type === CONNECT ? connect.properties : undefined;
        await conn.sendRaw(new Uint8Array([0x30, 0xff, 0xff, 0xff, 0x7f]));
        const reading = nextOf(conn, DISCONNECT, 5000).then((p) => {
          state.disconnect = p;
        }, () => {});
        const chunk = new Uint8Array(65536);
        while (!conn.socket.destroyed && state.streamed < 32 * 1024 * 1024) {
          await conn.sendRaw(chunk);
          state.streamed += chunk.length;
        }
        await reading;
      });
    }

    test(`${name}: a 256 MB Remaining Length is refused at once (0x95): onDisconnect says why, memory stays flat`, async () => {
      const gc = collector();
      const state = { streamed: 0, disconnect: null as ReceivedPacket | null, connectProperties: undefined as Properties | undefined };
      const broker = await hugePacketBroker(state);
      const { client, rec } = watched(protocol);
      client.reconnectDelaySet(30, 30);
      gc();
      const before = process.memoryUsage();
      await up(client, rec, broker.port);
      await until(() => rec.disconnects.length > 0, 3000, () => `onDisconnect\n${rec.logText()}`);
      assert.equal(rec.disconnects[0]!.rc, 0x95, `onDisconnect 0x95 Packet too large\n${rec.logText()}`);
      assert.match(rec.logText(), /PUBLISH of 268435460 bytes exceeds the maximum packet size of 262144/);
      assert.equal(rec.messages.length, 0);
      if (protocol === MQTTv5) {
        assert.equal(state.connectProperties?.maximumPacketSize, 256 * 1024, "the client advertised its Maximum Packet Size");
        await until(() => state.disconnect !== null, 3000, "DISCONNECT 0x95");
        assert.equal((state.disconnect as { reasonCode?: number } | null)?.reasonCode, 0x95, "a v5 client tells the broker why");
      }
      await sleep(300); // the broker keeps pushing meanwhile
      client.loopStop();
      gc();
      const afterUse = process.memoryUsage();
      const grew = afterUse.heapUsed - before.heapUsed + (afterUse.arrayBuffers - before.arrayBuffers);
      assert.ok(grew < 4 * 1024 * 1024, `heap + array buffers grew by ${grew} bytes (the broker pushed ${state.streamed})`);
      assert.ok(state.streamed < 32 * 1024 * 1024, `the client does not swallow the stream (the broker wrote ${state.streamed} bytes)`);
      await broker.close();
    });

    test(`${name}: after a protocol-error close the socket is released even if the broker keeps it open`,
      async () => {
        const state = { streamed: 0, disconnect: null as ReceivedPacket | null };
        const broker = await hugePacketBroker(state);
        const { client, rec } = watched(protocol);
        client.reconnectDelaySet(30, 30);
        const sockets: Array<{ destroyed: boolean }> = [];
        client.onSocketOpen = (_c, _u, sock) => sockets.push(sock as { destroyed: boolean });
        await up(client, rec, broker.port);
        await until(() => rec.disconnects.length > 0, 3000, "onDisconnect");
        await until(() => sockets[0]?.destroyed === true, 2000, "the client's socket to be destroyed after its close");
      });

    test(`${name}: half a packet and then silence: keepalive ends it within 1.5 x keepalive`, async () => {
      const KEEPALIVE = 2;
      let connackAt = 0;
      const seen: number[] = [];
      const broker = await scripted(async (conn) => {
        await accept(conn);
        connackAt = Date.now();
        await conn.sendRaw(new Uint8Array([0x30, 0x0a, 0x00])); // 3 bytes of a 12-byte PUBLISH
        for (;;) {
          const p = await conn.next(10_000).catch(() => null);
          if (p === null) return;
          seen.push(p.type); // no PINGRESP: the broker is stuck
        }
      });
      const { client, rec } = watched(protocol);
      await up(client, rec, broker.port, KEEPALIVE);
      await until(() => rec.disconnects.length > 0, KEEPALIVE * 1500 + 2000, () => `onDisconnect\n${rec.logText()}`);
      const elapsed = rec.disconnects[0]!.at - connackAt;
      assert.equal(rec.disconnects[0]!.rc, 0x8d, "Keep Alive timeout");
      assert.ok(elapsed >= KEEPALIVE * 1500 - 200 && elapsed <= KEEPALIVE * 1500 + 1000, `closed after ${elapsed} ms`);
      assert.ok(seen.includes(PINGREQ), "the client pinged before giving up");
      assert.match(rec.logText(), /keepalive/i);
      assert.equal(rec.messages.length, 0);
    });

    test(`${name}: a broker that closes before CONNACK: onConnectFail, and onLog says why`, async () => {
      const broker = await scripted(async (conn) => {
        await conn.next();
        conn.end();
      });
      const { client, rec } = watched(protocol);
      assert.equal(await within(client.connect(HOST, broker.port), 3000, "connect()"), MQTT_ERR_SUCCESS);
      client.loopStart();
      await until(() => rec.connectFails > 0, 3000, () => `onConnectFail\n${rec.logText()}`);
      assert.equal(rec.connects.length, 0);
      assert.equal(rec.disconnects.length, 0, "onDisconnect is for connections that were made");
      assert.match(rec.logText(), /before CONNACK/);
    });

    test(`${name}: a refused CONNACK reaches onConnect with its code, and the log names it`, async () => {
      const code = protocol === MQTTv5 ? 0x87 : 5;
      const broker = await scripted(async (conn) => {
        await conn.next();
        await conn.send({ type: CONNACK, sessionPresent: false, reasonCode: code,
          properties: protocol === MQTTv5 ? { reasonString: "go away" } : undefined });
        await conn.next(3000).catch(() => null);
      });
      const { client, rec } = watched(protocol);
      await up(client, rec, broker.port);
      assert.equal(rec.connects[0]?.rc, code);
      assert.deepEqual(rec.connects[0]?.flags, { sessionPresent: false });
      if (protocol === MQTTv5) assert.equal(rec.connects[0]?.props.reasonString, "go away");
      assert.match(rec.logText(), protocol === MQTTv5 ? /refused: reason code 0x87/ : /not authori[sz]ed/);
      assert.equal(client.isConnected(), false);
    });

    test(`${name}: the broker resets the connection: onDisconnect with a non-zero reason, then a reconnect`, async () => {
      const broker = await scripted(async (conn) => {
        await accept(conn);
        if (broker.connections.length === 1) {
          await sleep(50);
          conn.socket.resetAndDestroy();
        } else {
          await conn.next(5000).catch(() => null);
        }
      });
      const { client, rec } = watched(protocol);
      client.reconnectDelaySet(0.05, 0.1);
      await up(client, rec, broker.port);
      await until(() => rec.disconnects.length > 0, 3000, "onDisconnect");
      assert.notEqual(rec.disconnects[0]!.rc, 0);
      assert.match(rec.logText(), /Connection lost/);
      await until(() => rec.connects.length === 2, 3000, "the reconnect");
    });

    test(`${name}: input in tiny fragments is reassembled`, async () => {
      const big = new Uint8Array(100_000).map((_, i) => i & 0xff);
      const broker = await scripted(async (conn) => {
        await conn.next();
        const bytes = [
          encode({ type: CONNACK, sessionPresent: false, reasonCode: 0 }, protocol),
          encode({ type: PUBLISH, topic: "frag/0", payload: new Uint8Array([1, 2, 3]), qos: 0, retain: false, dup: false, packetId: 0 }, protocol),
          encode({ type: PUBLISH, topic: "frag/1", payload: big, qos: 1, retain: true, dup: false, packetId: 9 }, protocol),
          encode({ type: PUBLISH, topic: "frag/2", payload: new Uint8Array(0), qos: 2, retain: false, dup: false, packetId: 10,
            properties: protocol === MQTTv5 ? { userProperties: [["a", "b"]] } : undefined }, protocol),
        ];
        const all = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
        let o = 0;
        for (const b of bytes) {
          all.set(b, o);
          o += b.length;
        }
        // One byte at a time through the headers, then random slices.
        let pos = 0;
        let step = 0;
        while (pos < all.length) {
          const n = pos < 64 || pos > all.length - 64 ? 1 : 1 + ((step * 7919) % 4000);
          await conn.sendRaw(all.subarray(pos, Math.min(all.length, pos + n)));
          pos += n;
          if (++step % 16 === 0) await sleep(1);
        }
        const acks = [await nextOf(conn, PUBACK), await nextOf(conn, PUBREC)];
        assert.deepEqual(acks.map((a) => a?.type), [PUBACK, PUBREC]);
        await conn.send({ type: PUBREL, packetId: 10, reasonCode: 0 });
        await nextOf(conn, PUBCOMP);
        await conn.next(5000).catch(() => null);
      });
      const { client, rec } = watched(protocol);
      await up(client, rec, broker.port);
      await until(() => rec.messages.length === 3, 5000, () => `three messages, got ${rec.messages.length}\n${rec.logText()}`);
      const [m0, m1, m2] = rec.messages;
      assert.deepEqual([m0?.topic, [...(m0?.payload ?? [])]], ["frag/0", [1, 2, 3]]);
      assert.equal(m1?.topic, "frag/1");
      assert.equal(m1?.retain, true);
      assert.deepEqual(m1?.payload, big);
      assert.deepEqual([m2?.topic, m2?.qos, m2?.payload.length], ["frag/2", 2, 0]);
      if (protocol === MQTTv5) assert.deepEqual(m2?.properties?.userProperties, [["a", "b"]]);
      await sleep(50);
      assert.deepEqual(broker.errors, []);
    });

    test(`${name}: a re-sent QoS 2 PUBLISH (DUP) before PUBREL is delivered once and acknowledged again`, async () => {
      let pubrecs = 0;
      const broker = await scripted(async (conn) => {
        await accept(conn);
        const p = { type: PUBLISH, topic: "dup/x", payload: new Uint8Array([7]), qos: 2, retain: false, dup: false, packetId: 33 } as const;
        await conn.send(p);
        if ((await nextOf(conn, PUBREC)) !== null) pubrecs++;
        await conn.send({ ...p, dup: true });
        if ((await nextOf(conn, PUBREC)) !== null) pubrecs++;
        await conn.send({ type: PUBREL, packetId: 33, reasonCode: 0 });
        await nextOf(conn, PUBCOMP);
        // After PUBCOMP the id is free: the same id now is a new message.
        await conn.send({ ...p, payload: new Uint8Array([8]) });
        await nextOf(conn, PUBREC);
        await conn.next(5000).catch(() => null);
      });
      const { client, rec } = watched(protocol);
      await up(client, rec, broker.port);
      await until(() => rec.messages.length === 2, 3000, "two distinct messages");
      await sleep(100);
      assert.deepEqual(rec.messages.map((m) => m.payload[0]), [7, 8]);
      assert.equal(pubrecs, 2);
    });

    test(`${name}: a SUBACK with the wrong number of reason codes is a protocol error`, async () => {
      const broker = await scripted(async (conn) => {
        await accept(conn);
        const sub = await nextOf(conn, SUBSCRIBE);
        if (sub?.type !== SUBSCRIBE) return;
        await conn.send({ type: SUBACK, packetId: sub.packetId, reasonCodes: [0, 1, 2] });
        await conn.next(3000).catch(() => null);
      });
      const { client, rec } = watched(protocol);
      let subscribed = 0;
      client.onSubscribe = () => subscribed++;
      await up(client, rec, broker.port);
      client.subscribe([["a", 0], ["b", 1]]);
      await until(() => rec.disconnects.length > 0, 3000, "onDisconnect");
      assert.equal(rec.disconnects[0]!.rc, 0x82);
      assert.match(rec.logText(), /3 reason codes for 2 topic filters/);
      assert.equal(subscribed, 0);
    });

    test(`${name}: a callback that throws is logged and the client carries on`, async () => {
      const broker = await scripted(async (conn) => {
        await accept(conn);
        for (const id of [1, 2]) {
          await conn.send({ type: PUBLISH, topic: `boom/${id}`, payload: new Uint8Array([id]), qos: 1, retain: false, dup: false, packetId: id });
        }
        await nextOf(conn, PUBACK);
        await nextOf(conn, PUBACK);
        await conn.next(5000).catch(() => null);
      });
      const { client, rec } = watched(protocol);
      const seen: string[] = [];
      client.onMessage = (_c, _u, m) => {
        seen.push(m.topic);
        throw new Error(`callback failure for ${m.topic}`);
      };
      client.onPublish = () => {
        throw new TypeError("onPublish failure");
      };
      await up(client, rec, broker.port);
      await until(() => seen.length === 2, 3000, "both messages despite the first callback throwing");
      assert.match(rec.logText(), /Caught exception in onMessage: Error: callback failure for boom\/1/);
      assert.ok(client.isConnected());
      // A throwing onLog does not take the client down either.
      client.onLog = () => {
        throw new Error("onLog failure");
      };
      const info = client.publish("boom/out", "x", 0);
      await within(info.waitForPublish(), 3000, "a QoS 0 publish despite a throwing onPublish and onLog");
    });
  }

  test("MQTT 5: a DISCONNECT from the server reaches onDisconnect with its reason code and properties", async () => {
    const broker = await scripted(async (conn) => {
      await accept(conn);
      await conn.send({ type: DISCONNECT, reasonCode: 0x8b, properties: { reasonString: "maintenance", serverReference: "other:1883" } });
      conn.end();
    });
    const { client, rec } = watched(MQTTv5);
    await up(client, rec, broker.port);
    await until(() => rec.disconnects.length > 0, 3000, "onDisconnect");
    const d = rec.disconnects[0]!;
    assert.deepEqual(d.flags, { isDisconnectPacketFromServer: true });
    assert.equal(d.rc, 0x8b);
    assert.equal(d.props.reasonString, "maintenance");
    assert.equal(d.props.serverReference, "other:1883");
  });

  async function deadPort(): Promise<number> {
    const broker = await scripted(() => {});
    const port = broker.port;
    await broker.close();
    brokers.delete(broker);
    return port;
  }

  test("nothing listening: connect() rejects with MQTT_ERR_NO_CONN; loopStart keeps retrying and the log says why", async () => {
    const port = await deadPort();
    const { client, rec } = watched(MQTTv311);
    await assert.rejects(within(client.connect(HOST, port), 3000, "connect()"), (e: Error & { rc?: number }) => {
      assert.equal(e.rc, MQTT_ERR_NO_CONN);
      assert.match(e.message, /refused/);
      return true;
    });
    client.connectAsync(HOST, port);
    client.reconnectDelaySet(0.05, 0.1);
    client.loopStart();
    await until(() => rec.logs.filter((l) => /Failed to connect: connection refused by 127\.0\.0\.1/.test(l.buf)).length >= 3, 3000,
      () => `three failed attempts logged\n${rec.logText()}`);
    assert.match(rec.logText(), /Reconnecting in 0\.05 s/);
    assert.equal(rec.connects.length, 0);
    assert.equal(rec.disconnects.length, 0);
  });

  for (const mode of ["loopStart", "loopForever"] as const) {
    test(`nothing listening: onConnectFail runs for each failed attempt under ${mode}()`,
      async () => {
        const port = await deadPort();
        const { client, rec } = watched(MQTTv311);
        client.connectAsync(HOST, port);
        client.reconnectDelaySet(0.05, 0.1);
        let forever: Promise<number> | undefined;
        if (mode === "loopStart") client.loopStart();
        else forever = client.loopForever({ retryFirstConnection: true });
        try {
          await until(() => rec.connectFails >= 2, 3000, () => `onConnectFail twice, got ${rec.connectFails}`);
        } finally {
          client.disconnect();
          if (forever !== undefined) await within(forever, 3000, "loopForever() settles after disconnect()");
        }
      });
  }

  test("MQTT 5: correlationData of a kept message copy survives the next packet",
    async () => {
      const encoder = new Encoder(5);
      const pieces = (id: number, data: number[]): Uint8Array[] => {
        const bytes = encoder.encode({ type: PUBLISH, topic: "corr", payload: new Uint8Array([id]), qos: 0, retain: false, dup: false,
          packetId: 0, properties: { correlationData: new Uint8Array(data) } }).slice();
        return [bytes.subarray(0, 4), bytes.subarray(4)];
      };
      const broker = await scripted(async (conn) => {
        await accept(conn);
        // Each PUBLISH is cut in two writes, so it is reassembled in the receive buffer.
        for (const [id, data] of [[1, [1, 2, 3]], [2, [9, 9, 9]]] as const) {
          for (const piece of pieces(id, [...data])) {
            await conn.sendRaw(piece);
            await sleep(20);
          }
        }
        await conn.next(5000).catch(() => null);
      });
      const { client, rec } = watched(MQTTv5);
      await up(client, rec, broker.port);
      await until(() => rec.messages.length === 2, 3000, "two messages");
      assert.deepEqual([...(rec.messages[0]!.properties?.correlationData ?? [])], [1, 2, 3], "the first copy still holds its own correlationData");
    });
  // A 3.x broker cannot be told our limit, and holds (retained, or queued for our session) a message larger
  // than the budget: it must be read past and acknowledged, or every reconnect would fetch it again.
  for (const protocol of [MQTTv31, MQTTv311] as const) {
    for (const qos of [0, 1, 2] as const) {
      test(`MQTT ${protocol === MQTTv31 ? "3.1" : "3.1.1"} QoS ${qos}: a message larger than budget.maxPacketSize is read past, acknowledged, reported, and the connection stays`, async () => {
        const big = encode({ type: PUBLISH, topic: "big", payload: new Uint8Array(20_000).fill(0x62), qos, retain: true, dup: false, packetId: qos > 0 ? 7 : 0 }, protocol);
        const small = encode({ type: PUBLISH, topic: "small", payload: new TextEncoder().encode("after"), qos: 0, retain: false, dup: false, packetId: 0 }, protocol);
        const acks: string[] = [];
        const broker = await scripted(async (conn) => {
          await accept(conn);
          // In pieces, as TCP may deliver it: the header cut in the middle of the topic, the rest in chunks.
          for (let at = 0; at < big.length; at += 4000) {
            await conn.sendRaw(big.subarray(at, at === 0 ? 5 : Math.min(at + 4000, big.length)));
            if (at === 0) at = 5 - 4000;
            await sleep(5);
          }
          await conn.sendRaw(small);
          if (qos === 1) {
            const p = await nextOf(conn, PUBACK);
            acks.push(`PUBACK ${p?.type === PUBACK ? p.packetId : "none"}`);
          }
          if (qos === 2) {
            const p = await nextOf(conn, PUBREC);
            acks.push(`PUBREC ${p?.type === PUBREC ? p.packetId : "none"}`);
            await conn.send({ type: PUBREL, packetId: 7 });
            const c = await nextOf(conn, PUBCOMP);
            acks.push(`PUBCOMP ${c?.type === PUBCOMP ? c.packetId : "none"}`);
          }
          await conn.next(5000).catch(() => null);
        });
        const { client, rec } = watched(protocol, { budget: { maxPacketSize: 1024 } });
        client.reconnectDelaySet(0.05, 0.05);
        await up(client, rec, broker.port);
        await until(() => rec.messages.length === 1, 3000, () => `the message after it\n${rec.logText()}`);
        assert.deepEqual(rec.messages.map((m) => m.topic), ["small"], "only the message that fits is delivered");
        if (qos === 1) await until(() => acks.length === 1, 3000, "PUBACK");
        if (qos === 2) await until(() => acks.length === 2, 3000, "PUBREC, then PUBCOMP");
        assert.deepEqual(acks, qos === 0 ? [] : qos === 1 ? ["PUBACK 7"] : ["PUBREC 7", "PUBCOMP 7"]);
        assert.equal(client.oversizedMessages, 1);
        const errors = rec.logs.filter((l) => l.level === MQTT_LOG_ERR).map((l) => l.buf);
        assert.deepEqual(errors, [`a ${big.length}-byte PUBLISH to big (QoS ${qos}, mid ${qos > 0 ? 7 : 0}) is larger than budget.maxPacketSize 1024: read past, acknowledged, not delivered`]);
        await sleep(200);
        assert.equal(rec.disconnects.length, 0, `no disconnect\n${rec.logText()}`);
        assert.equal(rec.connects.length, 1, "no reconnect loop");
        assert.equal(broker.connections.length, 1);
        assert.ok(client.isConnected());
      });
    }
  }
});
