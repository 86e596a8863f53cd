/**
 * MQTT 3.1.1 packet identifiers (2.3.1), QoS delivery (4.3, 3.3.4), resending (4.4), acknowledging (4.5),
 * ordering (4.6), SUBACK and UNSUBACK (3.8.4, 3.9.3, 3.10.4) and session state (3.1.2.4, 4.1): the engine on
 * a clock the test moves, the broker's side played with exact packets (test/support/engine-rig.ts).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { SUBACK, UNSUBACK } from "../../../src/codec/index.js";
import { MQTT_ERR_PROTOCOL } from "../../../src/paho/constants.js";
import { CLOSING, CONNECTED } from "../../../src/engine/engine.js";
import { Rig, connack, ids, incoming, names, puback, pubcomp, pubrec, pubrel } from "../../support/engine-rig.js";

const v311 = (o: ConstructorParameters<typeof Rig>[0] = {}): Rig => new Rig({ version: 4, keepAlive: 0, ...o });
/** 3.1.1 has no DISCONNECT for the client to send on an error: the link is just closed. */
const closedByProtocolError = [{ type: "closed", rc: MQTT_ERR_PROTOCOL, reasonCode: 0x82 }];

/** The link drops and comes back: CONNECT, then a CONNACK with this Session Present. */
function reconnect(r: Rig, sessionPresent: boolean): void {
  r.engine.lost();
  r.begin();
  r.recv(connack(sessionPresent));
}

