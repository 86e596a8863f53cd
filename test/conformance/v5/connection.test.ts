/**
 * MQTT 5.0 on one connection, on the engine's fake clock: CONNECT first, keep alive, what the broker's CONNACK
 * says it takes (Maximum QoS, Retain Available, Maximum Packet Size, Receive Maximum, Topic Alias Maximum),
 * the client's own limits enforced on the broker (0x93, 0x94, 0x95), Request Problem Information, enhanced
 * authentication, and closing (DISCONNECT).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { AUTH, DISCONNECT, PUBLISH, SUBACK, type Packet, type Properties } from "../../../src/codec/index.js";
import { MQTT_ERR_CONN_LOST, MQTT_ERR_INVAL, MQTT_ERR_NO_CONN, MQTT_ERR_NOT_SUPPORTED, MQTT_ERR_PAYLOAD_SIZE, MQTT_ERR_PROTOCOL,
  MQTT_ERR_SUCCESS } from "../../../src/paho/constants.js";
import { CLOSING, CONNECTED } from "../../../src/engine/engine.js";
import { Rig, connack, ids, incoming, names, puback, pubrec, text } from "../../support/engine-rig.js";

const v5 = (o: ConstructorParameters<typeof Rig>[0] = {}): Rig => new Rig({ version: 5, keepAlive: 0, ...o });
const closedWith = (reasonCode: number) => [{ type: "closed", rc: MQTT_ERR_PROTOCOL, reasonCode }];

/** begin() with these CONNECT properties. */
function beginWith(r: Rig, properties: Properties): string[] {
  r.engine.begin({ type: 1, protocolVersion: 5, clientId: "c", cleanStart: true, keepAlive: 0, properties }, r.now);
  return names(r.out());
}

describe("MQTT 5.0 CONNECT and keep alive (3.1)", () => {
  test("[MQTT-3.1.0-1] the first packet the client sends is CONNECT: nothing published or queued before it goes out first", () => {
    const r = v5();
    assert.equal(r.publish("t", "q0", 0).rc, MQTT_ERR_NO_CONN);
    const queued = r.publish("t", "q1", 1);
    assert.equal(queued.rc, MQTT_ERR_SUCCESS);
    assert.deepEqual(r.out(), []);
    assert.deepEqual(names(r.begin()), ["CONNECT"]);
    r.recv(connack(false));
    assert.deepEqual(ids(r.out()), [`PUBLISH ${queued.mid}`], "and it is a valid MQTT 5 PUBLISH (it was queued before the first CONNECT)");
  });

  test("[MQTT-3.1.2-20] with a Keep Alive, the client sends PINGREQ when it has sent nothing else for that long", () => {
    const r = new Rig({ version: 5, keepAlive: 10 });
    r.connect();
    r.out();
    r.now = 5_000;
    r.publish("t", "x", 0);
    r.recv(incoming("t", "x", 0, 0));
    r.out();
    r.tick(14_999);
    assert.deepEqual(r.out(), [], "9.999 s after the PUBLISH is not idle");
    r.tick(15_000);
    assert.deepEqual(names(r.out()), ["PINGREQ"], "10 s after the last packet it sent");
  });

  test("[MQTT-3.1.2-21] [MQTT-3.2.2-21] a Server Keep Alive in CONNACK replaces the client's own Keep Alive", () => {
    const r = new Rig({ version: 5, keepAlive: 60 });
    r.connect(false, { serverKeepAlive: 4 });
    r.tick(3_999);
    assert.deepEqual(r.out(), []);
    r.tick(4_000);
    assert.deepEqual(names(r.out()), ["PINGREQ"], "after 4 s, not 60");
    const off = new Rig({ version: 5, keepAlive: 60 });
    off.connect(false, { serverKeepAlive: 0 });
    off.tick(600_000);
    assert.deepEqual(off.out(), [], "Server Keep Alive 0 turns it off");
    assert.equal(off.engine.state, CONNECTED);
  });

  test("[MQTT-3.1.2-1] [MQTT-4.13.2-1] a CONNACK of 0x80 or more (0x84 Unsupported Protocol Version here) ends the connection", () => {
    const r = v5();
    r.begin();
    assert.deepEqual(r.recv(connack(false, 0x84)), [{ type: "refused", reasonCode: 0x84 }]);
    assert.equal(r.engine.state, CLOSING);
    assert.equal(r.publish("t", "x", 0).rc, MQTT_ERR_NO_CONN);
    assert.deepEqual(r.recv(incoming("t", "x", 1, 1)), [], "nothing more is read");
    assert.deepEqual(r.out(), []);
  });
});

