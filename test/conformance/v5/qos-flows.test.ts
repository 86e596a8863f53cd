/**
 * MQTT 5.0 QoS delivery (4.3), resending (4.4), acknowledging (4.5), ordering (4.6), packet identifiers (2.2.1)
 * and session state (3.1.2, 3.2.2, 4.1): the engine on a clock the test moves, the broker's side played with
 * exact packets (test/support/engine-rig.ts).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { SUBACK, UNSUBACK } from "../../../src/codec/index.js";
import { MQTT_ERR_PROTOCOL } from "../../../src/paho/constants.js";
import { CLOSING } from "../../../src/engine/engine.js";
import { Rig, connack, ids, incoming, puback, pubcomp, pubrec, pubrel } from "../../support/engine-rig.js";

const v5 = (o: ConstructorParameters<typeof Rig>[0] = {}): Rig => new Rig({ version: 5, keepAlive: 0, ...o });

describe("MQTT 5.0 packet identifiers (2.2.1)", () => {
  test("[MQTT-2.2.1-3] [MQTT-4.3.2-1] [MQTT-4.3.3-1] each new SUBSCRIBE, UNSUBSCRIBE and QoS 1/2 PUBLISH gets a non-zero id no flow in progress holds", () => {
    const r = v5();
    r.connect();
    r.publish("t", "a", 1);
    r.publish("t", "b", 2);
    r.engine.subscribe([{ topicFilter: "s", qos: 0 }], undefined, r.now);
    r.engine.unsubscribe(["s"], undefined, r.now);
    const first = r.out().map((p) => p.packetId!);
    assert.equal(new Set(first).size, 4, `distinct: ${first.join(", ")}`);
    assert.ok(first.every((id) => id > 0 && id <= 65535));
    // Only an id whose flow ended may come back: none of the four is reused while they wait.
    for (let i = 0; i < 40; i++) r.publish("t", "c", 1);
    const later = r.out().map((p) => p.packetId!);
    assert.ok(later.every((id) => id > 0 && !first.includes(id)), "no id of a flow in progress");
    assert.equal(new Set(later).size, later.length);
  });

  test("[MQTT-2.2.1-5] [MQTT-4.3.2-4] [MQTT-4.3.3-8] [MQTT-4.3.3-11] PUBACK, PUBREC, PUBREL and PUBCOMP carry the PUBLISH's packet id", () => {
    const r = v5();
    r.connect();
    r.recv(incoming("t", "one", 1, 300));
    r.recv(incoming("t", "two", 2, 301));
    r.recv(pubrel(301));
    r.publish("t", "x", 2);
    const mid = r.out().map((p) => ids([p])[0]);
    assert.deepEqual(mid, ["PUBACK 300", "PUBREC 301", "PUBCOMP 301", "PUBLISH 1"]);
    r.recv(pubrec(1));
    assert.deepEqual(ids(r.out()), ["PUBREL 1"]);
    assert.deepEqual(r.recv(puback(1)), [], "a PUBACK with the id of a QoS 2 flow completes nothing");
    assert.deepEqual(r.recv(pubcomp(1)), [{ type: "published", mid: 1, reasonCode: 0 }]);
  });

  test("[MQTT-2.2.1-6] [MQTT-3.8.4-2] [MQTT-3.10.4-5] a SUBACK or UNSUBACK completes the request with its packet id, and only that one", () => {
    const r = v5();
    r.connect();
    const sub = r.engine.subscribe([{ topicFilter: "a", qos: 1 }], undefined, r.now).mid;
    const unsub = r.engine.unsubscribe(["b"], undefined, r.now).mid;
    r.out();
    assert.deepEqual(r.recv({ type: SUBACK, packetId: unsub, reasonCodes: [1] }), [], "a SUBACK with the UNSUBSCRIBE's id");
    assert.deepEqual(r.recv({ type: UNSUBACK, packetId: unsub, reasonCodes: [0x11] }), [{ type: "unsubscribed", mid: unsub, reasonCodes: [0x11] }],
      "UNSUBACK for a filter that was not subscribed still has the id");
    assert.deepEqual(r.recv({ type: SUBACK, packetId: sub, reasonCodes: [1] }), [{ type: "subscribed", mid: sub, reasonCodes: [1] }]);
  });
});

describe("MQTT 5.0 SUBACK and UNSUBACK (3.8.4, 3.9.3, 3.11.3)", () => {
  test("[MQTT-3.8.4-6] [MQTT-3.9.3-1] [MQTT-3.11.3-1] one reason code per filter, in the request's order; another count is a Protocol Error", () => {
    const r = v5();
    r.connect();
    const sub = r.engine.subscribe([{ topicFilter: "a", qos: 2 }, { topicFilter: "b", qos: 1 }, { topicFilter: "c", qos: 0 }], undefined, r.now).mid;
    const unsub = r.engine.unsubscribe(["a", "b"], undefined, r.now).mid;
    r.out();
    assert.deepEqual(r.recv({ type: SUBACK, packetId: sub, reasonCodes: [0x01, 0x87, 0x00] }), [{ type: "subscribed", mid: sub, reasonCodes: [0x01, 0x87, 0x00] }]);
    assert.deepEqual(r.recv({ type: UNSUBACK, packetId: unsub, reasonCodes: [0x00] }), [{ type: "closed", rc: MQTT_ERR_PROTOCOL, reasonCode: 0x82 }]);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0xe0, 0x01, 0x82]]);
  });
});

describe("MQTT 5.0 QoS 0 and QoS 1 (4.3.1, 4.3.2)", () => {
  test("[MQTT-4.3.1-1] [MQTT-3.3.1-2] a QoS 0 message goes out as QoS 0 with DUP 0", () => {
    const r = v5();
    r.connect();
    r.publish("t", "x", 0);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x30, 0x05, 0x00, 0x01, 0x74, 0x00, 0x78]]);
  });

  test("[MQTT-4.3.2-2] [MQTT-4.3.2-3] a QoS 1 message goes out as QoS 1 with DUP 0 and stays unacknowledged until its PUBACK", () => {
    const r = v5();
    r.connect();
    r.publish("t", "x", 1);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x32, 0x07, 0x00, 0x01, 0x74, 0x00, 0x01, 0x00, 0x78]]);
    assert.deepEqual(r.tick(3_600_000), [], "an hour later it is still waiting");
    assert.equal(r.engine.outbox.pending, 1);
    assert.deepEqual(r.recv(puback(1)), [{ type: "published", mid: 1, reasonCode: 0 }]);
    assert.equal(r.engine.outbox.pending, 0);
  });

  test("[MQTT-4.3.2-5] [MQTT-3.3.4-1] the receiver answers each QoS as it requires; after its PUBACK the same id is a new message", () => {
    const r = v5();
    r.connect();
    assert.equal(r.recv(incoming("t", "q0", 0, 0)).length, 1);
    assert.deepEqual(r.out(), [], "QoS 0: no answer");
    assert.equal(r.recv(incoming("t", "a", 1, 9)).length, 1);
    assert.deepEqual(ids(r.out()), ["PUBACK 9"]);
    assert.deepEqual(r.recv(incoming("t", "b", 1, 9)).map((e) => e.type === "message" && e.payload), ["b"], "delivered again");
    assert.deepEqual(ids(r.out()), ["PUBACK 9"]);
    assert.equal(r.recv(incoming("t", "c", 2, 10)).length, 1);
    assert.deepEqual(ids(r.out()), ["PUBREC 10"], "QoS 2: PUBREC");
  });
});

describe("MQTT 5.0 QoS 2 (4.3.3)", () => {
  test("[MQTT-4.3.3-2] [MQTT-4.3.3-3] [MQTT-4.3.3-4] [MQTT-4.3.3-5] QoS 2 out: PUBLISH QoS 2 DUP 0 until PUBREC, then PUBREL with the id until PUBCOMP", () => {
    const r = v5({ cleanStart: false });
    r.connect();
    r.publish("t", "x", 2);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x34, 0x07, 0x00, 0x01, 0x74, 0x00, 0x01, 0x00, 0x78]]);
    r.tick(3_600_000);
    assert.deepEqual(r.out(), []);
    assert.equal(r.engine.outbox.pending, 1, "unacknowledged until PUBREC");
    assert.deepEqual(r.recv(pubrec(1, 0x10)), [], "PUBREC 0x10 (no matching subscribers) is below 0x80: the flow goes on");
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x62, 0x02, 0x00, 0x01]]);
    r.tick(7_200_000);
    assert.equal(r.engine.outbox.pending, 1, "the PUBREL is unacknowledged until PUBCOMP");
    r.engine.lost();
    r.begin();
    r.recv(connack(true));
    assert.deepEqual(ids(r.out()), ["PUBREL 1"], "and re-sent on resuming");
    assert.deepEqual(r.recv(pubcomp(1)), [{ type: "published", mid: 1, reasonCode: 0 }]);
  });

  test("[MQTT-4.3.3-6] once PUBREL is sent the PUBLISH is never sent again, on this connection or the next", () => {
    const r = v5({ cleanStart: false });
    r.connect();
    r.publish("t", "x", 2);
    r.out();
    r.recv(pubrec(1));
    r.out();
    r.recv(pubrec(1));
    assert.deepEqual(ids(r.out()), ["PUBREL 1"], "a repeated PUBREC: PUBREL again, not PUBLISH");
    r.engine.lost();
    r.begin();
    r.recv(connack(true));
    assert.deepEqual(ids(r.out()), ["PUBREL 1"]);
  });

  test("[MQTT-4.3.3-7] a QoS 2 message sent with a Message Expiry Interval is not expired by the sender: PUBREL follows long after", () => {
    const r = v5({ cleanStart: false });
    r.connect();
    r.publish("t", "x", 2, false, { messageExpiryInterval: 1 });
    r.out();
    r.now = 10_000;
    r.engine.lost();
    r.begin();
    r.recv(connack(true));
    assert.deepEqual(ids(r.out()), ["PUBLISH 1 dup"], "still sent after its expiry");
    r.recv(pubrec(1));
    assert.deepEqual(ids(r.out()), ["PUBREL 1"]);
  });

  test("[MQTT-4.3.3-10] a re-sent QoS 2 PUBLISH is answered with PUBREC again until PUBREL, and delivered once", () => {
    const r = v5();
    r.connect();
    assert.equal(r.recv(incoming("t", "x", 2, 5)).length, 1);
    assert.equal(r.recv(incoming("t", "x", 2, 5, true)).length, 0, "not delivered again");
    assert.equal(r.recv(incoming("t", "x", 2, 5, true)).length, 0);
    assert.deepEqual(ids(r.out()), ["PUBREC 5", "PUBREC 5", "PUBREC 5"]);
  });

  test("[MQTT-4.3.3-12] after PUBCOMP the same id is a new message, delivered again", () => {
    const r = v5();
    r.connect();
    r.recv(incoming("t", "a", 2, 5));
    r.recv(pubrel(5));
    assert.deepEqual(r.recv(incoming("t", "b", 2, 5)).map((e) => e.type === "message" && e.payload), ["b"]);
    assert.deepEqual(ids(r.out()), ["PUBREC 5", "PUBCOMP 5", "PUBREC 5"]);
  });

  test("[MQTT-4.3.3-13] the receiver completes the QoS 2 exchange even after the message's expiry", () => {
    const r = v5();
    r.connect();
    r.recv(incoming("t", "x", 2, 5, false, { messageExpiryInterval: 1 }));
    r.out();
    r.now = 60_000;
    r.tick(60_000);
    assert.deepEqual(r.recv(pubrel(5)), []);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x70, 0x02, 0x00, 0x05]], "PUBCOMP, reason 0x00");
  });
});

describe("MQTT 5.0 resending and session state (4.4, 3.1.2, 3.2.2, 4.1)", () => {
  test("[MQTT-4.4.0-1] [MQTT-3.3.1-1] [MQTT-3.1.2-23] [MQTT-4.1.0-1] resuming a session re-sends unacknowledged PUBLISH (DUP 1) and PUBREL with their ids; never at any other time", () => {
    const r = v5({ cleanStart: false });
    r.connect();
    r.publish("t", "a", 1);
    r.publish("t", "b", 2);
    r.publish("t", "c", 2);
    r.out();
    r.recv(pubrec(3));
    assert.deepEqual(ids(r.out()), ["PUBREL 3"]);
    for (const t of [20_000, 600_000, 1e9]) r.tick(t);
    assert.deepEqual(r.out(), [], "no re-send on a timer while connected");
    r.engine.lost();
    assert.deepEqual(r.out(), [], "none while the link is down");
    assert.deepEqual(r.begin().map((p) => p.name), ["CONNECT"], "none before CONNACK");
    r.recv(connack(true));
    assert.deepEqual(ids(r.out()), ["PUBLISH 1 dup", "PUBLISH 2 dup", "PUBREL 3"]);
  });

  test("[MQTT-4.4.0-2] a PUBACK or PUBREC of 0x80 or more ends the flow: never re-sent", () => {
    const r = v5({ cleanStart: false });
    r.connect();
    r.publish("t", "a", 1);
    r.publish("t", "b", 2);
    r.out();
    assert.deepEqual(r.recv(puback(1, 0x87), pubrec(2, 0x97)), [
      { type: "published", mid: 1, reasonCode: 0x87 }, { type: "published", mid: 2, reasonCode: 0x97 }]);
    assert.deepEqual(r.out(), [], "no PUBREL after PUBREC 0x97");
    r.engine.lost();
    r.begin();
    r.recv(connack(true));
    assert.deepEqual(r.out(), []);
  });

  test("[MQTT-3.1.2-4] [MQTT-3.2.2-5] with Clean Start, or Session Present 0, the client's session is discarded (unackedOnNewSession \"discard\")", () => {
    const r = v5({ cleanStart: false });
    r.configure({ resendOnSessionLoss: false });
    r.connect();
    r.publish("t", "a", 1);
    r.out();
    r.recv(incoming("t", "q2", 2, 7));
    r.out();
    r.engine.lost();
    r.begin();
    assert.deepEqual(r.recv(connack(false)), [{ type: "connected", sessionPresent: false, reasonCode: 0 }, { type: "published", mid: 1, reasonCode: 0x80 }]);
    assert.deepEqual(r.out(), [], "nothing re-sent into the new session");
    assert.equal(r.recv(incoming("t", "q2", 2, 7)).length, 1, "incoming QoS 2 state discarded: id 7 is a new message");
  });

  test("[MQTT-3.2.2-4] Session Present 1 after a Clean Start (the client has no session) closes the connection", () => {
    const r = v5({ cleanStart: true });
    r.begin();
    assert.deepEqual(r.recv(connack(true)), [{ type: "closed", rc: MQTT_ERR_PROTOCOL, reasonCode: 0x82 }]);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0xe0, 0x01, 0x82]]);
    assert.equal(r.engine.state, CLOSING);
  });
});

describe("MQTT 5.0 acknowledging and ordering (4.5, 4.6)", () => {
  test("[MQTT-4.5.0-2] every QoS 1/2 PUBLISH is acknowledged, whatever its topic and whether or not anything handles it", () => {
    const r = v5();
    r.connect();
    r.recv(incoming("never/subscribed", "a", 1, 1), incoming("$SYS/x", "b", 2, 2), incoming("t", "", 1, 3));
    assert.deepEqual(ids(r.out()), ["PUBACK 1", "PUBREC 2", "PUBACK 3"]);
  });

  test("[MQTT-4.6.0-1] unacknowledged PUBLISHes are re-sent in the order they were first sent", () => {
    const r = v5({ cleanStart: false });
    r.connect();
    for (const qos of [2, 1, 2, 1, 1] as const) r.publish("t", "x", qos);
    r.out();
    r.recv(puback(2));
    r.engine.lost();
    r.begin();
    r.recv(connack(true));
    assert.deepEqual(ids(r.out()), ["PUBLISH 1 dup", "PUBLISH 3 dup", "PUBLISH 4 dup", "PUBLISH 5 dup"]);
  });

  test("[MQTT-4.6.0-2] [MQTT-4.6.0-3] PUBACKs and PUBRECs go out in the order the PUBLISHes arrived", () => {
    const r = v5();
    r.connect();
    const order = [[9, 1], [4, 2], [7, 1], [2, 2], [8, 2], [1, 1]] as const;
    r.recv(...order.map(([id, qos]) => incoming("t", "x", qos, id)));
    assert.deepEqual(ids(r.out()), order.map(([id, qos]) => `${qos === 1 ? "PUBACK" : "PUBREC"} ${id}`));
  });

  test("[MQTT-4.6.0-4] PUBRELs go out in the order the PUBRECs arrived", () => {
    const r = v5();
    r.connect();
    for (let i = 0; i < 4; i++) r.publish("t", "x", 2);
    r.out();
    r.recv(pubrec(3), pubrec(1), pubrec(4), pubrec(2));
    assert.deepEqual(ids(r.out()), ["PUBREL 3", "PUBREL 1", "PUBREL 4", "PUBREL 2"]);
  });
});
