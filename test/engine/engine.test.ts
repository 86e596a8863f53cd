/**
 * src/engine/engine.ts driven directly, with a clock the test moves by hand: every packet the engine writes
 * is decoded by our own Decoder in server mode (test/support/fake-host.ts Wire) and checked, often byte for
 * byte; every packet it reads is made by our own Encoder. Names say what the broker does and what the
 * engine must do about it (the style of rumqtt's state tests, as sentences).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DISCONNECT, PINGRESP, SUBACK, UNSUBACK, type ProtocolVersion, type QoS } from "../../src/codec/index.js";
import { MQTT_ERR_CONN_LOST, MQTT_ERR_KEEPALIVE, MQTT_ERR_NO_CONN, MQTT_ERR_PAYLOAD_SIZE, MQTT_ERR_PROTOCOL,
  MQTT_ERR_QUEUE_SIZE, MQTT_ERR_SUCCESS, MQTT_LOG_ERR } from "../../src/paho/constants.js";
import { CLOSING, CONNACK_WAIT, CONNECTED, IDLE } from "../../src/engine/engine.js";
import { encode } from "../support/fake-host.js";
import { type Ev, Rig, ascii, connack, ids, incoming, names, puback, pubcomp, pubrec, pubrel, snap } from "../support/engine-rig.js";


/** mulberry32: a small seeded PRNG, so random orders replay exactly. */
function prng(seed: number): (below: number) => number {
  let s = seed >>> 0;
  return (below) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below);
  };
}

// ---------------------------------------------------------------------------------------------------

describe("connecting", () => {
  test("begin writes the CONNECT packet and waits for CONNACK, with no deadline of its own (the supervisor times that wait)", () => {
    const r = new Rig();
    const seen = r.begin();
    assert.deepEqual(seen.map((p) => p.bytes), [[
      0x10, 0x0d, // CONNECT, Remaining Length 13
      0x00, 0x04, ...ascii("MQTT"), // protocol name
      0x04, // protocol level 3.1.1
      0x02, // connect flags: clean session
      0x00, 0x3c, // keepalive 60 s
      0x00, 0x01, ...ascii("c"), // client identifier
    ]]);
    assert.equal(r.engine.state, CONNACK_WAIT);
    assert.equal(r.engine.nextDeadline(), Infinity);
  });

  test("an accepting CONNACK gives a connected event and writes nothing", () => {
    const r = new Rig();
    r.begin();
    assert.deepEqual(r.recvBytes([0x20, 0x02, 0x00, 0x00]), [{ type: "connected", sessionPresent: false, reasonCode: 0 }]);
    assert.equal(r.engine.state, CONNECTED);
    assert.deepEqual(r.out(), []);
  });

  for (const version of [3, 4] as const) {
    for (let code = 1; code <= 5; code++) {
      test(`a CONNACK refusing with return code ${code} on protocol level ${version} gives a refused event and nothing more`, () => {
        const r = new Rig({ version });
        r.begin();
        assert.deepEqual(r.recvBytes([0x20, 0x02, 0x00, code]), [{ type: "refused", reasonCode: code }]);
        assert.equal(r.engine.state, CLOSING);
        assert.deepEqual(r.recv(incoming("t", "x", 0, 0)), [], "nothing is read after a refusal");
        assert.deepEqual(r.out(), []);
        assert.equal(r.publish("t", "x", 0).rc, MQTT_ERR_NO_CONN);
      });
    }
  }

  test("a v5 CONNACK refusing with 0x87 (not authorized) gives a refused event with its properties", () => {
    const r = new Rig({ version: 5 });
    r.begin();
    assert.deepEqual(r.recv(connack(false, 0x87, { reasonString: "no" })), [{ type: "refused", reasonCode: 0x87, properties: { reasonString: "no" } }]);
    assert.equal(r.engine.state, CLOSING);
    assert.deepEqual(r.out(), []);
  });

  test("a packet before CONNACK closes the connection with a protocol error (0x82)", () => {
    const r = new Rig();
    r.begin();
    assert.deepEqual(r.recv(incoming("t", "x", 0, 0)), [{ type: "closed", rc: MQTT_ERR_PROTOCOL, reasonCode: 0x82 }]);
    assert.equal(r.engine.state, CLOSING);
    assert.deepEqual(r.out(), [], "3.1.1 has no DISCONNECT reason to send");
  });

  test("a v5 packet before CONNACK is answered with DISCONNECT 0x82 and the connection closes", () => {
    const r = new Rig({ version: 5 });
    r.begin();
    assert.deepEqual(r.recv({ type: PINGRESP }), [{ type: "closed", rc: MQTT_ERR_PROTOCOL, reasonCode: 0x82 }]);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0xe0, 0x01, 0x82]]);
  });

  test("a second CONNACK is a protocol error", () => {
    const r = new Rig({ version: 5 });
    r.connect();
    assert.deepEqual(r.recv(connack(false)), [{ type: "closed", rc: MQTT_ERR_PROTOCOL, reasonCode: 0x82 }]);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0xe0, 0x01, 0x82]]);
  });

  test("packets split at every byte give the same events as whole ones", () => {
    const stream = [connack(false), incoming("a/b", "hello", 1, 7), puback(1), incoming("q", "2", 2, 8), pubrel(8)];
    const whole = new Rig();
    whole.begin();
    whole.publish("t", "x", 1);
    const expected = whole.recv(...stream);
    const bytes = stream.flatMap((p) => Array.from(encode(4, p)));
    const r = new Rig();
    r.begin();
    r.publish("t", "x", 1);
    const got: Ev[] = [];
    for (const b of bytes) got.push(...r.recvBytes([b]));
    assert.deepEqual(got, expected);
    assert.deepEqual(expected.map((e) => e.type), ["connected", "message", "published", "message"]);
    assert.deepEqual(ids(r.out()), ids(whole.out()));
  });
});

