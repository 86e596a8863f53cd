/**
 * Resuming a session from a store, against a scripted broker on loopback (test/support/scripted-broker.ts):
 * client A publishes QoS 1/2, the broker acknowledges some and PUBRECs others, delivers an incoming QoS 2
 * message, and A is dropped without DISCONNECT (its loop stopped first: a frozen or killed process). Client
 * B, new, with the same client id and store, resumes: PUBLISH with DUP for the unacknowledged flows and
 * PUBREL for the released ones, in their original order; new publishes take ids the broker does not hold;
 * the incoming QoS 2 message re-sent by the broker is acknowledged and not delivered again; onPublish reports
 * the restored mids as their flows complete. With CONNACK session present 0, unackedOnNewSession "resend"
 * and "discard" both do what client.ts documents, with clean session on and off. waitForPublish() across
 * a reconnect of the same client. Every store kind: MemoryStore and FileStore (B on a new FileStore
 * instance over the same folder, as after a restart).
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client, FileStore, MemoryStore, MQTT_ERR_SUCCESS, type MessageInfo, type ProtocolVersion, type SessionStore } from "../../hosts/node/index.js";
import { CONNACK, CONNECT, PINGREQ, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL } from "../../src/codec/index.js";
import { type ReceivedPacket, type ScriptedBroker, type ScriptedConnection, startScriptedBroker } from "../support/scripted-broker.js";
import { FakeHost } from "../support/fake-host.js";
import { HOST, until, within } from "./faults/util.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "tinymqtt-session-resume-"));
const brokers = new Set<ScriptedBroker>();
const clients = new Set<Client>();
after(async () => {
  for (const c of clients) {
    c.loopStop();
    c.disconnect();
  }
  for (const b of brokers) await b.close();
  fs.rmSync(root, { recursive: true, force: true });
});

let dirs = 0;

interface StoreKind {
  name: string;
  /** A store for client A, and what client B gets "after the restart". */
  make(): { a: SessionStore; b(): SessionStore; inspect(): SessionStore };
}

const STORES: StoreKind[] = [
  {
    name: "MemoryStore",
    make() {
      const s = new MemoryStore();
      return { a: s, b: () => s, inspect: () => s };
    },
  },
  {
    name: "FileStore",
    make() {
      const dir = path.join(root, `s${dirs++}`);
      return { a: new FileStore(dir), b: () => new FileStore(dir), inspect: () => new FileStore(dir) };
    },
  },
];

/** Each accepted connection runs the next script; an unexpected extra connection fails the test. */
async function scripted(...scripts: Array<(conn: ScriptedConnection) => Promise<void>>): Promise<ScriptedBroker> {
  let n = 0;
  const broker = await startScriptedBroker(async (conn) => {
    const script = scripts[n++];
    if (script === undefined) throw new Error(`connection ${n} was not expected`);
    await script(conn);
  });
  brokers.add(broker);
  return broker;
}

/** The next packet that is not a PINGREQ (answered); fails on a closed connection. */
async function next(conn: ScriptedConnection, timeoutMs = 3000): Promise<ReceivedPacket> {
  for (;;) {
    const p = await conn.next(timeoutMs);
    if (p === null) throw new Error("the client closed the connection");
    if (p.type === PINGREQ) {
      await conn.send({ type: PINGRESP });
      continue;
    }
    return p;
  }
}

async function expectType<T extends number>(conn: ScriptedConnection, type: T): Promise<ReceivedPacket & { type: T }> {
  const p = await next(conn);
  assert.equal(p.type, type, `expected packet type ${type}, got ${JSON.stringify(p)}`);
  return p as ReceivedPacket & { type: T };
}

async function accept(conn: ScriptedConnection, sessionPresent: boolean, clientId: string, cleanStart: boolean): Promise<void> {
  const c = await expectType(conn, CONNECT);
  assert.equal(c.clientId, clientId);
  assert.equal(c.cleanStart, cleanStart);
  await conn.send({ type: CONNACK, sessionPresent, reasonCode: 0 });
}

