/**
 * Several brokers and where connections come from: failoverSet() with loopStart() across two mosquitto
 * instances that are stopped in turn (messages keep flowing, the list is tried in order and rotated on
 * failure), connectSrv() over SRV records from an injected resolver (NodeHost.resolver: no DNS server),
 * and bindAddress as the broker sees it.
 *
 * Everything on loopback; every wait bounded; brokers stopped in after().
 */
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import {
  Client, MQTTv311, MQTT_ERR_NO_CONN, MQTT_ERR_SUCCESS, MqttConnectionError, NodeHost, type SrvTarget,
} from "../../hosts/node/index.js";
import { CONNACK } from "../../src/codec/index.js";
import { type Broker, freePort, startMosquitto } from "../support/mosquitto.js";
import { startScriptedBroker } from "../support/scripted-broker.js";
import { sleep, until, within } from "../support/wait.js";

const HOST = "127.0.0.1";

const live: Client[] = [];

afterEach(async () => {
  for (const c of live.splice(0)) {
    c.disconnect();
    c.loopStop();
  }
  await sleep(20);
});

function newClient(host?: NodeHost): Client {
  const c = new Client({ protocol: MQTTv311, host });
  live.push(c);
  return c;
}

/** "Connecting to host:port" lines of the client's debug log, as "host:port". */
function attempts(logs: string[]): string[] {
  return logs.flatMap((l) => {
    const m = /^Connecting to (\S+)$/.exec(l);
    return m === null ? [] : [m[1]!];
  });
}

/** Kills a broker's process (its folder and config stay, so restart() brings it back on the same port). */
async function kill(broker: Broker): Promise<void> {
  const proc = broker.process;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  proc.kill("SIGKILL");
  await within(exited, 5000, "mosquitto to exit");
}

