/**
 * The test support code itself (test/support/): a real mosquitto reached through the proxy by a raw socket
 * speaking our codec, the proxy's stall/resume/cut, mosquitto's pause/restart/persistence, and the scripted
 * broker answering a CONNECT with what the script says.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { type AddressInfo, type Socket, connect, createServer } from "node:net";
import { join } from "node:path";
import { CONNACK, CONNECT, Decoder, DISCONNECT, Encoder, PINGREQ, PINGRESP, PUBLISH, SUBACK, SUBSCRIBE,
  type DecodedPacket, type Packet, type ProtocolVersion } from "../../src/codec/index.js";
import { type Broker, startMosquitto } from "./mosquitto.js";
import { type Proxy, startProxy } from "./proxy.js";
import { type ScriptedBroker, startScriptedBroker } from "./scripted-broker.js";
import { sleep, until } from "./wait.js";

interface Received {
  type: number;
  reasonCode?: number | undefined;
  sessionPresent?: boolean;
  reasonCodes?: number[];
  properties?: unknown;
  topic?: string;
  payload?: number[];
}

/** A raw MQTT client: our Encoder out, our Decoder in, packets queued as they arrive. */
class RawClient {
  readonly socket: Socket;
  private readonly encoder: Encoder;
  private readonly decoder: Decoder;
  private readonly queue: Received[] = [];
  private wake: (() => void) | null = null;
  closed = false;

