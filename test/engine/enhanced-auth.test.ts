/**
 * src/engine/enhanced-auth.ts: which AUTH a broker may send (section 4.12), and the bytes of ours.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Encoder } from "../../src/codec/mqtt5.js";
import { ENHANCED_AUTH } from "../../src/engine/enhanced-auth.js";

const { problem, packet } = ENHANCED_AUTH;

test("the broker's AUTH: allowed with our method (0x18 any time, 0x00 once connected), a Protocol Error otherwise", () => {
  const ours = { authenticationMethod: "M" };
  assert.equal(problem("M", 0x18, ours, false), undefined);
  assert.equal(problem("M", 0x18, ours, true), undefined);
  assert.equal(problem("M", 0x00, ours, true), undefined);
  assert.match(problem(undefined, 0x18, ours, false)!, /MQTT-4\.12\.0-1/);
  assert.match(problem("M", 0x18, { authenticationMethod: "N" }, false)!, /another authentication method.*MQTT-4\.12\.0-5/);
  assert.match(problem("M", 0x18, undefined, false)!, /MQTT-4\.12\.0-5/);
  assert.match(problem("M", 0x19, ours, true)!, /0x19 is not the broker's/);
  assert.match(problem("M", 0x00, ours, false)!, /0x0 is not the broker's/);
});

test("our AUTH: the method, and the data when there is some, in exact bytes", () => {
  const encoder = new Encoder(5);
  // 0xF0, remaining length 6: reason 0x18, properties length 4: 0x15 (Authentication Method) "M".
  assert.deepEqual([...encoder.encode(packet("M", 0x18, undefined))], [0xf0, 0x06, 0x18, 0x04, 0x15, 0x00, 0x01, 0x4d]);
  // Re-authentication with data: 0x16 (Authentication Data) 2 bytes.
  assert.deepEqual([...encoder.encode(packet("M", 0x19, new Uint8Array([1, 2])))],
    [0xf0, 0x0b, 0x19, 0x09, 0x15, 0x00, 0x01, 0x4d, 0x16, 0x00, 0x02, 0x01, 0x02]);
});