/** Short names for the packets asserted on, so a failure shows the whole sequence at once. */
function describePacket(p: ReceivedPacket): string {
  switch (p.type) {
    case PUBLISH: return `PUBLISH q${p.qos} id${p.packetId}${p.dup ? " dup" : ""} ${new TextDecoder().decode(p.payload)}`;
    case PUBACK: return `PUBACK ${p.packetId}`;
    case PUBREC: return `PUBREC ${p.packetId}`;
    case PUBREL: return `PUBREL ${p.packetId}`;
    case PUBCOMP: return `PUBCOMP ${p.packetId}`;
    default: return `type ${p.type}`;
  }
}

class Rec {
  published: Array<[number, number]> = [];
  messages: Array<{ topic: string; text: string; mid: number; dup: boolean }> = [];
  connacks: boolean[] = [];
  logs: string[] = [];
}

function makeClient(options: ConstructorParameters<typeof Client>[0]): { client: Client; rec: Rec } {
  const client = new Client(options);
  clients.add(client);
  const rec = new Rec();
  client.onPublish = (_c, _u, mid, rc) => rec.published.push([mid, rc]);
  client.onMessage = (_c, _u, m) => rec.messages.push({ topic: m.topic, text: new TextDecoder().decode(m.payload), mid: m.mid, dup: m.dup });
  client.onConnect = (_c, _u, flags, rc) => { if (rc === 0) rec.connacks.push(flags.sessionPresent); };
  client.onLog = (_c, _u, level, buf) => { if (rec.logs.length < 100) rec.logs.push(`${level} ${buf}`); };
  return { client, rec };
}

async function up(client: Client, rec: Rec, port: number): Promise<void> {
  assert.equal(await within(client.connect(HOST, port, 30), 3000, "connect()"), MQTT_ERR_SUCCESS);
  client.loopStart();
  await until(() => rec.connacks.length > 0, 3000, () => `onConnect\n${rec.logs.join("\n")}`);
}

/** A "crash": the loop stops (nothing more is processed or written), then the broker drops the link. */
function crash(client: Client, conn: ScriptedConnection): void {
  client.loopStop();
  conn.destroy();
}

const PUBLISHES: ReadonlyArray<[string, 1 | 2]> = [["m1", 1], ["m2", 2], ["m3", 2], ["m4", 1], ["m5", 2], ["m6", 2], ["m7", 1], ["m8", 2]];

