/**
 * Exactly once on MQTT 3.x when the broker has more QoS 2 messages unreleased than budget.maxIncomingQos2
 * (3.x cannot advertise a Receive Maximum; mosquitto 2.0.11 resuming a session sends past its own window):
 * src/engine/incoming-qos2.ts holds the ids past the table in its overflow set. Driven through the engine,
 * checked on the exact bytes written, and through the set itself for the whole id space.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MQTT_ERR_SUCCESS, MQTT_LOG_WARNING } from "../../src/paho/constants.js";
import { Arena } from "../../src/buffers/arena.js";
import { IncomingQos2 } from "../../src/engine/incoming-qos2.js";
import { MemoryStore } from "../../src/session/store.js";
import { type Ev, Rig, connack, incoming, pubrel } from "../support/engine-rig.js";

const pubrecBytes = (id: number): number[] => [0x50, 0x02, id >> 8, id & 0xff];
const pubcompBytes = (id: number): number[] => [0x70, 0x02, id >> 8, id & 0xff];
const message = (payload: string, mid: number, dup = false): Ev => ({ type: "message", topic: "t", payload, qos: 2, dup, retain: false, mid });

/** A 3.1.1 engine with room for two unreleased QoS 2 ids, connected, that has taken messages 1 and 2. */
function fullTable(o: { manualAck?: boolean; cleanStart?: boolean } = {}): Rig {
  const r = new Rig({ budget: { maxIncomingQos2: 2 }, ...o });
  r.connect();
  assert.deepEqual(r.recv(incoming("t", "m1", 2, 1), incoming("t", "m2", 2, 2)), [message("m1", 1), message("m2", 2)]);
  assert.deepEqual(r.out().map((p) => p.bytes), o.manualAck === true ? [] : [pubrecBytes(1), pubrecBytes(2)]);
  return r;
}

