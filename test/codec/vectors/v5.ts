/**
 * MQTT 5 vectors. Section numbers and normative ids are those of OASIS MQTT Version 5.0 (7 March 2019).
 * Properties appear in identifier order, which is the order the encoder writes them (properties.ts).
 */
import { AUTH, CONNACK, CONNECT, DISCONNECT, PINGREQ, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE } from "../../../src/codec/index.js";
import { text, type Vector } from "./vector.js";

const connect: Vector[] = [
  {
    name: "CONNECT minimal",
    version: 5,
    spec: "3.1.2.1 protocol name, 3.1.2.2 level 5, 3.1.2.4 clean start, 3.1.2.11 empty properties, 3.1.3.1 client id",
    bytes: new Uint8Array([
      0x10, // CONNECT
      0x10, // remaining length 16
      0x00, 0x04, // protocol name length
      0x4d, 0x51, 0x54, 0x54, // "MQTT"
      0x05, // protocol level 5
      0x02, // connect flags: clean start
      0x00, 0x3c, // keep alive 60 s
      0x00, // property length 0
      0x00, 0x03, // client id length
      0x61, 0x62, 0x63, // "abc"
    ]),
    packet: { type: CONNECT, protocolVersion: 5, clientId: "abc", cleanStart: true, keepAlive: 60 },
  },
  {
    name: "CONNECT with properties, will properties, username and password",
    version: 5,
    spec: "3.1.2.11 connect properties, 3.1.3.2 will properties, 3.1.3.3-3.1.3.6 payload",
    bytes: new Uint8Array([
      0x10, // CONNECT
      0x6e, // remaining length 110
      0x00, 0x04, // protocol name length
      0x4d, 0x51, 0x54, 0x54, // "MQTT"
      0x05, // protocol level 5
      0xd6, // connect flags: user name, password, will QoS 2, will, clean start; will retain 0
      0x00, 0x1e, // keep alive 30 s
      0x20, // property length 32
      0x11, 0x00, 0x00, 0x0e, 0x10, // session expiry interval 3600 s
      0x17, 0x00, // request problem information 0
      0x19, 0x01, // request response information 1
      0x21, 0x00, 0x14, // receive maximum 20
      0x22, 0x00, 0x0a, // topic alias maximum 10
      0x26, // user property
      0x00, 0x03, 0x61, 0x70, 0x70, // key "app"
      0x00, 0x04, 0x74, 0x69, 0x6e, 0x79, // value "tiny"
      0x27, 0x00, 0x00, 0x40, 0x00, // maximum packet size 16384
      0x00, 0x03, // client id length
      0x63, 0x6c, 0x69, // "cli"
      0x29, // will property length 41
      0x01, 0x01, // payload format indicator 1 (UTF-8)
      0x02, 0x00, 0x00, 0x00, 0x3c, // message expiry interval 60 s
      0x03, 0x00, 0x0a, // content type, length 10
      0x74, 0x65, 0x78, 0x74, 0x2f, 0x70, 0x6c, 0x61, 0x69, 0x6e, // "text/plain"
      0x08, 0x00, 0x01, 0x72, // response topic "r"
      0x09, 0x00, 0x02, 0x01, 0x02, // correlation data 01 02
      0x18, 0x00, 0x00, 0x00, 0x05, // will delay interval 5 s
      0x26, // user property
      0x00, 0x01, 0x6b, // key "k"
      0x00, 0x01, 0x76, // value "v"
      0x00, 0x03, // will topic length
      0x77, 0x2f, 0x74, // "w/t"
      0x00, 0x03, // will payload length
      0x62, 0x79, 0x65, // "bye"
      0x00, 0x04, // user name length
      0x75, 0x73, 0x65, 0x72, // "user"
      0x00, 0x02, // password length
      0x00, 0xff, // password: binary
    ]),
    packet: {
      type: CONNECT, protocolVersion: 5, clientId: "cli", cleanStart: true, keepAlive: 30,
      properties: {
        sessionExpiryInterval: 3600, requestProblemInformation: 0, requestResponseInformation: 1, receiveMaximum: 20,
        topicAliasMaximum: 10, userProperties: [["app", "tiny"]], maximumPacketSize: 16384,
      },
      will: {
        topic: "w/t", payload: text("bye"), qos: 2, retain: false,
        properties: {
          payloadFormatIndicator: 1, messageExpiryInterval: 60, contentType: "text/plain", responseTopic: "r",
          correlationData: new Uint8Array([0x01, 0x02]), willDelayInterval: 5, userProperties: [["k", "v"]],
        },
      },
      username: "user", password: new Uint8Array([0x00, 0xff]),
    },
  },
  {
    name: "CONNECT with enhanced authentication and a password without a user name",
    version: 5,
    spec: "3.1.2.9: MQTT 5 allows a password without a user name; 3.1.2.11.9 authentication method, 3.1.2.11.10 data",
    bytes: new Uint8Array([
      0x10, // CONNECT
      0x25, // remaining length 37
      0x00, 0x04, // protocol name length
      0x4d, 0x51, 0x54, 0x54, // "MQTT"
      0x05, // protocol level 5
      0x42, // connect flags: password, clean start
      0x00, 0x3c, // keep alive 60 s
      0x14, // property length 20
      0x15, 0x00, 0x0b, // authentication method, length 11
      0x53, 0x43, 0x52, 0x41, 0x4d, 0x2d, 0x53, 0x48, 0x41, 0x2d, 0x31, // "SCRAM-SHA-1"
      0x16, 0x00, 0x03, 0x01, 0x02, 0x03, // authentication data 01 02 03
      0x00, 0x00, // client id length 0
      0x00, 0x02, // password length
      0x70, 0x77, // "pw"
    ]),
    packet: {
      type: CONNECT, protocolVersion: 5, clientId: "", cleanStart: true, keepAlive: 60,
      properties: { authenticationMethod: "SCRAM-SHA-1", authenticationData: new Uint8Array([1, 2, 3]) },
      password: text("pw"),
    },
  },
];

