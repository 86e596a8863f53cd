/**
 * The ECMA-419 client class (src/ecma419/) over test/support/fake-host.ts: the test plays the broker on
 * the fake link, so each rule of the pattern is checked on Node without a socket; the whole class inside
 * XS against mosquitto is test/hosts/moddable/xs-client.test.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CONNACK, PUBACK, PUBCOMP, PUBLISH, PUBREC, SUBACK } from "../../src/codec/constants.js";
import { Ecma419Client, type Ecma419ControlMessage, type Ecma419Options } from "../../src/ecma419/client.js";
import { FakeHost, type FakeLink } from "../support/fake-host.js";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

interface Seen { controls: Ecma419ControlMessage[]; readable: Array<{ count: number; topic: string | undefined }>; closed: number; errors: string[] }

/** A client connected to the fake broker (CONNACK accepted), and what its callbacks saw. */
function connected(options: Partial<Ecma419Options> = {}): { client: Ecma419Client; host: FakeHost; link: FakeLink; seen: Seen } {
  const host = new FakeHost();
  const seen: Seen = { controls: [], readable: [], closed: 0, errors: [] };
  const client = new Ecma419Client({
    host: "broker", platform: host, id: "e419",
    onControl: (m) => seen.controls.push(m),
    onReadable: (count, o) => seen.readable.push({ count, topic: o.topic }),
    onClose: () => seen.closed++,
    onError: (e) => seen.errors.push(e.message),
    ...options,
  });
  const link = host.link;
  link.accept();
  host.flush();
  assert.deepEqual(link.takeNames(), ["CONNECT"]);
  link.send({ type: CONNACK, sessionPresent: false, reasonCode: 0 });
  host.flush();
  return { client, host, link, seen };
}

test("CONNACK is reported to onControl as operation CONNACK with id 0", () => {
  const { seen } = connected();
  assert.deepEqual(seen.controls, [{ operation: Ecma419Client.CONNACK, id: 0 }]);
});

test("a QoS 1 publish completes as PUBACK and a QoS 2 one as PUBCOMP, each with its packet id", () => {
  const { client, host, link, seen } = connected();
  client.write(text("one"), { topic: "t/1", QoS: 1 });
  client.write(text("two"), { topic: "t/2", QoS: 2 });
  host.flush();
  const [p1, p2] = link.take();
  assert.deepEqual([p1!.name, p1!.qos, p2!.name, p2!.qos], ["PUBLISH", 1, "PUBLISH", 2]);
  link.send({ type: PUBACK, packetId: p1!.packetId! }, { type: PUBREC, packetId: p2!.packetId! });
  host.flush();
  assert.deepEqual(link.takeNames(), ["PUBREL"]);
  link.send({ type: PUBCOMP, packetId: p2!.packetId! });
  host.flush();
  assert.deepEqual(seen.controls.slice(1), [
    { operation: Ecma419Client.PUBACK, id: p1!.packetId },
    { operation: Ecma419Client.PUBCOMP, id: p2!.packetId },
  ]);
});

test("reading is pull-style: an unread payload holds back the next message and its acknowledgement until read()", () => {
  const { client, host, link, seen } = connected({ onReadable: undefined });
  client.write(null, { operation: Ecma419Client.SUBSCRIBE, items: [{ topic: "in/#", QoS: 1 }] });
  host.flush();
  const [sub] = link.take();
  link.send({ type: SUBACK, packetId: sub!.packetId!, reasonCodes: [1] });
  host.flush();
  assert.deepEqual(seen.controls[1], { operation: Ecma419Client.SUBACK, id: sub!.packetId, payload: new Uint8Array([1]) });
  assert.equal(client.read(), undefined, "nothing to read yet");
  link.send(
    { type: PUBLISH, topic: "in/a", payload: text("first"), qos: 1, retain: false, dup: false, packetId: 7 },
    { type: PUBLISH, topic: "in/b", payload: text("second"), qos: 1, retain: false, dup: false, packetId: 8 },
  );
  host.flush();
  // No onReadable: the first payload waits, unread, and nothing more is read or acknowledged.
  assert.deepEqual(link.takeNames(), []);
  assert.equal(new TextDecoder().decode(client.read(2)), "fi");
  assert.equal(new TextDecoder().decode(client.read()), "rst");
  host.flush();
  const acks = link.take();
  assert.deepEqual(acks.map((p) => [p.name, p.packetId]), [["PUBACK", 7]]);
  assert.equal(new TextDecoder().decode(client.read()), "second");
  host.flush();
  assert.deepEqual(link.take().map((p) => [p.name, p.packetId]), [["PUBACK", 8]]);
});

test("a payload announced longer than its first write() goes out once the fragments complete it", () => {
  const { client, host, link } = connected();
  client.write(text("he"), { topic: "frag", QoS: 0, byteLength: 5 });
  host.flush();
  assert.deepEqual(link.takeNames(), []);
  assert.throws(() => client.write(text("x"), { topic: "other" }), /only its data may follow/);
  client.write(text("llo"));
  host.flush();
  const [p] = link.take();
  assert.deepEqual([p!.name, p!.topic, new TextDecoder().decode(Uint8Array.from(p!.payload!))], ["PUBLISH", "frag", "hello"]);
});

test("DISCONNECT is written, the link closes once it has drained, and onClose runs once", () => {
  const { client, host, link, seen } = connected();
  client.write(null, { operation: Ecma419Client.DISCONNECT });
  host.flush();
  assert.deepEqual(link.takeNames(), ["DISCONNECT"]);
  assert.equal(link.endedBy, "close");
  assert.equal(seen.closed, 1);
  assert.deepEqual(seen.errors, []);
});
