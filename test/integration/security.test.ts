/**
 * Security: secrets never reach the logs, and a hostile broker cannot make the client allocate without
 * bound.
 *
 * - Credentials (username, password) and the will payload never appear in onLog / enableLogger output at
 *   debug level, across connect, subscribe, publish at every QoS, unsubscribe, disconnect, a refused
 *   CONNACK (bad password) and a refused TCP connection, on MQTT 3.1.1 and 5 (mosquitto with a password file).
 * - Against a scripted broker (test/support/scripted-broker.ts): a 256 MB Remaining Length; a flood of
 *   PUBLISH (QoS 0, and QoS 1 with the broker not reading the acknowledgements) while the application does
 *   not read; thousands of topic aliases (and thousands of re-assignments within the maximum); property
 *   lists that never end (a length past the packet, a Variable Byte Integer that never stops) and
 *   property lists as long as a packet allows, again and again. Each ends in a clean disconnect with the
 *   right reason, or with everything delivered; retained memory (heapUsed + external, after gc) stays
 *   within a stated budget. Needs --expose-gc (npm test passes it).
 */
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Client, type Logger, MQTTv31, MQTTv311, MQTTv5, MQTT_ERR_SUCCESS, MQTT_LOG_DEBUG,
} from "../../hosts/node/index.js";
import { CONNACK, CONNECT, DISCONNECT, PUBACK, type Packet } from "../../src/codec/index.js";
import { type Broker, freePort, startMosquitto } from "../support/mosquitto.js";
import { type ScriptedBroker, type ScriptedConnection, startScriptedBroker } from "../support/scripted-broker.js";
import { sleep, until, within } from "../support/wait.js";

const HOST = "127.0.0.1";
const MiB = 1024 * 1024;

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) throw new Error("run node with --expose-gc (npm test does)");
  g();
  g();
}

/**
 * Live heap and buffers (ArrayBuffers are counted in `external`), after a full collection and a turn of
 * the event loop (V8 frees the backing stores of dead ArrayBuffers concurrently, just after a GC).
 */