describe("MQTT 5.0 what the broker takes (3.2.2.3)", () => {
  test("[MQTT-3.2.2-11] the client never publishes above the broker's Maximum QoS", () => {
    const r = v5();
    r.connect(false, { maximumQos: 1 });
    assert.equal(r.publish("t", "x", 2).rc, MQTT_ERR_NOT_SUPPORTED);
    assert.equal(r.publish("t", "x", 1).rc, MQTT_ERR_SUCCESS);
    assert.deepEqual(r.out().map((p) => p.qos), [1]);
    const zero = v5();
    zero.connect(false, { maximumQos: 0 });
    assert.equal(zero.publish("t", "x", 1).rc, MQTT_ERR_NOT_SUPPORTED);
    assert.deepEqual(zero.out(), []);
  });

  test("[MQTT-3.2.2-14] with Retain Available 0 the client sends no PUBLISH with RETAIN 1", () => {
    const r = v5();
    r.connect(false, { retainAvailable: 0 });
    for (const qos of [0, 1, 2] as const) assert.equal(r.publish("t", "x", qos, true).rc, MQTT_ERR_NOT_SUPPORTED);
    assert.deepEqual(r.out(), []);
    r.publish("t", "x", 0, false);
    assert.deepEqual(r.out().map((p) => p.retain), [false]);
  });

  test("[MQTT-3.2.2-15] the client never sends a packet over the broker's Maximum Packet Size", () => {
    const r = v5();
    r.connect(false, { maximumPacketSize: 20 });
    assert.equal(r.publish("t", "x".repeat(14), 0).rc, MQTT_ERR_SUCCESS, "20 bytes");
    assert.equal(r.publish("t", "x".repeat(15), 0).rc, MQTT_ERR_PAYLOAD_SIZE, "21 bytes");
    assert.equal(r.publish("t", "x".repeat(13), 1).rc, MQTT_ERR_PAYLOAD_SIZE, "21 bytes at QoS 1");
    assert.equal(r.engine.subscribe([{ topicFilter: "f".repeat(20), qos: 0 }], undefined, r.now).rc, MQTT_ERR_PAYLOAD_SIZE);
    assert.equal(r.engine.unsubscribe(["f".repeat(20)], undefined, r.now).rc, MQTT_ERR_PAYLOAD_SIZE);
    assert.deepEqual(r.out().map((p) => p.bytes.length), [20]);
  });

  test("[MQTT-3.14.2-3] [MQTT-3.14.2-4] the client's DISCONNECT drops its Reason String and User Property when they would not fit the broker's Maximum Packet Size", () => {
    const r = v5();
    r.connect(false, { maximumPacketSize: 24 });
    r.engine.disconnect(0x04, { sessionExpiryInterval: 0, reasonString: "going away now", userProperties: [["k", "v"]] }, r.now);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0xe0, 0x07, 0x04, 0x05, 0x11, 0x00, 0x00, 0x00, 0x00]]);
    const fits = v5();
    fits.connect(false, { maximumPacketSize: 24 });
    fits.engine.disconnect(0x04, { reasonString: "bye" }, fits.now);
    assert.deepEqual(fits.out().map((p) => p.properties), [{ reasonString: "bye" }], "kept where it fits");
  });

  test("[MQTT-3.4.2-2] [MQTT-3.4.2-3] [MQTT-3.5.2-2] [MQTT-3.5.2-3] [MQTT-3.6.2-2] [MQTT-3.6.2-3] [MQTT-3.7.2-2] [MQTT-3.7.2-3] the client's PUBACK, PUBREC, PUBREL and PUBCOMP carry no Reason String or User Property, so never one past the broker's limit", () => {
    const r = v5();
    r.connect(false, { maximumPacketSize: 16 });
    r.recv(incoming("t", "x", 1, 1), incoming("t", "x", 2, 2), { type: 6, packetId: 2 });
    const acks = r.out();
    r.publish("t", "x", 2);
    r.out();
    r.recv(pubrec(1));
    r.recv(pubrec(98)); // a PUBREC for an id we did not send: PUBREL 0x92
    r.recv({ type: 6, packetId: 99 }); // a PUBREL for an id we do not have: PUBCOMP 0x92
    assert.deepEqual([...acks, ...r.out()].map((p) => p.bytes), [[0x40, 0x02, 0x00, 0x01], [0x50, 0x02, 0x00, 0x02], [0x70, 0x02, 0x00, 0x02], [0x62, 0x02, 0x00, 0x01],
      [0x62, 0x03, 0x00, 0x62, 0x92], [0x70, 0x03, 0x00, 0x63, 0x92]]);
  });

  test("[MQTT-3.3.4-7] [MQTT-4.9.0-1] [MQTT-4.9.0-2] QoS 1/2 PUBLISHes in flight never exceed the broker's Receive Maximum: the quota starts at it and at 0 nothing more goes", () => {
    const r = v5({ maxInflight: 0 });
    r.connect(false, { receiveMaximum: 2 });
    for (let i = 0; i < 5; i++) r.publish("t", "x", i % 2 === 0 ? 1 : 2);
    assert.deepEqual(ids(r.out()), ["PUBLISH 1", "PUBLISH 2"], "quota 2, then 0");
    r.recv(pubrec(2));
    assert.deepEqual(ids(r.out()), ["PUBREL 2"], "a PUBREC does not give quota back");
    r.recv(puback(1));
    assert.deepEqual(ids(r.out()), ["PUBLISH 3"]);
    r.recv({ type: 7, packetId: 2 });
    assert.deepEqual(ids(r.out()), ["PUBLISH 4"], "PUBCOMP gives it back");
  });

  test("[MQTT-3.3.4-8] [MQTT-4.9.0-3] at quota 0 the client still sends and processes everything but QoS 1/2 PUBLISH", () => {
    const r = new Rig({ version: 5, keepAlive: 10, maxInflight: 0 });
    r.connect(false, { receiveMaximum: 1 });
    r.publish("t", "a", 1);
    r.publish("t", "b", 1);
    r.out();
    r.publish("t", "q0", 0);
    const sub = r.engine.subscribe([{ topicFilter: "s", qos: 1 }], undefined, r.now).mid;
    r.engine.unsubscribe(["u"], undefined, r.now);
    r.recv(incoming("t", "in", 1, 7), incoming("t", "in2", 2, 8));
    r.tick(10_000);
    assert.deepEqual(names(r.out()), ["PUBLISH", "SUBSCRIBE", "UNSUBSCRIBE", "PUBACK", "PUBREC", "PINGREQ"]);
    assert.deepEqual(r.recv({ type: SUBACK, packetId: sub, reasonCodes: [1] }), [{ type: "subscribed", mid: sub, reasonCodes: [1] }]);
  });

  test("[MQTT-3.3.4-9] one QoS 2 PUBLISH more than the client's Receive Maximum is DISCONNECT 0x93", () => {
    const r = v5({ budget: { maxIncomingQos2: 2 } });
    r.connect();
    r.recv(incoming("t", "a", 2, 1), incoming("t", "b", 2, 2));
    assert.deepEqual(ids(r.out()), ["PUBREC 1", "PUBREC 2"]);
    assert.deepEqual(r.recv(incoming("t", "c", 2, 3)), closedWith(0x93));
    assert.deepEqual(r.out().map((p) => p.bytes), [[0xe0, 0x01, 0x93]]);
  });

  test("[MQTT-3.1.2-24] a packet over the client's Maximum Packet Size is DISCONNECT 0x95", () => {
    const r = v5({ budget: { maxPacketSize: 64 } });
    r.connect();
    assert.equal(r.recv(incoming("t", "x".repeat(58), 0, 0)).length, 1, "64 bytes");
    assert.deepEqual(r.recv(incoming("t", "x".repeat(59), 0, 0)), closedWith(0x95));
    assert.deepEqual(r.out().map((p) => p.bytes), [[0xe0, 0x01, 0x95]]);
  });

  test("[MQTT-3.1.2-29] after Request Problem Information 0, a Reason String or User Property on anything but PUBLISH, CONNACK or DISCONNECT is DISCONNECT 0x82", () => {
    const allowed = v5();
    beginWith(allowed, { requestProblemInformation: 0 });
    allowed.recv(connack(false, 0, { reasonString: "welcome" }));
    allowed.recv(incoming("t", "x", 0, 0, false, { userProperties: [["k", "v"]] }));
    allowed.publish("t", "x", 1);
    allowed.out();
    assert.deepEqual(allowed.recv({ type: 4, packetId: 1, reasonCode: 0 }), [{ type: "published", mid: 1, reasonCode: 0 }], "no problem information: fine");
    for (const properties of [{ reasonString: "r" }, { userProperties: [["k", "v"]] as Array<[string, string]> }]) {
      const r = v5();
      beginWith(r, { requestProblemInformation: 0 });
      r.recv(connack(false));
      r.publish("t", "x", 1);
      r.out();
      assert.deepEqual(r.recv({ type: 4, packetId: 1, reasonCode: 0x10, properties }), closedWith(0x82));
      assert.deepEqual(r.out().map((p) => p.bytes), [[0xe0, 0x01, 0x82]]);
    }
    const asked = v5();
    asked.connect();
    asked.publish("t", "x", 1);
    asked.out();
    assert.deepEqual(asked.recv({ type: 4, packetId: 1, reasonCode: 0x10, properties: { reasonString: "r" } }), [{ type: "published", mid: 1, reasonCode: 0x10 }],
      "without Request Problem Information 0 they are welcome");
  });
});