const connack: Vector[] = [
  {
    name: "CONNACK success with properties",
    version: 5,
    spec: "3.2.2.2 reason code, 3.2.2.3 CONNACK properties",
    bytes: new Uint8Array([
      0x20, // CONNACK
      0x30, // remaining length 48
      0x00, // acknowledge flags: no session present
      0x00, // reason code 0x00 success
      0x2d, // property length 45
      0x11, 0x00, 0x00, 0x00, 0x78, // session expiry interval 120 s
      0x12, 0x00, 0x06, // assigned client identifier, length 6
      0x61, 0x75, 0x74, 0x6f, 0x2d, 0x31, // "auto-1"
      0x13, 0x00, 0x1e, // server keep alive 30 s
      0x1a, 0x00, 0x04, 0x72, 0x65, 0x73, 0x70, // response information "resp"
      0x21, 0x00, 0x0a, // receive maximum 10
      0x22, 0x00, 0x05, // topic alias maximum 5
      0x24, 0x01, // maximum QoS 1
      0x25, 0x00, // retain available 0
      0x27, 0x00, 0x00, 0x10, 0x00, // maximum packet size 4096
      0x28, 0x01, // wildcard subscription available 1
      0x29, 0x00, // subscription identifiers available 0
      0x2a, 0x01, // shared subscription available 1
    ]),
    packet: {
      type: CONNACK, sessionPresent: false, reasonCode: 0,
      properties: {
        sessionExpiryInterval: 120, assignedClientIdentifier: "auto-1", serverKeepAlive: 30,
        responseInformation: "resp", receiveMaximum: 10, topicAliasMaximum: 5, maximumQos: 1, retainAvailable: 0,
        maximumPacketSize: 4096, wildcardSubscriptionAvailable: 1, subscriptionIdentifiersAvailable: 0,
        sharedSubscriptionAvailable: 1,
      },
    },
  },
  {
    name: "CONNACK with session present",
    version: 5,
    spec: "3.2.2.1.1 session present; 3.2.2.3.1 property length 0",
    bytes: new Uint8Array([
      0x20, // CONNACK
      0x03, // remaining length 3
      0x01, // acknowledge flags: session present
      0x00, // reason code 0x00 success
      0x00, // property length 0
    ]),
    packet: { type: CONNACK, sessionPresent: true, reasonCode: 0 },
  },
  {
    name: "CONNACK 0x84 unsupported protocol version",
    version: 5,
    spec: "3.2.2.2 reason code 0x84",
    bytes: new Uint8Array([
      0x20, // CONNACK
      0x03, // remaining length 3
      0x00, // acknowledge flags
      0x84, // reason code 0x84 unsupported protocol version
      0x00, // property length 0
    ]),
    packet: { type: CONNACK, sessionPresent: false, reasonCode: 0x84 },
  },
  {
    name: "CONNACK 0x9c use another server, with server reference and reason string",
    version: 5,
    spec: "3.2.2.2 reason code 0x9c, 3.2.2.3.16 server reference, 3.2.2.3.9 reason string",
    bytes: new Uint8Array([
      0x20, // CONNACK
      0x14, // remaining length 20
      0x00, // acknowledge flags
      0x9c, // reason code 0x9c use another server
      0x11, // property length 17
      0x1c, 0x00, 0x06, // server reference, length 6
      0x62, 0x3a, 0x31, 0x38, 0x38, 0x33, // "b:1883"
      0x1f, 0x00, 0x05, // reason string, length 5
      0x6d, 0x6f, 0x76, 0x65, 0x64, // "moved"
    ]),
    packet: { type: CONNACK, sessionPresent: false, reasonCode: 0x9c, properties: { serverReference: "b:1883", reasonString: "moved" } },
  },
];