async function retained(): Promise<number> {
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

const mib = (n: number): string => `${(n / MiB).toFixed(2)} MiB`;

const live: Client[] = [];
const brokers: ScriptedBroker[] = [];

afterEach(async () => {
  for (const c of live.splice(0)) {
    c.disconnect();
    c.loopStop();
  }
  for (const b of brokers.splice(0)) await b.close();
  await sleep(20);
});

// ---- secrets in logs ------------------------------------------------------------------------------

describe("secrets never reach the logs", { timeout: 60_000 }, () => {
  const USER = "user-S3CR3T-name";
  const PASSWORD = "pw-S3CR3T-Tr0ub4dor&3";
  const WILL = "will-S3CR3T-payload";
  const secrets = [USER, PASSWORD, WILL];
  // Also as they might be leaked by a careless debug line: base64 and hex of the bytes.
  const forms = secrets.flatMap((s) => [s, Buffer.from(s).toString("base64"), Buffer.from(s).toString("hex")]);
  let broker: Broker;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tinymqtt-passwd-"));
    chmodSync(dir, 0o755);
    const passwd = join(dir, "passwd");
    execFileSync("mosquitto_passwd", ["-c", "-b", passwd, USER, PASSWORD], { stdio: "ignore" });
    chmodSync(passwd, 0o644);
    broker = await startMosquitto({ config: `allow_anonymous false\npassword_file ${passwd}` });
  });

  after(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every line from onLog and from an enableLogger() logger, with its level. */
  function recordLogs(c: Client): string[] {
    const lines: string[] = [];
    c.onLog = (_c, _u, level, message) => lines.push(`onLog ${level}: ${message}`);
    const logger: Logger = {
      debug: (m) => lines.push(`logger.debug: ${m}`),
      info: (m) => lines.push(`logger.info: ${m}`),
      warn: (m) => lines.push(`logger.warn: ${m}`),
      error: (m) => lines.push(`logger.error: ${m}`),
    };
    c.enableLogger(logger);
    return lines;
  }

  function assertClean(lines: string[]): void {
    for (const line of lines) {
      for (const secret of forms) assert.ok(!line.includes(secret), `a log line gives away a secret: ${line}`);
    }
  }

  for (const protocol of [MQTTv31, MQTTv311, MQTTv5] as const) {
    const name = protocol === MQTTv5 ? "MQTT 5" : protocol === MQTTv311 ? "MQTT 3.1.1" : "MQTT 3.1";

    test(`${name}: connect, subscribe, publish at QoS 0/1/2, receive, unsubscribe, disconnect at debug level`, async () => {
      const c = new Client({ protocol, clientId: `secrets-${protocol}`, cleanSession: true });
      live.push(c);
      const lines = recordLogs(c);
      c.usernamePwSet(USER, PASSWORD);
      c.willSet("will/topic", WILL, 1, false, protocol === MQTTv5 ? { contentType: "text/plain" } : undefined);
      let got = 0;
      c.onMessage = () => {
        got++;
      };
      const connected = new Promise<number>((resolve) => {
        c.onConnect = (_c, _u, _f, rc) => resolve(rc);
      });
      await within(c.connect(HOST, broker.port, 10), 5000, "connect()");
      c.loopStart();
      assert.equal(await within(connected, 5000, "CONNACK"), 0);
      const subscribed = new Promise<void>((resolve) => {
        c.onSubscribe = () => resolve();
      });
      c.subscribe("secrets/#", 2);
      await within(subscribed, 5000, "SUBACK");
      for (const qos of [0, 1, 2] as const) {
        const info = c.publish(`secrets/${qos}`, `message at QoS ${qos}`, qos);
        assert.equal(info.rc, MQTT_ERR_SUCCESS);
        if (qos > 0) await within(info.waitForPublish(), 5000, "publish");
      }
      await until(() => got === 3, 5000, "three messages back");
      const unsubscribed = new Promise<void>((resolve) => {
        c.onUnsubscribe = () => resolve();
      });
      c.unsubscribe("secrets/#");
      await within(unsubscribed, 5000, "UNSUBACK");
      const disconnected = new Promise<void>((resolve) => {
        c.onDisconnect = () => resolve();
      });
      c.disconnect();
      await within(disconnected, 5000, "onDisconnect");
      c.loopStop();
      assert.ok(lines.some((l) => l.startsWith(`onLog ${MQTT_LOG_DEBUG}: Sending CONNECT`)), "debug lines were produced");
      assert.ok(lines.some((l) => l.startsWith("logger.debug: Sending CONNECT")), "the enableLogger logger got them too");
      assertClean(lines);
    });

    test(`${name}: a refused connection (bad password) and a refused TCP connection`, async () => {
      const c = new Client({ protocol });
      live.push(c);
      const lines = recordLogs(c);
      c.usernamePwSet(USER, `${PASSWORD}-wrong`);
      c.willSet("will/topic", WILL, 0);
      const refused = new Promise<number>((resolve) => {
        c.onConnect = (_c, _u, _f, rc) => resolve(rc);
      });
      await within(c.connect(HOST, broker.port, 10), 5000, "connect()");
      c.loopStart();
      assert.notEqual(await within(refused, 5000, "the refusing CONNACK"), 0);
      await sleep(50);
      c.loopStop();
      assert.ok(lines.some((l) => /Connection refused/.test(l)), lines.join("\n"));

      const dead = await freePort();
      const c2 = new Client({ protocol });
      live.push(c2);
      const lines2 = recordLogs(c2);
      c2.usernamePwSet(USER, PASSWORD);
      c2.willSet("will/topic", WILL, 0);
      await c2.connect(HOST, dead).then(() => assert.fail("connect() to a closed port resolved"), () => {});
      assert.ok(lines2.some((l) => l.includes(`connection refused by ${HOST}:${dead}`)), lines2.join("\n"));
      assertClean([...lines, ...lines2, `${c2.socket()}`]);
      // The password with the wrong suffix is not in the log either.
      for (const line of lines) assert.ok(!line.includes(`${PASSWORD}-wrong`), line);
    });
  }
});

// ---- a hostile broker -----------------------------------------------------------------------------

