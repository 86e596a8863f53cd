/**
 * MQTT 5.0 packet formats (section 3) and topic syntax (4.7, 4.8.2): each rule as the encoder's duty (these
 * exact bytes, or a refusal before anything is written) and, where a server may send the packet or the
 * field, as the decoder's duty to refuse the bytes that break it.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { AUTH, CONNACK, CONNECT, DISCONNECT, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE,
  Encoder, type ConnectPacket, type Packet, type Properties } from "../../../src/codec/index.js";
import { PROTOCOL_ERROR, decode5, decodeRefuses, encode5, encodeRefuses, publishBytes, str, utf8 } from "./support.js";

const MQTT = [0x00, 0x04, 0x4d, 0x51, 0x54, 0x54];
const EMPTY = new Uint8Array(0);

function connect(extra: Partial<ConnectPacket> = {}): ConnectPacket {
  return { type: CONNECT, protocolVersion: 5, clientId: "c", cleanStart: false, keepAlive: 0, ...extra };
}

/** A v5 CONNECT: flags, no connect properties, keep alive 0, then the payload as given. */
function connectBytes(flags: number, payload: number[]): number[] {
  const body = [...MQTT, 0x05, flags, 0x00, 0x00, 0x00, ...payload];
  return [0x10, body.length, ...body];
}

const publish = (topic: string, extra: Partial<Extract<Packet, { type: typeof PUBLISH }>> = {}): Packet =>
  ({ type: PUBLISH, topic, payload: EMPTY, qos: 0, retain: false, dup: false, packetId: 0, ...extra });
const subscribe = (topicFilter: string, options: Record<string, unknown> = {}): Packet =>
  ({ type: SUBSCRIBE, packetId: 1, subscriptions: [{ topicFilter, qos: 0, ...options }] });
const unsubscribe = (...topicFilters: string[]): Packet => ({ type: UNSUBSCRIBE, packetId: 1, topicFilters });