describe("QoS 1 and 2 out", () => {
  test("a QoS 1 publish writes PUBLISH and its PUBACK gives a published event", () => {
    const r = new Rig();
    r.connect();
    assert.deepEqual(r.publish("t", "x", 1), { rc: MQTT_ERR_SUCCESS, mid: 1 });
    assert.deepEqual(r.out().map((p) => p.bytes), [[
      0x32, 0x06, // PUBLISH, QoS 1, Remaining Length 6
      0x00, 0x01, ...ascii("t"), // topic
      0x00, 0x01, // packet identifier
      ...ascii("x"), // payload
    ]]);
    assert.deepEqual(r.recvBytes([0x40, 0x02, 0x00, 0x01]), [{ type: "published", mid: 1, reasonCode: 0 }]);
    assert.deepEqual(r.out(), []);
    assert.equal(r.engine.outbox.pending, 0);
  });

  test("an incoming PUBREC sends PUBREL and nothing to the user", () => {
    const r = new Rig();
    r.connect();
    r.publish("t", "x", 2);
    assert.deepEqual(r.out().map((p) => p.bytes[0]), [0x34]);
    assert.deepEqual(r.recvBytes([0x50, 0x02, 0x00, 0x01]), []);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x62, 0x02, 0x00, 0x01]]);
  });

  test("an incoming PUBCOMP ends the QoS 2 flow with a published event", () => {
    const r = new Rig();
    r.connect();
    r.publish("t", "x", 2);
    r.out();
    r.recv(pubrec(1));
    r.out();
    assert.deepEqual(r.recvBytes([0x70, 0x02, 0x00, 0x01]), [{ type: "published", mid: 1, reasonCode: 0 }]);
    assert.equal(r.engine.outbox.pending, 0);
  });

  test("a repeated PUBREC while waiting for PUBCOMP is answered with PUBREL again", () => {
    const r = new Rig();
    r.connect();
    r.publish("t", "x", 2);
    r.out();
    r.recv(pubrec(1));
    r.out();
    assert.deepEqual(r.recv(pubrec(1)), []);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x62, 0x02, 0x00, 0x01]]);
  });

  test("a v5 PUBREC with a failure reason ends the QoS 2 flow with that reason and no PUBREL", () => {
    const r = new Rig({ version: 5 });
    r.connect();
    r.publish("t", "x", 2);
    r.out();
    assert.deepEqual(r.recv(pubrec(1, 0x87)), [{ type: "published", mid: 1, reasonCode: 0x87 }]);
    assert.deepEqual(r.out(), []);
    assert.equal(r.engine.outbox.pending, 0);
  });

  test("a PUBACK for an id not in flight is ignored", () => {
    const r = new Rig();
    r.connect();
    assert.deepEqual(r.recv(puback(9)), []);
    assert.equal(r.engine.state, CONNECTED);
  });

  test("a QoS 0 publish goes straight out, and without a connection it is MQTT_ERR_NO_CONN", () => {
    const r = new Rig();
    assert.equal(r.publish("t", "x", 0).rc, MQTT_ERR_NO_CONN);
    r.connect();
    const res = r.publish("t", "x", 0);
    assert.equal(res.rc, MQTT_ERR_SUCCESS);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x30, 0x04, 0x00, 0x01, ...ascii("t"), ...ascii("x")]]);
    assert.notEqual(r.publish("t", "y", 1).mid, res.mid, "QoS 0 mids come from the same sequence");
  });
});

