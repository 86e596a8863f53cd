/**
 * Messages larger than the output ring (budget.outputBytes), driven through the engine rig: the ring is a
 * window, not a limit. A large PUBLISH goes out as its header in the ring and its payload in pieces no
 * larger than the ring, read straight from the publisher's array; QoS 1/2 keep that array until the flow
 * completes, so a lost link resends the message whole. Order on the wire is publish order.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MQTT_ERR_KEEPALIVE, MQTT_ERR_PAYLOAD_SIZE, MQTT_ERR_QUEUE_SIZE, MQTT_ERR_SUCCESS } from "../../src/paho/constants.js";
import { ESP32_BUDGET } from "../../src/engine/budget.js";
import { MemoryStore } from "../../src/session/store.js";
import { ENGINE_DEFAULTS, Engine } from "../../src/engine/engine.js";
import { MAX_SPLICES } from "../../src/buffers/output-ring.js";
import { PINGRESP, type QoS } from "../../src/codec/index.js";
import type { Seen } from "../support/fake-host.js";
import { Rig, connack, ids, puback, pubcomp, pubrec } from "../support/engine-rig.js";

const KB64 = 64 * 1024;

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return b;
}

/**
 * The transport takes everything waiting in pieces of at most `piece` bytes; returns the packets and the
 * largest piece the engine offered, and whether any offered piece was a view of `payload` itself.
 */
function drain(r: Rig, piece = Infinity, payload?: Uint8Array): { seen: Seen[]; largest: number; fromPayload: boolean } {
  const e = r.engine;
  const seen: Seen[] = [];
  let largest = 0;
  let fromPayload = false;
  for (let n = e.outputLength(); n > 0; n = e.outputLength()) {
    largest = Math.max(largest, n);
    if (payload !== undefined && e.outputBuffer === payload) fromPayload = true;
    const take = Math.min(n, piece);
    const bytes = e.outputBuffer.slice(e.outputOffset(), e.outputOffset() + take);
    e.consumed(take, r.now);
    seen.push(...r.wire.feed(bytes));
  }
  return { seen, largest, fromPayload };
}

const same = (a: number[] | undefined, b: Uint8Array): boolean => a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);