describe("MQTT 5.0 CONNECT (3.1)", () => {
  test("[MQTT-3.1.2-1] the protocol name is \"MQTT\" at level 5; the decoder refuses another name", () => {
    assert.deepEqual(encode5(connect()).slice(2, 9), [...MQTT, 0x05]);
    const other = connectBytes(0x00, str(utf8("c")));
    other[5] = 0x58; // "MQXT"
    decodeRefuses(other, 0x84);
  });

  test("[MQTT-3.1.2-3] the reserved connect flag is 0 whatever else is set; the decoder refuses it set", () => {
    const all = connect({ cleanStart: true, username: "u", password: new Uint8Array([1]), will: { topic: "w", payload: EMPTY, qos: 2, retain: true } });
    assert.equal(encode5(all)[9], 0xf6, "user name, password, will retain, will QoS 2, will, clean start; bit 0 clear");
    assert.equal(encode5(connect())[9], 0x00);
    decodeRefuses(connectBytes(0x01, str(utf8("c"))));
  });

  test("[MQTT-3.1.2-9] [MQTT-3.1.3-1] with the Will Flag, Will Properties, Will Topic and Will Payload follow the Client Identifier, in the payload's order", () => {
    const bytes = encode5(connect({ username: "u", password: new Uint8Array([0xff]),
      will: { topic: "w", payload: new Uint8Array([0x62]), qos: 1, retain: false, properties: { willDelayInterval: 5 } } }));
    assert.deepEqual(bytes.slice(9), [
      0xcc, 0x00, 0x00, // flags: user name, password, will QoS 1, will; keep alive 0
      0x00, // connect properties
      ...str(utf8("c")), // Client Identifier
      0x05, 0x18, 0x00, 0x00, 0x00, 0x05, // Will Properties: Will Delay Interval 5
      ...str(utf8("w")), // Will Topic
      ...str([0x62]), // Will Payload
      ...str(utf8("u")), // User Name
      ...str([0xff]), // Password
    ]);
    decodeRefuses(connectBytes(0x04, str(utf8("c")))); // the Will Flag, and nothing after the Client Identifier
    decodeRefuses(connectBytes(0x04, [...str(utf8("c")), 0x00, ...str(utf8("w"))])); // no Will Payload
  });

  test("[MQTT-3.1.2-11] [MQTT-3.1.2-13] without a will, Will QoS and Will Retain are 0; the decoder refuses either set", () => {
    assert.equal(encode5(connect({ cleanStart: true }))[9], 0x02);
    decodeRefuses(connectBytes(0x08, str(utf8("c")))); // Will QoS 1, no will
    decodeRefuses(connectBytes(0x10, str(utf8("c")))); // Will QoS 2, no will
    decodeRefuses(connectBytes(0x20, str(utf8("c")))); // Will Retain, no will
  });

  test("[MQTT-3.1.2-12] Will QoS is 0, 1 or 2: the encoder refuses 3 and the decoder refuses both bits set", () => {
    for (const qos of [0, 1, 2] as const) {
      assert.equal(encode5(connect({ will: { topic: "w", payload: EMPTY, qos, retain: false } }))[9], 0x04 | (qos << 3));
    }
    encodeRefuses(connect({ will: { topic: "w", payload: EMPTY, qos: 3 as 0, retain: false } }));
    decodeRefuses(connectBytes(0x1c, [...str(utf8("c")), 0x00, ...str(utf8("w")), 0x00, 0x00]));
  });

  test("[MQTT-3.1.2-16] [MQTT-3.1.2-17] the User Name Flag is set exactly when a user name follows; the decoder refuses a flag without one", () => {
    assert.deepEqual(encode5(connect()).slice(9), [0x00, 0x00, 0x00, 0x00, ...str(utf8("c"))], "no flag, no user name");
    assert.deepEqual(encode5(connect({ username: "" })).slice(9), [0x80, 0x00, 0x00, 0x00, ...str(utf8("c")), 0x00, 0x00], "flag and an empty user name");
    decodeRefuses(connectBytes(0x80, str(utf8("c"))));
  });

  test("[MQTT-3.1.2-18] [MQTT-3.1.2-19] the Password Flag is set exactly when a password follows (MQTT 5 allows one without a user name)", () => {
    assert.deepEqual(encode5(connect({ password: new Uint8Array([7]) })).slice(9), [0x40, 0x00, 0x00, 0x00, ...str(utf8("c")), ...str([7])]);
    assert.deepEqual(encode5(connect({ username: "u" })).slice(9), [0x80, 0x00, 0x00, 0x00, ...str(utf8("c")), ...str(utf8("u"))], "no password flag");
    decodeRefuses(connectBytes(0x40, str(utf8("c"))));
    const p = decode5(connectBytes(0x40, [...str(utf8("c")), ...str([7])]));
    assert.deepEqual(p.type === CONNECT && Array.from(p.password ?? []), [7]);
  });

  test("[MQTT-3.1.3-3] the Client Identifier is always present, first in the payload, even when empty", () => {
    assert.deepEqual(encode5(connect({ clientId: "" })).slice(12), [0x00, 0x00, 0x00]);
    decodeRefuses(connectBytes(0x00, []));
  });

  test("[MQTT-3.1.3-4] [MQTT-3.1.3-11] [MQTT-3.1.3-12] Client Identifier, Will Topic and User Name are UTF-8 strings", () => {
    encodeRefuses(connect({ clientId: "c\ud800" }), /surrogate/);
    encodeRefuses(connect({ will: { topic: "w\udbff", payload: EMPTY, qos: 0, retain: false } }), /surrogate/);
    encodeRefuses(connect({ username: "\udc00" }), /surrogate/);
    decodeRefuses(connectBytes(0x00, str([0xc3, 0x28])));
    decodeRefuses(connectBytes(0x04, [...str(utf8("c")), 0x00, ...str([0xed, 0xb0, 0x80]), 0x00, 0x00]));
    decodeRefuses(connectBytes(0x80, [...str(utf8("c")), ...str([0x75, 0x00])]));
  });
});