for (const kind of STORES) {
  for (const version of [4, 5] as ProtocolVersion[]) {
    describe(`resume after a restart: ${kind.name}, MQTT ${version === 4 ? "3.1.1" : "5"}`, () => {
      test("unacked flows re-sent with DUP, released ones continue with PUBREL, in order; new ids avoid held ones; incoming QoS 2 delivered once", async () => {
        const stores = kind.make();
        const clientId = `resume-${kind.name}-${version}`;
        const a = makeClient({ clientId, cleanSession: false, store: stores.a, protocol: version });
        let b: ReturnType<typeof makeClient> | undefined;
        const secondSeen: string[] = [];
        let aDone!: () => void;
        const aFinished = new Promise<void>((resolve) => { aDone = resolve; });
        let bDone!: () => void;
        const bFinished = new Promise<void>((resolve) => { bDone = resolve; });
        let bNew: Array<{ info: MessageInfo; text: string }> = [];

        const broker = await scripted(
          async (conn) => {
            await accept(conn, false, clientId, false);
            const first: ReceivedPacket[] = [];
            for (let i = 0; i < PUBLISHES.length; i++) first.push(await expectType(conn, PUBLISH));
            assert.deepEqual(first.map((p) => [p.type === PUBLISH && p.packetId, p.type === PUBLISH && p.dup]),
              PUBLISHES.map((_, i) => [i + 1, false]));
            // 1 acknowledged; 2 completed; 3 and 6 released (PUBREC, PUBREL, no PUBCOMP); 4, 5, 7, 8 unacknowledged.
            await conn.send({ type: PUBACK, packetId: 1 });
            await conn.send({ type: PUBREC, packetId: 2 });
            assert.equal((await expectType(conn, PUBREL)).packetId, 2);
            await conn.send({ type: PUBCOMP, packetId: 2 });
            await conn.send({ type: PUBREC, packetId: 3 });
            assert.equal((await expectType(conn, PUBREL)).packetId, 3);
            await conn.send({ type: PUBREC, packetId: 6 });
            assert.equal((await expectType(conn, PUBREL)).packetId, 6);
            // An incoming QoS 2 message, id 7: delivered to A, PUBREC'd, never released on this connection.
            await conn.send({ type: PUBLISH, topic: "in/x", payload: new TextEncoder().encode("once"), qos: 2, retain: false, dup: false, packetId: 7 });
            assert.equal((await expectType(conn, PUBREC)).packetId, 7);
            await until(() => a.rec.published.length === 2, 2000, () => `A's onPublish for 1 and 2: ${JSON.stringify(a.rec.published)}`);
            crash(a.client, conn);
            aDone();
          },
          async (conn) => {
            await accept(conn, true, clientId, false);
            // The resumed flows, in their original order.
            for (let i = 0; i < 6; i++) secondSeen.push(describePacket(await next(conn)));
            assert.deepEqual(secondSeen, [
              "PUBREL 3", "PUBLISH q1 id4 dup m4", "PUBLISH q2 id5 dup m5", "PUBREL 6", "PUBLISH q1 id7 dup m7", "PUBLISH q2 id8 dup m8",
            ]);
            // B's own new publishes (made once connected) take ids the broker does not hold.
            await until(() => bNew.length === 4, 2000, "B's new publishes");
            const fresh: ReceivedPacket[] = [];
            for (let i = 0; i < 4; i++) fresh.push(await expectType(conn, PUBLISH));
            const freshIds = fresh.map((p) => (p.type === PUBLISH ? p.packetId : -1));
            assert.deepEqual(freshIds, bNew.map((n) => n.info.mid), "the mids publish() returned are the packet ids");
            for (const id of freshIds) assert.ok(![3, 4, 5, 6, 7, 8].includes(id), `new id ${id} is one the broker still holds`);
            assert.equal(new Set(freshIds).size, 4);
            assert.ok(fresh.every((p) => p.type === PUBLISH && !p.dup), "new publishes go out without DUP");

            // The broker re-sends the incoming QoS 2 message A already delivered: PUBREC, no delivery.
            await conn.send({ type: PUBLISH, topic: "in/x", payload: new TextEncoder().encode("once"), qos: 2, retain: false, dup: true, packetId: 7 });
            assert.equal((await expectType(conn, PUBREC)).packetId, 7);
            await conn.send({ type: PUBREL, packetId: 7 });
            assert.equal((await expectType(conn, PUBCOMP)).packetId, 7);

            // Complete everything.
            await conn.send({ type: PUBCOMP, packetId: 3 });
            await conn.send({ type: PUBACK, packetId: 4 });
            await conn.send({ type: PUBREC, packetId: 5 });
            assert.equal((await expectType(conn, PUBREL)).packetId, 5);
            await conn.send({ type: PUBCOMP, packetId: 5 });
            await conn.send({ type: PUBCOMP, packetId: 6 });
            await conn.send({ type: PUBACK, packetId: 7 });
            await conn.send({ type: PUBREC, packetId: 8 });
            assert.equal((await expectType(conn, PUBREL)).packetId, 8);
            await conn.send({ type: PUBCOMP, packetId: 8 });
            for (const p of fresh) {
              if (p.type !== PUBLISH) continue;
              if (p.qos === 1) await conn.send({ type: PUBACK, packetId: p.packetId });
              else {
                await conn.send({ type: PUBREC, packetId: p.packetId });
                assert.equal((await expectType(conn, PUBREL)).packetId, p.packetId);
                await conn.send({ type: PUBCOMP, packetId: p.packetId });
              }
            }
            // Id 7 is free again: a new message under it is a new message, delivered.
            await conn.send({ type: PUBLISH, topic: "in/x", payload: new TextEncoder().encode("again"), qos: 2, retain: false, dup: false, packetId: 7 });
            assert.equal((await expectType(conn, PUBREC)).packetId, 7);
            await conn.send({ type: PUBREL, packetId: 7 });
            assert.equal((await expectType(conn, PUBCOMP)).packetId, 7);
            bDone();
            // Then the client disconnects.
            const last = await conn.next(3000);
            assert.ok(last === null || last.type === 14, `DISCONNECT or close, got ${JSON.stringify(last)}`);
          },
        );

        await up(a.client, a.rec, broker.port);
        const aInfos = PUBLISHES.map(([text, qos]) => a.client.publish(`out/${text}`, text, qos));
        assert.deepEqual(aInfos.map((i) => i.mid), [1, 2, 3, 4, 5, 6, 7, 8]);
        await within(aFinished, 5000, `A's connection script; errors ${String(broker.errors)}`);
        assert.deepEqual(a.rec.messages.map((m) => m.text), ["once"], "A delivered the incoming message");

        b = makeClient({ clientId, cleanSession: false, store: stores.b(), protocol: version });
        await up(b.client, b.rec, broker.port);
        assert.deepEqual(b.rec.connacks, [true]);
        bNew = [["n1", 1], ["n2", 2], ["n3", 1], ["n4", 2]].map(([text, qos]) => ({ text: text as string, info: b!.client.publish(`out/${text as string}`, text, qos as 1 | 2) }));
        await within(bFinished, 5000, `B's connection script (seen ${JSON.stringify(secondSeen)}); errors ${String(broker.errors)}`);
        await within(Promise.all(bNew.map((n) => n.info.waitForPublish())), 3000, "waitForPublish of B's new messages");
        await until(() => b!.rec.published.length === 10, 2000, () => `B's onPublish: ${JSON.stringify(b!.rec.published)}`);
        assert.deepEqual(broker.errors, []);

        // onPublish reported every restored mid as its flow completed, and the new ones; all successes.
        assert.deepEqual(b.rec.published.map(([mid]) => mid).sort((x, y) => x - y),
          [3, 4, 5, 6, 7, 8, ...bNew.map((n) => n.info.mid)].sort((x, y) => x - y));
        assert.ok(b.rec.published.every(([, rc]) => rc === 0), JSON.stringify(b.rec.published));
        assert.deepEqual(b.rec.messages.map((m) => m.text), ["again"], "the incoming message A had is not delivered twice");
        b.client.disconnect();
        await until(() => !b!.client.isConnected(), 2000, "B's disconnect");
        b.client.loopStop();
        // Nothing is left in the store.
        const check = stores.inspect();
        assert.deepEqual(check.open(clientId, 4), { outgoing: [], incoming: [] });
        check.close();
      });
    });
  }

  describe(`broker without our session (CONNACK session present 0): ${kind.name}`, () => {
    for (const cleanSession of [false, true]) {
      for (const mode of ["resend", "discard"] as const) {
        test(`unackedOnNewSession "${mode}"${mode === "resend" ? " (the default)" : ""}, clean session ${cleanSession ? "on" : "off"}`, async () => {
          const stores = kind.make();
          const clientId = `lost-${kind.name}-${mode}-${cleanSession}`;
          const a = makeClient({ clientId, cleanSession: false, store: stores.a });
          let aDone!: () => void;
          const aFinished = new Promise<void>((resolve) => { aDone = resolve; });
          let bDone!: () => void;
          const bFinished = new Promise<void>((resolve) => { bDone = resolve; });
          const seen: string[] = [];
          const broker = await scripted(
            async (conn) => {
              await accept(conn, false, clientId, false);
              for (let i = 0; i < 3; i++) await expectType(conn, PUBLISH);
              await conn.send({ type: PUBREC, packetId: 2 });
              assert.equal((await expectType(conn, PUBREL)).packetId, 2);
              await conn.send({ type: PUBLISH, topic: "in/x", payload: new TextEncoder().encode("first"), qos: 2, retain: false, dup: false, packetId: 9 });
              assert.equal((await expectType(conn, PUBREC)).packetId, 9);
              await until(() => a.rec.messages.length === 1, 2000, "A's delivery");
              crash(a.client, conn);
              aDone();
            },
            async (conn) => {
              await accept(conn, false, clientId, cleanSession);
              // A new session: id 9 from the broker is a new message now.
              await conn.send({ type: PUBLISH, topic: "in/x", payload: new TextEncoder().encode("new session"), qos: 2, retain: false, dup: false, packetId: 9 });
              if (mode === "resend") {
                for (let i = 0; i < 4; i++) seen.push(describePacket(await next(conn)));
                // The released flow starts again from PUBLISH (the broker that forgot it may never deliver it).
                assert.deepEqual(seen, ["PUBLISH q1 id1 dup a1", "PUBLISH q2 id2 dup a2", "PUBLISH q2 id3 dup a3", "PUBREC 9"]);
                await conn.send({ type: PUBACK, packetId: 1 });
                for (const id of [2, 3]) {
                  await conn.send({ type: PUBREC, packetId: id });
                  assert.equal((await expectType(conn, PUBREL)).packetId, id);
                  await conn.send({ type: PUBCOMP, packetId: id });
                }
              } else {
                // Nothing of the old session goes out: the first thing is the PUBREC for the new message.
                seen.push(describePacket(await next(conn)));
                assert.deepEqual(seen, ["PUBREC 9"]);
              }
              await conn.send({ type: PUBREL, packetId: 9 });
              assert.equal((await expectType(conn, PUBCOMP)).packetId, 9);
              bDone();
              const last = await conn.next(3000);
              assert.ok(last === null || last.type === 14, `DISCONNECT or close, got ${JSON.stringify(last)}`);
            },
          );
          await up(a.client, a.rec, broker.port);
          a.client.publish("out/a1", "a1", 1);
          a.client.publish("out/a2", "a2", 2);
          a.client.publish("out/a3", "a3", 2);
          await within(aFinished, 5000, `A's script; errors ${String(broker.errors)}`);

          const b = makeClient({ clientId, cleanSession, store: stores.b(), unackedOnNewSession: mode });
          await up(b.client, b.rec, broker.port);
          await within(bFinished, 5000, `B's script (seen ${JSON.stringify(seen)}); errors ${String(broker.errors)}`);
          assert.deepEqual(broker.errors, []);
          await until(() => b.rec.published.length === 3, 2000, () => `B's onPublish: ${JSON.stringify(b.rec.published)}`);
          const byMid = new Map(b.rec.published);
          if (mode === "resend") {
            assert.deepEqual([...byMid.entries()].sort(), [[1, 0], [2, 0], [3, 0]]);
          } else {
            // Documented: the dropped flows are reported with 0x80; the one the broker PUBREC'd was the broker's.
            assert.deepEqual([...byMid.entries()].sort(), [[1, 0x80], [2, 0], [3, 0x80]]);
          }
          assert.deepEqual(b.rec.messages.map((m) => m.text), ["new session"]);
          b.client.disconnect();
          await until(() => !b.client.isConnected(), 2000, "B's disconnect");
          b.client.loopStop();
          const check = stores.inspect();
          assert.deepEqual(check.open(clientId, 4), { outgoing: [], incoming: [] }, "the store is empty");
          check.close();
        });
      }
    }
  });

  test(`${kind.name}: a released QoS 2 flow restarted after a lost session keeps its place in publish order across a restart`,
    async () => {
      const stores = kind.make();
      const clientId = `order-${kind.name}`;
      const a = makeClient({ clientId, cleanSession: false, store: stores.a });
      a.client.reconnectDelaySet(0.05, 0.1);
      const order: string[] = [];
      let aDone!: () => void;
      const aFinished = new Promise<void>((resolve) => { aDone = resolve; });
      const broker = await scripted(
        async (conn) => {
          await accept(conn, false, clientId, false);
          await expectType(conn, PUBLISH);
          await expectType(conn, PUBLISH);
          await conn.send({ type: PUBREC, packetId: 1 });
          assert.equal((await expectType(conn, PUBREL)).packetId, 1);
          conn.destroy(); // A reconnects on its own
        },
        async (conn) => {
          // The broker has lost the session: A ("resend") starts flow 1 again from PUBLISH, then re-sends 2.
          await accept(conn, false, clientId, false);
          const p1 = describePacket(await next(conn));
          const p2 = describePacket(await next(conn));
          assert.deepEqual([p1, p2], ["PUBLISH q2 id1 dup x1", "PUBLISH q2 id2 dup x2"]);
          crash(a.client, conn);
          aDone();
        },
        async (conn) => {
          await accept(conn, true, clientId, false);
          order.push(describePacket(await next(conn)), describePacket(await next(conn)));
        },
      );
      await up(a.client, a.rec, broker.port);
      a.client.publish("out/x1", "x1", 2);
      a.client.publish("out/x2", "x2", 2);
      await within(aFinished, 5000, `A's scripts; errors ${String(broker.errors)}`);
      const b = makeClient({ clientId, cleanSession: false, store: stores.b() });
      await up(b.client, b.rec, broker.port);
      await until(() => order.length === 2, 3000, "B's re-sent packets");
      b.client.loopStop();
      b.client.disconnect();
      assert.deepEqual(order, ["PUBLISH q2 id1 dup x1", "PUBLISH q2 id2 dup x2"], "re-sent in the original publish order");
    });
}