describe("MQTT 5.0 topic aliases (3.3.2.3.4)", () => {
  const aliasing = (serverMaximum: number | undefined, ours = 4): Rig => {
    const r = v5({ budget: { maxTopicAliases: ours } });
    r.configure({ useTopicAliases: true });
    r.connect(false, serverMaximum === undefined ? undefined : { topicAliasMaximum: serverMaximum });
    return r;
  };
  const aliasesSent = (r: Rig): Array<[string, number | undefined]> => r.out().map((p) => [p.topic!, p.properties?.topicAlias]);

  test("[MQTT-3.2.2-17] [MQTT-3.3.2-9] [MQTT-3.3.2-8] the client's aliases are 1 to the broker's Topic Alias Maximum, never 0 nor above", () => {
    const r = aliasing(2);
    for (const t of ["a", "b", "c", "a", "b", "c"]) r.publish(t, "x", 0);
    const sent = aliasesSent(r);
    assert.deepEqual(sent.slice(0, 2), [["a", 1], ["b", 2]]);
    assert.ok(sent.every(([, alias]) => alias === undefined || (alias >= 1 && alias <= 2)), JSON.stringify(sent));
    assert.deepEqual(sent.slice(3, 5), [["", 1], ["", 2]], "then the alias alone");
  });

  test("[MQTT-3.2.2-18] without a Topic Alias Maximum from the broker the client sends no alias", () => {
    for (const max of [undefined, 0]) {
      const r = aliasing(max);
      for (const t of ["a", "a", "a"]) r.publish(t, "x", 0);
      assert.deepEqual(aliasesSent(r), [["a", undefined], ["a", undefined], ["a", undefined]]);
    }
  });

  test("[MQTT-3.3.2-7] aliases end with the connection: both ways, the next connection starts with none", () => {
    const r = aliasing(2);
    r.publish("a", "x", 0);
    r.publish("a", "x", 0);
    r.recv(incoming("in", "x", 0, 0, false, { topicAlias: 1 }));
    r.out();
    r.engine.lost();
    r.begin();
    r.recv(connack(false, 0, { topicAliasMaximum: 2 }));
    r.publish("a", "x", 0);
    assert.deepEqual(aliasesSent(r), [["a", 1]], "the topic is sent again with the alias");
    assert.deepEqual(r.recv({ type: PUBLISH, topic: "", payload: text("x"), qos: 0, retain: false, dup: false, packetId: 0, properties: { topicAlias: 1 } }),
      closedWith(0x94), "the broker's alias 1 of the last connection is unknown");
  });

  test("[MQTT-3.3.2-10] [MQTT-3.1.2-26] [MQTT-3.3.2-11] the client takes the broker's aliases 1 to its own Topic Alias Maximum; above is DISCONNECT 0x94", () => {
    const r = aliasing(0, 3);
    const aliased = (topic: string, alias: number): Packet => ({ type: PUBLISH, topic, payload: text("x"), qos: 0 as const, retain: false, dup: false, packetId: 0, properties: { topicAlias: alias } });
    assert.deepEqual(r.recv(aliased("one", 1), aliased("three", 3), aliased("", 1), aliased("", 3)).map((e) => e.type === "message" && e.topic), ["one", "three", "one", "three"]);
    assert.deepEqual(r.recv(aliased("four", 4)), closedWith(0x94));
    assert.deepEqual(r.out().map((p) => p.bytes), [[0xe0, 0x01, 0x94]]);
  });

  test("[MQTT-3.1.2-27] with no Topic Alias Maximum of its own (0), any alias from the broker is DISCONNECT 0x94", () => {
    const r = v5({ budget: { maxTopicAliases: 0 } });
    r.connect();
    assert.deepEqual(r.recv(incoming("t", "x", 1, 3, false, { topicAlias: 1 })), closedWith(0x94));
    assert.deepEqual(r.out().map((p) => p.bytes), [[0xe0, 0x01, 0x94]], "no PUBACK");
  });
});

