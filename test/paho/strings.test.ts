/**
 * src/paho/strings: Paho's texts for CONNACK return codes and MQTT_ERR_* results, and the MQTT 5 reason code
 * names. Every code the spec defines (table 2.6), and every code the codec accepts in any packet, is named.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as C from "../../src/paho/constants.js";
import { AUTH_CODES, CONNACK_CODES, DISCONNECT_CODES, PUBACK_CODES, PUBREL_CODES, SUBACK_CODES, UNSUBACK_CODES } from "../../src/codec/reason-codes.js";
import { CONNACK, DISCONNECT, PUBACK, SUBACK } from "../../src/codec/constants.js";
import { connackString, errorString, reasonCodeString } from "../../src/paho/strings.js";
import { Client, MQTTv311, MQTTv5, type ProtocolVersion } from "../../hosts/node/index.js";
import { type Broker, startMosquitto } from "../support/mosquitto.js";
import { within } from "../support/wait.js";

/** MQTT 5.0 table 2.6. */
const SPEC_CODES = [0x00, 0x01, 0x02, 0x04, 0x10, 0x11, 0x18, 0x19, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
  0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a,
  0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2];

test("connackString: Paho's texts for 3.x return codes", () => {
  assert.equal(connackString(0), "Connection Accepted.");
  assert.equal(connackString(1), "Connection Refused: unacceptable protocol version.");
  assert.equal(connackString(2), "Connection Refused: identifier rejected.");
  assert.equal(connackString(3), "Connection Refused: broker unavailable.");
  assert.equal(connackString(4), "Connection Refused: bad user name or password.");
  assert.equal(connackString(5), "Connection Refused: not authorised.");
  for (const code of [6, 0x7f, 0xa3, 255, -1, 1.5, NaN]) assert.equal(connackString(code), "Connection Refused: unknown reason.");
});

test("errorString: Paho's texts for every MQTT_ERR_*", () => {
  assert.equal(errorString(C.MQTT_ERR_SUCCESS), "No error.");
  assert.equal(errorString(C.MQTT_ERR_NOMEM), "Out of memory.");
  assert.equal(errorString(C.MQTT_ERR_PROTOCOL), "A network protocol error occurred when communicating with the broker.");
  assert.equal(errorString(C.MQTT_ERR_NO_CONN), "The client is not currently connected.");
  assert.equal(errorString(C.MQTT_ERR_CONN_LOST), "The connection was lost.");
  assert.equal(errorString(C.MQTT_ERR_QUEUE_SIZE), "Message queue full.");
  assert.equal(errorString(C.MQTT_ERR_KEEPALIVE), "Client or broker did not communicate in the keepalive interval.");
  const constants = Object.entries(C).filter(([name]) => name.startsWith("MQTT_ERR_"));
  assert.equal(constants.length, 17);
  const texts = new Set<string>();
  for (const [name, value] of constants) {
    const text = errorString(value);
    texts.add(text);
    if (name !== "MQTT_ERR_UNKNOWN") assert.notEqual(text, "Unknown error.", name);
  }
  assert.equal(texts.size, 17, "every MQTT_ERR_* has its own text");
  for (const err of [17, 100, -1, 0.5]) assert.equal(errorString(err), "Unknown error.");
});

test("reasonCodeString: exact names", () => {
  assert.equal(reasonCodeString(0x00), "Success");
  assert.equal(reasonCodeString(0x00, PUBACK), "Success");
  assert.equal(reasonCodeString(0x00, DISCONNECT), "Normal disconnection");
  assert.equal(reasonCodeString(0x00, SUBACK), "Granted QoS 0");
  assert.equal(reasonCodeString(0x01, SUBACK), "Granted QoS 1");
  assert.equal(reasonCodeString(0x02, SUBACK), "Granted QoS 2");
  assert.equal(reasonCodeString(0x04, DISCONNECT), "Disconnect with will message");
  assert.equal(reasonCodeString(0x10), "No matching subscribers");
  assert.equal(reasonCodeString(0x11), "No subscription existed");
  assert.equal(reasonCodeString(0x18), "Continue authentication");
  assert.equal(reasonCodeString(0x19), "Re-authenticate");
  assert.equal(reasonCodeString(0x80), "Unspecified error");
  assert.equal(reasonCodeString(0x87), "Not authorized");
  assert.equal(reasonCodeString(0x8e), "Session taken over");
  assert.equal(reasonCodeString(0x97), "Quota exceeded");
  assert.equal(reasonCodeString(0xa2), "Wildcard subscriptions not supported");
});