describe("waitForPublish() and onPublish across a reconnect of the same client", () => {
  test("session present: the flows resume with DUP and their MessageInfos resolve", async () => {
    const clientId = "wfp-present";
    const { client, rec } = makeClient({ clientId, cleanSession: false, store: new MemoryStore() });
    client.reconnectDelaySet(0.05, 0.1);
    let infos: MessageInfo[] = [];
    const broker = await scripted(
      async (conn) => {
        await accept(conn, false, clientId, false);
        await until(() => infos.length === 2, 2000, "publishes");
        await expectType(conn, PUBLISH);
        await expectType(conn, PUBLISH);
        await conn.send({ type: PUBREC, packetId: 2 });
        await expectType(conn, PUBREL);
        conn.destroy();
      },
      async (conn) => {
        await accept(conn, true, clientId, false);
        assert.deepEqual([describePacket(await next(conn)), describePacket(await next(conn))], ["PUBLISH q1 id1 dup w1", "PUBREL 2"]);
        await conn.send({ type: PUBACK, packetId: 1 });
        await conn.send({ type: PUBCOMP, packetId: 2 });
        await conn.next(3000);
      },
    );
    await up(client, rec, broker.port);
    infos = [client.publish("out/w1", "w1", 1), client.publish("out/w2", "w2", 2)];
    await within(Promise.all(infos.map((i) => i.waitForPublish())), 5000, `waitForPublish; errors ${String(broker.errors)}`);
    assert.ok(infos.every((i) => i.isPublished()));
    assert.deepEqual(rec.published, [[1, 0], [2, 0]]);
    assert.deepEqual(rec.connacks, [false, true]);
    client.disconnect();
    assert.deepEqual(broker.errors, []);
  });

  test('"discard" with session present 0: a discarded message is reported 0x80 and does not count as published',
    async () => {
      const clientId = "wfp-discard";
      const { client, rec } = makeClient({ clientId, cleanSession: false, unackedOnNewSession: "discard" });
      client.reconnectDelaySet(0.05, 0.1);
      let info: MessageInfo | undefined;
      const broker = await scripted(
        async (conn) => {
          await accept(conn, false, clientId, false);
          await until(() => info !== undefined, 2000, "publish");
          await expectType(conn, PUBLISH);
          conn.destroy();
        },
        async (conn) => {
          await accept(conn, false, clientId, false);
          await conn.next(3000);
        },
      );
      await up(client, rec, broker.port);
      info = client.publish("out/d", "d", 1);
      await until(() => rec.published.length === 1, 3000, "onPublish for the discarded message");
      assert.deepEqual(rec.published, [[1, 0x80]]);
      client.disconnect();
      assert.equal(info.isPublished(), false, "isPublished() of a discarded message");
      await assert.rejects(within(info.waitForPublish(), 1000, "waitForPublish"), /discard|not published|0x80|session/i);
    });
});