/** A scripted broker registered for closing after the test. */
async function scripted(handler: (conn: ScriptedConnection) => Promise<void>): Promise<ScriptedBroker> {
  const broker = await startScriptedBroker(handler);
  brokers.push(broker);
  return broker;
}

/** Reads CONNECT, answers CONNACK, returns the CONNECT. */
async function accept(conn: ScriptedConnection): Promise<Packet> {
  const connect = await conn.next();
  assert.equal(connect?.type, CONNECT);
  await conn.send({ type: CONNACK, sessionPresent: false, reasonCode: 0 });
  return connect!;
}

/** The client's next packet of `type`, skipping others; null if the connection closed first. */
async function nextOf(conn: ScriptedConnection, type: number, ms = 5000): Promise<Packet | null> {
  for (;;) {
    const p = await conn.next(ms);
    if (p === null || p.type === type) return p;
  }
}

interface Watched {
  client: Client;
  logs: string[];
  disconnects: number[];
  messages: number;
}

function watched(protocol: 4 | 5): Watched {
  const client = new Client({ protocol });
  live.push(client);
  const w: Watched = { client, logs: [], disconnects: [], messages: 0 };
  // The last 200 lines only: a flood logs a debug line per message, which the test must not keep.
  client.onLog = (_c, _u, _l, m) => {
    if (w.logs.length >= 200) w.logs.shift();
    w.logs.push(m);
  };
  client.onDisconnect = (_c, _u, _f, rc) => w.disconnects.push(rc);
  client.reconnectDelaySet(60, 60);
  return w;
}

async function up(w: Watched, port: number, loop = true): Promise<void> {
  const connected = new Promise<void>((resolve) => {
    w.client.onConnect = () => resolve();
  });
  await within(w.client.connect(HOST, port, 30), 5000, "connect()");
  if (loop) w.client.loopStart();
  else while (!w.client.isConnected()) await within(w.client.loop(0.05), 5000, "loop()");
  await within(connected, 5000, "CONNACK");
}

/** Raw MQTT bytes: fixed header byte, then the body with its Remaining Length. */
function packet(first: number, body: number[] | Uint8Array): Uint8Array {
  const b = body instanceof Uint8Array ? body : Uint8Array.from(body);
  const len: number[] = [];
  let n = b.length;
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n > 0) byte |= 0x80;
    len.push(byte);
  } while (n > 0);
  const out = new Uint8Array(1 + len.length + b.length);
  out[0] = first;
  out.set(len, 1);
  out.set(b, 1 + len.length);
  return out;
}

function utf8Field(s: string): number[] {
  const b = Buffer.from(s);
  return [b.length >> 8, b.length & 0xff, ...b];
}