const publish: Vector[] = [
  {
    name: "PUBLISH QoS 0 without properties",
    version: 5,
    spec: "3.3.2.3.1: the property length is always present",
    bytes: new Uint8Array([
      0x30, // PUBLISH, QoS 0
      0x08, // remaining length 8
      0x00, 0x03, // topic length
      0x61, 0x2f, 0x62, // "a/b"
      0x00, // property length 0
      0x68, 0x69, // payload "hi"
    ]),
    packet: { type: PUBLISH, topic: "a/b", payload: text("hi"), qos: 0, retain: false, dup: false, packetId: 0 },
  },
  {
    name: "PUBLISH QoS 1 with properties and two user properties with the same key",
    version: 5,
    spec: "3.3.2.3.2-3.3.2.3.9; 3.3.2.3.7: a user property may appear more than once, also with the same name",
    bytes: new Uint8Array([
      0x32, // PUBLISH, QoS 1
      0x48, // remaining length 72
      0x00, 0x03, // topic length
      0x61, 0x2f, 0x62, // "a/b"
      0x00, 0x07, // packet identifier 7
      0x3e, // property length 62
      0x01, 0x01, // payload format indicator 1 (UTF-8)
      0x02, 0x00, 0x00, 0x0e, 0x10, // message expiry interval 3600 s
      0x03, 0x00, 0x0a, // content type, length 10
      0x74, 0x65, 0x78, 0x74, 0x2f, 0x70, 0x6c, 0x61, 0x69, 0x6e, // "text/plain"
      0x08, 0x00, 0x06, // response topic, length 6
      0x72, 0x65, 0x73, 0x70, 0x2f, 0x31, // "resp/1"
      0x09, 0x00, 0x04, // correlation data, length 4
      0xde, 0xad, 0xbe, 0xef, // correlation data bytes
      0x26, // user property
      0x00, 0x06, 0x72, 0x65, 0x67, 0x69, 0x6f, 0x6e, // key "region"
      0x00, 0x02, 0x65, 0x75, // value "eu"
      0x26, // user property, same key again
      0x00, 0x06, 0x72, 0x65, 0x67, 0x69, 0x6f, 0x6e, // key "region"
      0x00, 0x02, 0x75, 0x73, // value "us"
      0x68, 0x69, // payload "hi"
    ]),
    packet: {
      type: PUBLISH, topic: "a/b", payload: text("hi"), qos: 1, retain: false, dup: false, packetId: 7,
      properties: {
        payloadFormatIndicator: 1, messageExpiryInterval: 3600, contentType: "text/plain", responseTopic: "resp/1",
        correlationData: new Uint8Array([0xde, 0xad, 0xbe, 0xef]), userProperties: [["region", "eu"], ["region", "us"]],
      },
    },
  },
  {
    name: "PUBLISH with three subscription identifiers",
    version: 5,
    spec: "3.3.2.3.8: one subscription identifier per matching subscription; 1.5.5 variable byte integers of 1, 2, 4 bytes",
    bytes: new Uint8Array([
      0x30, // PUBLISH, QoS 0
      0x12, // remaining length 18
      0x00, 0x03, // topic length
      0x61, 0x2f, 0x62, // "a/b"
      0x0a, // property length 10
      0x0b, 0x01, // subscription identifier 1
      0x0b, 0xc8, 0x01, // subscription identifier 200
      0x0b, 0xff, 0xff, 0xff, 0x7f, // subscription identifier 268435455, the largest
      0x68, 0x69, // payload "hi"
    ]),
    packet: {
      type: PUBLISH, topic: "a/b", payload: text("hi"), qos: 0, retain: false, dup: false, packetId: 0,
      properties: { subscriptionIdentifier: [1, 200, 268435455] },
    },
  },
  {
    name: "PUBLISH setting a topic alias",
    version: 5,
    spec: "3.3.2.3.4 topic alias, sent with the topic name that it stands for",
    bytes: new Uint8Array([
      0x32, // PUBLISH, QoS 1
      0x0d, // remaining length 13
      0x00, 0x03, // topic length
      0x61, 0x2f, 0x62, // "a/b"
      0x00, 0x02, // packet identifier 2
      0x03, // property length 3
      0x23, 0x00, 0x07, // topic alias 7
      0x68, 0x69, // payload "hi"
    ]),
    packet: {
      type: PUBLISH, topic: "a/b", payload: text("hi"), qos: 1, retain: false, dup: false, packetId: 2,
      properties: { topicAlias: 7 },
    },
  },
  {
    name: "PUBLISH using a topic alias with an empty topic",
    version: 5,
    spec: "3.3.2.3.4 topic alias; 3.3.2.1: a zero-length topic name when a topic alias is present",
    bytes: new Uint8Array([
      0x30, // PUBLISH, QoS 0
      0x07, // remaining length 7
      0x00, 0x00, // topic length 0
      0x03, // property length 3
      0x23, 0x00, 0x07, // topic alias 7
      0x78, // payload "x"
    ]),
    packet: {
      type: PUBLISH, topic: "", payload: text("x"), qos: 0, retain: false, dup: false, packetId: 0,
      properties: { topicAlias: 7 },
    },
  },
  {
    name: "PUBLISH QoS 2 with DUP and RETAIN and an empty payload",
    version: 5,
    spec: "3.3.1 fixed header flags; 3.3.3 zero-length payload",
    bytes: new Uint8Array([
      0x3d, // PUBLISH, DUP 1, QoS 2, RETAIN 1
      0x08, // remaining length 8
      0x00, 0x03, // topic length
      0x61, 0x2f, 0x62, // "a/b"
      0xff, 0xff, // packet identifier 65535
      0x00, // property length 0
    ]),
    packet: { type: PUBLISH, topic: "a/b", payload: new Uint8Array(0), qos: 2, retain: true, dup: true, packetId: 65535 },
  },
  {
    name: "PUBLISH with interleaved user properties",
    version: 5,
    spec: "3.3.2.3.7: user properties keep their order; a key may repeat with another key between",
    bytes: new Uint8Array([
      0x30, // PUBLISH, QoS 0
      0x19, // remaining length 25
      0x00, 0x01, // topic length
      0x74, // "t"
      0x15, // property length 21
      0x26, 0x00, 0x01, 0x61, 0x00, 0x01, 0x31, // user property "a" = "1"
      0x26, 0x00, 0x01, 0x62, 0x00, 0x01, 0x32, // user property "b" = "2"
      0x26, 0x00, 0x01, 0x61, 0x00, 0x01, 0x33, // user property "a" = "3"
    ]),
    packet: {
      type: PUBLISH, topic: "t", payload: new Uint8Array(0), qos: 0, retain: false, dup: false, packetId: 0,
      properties: { userProperties: [["a", "1"], ["b", "2"], ["a", "3"]] },
    },
  },
];