describe("MQTT 5.0 CONNACK (3.2)", () => {
  test("[MQTT-3.2.2-1] CONNACK flag bits 7-1 are reserved: the encoder writes 0 or 1, the decoder refuses any other", () => {
    assert.deepEqual(encode5({ type: CONNACK, sessionPresent: true, reasonCode: 0 }), [0x20, 0x03, 0x01, 0x00, 0x00]);
    for (const flags of [0x02, 0x80, 0xff]) decodeRefuses([0x20, 0x03, flags, 0x00, 0x00]);
  });

  test("[MQTT-3.2.2-6] a refusing CONNACK has Session Present 0: the encoder refuses otherwise, the decoder too", () => {
    encodeRefuses({ type: CONNACK, sessionPresent: true, reasonCode: 0x87 });
    decodeRefuses([0x20, 0x03, 0x01, 0x87, 0x00], PROTOCOL_ERROR);
    const p = decode5([0x20, 0x03, 0x00, 0x87, 0x00]);
    assert.equal(p.type === CONNACK && p.reasonCode, 0x87);
  });
});

/** Every reason code of each packet, from the standard's tables (not from src/), and bytes carrying a code. */
const TABLES: Array<{ ids: string; name: string; codes: number[]; packet: (code: number) => Packet; bytes: (code: number) => number[] }> = [
  { ids: "[MQTT-3.2.2-8]", name: "CONNACK (Table 3-1)",
    codes: [0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f],
    packet: (reasonCode) => ({ type: CONNACK, sessionPresent: false, reasonCode }), bytes: (c) => [0x20, 0x03, 0x00, c, 0x00] },
  { ids: "[MQTT-3.4.2-1]", name: "PUBACK (Table 3-4)", codes: [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99],
    packet: (reasonCode) => ({ type: PUBACK, packetId: 1, reasonCode }), bytes: (c) => [0x40, 0x03, 0x00, 0x01, c] },
  { ids: "[MQTT-3.5.2-1]", name: "PUBREC (Table 3-5)", codes: [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99],
    packet: (reasonCode) => ({ type: PUBREC, packetId: 1, reasonCode }), bytes: (c) => [0x50, 0x03, 0x00, 0x01, c] },
  { ids: "[MQTT-3.6.2-1]", name: "PUBREL (Table 3-6)", codes: [0x00, 0x92],
    packet: (reasonCode) => ({ type: PUBREL, packetId: 1, reasonCode }), bytes: (c) => [0x62, 0x03, 0x00, 0x01, c] },
  { ids: "[MQTT-3.7.2-1]", name: "PUBCOMP (Table 3-7)", codes: [0x00, 0x92],
    packet: (reasonCode) => ({ type: PUBCOMP, packetId: 1, reasonCode }), bytes: (c) => [0x70, 0x03, 0x00, 0x01, c] },
  { ids: "[MQTT-3.9.3-2] [MQTT-3.8.4-7]", name: "SUBACK (Table 3-8)", codes: [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2],
    packet: (c) => ({ type: SUBACK, packetId: 1, reasonCodes: [c] }), bytes: (c) => [0x90, 0x04, 0x00, 0x01, 0x00, c] },
  { ids: "[MQTT-3.11.3-2]", name: "UNSUBACK (Table 3-9)", codes: [0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91],
    packet: (c) => ({ type: UNSUBACK, packetId: 1, reasonCodes: [c] }), bytes: (c) => [0xb0, 0x04, 0x00, 0x01, 0x00, c] },
  { ids: "[MQTT-3.14.2-1]", name: "DISCONNECT (Table 3-10)",
    codes: [0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b,
      0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2],
    packet: (reasonCode) => ({ type: DISCONNECT, reasonCode }), bytes: (c) => [0xe0, 0x01, c] },
  { ids: "[MQTT-3.15.2-1]", name: "AUTH (Table 3-11)", codes: [0x00, 0x18, 0x19],
    packet: (reasonCode) => ({ type: AUTH, reasonCode, properties: { authenticationMethod: "m" } }), bytes: (c) => [0xf0, 0x06, c, 0x04, 0x15, ...str(utf8("m"))] },
];