describe("MQTT 5.0 enhanced authentication (4.12)", () => {
  test("[MQTT-3.1.2-30] with an Authentication Method, only AUTH or DISCONNECT go out before CONNACK", () => {
    const r = new Rig({ version: 5, keepAlive: 1 });
    assert.deepEqual(beginWith(r, { authenticationMethod: "SCRAM" }), ["CONNECT"]);
    assert.equal(r.publish("t", "x", 0).rc, MQTT_ERR_NO_CONN);
    r.publish("t", "x", 1);
    assert.equal(r.engine.subscribe([{ topicFilter: "s", qos: 0 }], undefined, r.now).rc, MQTT_ERR_NO_CONN);
    r.tick(5_000);
    assert.deepEqual(r.out(), [], "no PUBLISH, SUBSCRIBE or PINGREQ");
    assert.deepEqual(r.recv({ type: AUTH, reasonCode: 0x18, properties: { authenticationMethod: "SCRAM" } }), [{ type: "auth", reasonCode: 0x18, properties: { authenticationMethod: "SCRAM" } }]);
    r.engine.sendAuth(0x18, text("answer"), r.now);
    r.engine.disconnect(0x80, undefined, r.now);
    assert.deepEqual(names(r.out()), ["AUTH", "DISCONNECT"]);
  });

  test("[MQTT-4.12.0-3] [MQTT-4.12.0-5] [MQTT-3.15.2-2] [MQTT-3.15.2-3] the client's answer is AUTH 0x18 with the CONNECT's method and the data alone", () => {
    const r = v5();
    beginWith(r, { authenticationMethod: "M" });
    r.recv({ type: AUTH, reasonCode: 0x18, properties: { authenticationMethod: "M", authenticationData: text("c") } });
    r.engine.sendAuth(0x18, text("r"), r.now);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0xf0, 0x0a, 0x18, 0x08, 0x15, 0x00, 0x01, 0x4d, 0x16, 0x00, 0x01, 0x72]]);
  });

  test("[MQTT-4.12.0-5] an AUTH or a successful CONNACK naming another method than CONNECT's is DISCONNECT 0x82", () => {
    const other = v5();
    beginWith(other, { authenticationMethod: "M" });
    assert.deepEqual(other.recv({ type: AUTH, reasonCode: 0x18, properties: { authenticationMethod: "N" } }), closedWith(0x82));
    for (const properties of [{ authenticationMethod: "N" }, undefined]) {
      const r = v5();
      beginWith(r, { authenticationMethod: "M" });
      assert.deepEqual(r.recv(connack(false, 0, properties)), closedWith(0x82), JSON.stringify(properties));
      assert.deepEqual(r.out().map((p) => p.bytes), [[0xe0, 0x01, 0x82]]);
    }
    const same = v5();
    beginWith(same, { authenticationMethod: "M" });
    assert.deepEqual(same.recv(connack(false, 0, { authenticationMethod: "M" })).map((e) => e.type), ["connected"]);
  });

  test("[MQTT-4.12.0-6] [MQTT-4.12.0-7] without a method in CONNECT: the client sends no AUTH, and an AUTH or a CONNACK method from the broker is DISCONNECT 0x82", () => {
    const r = v5();
    r.connect();
    assert.equal(r.engine.sendAuth(0x19, undefined, r.now), MQTT_ERR_INVAL);
    assert.equal(r.engine.sendAuth(0x18, text("x"), r.now), MQTT_ERR_INVAL);
    assert.deepEqual(r.out(), []);
    assert.deepEqual(r.recv({ type: AUTH, reasonCode: 0x18, properties: { authenticationMethod: "M" } }), closedWith(0x82));
    const c = v5();
    c.begin();
    assert.deepEqual(c.recv(connack(false, 0, { authenticationMethod: "M" })), closedWith(0x82));
  });

  test("[MQTT-4.12.1-1] [MQTT-4.12.1-2] re-authentication is AUTH 0x19 with the original method; a failed one ends the connection", () => {
    const r = v5();
    beginWith(r, { authenticationMethod: "M" });
    r.recv(connack(false, 0, { authenticationMethod: "M" }));
    assert.equal(r.engine.sendAuth(0x19, text("d"), r.now), MQTT_ERR_SUCCESS);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0xf0, 0x0a, 0x19, 0x08, 0x15, 0x00, 0x01, 0x4d, 0x16, 0x00, 0x01, 0x64]]);
    assert.deepEqual(r.recv({ type: DISCONNECT, reasonCode: 0x87 }), [{ type: "closed", rc: MQTT_ERR_CONN_LOST, reasonCode: 0x87 }]);
    assert.equal(r.engine.state, CLOSING);
    assert.deepEqual(r.recv(incoming("t", "x", 1, 1)), [], "nothing is read after it");
  });
});