describe("MQTT 3.1.1 packet identifiers (2.3.1)", () => {
  test("[MQTT-2.3.1-2] [MQTT-2.3.1-1] [MQTT-4.3.2-1] [MQTT-4.3.3-1] each new SUBSCRIBE, UNSUBSCRIBE and QoS 1/2 PUBLISH gets a non-zero id no flow in progress holds", () => {
    const r = v311();
    r.connect();
    r.publish("t", "a", 1);
    r.publish("t", "b", 2);
    r.engine.subscribe([{ topicFilter: "s", qos: 0 }], undefined, r.now);
    r.engine.unsubscribe(["s"], undefined, r.now);
    const first = r.out().map((p) => p.packetId!);
    assert.equal(new Set(first).size, 4, `distinct: ${first.join(", ")}`);
    assert.ok(first.every((id) => id > 0 && id <= 65535));
    for (let i = 0; i < 40; i++) r.publish("t", "c", 1);
    const later = r.out().map((p) => p.packetId!);
    assert.ok(later.every((id) => id > 0 && !first.includes(id)), "no id of a flow in progress");
    assert.equal(new Set(later).size, later.length);
  });

  test("[MQTT-2.3.1-3] a re-sent packet keeps its id; an id comes back only once its acknowledgement is processed", () => {
    const r = v311({ cleanStart: false, retryMs: 5_000 });
    r.connect();
    r.publish("t", "q1", 1);
    r.publish("t", "q2", 2);
    assert.deepEqual(ids(r.out()), ["PUBLISH 1", "PUBLISH 2"]);
    r.tick(5_000);
    assert.deepEqual(ids(r.out()), ["PUBLISH 1 dup", "PUBLISH 2 dup"], "re-sent on the 3.x retry timer, same ids");
    reconnect(r, true);
    assert.deepEqual(ids(r.out()), ["PUBLISH 1 dup", "PUBLISH 2 dup"], "and on reconnecting");
    r.recv(pubrec(2));
    assert.deepEqual(ids(r.out()), ["PUBREL 2"]);
    r.tick(20_000);
    assert.deepEqual(ids(r.out()), ["PUBLISH 1 dup", "PUBREL 2"], "the PUBREL too keeps the id");
    const sub = r.engine.subscribe([{ topicFilter: "s", qos: 0 }], undefined, r.now).mid;
    assert.deepEqual(ids(r.out()), ["SUBSCRIBE 3"]);
    // The ids run in sequence and wrap after 65535; each QoS 0 publish takes the next one and gives it back at
    // once. Run the sequence round to 65535: the QoS 1 publish after it gets the first id not in use.
    const afterWrap = (): string[] => {
      let mid = 0;
      for (let i = 0; mid !== 65535; i++) {
        mid = r.publish("t", "", 0).mid;
        // The broker takes the bytes unread: decoding 65535 packets would only slow the test down.
        if (i % 500 === 0) r.engine.consumed(r.engine.outputLength(), r.now);
      }
      while (r.engine.outputLength() > 0) r.engine.consumed(r.engine.outputLength(), r.now);
      r.publish("t", "x", 1);
      return ids(r.out());
    };
    assert.deepEqual(afterWrap(), ["PUBLISH 4"], "1, 2 (PUBREL sent) and the SUBSCRIBE's 3 are still in use");
    r.recv(puback(4), puback(1), pubcomp(2), { type: SUBACK, packetId: sub, reasonCodes: [0] });
    assert.deepEqual(afterWrap(), ["PUBLISH 1"], "acknowledged: 1 is free again");
    assert.deepEqual(afterWrap(), ["PUBLISH 2"], "and 2 (4 was acknowledged too, and 3 by its SUBACK)");
  });

  test("[MQTT-2.3.1-6] PUBACK, PUBREC, PUBREL and PUBCOMP carry the PUBLISH's id; an acknowledgement with another id completes nothing", () => {
    const r = v311();
    r.connect();
    r.recv(incoming("t", "one", 1, 300));
    r.recv(incoming("t", "two", 2, 301));
    r.recv(pubrel(301));
    r.publish("t", "x", 2);
    r.publish("t", "y", 1);
    assert.deepEqual(ids(r.out()), ["PUBACK 300", "PUBREC 301", "PUBCOMP 301", "PUBLISH 1", "PUBLISH 2"]);
    assert.deepEqual(r.recv(puback(7), pubrec(8), pubcomp(1)), [], "unknown ids, or an id waiting for another packet");
    r.recv(pubrec(1));
    assert.deepEqual(ids(r.out()), ["PUBREL 1"]);
    assert.deepEqual(r.recv(puback(1)), [], "a PUBACK with the id of a QoS 2 flow completes nothing");
    assert.deepEqual(r.recv(pubcomp(1), puback(2)), [{ type: "published", mid: 1, reasonCode: 0 }, { type: "published", mid: 2, reasonCode: 0 }]);
  });

  test("[MQTT-2.3.1-7] [MQTT-3.8.4-2] [MQTT-3.10.4-4] a SUBACK or UNSUBACK completes the request with its packet id, and only that one", () => {
    const r = v311();
    r.connect();
    const sub = r.engine.subscribe([{ topicFilter: "a", qos: 1 }], undefined, r.now).mid;
    const unsub = r.engine.unsubscribe(["b"], undefined, r.now).mid;
    assert.deepEqual(ids(r.out()), [`SUBSCRIBE ${sub}`, `UNSUBSCRIBE ${unsub}`]);
    assert.deepEqual(r.recv({ type: SUBACK, packetId: unsub, reasonCodes: [1] }), [], "a SUBACK with the UNSUBSCRIBE's id");
    assert.deepEqual(r.recv({ type: UNSUBACK, packetId: sub, reasonCodes: [] }), [], "an UNSUBACK with the SUBSCRIBE's id");
    assert.deepEqual(r.recv({ type: SUBACK, packetId: 999, reasonCodes: [1] }), [], "an id never sent");
    assert.deepEqual(r.recv({ type: UNSUBACK, packetId: unsub, reasonCodes: [] }), [{ type: "unsubscribed", mid: unsub, reasonCodes: [] }]);
    assert.deepEqual(r.recv({ type: SUBACK, packetId: sub, reasonCodes: [1] }), [{ type: "subscribed", mid: sub, reasonCodes: [1] }]);
    assert.equal(r.engine.state, CONNECTED);
  });
});