describe("a hostile broker cannot make the client allocate without bound", { timeout: 120_000 }, () => {
  for (const protocol of [MQTTv311, MQTTv5] as const) {
    const name = protocol === MQTTv5 ? "MQTT 5" : "MQTT 3.1.1";

    test(`${name}: a 256 MB Remaining Length: clean disconnect (0x95 Packet too large), memory flat`, async (t) => {
      let streamed = 0;
      let disconnect: Packet | null = null;
      const broker = await scripted(async (conn) => {
        await accept(conn);
        await conn.sendRaw(new Uint8Array([0x30, 0xff, 0xff, 0xff, 0x7f]));
        const reading = nextOf(conn, DISCONNECT).then((p) => {
          disconnect = p;
        }, () => {});
        const chunk = new Uint8Array(64 * 1024);
        while (!conn.socket.destroyed && streamed < 64 * MiB) {
          await conn.sendRaw(chunk);
          streamed += chunk.length;
        }
        await reading;
      });
      const w = watched(protocol);
      await up(w, broker.port);
      const base = await retained();
      await until(() => w.disconnects.length > 0, 5000, () => `onDisconnect\n${w.logs.join("\n")}`);
      assert.equal(w.disconnects[0], 0x95);
      if (protocol === MQTTv5) {
        await until(() => disconnect !== null, 5000, "DISCONNECT at the broker");
        assert.equal((disconnect as { reasonCode?: number } | null)?.reasonCode, 0x95);
      }
      await sleep(200);
      const grew = (await retained()) - base;
      t.diagnostic(`retained growth ${mib(grew)}; the broker got ${streamed} bytes into the socket`);
      assert.ok(grew < 2 * MiB, `memory grew by ${mib(grew)}`);
      assert.ok(streamed < 32 * MiB, `the client stopped reading (${streamed} bytes taken)`);
    });

    test(`${name}: a QoS 0 flood while the application does not read: held back by TCP, then all delivered in order`, async (t) => {
      const COUNT = 20_480;
      const PER_WRITE = 64;
      const props = protocol === MQTTv5 ? [0] : [];
      let sent = 0;
      const broker = await scripted(async (conn) => {
        await accept(conn);
        const body = new Uint8Array(1024);
        const view = new DataView(body.buffer);
        for (let i = 0; i < COUNT; i += PER_WRITE) {
          const parts: Uint8Array[] = [];
          for (let j = i; j < i + PER_WRITE; j++) {
            view.setUint32(0, j);
            parts.push(packet(0x30, [...utf8Field("flood"), ...props, ...body]));
          }
          await conn.sendRaw(Buffer.concat(parts));
          sent = i + PER_WRITE;
        }
        await conn.closed;
      });
      const w = watched(protocol);
      let next = 0;
      let outOfOrder = 0;
      w.client.onMessage = (_c, _u, m) => {
        const n = new DataView(m.payload.buffer, m.payload.byteOffset, 4).getUint32(0);
        if (n !== next) outOfOrder++;
        next = n + 1;
      };
      await up(w, broker.port, false);
      const base = await retained();
      await sleep(1500);
      const stalled = (await retained()) - base;
      const aheadWhileStalled = sent - next;
      let peak = stalled;
      const deadline = Date.now() + 60_000;
      for (let i = 0; next < COUNT; i++) {
        if (Date.now() > deadline) throw new Error(`flood not delivered in 60 s: ${next} of ${COUNT}`);
        await w.client.loop(0.02);
        await sleep(5);
        if (i % 20 === 0) peak = Math.max(peak, (await retained()) - base);
      }
      t.diagnostic(`after a 1.5 s stall: ${mib(stalled)} retained, the broker ${aheadWhileStalled} messages ahead; peak ${mib(peak)}`);
      assert.equal(next, COUNT);
      assert.equal(outOfOrder, 0);
      assert.ok(aheadWhileStalled < COUNT / 2, `the broker was held back (${aheadWhileStalled} messages ahead)`);
      assert.ok(peak < 4 * MiB, `memory grew by ${mib(peak)} during a 20 MB flood`);
    });

    test(`${name}: a QoS 1 flood while the broker does not read the PUBACKs: memory bounded, then every message delivered and acknowledged once`, async (t) => {
      const COUNT = 5120;
      let sent = 0;
      let acks = 0;
      let readAcks = (): void => {};
      const start = new Promise<void>((resolve) => {
        readAcks = resolve;
      });
      const broker = await scripted(async (conn) => {
        await accept(conn);
        const body = new Uint8Array(512);
        const writing = (async () => {
          for (let i = 0; i < COUNT; i += 32) {
            const parts: Uint8Array[] = [];
            for (let j = i; j < i + 32; j++) {
              const id = (j % 65535) + 1;
              new DataView(body.buffer).setUint32(0, j);
              parts.push(packet(0x32, [...utf8Field("flood/1"), id >> 8, id & 0xff, ...(protocol === MQTTv5 ? [0] : []), ...body]));
            }
            await conn.sendRaw(Buffer.concat(parts));
            sent = i + 32;
          }
        })();
        // The broker stops reading: the client's PUBACKs pile up in its output, then in TCP.
        conn.socket.pause();
        await start;
        conn.socket.resume();
        while (acks < COUNT) {
          const p = await conn.next(10_000);
          if (p === null) break;
          if (p.type === PUBACK) acks++;
        }
        await writing;
      });
      const w = watched(protocol);
      let delivered = 0;
      let next = 0;
      let outOfOrder = 0;
      w.client.onMessage = (_c, _u, m) => {
        const n = new DataView(m.payload.buffer, m.payload.byteOffset, 4).getUint32(0);
        if (n !== next) outOfOrder++;
        next = n + 1;
        delivered++;
      };
      await up(w, broker.port);
      const base = await retained();
      await sleep(1500);
      const stalled = (await retained()) - base;
      const deliveredWhileStalled = delivered;
      // 5000 PUBACKs (20 KB) fit the socket buffers, so the client need not stop reading here; what it
      // keeps meanwhile is bounded all the same.
      t.diagnostic(`while the broker did not read: ${deliveredWhileStalled} delivered, the broker ${sent} sent, ${mib(stalled)} retained`);
      assert.ok(stalled < 4 * MiB, `memory grew by ${mib(stalled)}`);
      readAcks();
      await until(() => acks === COUNT && delivered === COUNT, 30_000, () => `all ${COUNT} delivered and acknowledged (delivered ${delivered}, acks ${acks})`);
      assert.equal(outOfOrder, 0);
      assert.equal(w.disconnects.length, 0);
    });
  }

  test("MQTT 5: thousands of topic aliases: those within our Topic Alias Maximum are used, the first above it is 0x94", async (t) => {
    let connectProps: Record<string, unknown> | undefined;
    let disconnect: Packet | null = null;
    const broker = await scripted(async (conn) => {
      const connect = await accept(conn);
      connectProps = (connect as { properties?: Record<string, unknown> }).properties;
      const parts: Uint8Array[] = [];
      for (let alias = 1; alias <= 5000; alias++) {
        parts.push(packet(0x30, [...utf8Field(`alias/${alias}/${"x".repeat(200)}`), 3, 0x23, alias >> 8, alias & 0xff, ...Buffer.from("p")]));
      }
      await conn.sendRaw(Buffer.concat(parts));
      disconnect = await nextOf(conn, DISCONNECT).catch(() => null);
    });
    const w = watched(MQTTv5);
    w.client.onMessage = () => {
      w.messages++;
    };
    const base = await retained();
    await up(w, broker.port);
    await until(() => w.disconnects.length > 0, 5000, () => `onDisconnect\n${w.logs.slice(-5).join("\n")}`);
    assert.equal(connectProps?.["topicAliasMaximum"], 64, "the client advertised its budget's Topic Alias Maximum");
    assert.equal(w.messages, 64);
    assert.equal(w.disconnects[0], 0x94);
    await until(() => disconnect !== null, 5000, "DISCONNECT at the broker");
    assert.equal((disconnect as { reasonCode?: number } | null)?.reasonCode, 0x94);
    assert.ok(w.logs.some((l) => /topic alias 65 is above our Topic Alias Maximum of 64/.test(l)), w.logs.join("\n"));
    const grew = (await retained()) - base;
    t.diagnostic(`retained growth ${mib(grew)}`);
    assert.ok(grew < 2 * MiB, `memory grew by ${mib(grew)}`);
  });

  test("MQTT 5: 20,000 re-assignments of the 64 aliases to new 2 KB topics: all delivered by the right topic, memory bounded", async (t) => {
    const COUNT = 20_000;
    const topicOf = (i: number): string => `re/${i}/${"y".repeat(2000)}`;
    const broker = await scripted(async (conn) => {
      await accept(conn);
      for (let i = 0; i < COUNT; i += 100) {
        const parts: Uint8Array[] = [];
        for (let j = i; j < i + 100; j++) {
          const alias = (j % 64) + 1;
          // Set the alias with the topic, then use it alone.
          parts.push(packet(0x30, [...utf8Field(topicOf(j)), 3, 0x23, 0, alias, 1]));
          parts.push(packet(0x30, [0, 0, 3, 0x23, 0, alias, 2]));
        }
        await conn.sendRaw(Buffer.concat(parts));
      }
      await conn.closed;
    });
    const w = watched(MQTTv5);
    let wrong = 0;
    let count = 0;
    w.client.onMessage = (_c, _u, m) => {
      const i = count >> 1;
      if (m.topic !== topicOf(i)) wrong++;
      count++;
    };
    await up(w, broker.port);
    const base = await retained();
    let peak = 0;
    const deadline = Date.now() + 30_000;
    while (count < 2 * COUNT) {
      if (Date.now() > deadline) throw new Error(`only ${count} of ${2 * COUNT} delivered`);
      await sleep(50);
      peak = Math.max(peak, (await retained()) - base);
    }
    t.diagnostic(`peak retained growth ${mib(peak)} over ${COUNT} alias assignments (${mib(COUNT * 2000)} of topics)`);
    assert.equal(wrong, 0);
    assert.equal(w.disconnects.length, 0);
    assert.ok(peak < 4 * MiB, `memory grew by ${mib(peak)}`);
  });

  for (const c of [
    { name: "a property length past the end of the packet", bytes: packet(0x30, [...utf8Field("t"), 0xff, 0xff, 0x0f, 0x26, 0, 1, 0x61]), code: 0x81 },
    { name: "a property length whose Variable Byte Integer never ends", bytes: packet(0x30, [...utf8Field("t"), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), code: 0x81 },
    { name: "a user property whose length runs past the block", bytes: packet(0x30, [...utf8Field("t"), 5, 0x26, 0xff, 0xff, 0, 0]), code: 0x81 },
  ]) {
    test(`MQTT 5: ${c.name}: clean disconnect with 0x${c.code.toString(16)}`, async () => {
      let disconnect: Packet | null = null;
      const broker = await scripted(async (conn) => {
        await accept(conn);
        await conn.sendRaw(c.bytes);
        disconnect = await nextOf(conn, DISCONNECT).catch(() => null);
      });
      const w = watched(MQTTv5);
      w.client.onMessage = () => {
        w.messages++;
      };
      await up(w, broker.port);
      await until(() => w.disconnects.length > 0, 5000, () => `onDisconnect\n${w.logs.join("\n")}`);
      assert.equal(w.disconnects[0], c.code);
      assert.equal(w.messages, 0);
      await until(() => disconnect !== null, 5000, "DISCONNECT at the broker");
      assert.equal((disconnect as { reasonCode?: number } | null)?.reasonCode, c.code);
    });
  }

  test("MQTT 5: PUBLISH after PUBLISH with a property list as long as the packet allows (user properties): delivered, memory bounded", async (t) => {
    const COUNT = 200;
    // About 250 KB of user properties per packet: just under the default 256 KB Maximum Packet Size.
    const pair = [0x26, ...utf8Field("k"), ...utf8Field("v".repeat(100))];
    const pairs = Math.floor((250 * 1024) / pair.length);
    const props: number[] = [];
    for (let i = 0; i < pairs; i++) props.push(...pair);
    const len: number[] = [];
    let n = props.length;
    do {
      let byte = n & 0x7f;
      n >>>= 7;
      if (n > 0) byte |= 0x80;
      len.push(byte);
    } while (n > 0);
    const one = packet(0x30, Uint8Array.from([...utf8Field("props"), ...len, ...props, 0x21]));
    const broker = await scripted(async (conn) => {
      await accept(conn);
      for (let i = 0; i < COUNT; i++) await conn.sendRaw(one);
      await conn.closed;
    });
    const w = watched(MQTTv5);
    let seenPairs = 0;
    w.client.onMessage = (_c, _u, m) => {
      // The application looks at every property: the objects are made, and must not be kept.
      seenPairs += m.properties?.userProperties?.length ?? 0;
      w.messages++;
    };
    await up(w, broker.port);
    const base = await retained();
    let peak = 0;
    const deadline = Date.now() + 30_000;
    while (w.messages < COUNT) {
      if (Date.now() > deadline) throw new Error(`only ${w.messages} of ${COUNT} delivered\n${w.logs.slice(-3).join("\n")}`);
      await sleep(20);
      peak = Math.max(peak, (await retained()) - base);
    }
    t.diagnostic(`peak retained growth ${mib(peak)} over ${COUNT} packets of ${pairs} user properties (${mib(COUNT * one.length)})`);
    assert.equal(seenPairs, COUNT * pairs);
    assert.equal(w.disconnects.length, 0);
    assert.ok(peak < 8 * MiB, `memory grew by ${mib(peak)}`);
  });
});
