/**
 * examples/ (Paho's README examples in TypeScript), each run as a program against a real mosquitto, its
 * broker given on the command line (or by MQTT_HOST / MQTT_PORT), its output checked, and what it published
 * checked by a subscriber of our own.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Client } from "../../../hosts/node/index.js";
import { single } from "../../../hosts/node/publish-helpers.js";
import { type Broker, startMosquitto } from "../../support/mosquitto.js";
import { type Run, runNode } from "../../support/run.js";

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** Runs dist/examples/<name>.js; killed (and the test failed) after timeoutMs. */
function runExample(name: string, args: string[], env: Record<string, string> = {}, timeoutMs = 10_000): Promise<Run> {
  const file = fileURLToPath(new URL(`../../../examples/${name}.js`, import.meta.url));
  return runNode(file, args, { env, timeoutMs, what: `example ${name}` });
}

/** A client of our own, subscribed (SUBACK received) before it returns; collects payloads. */
async function subscriber(broker: Broker, filter: string): Promise<{ payloads: string[]; received(n: number): Promise<string[]>; close(): Promise<void> }> {
  const client = new Client();
  const payloads: string[] = [];
  let wake = (): void => {};
  client.onMessage = (_c, _u, message) => {
    payloads.push(text(message.payload));
    wake();
  };
  const subscribed = new Promise<void>((resolve) => {
    client.onSubscribe = () => resolve();
  });
  client.onConnect = (c) => c.subscribe(filter, 1);
  await client.connect(broker.host, broker.port);
  client.loopStart();
  await subscribed;
  return {
    payloads,
    async received(n) {
      const deadline = Date.now() + 5000;
      while (payloads.length < n && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
      }
      return payloads;
    },
    async close() {
      const gone = new Promise<void>((resolve) => {
        client.onDisconnect = () => resolve();
      });
      client.disconnect();
      await gone;
      client.loopStop();
    },
  };
}

describe("examples against mosquitto", { timeout: 90_000 }, () => {
  let broker: Broker;
  before(async () => {
    broker = await startMosquitto();
  });
  after(() => broker?.stop());
  const at = (): string[] => [broker.host, String(broker.port)];
  const env = (): Record<string, string> => ({ MQTT_HOST: broker.host, MQTT_PORT: String(broker.port) });

  test("getting-started: subscribes to $SYS/# in onConnect and prints what loopForever() delivers", async () => {
    const run = await runExample("getting-started", [...at(), "3"]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split("\n");
    assert.equal(lines[0], "Connected with result code 0");
    assert.equal(lines.length, 4);
    for (const line of lines.slice(1)) assert.match(line, /^\$SYS\/broker\/\S+ \S/);
  });

  test("loop-start: publishes readings with the loop in the background, each one waited for", async () => {
    const sub = await subscriber(broker, "paho/temperature");
    try {
      const run = await runExample("loop-start", [...at(), "3"]);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(run.stdout.trimEnd().split("\n"), [
        "Connection returned result: Connection Accepted.",
        "published paho/temperature 20.5 (mid 1, isPublished: true)",
        "published paho/temperature 21 (mid 2, isPublished: true)",
        "published paho/temperature 21.5 (mid 3, isPublished: true)",
      ]);
      assert.deepEqual(await sub.received(3), ["20.5", "21", "21.5"]);
    } finally {
      await sub.close();
    }
  });

  test("loop: a hand-driven loop() receives its own message, printed as Paho's on_message example", async () => {
    const run = await runExample("loop", [], env());
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "Received message 'hello from loop()' on topic 'paho/test/loop' with QoS 1\n");
  });

  test("publish-single: one message at the broker", async () => {
    const sub = await subscriber(broker, "paho/test/single");
    try {
      const run = await runExample("publish-single", at());
      assert.deepEqual(run, { code: 0, stdout: "", stderr: "" });
      assert.deepEqual(await sub.received(1), ["payload"]);
    } finally {
      await sub.close();
    }
  });

  test("publish-multiple: an object and a tuple, in order", async () => {
    const sub = await subscriber(broker, "paho/test/multiple");
    try {
      const run = await runExample("publish-multiple", [], env());
      assert.deepEqual(run, { code: 0, stdout: "", stderr: "" });
      assert.deepEqual(await sub.received(2), ["multiple 1", "multiple 2"]);
    } finally {
      await sub.close();
    }
  });

  test("subscribe-simple: prints the (retained) message it waited for", async () => {
    await single("paho/test/simple", "hello simple", { hostname: broker.host, port: broker.port, qos: 1, retain: true });
    try {
      const run = await runExample("subscribe-simple", [], env());
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, "paho/test/simple hello simple\n");
    } finally {
      await single("paho/test/simple", null, { hostname: broker.host, port: broker.port, retain: true });
    }
  });

  test("subscribe-callback: prints every message until the callback disconnects", async () => {
    const publisher = new Client();
    await publisher.connect(broker.host, broker.port);
    publisher.loopStart();
    let i = 0;
    // Not knowing when the example has subscribed, publish until it exits.
    const timer = setInterval(() => publisher.publish("paho/test/callback", `callback ${++i}`, 1), 50);
    try {
      const run = await runExample("subscribe-callback", [...at(), "3"]);
      assert.equal(run.code, 0, run.stderr);
      const lines = run.stdout.trimEnd().split("\n");
      assert.equal(lines.length, 3, run.stdout);
      const first = Number(/^paho\/test\/callback callback (\d+)$/.exec(lines[0] ?? "")?.[1]);
      assert.ok(first > 0, run.stdout);
      assert.deepEqual(lines, [0, 1, 2].map((k) => `paho/test/callback callback ${first + k}`));
    } finally {
      clearInterval(timer);
      publisher.disconnect();
      publisher.loopStop();
    }
  });

  test("external-loop: the program's own loop drives loopRead/loopWrite/loopMisc through the socket callbacks", async () => {
    const run = await runExample("external-loop", [...at(), "3"]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.stdout.trimEnd().split("\n"), [
      "Socket opened",
      "Got response with 9 bytes: message 1",
      "Got response with 9 bytes: message 2",
      "Got response with 9 bytes: message 3",
      "Socket closed",
      "Disconnected",
    ]);
  });

  test("every example reports a broker it cannot reach and exits non-zero", async () => {
    const closed = [broker.host, "1"];
    for (const name of ["getting-started", "loop-start", "loop", "publish-single", "publish-multiple", "subscribe-simple", "subscribe-callback", "external-loop", "request-response"]) {
      const run = await runExample(name, closed);
      assert.notEqual(run.code, 0, name);
      assert.match(run.stderr, /connection refused by 127\.0\.0\.1:1/, name);
    }
  });
});
