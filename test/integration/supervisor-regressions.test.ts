/**
 * The connection lifecycle against a scripted broker on loopback (test/support/scripted-broker.ts), real
 * sockets and real time, for what the supervisor (src/connection/supervisor.ts) fixed or added:
 * - a broker that accepts and then closes at once is retried with a growing backoff, not every minDelay;
 * - disconnect() while waiting for CONNACK ends with Paho's normal onDisconnect, never onConnectFail;
 * - connectTimeoutSet(): a broker that never answers CONNECT is reported through onConnectFail, and through
 *   loopForever()'s promise when the first connection fails.
 * Every wait is bounded; every broker is closed in after().
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Client, MQTT_ERR_NO_CONN, MQTT_ERR_SUCCESS, MqttConnectionError } from "../../hosts/node/index.js";
import { CONNACK } from "../../src/codec/constants.js";
import { type ScriptedBroker, startScriptedBroker } from "../support/scripted-broker.js";
import { sleep, until } from "../support/wait.js";

const brokers: ScriptedBroker[] = [];
after(async () => {
  for (const b of brokers) await b.close();
});

async function broker(script: Parameters<typeof startScriptedBroker>[0]): Promise<ScriptedBroker> {
  const b = await startScriptedBroker(script);
  brokers.push(b);
  return b;
}

describe("the supervisor against a scripted broker", () => {
  test("a broker that accepts and then closes at once is retried after 0.2, 0.4, 0.8 s: the backoff is not reset by each CONNACK", async () => {
    const accepted: number[] = [];
    const b = await broker(async (conn) => {
      await conn.next();
      await conn.send({ type: CONNACK, sessionPresent: false, reasonCode: 0 });
      accepted.push(performance.now());
      // Closed 20 ms after CONNACK (an ACL kick): long enough for the client to read the CONNACK first.
      await sleep(20);
      conn.destroy();
    });
    const client = new Client({ clientId: "kicked" });
    let connects = 0;
    let disconnects = 0;
    client.onConnect = () => { connects++; };
    client.onDisconnect = () => { disconnects++; };
    client.reconnectDelaySet(0.2, 5);
    client.connectAsync(b.host, b.port, 60);
    client.loopStart();
    try {
      await until(() => accepted.length >= 4, 5_000, "four accepted connections");
    } finally {
      client.disconnect();
      client.loopStop();
    }
    const gaps = accepted.slice(1, 4).map((t, i) => t - accepted[i]!);
    // Reset on each CONNACK, every gap would be about 200 ms; doubling, they are about 200, 400, 800 ms.
    assert.ok(gaps[1]! >= 350 && gaps[2]! >= 700, `gaps ${gaps.map(Math.round).join(", ")} ms`);
    assert.ok(connects >= 3 && disconnects >= 3, `${connects} onConnect, ${disconnects} onDisconnect`);
  });

  test("disconnect() while waiting for CONNACK: DISCONNECT goes out, onDisconnect reports a normal disconnection, no onConnectFail", async () => {
    const seen: string[] = [];
    const b = await broker(async (conn) => {
      const connect = await conn.next();
      seen.push(`broker: ${connect?.type === 1 ? "CONNECT" : String(connect?.type)}`);
      const next = await conn.next();
      seen.push(`broker: ${next === null ? "closed" : next.type === 14 ? "DISCONNECT" : String(next.type)}`);
    });
    const client = new Client({ clientId: "impatient" });
    client.onConnectFail = () => seen.push("onConnectFail");
    client.onDisconnect = (_c, _u, flags, reasonCode) => seen.push(`onDisconnect ${reasonCode} ${flags.isDisconnectPacketFromServer}`);
    client.onLog = (_c, _u, _l, text) => { if (/closed by the broker/.test(text)) seen.push(text); };
    assert.equal(await client.connect(b.host, b.port, 60), MQTT_ERR_SUCCESS);
    const forever = client.loopForever();
    await until(() => seen.includes("broker: CONNECT"), 2_000, "the broker has the CONNECT");
    assert.equal(client.disconnect(), MQTT_ERR_SUCCESS);
    assert.equal(await forever, MQTT_ERR_SUCCESS);
    await until(() => seen.length >= 3, 2_000, "the broker saw the end");
    assert.deepEqual(seen, ["broker: CONNECT", "onDisconnect 0 false", "broker: DISCONNECT"]);
  });

  test("connectTimeoutSet(0.3) against a broker that never answers CONNECT: onConnectFail after 0.3 s, loopForever rejects with MQTT_ERR_NO_CONN", async () => {
    let connects = 0;
    const b = await broker(async (conn) => {
      connects++;
      await conn.closed;
    });
    const client = new Client({ clientId: "waiting", connectTimeout: 0.3 });
    const failed: number[] = [];
    client.onConnectFail = () => failed.push(performance.now());
    const started = performance.now();
    client.connectAsync(b.host, b.port, 60);
    const error = await client.loopForever().then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof MqttConnectionError, String(error));
    assert.equal(error.rc, MQTT_ERR_NO_CONN);
    assert.match(error.message, /no CONNACK within the connect timeout/);
    assert.equal(failed.length, 1);
    assert.ok(failed[0]! - started >= 290 && failed[0]! - started < 3_000, `onConnectFail after ${Math.round(failed[0]! - started)} ms`);
    assert.equal(connects, 1);
  });

  test("connectTimeoutSet and the connectTimeout option refuse what is not a positive number of seconds", () => {
    const client = new Client({ clientId: "x" });
    assert.throws(() => client.connectTimeoutSet(0), RangeError);
    assert.throws(() => client.connectTimeoutSet(Number.NaN), RangeError);
    assert.throws(() => new Client({ connectTimeout: -1 }), RangeError);
    client.connectTimeoutSet(2.5);
  });
});