describe("QoS 1 and 2 in", () => {
  test("an incoming QoS 1 PUBLISH is delivered and its PUBACK is written only at the next poll", () => {
    const r = new Rig();
    r.connect();
    r.engine.receive(encode(4, incoming("a/b", "hi", 1, 300)), r.now);
    const e = r.engine.poll();
    assert.ok(e !== null);
    assert.deepEqual(snap(e), { type: "message", topic: "a/b", payload: "hi", qos: 1, dup: false, retain: false, mid: 300 });
    assert.deepEqual(r.out(), [], "nothing is acknowledged while the user's callback runs");
    assert.equal(r.engine.poll(), null);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x40, 0x02, 0x01, 0x2c]]);
  });

  for (const [qos, ack] of [[1, 0x40], [2, 0x50]] as const) {
    test(`disconnect() while a QoS ${qos} message's callback runs writes its ${qos === 1 ? "PUBACK" : "PUBREC"} before DISCONNECT`, () => {
      const r = new Rig();
      r.connect();
      r.engine.receive(encode(4, incoming("a/b", "hi", qos, 7)), r.now);
      assert.equal(r.engine.poll()?.type, "message");
      assert.equal(r.engine.disconnect(0, undefined, r.now), MQTT_ERR_SUCCESS);
      assert.deepEqual(r.out().map((p) => p.bytes), [[ack, 0x02, 0x00, 0x07], [0xe0, 0x00]]);
      assert.equal(r.engine.poll(), null);
      assert.deepEqual(r.out(), [], "acknowledged once");
    });
  }

  test("with manualAck, an incoming QoS 1 PUBLISH is acknowledged only by ack()", () => {
    const r = new Rig({ manualAck: true });
    r.connect();
    assert.deepEqual(r.recv(incoming("t", "x", 1, 5)), [{ type: "message", topic: "t", payload: "x", qos: 1, dup: false, retain: false, mid: 5 }]);
    assert.equal(r.engine.poll(), null);
    assert.deepEqual(r.out(), []);
    assert.equal(r.engine.ack(5, 1, r.now), MQTT_ERR_SUCCESS);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x40, 0x02, 0x00, 0x05]]);
  });

  test("an incoming QoS 2 PUBLISH re-sent with DUP before PUBREL is delivered once and gets PUBREC each time", () => {
    const r = new Rig();
    r.connect();
    assert.deepEqual(r.recv(incoming("t", "once", 2, 9)), [{ type: "message", topic: "t", payload: "once", qos: 2, dup: false, retain: false, mid: 9 }]);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x50, 0x02, 0x00, 0x09]]);
    assert.deepEqual(r.recv(incoming("t", "once", 2, 9, true)), [], "not delivered again");
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x50, 0x02, 0x00, 0x09]]);
    assert.deepEqual(r.recv(incoming("t", "once", 2, 9, true)), []);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x50, 0x02, 0x00, 0x09]]);
    assert.deepEqual(r.recv(pubrel(9)), []);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x70, 0x02, 0x00, 0x09]]);
    assert.deepEqual(r.recv(incoming("t", "again", 2, 9)), [{ type: "message", topic: "t", payload: "again", qos: 2, dup: false, retain: false, mid: 9 }],
      "after PUBCOMP the id starts a new message");
  });

  test("a PUBREL for an id not in flight is answered with PUBCOMP", () => {
    const r = new Rig();
    r.connect();
    assert.deepEqual(r.recv(pubrel(77)), []);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x70, 0x02, 0x00, 0x4d]]);
  });

  test("a v5 PUBREL for an id not in flight is answered with PUBCOMP 0x92 (packet identifier not found)", () => {
    const r = new Rig({ version: 5 });
    r.connect();
    assert.deepEqual(r.recv(pubrel(77)), []);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x70, 0x03, 0x00, 0x4d, 0x92]]);
  });

  test("a v5 PUBREC for an id not in flight is answered with PUBREL 0x92", () => {
    const r = new Rig({ version: 5 });
    r.connect();
    assert.deepEqual(r.recv(pubrec(12)), []);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x62, 0x03, 0x00, 0x0c, 0x92]]);
  });

  test("an incoming QoS 2 message survives a reconnect with sessionPresent=1: the re-sent PUBLISH is not delivered again", () => {
    const r = new Rig({ cleanStart: false });
    r.connect();
    r.recv(incoming("t", "x", 2, 4));
    r.engine.lost(); // the PUBREC owed at the next poll goes with the link
    assert.deepEqual(r.out(), []);
    r.begin();
    r.recv(connack(true));
    assert.deepEqual(r.recv(incoming("t", "x", 2, 4, true)), []);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x50, 0x02, 0x00, 0x04]]);
    r.recv(pubrel(4));
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x70, 0x02, 0x00, 0x04]]);
  });

  test("with manualAck, a QoS 2 PUBLISH re-sent after the application acknowledged it is answered with PUBREC again", () => {
    const r = new Rig({ manualAck: true, cleanStart: false });
    r.connect();
    assert.equal(r.recv(incoming("t", "x", 2, 6)).length, 1);
    assert.equal(r.engine.ack(6, 2, r.now), MQTT_ERR_SUCCESS);
    r.engine.lost(); // the PUBREC was lost with the link
    r.begin();
    r.recv(connack(true));
    assert.deepEqual(r.recv(incoming("t", "x", 2, 6, true)), [], "delivered once only");
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x50, 0x02, 0x00, 0x06]], "the broker must get its PUBREC");
  });
});