describe("MQTT 3.1.1 SUBACK (3.8.4, 3.9.3)", () => {
  test("[MQTT-3.8.4-5] [MQTT-3.9.3-1] one return code per filter, reported in the SUBSCRIBE's order; another count closes the connection", () => {
    const r = v311();
    r.connect();
    const sub = r.engine.subscribe([{ topicFilter: "a", qos: 2 }, { topicFilter: "b", qos: 1 }, { topicFilter: "c", qos: 0 }], undefined, r.now).mid;
    assert.deepEqual(r.out()[0]?.subscriptions, [{ topicFilter: "a", qos: 2 }, { topicFilter: "b", qos: 1 }, { topicFilter: "c", qos: 0 }]);
    assert.deepEqual(r.recv({ type: SUBACK, packetId: sub, reasonCodes: [0x01, 0x80, 0x00] }), [{ type: "subscribed", mid: sub, reasonCodes: [0x01, 0x80, 0x00] }]);
    for (const codes of [[0x00, 0x00], [0x00, 0x00, 0x00, 0x00]]) {
      const s = v311();
      s.connect();
      const mid = s.engine.subscribe([{ topicFilter: "a", qos: 0 }, { topicFilter: "b", qos: 0 }, { topicFilter: "c", qos: 0 }], undefined, s.now).mid;
      s.out();
      assert.deepEqual(s.recv({ type: SUBACK, packetId: mid, reasonCodes: codes }), closedByProtocolError, `${codes.length} codes for 3 filters`);
      assert.deepEqual(s.out(), [], "3.1.1: nothing is sent, the link is closed");
      assert.equal(s.engine.state, CLOSING);
    }
  });
});

describe("MQTT 3.1.1 QoS 0, 1 and 2 (4.3, 3.3.4)", () => {
  test("[MQTT-4.3.1-1] [MQTT-3.3.1-2] a QoS 0 message goes out as QoS 0 with DUP 0, and no packet id", () => {
    const r = v311();
    r.connect();
    r.publish("t", "x", 0);
    r.publish("t", "x", 0, true);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x30, 0x04, 0x00, 0x01, 0x74, 0x78], [0x31, 0x04, 0x00, 0x01, 0x74, 0x78]]);
  });

  test("[MQTT-4.3.2-1] a QoS 1 message goes out as QoS 1, DUP 0, with a new id, and stays unacknowledged until its PUBACK", () => {
    const r = v311();
    r.connect();
    r.publish("t", "x", 1);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x32, 0x06, 0x00, 0x01, 0x74, 0x00, 0x01, 0x78]]);
    assert.deepEqual(r.tick(3_600_000), [], "an hour later it is still waiting");
    assert.equal(r.engine.outbox.pending, 1);
    assert.deepEqual(r.recv(puback(1)), [{ type: "published", mid: 1, reasonCode: 0 }]);
    assert.equal(r.engine.outbox.pending, 0);
  });

  test("[MQTT-4.3.2-2] [MQTT-3.3.4-1] the receiver answers each QoS as Table 3.4 says; after its PUBACK the same id is a new message", () => {
    const r = v311();
    r.connect();
    assert.equal(r.recv(incoming("t", "q0", 0, 0)).length, 1);
    assert.deepEqual(r.out(), [], "QoS 0: no answer");
    assert.equal(r.recv(incoming("t", "a", 1, 9)).length, 1);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x40, 0x02, 0x00, 0x09]], "QoS 1: PUBACK with its id");
    assert.deepEqual(r.recv(incoming("t", "b", 1, 9, true)).map((e) => e.type === "message" && e.payload), ["b"], "delivered again, DUP or not");
    assert.deepEqual(ids(r.out()), ["PUBACK 9"]);
    assert.equal(r.recv(incoming("t", "c", 2, 10)).length, 1);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x50, 0x02, 0x00, 0x0a]], "QoS 2: PUBREC with its id");
  });

  test("[MQTT-4.3.3-1] QoS 2 out: PUBLISH QoS 2 DUP 0 until PUBREC, then PUBREL with the id until PUBCOMP, never the PUBLISH again", () => {
    const r = v311({ cleanStart: false });
    r.connect();
    r.publish("t", "x", 2);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x34, 0x06, 0x00, 0x01, 0x74, 0x00, 0x01, 0x78]]);
    r.tick(3_600_000);
    assert.deepEqual(r.out(), []);
    assert.equal(r.engine.outbox.pending, 1, "unacknowledged until PUBREC");
    assert.deepEqual(r.recv(pubrec(1)), []);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x62, 0x02, 0x00, 0x01]]);
    r.tick(7_200_000);
    assert.equal(r.engine.outbox.pending, 1, "the PUBREL is unacknowledged until PUBCOMP");
    r.recv(pubrec(1));
    assert.deepEqual(ids(r.out()), ["PUBREL 1"], "a repeated PUBREC: PUBREL again, not the PUBLISH");
    reconnect(r, true);
    assert.deepEqual(ids(r.out()), ["PUBREL 1"], "nor on resuming");
    assert.deepEqual(r.recv(pubcomp(1)), [{ type: "published", mid: 1, reasonCode: 0 }]);
  });

  test("[MQTT-4.3.3-2] QoS 2 in: PUBREC with the id, again for a re-sent PUBLISH without delivering it twice, PUBCOMP for PUBREL, then the id is new", () => {
    const r = v311();
    r.connect();
    assert.equal(r.recv(incoming("t", "x", 2, 5)).length, 1);
    assert.equal(r.recv(incoming("t", "x", 2, 5, true)).length, 0, "not delivered again");
    assert.equal(r.recv(incoming("t", "x", 2, 5, false)).length, 0, "DUP 0 or 1");
    assert.deepEqual(ids(r.out()), ["PUBREC 5", "PUBREC 5", "PUBREC 5"]);
    r.recv(pubrel(5));
    assert.deepEqual(r.out().map((p) => p.bytes), [[0x70, 0x02, 0x00, 0x05]]);
    assert.deepEqual(r.recv(incoming("t", "y", 2, 5)).map((e) => e.type === "message" && e.payload), ["y"], "after PUBCOMP, a new message");
    assert.deepEqual(ids(r.out()), ["PUBREC 5"]);
  });
});