describe("a stored session and the protocol version", () => {
  test("a session saved under MQTT 3.1.1 and resumed by an MQTT 5 client never puts a malformed PUBLISH on the wire",
    () => {
      const store = new MemoryStore();
      const a = new Client({ host: new FakeHost(), clientId: "upgraded", cleanSession: false, store, protocol: 4 });
      a.publish("t/a", "hello", 1);
      const host = new FakeHost();
      const seen: string[] = [];
      let malformed: unknown;
      host.onLink = (link) => {
        link.accept();
        link.onPacket = (p, l) => {
          if (p.name === "CONNECT") l.send({ type: CONNACK, sessionPresent: true, reasonCode: 0 });
          if (p.name === "PUBLISH") seen.push(`${p.topic} ${new TextDecoder().decode(Uint8Array.from(p.payload!))}`);
        };
      };
      let b: Client;
      try {
        b = new Client({ host, clientId: "upgraded", cleanSession: false, store, protocol: 5 });
      } catch (e) {
        // Refusing the session with a clear error is an acceptable answer too.
        assert.match(String(e), /protocol|version/i);
        return;
      }
      void b.connect("broker", 1883);
      b.loopStart();
      try {
        host.advance(10);
      } catch (e) {
        malformed = e; // the fake broker's decoder could not read what the client wrote
      }
      assert.equal(malformed, undefined, `the client wrote a malformed packet: ${String(malformed)}`);
      assert.deepEqual(seen, ["t/a hello"]);
    });
});