describe("flow control and the budget", () => {
  test("with maxInflight 2, a third QoS 1 publish waits until a PUBACK", () => {
    const r = new Rig({ maxInflight: 2 });
    r.connect();
    for (const p of ["a", "b", "c"]) assert.equal(r.publish("t", p, 1).rc, MQTT_ERR_SUCCESS);
    assert.deepEqual(ids(r.out()), ["PUBLISH 1", "PUBLISH 2"]);
    assert.deepEqual(r.recv(puback(2)), [{ type: "published", mid: 2, reasonCode: 0 }]);
    const third = r.out();
    assert.deepEqual(ids(third), ["PUBLISH 3"]);
    assert.deepEqual(third[0]!.payload, ascii("c"));
  });

  test("maxQueued refuses a publish beyond the queue with MQTT_ERR_QUEUE_SIZE and keeps the others", () => {
    const r = new Rig({ maxInflight: 1, maxQueued: 2 });
    r.connect();
    assert.equal(r.publish("t", "1", 1).rc, MQTT_ERR_SUCCESS);
    assert.equal(r.publish("t", "2", 1).rc, MQTT_ERR_SUCCESS);
    assert.equal(r.publish("t", "3", 1).rc, MQTT_ERR_SUCCESS);
    assert.deepEqual(r.publish("t", "4", 1), { rc: MQTT_ERR_QUEUE_SIZE, mid: 0 });
    assert.deepEqual(ids(r.out()), ["PUBLISH 1"]);
    r.recv(puback(1));
    assert.equal(r.publish("t", "5", 1).rc, MQTT_ERR_SUCCESS, "room again once one went out");
    const payloads: string[] = [];
    for (let id = 2; id <= 4; id++) {
      const seen = r.out();
      assert.equal(seen.length, 1);
      payloads.push(String.fromCharCode(...seen[0]!.payload!));
      r.recv(puback(seen[0]!.packetId!));
    }
    assert.deepEqual(payloads, ["2", "3", "5"]);
  });

  test("a full store refuses with MQTT_ERR_QUEUE_SIZE, a header that can never fit with MQTT_ERR_PAYLOAD_SIZE, and nothing else is dropped", () => {
    // Each record: 2 fixed header + 3 topic + 2 id + 40 payload = 47 bytes; 128 hold two.
    const r = new Rig({ budget: { storeBytes: 128 } });
    const p40 = (c: string): string => c.repeat(40);
    assert.equal(r.publish("t", p40("a"), 1).rc, MQTT_ERR_SUCCESS, "queued while offline");
    assert.equal(r.publish("t", p40("b"), 2).rc, MQTT_ERR_SUCCESS);
    assert.deepEqual(r.publish("t", p40("c"), 1), { rc: MQTT_ERR_QUEUE_SIZE, mid: 0 });
    // A payload larger than the store is kept by reference, but its header (here 136 bytes) must fit the store.
    assert.deepEqual(r.publish("t".repeat(130), "z", 1), { rc: MQTT_ERR_PAYLOAD_SIZE, mid: 0 });
    r.connect();
    const seen = r.out();
    assert.deepEqual(ids(seen), ["PUBLISH 1", "PUBLISH 2"]);
    assert.deepEqual(seen.map((p) => String.fromCharCode(...p.payload!)), [p40("a"), p40("b")]);
    r.recv(puback(1));
    assert.equal(r.publish("t", p40("d"), 1).rc, MQTT_ERR_SUCCESS, "room again after a flow ended");
    assert.deepEqual(ids(r.out()), ["PUBLISH 3"]);
  });

  test("a QoS 0 publish refuses with MQTT_ERR_QUEUE_SIZE while the output is full and MQTT_ERR_PAYLOAD_SIZE when its header can never fit", () => {
    const r = new Rig({ budget: { outputBytes: 64 } });
    r.connect();
    assert.equal(r.publish("t", "x".repeat(40), 0).rc, MQTT_ERR_SUCCESS);
    assert.equal(r.publish("t", "y".repeat(40), 0).rc, MQTT_ERR_QUEUE_SIZE);
    assert.equal(r.publish("t".repeat(70), "z", 0).rc, MQTT_ERR_PAYLOAD_SIZE, "a 74-byte header in a 64-byte output");
    assert.deepEqual(r.out().map((p) => p.payload!.length), [40], "the first one is intact");
    assert.equal(r.publish("t", "y".repeat(40), 0).rc, MQTT_ERR_SUCCESS);
  });

  test("every packet id in use refuses a QoS 1 publish with MQTT_ERR_QUEUE_SIZE", () => {
    const r = new Rig({ budget: { maxMessages: 3 } });
    r.connect();
    for (let i = 0; i < 3; i++) assert.equal(r.publish("t", "x", 1).rc, MQTT_ERR_SUCCESS);
    assert.deepEqual(r.publish("t", "x", 1), { rc: MQTT_ERR_QUEUE_SIZE, mid: 0 });
    assert.equal(r.engine.subscribe([{ topicFilter: "s", qos: 0 }], undefined, r.now).rc, MQTT_ERR_QUEUE_SIZE);
    assert.deepEqual(ids(r.out()), ["PUBLISH 1", "PUBLISH 2", "PUBLISH 3"]);
  });

  test("packet ids are never reused while in use: 70,000 publishes acknowledged out of order", () => {
    const r = new Rig({ budget: { maxMessages: 40, storeBytes: 1 << 16, outputBytes: 1 << 16 }, maxInflight: 0 });
    r.connect();
    const rand = prng(7);
    const inUse = new Set<number>();
    const onWire = new Set<number>();
    let published = 0;
    let wrapped = false;
    let last = 0;
    while (published < 70_000) {
      for (let burst = rand(30) + 1; burst > 0 && published < 70_000; burst--) {
        const { rc, mid } = r.publish("t", "p", (1 + rand(2)) as QoS);
        if (rc === MQTT_ERR_QUEUE_SIZE) break;
        assert.equal(rc, MQTT_ERR_SUCCESS);
        assert.ok(!inUse.has(mid), `mid ${mid} handed out while in use`);
        if (mid < last) wrapped = true;
        last = mid;
        inUse.add(mid);
        published++;
      }
      for (const p of r.out()) {
        assert.equal(p.name, "PUBLISH");
        assert.ok(inUse.has(p.packetId!), `PUBLISH ${p.packetId} not from publish()`);
        assert.ok(!onWire.has(p.packetId!), `PUBLISH ${p.packetId} in flight twice`);
        assert.equal(p.dup, false);
        onWire.add(p.packetId!);
      }
      // Acknowledge a random part of what is in flight, in random order; QoS 2 in two steps.
      const flying = [...onWire];
      for (let n = rand(flying.length + 1); n > 0; n--) {
        const id = flying.splice(rand(flying.length), 1)[0]!;
        const qos2 = r.engine.outbox.stateOf(r.engine.outbox.ids.slotOf(id)) === 3;
        const events = qos2 ? [...r.recv(pubrec(id)), ...(r.out(), r.recv(pubcomp(id)))] : r.recv(puback(id));
        assert.deepEqual(events, [{ type: "published", mid: id, reasonCode: 0 }]);
        onWire.delete(id);
        inUse.delete(id);
      }
    }
    assert.ok(wrapped, "ids wrapped past 65535");
    assert.equal(r.engine.state, CONNECTED);
  });
});

