/**
 * The lite client (src/lite/client.ts) on exact bytes: against a raw TCP server on loopback that records what
 * the client writes and answers with bytes the test chooses (through hosts/node/lite.ts), and over an
 * in-memory socket whose room the test sets (writes that wait for room).
 */
import assert from "node:assert/strict";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { after, describe, it } from "node:test";
import { Client } from "../../hosts/node/lite.js";
import { LiteClient, type LitePlatform, type LiteSocket, type LiteSocketEvents, type LiteTimerTarget } from "../../src/lite/client.js";
import { sleep, until } from "../support/wait.js";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");
const show = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** One accepted connection: what the client wrote so far, and a way to answer. */
interface RawConnection {
  socket: Socket;
  received: Buffer;
  closed: boolean;
  /** Waits until the client has written at least n bytes beyond `from`; returns them. */
  take(n: number, ms?: number): Promise<Buffer>;
  send(bytes: Buffer | string): void;
}

interface RawServer { port: number; connections: RawConnection[]; close(): Promise<void> }

/** Every server a test started, closed after the file. */
const servers: RawServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

/** A TCP server that records and never answers on its own (closed after the file, or by the test). */
async function rawServer(): Promise<RawServer> {
  const connections: RawConnection[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    let consumed = 0;
    const conn: RawConnection = {
      socket,
      received: Buffer.alloc(0),
      closed: false,
      async take(n, ms = 3000) {
        await until(() => conn.received.length - consumed >= n, ms, () => `${n} bytes from the client (have ${show(conn.received.subarray(consumed))})`);
        const out = conn.received.subarray(consumed, consumed + n);
        consumed += n;
        return out;
      },
      send(bytes) {
        socket.write(typeof bytes === "string" ? hex(bytes) : bytes);
      },
    };
    socket.on("data", (b) => (conn.received = Buffer.concat([conn.received, b])));
    socket.on("close", () => {
      conn.closed = true;
      sockets.delete(socket);
    });
    socket.on("error", () => {});
    connections.push(conn);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const raw: RawServer = {
    port: (server.address() as AddressInfo).port,
    connections,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
  servers.push(raw);
  return raw;
}

/** Every client a test made, closed after the file whatever happened (one that reconnects keeps the process alive). */
const made: Client[] = [];
after(() => {
  for (const c of made) c.close();
});

function track(client: Client): Client {
  made.push(client);
  return client;
}

/** The client's CONNECT on `conn`, once it has all arrived. */
async function takeConnect(conn: RawConnection): Promise<Buffer> {
  const head = await conn.take(2);
  return Buffer.concat([head, await conn.take(head[1]!)]);
}

/** A client connected to `server` (CONNACK with `sessionPresent`), and its connection. */
async function connected(server: RawServer, options: Record<string, unknown> = {}, connackFlags = "00"): Promise<{ client: Client; conn: RawConnection; events: string[] }> {
  const client = track(new Client({ host: "127.0.0.1", port: server.port, id: "lite", ...options }));
  const events: string[] = [];
  client.onReady = () => events.push("ready");
  client.onClose = (reason) => events.push(`close: ${reason}`);
  client.onPublished = (id) => events.push(`published ${id}`);
  client.onMessage = (topic, body) => events.push(`message ${topic} ${Buffer.from(body).toString()}`);
  await until(() => server.connections.length > 0, 3000, "a connection");
  const conn = server.connections.at(-1)!;
  assert.equal((await takeConnect(conn))[0], 0x10);
  conn.send(`20 02 ${connackFlags} 00`);
  await until(() => events.includes("ready"), 3000, "onReady");
  return { client, conn, events };
}

describe("lite client: CONNECT", () => {
  it("encodes id, will, user, password, keepalive and the session flag exactly", async () => {
    const server = await rawServer();
    const client = track(new Client({
      host: "127.0.0.1", port: server.port, id: "s1", user: "u", password: "p", timeout: 30_000, clean: false,
      will: { topic: "w/t", message: "bye", quality: 1, retain: true },
    }));
    await until(() => server.connections.length === 1, 3000, "a connection");
    const connect = await server.connections[0]!.take(32);
    // flags EC: user, password, will retain, will QoS 1, will; no clean session. Keepalive 30 s.
    assert.equal(show(connect), show(hex("10 1e 0004 4d515454 04 ec 001e 0002 7331 0003 772f74 0003 627965 0001 75 0001 70")));
    client.close();
  });

  it("defaults: clean session, a keepalive of 60 s, no will, the id as given", async () => {
    const server = await rawServer();
    const client = track(new Client({ host: "127.0.0.1", port: server.port, id: "a" }));
    await until(() => server.connections.length === 1, 3000, "a connection");
    assert.equal(show(await server.connections[0]!.take(15)), show(hex("10 0d 0004 4d515454 04 02 003c 0001 61")));
    client.close();
  });

  it("refuses what MQTT 3.1.1 cannot carry, at the constructor", () => {
    const platform = memoryPlatform().platform;
    const make = (o: Record<string, unknown>): LiteClient => new LiteClient({ host: "h", ...o }, platform);
    assert.throws(() => make({ host: "" }), /host is required/);
    assert.throws(() => make({ password: "p" }), /password needs a user/);
    assert.throws(() => make({ id: "", clean: false }), /empty id needs a clean session/);
    assert.throws(() => make({ will: { topic: "a/#", message: "x" } }), /wildcards/);
    assert.throws(() => make({ will: { topic: "a", message: "x", quality: 3 } }), /will.quality/);
    assert.throws(() => make({ port: 70000 }), /port must be an integer/);
    assert.throws(() => make({ timeout: -1 }), /timeout must be an integer/);
    assert.throws(() => make({ id: "a\u0000b" }), /U\+0000/);
    assert.throws(() => make({ id: "\ud800" }), /lone UTF-16 surrogate/);
  });
});

describe("lite client: publishing", () => {
  it("QoS 0, 1 and 2 on exact bytes; PUBREL after PUBREC; onPublished at PUBACK and at PUBCOMP only", async () => {
    const server = await rawServer();
    const { client, conn, events } = await connected(server);
    assert.equal(client.publish("t", "hi"), 0);
    assert.equal(show(await conn.take(7)), show(hex("30 05 0001 74 6869")));
    assert.equal(client.publish("t", Uint8Array.of(1, 2), { quality: 1, retain: true }), 1);
    assert.equal(show(await conn.take(9)), show(hex("33 07 0001 74 0001 0102")));
    assert.equal(client.publish("t", new Uint8Array([9]).buffer, { quality: 2 }), 2);
    assert.equal(show(await conn.take(8)), show(hex("34 06 0001 74 0002 09")));
    assert.equal(client.unfinished, 2);
    conn.send("40 02 0001");
    conn.send("50 02 0002");
    assert.equal(show(await conn.take(4)), show(hex("62 02 0002")));
    await until(() => events.includes("published 1"), 3000, "published 1");
    // A PUBACK for the QoS 2 flow does not end it.
    conn.send("40 02 0002");
    await sleep(50);
    assert.ok(!events.includes("published 2"));
    conn.send("70 02 0002");
    await until(() => events.includes("published 2"), 3000, "published 2");
    assert.equal(client.unfinished, 0);
    client.close();
    assert.equal(show(await conn.take(2)), "e000");
  });

  it("publish() says -1 beyond maxInflight, and throws on bad arguments or after close()", async () => {
    const server = await rawServer();
    const { client, conn } = await connected(server, { maxInflight: 2 });
    assert.equal(client.publish("a", "1", { quality: 1 }), 1);
    assert.equal(client.publish("a", "2", { quality: 2 }), 2);
    assert.equal(client.publish("a", "3", { quality: 1 }), -1);
    conn.send("40 02 0001");
    await until(() => client.unfinished === 1, 3000, "the PUBACK");
    assert.equal(client.publish("a", "3", { quality: 1 }), 3);
    assert.throws(() => client.publish("a/+", "x"), /wildcards/);
    assert.throws(() => client.publish("", "x"), /empty/);
    assert.throws(() => client.publish("a", "x", { quality: 3 as 0 }), /quality must be 0, 1 or 2/);
    assert.throws(() => client.publish("a", 5 as unknown as string), /string, an ArrayBuffer or a Uint8Array/);
    assert.throws(() => client.subscribe("a/#/b"), /whole level/);
    client.close();
    assert.throws(() => client.publish("a", "x"), /client closed/);
  });

  it("refuses an empty topic on the first publish too, and a QoS 1/2 message once the link is lost for good", async () => {
    const server = await rawServer();
    const { client, conn, events } = await connected(server);
    assert.throws(() => client.publish("", "x"), /empty/);
    conn.socket.destroy();
    await until(() => events.some((e) => e.startsWith("close")), 3000, "onClose");
    // No `reconnect`: nothing would ever send it.
    assert.equal(client.publish("a", "x", { quality: 1 }), -1);
    assert.equal(client.publish("a", "x"), -1);
    assert.equal(client.unfinished, 0);
  });

  it("subscribe and unsubscribe on exact bytes, with the SUBACK's granted QoS", async () => {
    const server = await rawServer();
    const { client, conn } = await connected(server);
    const acks: string[] = [];
    client.onSubscribed = (id, granted) => acks.push(`suback ${id} ${granted}`);
    client.onUnsubscribed = (id) => acks.push(`unsuback ${id}`);
    assert.equal(client.subscribe("s/+", 2), 1);
    assert.equal(show(await conn.take(10)), show(hex("82 08 0001 0003 732f2b 02")));
    assert.equal(client.unsubscribe("s/+"), 2);
    assert.equal(show(await conn.take(9)), show(hex("a2 07 0002 0003 732f2b")));
    conn.send("90 03 0001 80");
    conn.send("b0 02 0002");
    await until(() => acks.length === 2, 3000, "SUBACK and UNSUBACK");
    assert.deepEqual(acks, ["suback 1 128", "unsuback 2"]);
    client.close();
  });
});

describe("lite client: reconnecting", () => {
  it("re-sends every unfinished flow in order after a cut, DUP set, and the PUBREL owed (session present)", async () => {
    const server = await rawServer();
    const { client, conn, events } = await connected(server, { reconnect: 20, clean: false });
    client.publish("t", "a", { quality: 1 });
    client.publish("t", "b", { quality: 2 });
    client.publish("t", "c", { quality: 2 });
    await conn.take(8 + 8 + 8);
    conn.send("50 02 0003"); // PUBREC for c: its PUBREL is owed
    assert.equal(show(await conn.take(4)), "62020003");
    conn.socket.destroy();
    await until(() => server.connections.length === 2, 3000, "the reconnect");
    const again = server.connections[1]!;
    await takeConnect(again);
    again.send("20 02 01 00");
    assert.equal(show(await again.take(8 + 8 + 4)), show(hex("3a 06 0001 74 0001 61  3c 06 0001 74 0002 62  62 02 0003")));
    assert.ok(events.some((e) => e.startsWith("close: ")), "onClose on the cut");
    assert.equal(events.filter((e) => e === "ready").length, 2);
    client.close();
  });

  it("to a broker that lost the session, a PUBREC'd QoS 2 message goes again as a PUBLISH", async () => {
    const server = await rawServer();
    const { client, conn } = await connected(server, { reconnect: 20 });
    client.publish("t", "q", { quality: 2 });
    await conn.take(8);
    conn.send("50 02 0001");
    await conn.take(4);
    conn.socket.destroy();
    await until(() => server.connections.length === 2, 3000, "the reconnect");
    const again = server.connections[1]!;
    await takeConnect(again);
    again.send("20 02 00 00");
    assert.equal(show(await again.take(8)), show(hex("3c 06 0001 74 0001 71")));
    client.close();
  });

  it("backs off, doubling up to reconnectMax, and starts again from reconnect after a CONNACK", () => {
    const { platform, sockets, timers } = memoryPlatform();
    const client = new LiteClient({ host: "h", reconnect: 40, reconnectMax: 160 }, platform);
    const delays = (): number[] => timers.filter((t) => !t.repeat && t.ms !== 30_000).map((t) => t.ms);
    // Every attempt refused: each failure waits twice as long as the one before, up to reconnectMax.
    for (let attempt = 0; attempt < 5; attempt++) {
      sockets.at(-1)!.events.closed("connection refused");
      timers.at(-1)!.target.timerFired();
    }
    assert.deepEqual(delays(), [40, 80, 160, 160, 160]);
    // Connected, then lost: the next wait is reconnect's again.
    sockets.at(-1)!.events.opened();
    sockets.at(-1)!.events.received(hex("20 02 00 00"));
    sockets.at(-1)!.events.closed(undefined);
    assert.deepEqual(delays(), [40, 80, 160, 160, 160, 40]);
    assert.equal(sockets.length, 6);
    client.close();
  });
});

describe("lite client: receiving", () => {
  it("delivers QoS 0/1/2, acknowledging after onMessage; a QoS 2 message sent again before PUBREL is delivered once", async () => {
    const server = await rawServer();
    const { client, conn, events } = await connected(server);
    conn.send("30 05 0001 61 6869");
    conn.send("32 07 0001 61 0007 6f6e");
    conn.send("34 07 0001 61 0009 7477");
    assert.equal(show(await conn.take(8)), "4002000750020009");
    conn.send("3c 07 0001 61 0009 7477"); // the same id again, DUP: not new
    assert.equal(show(await conn.take(4)), "50020009");
    conn.send("62 02 0009");
    assert.equal(show(await conn.take(4)), "70020009");
    // Released: the id may now carry a new message.
    conn.send("34 07 0001 61 0009 7878");
    assert.equal(show(await conn.take(4)), "50020009");
    assert.deepEqual(events.filter((e) => e.startsWith("message")), ["message a hi", "message a on", "message a tw", "message a xx"]);
    client.close();
  });

  it("reassembles packets cut at every byte", async () => {
    const server = await rawServer();
    const { client, conn, events } = await connected(server);
    for (const b of hex("32 0c 0003 612f62 0005 68656c6c6f 30 03 0001 7a")) {
      conn.send(Buffer.of(b));
      await sleep(2);
    }
    await until(() => events.filter((e) => e.startsWith("message")).length === 2, 3000, "two messages");
    assert.deepEqual(events.filter((e) => e.startsWith("message")), ["message a/b hello", "message z "]);
    assert.equal(show(await conn.take(4)), "40020005");
    client.close();
  });

  it("acknowledges a PUBLISH larger than maxPacketSize without delivering it, and goes on", async () => {
    const server = await rawServer();
    const { client, conn, events } = await connected(server, { maxPacketSize: 16 });
    const big = Buffer.concat([hex("32 1e 0001 62 0004"), Buffer.alloc(25, 0x41)]);
    // In pieces, so it cannot be handled from one chunk.
    conn.send(big.subarray(0, 10));
    await sleep(20);
    conn.send(big.subarray(10));
    conn.send("30 03 0001 63");
    assert.equal(show(await conn.take(4)), "40020004");
    await until(() => events.some((e) => e.startsWith("message")), 3000, "the small message");
    assert.deepEqual(events.filter((e) => e.startsWith("message")), ["message c "]);
    client.close();
  });

  for (const [name, bytes, reason] of [
    ["a remaining length of five bytes", "30 ff ff ff ff 7f", /malformed remaining length/],
    ["a topic that is not UTF-8", "30 05 0002 c080 00", /not a valid topic name/],
    ["a topic with a wildcard", "30 04 0002 612b", /not a valid topic name/],
    ["QoS 3", "36 05 0001 61 0001", /QoS 3/],
    ["packet id 0", "32 05 0001 61 0000", /packet id 0/],
    ["a PUBACK with flags", "41 02 0001", /flags/],
    ["a PINGREQ (a client's packet)", "c0 00", /not one a broker sends/],
    ["a SUBSCRIBE, whose flags a broker cannot send either", "82 06 0001 0001 61 00", /packet type 8 with flags 2/],
    ["a second CONNACK", "20 02 00 00", /unexpected CONNACK/],
    ["more unreleased QoS 2 than maxIncomingQos2", "34 05 0001 61 0001 34 05 0001 61 0002", /maxIncomingQos2/],
  ] as const) {
    it(`closes the link on ${name}, says why, and reconnects`, async () => {
      const server = await rawServer();
      const { client, conn, events } = await connected(server, { reconnect: 20, maxIncomingQos2: 1 });
      conn.send(bytes);
      await until(() => events.some((e) => e.startsWith("close")), 3000, "onClose");
      assert.match(events.find((e) => e.startsWith("close"))!, reason);
      await until(() => conn.closed, 3000, "the link closed");
      await until(() => server.connections.length === 2, 3000, "the reconnect");
      client.close();
    });
  }

  for (const [name, answer, reason] of [
    ["refuses anything before CONNACK", "30 03 0001 61", /^packet type 3 before CONNACK/],
    ["refuses a CONNACK that claims a session for a clean session", "20 02 01 00", /^CONNACK with session present to a clean session/],
    ["reports a refused CONNECT with its return code", "20 02 00 05", /^connection refused: not authorised$/],
  ] as const) {
    it(name, async () => {
      const server = await rawServer();
      const client = track(new Client({ host: "127.0.0.1", port: server.port }));
      const closes: string[] = [];
      client.onClose = (why) => closes.push(why ?? "");
      await until(() => server.connections.length === 1, 3000, "a connection");
      server.connections[0]!.send(answer);
      await until(() => closes.length === 1, 3000, "onClose");
      assert.match(closes[0]!, reason);
    });
  }
});

describe("lite client: keepalive", () => {
  it("sends PINGREQ when idle and drops a link that stays silent for 1.5 times the keepalive", async () => {
    const server = await rawServer();
    const started = Date.now();
    const { client, conn, events } = await connected(server, { timeout: 1000 });
    assert.equal(show(await conn.take(2, 2000)), "c000");
    conn.send("d0 00");
    // Answered: the link stays. Unanswered from here: dropped within three ticks of 500 ms.
    assert.equal(show(await conn.take(2, 2000)), "c000");
    await until(() => events.some((e) => e.startsWith("close")), 4000, "onClose");
    assert.match(events.find((e) => e.startsWith("close"))!, /nothing from the broker for 1.5 times the keepalive of 1 s/);
    assert.ok(Date.now() - started >= 1500, "not before 1.5 keepalives");
    client.close();
  });
});

// ---- writes that wait for room, over an in-memory socket ---------------------------------------------

interface MemoryTimer { target: LiteTimerTarget; ms: number; repeat: boolean }

/** In-memory sockets whose room the test sets, and timers the test fires itself (each recorded with its delay). */
function memoryPlatform(): { platform: LitePlatform; sockets: Array<LiteSocket & { room: number; written: string[]; events: LiteSocketEvents }>; timers: MemoryTimer[] } {
  const sockets: Array<LiteSocket & { room: number; written: string[]; events: LiteSocketEvents }> = [];
  const timers: MemoryTimer[] = [];
  const platform: LitePlatform = {
    connect(_host, _port, events) {
      const socket = {
        room: 1 << 20,
        written: [] as string[],
        events,
        write(bytes?: Uint8Array): number | void {
          if (bytes === undefined) return socket.room;
          socket.written.push(show(bytes));
          socket.room -= bytes.length;
        },
        close() {},
      };
      sockets.push(socket);
      return socket;
    },
    setTimer(target, ms, repeat) {
      timers.push({ target, ms, repeat });
      return timers.length;
    },
    clearTimer: () => {},
  };
  return { platform, sockets, timers };
}

describe("lite client: a socket without room", () => {
  it("refuses QoS 0, keeps QoS 1/2 and acknowledgements in order until writable(), and gives up on a socket that takes nothing", () => {
    const { platform, sockets } = memoryPlatform();
    const client = new LiteClient({ host: "h", id: "m" }, platform);
    const closes: string[] = [];
    client.onClose = (reason) => closes.push(reason ?? "");
    const socket = sockets[0]!;
    socket.events.opened();
    socket.events.received(hex("20 02 00 00"));
    socket.written.length = 0;
    socket.room = 0;
    assert.equal(client.publish("t", "x"), -1);
    assert.equal(client.publish("t", "y", { quality: 1 }), 1);
    socket.events.received(hex("32 06 0001 61 0007 7a"));
    assert.deepEqual(socket.written, []);
    socket.room = 100;
    socket.events.writable();
    assert.deepEqual(socket.written, ["32060001740001" + "79", "40020007"]);
    socket.room = 0;
    for (let i = 0; i < 65; i++) socket.events.received(hex(`32 06 0001 61 ${(i + 10).toString(16).padStart(4, "0")} 7a`));
    assert.equal(closes.length, 1);
    assert.match(closes[0]!, /the socket took nothing while 64 packets waited/);
  });
});