describe("incoming QoS 2 beyond budget.maxIncomingQos2 on MQTT 3.1.1", () => {
  test("a broker that sends more QoS 2 messages than the table holds (mosquitto 2.0.11 does, resuming a session) still gets each delivered once",
    () => {
      const host = new FakeHost();
      const delivered: string[] = [];
      host.onLink = (link) => {
        link.accept();
        link.onPacket = (p, l) => {
          if (p.name === "CONNECT") l.send({ type: CONNACK, sessionPresent: host.opens.length > 1, reasonCode: 0 });
        };
      };
      const client = new Client({ host, clientId: "small-table", cleanSession: false, budget: { maxIncomingQos2: 2 } });
      client.onMessage = (_c, _u, m) => delivered.push(new TextDecoder().decode(m.payload));
      client.reconnectDelaySet(1, 1);
      void client.connect("broker", 1883);
      client.loopStart();
      host.advance(1);
      const publish = (id: number, dup: boolean) => ({ type: PUBLISH as typeof PUBLISH, topic: "t", payload: new TextEncoder().encode(`m${id}`), qos: 2 as const, retain: false, dup, packetId: id });
      // Three QoS 2 messages, no PUBREL yet: the third does not fit a table of two.
      host.link.send(publish(1, false), publish(2, false), publish(3, false));
      host.advance(1);
      assert.deepEqual(delivered, ["m1", "m2", "m3"]);
      // The link drops before the broker read our PUBRECs; it re-sends all three on the resumed session.
      host.link.drop();
      host.advance(1500);
      assert.equal(host.opens.length, 2, "reconnected");
      host.link.send(publish(1, true), publish(2, true), publish(3, true));
      host.advance(1);
      assert.deepEqual(delivered, ["m1", "m2", "m3"], "each message delivered once");
      client.disconnect();
      host.advance(100);
    });
});