describe("resuming a session", () => {
  /** A, B, C, D published (QoS 1, 2, 2, 1); B got its PUBREC; the link goes; E is published offline. */
  function interrupted(version: ProtocolVersion): Rig {
    const r = new Rig({ version, cleanStart: false });
    r.connect();
    r.publish("t", "A", 1);
    r.publish("t", "B", 2);
    r.publish("t", "C", 2);
    r.publish("t", "D", 1);
    assert.deepEqual(ids(r.out()), ["PUBLISH 1", "PUBLISH 2", "PUBLISH 3", "PUBLISH 4"]);
    r.recv(pubrec(2));
    assert.deepEqual(ids(r.out()), ["PUBREL 2"]);
    r.engine.lost();
    assert.equal(r.engine.state, IDLE);
    r.publish("t", "E", 1);
    r.now = 5000;
    assert.deepEqual(names(r.begin()), ["CONNECT"]);
    assert.deepEqual(r.out(), [], "nothing is resumed before CONNACK");
    return r;
  }

  for (const version of [4, 5] as const) {
    test(`after a reconnect with sessionPresent=1 (protocol level ${version}), unacknowledged PUBLISHes are re-sent with DUP in order and the flow past PUBREC resumes with PUBREL`, () => {
      const r = interrupted(version);
      assert.deepEqual(r.recv(connack(true)), [{ type: "connected", sessionPresent: true, reasonCode: 0 }]);
      const seen = r.out();
      assert.deepEqual(ids(seen), ["PUBLISH 1 dup", "PUBREL 2", "PUBLISH 3 dup", "PUBLISH 4 dup", "PUBLISH 5"]);
      assert.deepEqual(seen.map((p) => p.payload === undefined ? "" : String.fromCharCode(...p.payload)), ["A", "", "C", "D", "E"]);
      assert.equal(seen[0]!.bytes[0], 0x3a, "PUBLISH with DUP and QoS 1");
      assert.equal(seen[2]!.bytes[0], 0x3c, "PUBLISH with DUP and QoS 2");
      assert.equal(seen[4]!.bytes[0], 0x32, "never sent before: no DUP");
      assert.deepEqual(r.recv(puback(1), pubcomp(2), pubrec(3)), [{ type: "published", mid: 1, reasonCode: 0 }, { type: "published", mid: 2, reasonCode: 0 }]);
      assert.deepEqual(ids(r.out()), ["PUBREL 3"]);
      assert.deepEqual(r.recv(pubcomp(3), puback(4), puback(5)), [3, 4, 5].map((mid) => ({ type: "published", mid, reasonCode: 0 })));
      assert.equal(r.engine.outbox.pending, 0);
    });

    test(`after a reconnect with sessionPresent=0 (protocol level ${version}), every unfinished flow starts again from PUBLISH, in order`, () => {
      const r = interrupted(version);
      assert.deepEqual(r.recv(connack(false)), [{ type: "connected", sessionPresent: false, reasonCode: 0 }]);
      const seen = r.out();
      assert.deepEqual(seen.map((p) => p.packetId), [1, 2, 3, 4, 5]);
      assert.deepEqual(seen.map((p) => String.fromCharCode(...p.payload!)), ["A", "B", "C", "D", "E"]);
      assert.deepEqual(names(seen), ["PUBLISH", "PUBLISH", "PUBLISH", "PUBLISH", "PUBLISH"],
        "no PUBREL for a session the broker no longer has: the QoS 2 message past PUBREC is sent again");
    });

    test(`with resendOnSessionLoss off (protocol level ${version}), a lost session drops the sent flows: 0x80 for those not PUBREC'd`, () => {
      const r = interrupted(version);
      r.configure({ resendOnSessionLoss: false });
      const events = r.recv(connack(false));
      assert.deepEqual(events[0], { type: "connected", sessionPresent: false, reasonCode: 0 });
      assert.deepEqual(events.slice(1).map((e) => e.type === "published" ? [e.mid, e.reasonCode] : e.type).sort(),
        [[1, 0x80], [2, 0], [3, 0x80], [4, 0x80]].sort());
      assert.deepEqual(r.out().map((p) => p.packetId), [5], "only the flow never sent goes out");
    });
  }

  test("resumed flows respect the in-flight window of the new connection", () => {
    const r = new Rig({ cleanStart: false, maxInflight: 2 });
    r.connect();
    for (const p of ["a", "b", "c"]) r.publish("t", p, 1);
    assert.deepEqual(ids(r.out()), ["PUBLISH 1", "PUBLISH 2"]);
    r.engine.lost();
    r.begin();
    r.recv(connack(true));
    assert.deepEqual(ids(r.out()), ["PUBLISH 1 dup", "PUBLISH 2 dup"]);
    r.recv(puback(1));
    assert.deepEqual(ids(r.out()), ["PUBLISH 3"]);
  });
});