describe("MQTT 5.0 reason codes (3.2 to 3.15)", () => {
  for (const t of TABLES) {
    test(`${t.ids} ${t.name}: of the 256 byte values, the encoder writes and the decoder reads exactly the table's`, () => {
      for (let code = 0; code < 256; code++) {
        const inTable = t.codes.includes(code);
        const hex = `0x${code.toString(16)}`;
        if (inTable) {
          const bytes = t.bytes(code);
          if (t.name.startsWith("AUTH") || code !== 0 || t.name.startsWith("CONNACK") || t.name.startsWith("SUB") || t.name.startsWith("UNSUB")) {
            assert.deepEqual(encode5(t.packet(code)), bytes, `encodes ${hex}`);
          }
          assert.doesNotThrow(() => decode5(bytes), `decodes ${hex}`);
        } else {
          encodeRefuses(t.packet(code));
          decodeRefuses(t.bytes(code));
        }
      }
    });
  }
});

describe("MQTT 5.0 PUBLISH (3.3)", () => {
  test("[MQTT-3.3.1-2] DUP is 0 at QoS 0: the encoder refuses DUP, the decoder refuses 0x38", () => {
    encodeRefuses(publish("t", { dup: true }), /DUP/);
    decodeRefuses(publishBytes(utf8("t"), [], [], 0x38));
  });

  test("[MQTT-3.3.1-4] the QoS bits are never both 1: the encoder refuses QoS 3, the decoder refuses 0x36", () => {
    encodeRefuses(publish("t", { qos: 3 as 0, packetId: 1 }));
    decodeRefuses([0x36, 0x06, 0x00, 0x01, 0x74, 0x00, 0x01, 0x00]);
  });

  test("[MQTT-3.3.2-1] the Topic Name comes first in the variable header, as a UTF-8 string", () => {
    assert.deepEqual(encode5(publish("a/é", { qos: 1, packetId: 0x0102 })), [0x32, 0x09, ...str(utf8("a/é")), 0x01, 0x02, 0x00]);
    const p = decode5([0x32, 0x09, ...str(utf8("a/é")), 0x01, 0x02, 0x00]);
    assert.equal(p.type === PUBLISH && p.topic, "a/é");
    decodeRefuses([0x32, 0x07, ...str([0x61, 0xe9]), 0x01, 0x02, 0x00]); // Latin-1, not UTF-8
  });

  test("[MQTT-3.3.2-2] [MQTT-4.7.0-1] a Topic Name has no wildcards: the encoder refuses + and #, the decoder too", () => {
    for (const topic of ["+", "a/+", "#", "a/#", "a+b", "a#"]) encodeRefuses(publish(topic), /wildcard/);
    decodeRefuses(publishBytes(utf8("a/+")));
    decodeRefuses(publishBytes(utf8("a/#")));
  });

  const withProperty = (properties: Properties): Packet => publish("t", { properties });
  test("[MQTT-3.3.2-13] the Response Topic is a UTF-8 string, to the encoder and the decoder", () => {
    encodeRefuses(withProperty({ responseTopic: "r\ud800" }), /surrogate/);
    assert.deepEqual(encode5(withProperty({ responseTopic: "r" })), publishBytes(utf8("t"), [0x08, ...str(utf8("r"))]));
    decodeRefuses(publishBytes(utf8("t"), [0x08, ...str([0xff])]));
  });

  test("[MQTT-3.3.2-14] the Response Topic is a Topic Name, without wildcards, to the encoder and the decoder", () => {
    encodeRefuses(withProperty({ responseTopic: "r/+" }), /wildcard/);
    encodeRefuses(withProperty({ responseTopic: "r/#" }), /wildcard/);
    encodeRefuses(connect({ will: { topic: "w", payload: EMPTY, qos: 0, retain: false, properties: { responseTopic: "#" } } }), /wildcard/);
    decodeRefuses(publishBytes(utf8("t"), [0x08, ...str(utf8("r/#"))]), PROTOCOL_ERROR);
  });

  test("[MQTT-3.3.2-19] the Content Type is a UTF-8 string, to the encoder and the decoder", () => {
    encodeRefuses(withProperty({ contentType: "\udfff" }), /surrogate/);
    assert.deepEqual(encode5(withProperty({ contentType: "c" })), publishBytes(utf8("t"), [0x03, ...str(utf8("c"))]));
    decodeRefuses(publishBytes(utf8("t"), [0x03, ...str([0xc0, 0x80])]));
  });

  test("[MQTT-3.3.2-8] a Topic Alias of 0 is never sent: the encoder refuses it, the decoder refuses it from the server", () => {
    encodeRefuses(withProperty({ topicAlias: 0 }));
    decodeRefuses(publishBytes(utf8("t"), [0x23, 0x00, 0x00]), PROTOCOL_ERROR);
  });
});