describe("messages larger than the output ring", () => {
  for (const qos of [0, 1, 2] as const) {
    test(`ESP32_BUDGET: a 64 KB QoS ${qos} PUBLISH goes out whole through the 2 KB ring, in pieces of at most 2 KB read from the publisher's array`, () => {
      const r = new Rig({ budget: ESP32_BUDGET });
      r.connect();
      const payload = pattern(KB64, qos);
      const { rc, mid } = r.engine.publish("big/t", payload, qos, false, undefined, r.now);
      assert.equal(rc, MQTT_ERR_SUCCESS);
      const { seen, largest, fromPayload } = drain(r, 1460, payload);
      assert.ok(largest <= ESP32_BUDGET.outputBytes, `the engine offered ${largest} bytes at once`);
      assert.ok(fromPayload, "the payload is read where the publisher holds it, not copied into the ring");
      assert.deepEqual(ids(seen), [`PUBLISH ${qos === 0 ? 0 : mid}`]);
      assert.equal(seen[0]!.qos, qos);
      assert.ok(same(seen[0]!.payload, payload), "every byte of the payload");
      if (qos === 1) assert.deepEqual(r.recv(puback(mid)), [{ type: "published", mid, reasonCode: 0 }]);
      if (qos === 2) {
        r.recv(pubrec(mid));
        assert.deepEqual(ids(r.out()), [`PUBREL ${mid}`]);
        assert.deepEqual(r.recv(pubcomp(mid)), [{ type: "published", mid, reasonCode: 0 }]);
      }
      assert.equal(r.engine.outbox.pending, 0);
      assert.equal(r.engine.wantsWrite, false);
    });
  }

  test("order holds: small messages published after a large one go out after it, at every QoS", () => {
    const r = new Rig({ budget: { outputBytes: 256, storeBytes: 1024 } });
    r.connect();
    const big0 = pattern(5000, 1);
    const big1 = pattern(3000, 2);
    const sent: string[] = [];
    const pub = (name: string, payload: Uint8Array, qos: QoS): void => {
      assert.equal(r.engine.publish("o/t", payload, qos, false, undefined, r.now).rc, MQTT_ERR_SUCCESS, name);
      sent.push(name);
    };
    pub("small0-a", Uint8Array.of(1), 0);
    pub("big0", big0, 0);
    pub("small0-b", Uint8Array.of(2), 0);
    pub("big1", big1, 1);
    pub("small1", Uint8Array.of(3), 1);
    pub("small0-c", Uint8Array.of(4), 0);
    // Drained in odd pieces.
    const seen = drain(r, 97).seen;
    const small0 = ["", "a", "b", "", "c"];
    const names = seen.map((p) => p.payload!.length === 5000 ? "big0" : p.payload!.length === 3000 ? "big1"
      : p.qos === 1 ? "small1" : `small0-${small0[p.payload![0]!]}`);
    // QoS 0 is written at publish(); QoS 1/2 as the in-flight window allows, here at once: publish order.
    assert.deepEqual(names, sent);
    assert.ok(same(seen[1]!.payload, big0) && same(seen[3]!.payload, big1));
  });

  test("a small QoS 0 publish while a large one is half-written waits behind it; a large one splices in behind too", () => {
    const r = new Rig({ budget: { outputBytes: 128 } });
    r.connect();
    const big = pattern(10_000, 3);
    assert.equal(r.engine.publish("a", big, 0, false, undefined, r.now).rc, MQTT_ERR_SUCCESS);
    const part = r.outSome(128);
    assert.deepEqual(part, [], "only part of the large PUBLISH is out");
    assert.equal(r.engine.publish("b", Uint8Array.of(9), 0, false, undefined, r.now).rc, MQTT_ERR_SUCCESS);
    const big2 = pattern(300, 4);
    assert.equal(r.engine.publish("c", big2, 0, false, undefined, r.now).rc, MQTT_ERR_SUCCESS);
    const seen = drain(r, 50).seen;
    assert.deepEqual(seen.map((p) => p.topic), ["a", "b", "c"]);
    assert.ok(same(seen[0]!.payload, big) && same(seen[2]!.payload, big2));
  });

  test(`at most ${MAX_SPLICES} large QoS 0 messages wait at once; the next gets MQTT_ERR_QUEUE_SIZE until one is written`, () => {
    const r = new Rig({ budget: { outputBytes: 64 } });
    r.connect();
    const big = pattern(500, 5);
    for (let i = 0; i < MAX_SPLICES; i++) assert.equal(r.engine.publish("t", big, 0, false, undefined, r.now).rc, MQTT_ERR_SUCCESS);
    assert.equal(r.engine.publish("t", big, 0, false, undefined, r.now).rc, MQTT_ERR_QUEUE_SIZE);
    assert.equal(r.engine.publish("t", Uint8Array.of(1), 0, false, undefined, r.now).rc, MQTT_ERR_SUCCESS, "a small one still fits the ring");
    const seen = drain(r, 64).seen;
    assert.equal(seen.length, MAX_SPLICES + 1);
    assert.equal(r.engine.publish("t", big, 0, false, undefined, r.now).rc, MQTT_ERR_SUCCESS);
  });

  test("QoS 1/2 larger than the output wait for a splice slot instead of failing, and go out in order", () => {
    const r = new Rig({ budget: { outputBytes: 64, storeBytes: 1024 }, maxInflight: 0 });
    r.connect();
    const mids: number[] = [];
    for (let i = 0; i < MAX_SPLICES + 3; i++) {
      const { rc, mid } = r.engine.publish("t", pattern(200 + i, i), ((i % 2) + 1) as QoS, false, undefined, r.now);
      assert.equal(rc, MQTT_ERR_SUCCESS);
      mids.push(mid);
    }
    const seen = drain(r, 33).seen;
    assert.deepEqual(seen.map((p) => p.packetId), mids);
    assert.deepEqual(seen.map((p) => p.payload!.length), mids.map((_m, i) => 200 + i));
  });

  for (const qos of [1, 2] as const) {
    test(`a 64 KB QoS ${qos} message on ESP32_BUDGET cut off half-way by a lost link is sent again whole, with DUP, after the reconnect`, () => {
      const r = new Rig({ budget: ESP32_BUDGET, cleanStart: false });
      r.connect();
      const payload = pattern(KB64, 10 + qos);
      const { mid } = r.engine.publish("cut/t", payload, qos, false, undefined, r.now);
      for (let i = 0; i < 10; i++) r.outSome(1460);
      assert.equal(r.wire.partial > 0, true, "the broker holds part of a PUBLISH");
      r.engine.lost();
      r.connect(true);
      const seen = drain(r, 1000).seen;
      assert.deepEqual(ids(seen), [`PUBLISH ${mid} dup`]);
      assert.ok(same(seen[0]!.payload, payload), "the whole payload, again");
      r.recv(qos === 1 ? puback(mid) : pubrec(mid));
      if (qos === 2) {
        assert.deepEqual(ids(r.out()), [`PUBREL ${mid}`]);
        r.recv(pubcomp(mid));
      }
      assert.deepEqual(r.history.filter((e) => e.type === "published"), [{ type: "published", mid, reasonCode: 0 }]);
    });
  }

  test("a completed QoS 1 flow lets go of the publisher's payload; one queued while offline keeps it until sent and acknowledged", () => {
    const r = new Rig({ budget: ESP32_BUDGET });
    const payload = pattern(10_000, 6);
    const { mid } = r.engine.publish("t", payload, 1, false, undefined, r.now);
    const slot = r.engine.outbox.ids.slotOf(mid);
    assert.equal(r.engine.outbox.restOf(slot), payload, "kept by reference while queued offline");
    assert.ok(r.engine.outbox.prefixLength(slot) < 16, "the store holds its header only");
    r.connect();
    const seen = drain(r).seen;
    assert.ok(same(seen[0]!.payload, payload));
    r.recv(puback(mid));
    assert.equal(r.engine.outbox.restOf(slot), undefined);
  });

  test("a session store gets the whole large packet, and a restored one larger than the budget goes out whole by reference", () => {
    const store = new MemoryStore();
    store.open("c", 4);
    const payload = pattern(20_000, 7);
    const e1 = new Engine(ESP32_BUDGET, 4, { ...ENGINE_DEFAULTS, store });
    const { mid } = e1.publish("s/t", payload, 1, false, undefined, 0);
    store.close();
    const saved = store.open("c", 4);
    assert.equal(saved.outgoing.length, 1);
    assert.equal(saved.outgoing[0]!.packet.length > 20_000, true, "the whole packet was saved");

    const r = new Rig({ budget: ESP32_BUDGET, cleanStart: false });
    r.engine.restore(saved);
    r.connect(true);
    const seen = drain(r, 1460).seen;
    assert.deepEqual(ids(seen), [`PUBLISH ${mid} dup`]);
    assert.ok(same(seen[0]!.payload, payload));
  });

  test("MQTT_ERR_PAYLOAD_SIZE still for what cannot be sent: over the broker's Maximum Packet Size (v5), a header larger than the output", () => {
    const r = new Rig({ version: 5, budget: { outputBytes: 128 } });
    r.connect(false, { maximumPacketSize: 5000 });
    assert.equal(r.engine.publish("t", new Uint8Array(4995), 0, false, undefined, r.now).rc, MQTT_ERR_PAYLOAD_SIZE);
    assert.equal(r.engine.publish("t", new Uint8Array(4995), 1, false, undefined, r.now).rc, MQTT_ERR_PAYLOAD_SIZE);
    assert.equal(r.engine.publish("t", new Uint8Array(4900), 1, false, undefined, r.now).rc, MQTT_ERR_SUCCESS);
    assert.equal(r.engine.publish("t", new Uint8Array(10), 0, false, { userProperties: [["k", "v".repeat(200)]] }, r.now).rc, MQTT_ERR_PAYLOAD_SIZE,
      "properties make a header larger than the output");
  });

  test("keepalive: while the link keeps taking a large payload the connection is not declared dead; once it stops taking bytes, it is", () => {
    const r = new Rig({ budget: { outputBytes: 256 }, keepAlive: 10 });
    r.connect();
    const payload = pattern(200_000, 8);
    r.engine.publish("k", payload, 0, false, undefined, r.now);
    // 40 s of a link taking 1 KB a second, with nothing received: four keepalive periods.
    for (let t = 1; t <= 40; t++) {
      r.now = t * 1000;
      r.outSome(1024);
      assert.deepEqual(r.tick(r.now).filter((e) => e.type === "closed"), [], `at ${t} s`);
    }
    // The link stops taking bytes: 1.5 keepalive periods later, the connection is over.
    assert.deepEqual(r.tick(40_000 + 15_000).map((e) => e.type === "closed" ? e.rc : e.type), [MQTT_ERR_KEEPALIVE]);
  });

  test("keepalive: a PINGREQ due during a large payload goes out after it, and PINGRESP then keeps the connection", () => {
    const r = new Rig({ budget: { outputBytes: 256 }, keepAlive: 10 });
    r.connect();
    r.engine.publish("k", pattern(30_000, 9), 0, false, undefined, r.now);
    r.outSome(256);
    r.now = 10_000;
    r.tick(r.now);
    const seen = drain(r, 1000).seen;
    assert.deepEqual(seen.map((p) => p.name), ["PUBLISH", "PINGREQ"]);
    r.now = 12_000;
    r.recv({ type: PINGRESP });
    assert.deepEqual(r.tick(20_000), []);
  });

});