describe("keepalive", () => {
  test("PINGREQ goes out after keepalive seconds of silence, and nextDeadline says exactly when", () => {
    const r = new Rig({ keepAlive: 10 });
    r.begin(); // CONNECT at 0
    r.now = 100;
    r.recv(connack(false));
    assert.equal(r.engine.nextDeadline(), 10_000, "10 s after the last packet sent (CONNECT)");
    assert.deepEqual(r.tick(9_999), []);
    assert.deepEqual(r.out(), []);
    assert.deepEqual(r.tick(10_000), []);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0xc0, 0x00]]);
    assert.equal(r.engine.nextDeadline(), 15_100, "1.5 x keepalive after the last packet received (CONNACK)");
    assert.deepEqual(r.tick(12_000), []);
    assert.deepEqual(r.out(), [], "one PINGREQ at a time");
    r.now = 10_050;
    r.recvBytes([0xd0, 0x00]);
    assert.equal(r.engine.nextDeadline(), 20_000);
    r.tick(20_000);
    assert.deepEqual(names(r.out()), ["PINGREQ"]);
  });

  test("sending anything moves the next PINGREQ back", () => {
    const r = new Rig({ keepAlive: 10 });
    r.connect(); // all at 0
    r.now = 4_000;
    r.publish("t", "x", 0);
    r.out();
    r.now = 6_000;
    r.recv(incoming("t", "x", 0, 0)); // and receiving too
    assert.equal(r.engine.nextDeadline(), 14_000);
    assert.deepEqual((r.tick(13_999), r.out()), []);
    assert.deepEqual((r.tick(14_000), names(r.out())), ["PINGREQ"]);
  });

  test("a broker that keeps sending does not spare us the PINGREQ when we send nothing", () => {
    const r = new Rig({ keepAlive: 10 });
    r.connect();
    for (let t = 3_000; t < 10_000; t += 3_000) {
      r.now = t;
      r.recv(incoming("t", "x", 0, 0));
    }
    assert.equal(r.engine.nextDeadline(), 10_000);
    r.tick(10_000);
    assert.deepEqual(names(r.out()), ["PINGREQ"]);
  });

  test("the connection closes with MQTT_ERR_KEEPALIVE at 1.5 x keepalive without any packet received", () => {
    const r = new Rig({ keepAlive: 10 });
    r.connect();
    r.tick(10_000);
    assert.deepEqual(names(r.out()), ["PINGREQ"]);
    assert.deepEqual(r.tick(14_999), []);
    assert.deepEqual(r.tick(15_000), [{ type: "closed", rc: MQTT_ERR_KEEPALIVE, reasonCode: 0 }]);
    assert.equal(r.engine.state, CLOSING);
    assert.equal(r.engine.nextDeadline(), Infinity);
  });

  test("keepalive 0 never pings and sets no deadline", () => {
    const r = new Rig({ keepAlive: 0 });
    r.connect();
    assert.equal(r.engine.nextDeadline(), Infinity);
    for (const t of [60_000, 3_600_000, 86_400_000]) assert.deepEqual(r.tick(t), []);
    assert.deepEqual(r.out(), []);
    assert.equal(r.engine.state, CONNECTED);
  });

  test("a v5 Server Keep Alive replaces the keepalive we asked for", () => {
    const r = new Rig({ version: 5, keepAlive: 60 });
    assert.deepEqual(r.connect(false, { serverKeepAlive: 5 }), [{ type: "connected", sessionPresent: false, reasonCode: 0, properties: { serverKeepAlive: 5 } }]);
    assert.equal(r.engine.nextDeadline(), 5_000);
    r.tick(5_000);
    assert.deepEqual(names(r.out()), ["PINGREQ"]);
    assert.deepEqual(r.tick(7_500), [{ type: "closed", rc: MQTT_ERR_KEEPALIVE, reasonCode: 0 }]);
  });

  test("a v5 Server Keep Alive of 0 turns keepalive off", () => {
    const r = new Rig({ version: 5, keepAlive: 60 });
    r.connect(false, { serverKeepAlive: 0 });
    assert.equal(r.engine.nextDeadline(), Infinity);
  });

  test("a new connection goes back to the keepalive we asked for", () => {
    const r = new Rig({ version: 5, keepAlive: 60 });
    r.connect(false, { serverKeepAlive: 5 });
    r.engine.lost();
    r.now = 1_000;
    r.connect(false);
    assert.equal(r.engine.nextDeadline(), 61_000);
  });
});

describe("MQTT 5 receive maximum", () => {
  test("a server Receive Maximum of 2 keeps at most 2 QoS 1/2 publishes unacknowledged", () => {
    const r = new Rig({ version: 5 });
    r.connect(false, { receiveMaximum: 2 });
    const rand = prng(3);
    for (let i = 0; i < 12; i++) assert.equal(r.publish("t", String(i), (1 + (i % 2)) as QoS).rc, MQTT_ERR_SUCCESS);
    const unacked = new Map<number, number>(); // id -> QoS
    const done: number[] = [];
    for (let round = 0; round < 100 && done.length < 12; round++) {
      for (const p of r.out()) {
        if (p.name === "PUBLISH") unacked.set(p.packetId!, p.qos!);
        else assert.equal(p.name, "PUBREL");
      }
      assert.ok(unacked.size <= 2, `${unacked.size} unacknowledged`);
      const flying = [...unacked.keys()];
      if (flying.length === 0) continue;
      const id = flying[rand(flying.length)]!;
      if (unacked.get(id) === 1) {
        r.recv(puback(id));
        unacked.delete(id);
        done.push(id);
      } else if (unacked.get(id) === 2) {
        r.recv(pubrec(id));
        unacked.set(id, -1); // waiting for PUBCOMP: still counts against Receive Maximum
      } else {
        r.recv(pubcomp(id));
        unacked.delete(id);
        done.push(id);
      }
    }
    assert.equal(done.length, 12);
    assert.equal(r.history.filter((e) => e.type === "published").length, 12);
  });
});

