/**
 * Paho's "Loop Start/Stop Example" with its publish(), wait_for_publish(), on_connect and on_disconnect
 * examples: the network loop runs in the background while the program reads a (simulated) sensor and
 * publishes each reading, waiting until it is published.
 *
 *   node dist/examples/loop-start.js [host] [port] [count]     (or MQTT_HOST, MQTT_PORT)
 *
 * The original loops forever (`while True`); this one publishes `count` readings (default 3), then
 * disconnects and stops the loop.
 */
import { Client, type ConnectFlags, type DisconnectFlags, connackString } from "tinymqtt";

const host = process.argv[2] ?? process.env["MQTT_HOST"] ?? "localhost";
const port = Number(process.argv[3] ?? process.env["MQTT_PORT"] ?? 1883);
const count = Number(process.argv[4] ?? 3);

/** Stands in for a sensor whose read blocks: a reading every 100 ms. */
const sensor = {
  reading: 20,
  async blockingRead(): Promise<number> {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return (this.reading += 0.5);
  },
};

function onConnect(client: Client, userdata: unknown, flags: ConnectFlags, rc: number): void {
  console.log("Connection returned result: " + connackString(rc));
}

function onDisconnect(client: Client, userdata: unknown, flags: DisconnectFlags, rc: number): void {
  if (rc !== 0) console.log("Unexpected disconnection.");
}

const mqttc = new Client();
mqttc.onConnect = onConnect;
mqttc.onDisconnect = onDisconnect;
await mqttc.connect(host, port);
mqttc.loopStart();

for (let i = 0; i < count; i++) {
  const temperature = await sensor.blockingRead();
  const info = mqttc.publish("paho/temperature", temperature, 1);
  await info.waitForPublish();
  console.log(`published paho/temperature ${temperature} (mid ${info.mid}, isPublished: ${info.isPublished()})`);
}

mqttc.disconnect();
mqttc.loopStop();
