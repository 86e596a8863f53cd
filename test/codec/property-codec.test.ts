/**
 * The codec without its MQTT 5 part (src/codec/encoder.ts and decoder.ts handed NO_PROPERTIES, as in a
 * 3.1.1-only build) encodes and decodes MQTT 3.1.1 as the full codec does, and refuses property blocks with
 * an error that says MQTT 5 is not built in; the codec's public Encoder and Decoder have it built in.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { PUBLISH } from "../../src/codec/constants.js";
import { Decoder as CoreDecoder } from "../../src/codec/decoder.js";
import { Encoder as CoreEncoder } from "../../src/codec/encoder.js";
import { MqttProtocolError } from "../../src/codec/errors.js";
import { Decoder, Encoder, type PublishView } from "../../src/codec/index.js";
import type { PublishPacket } from "../../src/codec/packet-types.js";

const NOT_BUILT = /MQTT 5 is not part of this build/;

function encode(e: CoreEncoder, p: PublishPacket): Uint8Array {
  const out = new Uint8Array(e.measure(p));
  e.write(out, 0);
  return out;
}

const publish = (properties?: PublishPacket["properties"]): PublishPacket =>
  ({ type: PUBLISH, topic: "a/b", payload: new Uint8Array([1, 2, 3]), qos: 1, retain: false, dup: false, packetId: 7, properties });

test("MQTT 3.1.1 without the MQTT 5 part: the same bytes as the full codec, both ways", () => {
  const bytes = encode(new CoreEncoder(4), publish());
  assert.deepEqual(bytes, encode(new Encoder(4), publish()));
  const d = new CoreDecoder({ maxPacketSize: 1024 });
  d.feed(bytes);
  const p = d.next() as PublishView;
  assert.equal(p.topic, "a/b");
  assert.deepEqual([...p.payload], [1, 2, 3]);
  assert.equal(p.properties, undefined);
});

test("without the MQTT 5 part, property blocks are refused both ways, saying why", () => {
  assert.throws(() => new CoreEncoder(5).measure(publish({ contentType: "text/plain" })), (e: Error) => e instanceof RangeError && NOT_BUILT.test(e.message));
  const v5 = encode(new Encoder(5), publish({ contentType: "text/plain" }));
  const d = new CoreDecoder({ maxPacketSize: 1024, version: 5 });
  d.feed(v5);
  assert.throws(() => d.next(), (e: Error) => e instanceof MqttProtocolError && NOT_BUILT.test(e.message));
  // The public codec reads it.
  const full = new Decoder({ maxPacketSize: 1024, version: 5 });
  full.feed(v5);
  assert.deepEqual((full.next() as PublishView).properties, { contentType: "text/plain" });
});