/** A PUBACK-shaped packet (3.4-3.7): four types, one layout; the fixed header byte differs. */
const acks: Vector[] = [
  {
    name: "PUBACK success, short form (remaining length 2)",
    version: 5,
    spec: "3.4.2.1: reason code and property length omitted for 0x00 without properties",
    bytes: new Uint8Array([
      0x40, // PUBACK
      0x02, // remaining length 2
      0x00, 0x01, // packet identifier 1
    ]),
    packet: { type: PUBACK, packetId: 1, reasonCode: 0 },
  },
  {
    name: "PUBACK 0x10, remaining length 3",
    version: 5,
    spec: "3.4.2.2.1: no property length when the remaining length is less than 4",
    bytes: new Uint8Array([
      0x40, // PUBACK
      0x03, // remaining length 3
      0x00, 0x02, // packet identifier 2
      0x10, // reason code 0x10 no matching subscribers
    ]),
    packet: { type: PUBACK, packetId: 2, reasonCode: 0x10 },
  },
  {
    name: "PUBACK 0x87 with a reason string",
    version: 5,
    spec: "3.4.2.1 reason code, 3.4.2.2.2 reason string",
    bytes: new Uint8Array([
      0x40, // PUBACK
      0x09, // remaining length 9
      0x00, 0x03, // packet identifier 3
      0x87, // reason code 0x87 not authorized
      0x05, // property length 5
      0x1f, 0x00, 0x02, 0x6e, 0x6f, // reason string "no"
    ]),
    packet: { type: PUBACK, packetId: 3, reasonCode: 0x87, properties: { reasonString: "no" } },
  },
  {
    name: "PUBACK success with an empty property block",
    version: 5,
    spec: "3.4.2.2.1: a property length of 0 may be sent; the encoder writes the 2-byte form instead",
    canonical: false,
    bytes: new Uint8Array([
      0x40, // PUBACK
      0x04, // remaining length 4
      0x00, 0x05, // packet identifier 5
      0x00, // reason code 0x00 success
      0x00, // property length 0
    ]),
    packet: { type: PUBACK, packetId: 5, reasonCode: 0 },
  },
  {
    name: "PUBACK 0x10 with an empty property block",
    version: 5,
    spec: "3.4.2.2.1: a property length of 0 may be sent; the encoder writes the 3-byte form instead",
    canonical: false,
    bytes: new Uint8Array([
      0x40, // PUBACK
      0x04, // remaining length 4
      0x00, 0x06, // packet identifier 6
      0x10, // reason code 0x10 no matching subscribers
      0x00, // property length 0
    ]),
    packet: { type: PUBACK, packetId: 6, reasonCode: 0x10 },
  },
  {
    name: "PUBREC success, short form (remaining length 2)",
    version: 5,
    spec: "3.5.2.1",
    bytes: new Uint8Array([
      0x50, // PUBREC
      0x02, // remaining length 2
      0x00, 0x01, // packet identifier 1
    ]),
    packet: { type: PUBREC, packetId: 1, reasonCode: 0 },
  },
  {
    name: "PUBREC 0x97, remaining length 3",
    version: 5,
    spec: "3.5.2.1 reason code, 3.5.2.2.1",
    bytes: new Uint8Array([
      0x50, // PUBREC
      0x03, // remaining length 3
      0x00, 0x02, // packet identifier 2
      0x97, // reason code 0x97 quota exceeded
    ]),
    packet: { type: PUBREC, packetId: 2, reasonCode: 0x97 },
  },
  {
    name: "PUBREC 0x80 with a reason string",
    version: 5,
    spec: "3.5.2.1 reason code, 3.5.2.2.2 reason string",
    bytes: new Uint8Array([
      0x50, // PUBREC
      0x0b, // remaining length 11
      0x00, 0x03, // packet identifier 3
      0x80, // reason code 0x80 unspecified error
      0x07, // property length 7
      0x1f, 0x00, 0x04, 0x6f, 0x6f, 0x70, 0x73, // reason string "oops"
    ]),
    packet: { type: PUBREC, packetId: 3, reasonCode: 0x80, properties: { reasonString: "oops" } },
  },
  {
    name: "PUBREL success, short form (remaining length 2)",
    version: 5,
    spec: "3.6.1 flags 0010 [MQTT-3.6.1-1], 3.6.2.1",
    bytes: new Uint8Array([
      0x62, // PUBREL, flags 0010
      0x02, // remaining length 2
      0x00, 0x01, // packet identifier 1
    ]),
    packet: { type: PUBREL, packetId: 1, reasonCode: 0 },
  },
  {
    name: "PUBREL 0x92, remaining length 3",
    version: 5,
    spec: "3.6.2.1 reason code 0x92, 3.6.2.2.1",
    bytes: new Uint8Array([
      0x62, // PUBREL, flags 0010
      0x03, // remaining length 3
      0x00, 0x02, // packet identifier 2
      0x92, // reason code 0x92 packet identifier not found
    ]),
    packet: { type: PUBREL, packetId: 2, reasonCode: 0x92 },
  },
  {
    name: "PUBREL 0x92 with a reason string",
    version: 5,
    spec: "3.6.2.1 reason code, 3.6.2.2.2 reason string",
    bytes: new Uint8Array([
      0x62, // PUBREL, flags 0010
      0x0b, // remaining length 11
      0x00, 0x03, // packet identifier 3
      0x92, // reason code 0x92 packet identifier not found
      0x07, // property length 7
      0x1f, 0x00, 0x04, 0x67, 0x6f, 0x6e, 0x65, // reason string "gone"
    ]),
    packet: { type: PUBREL, packetId: 3, reasonCode: 0x92, properties: { reasonString: "gone" } },
  },
  {
    name: "PUBCOMP success, short form (remaining length 2)",
    version: 5,
    spec: "3.7.2.1",
    bytes: new Uint8Array([
      0x70, // PUBCOMP
      0x02, // remaining length 2
      0x00, 0x01, // packet identifier 1
    ]),
    packet: { type: PUBCOMP, packetId: 1, reasonCode: 0 },
  },
  {
    name: "PUBCOMP 0x92, remaining length 3",
    version: 5,
    spec: "3.7.2.1 reason code 0x92, 3.7.2.2.1",
    bytes: new Uint8Array([
      0x70, // PUBCOMP
      0x03, // remaining length 3
      0x00, 0x02, // packet identifier 2
      0x92, // reason code 0x92 packet identifier not found
    ]),
    packet: { type: PUBCOMP, packetId: 2, reasonCode: 0x92 },
  },
  {
    name: "PUBCOMP success with a reason string and a user property",
    version: 5,
    spec: "3.7.2.1: reason code 0x00 written because properties follow; 3.7.2.2.2, 3.7.2.2.3",
    bytes: new Uint8Array([
      0x70, // PUBCOMP
      0x10, // remaining length 16
      0x00, 0x03, // packet identifier 3
      0x00, // reason code 0x00 success
      0x0c, // property length 12
      0x1f, 0x00, 0x02, 0x6f, 0x6b, // reason string "ok"
      0x26, 0x00, 0x01, 0x6b, 0x00, 0x01, 0x76, // user property "k" = "v"
    ]),
    packet: { type: PUBCOMP, packetId: 3, reasonCode: 0, properties: { reasonString: "ok", userProperties: [["k", "v"]] } },
  },
];