describe("failover, SRV and bindAddress", { timeout: 120_000 }, () => {
  let a: Broker;
  let b: Broker;

  before(async () => {
    [a, b] = await Promise.all([startMosquitto(), startMosquitto()]);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  test("failoverSet + loopStart: the first broker stops, the client moves to the second; it stops, back to the first; messages keep flowing", async () => {
    const c = newClient();
    const logs: string[] = [];
    c.onLog = (_c, _u, _l, m) => logs.push(m);
    c.reconnectDelaySet(0.1, 0.4);
    c.failoverSet([{ host: HOST, port: b.port }]);
    const connectedTo: number[] = [];
    const received: Array<{ seq: number; via: number }> = [];
    c.onConnect = (client, _u, _f, rc) => {
      assert.equal(rc, 0);
      connectedTo.push((client.socket() as Socket).remotePort!);
      // Each broker is a separate one: subscribe again on every connection.
      client.subscribe("failover/#", 1);
    };
    c.onMessage = (client, _u, m) => {
      received.push({ seq: Number(Buffer.from(m.payload).toString()), via: (client.socket() as Socket).remotePort! });
    };
    assert.equal(await within(c.connect(HOST, a.port, 5), 5000, "connect()"), MQTT_ERR_SUCCESS);
    assert.equal(c.loopStart(), MQTT_ERR_SUCCESS);

    let seq = 0;
    const publisher = setInterval(() => {
      c.publish("failover/seq", String(seq++), 1);
    }, 20);
    try {
      const receivedVia = (port: number): number => received.filter((r) => r.via === port).length;
      await until(() => receivedVia(a.port) >= 20, 10_000, () => `20 messages through the first broker (got ${received.length})`);

      await kill(a);
      await until(() => connectedTo.length === 2, 10_000, () => `a connection to the second broker (connections: ${connectedTo.join(", ")})`);
      assert.equal(connectedTo[1], b.port);
      await until(() => receivedVia(b.port) >= 20, 10_000, () => `20 messages through the second broker (got ${receivedVia(b.port)})`);

      await a.restart();
      await kill(b);
      await until(() => connectedTo.length === 3, 15_000, () => `a connection back to the first broker (connections: ${connectedTo.join(", ")})`);
      assert.equal(connectedTo[2], a.port);
      const before = receivedVia(a.port);
      await until(() => receivedVia(a.port) >= before + 20, 10_000, "20 messages through the first broker again");
    } finally {
      clearInterval(publisher);
    }
    assert.deepEqual(connectedTo, [a.port, b.port, a.port]);
    // In order: the first broker until it failed, then the next one in the list, then round to the first.
    const tried = attempts(logs).map((t) => Number(t.split(":")[1]));
    const firstB = tried.indexOf(b.port);
    assert.ok(firstB > 0 && tried.slice(0, firstB).every((p) => p === a.port), `attempts: ${tried.join(", ")}`);
    // Messages came back in publishing order through each broker.
    for (const port of [a.port, b.port]) {
      const seqs = received.filter((r) => r.via === port).map((r) => r.seq);
      assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), `in order through ${port}`);
    }
    await b.restart();
  });

  test("failoverSet: dead brokers are tried in list order until one answers", async () => {
    const dead1 = await freePort();
    const dead2 = await freePort();
    const c = newClient();
    const logs: string[] = [];
    c.onLog = (_c, _u, _l, m) => logs.push(m);
    c.reconnectDelaySet(0.05, 0.05);
    c.failoverSet([{ host: HOST, port: dead2 }, { host: HOST, port: b.port }]);
    const connected = new Promise<void>((resolve) => {
      c.onConnect = () => resolve();
    });
    c.connectAsync(HOST, dead1, 5);
    c.loopStart();
    await within(connected, 10_000, "a connection to the third server in the list");
    assert.equal((c.socket() as Socket).remotePort, b.port);
    assert.deepEqual(attempts(logs), [`${HOST}:${dead1}`, `${HOST}:${dead2}`, `${HOST}:${b.port}`]);
  });

  test("failoverSet: a broker that refuses with 'server unavailable' (CONNACK 3 / v5 0x88) is a failure to connect: the next one is tried",
    async () => {
      for (const protocol of [MQTTv311, 5] as const) {
        const refusing = await startScriptedBroker(async (conn) => {
          await conn.next();
          await conn.send({ type: CONNACK, sessionPresent: false, reasonCode: protocol === 5 ? 0x88 : 3 });
          conn.end();
        });
        try {
          const c = new Client({ protocol });
          live.push(c);
          c.reconnectDelaySet(0.05, 0.1);
          c.failoverSet([{ host: HOST, port: b.port }]);
          const codes: number[] = [];
          c.onConnect = (_c, _u, _f, rc) => codes.push(rc);
          c.connectAsync(HOST, refusing.port, 5);
          c.loopStart();
          await until(() => codes.includes(0), 3000, () => `a connection to the next broker (CONNACK codes so far: ${codes.join(", ")})`);
          assert.equal((c.socket() as Socket).remotePort, b.port);
        } finally {
          await refusing.close();
        }
      }
    });

  test("failoverSet checks its input", () => {
    const c = newClient();
    assert.throws(() => c.failoverSet([{ host: "" }]), RangeError);
    assert.throws(() => c.failoverSet([{ host: HOST, port: 70000 }]), RangeError);
    assert.throws(() => c.failoverSet("x" as never), TypeError);
  });

  // ---- SRV ---------------------------------------------------------------------------------------

  type Record = SrvTarget & { priority: number; weight: number };

  test("NodeHost.resolveSrv: _mqtt._tcp records by priority, then weight (heaviest first), from the injected resolver", async () => {
    const host = new NodeHost();
    const asked: string[] = [];
    host.resolver = async (name) => {
      asked.push(name);
      return [
        { name: "c", port: 3, priority: 10, weight: 5 },
        { name: "d", port: 4, priority: 20, weight: 100 },
        { name: "a", port: 1, priority: 5, weight: 0 },
        { name: "b", port: 2, priority: 10, weight: 60 },
      ];
    };
    assert.deepEqual(await host.resolveSrv("_mqtt._tcp.example.test"), [
      { name: "a", port: 1 }, { name: "b", port: 2 }, { name: "c", port: 3 }, { name: "d", port: 4 },
    ]);
    assert.deepEqual(asked, ["_mqtt._tcp.example.test"]);
  });

  test("connectSrv: looks up _mqtt._tcp.<domain> through NodeHost.resolver and connects to the targets in priority/weight order", async () => {
    const dead1 = await freePort();
    const dead2 = await freePort();
    const host = new NodeHost();
    const asked: string[] = [];
    host.resolver = async (name): Promise<Record[]> => {
      asked.push(name);
      return [
        { name: HOST, port: b.port, priority: 20, weight: 0 },
        { name: HOST, port: dead2, priority: 10, weight: 1 },
        { name: HOST, port: dead1, priority: 10, weight: 50 },
      ];
    };
    const c = newClient(host);
    const logs: string[] = [];
    c.onLog = (_c, _u, _l, m) => logs.push(m);
    const connected = new Promise<void>((resolve) => {
      c.onConnect = () => resolve();
    });
    assert.equal(await within(c.connectSrv("example.test", 5, "127.0.0.2"), 10_000, "connectSrv()"), MQTT_ERR_SUCCESS);
    c.loopStart();
    await within(connected, 5000, "CONNACK");
    assert.deepEqual(asked, ["_mqtt._tcp.example.test"]);
    assert.deepEqual(attempts(logs), [`${HOST}:${dead1}`, `${HOST}:${dead2}`, `${HOST}:${b.port}`]);
    const socket = c.socket() as Socket;
    assert.equal(socket.remotePort, b.port);
    assert.equal(socket.localAddress, "127.0.0.2", "connectSrv's bindAddress is used");
  });

  test("connectSrv: no records, or every target refused: rejects with MQTT_ERR_NO_CONN", async () => {
    const host = new NodeHost();
    host.resolver = async () => [];
    const e = await newClient(host).connectSrv("empty.test").then(() => null, (x: unknown) => x);
    assert.ok(e instanceof MqttConnectionError, String(e));
    assert.equal(e.rc, MQTT_ERR_NO_CONN);
    assert.match(e.message, /no SRV records for empty\.test/);
    const dead = await freePort();
    host.resolver = async () => [{ name: HOST, port: dead, priority: 0, weight: 0 }];
    const e2 = await newClient(host).connectSrv("dead.test").then(() => null, (x: unknown) => x);
    assert.ok(e2 instanceof MqttConnectionError, String(e2));
    assert.equal(e2.rc, MQTT_ERR_NO_CONN);
    assert.equal(e2.message, `connection refused by ${HOST}:${dead}`);
  });

  // ---- bindAddress -------------------------------------------------------------------------------

  for (const address of ["127.0.0.1", "127.0.0.2"]) {
    test(`bindAddress ${address}: the socket is bound there and mosquitto logs the connection from it`, async () => {
      const c = newClient();
      const connected = new Promise<void>((resolve) => {
        c.onConnect = () => resolve();
      });
      await within(c.connect(HOST, b.port, 5, address), 5000, "connect()");
      c.loopStart();
      await within(connected, 5000, "CONNACK");
      const socket = c.socket() as Socket;
      assert.equal(socket.localAddress, address);
      await until(() => b.log.includes(`New client connected from ${address}:${socket.localPort} `), 5000,
        () => `mosquitto to log a client from ${address}:${socket.localPort}`);
    });
  }

  test("bindAddress that is not this machine's: connect() rejects with MQTT_ERR_NO_CONN and the system's reason", async () => {
    const e = await newClient().connect(HOST, b.port, 5, "192.0.2.1").then(() => null, (x: unknown) => x);
    assert.ok(e instanceof MqttConnectionError, String(e));
    assert.equal(e.rc, MQTT_ERR_NO_CONN);
    assert.match(e.message, /EADDRNOTAVAIL/);
    assert.doesNotMatch(e.message, /\n\s+at /);
  });
});