describe("MQTT 5.0 SUBSCRIBE and UNSUBSCRIBE (3.8, 3.10)", () => {
  test("[MQTT-3.8.3-1] [MQTT-3.10.3-1] topic filters are UTF-8 strings, in SUBSCRIBE and UNSUBSCRIBE", () => {
    encodeRefuses(subscribe("a/\ud800"), /surrogate/);
    encodeRefuses(unsubscribe("a/\ud800"), /surrogate/);
    encodeRefuses(subscribe("a\u0000"), /U\+0000/);
    assert.deepEqual(encode5(subscribe("é")), [0x82, 0x08, 0x00, 0x01, 0x00, ...str(utf8("é")), 0x00]);
    assert.deepEqual(encode5(unsubscribe("é")), [0xa2, 0x07, 0x00, 0x01, 0x00, ...str(utf8("é"))]);
    decodeRefuses([0x82, 0x07, 0x00, 0x01, 0x00, ...str([0xe9]), 0x00]);
    decodeRefuses([0xa2, 0x06, 0x00, 0x01, 0x00, ...str([0xe9])]);
  });

  test("[MQTT-3.8.3-2] [MQTT-3.10.3-2] a SUBSCRIBE or UNSUBSCRIBE with no filter is refused by the encoder, and by the decoder", () => {
    encodeRefuses({ type: SUBSCRIBE, packetId: 1, subscriptions: [] }, /at least one/);
    encodeRefuses({ type: UNSUBSCRIBE, packetId: 1, topicFilters: [] }, /at least one/);
    decodeRefuses([0x82, 0x03, 0x00, 0x01, 0x00], PROTOCOL_ERROR);
    decodeRefuses([0xa2, 0x03, 0x00, 0x01, 0x00], PROTOCOL_ERROR);
  });

  test("[MQTT-3.8.3-4] No Local on a shared subscription is refused by the encoder (and the decoder says Protocol Error)", () => {
    encodeRefuses(subscribe("$share/g/t", { noLocal: true }), /No Local/);
    assert.equal(encode5(subscribe("t", { noLocal: true })).at(-1), 0x04, "on a plain filter it is bit 2");
    decodeRefuses([0x82, 0x10, 0x00, 0x01, 0x00, ...str(utf8("$share/g/t")), 0x04], PROTOCOL_ERROR);
  });

  test("[MQTT-3.8.3-5] the Subscription Options' reserved bits 7-6 are written 0; the decoder refuses them set", () => {
    const options = encode5({ type: SUBSCRIBE, packetId: 1, subscriptions: [{ topicFilter: "t", qos: 2, noLocal: true, retainAsPublished: true, retainHandling: 2 }] }).at(-1)!;
    assert.equal(options, 0x2e, "retain handling 2, RAP, NL, QoS 2");
    encodeRefuses(subscribe("t", { retainHandling: 3 }));
    for (const bits of [0x40, 0x80]) decodeRefuses([0x82, 0x07, 0x00, 0x01, 0x00, ...str(utf8("t")), bits]);
  });
});