const subscriptions: Vector[] = [
  {
    name: "SUBSCRIBE with options and a subscription identifier",
    version: 5,
    spec: "3.8.2.1.2 subscription identifier, 3.8.3.1 subscription options: QoS, no local, retain as published, retain handling",
    bytes: new Uint8Array([
      0x82, // SUBSCRIBE, flags 0010
      0x1e, // remaining length 30
      0x00, 0x0e, // packet identifier 14
      0x02, // property length 2
      0x0b, 0x05, // subscription identifier 5
      0x00, 0x03, 0x61, 0x2f, 0x62, // topic filter "a/b"
      0x1d, // options: QoS 1, no local, retain as published, retain handling 1
      0x00, 0x03, 0x63, 0x2f, 0x23, // topic filter "c/#"
      0x22, // options: QoS 2, retain handling 2
      0x00, 0x0a, // topic filter length 10
      0x24, 0x73, 0x68, 0x61, 0x72, 0x65, 0x2f, 0x67, 0x2f, 0x64, // "$share/g/d"
      0x00, // options: QoS 0
    ]),
    packet: {
      type: SUBSCRIBE, packetId: 14, properties: { subscriptionIdentifier: 5 },
      subscriptions: [
        { topicFilter: "a/b", qos: 1, noLocal: true, retainAsPublished: true, retainHandling: 1 },
        { topicFilter: "c/#", qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 2 },
        { topicFilter: "$share/g/d", qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      ],
    },
  },
  {
    name: "SUBSCRIBE with the largest subscription identifier and a user property",
    version: 5,
    spec: "3.8.2.1.2: subscription identifier 1..268435455; 3.8.2.1.3 user property",
    bytes: new Uint8Array([
      0x82, // SUBSCRIBE, flags 0010
      0x13, // remaining length 19
      0x00, 0x0f, // packet identifier 15
      0x0c, // property length 12
      0x0b, 0xff, 0xff, 0xff, 0x7f, // subscription identifier 268435455
      0x26, 0x00, 0x01, 0x6b, 0x00, 0x01, 0x76, // user property "k" = "v"
      0x00, 0x01, 0x78, // topic filter "x"
      0x00, // options: QoS 0
    ]),
    packet: {
      type: SUBSCRIBE, packetId: 15, properties: { subscriptionIdentifier: 268435455, userProperties: [["k", "v"]] },
      subscriptions: [{ topicFilter: "x", qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }],
    },
  },
  {
    name: "SUBACK granting QoS 1, 2 and 0",
    version: 5,
    spec: "3.9.2.1 property length, 3.9.3 reason codes",
    bytes: new Uint8Array([
      0x90, // SUBACK
      0x06, // remaining length 6
      0x00, 0x0e, // packet identifier 14
      0x00, // property length 0
      0x01, // granted QoS 1
      0x02, // granted QoS 2
      0x00, // granted QoS 0
    ]),
    packet: { type: SUBACK, packetId: 14, reasonCodes: [1, 2, 0] },
  },
  {
    name: "SUBACK with failures and a reason string",
    version: 5,
    spec: "3.9.2.1.2 reason string, 3.9.3 reason codes 0x87, 0x9e, 0xa1, 0xa2",
    bytes: new Uint8Array([
      0x90, // SUBACK
      0x11, // remaining length 17
      0x00, 0x0f, // packet identifier 15
      0x09, // property length 9
      0x1f, 0x00, 0x06, // reason string, length 6
      0x64, 0x65, 0x6e, 0x69, 0x65, 0x64, // "denied"
      0x00, // granted QoS 0
      0x87, // not authorized
      0x9e, // shared subscriptions not supported
      0xa1, // subscription identifiers not supported
      0xa2, // wildcard subscriptions not supported
    ]),
    packet: { type: SUBACK, packetId: 15, reasonCodes: [0x00, 0x87, 0x9e, 0xa1, 0xa2], properties: { reasonString: "denied" } },
  },
  {
    name: "UNSUBSCRIBE with two filters",
    version: 5,
    spec: "3.10.1 flags 0010, 3.10.2.1 property length, 3.10.3 payload",
    bytes: new Uint8Array([
      0xa2, // UNSUBSCRIBE, flags 0010
      0x0d, // remaining length 13
      0x00, 0x10, // packet identifier 16
      0x00, // property length 0
      0x00, 0x03, 0x61, 0x2f, 0x62, // topic filter "a/b"
      0x00, 0x03, 0x63, 0x2f, 0x23, // topic filter "c/#"
    ]),
    packet: { type: UNSUBSCRIBE, packetId: 16, topicFilters: ["a/b", "c/#"] },
  },
  {
    name: "UNSUBSCRIBE with a user property",
    version: 5,
    spec: "3.10.2.1.2 user property",
    bytes: new Uint8Array([
      0xa2, // UNSUBSCRIBE, flags 0010
      0x0d, // remaining length 13
      0x00, 0x11, // packet identifier 17
      0x07, // property length 7
      0x26, 0x00, 0x01, 0x6b, 0x00, 0x01, 0x76, // user property "k" = "v"
      0x00, 0x01, 0x78, // topic filter "x"
    ]),
    packet: { type: UNSUBSCRIBE, packetId: 17, topicFilters: ["x"], properties: { userProperties: [["k", "v"]] } },
  },
  {
    name: "UNSUBACK with reason codes",
    version: 5,
    spec: "3.11.3 reason codes 0x00, 0x11",
    bytes: new Uint8Array([
      0xb0, // UNSUBACK
      0x05, // remaining length 5
      0x00, 0x10, // packet identifier 16
      0x00, // property length 0
      0x00, // success
      0x11, // no subscription existed
    ]),
    packet: { type: UNSUBACK, packetId: 16, reasonCodes: [0x00, 0x11] },
  },
  {
    name: "UNSUBACK with a reason string",
    version: 5,
    spec: "3.11.2.1.2 reason string, 3.11.3 reason code 0x87",
    bytes: new Uint8Array([
      0xb0, // UNSUBACK
      0x0b, // remaining length 11
      0x00, 0x11, // packet identifier 17
      0x07, // property length 7
      0x1f, 0x00, 0x04, 0x6e, 0x6f, 0x70, 0x65, // reason string "nope"
      0x87, // not authorized
    ]),
    packet: { type: UNSUBACK, packetId: 17, reasonCodes: [0x87], properties: { reasonString: "nope" } },
  },
];

const session: Vector[] = [
  {
    name: "PINGREQ",
    version: 5,
    spec: "3.12",
    bytes: new Uint8Array([
      0xc0, // PINGREQ
      0x00, // remaining length 0
    ]),
    packet: { type: PINGREQ },
  },
  {
    name: "PINGRESP",
    version: 5,
    spec: "3.13",
    bytes: new Uint8Array([
      0xd0, // PINGRESP
      0x00, // remaining length 0
    ]),
    packet: { type: PINGRESP },
  },
  {
    name: "DISCONNECT normal, remaining length 0",
    version: 5,
    spec: "3.14.2.1: reason code and properties omitted for 0x00 without properties",
    bytes: new Uint8Array([
      0xe0, // DISCONNECT
      0x00, // remaining length 0
    ]),
    packet: { type: DISCONNECT, reasonCode: 0 },
  },
  {
    name: "DISCONNECT 0x04, remaining length 1",
    version: 5,
    spec: "3.14.2.2.1: no property length when the remaining length is less than 2",
    bytes: new Uint8Array([
      0xe0, // DISCONNECT
      0x01, // remaining length 1
      0x04, // reason code 0x04 disconnect with will message
    ]),
    packet: { type: DISCONNECT, reasonCode: 0x04 },
  },
  {
    name: "DISCONNECT with an empty property block",
    version: 5,
    spec: "3.14.2.2.1: a property length of 0 may be sent; the encoder writes the 0-byte form instead",
    canonical: false,
    bytes: new Uint8Array([
      0xe0, // DISCONNECT
      0x02, // remaining length 2
      0x00, // reason code 0x00 normal disconnection
      0x00, // property length 0
    ]),
    packet: { type: DISCONNECT, reasonCode: 0 },
  },
  {
    name: "DISCONNECT from the client changing the session expiry interval",
    version: 5,
    spec: "3.14.2.2.2 session expiry interval",
    bytes: new Uint8Array([
      0xe0, // DISCONNECT
      0x07, // remaining length 7
      0x00, // reason code 0x00 normal disconnection
      0x05, // property length 5
      0x11, 0x00, 0x00, 0x00, 0x00, // session expiry interval 0
    ]),
    packet: { type: DISCONNECT, reasonCode: 0, properties: { sessionExpiryInterval: 0 } },
  },
  {
    name: "DISCONNECT 0x9c from the server with a server reference and a reason string",
    version: 5,
    spec: "3.14.2.1 reason code 0x9c, 3.14.2.2.3 reason string, 3.14.2.2.5 server reference",
    bytes: new Uint8Array([
      0xe0, // DISCONNECT
      0x11, // remaining length 17
      0x9c, // reason code 0x9c use another server
      0x0f, // property length 15
      0x1c, 0x00, 0x06, // server reference, length 6
      0x62, 0x3a, 0x31, 0x38, 0x38, 0x33, // "b:1883"
      0x1f, 0x00, 0x03, 0x62, 0x79, 0x65, // reason string "bye"
    ]),
    packet: { type: DISCONNECT, reasonCode: 0x9c, properties: { serverReference: "b:1883", reasonString: "bye" } },
  },
  {
    name: "AUTH success, remaining length 0",
    version: 5,
    spec: "3.15.2.1: reason code and property length omitted for 0x00 without properties",
    bytes: new Uint8Array([
      0xf0, // AUTH
      0x00, // remaining length 0
    ]),
    packet: { type: AUTH, reasonCode: 0 },
  },
  {
    name: "AUTH 0x18 without properties",
    version: 5,
    spec: "3.15.2.1 reason code 0x18; 3.15.2.2.1: once the reason code is sent, so is the property length",
    bytes: new Uint8Array([
      0xf0, // AUTH
      0x02, // remaining length 2
      0x18, // reason code 0x18 continue authentication
      0x00, // property length 0
    ]),
    packet: { type: AUTH, reasonCode: 0x18 },
  },
  {
    name: "AUTH 0x18 continue authentication with method and data",
    version: 5,
    spec: "3.15.2.1 reason code, 3.15.2.2.2 authentication method, 3.15.2.2.3 authentication data",
    bytes: new Uint8Array([
      0xf0, // AUTH
      0x17, // remaining length 23
      0x18, // reason code 0x18 continue authentication
      0x15, // property length 21
      0x15, 0x00, 0x0b, // authentication method, length 11
      0x53, 0x43, 0x52, 0x41, 0x4d, 0x2d, 0x53, 0x48, 0x41, 0x2d, 0x31, // "SCRAM-SHA-1"
      0x16, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef, // authentication data de ad be ef
    ]),
    packet: {
      type: AUTH, reasonCode: 0x18,
      properties: { authenticationMethod: "SCRAM-SHA-1", authenticationData: new Uint8Array([0xde, 0xad, 0xbe, 0xef]) },
    },
  },
  {
    name: "AUTH 0x19 re-authenticate with a reason string",
    version: 5,
    spec: "3.15.2.1 reason code 0x19, 3.15.2.2.4 reason string",
    bytes: new Uint8Array([
      0xf0, // AUTH
      0x0f, // remaining length 15
      0x19, // reason code 0x19 re-authenticate
      0x0d, // property length 13
      0x15, 0x00, 0x05, 0x50, 0x4c, 0x41, 0x49, 0x4e, // authentication method "PLAIN"
      0x1f, 0x00, 0x02, 0x72, 0x65, // reason string "re"
    ]),
    packet: { type: AUTH, reasonCode: 0x19, properties: { authenticationMethod: "PLAIN", reasonString: "re" } },
  },
];

export const v5: Vector[] = [...connect, ...connack, ...publish, ...acks, ...subscriptions, ...session];