describe("MQTT 3.1.1 resending and session state (4.4, 3.1.2.4, 4.1)", () => {
  test("[MQTT-4.4.0-1] [MQTT-3.3.1-1] reconnecting with CleanSession 0, unacknowledged PUBLISHes (DUP 1) and PUBRELs are re-sent with their original ids", () => {
    const r = v311({ cleanStart: false });
    r.connect();
    r.publish("t", "a", 1);
    r.publish("t", "b", 2);
    r.publish("t", "c", 2);
    r.publish("t", "q0", 0);
    assert.deepEqual(r.out().map((p) => p.dup), [false, false, false, false]);
    r.recv(pubrec(3));
    assert.deepEqual(ids(r.out()), ["PUBREL 3"]);
    r.engine.lost();
    assert.deepEqual(r.out(), [], "none while the link is down");
    assert.deepEqual(names(r.begin()), ["CONNECT"], "none before CONNACK");
    r.recv(connack(true));
    const resent = r.out();
    assert.deepEqual(ids(resent), ["PUBLISH 1 dup", "PUBLISH 2 dup", "PUBREL 3"], "QoS 0 is not re-sent");
    assert.deepEqual(resent[0]!.bytes, [0x3a, 0x06, 0x00, 0x01, 0x74, 0x00, 0x01, 0x61], "DUP set, the original bytes otherwise");
  });

  test("[MQTT-3.1.2-4] [MQTT-4.1.0-1] with CleanSession 0 the client keeps its session after the connection ends, even after its own DISCONNECT, and resumes it", () => {
    const r = v311({ cleanStart: false });
    r.connect();
    r.publish("t", "out", 1);
    r.out();
    r.recv(incoming("t", "in", 2, 7));
    assert.deepEqual(ids(r.out()), ["PUBREC 7"]);
    r.engine.disconnect(0, undefined, r.now);
    assert.deepEqual(names(r.out()), ["DISCONNECT"]);
    r.engine.lost();
    r.now = 3_600_000;
    r.begin();
    r.recv(connack(true));
    assert.deepEqual(ids(r.out()), ["PUBLISH 1 dup"], "the unacknowledged message resumes");
    assert.deepEqual(r.recv(incoming("t", "in", 2, 7, true)), [], "the broker's re-sent QoS 2 message is not delivered again");
    assert.deepEqual(ids(r.out()), ["PUBREC 7"]);
    r.recv(pubrel(7), puback(1));
    assert.deepEqual(ids(r.out()), ["PUBCOMP 7"]);
  });

  test("[MQTT-3.1.2-6] with CleanSession 1 the previous session is discarded and none of it reused (unackedOnNewSession \"discard\")", () => {
    const r = v311({ cleanStart: false });
    r.configure({ resendOnSessionLoss: false });
    r.connect();
    r.publish("t", "a", 1);
    r.publish("t", "b", 2);
    r.out();
    r.recv(incoming("t", "q2", 2, 7));
    r.out();
    r.engine.lost();
    const clean = new Rig({ version: 4, keepAlive: 0, cleanStart: true });
    // The same engine, now connecting with CleanSession 1.
    r.engine.begin({ type: 1, protocolVersion: 4, clientId: "c", cleanStart: true, keepAlive: 0 }, r.now);
    assert.deepEqual(r.out().map((p) => p.bytes), clean.begin().map((p) => p.bytes), "CONNECT with CleanSession 1");
    assert.deepEqual(r.recv(connack(false)), [{ type: "connected", sessionPresent: false, reasonCode: 0 },
      { type: "published", mid: 1, reasonCode: 0x80 }, { type: "published", mid: 2, reasonCode: 0x80 }], "the old flows end, reported as failed");
    assert.deepEqual(r.out(), [], "nothing of the old session is sent");
    assert.equal(r.recv(incoming("t", "q2", 2, 7)).length, 1, "incoming QoS 2 state discarded: id 7 is a new message");
    assert.equal(r.engine.outbox.pending, 0);
  });

  test("[MQTT-4.1.0-2] [MQTT-4.1.0-1] with CleanSession 1 the session lasts as long as the connection: hours later its flows still complete, exactly once", () => {
    const r = new Rig({ version: 4, keepAlive: 60, cleanStart: true });
    r.connect();
    r.publish("t", "out", 2);
    r.out();
    r.recv(incoming("t", "in", 2, 9));
    r.out();
    for (let t = 60_000; t <= 3 * 3_600_000; t += 60_000) {
      r.tick(t);
      if (names(r.out()).includes("PINGREQ")) r.recv({ type: 13 });
    }
    assert.equal(r.engine.state, CONNECTED);
    assert.deepEqual(r.recv(incoming("t", "in", 2, 9, true)), [], "three hours on, the QoS 2 id is still known: not delivered twice");
    r.recv(pubrec(1), pubrel(9));
    assert.deepEqual(ids(r.out()), ["PUBREC 9", "PUBREL 1", "PUBCOMP 9"]);
    assert.deepEqual(r.recv(pubcomp(1)), [{ type: "published", mid: 1, reasonCode: 0 }]);
  });
});