describe("a QoS 1 message the broker never acknowledges", () => {
  test("does not block later publishes (budget.maxMessages 4: 12 more go through) and is re-sent first on the resumed session",
    async () => {
      const clientId = "stuck-front";
      const { client, rec } = makeClient({ clientId, cleanSession: false, budget: { maxMessages: 4 } });
      client.reconnectDelaySet(0.05, 0.1);
      const broker = await scripted(
        async (conn) => {
          await accept(conn, false, clientId, false);
          // Every PUBLISH acknowledged but the first, until the 13th; then the link drops.
          assert.equal(describePacket(await next(conn)), "PUBLISH q1 id1 stuck");
          for (let i = 0; i < 12; i++) {
            const p = await expectType(conn, PUBLISH);
            await conn.send({ type: PUBACK, packetId: p.packetId });
          }
          conn.destroy();
        },
        async (conn) => {
          await accept(conn, true, clientId, false);
          assert.equal(describePacket(await next(conn)), "PUBLISH q1 id1 dup stuck");
          await conn.send({ type: PUBACK, packetId: 1 });
          await conn.next(3000);
        },
      );
      await up(client, rec, broker.port);
      const stuck = client.publish("out/s", "stuck", 1);
      assert.equal(stuck.rc, MQTT_ERR_SUCCESS);
      for (let i = 0; i < 12; i++) {
        const info = client.publish("out/s", `m${i}`, 1);
        assert.equal(info.rc, MQTT_ERR_SUCCESS, `publish ${i} after the unacknowledged one: rc ${info.rc}`);
        await within(info.waitForPublish(), 3000, `waitForPublish ${i}; errors ${String(broker.errors)}`);
      }
      assert.equal(stuck.isPublished(), false);
      await within(stuck.waitForPublish(), 5000, `the stuck message, after the reconnect; errors ${String(broker.errors)}`);
      assert.deepEqual(rec.connacks, [false, true]);
      assert.equal(rec.published.length, 13);
      assert.deepEqual(rec.published.at(-1), [1, 0]);
      client.disconnect();
      assert.deepEqual(broker.errors, []);
    });
});