  private constructor(socket: Socket, version: ProtocolVersion) {
    this.socket = socket;
    this.encoder = new Encoder(version);
    this.decoder = new Decoder({ maxPacketSize: 1 << 16, version });
    socket.on("data", (chunk: Buffer) => {
      this.decoder.feed(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      for (let p: DecodedPacket | null = this.decoder.next(); p !== null; p = this.decoder.next()) {
        const r: Received = { type: p.type };
        if ("reasonCode" in p) r.reasonCode = p.reasonCode;
        if ("sessionPresent" in p) r.sessionPresent = p.sessionPresent;
        if ("reasonCodes" in p) r.reasonCodes = [...p.reasonCodes];
        if ("properties" in p) r.properties = p.properties;
        if (p.type === PUBLISH) {
          r.topic = p.topic;
          r.payload = Array.from(p.payload);
        }
        this.queue.push(r);
      }
      this.wake?.();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
      this.wake?.();
    });
  }

  static open(port: number, version: ProtocolVersion = 4): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port });
      socket.once("connect", () => resolve(new RawClient(socket, version)));
      socket.once("error", reject);
    });
  }

  send(p: Packet): void {
    this.socket.write(this.encoder.encode(p));
  }

  /** The next packet, or null if none arrives within ms (or the socket closed). */
  async next(ms = 3000): Promise<Received | null> {
    const deadline = Date.now() + ms;
    while (this.queue.length === 0 && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
    return this.queue.shift() ?? null;
  }

  async waitClosed(ms = 3000): Promise<boolean> {
    while (!this.closed && (await this.next(ms)) !== null) { /* drain */ }
    return this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

const connectPacket = (clientId: string, cleanStart = true, version: ProtocolVersion = 4): Packet =>
  ({ type: CONNECT, protocolVersion: version, clientId, cleanStart, keepAlive: 30 });

describe("mosquitto through the proxy", () => {
  let broker: Broker;
  let proxy: Proxy;
  before(async () => {
    broker = await startMosquitto({ maxInflightMessages: 100, maxQueuedMessages: 5000 });
    proxy = await startProxy(broker.port);
  });
  after(async () => {
    await proxy?.close();
    await broker?.stop();
  });

  test("a 3.1.1 CONNECT gets CONNACK 0", async () => {
    assert.equal(broker.host, "127.0.0.1");
    assert.notEqual(proxy.port, broker.port);
    const client = await RawClient.open(proxy.port);
    client.send(connectPacket("smoke-311"));
    const connack = await client.next();
    assert.equal(connack?.type, CONNACK);
    assert.equal(connack?.reasonCode, 0);
    assert.equal(connack?.sessionPresent, false);
    assert.equal(proxy.connections, 1);
    client.send({ type: DISCONNECT });
    assert.equal(await client.waitClosed(), true, "mosquitto closes after DISCONNECT");
  });

  test("stall holds bytes, resume delivers them, cut drops the link", async () => {
    const client = await RawClient.open(proxy.port);
    client.send(connectPacket("smoke-stall"));
    assert.equal((await client.next())?.type, CONNACK);
    proxy.stall();
    client.send({ type: PINGREQ });
    assert.equal(await client.next(300), null, "nothing passes a stalled proxy");
    proxy.resume();
    assert.equal((await client.next())?.type, PINGRESP);
    proxy.cut();
    assert.equal(await client.waitClosed(), true);
    assert.equal(proxy.connections, 0);
  });

  test("a v5 CONNECT: mosquitto advertises the configured Receive Maximum", async () => {
    const client = await RawClient.open(proxy.port, 5);
    client.send(connectPacket("smoke-v5", true, 5));
    const connack = await client.next();
    assert.equal(connack?.type, CONNACK);
    assert.equal(connack?.reasonCode, 0);
    assert.equal((connack?.properties as { receiveMaximum?: number } | undefined)?.receiveMaximum, 100);
    client.destroy();
  });

  test("pause freezes the broker, resume thaws it", async () => {
    const client = await RawClient.open(broker.port);
    broker.pause();
    client.send(connectPacket("smoke-pause"));
    assert.equal(await client.next(300), null, "a paused broker answers nothing");
    broker.resume();
    assert.equal((await client.next())?.type, CONNACK);
    client.destroy();
  });
});

test("the proxy holds a FIN that arrives while stalled, and delivers it on resume", async () => {
  // The target ends the link while the proxy is stalled (as a broker does when its keepalive gives up on a
  // silent link): the client must hear nothing until resume(), then the end.
  const ends: Socket[] = [];
  const target = createServer({ allowHalfOpen: true }, (socket) => ends.push(socket));
  await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
  const proxy = await startProxy((target.address() as AddressInfo).port);
  try {
    const client = connect({ port: proxy.port, host: "127.0.0.1", allowHalfOpen: true });
    let ended = false;
    client.on("end", () => { ended = true; });
    await new Promise<void>((resolve) => client.once("connect", resolve));
    await until(() => ends.length === 1, 1000, "the proxy's link to the target");
    proxy.stall();
    ends[0]!.end();
    await sleep(300);
    assert.equal(ended, false, "a stalled proxy passes no FIN");
    proxy.resume();
    await until(() => ended, 1000, "the FIN, on resume");
    client.destroy();
  } finally {
    await proxy.close();
    await new Promise<void>((resolve) => target.close(() => resolve()));
  }
});

test("mosquitto restart keeps port and persisted sessions", async () => {
  const broker = await startMosquitto({ persistence: true });
  try {
    const port = broker.port;
    const pid = broker.process.pid;
    let client = await RawClient.open(port);
    client.send(connectPacket("smoke-persist", false));
    assert.equal((await client.next())?.sessionPresent, false);
    client.send({ type: SUBSCRIBE, packetId: 1, subscriptions: [{ topicFilter: "smoke/#", qos: 1 }] });
    assert.deepEqual((await client.next())?.reasonCodes, [1]);
    client.send({ type: DISCONNECT });
    await client.waitClosed();

    await broker.restart();
    assert.equal(broker.port, port);
    assert.notEqual(broker.process.pid, pid);
    assert.ok(existsSync(join(broker.dir, "mosquitto.db")), "mosquitto wrote its persistence file in dir");
    client = await RawClient.open(port);
    client.send(connectPacket("smoke-persist", false));
    const connack = await client.next();
    assert.equal(connack?.type, CONNACK);
    assert.equal(connack?.sessionPresent, true, "the session survived the restart");
    client.destroy();
  } finally {
    await broker.stop();
  }
  assert.equal(existsSync(broker.dir), false, "stop() removes the folder it made");
});

test("a bad config fails fast with mosquitto's own words", async () => {
  await assert.rejects(startMosquitto({ config: "no_such_option 1" }), /no_such_option|Unknown configuration/i);
});

describe("scripted broker", () => {
  let broker: ScriptedBroker;
  before(async () => {
    broker = await startScriptedBroker(async (conn) => {
      const connect = await conn.next();
      if (connect?.type !== CONNECT) throw new Error(`expected CONNECT, got ${JSON.stringify(connect)}`);
      if (connect.clientId === "raw") {
        await conn.sendRaw(new Uint8Array([0x20, 0x02, 0x01, 0x00])); // CONNACK, session present, 3.x accepted
      } else {
        await conn.send({ type: CONNACK, sessionPresent: true, reasonCode: 0,
          properties: conn.version === 5 ? { receiveMaximum: 7, assignedClientIdentifier: "given" } : undefined });
      }
      for await (const p of conn) {
        if (p.type === PUBLISH) {
          // Echo it back: checks the copy outlived the decoder's view.
          await conn.send({ ...p, packetId: p.qos > 0 ? p.packetId : 0, dup: false });
        } else if (p.type === SUBSCRIBE) {
          await conn.send({ type: SUBACK, packetId: p.packetId, reasonCodes: p.subscriptions.map((s) => s.qos) });
        }
      }
    });
  });
  after(async () => {
    await broker?.close();
  });

  test("answers a 3.1.1 CONNECT with the scripted CONNACK", async () => {
    const client = await RawClient.open(broker.port);
    client.send(connectPacket("c311"));
    const connack = await client.next();
    assert.equal(connack?.type, CONNACK);
    assert.equal(connack?.sessionPresent, true);
    assert.equal(connack?.reasonCode, 0);
    assert.equal(broker.connections.at(-1)?.version, 4);
    client.destroy();
  });

  test("negotiates v5 from the CONNECT and sends properties", async () => {
    const client = await RawClient.open(broker.port, 5);
    client.send(connectPacket("c5", true, 5));
    const connack = await client.next();
    assert.equal(connack?.type, CONNACK);
    assert.deepEqual(connack?.properties, { receiveMaximum: 7, assignedClientIdentifier: "given" });
    assert.equal(broker.connections.at(-1)?.version, 5);
    client.send({ type: SUBSCRIBE, packetId: 3, subscriptions: [{ topicFilter: "a/+", qos: 2 }] });
    assert.deepEqual((await client.next())?.reasonCodes, [2]);
    client.destroy();
  });

  test("sendRaw bytes arrive as written; received packets are owned copies", async () => {
    const client = await RawClient.open(broker.port);
    client.send(connectPacket("raw"));
    assert.equal((await client.next())?.sessionPresent, true);
    client.send({ type: PUBLISH, topic: "t/1", payload: new Uint8Array([1, 2, 3]), qos: 0, retain: false, dup: false, packetId: 0 });
    client.send({ type: PUBLISH, topic: "t/2", payload: new Uint8Array([4, 5]), qos: 0, retain: false, dup: false, packetId: 0 });
    const first = await client.next();
    const second = await client.next();
    assert.deepEqual([first?.topic, first?.payload], ["t/1", [1, 2, 3]]);
    assert.deepEqual([second?.topic, second?.payload], ["t/2", [4, 5]]);
    client.destroy();
    await broker.connections.at(-1)?.closed;
    assert.deepEqual(broker.errors, []);
  });
});
