/**
 * MQTT 3.1.1 vectors. Section numbers and normative ids are those of OASIS MQTT Version 3.1.1
 * (29 October 2014). `common3x` holds the packets MQTT 3.1 writes byte for byte the same; v31.ts reuses them.
 */
import { CONNACK, CONNECT, DISCONNECT, PINGREQ, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE } from "../../../src/codec/index.js";
import { repeat, text, type Vector } from "./vector.js";

const connect: Vector[] = [
  {
    name: "CONNECT minimal",
    version: 4,
    spec: "3.1.2.1 protocol name, 3.1.2.2 level 4, 3.1.2.4 clean session, 3.1.2.10 keep alive, 3.1.3.1 client id",
    bytes: new Uint8Array([
      0x10, // CONNECT, flags 0000
      0x0f, // remaining length 15
      0x00, 0x04, // protocol name length
      0x4d, 0x51, 0x54, 0x54, // "MQTT"
      0x04, // protocol level 4
      0x02, // connect flags: clean session
      0x00, 0x3c, // keep alive 60 s
      0x00, 0x03, // client id length
      0x61, 0x62, 0x63, // "abc"
    ]),
    packet: { type: CONNECT, protocolVersion: 4, clientId: "abc", cleanStart: true, keepAlive: 60 },
  },
  {
    name: "CONNECT with an empty client id",
    version: 4,
    spec: "3.1.3.1: a zero-byte client id with clean session set, as the client must [MQTT-3.1.3-7] (the broker then assigns one, 3.1.3-6); keep alive 0 turns it off (3.1.2.10)",
    bytes: new Uint8Array([
      0x10, // CONNECT
      0x0c, // remaining length 12
      0x00, 0x04, // protocol name length
      0x4d, 0x51, 0x54, 0x54, // "MQTT"
      0x04, // protocol level 4
      0x02, // connect flags: clean session
      0x00, 0x00, // keep alive 0
      0x00, 0x00, // client id length 0
    ]),
    packet: { type: CONNECT, protocolVersion: 4, clientId: "", cleanStart: true, keepAlive: 0 },
  },
  {
    name: "CONNECT with will, username and password",
    version: 4,
    spec: "3.1.2.3 connect flags, 3.1.2.5-3.1.2.9 will/user name/password flags, 3.1.3.2-3.1.3.5 payload order",
    bytes: new Uint8Array([
      0x10, // CONNECT
      0x23, // remaining length 35
      0x00, 0x04, // protocol name length
      0x4d, 0x51, 0x54, 0x54, // "MQTT"
      0x04, // protocol level 4
      0xec, // connect flags: user name, password, will retain, will QoS 1, will; clean session 0
      0x01, 0x2c, // keep alive 300 s
      0x00, 0x03, // client id length
      0x63, 0x6c, 0x69, // "cli"
      0x00, 0x03, // will topic length
      0x77, 0x2f, 0x74, // "w/t"
      0x00, 0x03, // will message length
      0x62, 0x79, 0x65, // "bye"
      0x00, 0x04, // user name length
      0x75, 0x73, 0x65, 0x72, // "user"
      0x00, 0x02, // password length
      0x00, 0xff, // password: binary, not UTF-8
    ]),
    packet: {
      type: CONNECT, protocolVersion: 4, clientId: "cli", cleanStart: false, keepAlive: 300,
      will: { topic: "w/t", payload: text("bye"), qos: 1, retain: true },
      username: "user", password: new Uint8Array([0x00, 0xff]),
    },
  },
  {
    name: "CONNECT with user name only and an empty QoS 2 will",
    version: 4,
    spec: "3.1.2.6 will QoS 2, 3.1.2.8 user name without password, 3.1.3.3 zero-length will message",
    bytes: new Uint8Array([
      0x10, // CONNECT
      0x15, // remaining length 21
      0x00, 0x04, // protocol name length
      0x4d, 0x51, 0x54, 0x54, // "MQTT"
      0x04, // protocol level 4
      0x96, // connect flags: user name, will QoS 2, will, clean session
      0xff, 0xff, // keep alive 65535 s
      0x00, 0x01, // client id length
      0x63, // "c"
      0x00, 0x01, // will topic length
      0x74, // "t"
      0x00, 0x00, // will message length 0
      0x00, 0x01, // user name length
      0x75, // "u"
    ]),
    packet: {
      type: CONNECT, protocolVersion: 4, clientId: "c", cleanStart: true, keepAlive: 65535,
      will: { topic: "t", payload: new Uint8Array(0), qos: 2, retain: false }, username: "u",
    },
  },
];