describe("MQTT 5.0 DISCONNECT (3.14, 4.13)", () => {
  test("[MQTT-3.14.4-1] [MQTT-3.14.1-1] after its DISCONNECT the client sends nothing more, and a malformed DISCONNECT from the broker is answered 0x81", () => {
    const r = new Rig({ version: 5, keepAlive: 5 });
    r.connect();
    r.publish("t", "x", 1);
    r.out();
    assert.equal(r.engine.disconnect(0, undefined, r.now), MQTT_ERR_SUCCESS);
    assert.deepEqual(r.out().map((p) => p.bytes), [[0xe0, 0x00]]);
    assert.equal(r.publish("t", "y", 0).rc, MQTT_ERR_NO_CONN);
    r.publish("t", "z", 1);
    assert.equal(r.engine.subscribe([{ topicFilter: "s", qos: 0 }], undefined, r.now).rc, MQTT_ERR_NO_CONN);
    r.recv(incoming("t", "in", 1, 9), puback(1));
    r.tick(60_000);
    assert.deepEqual(r.out(), [], "no PUBLISH, PUBACK or PINGREQ");
    const m = v5();
    m.connect();
    assert.deepEqual(m.recvBytes([0xe2, 0x00]), closedWith(0x81));
    assert.deepEqual(m.out().map((p) => p.bytes), [[0xe0, 0x01, 0x81]]);
  });

  test("[MQTT-4.13.2-1] a DISCONNECT of 0x80 or more, received or sent, ends the connection", () => {
    const r = v5();
    r.connect();
    assert.deepEqual(r.recv({ type: DISCONNECT, reasonCode: 0x8b }), [{ type: "closed", rc: MQTT_ERR_CONN_LOST, reasonCode: 0x8b }]);
    assert.equal(r.engine.state, CLOSING);
    const s = v5();
    s.connect();
    s.recv(puback(77), pubrec(78));
    s.recvBytes([0x30, 0x01, 0x00]);
    assert.equal(s.engine.state, CLOSING, "after sending DISCONNECT 0x81");
    assert.deepEqual(s.out().map((p) => p.bytes).at(-1), [0xe0, 0x01, 0x81]);
  });
});
