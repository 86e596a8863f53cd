/**
 * tinymqtt/lite on Node (hosts/node/lite.ts) against a real mosquitto: QoS 0/1/2 both ways, a will when the
 * link is cut, and a persistent session across a broker restart with a QoS 1/2 message published while the
 * broker was down.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Client } from "../../../hosts/node/lite.js";
import { type Broker, startMosquitto } from "../../support/mosquitto.js";
import { until } from "../../support/wait.js";

const text = (body: ArrayBuffer): string => Buffer.from(body).toString("utf8");

function ready(client: Client): Promise<void> {
  return new Promise((resolve) => (client.onReady = resolve));
}

describe("tinymqtt/lite against mosquitto", () => {
  let broker: Broker;
  const clients: Client[] = [];
  before(async () => {
    broker = await startMosquitto({ persistence: true, maxInflightMessages: 20, maxQueuedMessages: 1000 });
  });
  after(async () => {
    for (const c of clients) c.close();
    await broker.stop();
  });
  const make = (options: Record<string, unknown>): Client => {
    const c = new Client({ host: "127.0.0.1", port: broker.port, ...options });
    clients.push(c);
    return c;
  };

  it("carries QoS 0, 1 and 2 both ways, each delivered once, retained flag kept", async () => {
    const sub = make({ id: "lite-sub" });
    const got: string[] = [];
    sub.onMessage = (topic, body) => got.push(`${topic}=${text(body)}`);
    await ready(sub);
    const granted: number[] = [];
    sub.onSubscribed = (_id, g) => granted.push(g);
    sub.subscribe("lite/qos/#", 2);
    await until(() => granted.length === 1, 5000, "SUBACK");
    assert.deepEqual(granted, [2]);
    const pub = make({ id: "lite-pub" });
    await ready(pub);
    const published: number[] = [];
    pub.onPublished = (id) => published.push(id);
    for (let i = 0; i < 20; i++) {
      assert.equal(pub.publish("lite/qos/0", `m${i}`), 0);
      assert.ok(pub.publish("lite/qos/1", `m${i}`, { quality: 1 }) > 0);
      assert.ok(pub.publish("lite/qos/2", `m${i}`, { quality: 2 }) > 0);
      await until(() => pub.unfinished <= 8, 5000, "room in flight for two more");
    }
    await until(() => got.length === 60 && published.length === 40, 10_000, () => `60 messages (have ${got.length}), 40 flows (have ${published.length})`);
    for (const q of [0, 1, 2]) {
      assert.deepEqual(got.filter((g) => g.startsWith(`lite/qos/${q}=`)), Array.from({ length: 20 }, (_, i) => `lite/qos/${q}=m${i}`));
    }
    // A retained message reaches a later subscriber.
    pub.publish("lite/retained", "kept", { quality: 1, retain: true });
    await until(() => pub.unfinished === 0, 5000, "the retained publish");
    const late = make({ id: "lite-late" });
    const retained: string[] = [];
    late.onMessage = (topic, body) => retained.push(`${topic}=${text(body)}`);
    await ready(late);
    late.subscribe("lite/retained", 1);
    await until(() => retained.length === 1, 5000, "the retained message");
    assert.deepEqual(retained, ["lite/retained=kept"]);
  });

  it("has its will published when the link goes without DISCONNECT, and not after close()", async () => {
    const watcher = make({ id: "lite-will-watch" });
    const wills: string[] = [];
    watcher.onMessage = (topic, body) => wills.push(`${topic}=${text(body)}`);
    await ready(watcher);
    watcher.subscribe("lite/will/#", 1);
    const polite = make({ id: "lite-polite", will: { topic: "lite/will/polite", message: "gone", quality: 1 } });
    await ready(polite);
    const cut = make({ id: "lite-cut", will: { topic: "lite/will/cut", message: "gone", quality: 1 } });
    await ready(cut);
    polite.close();
    cut.close(true);
    await until(() => wills.length >= 1, 5000, "the will");
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(wills, ["lite/will/cut=gone"]);
  });

  it("keeps a persistent session across a broker restart: what was published while the broker was down arrives", async () => {
    const sub = make({ id: "lite-session-sub", clean: false, reconnect: 100, reconnectMax: 400 });
    const got: string[] = [];
    sub.onMessage = (topic, body) => got.push(`${topic}=${text(body)}`);
    let readies = 0;
    sub.onReady = () => {
      readies++;
      if (readies === 1) sub.subscribe("lite/session/#", 2);
    };
    const pub = make({ id: "lite-session-pub", clean: false, reconnect: 100, reconnectMax: 400 });
    let pubReadies = 0;
    pub.onReady = () => pubReadies++;
    await until(() => readies === 1 && pubReadies === 1, 5000, "both connected");
    await new Promise((r) => setTimeout(r, 200));
    await broker.restart();
    // Published while the broker may still be down: kept, and sent once the client is back.
    const ids = [pub.publish("lite/session/1", "one", { quality: 1 }), pub.publish("lite/session/2", "two", { quality: 2 })];
    assert.ok(ids.every((id) => id > 0), `kept: ${ids.join(", ")}`);
    await until(() => got.length >= 2 && pub.unfinished === 0, 10_000, () => `both messages (have ${got.join(", ")}; unfinished ${pub.unfinished})`);
    assert.deepEqual([...got].sort(), ["lite/session/1=one", "lite/session/2=two"]);
    assert.ok(readies >= 2 && pubReadies >= 2, "both reconnected");
  });
});
