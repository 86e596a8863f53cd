/**
 * MQTT 5.0 data representation (1.5) and the fixed header (2.1, 2.2): each rule twice, as the client's duty
 * when it encodes (the encoder writes these exact bytes, or refuses before writing anything) and as its duty
 * to detect a peer that broke it (the decoder refuses those exact bytes).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { AUTH, CONNACK, CONNECT, DISCONNECT, PINGREQ, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBSCRIBE, UNSUBSCRIBE,
  type Packet, type Properties } from "../../../src/codec/index.js";
import { decode5, decodeRefuses, encode5, encodeRefuses, publishBytes, str, utf8 } from "./support.js";

const publish = (topic: string, properties?: Properties): Packet =>
  ({ type: PUBLISH, topic, payload: new Uint8Array(0), qos: 0, retain: false, dup: false, packetId: 0, properties });

describe("MQTT 5.0 UTF-8 strings (1.5.4, 1.5.7)", () => {
  test("[MQTT-1.5.4-1] a lone surrogate is refused by the encoder; ill-formed UTF-8 and encoded surrogates by the decoder", () => {
    encodeRefuses(publish("a\ud800"), /surrogate/);
    encodeRefuses(publish("t", { contentType: "\udc00" }), /surrogate/);
    decodeRefuses(publishBytes([0x61, 0xed, 0xa0, 0x80])); // U+D800 written as UTF-8
    decodeRefuses(publishBytes([0xc0, 0xaf])); // an overlong "/"
    decodeRefuses(publishBytes([0x61, 0xff]));
    decodeRefuses(publishBytes([0x61, 0xe2, 0x82])); // cut short
  });

  test("[MQTT-1.5.4-2] U+0000 is refused by the encoder and by the decoder", () => {
    encodeRefuses(publish("a\u0000b"), /U\+0000/);
    encodeRefuses(publish("t", { responseTopic: "r\u0000" }), /U\+0000/);
    decodeRefuses(publishBytes([0x61, 0x00, 0x62]));
  });

  test("[MQTT-1.5.4-3] a BOM (EF BB BF) is written and read as U+FEFF, never skipped or stripped", () => {
    const bytes = encode5(publish("\ufeffa"));
    assert.deepEqual(bytes, [0x30, 0x07, 0x00, 0x04, 0xef, 0xbb, 0xbf, 0x61, 0x00]);
    const p = decode5(bytes);
    assert.equal(p.type === PUBLISH && p.topic, "\ufeffa");
  });

  test("[MQTT-1.5.7-1] both strings of a User Property pair must be valid UTF-8, to the encoder and the decoder", () => {
    encodeRefuses(publish("t", { userProperties: [["k\ud800", "v"]] }), /surrogate/);
    encodeRefuses(publish("t", { userProperties: [["k", "v\udfff"]] }), /surrogate/);
    encodeRefuses(publish("t", { userProperties: [["k", "\u0000"]] }), /U\+0000/);
    const good = [0x26, ...str([0x6b]), ...str([0x76])];
    assert.deepEqual(encode5(publish("t", { userProperties: [["k", "v"]] })), publishBytes([0x74], good));
    decodeRefuses(publishBytes([0x74], [0x26, ...str([0xff]), ...str([0x76])])); // the key
    decodeRefuses(publishBytes([0x74], [0x26, ...str([0x6b]), ...str([0xc3])])); // the value
  });
});

describe("MQTT 5.0 Variable Byte Integers (1.5.5)", () => {
  test("[MQTT-1.5.5-1] the encoder writes the fewest bytes; the decoder refuses a longer form", () => {
    const remaining = (payload: number): number[] => encode5({ type: PUBLISH, topic: "t", payload: new Uint8Array(payload), qos: 0, retain: false, dup: false, packetId: 0 }).slice(1, 4);
    assert.deepEqual(remaining(123).slice(0, 1), [127], "127 in one byte");
    assert.deepEqual(remaining(124).slice(0, 2), [0x80, 0x01], "128 in two bytes");
    assert.deepEqual(encode5(publish("t", { subscriptionIdentifier: 127 })).slice(6, 8), [0x0b, 0x7f], "a property's value in one byte too");
    decodeRefuses([0x30, 0x84, 0x00, 0x00, 0x01, 0x74, 0x00]); // Remaining Length 4 written in two bytes
    decodeRefuses([0x30, 0x05, 0x00, 0x01, 0x74, 0x80, 0x00]); // Property Length 0 written in two bytes
  });
});

describe("MQTT 5.0 fixed header flags (2.1.3)", () => {
  // Table 2-2: the flags each packet type must carry.
  const written: Array<[string, Packet, number]> = [
    ["CONNECT", { type: CONNECT, protocolVersion: 5, clientId: "c", cleanStart: true, keepAlive: 0 }, 0x10],
    ["PUBACK", { type: PUBACK, packetId: 1, reasonCode: 0 }, 0x40],
    ["PUBREC", { type: PUBREC, packetId: 1, reasonCode: 0 }, 0x50],
    ["PUBREL", { type: PUBREL, packetId: 1, reasonCode: 0 }, 0x62],
    ["PUBCOMP", { type: PUBCOMP, packetId: 1, reasonCode: 0 }, 0x70],
    ["SUBSCRIBE", { type: SUBSCRIBE, packetId: 1, subscriptions: [{ topicFilter: "t", qos: 0 }] }, 0x82],
    ["UNSUBSCRIBE", { type: UNSUBSCRIBE, packetId: 1, topicFilters: ["t"] }, 0xa2],
    ["PINGREQ", { type: PINGREQ }, 0xc0],
    ["DISCONNECT", { type: DISCONNECT, reasonCode: 0 }, 0xe0],
    ["AUTH", { type: AUTH, reasonCode: 0x18, properties: { authenticationMethod: "m" } }, 0xf0],
  ];
  test("[MQTT-2.1.3-1] [MQTT-3.6.1-1] [MQTT-3.8.1-1] [MQTT-3.10.1-1] [MQTT-3.14.1-1] [MQTT-3.15.1-1] every packet the client sends has the reserved flags of Table 2-2", () => {
    for (const [name, packet, first] of written) assert.equal(encode5(packet)[0], first, name);
  });

  // Each packet a server sends, with one reserved flag bit wrong.
  const refused: Array<[string, number[]]> = [
    ["CONNACK", [0x21, 0x03, 0x00, 0x00, 0x00]],
    ["PUBACK", [0x42, 0x02, 0x00, 0x01]],
    ["PUBREC", [0x51, 0x02, 0x00, 0x01]],
    ["PUBREL", [0x60, 0x02, 0x00, 0x01]],
    ["PUBREL", [0x63, 0x02, 0x00, 0x01]],
    ["PUBCOMP", [0x78, 0x02, 0x00, 0x01]],
    ["SUBACK", [0x91, 0x04, 0x00, 0x01, 0x00, 0x00]],
    ["UNSUBACK", [0xb2, 0x04, 0x00, 0x01, 0x00, 0x00]],
    ["PINGRESP", [0xd1, 0x00]],
    ["DISCONNECT", [0xe1, 0x00]],
    ["AUTH", [0xf2, 0x00]],
  ];
  test("[MQTT-2.1.3-1] [MQTT-3.6.1-1] [MQTT-3.14.1-1] [MQTT-3.15.1-1] a packet with other reserved flags is Malformed to the decoder", () => {
    for (const [name, bytes] of refused) {
      assert.doesNotThrow(() => decode5([bytes[0]! & 0xf0 | (name === "PUBREL" ? 2 : 0), ...bytes.slice(1)]), `${name} with the right flags`);
      decodeRefuses(bytes);
    }
  });
});

describe("MQTT 5.0 packet identifiers and properties (2.2)", () => {
  test("[MQTT-2.2.1-2] a QoS 0 PUBLISH has no packet identifier, written or read", () => {
    const p: Packet = { type: PUBLISH, topic: "t", payload: new Uint8Array([0x00, 0x07]), qos: 0, retain: false, dup: false, packetId: 0 };
    assert.deepEqual(encode5(p), [0x30, 0x06, 0x00, 0x01, 0x74, 0x00, 0x00, 0x07], "topic, property length, payload");
    const q = decode5([0x30, 0x06, 0x00, 0x01, 0x74, 0x00, 0x00, 0x07]);
    assert.ok(q.type === PUBLISH);
    assert.equal(q.packetId, 0);
    assert.deepEqual(Array.from(q.payload), [0x00, 0x07], "the two bytes after the topic are not read as an id");
    assert.deepEqual(encode5({ ...p, packetId: 5 } as Packet), encode5(p), "an id given at QoS 0 is not written");
  });

  test("[MQTT-2.2.2-1] with no properties, a Property Length of 0 is still written; a CONNACK without one is Malformed", () => {
    assert.deepEqual(encode5({ type: PUBLISH, topic: "t", payload: new Uint8Array(0), qos: 1, retain: false, dup: false, packetId: 1 }),
      [0x32, 0x06, 0x00, 0x01, 0x74, 0x00, 0x01, 0x00]);
    assert.deepEqual(encode5({ type: SUBSCRIBE, packetId: 1, subscriptions: [{ topicFilter: "t", qos: 0 }] }),
      [0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 0x74, 0x00]);
    assert.deepEqual(encode5({ type: UNSUBSCRIBE, packetId: 1, topicFilters: ["t"] }), [0xa2, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 0x74]);
    assert.deepEqual(encode5({ type: CONNECT, protocolVersion: 5, clientId: "", cleanStart: true, keepAlive: 0,
      will: { topic: "w", payload: new Uint8Array(0), qos: 0, retain: false } }).slice(12),
    [0x00, 0x00, 0x00, ...[0x00], ...str(utf8("w")), 0x00, 0x00], "connect properties 0, client id, will properties 0, will topic, payload");
    decodeRefuses([0x20, 0x02, 0x00, 0x00]);
    const connack = decode5([0x20, 0x03, 0x00, 0x00, 0x00]);
    assert.equal(connack.type, CONNACK);
  });
});