describe("3.x retry", () => {
  test("an unacknowledged PUBLISH is re-sent with DUP after retryMs, and PUBREL after retryMs waiting for PUBCOMP", () => {
    assert.equal(new Rig({}).engine.options.retryMs, 0, "retry is off unless asked for: 3.1.1 re-sends on reconnect only");
    const r = new Rig({ keepAlive: 0, retryMs: 20_000 });
    r.connect();
    r.now = 1_000;
    r.publish("t", "x", 1);
    const first = r.out()[0]!;
    assert.equal(r.engine.nextDeadline(), 21_000);
    assert.deepEqual((r.tick(20_999), r.out()), []);
    r.tick(21_000);
    const again = r.out();
    assert.deepEqual(again.map((p) => p.bytes), [[first.bytes[0]! | 0x08, ...first.bytes.slice(1)]]);
    assert.equal(r.engine.nextDeadline(), 41_000);
    r.now = 21_500;
    r.recv(puback(1));
    assert.equal(r.engine.nextDeadline(), Infinity);

    r.now = 22_000;
    r.publish("t", "y", 2);
    r.out();
    r.now = 23_000;
    r.recv(pubrec(2));
    assert.deepEqual(ids(r.out()), ["PUBREL 2"]);
    assert.equal(r.engine.nextDeadline(), 43_000, "the PUBREC restarted the clock");
    r.tick(43_000);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x62, 0x02, 0x00, 0x02]]);
    r.recv(pubcomp(2));
    assert.equal(r.engine.outbox.pending, 0);
  });

  test("retryMs 0 never re-sends", () => {
    const r = new Rig({ keepAlive: 0, retryMs: 0 });
    r.connect();
    r.publish("t", "x", 1);
    r.out();
    assert.equal(r.engine.nextDeadline(), Infinity);
    r.tick(1e9);
    assert.deepEqual(r.out(), []);
  });

  test("v5 never re-sends on a timer [5.0 MQTT-4.4.0-1]", () => {
    const r = new Rig({ version: 5, keepAlive: 0 });
    r.connect();
    r.publish("t", "x", 1);
    r.publish("t", "y", 2);
    r.out();
    r.recv(pubrec(2));
    r.out();
    assert.equal(r.engine.nextDeadline(), Infinity);
    for (const t of [20_000, 60_000, 1e9]) r.tick(t);
    assert.deepEqual(r.out(), []);
  });

  test("retry re-sends only flows in flight on this connection, within the window", () => {
    const r = new Rig({ keepAlive: 0, cleanStart: false, maxInflight: 2, retryMs: 20_000 });
    r.connect();
    r.publish("t", "a", 1);
    r.publish("t", "b", 1);
    assert.deepEqual(ids(r.out()), ["PUBLISH 1", "PUBLISH 2"]);
    r.engine.lost();
    r.configure({ maxInflight: 1 });
    r.now = 1_000;
    r.connect(true);
    assert.deepEqual(ids(r.out()), ["PUBLISH 1 dup"]);
    const deadline = r.engine.nextDeadline();
    r.tick(21_000);
    const retried = r.out();
    r.recv(puback(1));
    const after = r.out();
    assert.deepEqual([ids(retried), ids(after)], [["PUBLISH 1 dup"], ["PUBLISH 2 dup"]], "mid 2 once, after mid 1's PUBACK");
    assert.equal(deadline, 21_000, "only mid 1 is in flight");
  });
});

describe("protocol errors", () => {
  const malformedCases: Array<[string, number[], number]> = [
    ["packet type 0", [0x00, 0x00], 0x81],
    ["a PUBLISH with QoS 3", [0x36, 0x05, 0x00, 0x01, 0x74, 0x00, 0x01], 0x81],
    ["a PUBACK with packet id 0", [0x40, 0x02, 0x00, 0x00], 0x82],
    ["a packet larger than budget.maxPacketSize (a SUBACK: on 3.x a PUBLISH is read past instead)", [0x90, 0xff, 0x01], 0x95],
  ];
  for (const [what, bytes, reason] of malformedCases) {
    test(`${what} closes the connection with reason 0x${reason.toString(16)}; on v5 a DISCONNECT carries it`, () => {
      for (const version of [4, 5] as const) {
        const r = new Rig({ version, budget: { maxPacketSize: 128 } });
        r.connect();
        assert.deepEqual(r.recvBytes(bytes), [{ type: "closed", rc: MQTT_ERR_PROTOCOL, reasonCode: reason }], `protocol level ${version}`);
        assert.deepEqual(r.out().map((p) => p.bytes), version === 5 ? [[0xe0, 0x01, reason]] : []);
        assert.equal(r.engine.state, CLOSING);
        assert.deepEqual(r.recv(puback(1)), [], "nothing is read once closing");
      }
    });
  }

  test("a v5 PUBLISH with a topic alias (ours is 0) closes the connection with 0x94", () => {
    const r = new Rig({ version: 5 });
    r.connect();
    assert.deepEqual(r.recv(incoming("t", "x", 1, 3, false, { topicAlias: 1 })), [{ type: "closed", rc: MQTT_ERR_PROTOCOL, reasonCode: 0x94 }]);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0xe0, 0x01, 0x94]], "DISCONNECT 0x94 and no PUBACK");
  });

  test("a v5 DISCONNECT from the server closes the connection with its reason code and properties", () => {
    const r = new Rig({ version: 5 });
    r.connect();
    const properties = { reasonString: "maintenance", serverReference: "b2:1883", userProperties: [["k", "v"]] as Array<[string, string]> };
    assert.deepEqual(r.recv({ type: DISCONNECT, reasonCode: 0x8b, properties }), [{ type: "closed", rc: MQTT_ERR_CONN_LOST, reasonCode: 0x8b, properties }]);
    assert.deepEqual(r.out(), []);
    assert.equal(r.engine.state, CLOSING);
  });

  test("a SUBACK with the right count gives a subscribed event; with the wrong count it is a protocol error", () => {
    const r = new Rig({ version: 5 });
    r.connect();
    const subs = [{ topicFilter: "a/#", qos: 0 as QoS }, { topicFilter: "b", qos: 1 as QoS }];
    const { rc, mid } = r.engine.subscribe(subs, undefined, r.now);
    assert.equal(rc, MQTT_ERR_SUCCESS);
    const seen = r.out();
    assert.deepEqual(seen.map((p) => p.subscriptions), [[{ topicFilter: "a/#", qos: 0 }, { topicFilter: "b", qos: 1 }]]);
    assert.deepEqual(r.recv({ type: SUBACK, packetId: mid, reasonCodes: [0, 1] }), [{ type: "subscribed", mid, reasonCodes: [0, 1] }]);
    const second = r.engine.subscribe(subs, undefined, r.now).mid;
    r.out();
    assert.deepEqual(r.recv({ type: SUBACK, packetId: second, reasonCodes: [0] }), [{ type: "closed", rc: MQTT_ERR_PROTOCOL, reasonCode: 0x82 }]);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0xe0, 0x01, 0x82]]);
  });

  test("a 3.1.1 UNSUBACK carries no reason codes and gives an unsubscribed event", () => {
    const r = new Rig();
    r.connect();
    const { mid } = r.engine.unsubscribe(["a", "b"], undefined, r.now);
    assert.deepEqual(r.out().map((p) => p.topicFilters), [["a", "b"]]);
    assert.deepEqual(r.recv({ type: UNSUBACK, packetId: mid, reasonCodes: [] }), [{ type: "unsubscribed", mid, reasonCodes: [] }]);
  });

  test("a protocol error while a packet is half written keeps the stream framed: the DISCONNECT follows whole packets", () => {
    const r = new Rig({ version: 5 });
    r.connect();
    r.publish("t", "p".repeat(200), 0);
    assert.deepEqual(r.outSome(50), [], "the transport took 50 bytes of the PUBLISH");
    assert.deepEqual(r.recvBytes([0x00, 0x00]), [{ type: "closed", rc: MQTT_ERR_PROTOCOL, reasonCode: 0x81 }]);
    const rest = r.out();
    assert.equal(r.wire.partial, 0, "no packet left cut on the wire");
    assert.deepEqual(rest.map((p) => p.name), ["PUBLISH", "DISCONNECT"]);
    assert.deepEqual(rest[1]?.bytes, [0xe0, 0x01, 0x81]);
  });
});