describe("MQTT 5.0 topic names and filters (4.7, 4.8.2)", () => {
  test("[MQTT-4.7.1-1] '#' stands alone or after '/', and last: the encoder and the decoder refuse it elsewhere", () => {
    for (const ok of ["#", "a/#", "+/#", "/#"]) assert.doesNotThrow(() => encode5(subscribe(ok)), ok);
    for (const bad of ["a#", "a/#/b", "#/", "a/b#", "##"]) encodeRefuses(subscribe(bad));
    for (const bad of ["a/#/b", "a#"]) decodeRefuses([0x82, 5 + bad.length + 1, 0x00, 0x01, 0x00, ...str(utf8(bad)), 0x00]);
  });

  test("[MQTT-4.7.1-2] '+' occupies a whole level: the encoder and the decoder refuse it beside other characters", () => {
    for (const ok of ["+", "+/+", "a/+/b", "/+", "+/"]) assert.doesNotThrow(() => encode5(subscribe(ok)), ok);
    for (const bad of ["a+", "+a", "a/b+/c", "++"]) encodeRefuses(subscribe(bad));
    for (const bad of ["a+", "a/+b"]) decodeRefuses([0x82, 5 + bad.length + 1, 0x00, 0x01, 0x00, ...str(utf8(bad)), 0x00]);
  });

  test("[MQTT-4.7.3-1] topic names and filters are at least one character: empty ones are refused both ways", () => {
    encodeRefuses(publish(""));
    encodeRefuses(subscribe(""));
    encodeRefuses(unsubscribe(""));
    decodeRefuses(publishBytes([]), PROTOCOL_ERROR); // and no Topic Alias either
    decodeRefuses([0x82, 0x06, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]);
  });

  test("[MQTT-4.7.3-2] topic names and filters never hold U+0000, to the encoder and the decoder", () => {
    encodeRefuses(publish("a\u0000"), /U\+0000/);
    encodeRefuses(subscribe("a/\u0000"), /U\+0000/);
    encodeRefuses(unsubscribe("\u0000"), /U\+0000/);
    decodeRefuses(publishBytes([0x61, 0x00]));
    decodeRefuses([0x82, 0x07, 0x00, 0x01, 0x00, ...str([0x00]), 0x00]);
  });

  test("[MQTT-4.7.3-3] topic names and filters are at most 65535 bytes of UTF-8", () => {
    const longest = "a".repeat(65535);
    assert.equal(new Encoder(5).measure(publish(longest)), 1 + 3 + 2 + 65535 + 1);
    encodeRefuses(publish(`${longest}a`), /65535/);
    encodeRefuses(publish("é".repeat(32768)), /65535/); // 65536 bytes in 32768 characters
    encodeRefuses(subscribe(`${longest}/`), /65535/);
    encodeRefuses(unsubscribe(`${longest}/`), /65535/);
  });

  test("[MQTT-4.8.2-1] a shared filter starts \"$share/\" and a non-empty ShareName", () => {
    assert.doesNotThrow(() => encode5(subscribe("$share/g/t")));
    encodeRefuses(subscribe("$share//t"));
    decodeRefuses([0x82, 0x0e, 0x00, 0x01, 0x00, ...str(utf8("$share//t")), 0x00]);
  });

  test("[MQTT-4.8.2-2] the ShareName holds no '/', '+' or '#' and is followed by '/' and a topic filter", () => {
    for (const bad of ["$share/g", "$share/g/", "$share/g+/t", "$share/#/t", "$share/+/t"]) encodeRefuses(subscribe(bad), undefined);
    for (const bad of ["$share/g", "$share/g+/t"]) decodeRefuses([0x82, 5 + bad.length + 1, 0x00, 0x01, 0x00, ...str(utf8(bad)), 0x00]);
    assert.deepEqual(encode5(unsubscribe("$share/g/a/#")), [0xa2, 0x11, 0x00, 0x01, 0x00, ...str(utf8("$share/g/a/#"))]);
  });
});

