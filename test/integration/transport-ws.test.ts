/**
 * MQTT over WebSockets (hosts/node/ws-link.ts over the runtime's WebSocket): round trips through mosquitto's
 * ws:// and wss:// listeners at QoS 0/1/2 with a 200 KB payload, wss:// certificate checks, bindAddress;
 * and, against a small WebSocket server written here (so frame boundaries are the test's to choose): the
 * path, headers and "mqtt" subprotocol of wsSetOptions, several MQTT packets in one frame, packets split
 * across frames and across fragments, backpressure both ways (a flood is held back by TCP, not memory),
 * a WebSocket message too large to buffer, a text frame, a failed handshake, a refused connection.
 *
 * mosquitto 2.0.11 sends to a WebSocket client at about 4 KB per 100 ms (shared/DESIGN.md): a 200 KB
 * message takes about 5 s, so the round trips have generous (bounded) timeouts.
 */
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { type IncomingMessage, type Server, createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import {
  Client, MQTTv311, MQTTv5, MQTT_ERR_NO_CONN, MQTT_ERR_NOT_SUPPORTED, MQTT_ERR_SUCCESS, MQTT_ERR_TLS,
  MqttConnectionError, NodeHost, nodeHost, type LinkError, type LinkParams,
} from "../../hosts/node/index.js";
import { CONNACK, CONNECT, DISCONNECT, Decoder, Encoder, PUBLISH, SUBACK, SUBSCRIBE, type DecodedPacket, type Packet } from "../../src/codec/index.js";
import { type Broker, freePort, startMosquitto } from "../support/mosquitto.js";
import { type TestPki, makeTestPki, wsListener } from "../support/tls.js";
import { sleep, until, within } from "../support/wait.js";

const HOST = "127.0.0.1";
const BIG = 200 * 1024;
/** Room for a 200 KB PUBLISH each way, and two of them stored. */
const BIG_BUDGET = { maxPacketSize: 512 * 1024, outputBytes: 512 * 1024, storeBytes: 1024 * 1024 };

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) throw new Error("run node with --expose-gc (npm test does)");
  g();
  g();
}

/** Live heap and buffers (ArrayBuffers live in `external`). */
function retained(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return b;
}

// ---- a WebSocket server whose frames the test chooses ----------------------------------------------

const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** A server-to-client frame (unmasked): FIN and opcode as given (2 binary, 1 text, 0 continuation). */
function frame(payload: Uint8Array, opcode = 2, fin = true): Buffer {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.alloc(head + n);
  out[0] = (fin ? 0x80 : 0) | opcode;
  if (n < 126) out[1] = n;
  else if (n < 65536) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeBigUInt64BE(BigInt(n), 2);
  }
  out.set(payload, head);
  return out;
}

interface WsPeer {
  readonly request: IncomingMessage;
  readonly socket: Socket;
  /** The client's next MQTT packet (decoded from the payloads of its frames), or null once it closed. */
  next(timeoutMs?: number): Promise<DecodedPacket | null>;
  /** Frames the client sent, as (opcode, payload length). */
  readonly frames: Array<[number, number]>;
  encode(packet: Packet): Uint8Array;
  /** Writes, resolving once the socket has taken it (server-side backpressure). */
  write(bytes: Uint8Array): Promise<void>;
  readonly closed: Promise<void>;
}

interface WsServer {
  port: number;
  peers: WsPeer[];
  close(): Promise<void>;
}

interface WsServerOptions {
  /** The path it upgrades on (anything else: HTTP 404). */
  path?: string;
  /** The subprotocol it answers with; default "mqtt". */
  protocol?: string;
}

