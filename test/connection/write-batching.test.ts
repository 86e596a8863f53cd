/**
 * How acknowledgements and publishes batch into link writes (src/connection/driver.ts service() and flush(),
 * the engine's acknowledgement path): every packet a received chunk makes the client answer leaves in one
 * write, so a QoS 2 subscriber makes one system call per chunk the broker sent, not one per packet. Over
 * test/support/fake-host.ts: FakeLink.writes holds the bytes of each write() the client made, exactly.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ClientOptions } from "../../src/paho/client.js";
import { Client } from "../../src/paho/full-client.js";
import { CONNACK, MQTTv5, PUBCOMP, PUBLISH, PUBREC, PUBREL, type Packet, type QoS } from "../../src/codec/index.js";
import { FakeHost, type FakeLink, encode } from "../support/fake-host.js";

/** A client connected to a fake broker that only answers CONNECT, its loop running; the link's writes so far forgotten. */
function connected(options: ClientOptions = {}): { host: FakeHost; client: Client; link: FakeLink } {
  const host = new FakeHost();
  const client = new Client({ host, clientId: "c", ...options });
  host.onLink = (link) => {
    link.accept();
    link.onPacket = (p, l) => {
      if (p.name === "CONNECT") l.send({ type: CONNACK, sessionPresent: false, reasonCode: 0 });
    };
  };
  client.connectAsync("broker", 1883, 60);
  void client.loopForever();
  host.flush();
  const link = host.link;
  link.take();
  link.writes.length = 0;
  return { host, client, link };
}

const incoming = (packetId: number, qos: QoS): Packet =>
  ({ type: PUBLISH, topic: "sensors/1", payload: new Uint8Array([packetId & 0xff]), qos, retain: false, dup: false, packetId });

/** Ids 250 to 299: both bytes of the packet id in use. */
const IDS = Array.from({ length: 50 }, (_, i) => 250 + i);

/** The four bytes of an acknowledgement with reason 0 and no properties, on every protocol version. */
const ack = (firstByte: number, id: number): number[] => [firstByte, 2, id >> 8, id & 0xff];

describe("acknowledgements leave in one write per chunk received", () => {
  for (const [name, options] of [["MQTT 3.1.1", {}], ["MQTT 5", { protocol: MQTTv5 }]] as const) {
    test(`${name}: 50 QoS 2 PUBLISHes in one chunk make one write of 50 PUBRECs; their 50 PUBRELs in one chunk, one write of 50 PUBCOMPs`, () => {
      const { host, client, link } = connected(options);
      const received: number[] = [];
      client.onMessage = (_c, _u, m) => received.push(m.mid);
      link.send(...IDS.map((id) => incoming(id, 2)));
      host.flush();
      assert.deepEqual(received, IDS);
      assert.deepEqual(link.writes, [IDS.flatMap((id) => ack(0x50, id))]);
      link.send(...IDS.map((id): Packet => ({ type: PUBREL, packetId: id })));
      host.flush();
      assert.deepEqual(link.writes.slice(1), [IDS.flatMap((id) => ack(0x70, id))]);
      client.disconnect();
    });
  }

  test("a chunk mixing PUBLISHes and the PUBRELs of earlier ones, as a broker streams them: one write, answers in the order asked", () => {
    const { host, client, link } = connected();
    let received = 0;
    client.onMessage = () => received++;
    link.send(...IDS.slice(0, 10).map((id) => incoming(id, 2)));
    host.flush();
    link.writes.length = 0;
    const mixed: Packet[] = [];
    const expected: number[] = [];
    for (let i = 0; i < 10; i++) {
      mixed.push(incoming(IDS[10 + i]!, 2), { type: PUBREL, packetId: IDS[i]! });
      expected.push(...ack(0x50, IDS[10 + i]!), ...ack(0x70, IDS[i]!));
    }
    link.send(...mixed);
    host.flush();
    assert.equal(received, 20);
    assert.deepEqual(link.writes, [expected]);
    client.disconnect();
  });

  test("QoS 1: 50 PUBLISHes in one chunk make one write of 50 PUBACKs", () => {
    const { host, client, link } = connected();
    let received = 0;
    client.onMessage = () => received++;
    link.send(...IDS.map((id) => incoming(id, 1)));
    host.flush();
    assert.equal(received, 50);
    assert.deepEqual(link.writes, [IDS.flatMap((id) => ack(0x40, id))]);
    client.disconnect();
  });

  test("a PUBLISH cut across two chunks is acknowledged with the chunk that completes it", () => {
    const { host, client, link } = connected();
    let received = 0;
    client.onMessage = () => received++;
    // Three PUBLISHes sent as two chunks, the cut inside the second packet.
    const all = Uint8Array.from(IDS.slice(0, 3).flatMap((id) => Array.from(encode(4, incoming(id, 2)))));
    const cut = Math.floor(all.length / 2);
    link.sendBytes(all.subarray(0, cut));
    host.flush();
    link.sendBytes(all.subarray(cut));
    host.flush();
    assert.equal(received, 3);
    assert.deepEqual(link.writes, [ack(0x50, IDS[0]!), [...ack(0x50, IDS[1]!), ...ack(0x50, IDS[2]!)]]);
    client.disconnect();
  });
});

describe("a QoS 2 publisher's writes", () => {
  test("20 publishes in a burst leave in one write; 20 PUBRECs in one chunk make one write of 20 PUBRELs; 20 PUBCOMPs whose onPublish publishes again make one write of 20 PUBLISHes", () => {
    const { host, client, link } = connected();
    client.maxInflightMessagesSet(20);
    const mids: number[] = [];
    for (let i = 0; i < 20; i++) mids.push(client.publish("out/1", "x", 2).mid);
    host.flush();
    assert.equal(link.writes.length, 1);
    assert.deepEqual(link.take().map((p) => [p.name, p.packetId]), mids.map((id) => ["PUBLISH", id]));
    link.send(...mids.map((id): Packet => ({ type: PUBREC, packetId: id })));
    host.flush();
    assert.deepEqual(link.writes.slice(1), [mids.flatMap((id) => ack(0x62, id))]);
    link.take();
    const again: number[] = [];
    client.onPublish = () => again.push(client.publish("out/1", "y", 2).mid);
    link.send(...mids.map((id): Packet => ({ type: PUBCOMP, packetId: id })));
    host.flush();
    assert.equal(again.length, 20);
    assert.equal(link.writes.length, 3, "the 20 new PUBLISHes leave in one write");
    assert.deepEqual(link.take().map((p) => [p.name, p.packetId]), again.map((id) => ["PUBLISH", id]));
    client.disconnect();
  });
});