const returnCodes = [
  "connection accepted",
  "unacceptable protocol version",
  "identifier rejected",
  "server unavailable",
  "bad user name or password",
  "not authorized",
];

/** Valid in 3.1 and 3.1.1 alike, with the same bytes (version 4 here; v31.ts relabels them). */
export const common3x: Vector[] = [
  ...returnCodes.map((meaning, code): Vector => ({
    name: `CONNACK return code ${code} (${meaning})`,
    version: 4,
    spec: "3.2.2.3 connect return code, table 3.1",
    bytes: new Uint8Array([
      0x20, // CONNACK
      0x02, // remaining length 2
      0x00, // acknowledge flags: no session present
      code, // connect return code
    ]),
    packet: { type: CONNACK, sessionPresent: false, reasonCode: code },
  })),
  {
    name: "PUBLISH QoS 0",
    version: 4,
    spec: "3.3.1 fixed header, 3.3.2.1 topic name; no packet identifier at QoS 0 (2.3.1)",
    bytes: new Uint8Array([
      0x30, // PUBLISH, DUP 0, QoS 0, RETAIN 0
      0x07, // remaining length 7
      0x00, 0x03, // topic length
      0x61, 0x2f, 0x62, // "a/b"
      0x68, 0x69, // payload "hi"
    ]),
    packet: { type: PUBLISH, topic: "a/b", payload: text("hi"), qos: 0, retain: false, dup: false, packetId: 0 },
  },
  {
    name: "PUBLISH QoS 0 retained",
    version: 4,
    spec: "3.3.1.3 RETAIN",
    bytes: new Uint8Array([
      0x31, // PUBLISH, DUP 0, QoS 0, RETAIN 1
      0x07, // remaining length 7
      0x00, 0x03, // topic length
      0x61, 0x2f, 0x62, // "a/b"
      0x68, 0x69, // payload "hi"
    ]),
    packet: { type: PUBLISH, topic: "a/b", payload: text("hi"), qos: 0, retain: true, dup: false, packetId: 0 },
  },
  {
    name: "PUBLISH QoS 1",
    version: 4,
    spec: "3.3.1.2 QoS, 3.3.2.2 packet identifier",
    bytes: new Uint8Array([
      0x32, // PUBLISH, DUP 0, QoS 1, RETAIN 0
      0x09, // remaining length 9
      0x00, 0x03, // topic length
      0x61, 0x2f, 0x62, // "a/b"
      0x00, 0x0a, // packet identifier 10
      0x68, 0x69, // payload "hi"
    ]),
    packet: { type: PUBLISH, topic: "a/b", payload: text("hi"), qos: 1, retain: false, dup: false, packetId: 10 },
  },
  {
    name: "PUBLISH QoS 2 with DUP and RETAIN, packet id 65535",
    version: 4,
    spec: "3.3.1.1 DUP, 3.3.1.2 QoS 2, 3.3.1.3 RETAIN; 2.3.1 the largest packet identifier",
    bytes: new Uint8Array([
      0x3d, // PUBLISH, DUP 1, QoS 2, RETAIN 1
      0x09, // remaining length 9
      0x00, 0x03, // topic length
      0x61, 0x2f, 0x62, // "a/b"
      0xff, 0xff, // packet identifier 65535
      0x68, 0x69, // payload "hi"
    ]),
    packet: { type: PUBLISH, topic: "a/b", payload: text("hi"), qos: 2, retain: true, dup: true, packetId: 65535 },
  },
  {
    name: "PUBLISH QoS 1 with an empty payload",
    version: 4,
    spec: "3.3.3: a zero-length payload is valid",
    bytes: new Uint8Array([
      0x32, // PUBLISH, QoS 1
      0x07, // remaining length 7
      0x00, 0x03, // topic length
      0x61, 0x2f, 0x62, // "a/b"
      0x00, 0x01, // packet identifier 1
    ]),
    packet: { type: PUBLISH, topic: "a/b", payload: new Uint8Array(0), qos: 1, retain: false, dup: false, packetId: 1 },
  },
  {
    name: "PUBLISH with a multibyte UTF-8 topic",
    version: 4,
    spec: "1.5.3 UTF-8 strings: 2-, 3- and 4-byte sequences (U+00E9, U+20AC, U+1F600)",
    bytes: new Uint8Array([
      0x30, // PUBLISH, QoS 0
      0x0e, // remaining length 14
      0x00, 0x0b, // topic length 11 bytes (5 characters)
      0xc3, 0xa9, // U+00E9 "é"
      0x2f, // "/"
      0xe2, 0x82, 0xac, // U+20AC "€"
      0x2f, // "/"
      0xf0, 0x9f, 0x98, 0x80, // U+1F600, a surrogate pair in JS
      0x01, // payload
    ]),
    packet: {
      type: PUBLISH, topic: "\u00e9/\u20ac/\u{1f600}", payload: new Uint8Array([0x01]), qos: 0, retain: false,
      dup: false, packetId: 0,
    },
  },
  {
    name: "PUBLISH with a two-byte remaining length",
    version: 4,
    spec: "2.2.3 remaining length: 203 = 0xcb 0x01",
    bytes: new Uint8Array([
      0x30, // PUBLISH, QoS 0
      0xcb, 0x01, // remaining length 203: 0x4b + 128 * 1
      0x00, 0x01, // topic length
      0x74, // "t"
      ...repeat(0x78, 200), // payload: 200 x "x"
    ]),
    packet: {
      type: PUBLISH, topic: "t", payload: new Uint8Array(repeat(0x78, 200)), qos: 0, retain: false, dup: false,
      packetId: 0,
    },
  },
  {
    name: "PUBACK",
    version: 4,
    spec: "3.4",
    bytes: new Uint8Array([
      0x40, // PUBACK
      0x02, // remaining length 2
      0x00, 0x0a, // packet identifier 10
    ]),
    packet: { type: PUBACK, packetId: 10, reasonCode: 0 },
  },
  {
    name: "PUBREC",
    version: 4,
    spec: "3.5",
    bytes: new Uint8Array([
      0x50, // PUBREC
      0x02, // remaining length 2
      0x00, 0x0b, // packet identifier 11
    ]),
    packet: { type: PUBREC, packetId: 11, reasonCode: 0 },
  },
  {
    name: "PUBREL",
    version: 4,
    spec: "3.6: fixed header flags 0010 [MQTT-3.6.1-1]",
    bytes: new Uint8Array([
      0x62, // PUBREL, flags 0010
      0x02, // remaining length 2
      0x00, 0x0c, // packet identifier 12
    ]),
    packet: { type: PUBREL, packetId: 12, reasonCode: 0 },
  },
  {
    name: "PUBCOMP",
    version: 4,
    spec: "3.7",
    bytes: new Uint8Array([
      0x70, // PUBCOMP
      0x02, // remaining length 2
      0x01, 0x00, // packet identifier 256
    ]),
    packet: { type: PUBCOMP, packetId: 256, reasonCode: 0 },
  },
  {
    name: "SUBSCRIBE with three filters",
    version: 4,
    spec: "3.8: fixed header flags 0010 [MQTT-3.8.1-1], 3.8.3 topic filter / requested QoS pairs",
    bytes: new Uint8Array([
      0x82, // SUBSCRIBE, flags 0010
      0x12, // remaining length 18
      0x00, 0x0b, // packet identifier 11
      0x00, 0x03, // topic filter length
      0x61, 0x2f, 0x62, // "a/b"
      0x00, // requested QoS 0
      0x00, 0x03, // topic filter length
      0x63, 0x2f, 0x2b, // "c/+"
      0x01, // requested QoS 1
      0x00, 0x01, // topic filter length
      0x23, // "#"
      0x02, // requested QoS 2
    ]),
    packet: {
      type: SUBSCRIBE, packetId: 11,
      subscriptions: [{ topicFilter: "a/b", qos: 0 }, { topicFilter: "c/+", qos: 1 }, { topicFilter: "#", qos: 2 }],
    },
  },
  {
    name: "SUBACK granting QoS 0, 1 and 2",
    version: 4,
    spec: "3.9.3 return codes",
    bytes: new Uint8Array([
      0x90, // SUBACK
      0x05, // remaining length 5
      0x00, 0x0b, // packet identifier 11
      0x00, // granted QoS 0
      0x01, // granted QoS 1
      0x02, // granted QoS 2
    ]),
    packet: { type: SUBACK, packetId: 11, reasonCodes: [0, 1, 2] },
  },
  {
    name: "UNSUBSCRIBE with two filters",
    version: 4,
    spec: "3.10: fixed header flags 0010 [MQTT-3.10.1-1], 3.10.3 topic filters",
    bytes: new Uint8Array([
      0xa2, // UNSUBSCRIBE, flags 0010
      0x0a, // remaining length 10
      0x00, 0x0d, // packet identifier 13
      0x00, 0x03, // topic filter length
      0x61, 0x2f, 0x62, // "a/b"
      0x00, 0x01, // topic filter length
      0x23, // "#"
    ]),
    packet: { type: UNSUBSCRIBE, packetId: 13, topicFilters: ["a/b", "#"] },
  },
  {
    name: "UNSUBACK",
    version: 4,
    spec: "3.11: a packet identifier and no payload",
    bytes: new Uint8Array([
      0xb0, // UNSUBACK
      0x02, // remaining length 2
      0x00, 0x0d, // packet identifier 13
    ]),
    packet: { type: UNSUBACK, packetId: 13, reasonCodes: [] },
  },
  {
    name: "PINGREQ",
    version: 4,
    spec: "3.12",
    bytes: new Uint8Array([
      0xc0, // PINGREQ
      0x00, // remaining length 0
    ]),
    packet: { type: PINGREQ },
  },
  {
    name: "PINGRESP",
    version: 4,
    spec: "3.13",
    bytes: new Uint8Array([
      0xd0, // PINGRESP
      0x00, // remaining length 0
    ]),
    packet: { type: PINGRESP },
  },
  {
    name: "DISCONNECT",
    version: 4,
    spec: "3.14: no variable header, no payload",
    bytes: new Uint8Array([
      0xe0, // DISCONNECT
      0x00, // remaining length 0
    ]),
    packet: { type: DISCONNECT, reasonCode: 0 },
  },
];

/** What 3.1.1 added over 3.1: session present, and the SUBACK failure code. */
const only311: Vector[] = [
  {
    name: "CONNACK with session present",
    version: 4,
    spec: "3.2.2.2 session present",
    bytes: new Uint8Array([
      0x20, // CONNACK
      0x02, // remaining length 2
      0x01, // acknowledge flags: session present
      0x00, // connection accepted
    ]),
    packet: { type: CONNACK, sessionPresent: true, reasonCode: 0 },
  },
  {
    name: "SUBACK with a failure",
    version: 4,
    spec: "3.9.3: 0x80 failure",
    bytes: new Uint8Array([
      0x90, // SUBACK
      0x04, // remaining length 4
      0x00, 0x0c, // packet identifier 12
      0x01, // granted QoS 1
      0x80, // failure
    ]),
    packet: { type: SUBACK, packetId: 12, reasonCodes: [1, 0x80] },
  },
];

export const v311: Vector[] = [...connect, ...common3x, ...only311];