describe("MQTT 3.x: a PUBLISH larger than budget.maxPacketSize (a 3.x broker cannot be told the limit)", () => {
  for (const version of [3, 4] as const) {
    for (const qos of [0, 1, 2] as const) {
      for (const split of ["whole", "byte by byte"] as const) {
        test(`${version === 3 ? "3.1" : "3.1.1"} QoS ${qos}, ${split}: read past unstored, acknowledged, logged at MQTT_LOG_ERR, counted; the next message is delivered`, () => {
          const r = new Rig({ version, budget: { maxPacketSize: 128 } });
          r.connect();
          r.out();
          const big = Array.from(encode(version, incoming("big/topic", "x".repeat(1000), qos, qos > 0 ? 9 : 0)));
          const small = Array.from(encode(version, incoming("small", "after", 0, 0)));
          const bytes = [...big, ...small];
          const events = split === "whole" ? r.recvBytes(bytes) : bytes.flatMap((b) => r.recvBytes([b]));
          assert.deepEqual(events.map((e) => `${e.type} ${"topic" in e ? String(e.topic) : ""}`), ["message small"]);
          assert.deepEqual(r.out().map((p) => `${p.name} ${p.packetId ?? ""}`), qos === 0 ? [] : [`${qos === 1 ? "PUBACK" : "PUBREC"} 9`]);
          if (qos === 2) {
            assert.deepEqual(r.recv(pubrel(9)), []);
            assert.deepEqual(r.out().map((p) => `${p.name} ${p.packetId ?? ""}`), ["PUBCOMP 9"]);
          }
          assert.equal(r.engine.oversizedMessages, 1);
          assert.deepEqual(r.logs.filter(([level]) => level === MQTT_LOG_ERR).map(([, m]) => m),
            [`a ${big.length}-byte PUBLISH to big/topic (QoS ${qos}, mid ${qos > 0 ? 9 : 0}) is larger than budget.maxPacketSize 128: read past, acknowledged, not delivered`]);
          assert.equal(r.engine.state, CONNECTED);
        });
      }
    }
  }
});

describe("what a published event says of its publish", () => {
  /** The `qos` of each "published" event for the packets fed (raw events: the rig's snapshots leave it out). */
  function publishedQos(r: Rig, ...packets: Parameters<Rig["recv"]>): number[] {
    r.engine.receive(Uint8Array.from(packets.flatMap((p) => Array.from(encode(r.version, p)))), r.now);
    const qos: number[] = [];
    for (let e = r.engine.poll(); e !== null; e = r.engine.poll()) if (e.type === "published") qos.push(e.qos);
    return qos;
  }

  test("PUBACK ends a QoS 1 publish, PUBCOMP a QoS 2 one: each event names its QoS (ECMA-419 reports PUBACK or PUBCOMP by it)", () => {
    const r = new Rig();
    r.connect();
    r.publish("t", "x", 1);
    r.publish("t", "y", 2);
    r.out();
    assert.deepEqual(publishedQos(r, puback(1), pubrec(2)), [1]);
    r.out();
    assert.deepEqual(publishedQos(r, pubcomp(2)), [2]);
  });

  test("a v5 PUBREC refusal ends a QoS 2 publish as QoS 2", () => {
    const r = new Rig({ version: 5 });
    r.connect();
    r.publish("t", "x", 2);
    r.out();
    assert.deepEqual(publishedQos(r, pubrec(1, 0x87)), [2]);
  });
});
