/**
 * MQTT 3.1 vectors (IBM/Eurotech MQTT V3.1 Protocol Specification, 2010; section numbers are its own).
 * Only CONNECT differs on the wire from 3.1.1: protocol name "MQIsdp", level 3. Every other packet is the
 * 3.1.1 vector of v311.ts that 3.1 already had, relabelled version 3.
 */
import { CONNECT } from "../../../src/codec/index.js";
import { common3x } from "./v311.js";
import { text, type Vector } from "./vector.js";

const connect: Vector[] = [
  {
    name: "CONNECT MQIsdp minimal",
    version: 3,
    spec: "3.1 CONNECT: protocol name \"MQIsdp\", protocol version 3, clean session, keep alive timer",
    bytes: new Uint8Array([
      0x10, // CONNECT
      0x11, // remaining length 17
      0x00, 0x06, // protocol name length
      0x4d, 0x51, 0x49, 0x73, 0x64, 0x70, // "MQIsdp"
      0x03, // protocol version 3
      0x02, // connect flags: clean session
      0x00, 0x3c, // keep alive 60 s
      0x00, 0x03, // client id length
      0x61, 0x62, 0x63, // "abc"
    ]),
    packet: { type: CONNECT, protocolVersion: 3, clientId: "abc", cleanStart: true, keepAlive: 60 },
  },
  {
    name: "CONNECT MQIsdp with will, username and password",
    version: 3,
    spec: "3.1 CONNECT: will flag, will QoS, will retain, user name and password flags; payload order",
    bytes: new Uint8Array([
      0x10, // CONNECT
      0x25, // remaining length 37
      0x00, 0x06, // protocol name length
      0x4d, 0x51, 0x49, 0x73, 0x64, 0x70, // "MQIsdp"
      0x03, // protocol version 3
      0xee, // connect flags: user name, password, will retain, will QoS 1, will, clean session
      0x00, 0x0a, // keep alive 10 s
      0x00, 0x03, // client id length
      0x63, 0x6c, 0x69, // "cli"
      0x00, 0x03, // will topic length
      0x77, 0x2f, 0x74, // "w/t"
      0x00, 0x03, // will message length
      0x62, 0x79, 0x65, // "bye"
      0x00, 0x04, // user name length
      0x75, 0x73, 0x65, 0x72, // "user"
      0x00, 0x02, // password length
      0x70, 0x77, // "pw"
    ]),
    packet: {
      type: CONNECT, protocolVersion: 3, clientId: "cli", cleanStart: true, keepAlive: 10,
      will: { topic: "w/t", payload: text("bye"), qos: 1, retain: true },
      username: "user", password: text("pw"),
    },
  },
];

export const v31: Vector[] = [...connect, ...common3x.map((v): Vector => ({ ...v, version: 3 }))];