describe("3.1.1: a QoS 2 PUBLISH when budget.maxIncomingQos2 ids are already unreleased", () => {
  test("is delivered once and PUBREC'd; its re-send before PUBREL is PUBREC'd again and not delivered; after PUBREL the id is new", () => {
    const r = fullTable();
    assert.deepEqual(r.recv(incoming("t", "m3", 2, 3)), [message("m3", 3)], "delivered, not held back");
    assert.deepEqual(r.out().map((p) => p.bytes), [pubrecBytes(3)]);
    assert.deepEqual(r.logs.filter(([level]) => level === MQTT_LOG_WARNING).length, 1, "one warning when the overflow set is made");
    // PUBREL frees a table id; the message past the table is still remembered.
    assert.deepEqual(r.recv(pubrel(1)), []);
    assert.deepEqual(r.out().map((p) => p.bytes), [pubcompBytes(1)]);
    assert.deepEqual(r.recv(incoming("t", "m3", 2, 3, true)), [], "the re-sent m3 is not delivered again");
    assert.deepEqual(r.out().map((p) => p.bytes), [pubrecBytes(3)], "and the broker gets its PUBREC again");
    assert.deepEqual(r.recv(incoming("t", "m4", 2, 4)), [message("m4", 4)], "the freed table id takes a new message");
    assert.deepEqual(r.out().map((p) => p.bytes), [pubrecBytes(4)]);
    assert.deepEqual(r.recv(pubrel(3)), []);
    assert.deepEqual(r.out().map((p) => p.bytes), [pubcompBytes(3)]);
    assert.deepEqual(r.recv(incoming("t", "m5", 2, 3)), [message("m5", 3)], "after PUBREL id 3 starts a new message");
    assert.deepEqual(r.out().map((p) => p.bytes), [pubrecBytes(3)]);
    assert.equal(r.logs.filter(([level]) => level === MQTT_LOG_WARNING).length, 1, "no warning per message");
  });

  test("after a lost link and a resumed session, the broker's re-sends of all three are PUBREC'd and none is delivered again", () => {
    const r = fullTable({ cleanStart: false });
    assert.deepEqual(r.recv(incoming("t", "m3", 2, 3)), [message("m3", 3)]);
    r.engine.lost(); // m3's PUBREC goes with the link: the broker re-sends m3 as well as m1 and m2
    r.begin();
    assert.deepEqual(r.recv(connack(true)), [{ type: "connected", sessionPresent: true, reasonCode: 0 }]);
    assert.deepEqual(r.recv(incoming("t", "m1", 2, 1, true), incoming("t", "m2", 2, 2, true), incoming("t", "m3", 2, 3, true)), []);
    assert.deepEqual(r.out().map((p) => p.bytes), [pubrecBytes(1), pubrecBytes(2), pubrecBytes(3)]);
    assert.deepEqual(r.recv(pubrel(3), pubrel(1), pubrel(2)), []);
    assert.deepEqual(r.out().map((p) => p.bytes), [pubcompBytes(3), pubcompBytes(1), pubcompBytes(2)]);
  });

  test("a session the broker lost (session present 0) frees the ids past the table too", () => {
    const r = fullTable({ cleanStart: false });
    r.recv(incoming("t", "m3", 2, 3));
    r.out();
    r.engine.lost();
    r.begin();
    r.recv(connack(false));
    assert.deepEqual(r.recv(incoming("t", "new3", 2, 3)), [message("new3", 3)], "id 3 is a new message on the new session");
  });

  test("a restarted client with cleanSession false and a session store still recognises the re-send of the message past the table", () => {
    const store = new MemoryStore();
    const r = new Rig({ budget: { maxIncomingQos2: 2 }, cleanStart: false });
    r.configure({ store });
    r.engine.restore(store.open("c", 4));
    r.connect();
    r.recv(incoming("t", "m1", 2, 1), incoming("t", "m2", 2, 2), incoming("t", "m3", 2, 3));
    assert.deepEqual(r.out().map((p) => p.bytes), [pubrecBytes(1), pubrecBytes(2), pubrecBytes(3)]);
    // The process dies; a new one restores the session from the store and resumes it.
    store.close();
    const again = new Rig({ budget: { maxIncomingQos2: 2 }, cleanStart: false });
    again.configure({ store });
    again.engine.restore(store.open("c", 4));
    again.begin();
    again.recv(connack(true));
    assert.deepEqual(again.recv(incoming("t", "m3", 2, 3, true), incoming("t", "m1", 2, 1, true)), [], "delivered before the restart");
    assert.deepEqual(again.out().map((p) => p.bytes), [pubrecBytes(3), pubrecBytes(1)]);
    assert.deepEqual(again.recv(pubrel(3)), []);
    assert.deepEqual(again.out().map((p) => p.bytes), [pubcompBytes(3)]);
    store.close();
    assert.deepEqual(store.open("c", 4).incoming.sort(), [1, 2], "PUBREL removed id 3 from the store");
  });

  test("with manualAck, the message past the table gets its PUBREC from ack(), and its re-send is PUBREC'd only once acknowledged", () => {
    const r = fullTable({ manualAck: true });
    assert.deepEqual(r.recv(incoming("t", "m3", 2, 3)), [message("m3", 3)]);
    assert.deepEqual(r.out(), [], "nothing before the application acknowledges");
    assert.deepEqual(r.recv(incoming("t", "m3", 2, 3, true)), [], "a re-send before ack(): not delivered, not acknowledged");
    assert.deepEqual(r.out(), []);
    assert.equal(r.engine.ack(3, 2, r.now), MQTT_ERR_SUCCESS);
    assert.deepEqual(r.out().map((p) => p.bytes), [pubrecBytes(3)]);
    assert.deepEqual(r.recv(incoming("t", "m3", 2, 3, true)), []);
    assert.deepEqual(r.out().map((p) => p.bytes), [pubrecBytes(3)], "after ack() a re-send is PUBREC'd again");
    assert.deepEqual(r.recv(pubrel(3)), []);
    assert.deepEqual(r.out().map((p) => p.bytes), [pubcompBytes(3)]);
  });

  test("a broker that leaves every one of the 65,535 ids unreleased gets each message delivered once, with a table of one", () => {
    const r = new Rig({ budget: { maxIncomingQos2: 1 }, cleanStart: false });
    r.connect();
    const publishBytes = (id: number, dup: boolean): number[] => [dup ? 0x3c : 0x34, 0x05, 0x00, 0x01, 0x74, id >> 8, id & 0xff];
    const feed = (make: (id: number) => number[]): { delivered: number; written: number } => {
      let delivered = 0;
      let written = 0;
      for (let first = 1; first <= 0xffff; first += 512) {
        const batch: number[] = [];
        for (let id = first; id < first + 512 && id <= 0xffff; id++) batch.push(...make(id));
        r.engine.receive(Uint8Array.from(batch), r.now);
        for (let e = r.engine.poll(); e !== null; e = r.engine.poll()) if (e.type === "message") delivered++;
        for (let n = r.engine.outputLength(); n > 0; n = r.engine.outputLength()) {
          written += n;
          r.engine.consumed(n, r.now);
        }
      }
      return { delivered, written };
    };
    assert.deepEqual(feed((id) => publishBytes(id, false)), { delivered: 0xffff, written: 4 * 0xffff }, "each delivered and PUBREC'd");
    r.engine.lost();
    r.begin();
    r.recv(connack(true));
    assert.deepEqual(feed((id) => publishBytes(id, true)), { delivered: 0, written: 4 * 0xffff }, "the re-sends: PUBREC'd, none delivered");
    assert.deepEqual(feed((id) => [0x62, 0x02, id >> 8, id & 0xff]), { delivered: 0, written: 4 * 0xffff }, "PUBREL: PUBCOMP each");
    assert.deepEqual(feed((id) => publishBytes(id, false)), { delivered: 0xffff, written: 4 * 0xffff }, "released ids take new messages");
  });
});

describe("IncomingQos2", () => {
  test("holds ids past its table only when allowed (3.x), releases each once, and lists every id it holds", () => {
    const set = new IncomingQos2(2, new Arena(IncomingQos2.bytesFor(2)));
    assert.equal(set.hold(10, false, false), true);
    assert.equal(set.hold(20, true, false), true);
    assert.equal(set.hold(30, false, false), false, "table full and no overflow: refused (MQTT 5: Receive Maximum exceeded)");
    assert.equal(set.hasOverflowSet, false, "nothing made for a refusal");
    assert.equal(set.hold(30, false, true), true);
    assert.equal(set.hold(65535, true, true), true);
    assert.deepEqual([set.has(30), set.has(65535), set.has(40), set.size], [true, true, false, 2], "size: the table's ids");
    assert.deepEqual([set.isAcknowledged(10), set.isAcknowledged(20), set.isAcknowledged(30), set.isAcknowledged(65535)], [false, true, false, true]);
    set.acknowledge(30);
    assert.equal(set.isAcknowledged(30), true);
    const held: number[] = [];
    set.forEachHeld((id) => held.push(id));
    assert.deepEqual(held.sort((a, b) => a - b), [10, 20, 30, 65535]);
    assert.deepEqual([set.release(30), set.release(30), set.has(30), set.has(65535)], [true, false, false, true]);
    assert.equal(set.hold(30, false, true), true);
    assert.equal(set.isAcknowledged(30), false, "a new message on a released id starts unacknowledged");
    set.clear();
    assert.deepEqual([set.has(10), set.has(30), set.has(65535), set.hasOverflowSet], [false, false, false, true]);
  });
});