async function startWsServer(handler: (peer: WsPeer) => Promise<void> | void, options: WsServerOptions = {}): Promise<WsServer> {
  const path = options.path ?? "/mqtt";
  const sockets = new Set<Socket>();
  const peers: WsPeer[] = [];
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  server.on("upgrade", (request: IncomingMessage, socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    if (request.url !== path) {
      socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    const accept = createHash("sha1").update(`${String(request.headers["sec-websocket-key"])}${WS_GUID}`).digest("base64");
    socket.write(["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade", `Sec-WebSocket-Accept: ${accept}`,
      `Sec-WebSocket-Protocol: ${options.protocol ?? "mqtt"}`, "", ""].join("\r\n"));
    socket.setNoDelay(true);
    const peer = wsPeer(request, socket);
    peers.push(peer);
    Promise.resolve().then(() => handler(peer)).catch(() => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    peers,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function wsPeer(request: IncomingMessage, socket: Socket): WsPeer {
  const decoder = new Decoder({ maxPacketSize: 1 << 20 });
  const encoder = new Encoder();
  const packets: DecodedPacket[] = [];
  const frames: Array<[number, number]> = [];
  let buffer = Buffer.alloc(0);
  let ended = false;
  let failed = false;
  let wake: (() => void) | undefined;
  const closed = new Promise<void>((resolve) => socket.once("close", () => {
    ended = true;
    wake?.();
    resolve();
  }));
  socket.on("data", (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      if (buffer.length < 2) return;
      const opcode = buffer[0]! & 15;
      let n = buffer[1]! & 127;
      let at = 2;
      if (n === 126) {
        if (buffer.length < 4) return;
        n = buffer.readUInt16BE(2);
        at = 4;
      } else if (n === 127) {
        if (buffer.length < 10) return;
        n = Number(buffer.readBigUInt64BE(2));
        at = 10;
      }
      if (buffer.length < at + 4 + n) return;
      const mask = buffer.subarray(at, at + 4);
      const payload = Buffer.from(buffer.subarray(at + 4, at + 4 + n));
      for (let i = 0; i < n; i++) payload[i]! ^= mask[i & 3]!;
      buffer = buffer.subarray(at + 4 + n);
      frames.push([opcode, n]);
      if (opcode === 8) {
        socket.end(frame(new Uint8Array(0), 8));
        continue;
      }
      if (opcode !== 2 && opcode !== 0) continue;
      if (failed) continue;
      try {
        decoder.feed(new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength));
        for (let p = decoder.next(); p !== null; p = decoder.next()) {
          // Plain copies: the decoder's views die with the next packet.
          packets.push(p.type === PUBLISH ? { ...p, topic: p.topic, payload: new Uint8Array(p.payload) } as unknown as DecodedPacket : p);
        }
      } catch {
        // Not MQTT (the raw Link tests write arbitrary bytes): frames are still counted.
        failed = true;
      }
      wake?.();
    }
  });
  return {
    request,
    socket,
    frames,
    closed,
    async next(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (packets.length === 0) {
        if (ended) return null;
        if (Date.now() > deadline) throw new Error(`no packet from the client within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 20);
        });
      }
      return packets.shift()!;
    },
    encode(packet) {
      encoder.version = decoder.version;
      return encoder.encode(packet);
    },
    write(bytes) {
      return new Promise((resolve) => {
        if (socket.destroyed) resolve();
        else if (socket.write(bytes)) resolve();
        else {
          const done = (): void => {
            socket.off("drain", done);
            socket.off("close", done);
            resolve();
          };
          socket.on("drain", done);
          socket.on("close", done);
        }
      });
    },
  };
}

/** Answers CONNECT with CONNACK (in its own frame). */
async function handshake(peer: WsPeer): Promise<void> {
  const connect = await peer.next();
  assert.equal(connect?.type, CONNECT);
  await peer.write(frame(peer.encode({ type: CONNACK, sessionPresent: false, reasonCode: 0 })));
}

// ---- clients ----------------------------------------------------------------------------------------

const live: Client[] = [];

afterEach(async () => {
  for (const c of live.splice(0)) {
    c.disconnect();
    c.loopStop();
  }
  await sleep(20);
});

interface WsClientOptions {
  protocol?: 4 | 5;
  budget?: typeof BIG_BUDGET;
  host?: NodeHost;
  setup?: (c: Client) => void;
  bindAddress?: string;
}

function wsClient(options: WsClientOptions = {}): Client {
  const c = new Client({ transport: "websockets", protocol: options.protocol ?? MQTTv311, budget: options.budget, host: options.host });
  options.setup?.(c);
  live.push(c);
  return c;
}

async function online(host: string, port: number, options: WsClientOptions = {}): Promise<Client> {
  const c = wsClient(options);
  const logs: string[] = [];
  c.onLog = (_c, _u, _l, m) => logs.push(m);
  const connected = new Promise<number>((resolve, reject) => {
    c.onConnect = (_c, _u, _f, rc) => resolve(rc);
    c.onConnectFail = () => reject(new Error(`onConnectFail: ${logs.join(" | ")}`));
  });
  await within(c.connect(host, port, 30, options.bindAddress ?? ""), 10_000, "connect()");
  c.loopStart();
  assert.equal(await within(connected, 10_000, "CONNACK"), 0);
  return c;
}

async function connectError(host: string, port: number, options: WsClientOptions = {}): Promise<MqttConnectionError> {
  const c = wsClient(options);
  const error = await within(c.connect(host, port, 30).then(() => null, (e: unknown) => e), 15_000, "connect() to reject");
  assert.ok(error instanceof MqttConnectionError, `expected an MqttConnectionError, got ${String(error)}`);
  assert.doesNotMatch(error.message, /\n\s+at /);
  return error;
}

/** Subscribes and sends itself a 200 KB message at each QoS, checking every byte. */
async function bigRoundTrips(c: Client, prefix: string): Promise<void> {
  for (const qos of [0, 1, 2] as const) {
    const payload = pattern(BIG, qos + 1);
    const topic = `${prefix}/${qos}`;
    const got = new Promise<Uint8Array>((resolve) => {
      c.onMessage = (_c, _u, m) => {
        if (m.topic === topic) resolve(m.payload.slice());
      };
    });
    const subscribed = new Promise<void>((resolve) => {
      c.onSubscribe = () => resolve();
    });
    c.subscribe(topic, qos);
    await within(subscribed, 10_000, "SUBACK");
    const info = c.publish(topic, payload, qos);
    assert.equal(info.rc, MQTT_ERR_SUCCESS);
    const received = await within(got, 30_000, `the 200 KB QoS ${qos} message back through mosquitto's WebSocket listener`);
    assert.equal(received.length, BIG);
    assert.ok(Buffer.from(received).equals(Buffer.from(payload)), `QoS ${qos}: the payload came back intact`);
    if (qos > 0) await within(info.waitForPublish(), 10_000, "the publish flow to complete");
  }
}

describe("WebSocket transport", { timeout: 240_000 }, () => {
  let pki: TestPki;
  let broker: Broker;
  const port = { ws: 0, wss: 0, wssMismatch: 0, wssMutual: 0 };

  before(async () => {
    pki = makeTestPki();
    for (const k of Object.keys(port) as Array<keyof typeof port>) port[k] = await freePort();
    broker = await startMosquitto({
      maxInflightMessages: 100,
      config: [
        wsListener(port.ws),
        wsListener(port.wss, { ca: pki.ca, ...pki.server }),
        wsListener(port.wssMismatch, { ca: pki.ca, ...pki.mismatch }),
        wsListener(port.wssMutual, { ca: pki.ca, ...pki.server }, ["require_certificate true"]),
      ].join("\n"),
    });
  });

  after(async () => {
    await broker?.stop();
    pki?.remove();
  });

  test("the runtime's WebSocket is there (npm test passes --experimental-websocket on Node 20 to every test process)", () => {
    assert.equal(typeof (globalThis as { WebSocket?: unknown }).WebSocket, "function");
  });

  test("ws:// through mosquitto: 200 KB at QoS 0, 1 and 2, MQTT 3.1.1; subprotocol mqtt", async () => {
    const c = await online(HOST, port.ws, { budget: BIG_BUDGET });
    assert.equal((c.socket() as { protocol: string }).protocol, "mqtt");
    await bigRoundTrips(c, "ws/big");
  });

  test("wss:// through mosquitto (test CA): 200 KB at QoS 0, 1 and 2, MQTT 5", async () => {
    const c = await online(HOST, port.wss, { protocol: MQTTv5, budget: BIG_BUDGET, setup: (c) => c.tlsSet({ caCerts: pki.ca }) });
    await bigRoundTrips(c, "wss/big");
  });

  test("wss://: verification on by default; a wrong CA is MQTT_ERR_TLS; an expired or mismatched name too, unless tlsInsecureSet", async () => {
    const none = await connectError(HOST, port.wss, { setup: (c) => c.tlsSet() });
    assert.equal(none.rc, MQTT_ERR_TLS, none.message);
    const wrong = await connectError(HOST, port.wss, { setup: (c) => c.tlsSet({ caCerts: pki.otherCa }) });
    assert.equal(wrong.rc, MQTT_ERR_TLS, wrong.message);
    assert.match(wrong.message, /unable to verify|self[- ]signed|issuer/i);
    assert.match(wrong.message, /^TLS failure with wss:\/\/127\.0\.0\.1:\d+\/mqtt: /);
    const mismatch = await connectError(HOST, port.wssMismatch, { setup: (c) => c.tlsSet({ caCerts: pki.ca }) });
    assert.equal(mismatch.rc, MQTT_ERR_TLS, mismatch.message);
    assert.match(mismatch.message, /altnames|host ?name|does not match/i);
    const c = await online(HOST, port.wssMismatch, { setup: (c) => {
      c.tlsSet({ caCerts: pki.ca });
      c.tlsInsecureSet(true);
    } });
    assert.ok(c.isConnected());
    // The same TLS settings as TCP: a SecureContext, certReqs false.
    const { createSecureContext } = await import("node:tls");
    await online(HOST, port.wss, { setup: (c) => c.tlsSetContext(createSecureContext({ ca: pki.read(pki.ca) })) });
    await online(HOST, port.wss, { setup: (c) => c.tlsSet({ caCerts: pki.otherCa, certReqs: false }) });
  });

  test("wss:// with mutual TLS: a client certificate is sent; without one, MQTT_ERR_TLS with the reason in words", async () => {
    const c = await online(HOST, port.wssMutual, { setup: (c) => c.tlsSet({ caCerts: pki.ca, certfile: pki.client.cert, keyfile: pki.client.key }) });
    assert.ok(c.isConnected());
    const e = await connectError(HOST, port.wssMutual, { setup: (c) => c.tlsSet({ caCerts: pki.ca }) });
    assert.equal(e.rc, MQTT_ERR_TLS, e.message);
    assert.match(e.message, /^TLS failure with wss:\/\/127\.0\.0\.1:\d+\/mqtt: tlsv13 alert certificate required \(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\)$/);
  });

  test("wss:// with a CA file that does not exist: MqttConnectionError, MQTT_ERR_TLS, naming the path", async () => {
    const e = await connectError(HOST, port.wss, { setup: (c) => c.tlsSet({ caCerts: "/nonexistent/tinymqtt-ca.pem" }) });
    assert.equal(e.rc, MQTT_ERR_TLS);
    assert.match(e.message, /ENOENT.*\/nonexistent\/tinymqtt-ca\.pem/);
  });

  test("bindAddress over WebSockets: mosquitto sees the connection come from 127.0.0.2", async () => {
    const before = broker.log.length;
    await online(HOST, port.ws, { bindAddress: "127.0.0.2" });
    await until(() => /New client connected from 127\.0\.0\.2:\d+/.test(broker.log.slice(before)), 5000, "mosquitto to log 127.0.0.2");
  });

  test("a refused WebSocket connection is MQTT_ERR_NO_CONN: 'connection refused by host:port'", async () => {
    const dead = await freePort();
    const e = await connectError(HOST, dead);
    assert.equal(e.rc, MQTT_ERR_NO_CONN);
    assert.equal(e.message, `connection refused by ${HOST}:${dead}`);
  });

  test("[3.1.1 MQTT-6.0.0-3] [5.0 MQTT-6.0.0-3] wsSetOptions: the path and headers reach the server; the client asks for subprotocol mqtt", async () => {
    const server = await startWsServer(handshake, { path: "/custom/path?x=1" });
    try {
      await online(HOST, server.port, { setup: (c) => c.wsSetOptions("/custom/path?x=1", { "X-Tinymqtt-Test": "yes", Authorization: "Bearer t0k3n" }) });
      const request = server.peers[0]!.request;
      assert.equal(request.url, "/custom/path?x=1");
      assert.equal(request.headers["x-tinymqtt-test"], "yes");
      assert.equal(request.headers["authorization"], "Bearer t0k3n");
      assert.equal(request.headers["sec-websocket-protocol"], "mqtt");
      // The default path is /mqtt: elsewhere the handshake fails with the HTTP status in the message.
      const e = await connectError(HOST, server.port);
      assert.equal(e.rc, MQTT_ERR_NO_CONN);
      assert.match(e.message, /WebSocket handshake with ws:\/\/127\.0\.0\.1:\d+\/mqtt failed: the server answered HTTP 404/);
    } finally {
      await server.close();
    }
  });

  test("a server that picks another subprotocol fails the handshake (MQTT_ERR_NO_CONN)", async () => {
    const server = await startWsServer(handshake, { protocol: "chat" });
    try {
      const e = await connectError(HOST, server.port);
      assert.equal(e.rc, MQTT_ERR_NO_CONN);
      assert.match(e.message, /handshake .* failed/);
    } finally {
      await server.close();
    }
  });

  test("[3.1.1 MQTT-6.0.0-2] [5.0 MQTT-6.0.0-2] several MQTT packets in one frame; packets split across frames, mid-header, and across fragments", async () => {
    const payloads = [pattern(10, 1), pattern(3000, 2), pattern(70_000, 3), pattern(5, 4), pattern(20_000, 5), pattern(1, 6)];
    const server = await startWsServer(async (peer) => {
      assert.equal((await peer.next())?.type, CONNECT);
      const pub = (i: number): Uint8Array => peer.encode({ type: PUBLISH, topic: `split/${i}`, payload: payloads[i]!, qos: 0, retain: false, dup: false, packetId: 0 });
      // CONNACK and the first two PUBLISH packets in one frame.
      await peer.write(frame(Buffer.concat([peer.encode({ type: CONNACK, sessionPresent: false, reasonCode: 0 }), pub(0), pub(1)])));
      // A 70 KB PUBLISH in three frames, cut inside its fixed header first.
      const p2 = pub(2);
      await peer.write(Buffer.concat([frame(p2.subarray(0, 2)), frame(p2.subarray(2, 40_000)), frame(p2.subarray(40_000))]));
      // The end of one packet and the start of the next in the same frame.
      const p3 = pub(3);
      const p4 = pub(4);
      await peer.write(Buffer.concat([frame(p3.subarray(0, 3)), frame(Buffer.concat([p3.subarray(3), p4.subarray(0, 100)])), frame(p4.subarray(100))]));
      // One message in three WebSocket fragments (continuation frames).
      const p5 = pub(5);
      await peer.write(Buffer.concat([frame(p5.subarray(0, 2), 2, false), frame(p5.subarray(2, 3), 0, false), frame(p5.subarray(3), 0, true)]));
      await peer.closed;
    });
    try {
      const got: Array<[string, Uint8Array]> = [];
      const c = wsClient({ setup: (c) => {
        c.onMessage = (_c, _u, m) => got.push([m.topic, m.payload.slice()]);
      } });
      const connected = new Promise<void>((resolve) => {
        c.onConnect = () => resolve();
      });
      await c.connect(HOST, server.port);
      c.loopStart();
      await within(connected, 5000, "CONNACK");
      await until(() => got.length === payloads.length, 5000, () => `all ${payloads.length} messages (got ${got.length})`);
      assert.deepEqual(got.map(([t]) => t), payloads.map((_, i) => `split/${i}`));
      for (let i = 0; i < payloads.length; i++) assert.ok(Buffer.from(got[i]![1]).equals(Buffer.from(payloads[i]!)), `message ${i} intact`);
    } finally {
      await server.close();
    }
  });

  test("[3.1.1 MQTT-6.0.0-1] [5.0 MQTT-6.0.0-1] outgoing: a 200 KB PUBLISH and the packets around it reach the server whole, in binary frames", async () => {
    let received: Array<{ type: number; topic?: string; size?: number }> = [];
    const server = await startWsServer(async (peer) => {
      await handshake(peer);
      for (;;) {
        const p = await peer.next(10_000);
        if (p === null) return;
        if (p.type === SUBSCRIBE) await peer.write(frame(peer.encode({ type: SUBACK, packetId: p.packetId, reasonCodes: [0] })));
        received.push(p.type === PUBLISH ? { type: p.type, topic: p.topic, size: p.payload.length } : { type: p.type });
      }
    });
    try {
      const c = await online(HOST, server.port, { budget: BIG_BUDGET });
      c.subscribe("a", 0);
      for (let i = 0; i < 5; i++) {
        // Five of them do not fit the output ring at once: each waits for the link to take the one before.
        await until(() => !c.wantWrite(), 10_000, "the output to drain");
        assert.equal(c.publish(`big/${i}`, pattern(BIG, i), 0).rc, MQTT_ERR_SUCCESS);
      }
      assert.equal(c.publish("small", "x", 0).rc, MQTT_ERR_SUCCESS);
      await until(() => received.length === 7, 10_000, () => `7 packets at the server (got ${received.length})`);
      assert.deepEqual(received, [{ type: SUBSCRIBE }, ...[0, 1, 2, 3, 4].map((i) => ({ type: PUBLISH, topic: `big/${i}`, size: BIG })), { type: PUBLISH, topic: "small", size: 1 }]);
      assert.ok(server.peers[0]!.frames.every(([op]) => op === 2), "binary frames only");
      c.disconnect();
      await until(() => received.some((p) => p.type === DISCONNECT), 5000, "DISCONNECT");
      received = [];
    } finally {
      await server.close();
    }
  });

  test("a flood faster than the application reads is held back by TCP: bounded memory, every message delivered in order", async (t) => {
    const COUNT = 20_000;
    const SIZE = 1024;
    const PER_FRAME = 8;
    let sent = 0;
    const server = await startWsServer(async (peer) => {
      await handshake(peer);
      const body = new Uint8Array(SIZE);
      for (let i = 0; i < COUNT; i += PER_FRAME) {
        const packets: Uint8Array[] = [];
        for (let j = i; j < i + PER_FRAME; j++) {
          new DataView(body.buffer).setUint32(0, j);
          packets.push(peer.encode({ type: PUBLISH, topic: "flood", payload: body, qos: 0, retain: false, dup: false, packetId: 0 }));
        }
        await peer.write(frame(Buffer.concat(packets)));
        sent = i + PER_FRAME;
      }
      await peer.closed;
    });
    try {
      const c = wsClient();
      let next = 0;
      let outOfOrder = 0;
      c.onMessage = (_c, _u, m) => {
        const n = new DataView(m.payload.buffer, m.payload.byteOffset, 4).getUint32(0);
        if (n !== next) outOfOrder++;
        next = n + 1;
      };
      const connected = new Promise<void>((resolve) => {
        c.onConnect = () => resolve();
      });
      await c.connect(HOST, server.port);
      // Manual mode: the application drives the client with loop() when it wants to.
      while (!c.isConnected()) await within(c.loop(0.05), 5000, "loop()");
      await within(connected, 5000, "CONNACK");
      gc();
      const base = retained();
      // The application does not read for 1.5 s while the server floods: what the link may keep meanwhile
      // is its high-water mark, not the flood.
      await sleep(1500);
      gc();
      const stalled = retained() - base;
      const aheadWhileStalled = sent - next;
      let peak = stalled;
      const deadline = Date.now() + 60_000;
      // Then it takes what is waiting every 10 ms.
      for (let i = 0; next < COUNT; i++) {
        if (Date.now() > deadline) throw new Error(`flood not delivered in 60 s: ${next} of ${COUNT}`);
        await c.loop(0.02);
        await sleep(10);
        if (i % 20 === 0) {
          gc();
          peak = Math.max(peak, retained() - base);
        }
      }
      t.diagnostic(`after a 1.5 s stall: ${(stalled / 1048576).toFixed(2)} MiB retained, the server ${aheadWhileStalled} messages ahead; peak ${(peak / 1048576).toFixed(2)} MiB`);
      assert.equal(outOfOrder, 0);
      assert.equal(next, COUNT);
      // 20 MB went through; what waited at any time is bounded by the link's high-water mark and the
      // socket buffers (kernel and undici), not by the broker's speed.
      assert.ok(peak < 6 * 1024 * 1024, `retained memory grew by ${(peak / 1048576).toFixed(1)} MiB during a 20 MB flood`);
      assert.ok(aheadWhileStalled < COUNT / 2, `the server was held back while the application did not read (${aheadWhileStalled} messages ahead)`);
    } finally {
      await server.close();
    }
  });

  test("a WebSocket message larger than NodeHost.wsMaxMessageBytes (a 256 MB frame header) is refused early, memory flat", async (t) => {
    const host = new NodeHost();
    host.wsMaxMessageBytes = 1024 * 1024;
    let streamed = 0;
    let go = (): void => {};
    const start = new Promise<void>((resolve) => {
      go = resolve;
    });
    const server = await startWsServer(async (peer) => {
      await handshake(peer);
      await start;
      // A frame announcing 256 MB, then its bytes, as fast as the client takes them, until it hangs up.
      const header = Buffer.alloc(10);
      header[0] = 0x82;
      header[1] = 127;
      header.writeBigUInt64BE(BigInt(256 * 1024 * 1024), 2);
      await peer.write(header);
      const zeros = new Uint8Array(64 * 1024);
      while (!peer.socket.destroyed && streamed < 256 * 1024 * 1024) {
        await peer.write(zeros);
        streamed += zeros.length;
      }
    });
    try {
      const logs: string[] = [];
      const c = wsClient({ host, setup: (c) => {
        c.onLog = (_c, _u, _l, m) => logs.push(m);
      } });
      const disconnected = new Promise<number>((resolve) => {
        c.onDisconnect = (_c, _u, _f, rc) => resolve(rc);
      });
      const connected = new Promise<void>((resolve) => {
        c.onConnect = () => resolve();
      });
      await c.connect(HOST, server.port);
      c.loopStart();
      await within(connected, 5000, "CONNACK");
      gc();
      const base = retained();
      go();
      let rc: number | undefined;
      void disconnected.then((code) => {
        rc = code;
      });
      // Sampled while it happens: what undici buffered counts until the link drops it.
      let peak = 0;
      const deadline = Date.now() + 10_000;
      while (rc === undefined) {
        if (Date.now() > deadline) throw new Error("the link did not drop within 10 s");
        gc();
        peak = Math.max(peak, retained() - base);
        await sleep(5);
      }
      t.diagnostic(`peak retained growth ${(peak / 1048576).toFixed(2)} MiB; ${streamed} bytes streamed (into socket buffers) before the client hung up`);
      assert.ok(peak < 4 * 1024 * 1024, `memory grew by ${(peak / 1048576).toFixed(1)} MiB`);
      assert.ok(streamed < 32 * 1024 * 1024, `the client stopped taking bytes early (${streamed} streamed)`);
      assert.notEqual(rc, 0);
      assert.ok(logs.some((l) => l.includes("WebSocket message of more than 1048576 bytes")), logs.join("\n"));
    } finally {
      await server.close();
    }
  });

  test("[3.1.1 MQTT-6.0.0-1] [5.0 MQTT-6.0.0-1] a text frame is a protocol error: the link closes with MQTT_ERR_PROTOCOL's reason in the log", async () => {
    const server = await startWsServer(async (peer) => {
      await handshake(peer);
      await peer.write(frame(Buffer.from("not mqtt"), 1));
      await peer.closed;
    });
    try {
      const logs: string[] = [];
      const c = await online(HOST, server.port, { setup: (c) => {
        c.onLog = (_c, _u, _l, m) => logs.push(m);
      } });
      const disconnected = new Promise<void>((resolve) => {
        c.onDisconnect = () => resolve();
      });
      c.onLog = (_c, _u, _l, m) => logs.push(m);
      await within(disconnected, 5000, "onDisconnect");
      assert.ok(logs.some((l) => l.includes("text WebSocket message")), logs.join("\n"));
    } finally {
      await server.close();
    }
  });

  // ---- the Link contract, directly ---------------------------------------------------------------

  function params(port: number): LinkParams {
    return { host: HOST, port, bindAddress: "", transport: "websockets", tls: undefined, wsPath: "/mqtt", wsHeaders: undefined };
  }

  test("Link: write() takes nothing above the high-water mark, then onWritable once the peer reads again", async () => {
    let peerSocket: Socket | undefined;
    const server = await startWsServer((peer) => {
      peerSocket = peer.socket;
      peer.socket.pause();
    });
    try {
      let open = false;
      let writable = 0;
      let closedWith: LinkError | undefined | null = null;
      const link = nodeHost.open(params(server.port), {
        onOpen: () => {
          open = true;
        },
        onReadable: () => {},
        onWritable: () => {
          writable++;
        },
        onClose: (e) => {
          closedWith = e;
        },
      });
      await until(() => open, 5000, "onOpen");
      const chunk = new Uint8Array(256 * 1024);
      let taken = 0;
      let refusedAt = -1;
      for (let i = 0; i < 400; i++) {
        const n = link.write(chunk, 0, chunk.length);
        if (n === 0) {
          refusedAt = i;
          break;
        }
        assert.equal(n, chunk.length);
        taken += n;
        await sleep(1);
      }
      assert.ok(refusedAt > 0, "write() refused once the socket stopped draining");
      assert.ok(taken < 64 * 1024 * 1024, `bounded: ${taken} bytes taken before write() said 0`);
      assert.equal(writable, 0);
      peerSocket!.resume();
      await until(() => writable > 0, 10_000, "onWritable after the peer read again");
      assert.ok(link.write(chunk, 0, 10) === 10);
      link.destroy();
      await sleep(50);
      assert.equal(closedWith, null, "no onClose after destroy()");
    } finally {
      await server.close();
    }
  });

  test("Link: read() returns each received chunk as a Uint8Array, then null; close() reports nothing", async () => {
    const server = await startWsServer(async (peer) => {
      await peer.write(frame(Buffer.from([1, 2, 3])));
      await peer.write(frame(Buffer.from([4, 5])));
      await peer.closed;
    });
    try {
      let readable = 0;
      let closed = false;
      const link = nodeHost.open(params(server.port), {
        onOpen: () => {},
        onReadable: () => {
          readable++;
        },
        onWritable: () => {},
        onClose: () => {
          closed = true;
        },
      });
      await until(() => readable >= 2, 5000, "two onReadable");
      const a = link.read();
      const b = link.read();
      assert.ok(a instanceof Uint8Array && b instanceof Uint8Array);
      assert.deepEqual([...a!, ...b!], [1, 2, 3, 4, 5]);
      assert.equal(link.read(), null);
      link.close();
      await sleep(100);
      assert.equal(closed, false);
      assert.equal(link.write(new Uint8Array(1), 0, 1), 0, "nothing is taken after close()");
    } finally {
      await server.close();
    }
  });

  test("Link: the server closing reports onClose once; an abnormal close carries the reason", async () => {
    const server = await startWsServer(async (peer) => {
      await sleep(50);
      peer.socket.destroy();
    });
    try {
      const closes: Array<LinkError | undefined> = [];
      nodeHost.open(params(server.port), { onOpen: () => {}, onReadable: () => {}, onWritable: () => {}, onClose: (e) => closes.push(e) });
      await until(() => closes.length > 0, 5000, "onClose");
      await sleep(100);
      assert.equal(closes.length, 1);
      assert.match(closes[0]?.message ?? "", /closed with code 1006/);
    } finally {
      await server.close();
    }
  });

  test("without the runtime's WebSocket: MQTT_ERR_NOT_SUPPORTED naming the Node flag", async () => {
    const g = globalThis as { WebSocket?: unknown };
    const saved = g.WebSocket;
    delete g.WebSocket;
    try {
      const e = await connectError(HOST, 1);
      assert.equal(e.rc, MQTT_ERR_NOT_SUPPORTED);
      assert.match(e.message, /--experimental-websocket/);
    } finally {
      g.WebSocket = saved;
    }
  });

  test("a server that accepts TCP but never answers the upgrade: NodeHost.wsHandshakeTimeoutMs bounds the wait", async () => {
    const { createServer: createTcpServer } = await import("node:net");
    const held = new Set<Socket>();
    const silent = createTcpServer((s) => {
      held.add(s);
      s.on("error", () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, HOST, resolve));
    try {
      const host = new NodeHost();
      host.wsHandshakeTimeoutMs = 300;
      const started = Date.now();
      const e = await connectError(HOST, (silent.address() as AddressInfo).port, { host });
      assert.equal(e.rc, MQTT_ERR_NO_CONN);
      assert.match(e.message, /handshake .* took more than 300 ms/);
      assert.ok(Date.now() - started < 3000);
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
