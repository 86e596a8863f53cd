/**
 * Bytes the decoder must refuse, each with the MQTT 5 reason code the codec reports (errors.ts): 0x81
 * Malformed Packet when the bytes break the packet grammar, 0x82 Protocol Error when well-formed bytes
 * break a rule, 0x84 for a protocol the codec does not speak, 0x95 for a packet over the size limit.
 * Each vector is wrong in one respect only; the rest of it is a valid packet. 3.x sections cite
 * MQTT 3.1.1, v5 sections cite MQTT 5.0.
 */
import { MALFORMED_PACKET, PACKET_TOO_LARGE, PROTOCOL_ERROR, UNSUPPORTED_PROTOCOL_VERSION } from "../../../src/codec/index.js";
import { repeat, type MalformedVector } from "./vector.js";

const M = MALFORMED_PACKET;
const P = PROTOCOL_ERROR;

const v3x: MalformedVector[] = [
  {
    name: "packet type 0",
    version: 4,
    spec: "2.2.1: control packet type 0 is reserved",
    reasonCode: M,
    bytes: new Uint8Array([
      0x00, // type 0
      0x00, // remaining length 0
    ]),
  },
  {
    name: "remaining length longer than 4 bytes",
    version: 4,
    spec: "2.2.3: the remaining length field is at most four bytes",
    reasonCode: M,
    bytes: new Uint8Array([
      0x30, // PUBLISH
      0xff, 0xff, 0xff, 0xff, 0x01, // five-byte remaining length
    ]),
  },
  {
    name: "PUBLISH over the configured maximum packet size",
    version: 4,
    spec: "decoder option maxPacketSize (the v5 Maximum Packet Size, 3.1.2.11.4): 19 bytes against 16",
    reasonCode: PACKET_TOO_LARGE,
    maxPacketSize: 16,
    bytes: new Uint8Array([
      0x30, // PUBLISH, QoS 0
      0x11, // remaining length 17: 19 bytes in all
      0x00, 0x03, // topic length
      0x61, 0x2f, 0x62, // "a/b"
      ...repeat(0x78, 12), // payload: 12 x "x"
    ]),
  },
  {
    name: "PUBLISH announcing the largest remaining length",
    version: 4,
    spec: "2.2.3: 268435455 is legal on the wire but exceeds maxPacketSize 1024; refused from the header alone",
    reasonCode: PACKET_TOO_LARGE,
    bytes: new Uint8Array([
      0x30, // PUBLISH
      0xff, 0xff, 0xff, 0x7f, // remaining length 268435455
    ]),
  },
  {
    name: "PUBREL with fixed header flags 0000",
    version: 4,
    spec: "3.6.1: flags must be 0010 [MQTT-3.6.1-1], [MQTT-2.2.2-2]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x60, // PUBREL with flags 0000
      0x02, // remaining length 2
      0x00, 0x01, // packet identifier 1
    ]),
  },
  {
    name: "SUBSCRIBE with fixed header flags 0000",
    version: 4,
    spec: "3.8.1: flags must be 0010 [MQTT-3.8.1-1]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x80, // SUBSCRIBE with flags 0000
      0x06, // remaining length 6
      0x00, 0x01, // packet identifier 1
      0x00, 0x01, 0x61, // topic filter "a"
      0x00, // requested QoS 0
    ]),
  },
  {
    name: "UNSUBSCRIBE with fixed header flags 0000",
    version: 4,
    spec: "3.10.1: flags must be 0010 [MQTT-3.10.1-1]",
    reasonCode: M,
    bytes: new Uint8Array([
      0xa0, // UNSUBSCRIBE with flags 0000
      0x05, // remaining length 5
      0x00, 0x01, // packet identifier 1
      0x00, 0x01, 0x61, // topic filter "a"
    ]),
  },
  {
    name: "PUBACK with fixed header flags 0010",
    version: 4,
    spec: "2.2.2 table 2.2: PUBACK flags are 0000 [MQTT-2.2.2-2]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x42, // PUBACK with flags 0010
      0x02, // remaining length 2
      0x00, 0x01, // packet identifier 1
    ]),
  },
  {
    name: "PUBLISH with QoS 3",
    version: 4,
    spec: "3.3.1.2: both QoS bits set [MQTT-3.3.1-4]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x36, // PUBLISH, QoS 3
      0x07, // remaining length 7
      0x00, 0x03, // topic length
      0x61, 0x2f, 0x62, // "a/b"
      0x00, 0x01, // packet identifier 1
    ]),
  },
  {
    name: "PUBLISH at QoS 0 with DUP set",
    version: 4,
    spec: "3.3.1.1: DUP must be 0 at QoS 0 [MQTT-3.3.1-2]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x38, // PUBLISH, DUP 1, QoS 0
      0x07, // remaining length 7
      0x00, 0x03, // topic length
      0x61, 0x2f, 0x62, // "a/b"
      0x68, 0x69, // payload "hi"
    ]),
  },
  {
    name: "PUBLISH QoS 1 with packet identifier 0",
    version: 4,
    spec: "2.3.1: packet identifiers are non-zero [MQTT-2.3.1-1]",
    reasonCode: P,
    bytes: new Uint8Array([
      0x32, // PUBLISH, QoS 1
      0x07, // remaining length 7
      0x00, 0x03, // topic length
      0x61, 0x2f, 0x62, // "a/b"
      0x00, 0x00, // packet identifier 0
    ]),
  },
  {
    name: "PUBACK with packet identifier 0",
    version: 4,
    spec: "2.3.1: packet identifiers are non-zero",
    reasonCode: P,
    bytes: new Uint8Array([
      0x40, // PUBACK
      0x02, // remaining length 2
      0x00, 0x00, // packet identifier 0
    ]),
  },
  {
    name: "SUBSCRIBE with packet identifier 0",
    version: 4,
    spec: "2.3.1: packet identifiers are non-zero [MQTT-2.3.1-1]",
    reasonCode: P,
    bytes: new Uint8Array([
      0x82, // SUBSCRIBE
      0x06, // remaining length 6
      0x00, 0x00, // packet identifier 0
      0x00, 0x01, 0x61, // topic filter "a"
      0x00, // requested QoS 0
    ]),
  },
  {
    name: "PUBLISH topic with the invalid UTF-8 byte 0xff",
    version: 4,
    spec: "1.5.3: ill-formed UTF-8 [MQTT-1.5.3-1]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x30, // PUBLISH
      0x05, // remaining length 5
      0x00, 0x03, // topic length
      0x61, 0xff, 0x62, // "a", 0xff (never valid in UTF-8), "b"
    ]),
  },
  {
    name: "PUBLISH topic with an overlong UTF-8 encoding",
    version: 4,
    spec: "1.5.3: ill-formed UTF-8 [MQTT-1.5.3-1]; c0 af is an overlong \"/\"",
    reasonCode: M,
    bytes: new Uint8Array([
      0x30, // PUBLISH
      0x04, // remaining length 4
      0x00, 0x02, // topic length
      0xc0, 0xaf, // overlong "/"
    ]),
  },
  {
    name: "PUBLISH topic with a multibyte sequence cut by the string's end",
    version: 4,
    spec: "1.5.3: ill-formed UTF-8 [MQTT-1.5.3-1]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x30, // PUBLISH
      0x05, // remaining length 5
      0x00, 0x02, // topic length 2
      0x61, 0xe2, // "a", then the first byte of a three-byte sequence
      0x82, // payload: the sequence's second byte lies outside the string
    ]),
  },
  {
    name: "PUBLISH topic containing U+0000",
    version: 4,
    spec: "1.5.3: U+0000 is forbidden [MQTT-1.5.3-2]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x30, // PUBLISH
      0x05, // remaining length 5
      0x00, 0x03, // topic length
      0x61, 0x00, 0x62, // "a", U+0000, "b"
    ]),
  },
  {
    name: "PUBLISH topic with a UTF-8 encoded surrogate",
    version: 4,
    spec: "1.5.3: U+D800..U+DFFF must not appear [MQTT-1.5.3-1]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x30, // PUBLISH
      0x05, // remaining length 5
      0x00, 0x03, // topic length
      0xed, 0xa0, 0x80, // U+D800 encoded as if it were a character
    ]),
  },
  {
    name: "PUBLISH topic with a + wildcard",
    version: 4,
    spec: "3.3.2.1: no wildcards in a topic name [MQTT-3.3.2-2]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x30, // PUBLISH
      0x05, // remaining length 5
      0x00, 0x03, // topic length
      0x61, 0x2f, 0x2b, // "a/+"
    ]),
  },
  {
    name: "PUBLISH topic with a # wildcard",
    version: 4,
    spec: "3.3.2.1: no wildcards in a topic name [MQTT-3.3.2-2]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x30, // PUBLISH
      0x03, // remaining length 3
      0x00, 0x01, // topic length
      0x23, // "#"
    ]),
  },
  {
    name: "PUBLISH with an empty topic",
    version: 4,
    spec: "4.7.3: topic names are at least one character long [MQTT-4.7.3-1]",
    reasonCode: P,
    bytes: new Uint8Array([
      0x30, // PUBLISH
      0x04, // remaining length 4
      0x00, 0x00, // topic length 0
      0x68, 0x69, // payload "hi"
    ]),
  },
  {
    name: "PUBLISH topic length running past the packet",
    version: 4,
    spec: "1.5.3: the string's length prefix claims 10 bytes; 2 remain",
    reasonCode: M,
    bytes: new Uint8Array([
      0x30, // PUBLISH
      0x04, // remaining length 4
      0x00, 0x0a, // topic length 10
      0x61, 0x62, // only 2 bytes
    ]),
  },
  {
    name: "CONNACK with trailing bytes",
    version: 4,
    spec: "3.2: remaining length is 2",
    reasonCode: M,
    bytes: new Uint8Array([
      0x20, // CONNACK
      0x03, // remaining length 3
      0x00, // acknowledge flags
      0x00, // return code 0
      0x00, // one byte too many
    ]),
  },
  {
    name: "PUBACK with trailing bytes",
    version: 4,
    spec: "3.4: remaining length is 2",
    reasonCode: M,
    bytes: new Uint8Array([
      0x40, // PUBACK
      0x03, // remaining length 3
      0x00, 0x01, // packet identifier 1
      0x00, // a v5 reason code, meaningless in 3.1.1
    ]),
  },
  {
    name: "PINGRESP with remaining length 1",
    version: 4,
    spec: "3.13: PINGRESP has no variable header and no payload",
    reasonCode: M,
    bytes: new Uint8Array([
      0xd0, // PINGRESP
      0x01, // remaining length 1
      0x00, // unexpected byte
    ]),
  },
  {
    name: "DISCONNECT with remaining length 1",
    version: 4,
    spec: "3.14: DISCONNECT has no variable header and no payload in 3.1.1",
    reasonCode: M,
    bytes: new Uint8Array([
      0xe0, // DISCONNECT
      0x01, // remaining length 1
      0x00, // unexpected byte
    ]),
  },
  {
    name: "UNSUBACK with a payload",
    version: 4,
    spec: "3.11.3: the 3.1.1 UNSUBACK has no payload",
    reasonCode: M,
    bytes: new Uint8Array([
      0xb0, // UNSUBACK
      0x03, // remaining length 3
      0x00, 0x01, // packet identifier 1
      0x00, // unexpected byte
    ]),
  },
  {
    name: "CONNACK with reserved flag bits",
    version: 4,
    spec: "3.2.2.1: acknowledge flag bits 7-1 are reserved, 0",
    reasonCode: M,
    bytes: new Uint8Array([
      0x20, // CONNACK
      0x02, // remaining length 2
      0x02, // acknowledge flags: reserved bit 1 set
      0x00, // return code 0
    ]),
  },
  {
    name: "CONNACK with session present and a nonzero return code",
    version: 4,
    spec: "3.2.2.2: session present must be 0 with a nonzero return code [MQTT-3.2.2-4]",
    reasonCode: P,
    bytes: new Uint8Array([
      0x20, // CONNACK
      0x02, // remaining length 2
      0x01, // acknowledge flags: session present
      0x05, // return code 5 not authorized
    ]),
  },
  {
    name: "CONNACK with return code 6",
    version: 4,
    spec: "3.2.2.3: return codes 6-255 are reserved",
    reasonCode: M,
    bytes: new Uint8Array([
      0x20, // CONNACK
      0x02, // remaining length 2
      0x00, // acknowledge flags
      0x06, // reserved return code
    ]),
  },
  {
    name: "SUBSCRIBE without topic filters",
    version: 4,
    spec: "3.8.3: at least one topic filter [MQTT-3.8.3-3]",
    reasonCode: P,
    bytes: new Uint8Array([
      0x82, // SUBSCRIBE
      0x02, // remaining length 2
      0x00, 0x01, // packet identifier 1
    ]),
  },
  {
    name: "SUBSCRIBE requesting QoS 3",
    version: 4,
    spec: "3.8.3.1: requested QoS 3 [MQTT-3.8.3-4]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x82, // SUBSCRIBE
      0x06, // remaining length 6
      0x00, 0x01, // packet identifier 1
      0x00, 0x01, 0x61, // topic filter "a"
      0x03, // requested QoS 3
    ]),
  },
  {
    name: "SUBSCRIBE with reserved bits in the requested QoS byte",
    version: 4,
    spec: "3.8.3.1: bits 7-2 are reserved [MQTT-3.8.3-4]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x82, // SUBSCRIBE
      0x06, // remaining length 6
      0x00, 0x01, // packet identifier 1
      0x00, 0x01, 0x61, // topic filter "a"
      0x04, // bit 2 set (the v5 no-local bit)
    ]),
  },
  {
    name: "SUBSCRIBE with an empty topic filter",
    version: 4,
    spec: "4.7.3: topic filters are at least one character long [MQTT-4.7.3-1]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x82, // SUBSCRIBE
      0x05, // remaining length 5
      0x00, 0x01, // packet identifier 1
      0x00, 0x00, // topic filter length 0
      0x00, // requested QoS 0
    ]),
  },
  {
    name: "SUBSCRIBE with # before the last level",
    version: 4,
    spec: "4.7.1.2: the multi-level wildcard must be the last character, on its own level [MQTT-4.7.1-2]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x82, // SUBSCRIBE
      0x0a, // remaining length 10
      0x00, 0x01, // packet identifier 1
      0x00, 0x05, 0x61, 0x2f, 0x23, 0x2f, 0x62, // topic filter "a/#/b"
      0x00, // requested QoS 0
    ]),
  },
  {
    name: "UNSUBSCRIBE with + inside a level",
    version: 4,
    spec: "4.7.1.3: the single-level wildcard must occupy an entire level [MQTT-4.7.1-3]",
    reasonCode: M,
    bytes: new Uint8Array([
      0xa2, // UNSUBSCRIBE
      0x06, // remaining length 6
      0x00, 0x01, // packet identifier 1
      0x00, 0x02, 0x61, 0x2b, // topic filter "a+"
    ]),
  },
  {
    name: "SUBSCRIBE topic filter running past the packet",
    version: 4,
    spec: "1.5.3: the string's length prefix claims 5 bytes; 1 remains",
    reasonCode: M,
    bytes: new Uint8Array([
      0x82, // SUBSCRIBE
      0x05, // remaining length 5
      0x00, 0x01, // packet identifier 1
      0x00, 0x05, // topic filter length 5
      0x61, // only 1 byte
    ]),
  },
  {
    name: "UNSUBSCRIBE without topic filters",
    version: 4,
    spec: "3.10.3: at least one topic filter [MQTT-3.10.3-2]",
    reasonCode: P,
    bytes: new Uint8Array([
      0xa2, // UNSUBSCRIBE
      0x02, // remaining length 2
      0x00, 0x01, // packet identifier 1
    ]),
  },
  {
    name: "UNSUBSCRIBE with an empty topic filter",
    version: 4,
    spec: "4.7.3: topic filters are at least one character long [MQTT-4.7.3-1]; the same code as for SUBSCRIBE",
    reasonCode: M,
    bytes: new Uint8Array([
      0xa2, // UNSUBSCRIBE
      0x04, // remaining length 4
      0x00, 0x01, // packet identifier 1
      0x00, 0x00, // topic filter length 0
    ]),
  },
  {
    name: "SUBACK with return code 3",
    version: 4,
    spec: "3.9.3: SUBACK return codes other than 0x00, 0x01, 0x02, 0x80 are reserved [MQTT-3.9.3-2]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x90, // SUBACK
      0x03, // remaining length 3
      0x00, 0x01, // packet identifier 1
      0x03, // reserved return code
    ]),
  },
  {
    name: "AUTH",
    version: 4,
    spec: "2.2.1: packet type 15 is reserved in 3.1.1",
    reasonCode: M,
    bytes: new Uint8Array([
      0xf0, // type 15
      0x00, // remaining length 0
    ]),
  },
  {
    name: "CONNECT with protocol name MQTX",
    version: 4,
    spec: "3.1.2.1: protocol name \"MQTT\" [MQTT-3.1.2-1]",
    reasonCode: UNSUPPORTED_PROTOCOL_VERSION,
    bytes: new Uint8Array([
      0x10, // CONNECT
      0x0f, // remaining length 15
      0x00, 0x04, // protocol name length
      0x4d, 0x51, 0x54, 0x58, // "MQTX"
      0x04, // protocol level 4
      0x02, // connect flags: clean session
      0x00, 0x3c, // keep alive 60 s
      0x00, 0x03, 0x61, 0x62, 0x63, // client id "abc"
    ]),
  },
  {
    name: "CONNECT with protocol level 6",
    version: 4,
    spec: "3.1.2.2: unsupported protocol level [MQTT-3.1.2-2]",
    reasonCode: UNSUPPORTED_PROTOCOL_VERSION,
    bytes: new Uint8Array([
      0x10, // CONNECT
      0x0f, // remaining length 15
      0x00, 0x04, // protocol name length
      0x4d, 0x51, 0x54, 0x54, // "MQTT"
      0x06, // protocol level 6
      0x02, // connect flags: clean session
      0x00, 0x3c, // keep alive 60 s
      0x00, 0x03, 0x61, 0x62, 0x63, // client id "abc"
    ]),
  },
  {
    name: "CONNECT with protocol name MQTT and level 3",
    version: 4,
    spec: "3.1.2.2: level 3 goes with the name \"MQIsdp\" only",
    reasonCode: UNSUPPORTED_PROTOCOL_VERSION,
    bytes: new Uint8Array([
      0x10, // CONNECT
      0x0f, // remaining length 15
      0x00, 0x04, // protocol name length
      0x4d, 0x51, 0x54, 0x54, // "MQTT"
      0x03, // protocol level 3
      0x02, // connect flags: clean session
      0x00, 0x3c, // keep alive 60 s
      0x00, 0x03, 0x61, 0x62, 0x63, // client id "abc"
    ]),
  },
  {
    name: "CONNECT with the reserved flag set",
    version: 4,
    spec: "3.1.2.3: connect flag bit 0 is reserved, 0 [MQTT-3.1.2-3]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x10, // CONNECT
      0x0f, // remaining length 15
      0x00, 0x04, // protocol name length
      0x4d, 0x51, 0x54, 0x54, // "MQTT"
      0x04, // protocol level 4
      0x03, // connect flags: clean session, reserved bit 0
      0x00, 0x3c, // keep alive 60 s
      0x00, 0x03, 0x61, 0x62, 0x63, // client id "abc"
    ]),
  },
  {
    name: "CONNECT with will QoS 3",
    version: 4,
    spec: "3.1.2.6: will QoS 3 [MQTT-3.1.2-14]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x10, // CONNECT
      0x14, // remaining length 20
      0x00, 0x04, // protocol name length
      0x4d, 0x51, 0x54, 0x54, // "MQTT"
      0x04, // protocol level 4
      0x1e, // connect flags: will QoS 3, will, clean session
      0x00, 0x3c, // keep alive 60 s
      0x00, 0x03, 0x61, 0x62, 0x63, // client id "abc"
      0x00, 0x01, 0x74, // will topic "t"
      0x00, 0x00, // will message length 0
    ]),
  },
  {
    name: "CONNECT with will retain but no will",
    version: 4,
    spec: "3.1.2.7: will retain must be 0 without a will [MQTT-3.1.2-15]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x10, // CONNECT
      0x0f, // remaining length 15
      0x00, 0x04, // protocol name length
      0x4d, 0x51, 0x54, 0x54, // "MQTT"
      0x04, // protocol level 4
      0x22, // connect flags: will retain, clean session; no will
      0x00, 0x3c, // keep alive 60 s
      0x00, 0x03, 0x61, 0x62, 0x63, // client id "abc"
    ]),
  },
  {
    name: "CONNECT with a password but no user name",
    version: 4,
    spec: "3.1.2.9: password flag without user name flag [MQTT-3.1.2-22]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x10, // CONNECT
      0x13, // remaining length 19
      0x00, 0x04, // protocol name length
      0x4d, 0x51, 0x54, 0x54, // "MQTT"
      0x04, // protocol level 4
      0x42, // connect flags: password, clean session
      0x00, 0x3c, // keep alive 60 s
      0x00, 0x03, 0x61, 0x62, 0x63, // client id "abc"
      0x00, 0x02, 0x70, 0x77, // password "pw"
    ]),
  },
  {
    name: "CONNECT client id running past the packet",
    version: 4,
    spec: "1.5.3: the string's length prefix claims 5 bytes; 3 remain",
    reasonCode: M,
    bytes: new Uint8Array([
      0x10, // CONNECT
      0x0f, // remaining length 15
      0x00, 0x04, // protocol name length
      0x4d, 0x51, 0x54, 0x54, // "MQTT"
      0x04, // protocol level 4
      0x02, // connect flags: clean session
      0x00, 0x3c, // keep alive 60 s
      0x00, 0x05, // client id length 5
      0x61, 0x62, 0x63, // only 3 bytes
    ]),
  },
];

