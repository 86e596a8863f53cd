/**
 * MQTT 3.1.1 packet formats (section 3) and topic syntax (4.7): each rule as the encoder's duty (these exact
 * bytes, or a refusal before anything is written) and, where a broker sends the packet or the field, as the
 * decoder's duty to refuse the bytes that break it (a 3.1.1 client then closes the connection).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CONNACK, CONNECT, PUBLISH, SUBACK, SUBSCRIBE, UNSUBSCRIBE, Encoder, type ConnectPacket, type Packet } from "../../../src/codec/index.js";
import { connectBytes, decode4, decodeRefuses, encode4, encodeRefuses, publishBytes, str, subscribeBytes, unsubscribeBytes, utf8 } from "./support.js";

const EMPTY = new Uint8Array(0);

function connect(extra: Partial<ConnectPacket> = {}): ConnectPacket {
  return { type: CONNECT, protocolVersion: 4, clientId: "c", cleanStart: false, keepAlive: 0, ...extra };
}

const publish = (topic: string, extra: Partial<Extract<Packet, { type: typeof PUBLISH }>> = {}): Packet =>
  ({ type: PUBLISH, topic, payload: EMPTY, qos: 0, retain: false, dup: false, packetId: 0, ...extra });
const subscribe = (topicFilter: string, qos = 0): Packet => ({ type: SUBSCRIBE, packetId: 1, subscriptions: [{ topicFilter, qos: qos as 0 }] });
const unsubscribe = (...topicFilters: string[]): Packet => ({ type: UNSUBSCRIBE, packetId: 1, topicFilters });

describe("MQTT 3.1.1 CONNECT (3.1)", () => {
  test("[MQTT-3.1.2-3] the reserved connect flag is 0 whatever else is set; the decoder refuses it set", () => {
    const all = connect({ cleanStart: true, username: "u", password: new Uint8Array([1]), will: { topic: "w", payload: EMPTY, qos: 2, retain: true } });
    assert.equal(encode4(all)[9], 0xf6, "user name, password, will retain, will QoS 2, will, clean session; bit 0 clear");
    assert.equal(encode4(connect())[9], 0x00);
    decodeRefuses(connectBytes(0x01, str(utf8("c"))));
  });

  test("[MQTT-3.1.2-9] [MQTT-3.1.3-1] with the Will Flag, Will Topic and Will Message follow the Client Identifier, then User Name and Password", () => {
    const bytes = encode4(connect({ username: "u", password: new Uint8Array([0xff]), will: { topic: "w", payload: new Uint8Array([0x62]), qos: 1, retain: false } }));
    assert.deepEqual(bytes.slice(9), [
      0xcc, 0x00, 0x00, // flags: user name, password, will QoS 1, will; keep alive 0
      ...str(utf8("c")), // Client Identifier
      ...str(utf8("w")), // Will Topic
      ...str([0x62]), // Will Message
      ...str(utf8("u")), // User Name
      ...str([0xff]), // Password
    ]);
    decodeRefuses(connectBytes(0x04, str(utf8("c")))); // the Will Flag, and nothing after the Client Identifier
    decodeRefuses(connectBytes(0x04, [...str(utf8("c")), ...str(utf8("w"))])); // no Will Message
  });

  test("[MQTT-3.1.2-11] [MQTT-3.1.2-13] [MQTT-3.1.2-15] without a will, Will QoS and Will Retain are 0 and no Will Topic or Message is written; the decoder refuses otherwise", () => {
    assert.deepEqual(encode4(connect({ cleanStart: true })).slice(9), [0x02, 0x00, 0x00, ...str(utf8("c"))], "flags: clean session alone; the payload: the client id alone");
    decodeRefuses(connectBytes(0x08, str(utf8("c")))); // Will QoS 1, no will
    decodeRefuses(connectBytes(0x10, str(utf8("c")))); // Will QoS 2, no will
    decodeRefuses(connectBytes(0x20, str(utf8("c")))); // Will Retain, no will
    decodeRefuses(connectBytes(0x00, [...str(utf8("c")), ...str(utf8("w")), ...str([0x62])])); // a Will Topic and Message without the flag
  });

  test("[MQTT-3.1.2-14] Will QoS is 0, 1 or 2: the encoder refuses 3 and the decoder refuses both bits set", () => {
    for (const qos of [0, 1, 2] as const) {
      assert.equal(encode4(connect({ will: { topic: "w", payload: EMPTY, qos, retain: false } }))[9], 0x04 | (qos << 3));
    }
    encodeRefuses(connect({ will: { topic: "w", payload: EMPTY, qos: 3 as 0, retain: false } }));
    decodeRefuses(connectBytes(0x1c, [...str(utf8("c")), ...str(utf8("w")), 0x00, 0x00]));
  });

  test("[MQTT-3.1.2-18] [MQTT-3.1.2-19] the User Name Flag is set exactly when a user name follows; the decoder refuses a flag without one, or one without the flag", () => {
    assert.deepEqual(encode4(connect()).slice(9), [0x00, 0x00, 0x00, ...str(utf8("c"))], "no flag, no user name");
    assert.deepEqual(encode4(connect({ username: "" })).slice(9), [0x80, 0x00, 0x00, ...str(utf8("c")), 0x00, 0x00], "the flag and an empty user name");
    decodeRefuses(connectBytes(0x80, str(utf8("c"))));
    decodeRefuses(connectBytes(0x00, [...str(utf8("c")), ...str(utf8("u"))]));
    const p = decode4(connectBytes(0x80, [...str(utf8("c")), ...str(utf8("u"))]));
    assert.equal(p.type === CONNECT && p.username, "u");
  });

  test("[MQTT-3.1.2-20] [MQTT-3.1.2-21] the Password Flag is set exactly when a password follows; the decoder refuses a flag without one, or one without the flag", () => {
    assert.deepEqual(encode4(connect({ username: "u" })).slice(9), [0x80, 0x00, 0x00, ...str(utf8("c")), ...str(utf8("u"))], "no password flag, no password");
    assert.deepEqual(encode4(connect({ username: "u", password: new Uint8Array([7]) })).slice(9),
      [0xc0, 0x00, 0x00, ...str(utf8("c")), ...str(utf8("u")), ...str([7])]);
    decodeRefuses(connectBytes(0xc0, [...str(utf8("c")), ...str(utf8("u"))]));
    decodeRefuses(connectBytes(0x80, [...str(utf8("c")), ...str(utf8("u")), ...str([7])]));
    const p = decode4(connectBytes(0xc0, [...str(utf8("c")), ...str(utf8("u")), ...str([7])]));
    assert.deepEqual(p.type === CONNECT && Array.from(p.password ?? []), [7]);
  });

  test("[MQTT-3.1.2-22] a password without a user name: the encoder refuses it (3.1 and 3.1.1), the decoder too", () => {
    for (const protocolVersion of [3, 4] as const) encodeRefuses({ ...connect(), protocolVersion, password: new Uint8Array([7]) }, /\[MQTT-3\.1\.2-22\]/);
    decodeRefuses(connectBytes(0x40, [...str(utf8("c")), ...str([7])]));
  });

  test("[MQTT-3.1.3-3] the Client Identifier is always present, first in the payload, even when empty", () => {
    assert.deepEqual(encode4(connect({ clientId: "", cleanStart: true })).slice(12), [0x00, 0x00]);
    assert.deepEqual(encode4(connect({ clientId: "id", username: "u" })).slice(12), [...str(utf8("id")), ...str(utf8("u"))]);
    decodeRefuses(connectBytes(0x02, []));
  });

  test("[MQTT-3.1.3-4] [MQTT-3.1.3-10] [MQTT-3.1.3-11] Client Identifier, Will Topic and User Name are UTF-8 strings, to the encoder and the decoder", () => {
    encodeRefuses(connect({ clientId: "c\ud800" }), /surrogate/);
    encodeRefuses(connect({ will: { topic: "w\udbff", payload: EMPTY, qos: 0, retain: false } }), /surrogate/);
    encodeRefuses(connect({ username: "\udc00" }), /surrogate/);
    encodeRefuses(connect({ clientId: "c\u0000" }), /U\+0000/);
    assert.deepEqual(encode4(connect({ clientId: "é", username: "ü", will: { topic: "ß", payload: EMPTY, qos: 0, retain: false } })).slice(12),
      [...str(utf8("é")), ...str(utf8("ß")), 0x00, 0x00, ...str(utf8("ü"))]);
    decodeRefuses(connectBytes(0x00, str([0xc3, 0x28])));
    decodeRefuses(connectBytes(0x04, [...str(utf8("c")), ...str([0xed, 0xb0, 0x80]), 0x00, 0x00]));
    decodeRefuses(connectBytes(0x80, [...str(utf8("c")), ...str([0x75, 0x00])]));
  });
});

describe("MQTT 3.1.1 CONNACK (3.2)", () => {
  test("[MQTT-3.2.2-4] a refusing CONNACK has Session Present 0: the decoder refuses otherwise", () => {
    decodeRefuses([0x20, 0x02, 0x01, 0x05]);
    const p = decode4([0x20, 0x02, 0x00, 0x05]);
    assert.equal(p.type === CONNACK && p.reasonCode, 5);
  });
});

describe("MQTT 3.1.1 PUBLISH (3.3)", () => {
  test("[MQTT-3.3.1-2] DUP is 0 at QoS 0: the encoder refuses DUP, the decoder refuses 0x38", () => {
    encodeRefuses(publish("t", { dup: true }), /DUP/);
    decodeRefuses(publishBytes(utf8("t"), [], 0x38));
  });

  test("[MQTT-3.3.1-4] the QoS bits are never both 1: the encoder refuses QoS 3, the decoder refuses 0x36", () => {
    encodeRefuses(publish("t", { qos: 3 as 0, packetId: 1 }));
    decodeRefuses(publishBytes(utf8("t"), [], 0x36, 1));
  });

  test("[MQTT-3.3.2-1] the Topic Name comes first in the variable header, as a UTF-8 string", () => {
    assert.deepEqual(encode4(publish("a/é", { qos: 1, packetId: 0x0102 })), [0x32, 0x08, ...str(utf8("a/é")), 0x01, 0x02]);
    const p = decode4([0x32, 0x08, ...str(utf8("a/é")), 0x01, 0x02]);
    assert.ok(p.type === PUBLISH);
    assert.equal(p.topic, "a/é");
    assert.equal(p.packetId, 0x0102);
    decodeRefuses([0x32, 0x06, ...str([0x61, 0xe9]), 0x01, 0x02]); // Latin-1, not UTF-8
  });

  test("[MQTT-3.3.2-2] [MQTT-4.7.1-1] a Topic Name (and a Will Topic) has no wildcards: the encoder refuses + and #, the decoder too; filters take them", () => {
    for (const topic of ["+", "a/+", "#", "a/#", "a+b", "a#"]) {
      encodeRefuses(publish(topic), /wildcard/);
      encodeRefuses(connect({ will: { topic, payload: EMPTY, qos: 0, retain: false } }), /wildcard/);
    }
    for (const filter of ["+", "a/+", "#", "a/#"]) assert.doesNotThrow(() => encode4(subscribe(filter)), filter);
    decodeRefuses(publishBytes(utf8("a/+")));
    decodeRefuses(publishBytes(utf8("a/#")));
  });
});

describe("MQTT 3.1.1 SUBSCRIBE, SUBACK and UNSUBSCRIBE (3.8, 3.9, 3.10)", () => {
  test("[MQTT-3.8.3-1] [MQTT-3.10.3-1] topic filters are UTF-8 strings, in SUBSCRIBE and UNSUBSCRIBE", () => {
    encodeRefuses(subscribe("a/\ud800"), /surrogate/);
    encodeRefuses(unsubscribe("a/\ud800"), /surrogate/);
    assert.deepEqual(encode4(subscribe("é")), [0x82, 0x07, 0x00, 0x01, ...str(utf8("é")), 0x00]);
    assert.deepEqual(encode4(unsubscribe("é", "a/+")), [0xa2, 0x0b, 0x00, 0x01, ...str(utf8("é")), ...str(utf8("a/+"))]);
    decodeRefuses(subscribeBytes([0xe9]));
    decodeRefuses(unsubscribeBytes([0xe9]));
  });

  test("[MQTT-3.8.3-3] [MQTT-3.10.3-2] a SUBSCRIBE or UNSUBSCRIBE with no filter is refused by the encoder, and by the decoder", () => {
    encodeRefuses({ type: SUBSCRIBE, packetId: 1, subscriptions: [] }, /at least one/);
    encodeRefuses({ type: UNSUBSCRIBE, packetId: 1, topicFilters: [] }, /at least one/);
    decodeRefuses([0x82, 0x02, 0x00, 0x01]);
    decodeRefuses([0xa2, 0x02, 0x00, 0x01]);
  });

  test("[MQTT-3.8.3-4] the requested QoS is 0, 1 or 2 with bits 7-2 clear: the encoder refuses 3, the decoder refuses 3 and the reserved bits", () => {
    for (const qos of [0, 1, 2]) assert.equal(encode4(subscribe("t", qos)).at(-1), qos);
    encodeRefuses(subscribe("t", 3));
    decodeRefuses(subscribeBytes(utf8("t"), 3));
    for (const bits of [0x04, 0x40, 0x80]) decodeRefuses(subscribeBytes(utf8("t"), bits));
  });

  test("[MQTT-3.9.3-2] SUBACK return codes are 0x00, 0x01, 0x02 or 0x80: of the 256 byte values the decoder takes exactly those", () => {
    for (let code = 0; code < 256; code++) {
      const bytes = [0x90, 0x03, 0x00, 0x01, code];
      if ([0x00, 0x01, 0x02, 0x80].includes(code)) {
        const p = decode4(bytes);
        assert.deepEqual(p.type === SUBACK && p.reasonCodes, [code]);
      } else decodeRefuses(bytes);
    }
  });
});

describe("MQTT 3.1.1 topic names and filters (4.7)", () => {
  test("[MQTT-4.7.1-2] '#' stands alone or after '/', and last: the encoder and the decoder refuse it elsewhere", () => {
    for (const ok of ["#", "a/#", "+/#", "/#"]) assert.doesNotThrow(() => encode4(subscribe(ok)), ok);
    for (const bad of ["a#", "a/#/b", "#/", "a/b#", "##"]) {
      encodeRefuses(subscribe(bad));
      encodeRefuses(unsubscribe(bad));
    }
    for (const bad of ["a/#/b", "a#"]) decodeRefuses(subscribeBytes(utf8(bad)));
  });

  test("[MQTT-4.7.1-3] '+' occupies a whole level: the encoder and the decoder refuse it beside other characters", () => {
    for (const ok of ["+", "+/+", "a/+/b", "/+", "+/"]) assert.doesNotThrow(() => encode4(subscribe(ok)), ok);
    for (const bad of ["a+", "+a", "a/b+/c", "++"]) {
      encodeRefuses(subscribe(bad));
      encodeRefuses(unsubscribe(bad));
    }
    for (const bad of ["a+", "a/+b"]) decodeRefuses(unsubscribeBytes(utf8(bad)));
  });

  test("[MQTT-4.7.3-1] topic names and filters are at least one character: empty ones are refused both ways", () => {
    encodeRefuses(publish(""));
    encodeRefuses(subscribe(""));
    encodeRefuses(unsubscribe(""));
    encodeRefuses(connect({ will: { topic: "", payload: EMPTY, qos: 0, retain: false } }));
    decodeRefuses(publishBytes([]));
    decodeRefuses(subscribeBytes([]));
    decodeRefuses(unsubscribeBytes([]));
  });

  test("[MQTT-4.7.3-2] topic names and filters never hold U+0000, to the encoder and the decoder", () => {
    encodeRefuses(publish("a\u0000"), /U\+0000/);
    encodeRefuses(subscribe("a/\u0000"), /U\+0000/);
    encodeRefuses(unsubscribe("\u0000"), /U\+0000/);
    decodeRefuses(publishBytes([0x61, 0x00]));
    decodeRefuses(subscribeBytes([0x00]));
  });

  test("[MQTT-4.7.3-3] topic names and filters are at most 65535 bytes of UTF-8", () => {
    const longest = "a".repeat(65535);
    assert.equal(new Encoder(4).measure(publish(longest)), 1 + 3 + 2 + 65535);
    encodeRefuses(publish(`${longest}a`), /65535/);
    encodeRefuses(publish("é".repeat(32768)), /65535/); // 65536 bytes in 32768 characters
    encodeRefuses(subscribe(`${longest}/`), /65535/);
    encodeRefuses(unsubscribe(`${longest}/`), /65535/);
  });
});
