/**
 * src/engine/outbox.ts through the engine: a QoS 1/2 flow the broker leaves unfinished must not block the
 * flows published after it, and MQTT_ERR_QUEUE_SIZE means what the README says: the budget is full (every
 * packet id in use, or the store holds no room for the message beside the unfinished ones).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MQTT_ERR_QUEUE_SIZE, MQTT_ERR_SUCCESS } from "../../src/paho/constants.js";
import { type QoS } from "../../src/codec/index.js";
import { Rig, connack, ids, puback, pubcomp, pubrec } from "../support/engine-rig.js";
import { prng } from "../support/prng.js";

/** The encoded length of a 3.1.1 QoS 1/2 PUBLISH to "t" with a payload of n bytes. */
const publishLength = (n: number): number => 2 + 3 + 2 + n;

describe("a flow the broker never finishes", () => {
  test("a QoS 1 message never acknowledged does not block later publishes: 1,000 more go through with maxMessages 4", () => {
    const r = new Rig({ budget: { maxMessages: 4 }, cleanStart: false });
    r.connect();
    assert.deepEqual(r.publish("t", "stuck", 1), { rc: MQTT_ERR_SUCCESS, mid: 1 });
    assert.deepEqual(ids(r.out()), ["PUBLISH 1"]);
    for (let i = 0; i < 1000; i++) {
      const { rc, mid } = r.publish("t", `m${i}`, 1);
      assert.equal(rc, MQTT_ERR_SUCCESS, `publish ${i} after the stuck one`);
      assert.deepEqual(ids(r.out()), [`PUBLISH ${mid}`]);
      assert.deepEqual(r.recv(puback(mid)), [{ type: "published", mid, reasonCode: 0 }]);
    }
    // The stuck message is still the broker's to acknowledge: re-sent first after a reconnect.
    r.engine.lost();
    r.begin();
    r.recv(connack(true));
    assert.deepEqual(ids(r.out()), ["PUBLISH 1 dup"]);
    assert.deepEqual(r.recv(puback(1)), [{ type: "published", mid: 1, reasonCode: 0 }]);
  });

  test("nor does its store space: 1,000 more messages through storeBytes of two and a half of them", () => {
    const length = publishLength(10);
    const r = new Rig({ budget: { storeBytes: Math.floor(2.5 * length) } });
    r.connect();
    assert.equal(r.publish("t", "stuck-0123", 2).rc, MQTT_ERR_SUCCESS);
    r.out();
    assert.deepEqual(r.recv(pubrec(1)), []);
    assert.deepEqual(ids(r.out()), ["PUBREL 1"], "released, waiting for a PUBCOMP that never comes");
    for (let i = 0; i < 1000; i++) {
      const { rc, mid } = r.publish("t", String(i).padStart(10, "-"), 1);
      assert.equal(rc, MQTT_ERR_SUCCESS, `publish ${i}`);
      r.out();
      r.recv(puback(mid));
    }
    assert.equal(r.publish("t", "a-12345678", 1).rc, MQTT_ERR_SUCCESS, "one beside the stuck one fits");
    assert.deepEqual(r.publish("t", "b-12345678", 1), { rc: MQTT_ERR_QUEUE_SIZE, mid: 0 }, "two do not: the store is full");
  });

  test("the budget still fills: maxMessages unfinished flows refuse the next publish with MQTT_ERR_QUEUE_SIZE", () => {
    const r = new Rig({ budget: { maxMessages: 4 } });
    r.connect();
    for (let i = 0; i < 4; i++) assert.equal(r.publish("t", "x", 1).rc, MQTT_ERR_SUCCESS);
    r.out();
    assert.deepEqual(r.publish("t", "x", 1), { rc: MQTT_ERR_QUEUE_SIZE, mid: 0 });
    r.recv(puback(3));
    assert.equal(r.publish("t", "x", 1).rc, MQTT_ERR_SUCCESS, "a completion in the middle makes room");
  });

  for (const version of [4, 5] as const) {
    test(`protocol level ${version}: acknowledgements in random order never refuse a publish the budget has room for, and a reconnect resumes the unfinished flows in publish order`, () => {
      const maxMessages = 6;
      const storeBytes = 160;
      const r = new Rig({ version, budget: { maxMessages, storeBytes, outputBytes: 4096 }, maxInflight: 0, cleanStart: false });
      r.connect();
      const rand = prng(11);
      /** Unfinished flows in publish order: id, QoS, bytes in the store, released (PUBREC'd). */
      const open: Array<{ id: number; qos: QoS; bytes: number; released: boolean }> = [];
      let refusedRightly = 0;
      for (let step = 0; step < 20_000; step++) {
        const roll = rand(10);
        if (roll < 5) {
          const qos = (1 + rand(2)) as QoS;
          const payload = "p".repeat(rand(24));
          const bytes = publishLength(payload.length) + (version === 5 ? 1 : 0);
          const used = open.reduce((sum, f) => sum + f.bytes, 0);
          const fits = open.length < maxMessages && used + bytes <= storeBytes;
          const { rc, mid } = r.publish("t", payload, qos);
          assert.equal(rc, fits ? MQTT_ERR_SUCCESS : MQTT_ERR_QUEUE_SIZE, `step ${step}: ${open.length} flows, ${used} + ${bytes} of ${storeBytes} bytes`);
          if (fits) open.push({ id: mid, qos, bytes, released: false });
          else refusedRightly++;
          r.out();
        } else if (roll < 9 && open.length > 0) {
          // The broker finishes a random flow, or takes a QoS 2 one a step further.
          const f = open[rand(open.length)]!;
          if (f.qos === 2 && !f.released) {
            assert.deepEqual(r.recv(pubrec(f.id)), []);
            f.released = true;
          } else {
            assert.deepEqual(r.recv(f.qos === 1 ? puback(f.id) : pubcomp(f.id)), [{ type: "published", mid: f.id, reasonCode: 0 }]);
            open.splice(open.indexOf(f), 1);
          }
          r.out();
        } else {
          r.engine.lost();
          r.begin();
          r.recv(connack(true));
          assert.deepEqual(ids(r.out()), open.map((f) => (f.released ? `PUBREL ${f.id}` : `PUBLISH ${f.id} dup`)), `step ${step}: resumed in publish order`);
        }
      }
      assert.ok(refusedRightly > 0, "the budget filled at times");
    });
  }
});
