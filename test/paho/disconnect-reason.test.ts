/**
 * The reason code onDisconnect reports (src/paho/disconnect-reason.ts), Paho's way, for each way a
 * connection ends: pure, so each case states how it ended and reads the code.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ClosedEvent } from "../../src/engine/engine.js";
import { MQTT_ERR_CONN_LOST, MQTT_ERR_CONN_REFUSED, MQTT_ERR_KEEPALIVE, MQTT_ERR_PROTOCOL, MQTT_ERR_SUCCESS } from "../../src/paho/constants.js";
import { disconnectReasonCode } from "../../src/paho/disconnect-reason.js";

function closed(rc: number, reasonCode: number, fromServer = false): ClosedEvent {
  return { type: "closed", rc, reasonCode, properties: undefined, reason: "test", fromServer };
}

test("disconnect() with no packet to say otherwise: 0x00; a link that just went: 0x80", () => {
  assert.equal(disconnectReasonCode(undefined, true, false), 0x00);
  assert.equal(disconnectReasonCode(undefined, false, false), 0x80);
});

test("the broker's DISCONNECT, and a CONNACK refusal, report their own reason code", () => {
  assert.equal(disconnectReasonCode(closed(MQTT_ERR_CONN_LOST, 0x8b, true), false, false), 0x8b);
  assert.equal(disconnectReasonCode(closed(MQTT_ERR_CONN_LOST, 0x00, true), false, false), 0x00);
  assert.equal(disconnectReasonCode(closed(MQTT_ERR_CONN_REFUSED, 0x87), false, true), 0x87);
});

test("a keepalive timeout is 0x8D; any other failure keeps the code we sent, or 0x80 when it had none", () => {
  assert.equal(disconnectReasonCode(closed(MQTT_ERR_KEEPALIVE, 0), false, false), 0x8d);
  assert.equal(disconnectReasonCode(closed(MQTT_ERR_PROTOCOL, 0x82), false, false), 0x82);
  assert.equal(disconnectReasonCode(closed(MQTT_ERR_PROTOCOL, 0), false, false), 0x80);
  assert.equal(disconnectReasonCode(closed(MQTT_ERR_SUCCESS, 0), false, false), 0x00, "a DISCONNECT that did not drain still ended as asked");
});