test("reasonCodeString: a 3.x CONNACK return code is named as connackString names it", () => {
  for (let code = 1; code <= 5; code++) assert.equal(reasonCodeString(code, CONNACK), connackString(code));
  assert.equal(reasonCodeString(0x00, CONNACK), "Success");
  assert.equal(reasonCodeString(0x86, CONNACK), "Bad user name or password");
});

test("one call names what any callback reports, whatever the protocol (3.x CONNACK 1-5, MQTT 5 codes)", () => {
  // onConnect on 3.1.1 reports 5 for "not authorised", on MQTT 5 it reports 0x87: both texts say so.
  assert.equal(reasonCodeString(5), "Connection Refused: not authorised.");
  assert.equal(reasonCodeString(3), "Connection Refused: broker unavailable.");
  assert.equal(connackString(0x87), "Connection Refused: Not authorized.");
  assert.equal(connackString(135), "Connection Refused: Not authorized.");
  assert.equal(connackString(0x80), "Connection Refused: Unspecified error.");
  // 1, 2 and 4 mean one thing in a 3.x CONNACK and another in MQTT 5 packets: without the packet, both.
  assert.equal(reasonCodeString(1), "Granted QoS 1; in an MQTT 3.x CONNACK: Connection Refused: unacceptable protocol version.");
  assert.equal(reasonCodeString(2), "Granted QoS 2; in an MQTT 3.x CONNACK: Connection Refused: identifier rejected.");
  assert.equal(reasonCodeString(4), "Disconnect with will message; in an MQTT 3.x CONNACK: Connection Refused: bad user name or password.");
  for (const code of [0x80, 0x84, 0x85, 0x86, 0x87, 0x88]) assert.equal(connackString(code), `Connection Refused: ${reasonCodeString(code)}.`);
});

test("reasonCodeString: unknown codes", () => {
  assert.equal(reasonCodeString(0x03, SUBACK), "Unknown reason code 0x03");
  assert.equal(reasonCodeString(0x06), "Unknown reason code 0x06");
  assert.equal(reasonCodeString(0xa3), "Unknown reason code 0xa3");
  assert.equal(reasonCodeString(0xff), "Unknown reason code 0xff");
  assert.equal(reasonCodeString(0x100), "Unknown reason code 0x100");
  assert.equal(reasonCodeString(-1), "Unknown reason code -1");
});

test("reasonCodeString: every defined code has a name of its own", () => {
  const names = new Set<string>();
  for (const code of SPEC_CODES) {
    const name = reasonCodeString(code, code === 0 ? undefined : PUBACK);
    assert.doesNotMatch(name, /unknown/i, `0x${code.toString(16)}`);
    names.add(name);
  }
  assert.equal(names.size, SPEC_CODES.length, "no two codes share a name");
  // Every code the codec accepts in some packet is one the spec defines, hence named.
  for (const set of [CONNACK_CODES, PUBACK_CODES, PUBREL_CODES, SUBACK_CODES, UNSUBACK_CODES, DISCONNECT_CODES, AUTH_CODES]) {
    set.forEach((allowed, code) => {
      if (allowed === 1) assert.ok(SPEC_CODES.includes(code), `codec accepts undefined code 0x${code.toString(16)}`);
    });
  }
  // And nothing outside the table is named.
  for (let code = 0; code < 256; code++) {
    if (!SPEC_CODES.includes(code)) assert.match(reasonCodeString(code, PUBACK), /^Unknown reason code 0x[0-9a-f]{2}$/);
  }
});

describe("against mosquitto: the code onConnect reports for a refusal is named right by either call, on any protocol", () => {
  let broker: Broker;
  before(async () => {
    broker = await startMosquitto({ config: "allow_anonymous false" });
  });
  after(() => broker?.stop());

  for (const [protocol, expected] of [[MQTTv311, 5], [MQTTv5, 0x87]] as Array<[ProtocolVersion, number]>) {
    test(`MQTT ${protocol === MQTTv5 ? "5" : "3.1.1"}: refused as anonymous, code ${expected}`, async () => {
      const client = new Client({ protocol });
      const refused = new Promise<number>((resolve) => (client.onConnect = (_c, _u, _f, reasonCode) => resolve(reasonCode)));
      await client.connect(broker.host, broker.port);
      client.loopStart();
      try {
        const code = await within(refused, 5000, "CONNACK");
        assert.equal(code, expected);
        assert.match(reasonCodeString(code), /not authori[sz]ed/i);
        assert.match(connackString(code), /^Connection Refused: not authori[sz]ed\.$/i);
      } finally {
        client.disconnect();
        client.loopStop();
      }
    });
  }
});
