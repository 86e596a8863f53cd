/**
 * MQTT 3.1.1 data representation (1.5.3), the fixed header (2.2) and where packet identifiers go (2.3.1):
 * each rule as the client's duty when it encodes (the encoder writes these exact bytes, or refuses before
 * writing anything) and as its duty to detect a broker that broke it (the decoder refuses those bytes, and
 * a 3.1.1 client then closes the connection: connection.test.ts).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CONNECT, DISCONNECT, PINGREQ, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBSCRIBE, UNSUBSCRIBE, type Packet, type QoS } from "../../../src/codec/index.js";
import { decode4, decodeRefuses, encode4, encodeRefuses, publishBytes, str, utf8 } from "./support.js";

const publish = (topic: string, qos: QoS = 0, packetId = 0): Packet =>
  ({ type: PUBLISH, topic, payload: new Uint8Array(0), qos, retain: false, dup: false, packetId });

describe("MQTT 3.1.1 UTF-8 strings (1.5.3)", () => {
  test("[MQTT-1.5.3-1] a lone surrogate is refused by the encoder; ill-formed UTF-8 and encoded surrogates by the decoder", () => {
    encodeRefuses(publish("a\ud800"), /surrogate/);
    encodeRefuses({ type: CONNECT, protocolVersion: 4, clientId: "\udc00", cleanStart: true, keepAlive: 0 }, /surrogate/);
    decodeRefuses(publishBytes([0x61, 0xed, 0xa0, 0x80])); // U+D800 written as UTF-8
    decodeRefuses(publishBytes([0xc0, 0xaf])); // an overlong "/"
    decodeRefuses(publishBytes([0x61, 0xff]));
    decodeRefuses(publishBytes([0x61, 0xe2, 0x82])); // cut short by the string's end
  });

  test("[MQTT-1.5.3-2] U+0000 is refused by the encoder and by the decoder", () => {
    encodeRefuses(publish("a\u0000b"), /U\+0000/);
    encodeRefuses({ type: CONNECT, protocolVersion: 4, clientId: "c", cleanStart: true, keepAlive: 0, username: "\u0000" }, /U\+0000/);
    decodeRefuses(publishBytes([0x61, 0x00, 0x62]));
  });

  test("[MQTT-1.5.3-3] a BOM (EF BB BF) is written and read as U+FEFF, never skipped or stripped", () => {
    const bytes = encode4(publish("\ufeffa"));
    assert.deepEqual(bytes, [0x30, 0x06, 0x00, 0x04, 0xef, 0xbb, 0xbf, 0x61]);
    const p = decode4(bytes);
    assert.equal(p.type === PUBLISH && p.topic, "\ufeffa");
    const inner = decode4(publishBytes([0x61, 0xef, 0xbb, 0xbf, 0x62]));
    assert.equal(inner.type === PUBLISH && inner.topic, "a\ufeffb", "inside a string too");
  });
});

describe("MQTT 3.1.1 fixed header flags (2.2.2)", () => {
  // Table 2.2: the flags of each packet a client sends (PUBLISH's are DUP, QoS and RETAIN, not reserved).
  const written: Array<[string, Packet, number]> = [
    ["CONNECT", { type: CONNECT, protocolVersion: 4, clientId: "c", cleanStart: true, keepAlive: 0 }, 0x10],
    ["PUBACK", { type: PUBACK, packetId: 1 }, 0x40],
    ["PUBREC", { type: PUBREC, packetId: 1 }, 0x50],
    ["PUBREL", { type: PUBREL, packetId: 1 }, 0x62],
    ["PUBCOMP", { type: PUBCOMP, packetId: 1 }, 0x70],
    ["SUBSCRIBE", { type: SUBSCRIBE, packetId: 1, subscriptions: [{ topicFilter: "t", qos: 0 }] }, 0x82],
    ["UNSUBSCRIBE", { type: UNSUBSCRIBE, packetId: 1, topicFilters: ["t"] }, 0xa2],
    ["PINGREQ", { type: PINGREQ }, 0xc0],
    ["DISCONNECT", { type: DISCONNECT }, 0xe0],
  ];
  test("[MQTT-2.2.2-1] [MQTT-3.6.1-1] [MQTT-3.8.1-1] [MQTT-3.10.1-1] [MQTT-3.14.1-1] every packet the client sends has the reserved flags of Table 2.2", () => {
    for (const [name, packet, first] of written) assert.equal(encode4(packet)[0], first, name);
    assert.deepEqual(encode4({ type: DISCONNECT }), [0xe0, 0x00], "DISCONNECT: flags 0, nothing after");
  });

  // Each packet a broker sends, with one reserved flag bit wrong; the right flags decode.
  const refused: Array<[string, number[], number]> = [
    ["CONNACK", [0x21, 0x02, 0x00, 0x00], 0x20],
    ["PUBACK", [0x42, 0x02, 0x00, 0x01], 0x40],
    ["PUBREC", [0x51, 0x02, 0x00, 0x01], 0x50],
    ["PUBREL", [0x60, 0x02, 0x00, 0x01], 0x62],
    ["PUBREL", [0x63, 0x02, 0x00, 0x01], 0x62],
    ["PUBCOMP", [0x78, 0x02, 0x00, 0x01], 0x70],
    ["SUBACK", [0x91, 0x03, 0x00, 0x01, 0x00], 0x90],
    ["UNSUBACK", [0xb2, 0x02, 0x00, 0x01], 0xb0],
    ["PINGRESP", [0xd1, 0x00], 0xd0],
  ];
  test("[MQTT-2.2.2-1] [MQTT-2.2.2-2] [MQTT-3.6.1-1] a packet from the broker with other reserved flags is refused", () => {
    for (const [name, bytes, right] of refused) {
      assert.doesNotThrow(() => decode4([right, ...bytes.slice(1)]), `${name} with the right flags`);
      decodeRefuses(bytes);
    }
  });
});

describe("MQTT 3.1.1 packet identifiers (2.3.1)", () => {
  test("[MQTT-2.3.1-1] SUBSCRIBE, UNSUBSCRIBE and QoS 1/2 PUBLISH carry a non-zero id: the encoder refuses 0, the decoder too", () => {
    encodeRefuses(publish("t", 1, 0));
    encodeRefuses(publish("t", 2, 0));
    encodeRefuses({ type: SUBSCRIBE, packetId: 0, subscriptions: [{ topicFilter: "t", qos: 0 }] });
    encodeRefuses({ type: UNSUBSCRIBE, packetId: 0, topicFilters: ["t"] });
    assert.deepEqual(encode4(publish("t", 1, 0xffff)), [0x32, 0x05, ...str(utf8("t")), 0xff, 0xff]);
    decodeRefuses(publishBytes(utf8("t"), [], 0x32, 0));
    decodeRefuses([0x82, 0x06, 0x00, 0x00, ...str(utf8("t")), 0x00]);
    decodeRefuses([0xa2, 0x05, 0x00, 0x00, ...str(utf8("t"))]);
  });

  test("[MQTT-2.3.1-5] a QoS 0 PUBLISH has no packet identifier, written or read", () => {
    const p: Packet = { type: PUBLISH, topic: "t", payload: new Uint8Array([0x00, 0x07]), qos: 0, retain: false, dup: false, packetId: 0 };
    assert.deepEqual(encode4(p), [0x30, 0x05, 0x00, 0x01, 0x74, 0x00, 0x07], "topic, then the payload");
    assert.deepEqual(encode4({ ...p, packetId: 5 } as Packet), encode4(p), "an id given at QoS 0 is not written");
    const q = decode4([0x30, 0x05, 0x00, 0x01, 0x74, 0x00, 0x07]);
    assert.ok(q.type === PUBLISH);
    assert.equal(q.packetId, 0);
    assert.deepEqual(Array.from(q.payload), [0x00, 0x07], "the two bytes after the topic are not read as an id");
  });
});