const v31: MalformedVector[] = [
  {
    name: "CONNECT with protocol name MQIsdp and level 4",
    version: 3,
    spec: "3.1 CONNECT: \"MQIsdp\" goes with protocol version 3",
    reasonCode: UNSUPPORTED_PROTOCOL_VERSION,
    bytes: new Uint8Array([
      0x10, // CONNECT
      0x11, // remaining length 17
      0x00, 0x06, // protocol name length
      0x4d, 0x51, 0x49, 0x73, 0x64, 0x70, // "MQIsdp"
      0x04, // protocol version 4
      0x02, // connect flags: clean session
      0x00, 0x3c, // keep alive 60 s
      0x00, 0x03, 0x61, 0x62, 0x63, // client id "abc"
    ]),
  },
  {
    name: "AUTH",
    version: 3,
    spec: "packet type 15 is reserved in 3.1",
    reasonCode: M,
    bytes: new Uint8Array([
      0xf0, // type 15
      0x00, // remaining length 0
    ]),
  },
];

const v5: MalformedVector[] = [
  {
    name: "remaining length not minimally encoded",
    version: 5,
    spec: "1.5.5: the minimum number of bytes [MQTT-1.5.5-1]",
    reasonCode: M,
    bytes: new Uint8Array([
      0xc0, // PINGREQ
      0x80, 0x00, // remaining length 0 in two bytes
    ]),
  },
  {
    name: "property length not minimally encoded",
    version: 5,
    spec: "1.5.5 [MQTT-1.5.5-1]; 2.2.2.1 property length",
    reasonCode: M,
    bytes: new Uint8Array([
      0x40, // PUBACK
      0x05, // remaining length 5
      0x00, 0x01, // packet identifier 1
      0x10, // reason code 0x10
      0x80, 0x00, // property length 0 in two bytes
    ]),
  },
  {
    name: "subscription identifier longer than 4 bytes",
    version: 5,
    spec: "1.5.5: a variable byte integer has at most four bytes",
    reasonCode: M,
    bytes: new Uint8Array([
      0x30, // PUBLISH
      0x0a, // remaining length 10
      0x00, 0x01, 0x74, // topic "t"
      0x06, // property length 6
      0x0b, 0xff, 0xff, 0xff, 0xff, 0x01, // subscription identifier in five bytes
    ]),
  },
  {
    name: "PUBLISH with a property not allowed in PUBLISH",
    version: 5,
    spec: "2.2.2.2 table 2-4: session expiry interval belongs to CONNECT, CONNACK, DISCONNECT",
    reasonCode: M,
    bytes: new Uint8Array([
      0x30, // PUBLISH
      0x09, // remaining length 9
      0x00, 0x01, 0x74, // topic "t"
      0x05, // property length 5
      0x11, 0x00, 0x00, 0x00, 0x0a, // session expiry interval 10
    ]),
  },
  {
    name: "CONNECT with a will-only property among the connect properties",
    version: 5,
    spec: "3.1.2.11 connect properties; will delay interval is a will property (3.1.3.2.2)",
    reasonCode: M,
    bytes: new Uint8Array([
      0x10, // CONNECT
      0x15, // remaining length 21
      0x00, 0x04, // protocol name length
      0x4d, 0x51, 0x54, 0x54, // "MQTT"
      0x05, // protocol level 5
      0x02, // connect flags: clean start
      0x00, 0x3c, // keep alive 60 s
      0x05, // property length 5
      0x18, 0x00, 0x00, 0x00, 0x05, // will delay interval 5
      0x00, 0x03, 0x61, 0x62, 0x63, // client id "abc"
    ]),
  },
  {
    name: "CONNECT with a connect-only property among the will properties",
    version: 5,
    spec: "3.1.3.2 will properties; session expiry interval is not one",
    reasonCode: M,
    bytes: new Uint8Array([
      0x10, // CONNECT
      0x1b, // remaining length 27
      0x00, 0x04, // protocol name length
      0x4d, 0x51, 0x54, 0x54, // "MQTT"
      0x05, // protocol level 5
      0x06, // connect flags: will, clean start
      0x00, 0x3c, // keep alive 60 s
      0x00, // property length 0
      0x00, 0x03, 0x61, 0x62, 0x63, // client id "abc"
      0x05, // will property length 5
      0x11, 0x00, 0x00, 0x00, 0x01, // session expiry interval 1
      0x00, 0x01, 0x74, // will topic "t"
      0x00, 0x00, // will payload length 0
    ]),
  },
  {
    name: "PUBLISH with a repeated topic alias",
    version: 5,
    spec: "3.3.2.3.4: a topic alias more than once is a Protocol Error",
    reasonCode: P,
    bytes: new Uint8Array([
      0x30, // PUBLISH
      0x0a, // remaining length 10
      0x00, 0x01, 0x74, // topic "t"
      0x06, // property length 6
      0x23, 0x00, 0x01, // topic alias 1
      0x23, 0x00, 0x02, // topic alias 2
    ]),
  },
  {
    name: "SUBSCRIBE with a repeated subscription identifier",
    version: 5,
    spec: "3.8.2.1.2: a subscription identifier more than once is a Protocol Error",
    reasonCode: P,
    bytes: new Uint8Array([
      0x82, // SUBSCRIBE
      0x0b, // remaining length 11
      0x00, 0x01, // packet identifier 1
      0x04, // property length 4
      0x0b, 0x01, // subscription identifier 1
      0x0b, 0x02, // subscription identifier 2
      0x00, 0x01, 0x61, // topic filter "a"
      0x00, // options: QoS 0
    ]),
  },
  {
    name: "PUBACK with a repeated reason string",
    version: 5,
    spec: "3.4.2.2.2: a reason string more than once is a Protocol Error",
    reasonCode: P,
    bytes: new Uint8Array([
      0x40, // PUBACK
      0x0c, // remaining length 12
      0x00, 0x01, // packet identifier 1
      0x80, // reason code 0x80
      0x08, // property length 8
      0x1f, 0x00, 0x01, 0x61, // reason string "a"
      0x1f, 0x00, 0x01, 0x62, // reason string "b"
    ]),
  },
  {
    name: "PUBLISH with unknown property identifier 0x04",
    version: 5,
    spec: "2.2.2.2 table 2-4: 0x04 is not a property identifier",
    reasonCode: M,
    bytes: new Uint8Array([
      0x30, // PUBLISH
      0x06, // remaining length 6
      0x00, 0x01, 0x74, // topic "t"
      0x02, // property length 2
      0x04, 0x00, // unknown identifier 0x04, then a byte
    ]),
  },
  {
    name: "PUBLISH property length running past the packet",
    version: 5,
    spec: "2.2.2.1: the property length claims 5 bytes; 1 remains",
    reasonCode: M,
    bytes: new Uint8Array([
      0x30, // PUBLISH
      0x05, // remaining length 5
      0x00, 0x01, 0x74, // topic "t"
      0x05, // property length 5
      0x01, // only 1 byte
    ]),
  },
  {
    name: "PUBLISH property value running past the property block",
    version: 5,
    spec: "2.2.2.1: message expiry interval needs 4 bytes, the block has 2 left; the payload must not be read as property",
    reasonCode: M,
    bytes: new Uint8Array([
      0x30, // PUBLISH
      0x08, // remaining length 8
      0x00, 0x01, 0x74, // topic "t"
      0x03, // property length 3
      0x02, 0x00, 0x00, // message expiry interval, cut by the end of the block
      0x68, // payload "h"
    ]),
  },
  {
    name: "PUBLISH correlation data running past the property block",
    version: 5,
    spec: "1.5.6 binary data: its length claims 5 bytes, the block has 1 left (the packet has 5)",
    reasonCode: M,
    bytes: new Uint8Array([
      0x30, // PUBLISH
      0x0c, // remaining length 12
      0x00, 0x01, 0x74, // topic "t"
      0x04, // property length 4
      0x09, 0x00, 0x05, // correlation data, length 5
      0x01, // 1 byte inside the block
      0x02, 0x03, 0x04, 0x05, // payload
    ]),
  },
  {
    name: "PUBLISH user property with invalid UTF-8",
    version: 5,
    spec: "1.5.7 UTF-8 string pair; 1.5.4 [MQTT-1.5.4-1]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x30, // PUBLISH
      0x0b, // remaining length 11
      0x00, 0x01, 0x74, // topic "t"
      0x07, // property length 7
      0x26, // user property
      0x00, 0x01, 0x6b, // key "k"
      0x00, 0x01, 0xff, // value: 0xff is not UTF-8
    ]),
  },
  {
    name: "PUBLISH with topic alias 0",
    version: 5,
    spec: "3.3.2.3.4: a topic alias of 0 is a Protocol Error",
    reasonCode: P,
    bytes: new Uint8Array([
      0x30, // PUBLISH
      0x07, // remaining length 7
      0x00, 0x01, 0x74, // topic "t"
      0x03, // property length 3
      0x23, 0x00, 0x00, // topic alias 0
    ]),
  },
  {
    name: "PUBLISH with payload format indicator 2",
    version: 5,
    spec: "3.3.2.3.2: payload format indicator is 0 or 1",
    reasonCode: P,
    bytes: new Uint8Array([
      0x30, // PUBLISH
      0x06, // remaining length 6
      0x00, 0x01, 0x74, // topic "t"
      0x02, // property length 2
      0x01, 0x02, // payload format indicator 2
    ]),
  },
  {
    name: "PUBLISH with an empty topic and no topic alias",
    version: 5,
    spec: "3.3.2.3.4: a zero-length topic name without a topic alias is a Protocol Error",
    reasonCode: P,
    bytes: new Uint8Array([
      0x30, // PUBLISH
      0x03, // remaining length 3
      0x00, 0x00, // topic length 0
      0x00, // property length 0
    ]),
  },
  {
    name: "PUBLISH topic with a # wildcard",
    version: 5,
    spec: "3.3.2.1: no wildcards in a topic name [MQTT-3.3.2-2]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x30, // PUBLISH
      0x05, // remaining length 5
      0x00, 0x01, 0x23, // topic "#"
      0x00, // property length 0
      0x78, // payload "x"
    ]),
  },
  {
    name: "SUBSCRIBE with subscription identifier 0",
    version: 5,
    spec: "3.8.2.1.2: a subscription identifier of 0 is a Protocol Error",
    reasonCode: P,
    bytes: new Uint8Array([
      0x82, // SUBSCRIBE
      0x09, // remaining length 9
      0x00, 0x01, // packet identifier 1
      0x02, // property length 2
      0x0b, 0x00, // subscription identifier 0
      0x00, 0x01, 0x61, // topic filter "a"
      0x00, // options: QoS 0
    ]),
  },
  {
    name: "SUBSCRIBE requesting QoS 3",
    version: 5,
    spec: "3.8.3.1: \"It is a Protocol Error if the Maximum QoS field has the value 3\" (3.1.1 called it malformed)",
    reasonCode: P,
    bytes: new Uint8Array([
      0x82, // SUBSCRIBE
      0x07, // remaining length 7
      0x00, 0x01, // packet identifier 1
      0x00, // property length 0
      0x00, 0x01, 0x61, // topic filter "a"
      0x03, // options: maximum QoS 3
    ]),
  },
  {
    name: "SUBSCRIBE with retain handling 3",
    version: 5,
    spec: "3.8.3.1: \"It is a Protocol Error to send a Retain Handling value of 3\"",
    reasonCode: P,
    bytes: new Uint8Array([
      0x82, // SUBSCRIBE
      0x07, // remaining length 7
      0x00, 0x01, // packet identifier 1
      0x00, // property length 0
      0x00, 0x01, 0x61, // topic filter "a"
      0x30, // options: retain handling 3
    ]),
  },
  {
    name: "SUBSCRIBE with No Local on a shared subscription",
    version: 5,
    spec: "3.8.3.1: No Local on a shared subscription is a Protocol Error [MQTT-3.8.3-4]",
    reasonCode: P,
    bytes: new Uint8Array([
      0x82, // SUBSCRIBE
      0x10, // remaining length 16
      0x00, 0x01, // packet identifier 1
      0x00, // property length 0
      0x00, 0x0a, // topic filter length 10
      0x24, 0x73, 0x68, 0x61, 0x72, 0x65, 0x2f, 0x67, 0x2f, 0x64, // "$share/g/d"
      0x04, // options: QoS 0, no local
    ]),
  },
  {
    name: "SUBSCRIBE to a shared subscription without a topic filter",
    version: 5,
    spec: "4.8.2: the share name must be followed by \"/\" and a topic filter [MQTT-4.8.2-2]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x82, // SUBSCRIBE
      0x0e, // remaining length 14
      0x00, 0x01, // packet identifier 1
      0x00, // property length 0
      0x00, 0x08, // topic filter length 8
      0x24, 0x73, 0x68, 0x61, 0x72, 0x65, 0x2f, 0x67, // "$share/g"
      0x00, // options: QoS 0
    ]),
  },
  {
    name: "SUBSCRIBE with reserved option bits",
    version: 5,
    spec: "3.8.3.1: bits 7-6 are reserved [MQTT-3.8.3-5]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x82, // SUBSCRIBE
      0x07, // remaining length 7
      0x00, 0x01, // packet identifier 1
      0x00, // property length 0
      0x00, 0x01, 0x61, // topic filter "a"
      0x40, // options: reserved bit 6
    ]),
  },
  {
    name: "CONNACK with receive maximum 0",
    version: 5,
    spec: "3.2.2.3.3: a receive maximum of 0 is a Protocol Error",
    reasonCode: P,
    bytes: new Uint8Array([
      0x20, // CONNACK
      0x06, // remaining length 6
      0x00, // acknowledge flags
      0x00, // reason code 0x00
      0x03, // property length 3
      0x21, 0x00, 0x00, // receive maximum 0
    ]),
  },
  {
    name: "CONNACK with reserved flag bits",
    version: 5,
    spec: "3.2.2.1: acknowledge flag bits 7-1 are reserved [MQTT-3.2.2-1]",
    reasonCode: M,
    bytes: new Uint8Array([
      0x20, // CONNACK
      0x03, // remaining length 3
      0x80, // acknowledge flags: reserved bit 7
      0x00, // reason code 0x00
      0x00, // property length 0
    ]),
  },
  {
    name: "CONNACK with session present and a failure reason code",
    version: 5,
    spec: "3.2.2.1.1: session present must be 0 with a reason code of 0x80 or more [MQTT-3.2.2-6]",
    reasonCode: P,
    bytes: new Uint8Array([
      0x20, // CONNACK
      0x03, // remaining length 3
      0x01, // acknowledge flags: session present
      0x87, // reason code 0x87 not authorized
      0x00, // property length 0
    ]),
  },
  {
    name: "CONNACK with an undefined reason code",
    version: 5,
    spec: "3.2.2.2 table 3-1: 0x01 is not a CONNACK reason code",
    reasonCode: M,
    bytes: new Uint8Array([
      0x20, // CONNACK
      0x03, // remaining length 3
      0x00, // acknowledge flags
      0x01, // reason code 0x01
      0x00, // property length 0
    ]),
  },
  {
    name: "CONNACK without a property length",
    version: 5,
    spec: "3.2.2.3.1: the CONNACK property length is not optional",
    reasonCode: M,
    bytes: new Uint8Array([
      0x20, // CONNACK
      0x02, // remaining length 2
      0x00, // acknowledge flags
      0x00, // reason code 0x00
    ]),
  },
  {
    name: "PUBACK with an undefined reason code",
    version: 5,
    spec: "3.4.2.1 table 3-4: 0x05 is not a PUBACK reason code",
    reasonCode: M,
    bytes: new Uint8Array([
      0x40, // PUBACK
      0x03, // remaining length 3
      0x00, 0x01, // packet identifier 1
      0x05, // reason code 0x05
    ]),
  },
  {
    name: "PUBACK with packet identifier 0",
    version: 5,
    spec: "2.2.1: packet identifiers are non-zero [MQTT-2.2.1-3]",
    reasonCode: P,
    bytes: new Uint8Array([
      0x40, // PUBACK
      0x03, // remaining length 3
      0x00, 0x00, // packet identifier 0
      0x10, // reason code 0x10
    ]),
  },
  {
    name: "SUBACK without reason codes",
    version: 5,
    spec: "3.9.3: one reason code per topic filter of the SUBSCRIBE",
    reasonCode: P,
    bytes: new Uint8Array([
      0x90, // SUBACK
      0x03, // remaining length 3
      0x00, 0x01, // packet identifier 1
      0x00, // property length 0
    ]),
  },
  {
    name: "UNSUBACK without reason codes",
    version: 5,
    spec: "3.11.3: one reason code per topic filter of the UNSUBSCRIBE",
    reasonCode: P,
    bytes: new Uint8Array([
      0xb0, // UNSUBACK
      0x03, // remaining length 3
      0x00, 0x01, // packet identifier 1
      0x00, // property length 0
    ]),
  },
  {
    name: "DISCONNECT with an undefined reason code",
    version: 5,
    spec: "3.14.2.1 table 3-10: 0x01 is not a DISCONNECT reason code",
    reasonCode: M,
    bytes: new Uint8Array([
      0xe0, // DISCONNECT
      0x01, // remaining length 1
      0x01, // reason code 0x01
    ]),
  },
  {
    name: "DISCONNECT with trailing bytes",
    version: 5,
    spec: "3.14: nothing follows the properties",
    reasonCode: M,
    bytes: new Uint8Array([
      0xe0, // DISCONNECT
      0x04, // remaining length 4
      0x00, // reason code 0x00
      0x00, // property length 0
      0x00, 0x00, // two bytes too many
    ]),
  },
  {
    name: "AUTH with remaining length 1",
    version: 5,
    spec: "3.15.2.2.1: unlike DISCONNECT, AUTH has no form with a reason code and no property length",
    reasonCode: M,
    bytes: new Uint8Array([
      0xf0, // AUTH
      0x01, // remaining length 1
      0x18, // reason code 0x18
    ]),
  },
  {
    name: "AUTH with an undefined reason code",
    version: 5,
    spec: "3.15.2.1 table 3-13: 0x01 is not an AUTH reason code",
    reasonCode: M,
    bytes: new Uint8Array([
      0xf0, // AUTH
      0x02, // remaining length 2
      0x01, // reason code 0x01
      0x00, // property length 0
    ]),
  },
  {
    name: "CONNECT with protocol level 6",
    version: 5,
    spec: "3.1.2.2: unsupported protocol version [MQTT-3.1.2-2]",
    reasonCode: UNSUPPORTED_PROTOCOL_VERSION,
    bytes: new Uint8Array([
      0x10, // CONNECT
      0x10, // remaining length 16
      0x00, 0x04, // protocol name length
      0x4d, 0x51, 0x54, 0x54, // "MQTT"
      0x06, // protocol level 6
      0x02, // connect flags: clean start
      0x00, 0x3c, // keep alive 60 s
      0x00, // property length 0
      0x00, 0x03, 0x61, 0x62, 0x63, // client id "abc"
    ]),
  },
];

export const malformed: MalformedVector[] = [...v3x, ...v31, ...v5];
