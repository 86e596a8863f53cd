/**
 * The client's argument checks (Paho raises ValueError/TypeError before anything is queued), option
 * functions, logger level mapping and topic matching: no broker needed.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { test } from "node:test";
import {
  Client, MQTTv31, MQTTv311, MQTTv5, MQTT_ERR_NO_CONN, MQTT_LOG_DEBUG, MQTT_LOG_ERR, MQTT_LOG_INFO, MQTT_LOG_NOTICE,
  MQTT_LOG_WARNING, ESP32_BUDGET, topicMatchesSub, toPayload,
} from "../../hosts/node/index.js";
import { FakeHost } from "../support/fake-host.js";

test("publish refuses bad topics, QoS and payloads with clear errors and queues nothing", () => {
  const c = new Client();
  assert.throws(() => c.publish(""), /topic must not be empty/);
  assert.throws(() => c.publish("a/+/b"), /wildcards/);
  assert.throws(() => c.publish("a/#"), /wildcards/);
  assert.throws(() => c.publish("a".repeat(65536)), /65535/);
  assert.throws(() => c.publish("a\u0000b"), /U\+0000/);
  assert.throws(() => c.publish(42 as unknown as string), /must be a string/);
  // @ts-expect-error qos is typed 0 | 1 | 2; a JavaScript caller still gets the RangeError
  assert.throws(() => c.publish("t", "x", 3), /invalid QoS 3/);
  // @ts-expect-error qos is typed 0 | 1 | 2; a JavaScript caller still gets the RangeError
  assert.throws(() => c.publish("t", "x", -1), /invalid QoS/);
  assert.throws(() => c.publish("t", { a: 1 } as unknown as string), TypeError);
  assert.throws(() => c.publish("t", Number.NaN), /no MQTT form/);
  // Not connected: MQTT_ERR_NO_CONN at every QoS (Paho's); QoS 0 is not queued, QoS 1 is kept for the connection.
  assert.equal(c.publish("t", "x", 0).rc, MQTT_ERR_NO_CONN);
  const info = c.publish("t", "x", 1);
  assert.equal(info.rc, MQTT_ERR_NO_CONN);
  assert.equal(info.isPublished(), false);
});

test("payloads follow Paho: bytes as given, strings as UTF-8, numbers as decimal text", () => {
  assert.deepEqual(toPayload("é"), new Uint8Array([0xc3, 0xa9]));
  assert.deepEqual(toPayload(21.5), new Uint8Array([0x32, 0x31, 0x2e, 0x35]));
  assert.deepEqual(toPayload(null), new Uint8Array(0));
  assert.deepEqual(toPayload(new Uint8Array([1, 2]).buffer), new Uint8Array([1, 2]));
});

test("subscribe and unsubscribe check every filter and QoS; not connected they return MQTT_ERR_NO_CONN", () => {
  const c = new Client({ protocol: MQTTv311 });
  assert.throws(() => c.subscribe("a/#/b"), /"#" must be a whole level/);
  assert.throws(() => c.subscribe("a+"), /"\+" must be a whole level/);
  assert.throws(() => c.subscribe(""), /must not be empty/);
  // @ts-expect-error qos is typed 0 | 1 | 2; a JavaScript caller still gets the RangeError
  assert.throws(() => c.subscribe("a", 3), /invalid QoS 3/);
  assert.throws(() => c.subscribe([["a", 1], ["b/#/c", 0]]), /whole level/);
  assert.throws(() => c.subscribe("a", 0, { noLocal: true }), /need MQTT 5/);
  assert.throws(() => c.subscribe([] as unknown as string), TypeError);
  assert.throws(() => c.unsubscribe([]), TypeError);
  assert.deepEqual(c.subscribe("a/+", 1), [MQTT_ERR_NO_CONN, 0]);
  assert.deepEqual(c.subscribe([["a", 1], ["b", 2]]), [MQTT_ERR_NO_CONN, 0]);
  assert.deepEqual(c.unsubscribe("a"), [MQTT_ERR_NO_CONN, 0]);
  const v5 = new Client({ protocol: MQTTv5 });
  assert.throws(() => v5.subscribe("$share/g/a", 0, { noLocal: true }), /No Local/);
  assert.throws(() => v5.subscribe("$share//a"), /group name/);
});

test("willSet checks its topic, QoS and payload size; constructor options are checked", () => {
  const c = new Client();
  assert.throws(() => c.willSet("w/+"), /invalid will topic/);
  // @ts-expect-error qos is typed 0 | 1 | 2; a JavaScript caller still gets the RangeError
  assert.throws(() => c.willSet("w", "x", 5), /invalid QoS/);
  assert.throws(() => c.willSet("w", new Uint8Array(65536)), /65535/);
  c.willSet("w", "bye", 1, true);
  c.willClear();
  assert.throws(() => new Client({ clientId: "", cleanSession: false }), /client id must be given/);
  assert.throws(() => new Client({ protocol: 6 as 5 }), /protocol must be/);
  assert.throws(() => new Client({ transport: "udp" as "tcp" }), /transport/);
  assert.throws(() => new Client({ budget: { maxMessages: 0 } }), /budget.maxMessages/);
  new Client({ budget: ESP32_BUDGET });
  new Client({ clientId: "", cleanSession: false, protocol: MQTTv5 });
});

test("connect arguments are checked before a socket is opened", async () => {
  const c = new Client();
  assert.throws(() => c.connectAsync("localhost", 0), /port/);
  assert.throws(() => c.connectAsync("localhost", 1883, -1), /keepalive/);
  assert.throws(() => c.connectAsync("", 1883), /host/);
  assert.throws(() => c.connectAsync("localhost", 1883, 60, "", true), /cleanStart is an MQTT 5 argument/);
  await assert.rejects(c.reconnect(), /reconnect\(\) before connect\(\)/);
  assert.throws(() => c.maxInflightMessagesSet(-1), /integer >= 0/);
  assert.throws(() => c.reconnectDelaySet(5, 1), /minDelay <= maxDelay/);
  assert.throws(() => c.tlsInsecureSet(true), /tlsSet/);
  assert.throws(() => c.wsSetOptions("/mqtt"), /websockets/);
});

test("a refused TCP connection rejects connect() with a clear reason, no stack soup", async () => {
  const c = new Client();
  const err = await c.connect("127.0.0.1", 1).then(() => undefined, (e: Error & { rc?: number }) => e);
  assert.ok(err instanceof Error);
  assert.equal(err.rc, MQTT_ERR_NO_CONN);
  assert.match(err.message, /connection refused by 127\.0\.0\.1:1/);
});

test("enableLogger maps Paho's levels onto the logger's methods; onLog gets every line", () => {
  const seen: string[] = [];
  const logger = { debug: (m: string) => seen.push(`debug ${m}`), info: (m: string) => seen.push(`info ${m}`),
    warn: (m: string) => seen.push(`warn ${m}`), error: (m: string) => seen.push(`error ${m}`) };
  const c = new Client();
  const levels: number[] = [];
  c.onLog = (_c, _u, level) => levels.push(level);
  c.enableLogger(logger);
  const log = (c as unknown as { log(level: number, m: string): void }).log.bind(c);
  log(MQTT_LOG_DEBUG, "d");
  log(MQTT_LOG_INFO, "i");
  log(MQTT_LOG_NOTICE, "n");
  log(MQTT_LOG_WARNING, "w");
  log(MQTT_LOG_ERR, "e");
  assert.deepEqual(seen, ["debug d", "info i", "info n", "warn w", "error e"]);
  assert.deepEqual(levels, [MQTT_LOG_DEBUG, MQTT_LOG_INFO, MQTT_LOG_NOTICE, MQTT_LOG_WARNING, MQTT_LOG_ERR]);
  c.disableLogger();
  log(MQTT_LOG_ERR, "gone");
  assert.equal(seen.length, 5);
});

test("MQTT 3.1 makes up a client id when none is given, within 3.1's 23 characters", () => {
  const host = new FakeHost();
  const c = new Client({ protocol: MQTTv31, host });
  void c.connect("broker");
  host.link.accept();
  host.flush();
  const id = host.link.log[0]!.clientId!;
  assert.match(id, /^tinymqtt-[0-9A-Za-z]{14}$/);
  assert.equal(id.length, 23);
});

test("topicMatchesSub follows Paho: + one level, # the rest and its parent, $ topics need an explicit first level", () => {
  const cases: Array<[string, string, boolean]> = [
    ["foo/bar", "foo/bar", true], ["foo/+", "foo/bar", true], ["foo/+/baz", "foo/bar/baz", true],
    ["foo/+/#", "foo/bar/baz", true], ["A/B/+/#", "A/B/B/C", true], ["#", "foo/bar/baz", true],
    ["#", "/foo/bar", true], ["/#", "/foo/bar", true], ["$SYS/bar", "$SYS/bar", true],
    ["foo/#", "foo", true], ["foo/+", "foo/", true], ["+/+", "/", true], ["+", "", true],
    ["test/6/#", "test/3", false], ["foo/bar", "foo", false], ["foo/+", "foo/bar/baz", false],
    ["foo/+/baz", "foo/bar/bar", false], ["foo/+/#", "fo2/bar/baz", false], ["/#", "foo/bar", false],
    ["#", "$SYS/bar", false], ["+/bar", "$SYS/bar", false], ["$BOB/bar", "$SYS/bar", false],
    ["$share/group/sensors/+", "sensors/a", true], ["$share/group/sensors/+", "other/a", false],
  ];
  for (const [sub, topic, expected] of cases) assert.equal(topicMatchesSub(sub, topic), expected, `${sub} vs ${topic}`);
});

test("publish() returns a MessageInfo that unpacks as Paho's tuple: const [rc, mid] = client.publish(...)", () => {
  const c = new Client();
  const info = c.publish("t", "x", 1);
  const [rc, mid] = info;
  assert.equal(rc, MQTT_ERR_NO_CONN);
  assert.equal(mid, info.mid);
  assert.ok(mid !== undefined && mid > 0);
  assert.equal([...info].length, 2);
});

test("the published types: MessageInfo's internal hooks are not in them, qos is 0 | 1 | 2", () => {
  const dts = (file: string): string => fs.readFileSync(new URL(file, import.meta.url), "utf8");
  const message = dts("../../src/paho/message.d.ts");
  assert.match(message, /class MessageInfo/);
  assert.doesNotMatch(message, /markFailed|markPublished/);
  assert.match(message, /\[Symbol\.iterator\]\(\): Iterator<number>/);
  const client = dts("../../src/paho/client.d.ts");
  assert.match(client, /publish\(topic: string, payload\?: Payload, qos\?: QoS,/);
  assert.doesNotMatch(client, /qos\??: number/);
});