describe("MQTT 3.1.1 acknowledging and ordering (4.5, 4.6)", () => {
  test("[MQTT-4.5.0-2] every QoS 1/2 PUBLISH is acknowledged, whatever its topic and size, whether or not anything handles it", () => {
    const r = v311({ budget: { maxPacketSize: 64 } });
    r.connect();
    r.recv(incoming("never/subscribed", "a", 1, 1), incoming("$SYS/x", "b", 2, 2), incoming("t", "", 1, 3));
    r.recv(incoming("big", "x".repeat(200), 1, 4), incoming("big", "y".repeat(200), 2, 5));
    assert.deepEqual(ids(r.out()), ["PUBACK 1", "PUBREC 2", "PUBACK 3", "PUBACK 4", "PUBREC 5"], "messages over the budget are read past but acknowledged");
    assert.equal(r.engine.oversizedMessages, 2);
  });

  test("[MQTT-4.6.0-1] unacknowledged PUBLISHes are re-sent in the order they were first sent", () => {
    const r = v311({ cleanStart: false });
    r.connect();
    for (const qos of [2, 1, 2, 1, 1] as const) r.publish("t", "x", qos);
    r.out();
    r.recv(puback(2));
    reconnect(r, true);
    assert.deepEqual(ids(r.out()), ["PUBLISH 1 dup", "PUBLISH 3 dup", "PUBLISH 4 dup", "PUBLISH 5 dup"]);
  });

  test("[MQTT-4.6.0-2] [MQTT-4.6.0-3] PUBACKs and PUBRECs go out in the order the PUBLISHes arrived", () => {
    const r = v311();
    r.connect();
    const order = [[9, 1], [4, 2], [7, 1], [2, 2], [8, 2], [1, 1]] as const;
    r.recv(...order.map(([id, qos]) => incoming("t", "x", qos, id)));
    assert.deepEqual(ids(r.out()), order.map(([id, qos]) => `${qos === 1 ? "PUBACK" : "PUBREC"} ${id}`));
  });

  test("[MQTT-4.6.0-4] PUBRELs go out in the order the PUBRECs arrived", () => {
    const r = v311();
    r.connect();
    for (let i = 0; i < 4; i++) r.publish("t", "x", 2);
    r.out();
    r.recv(pubrec(3), pubrec(1), pubrec(4), pubrec(2));
    assert.deepEqual(ids(r.out()), ["PUBREL 3", "PUBREL 1", "PUBREL 4", "PUBREL 2"]);
  });
});
