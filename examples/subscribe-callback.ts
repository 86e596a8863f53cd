/**
 * Paho's "Callback Example": print every message received on a topic.
 *
 *   node dist/examples/subscribe-callback.js [host] [port] [count]     (or MQTT_HOST, MQTT_PORT)
 *
 * The original runs until interrupted; here the callback disconnects after `count` messages (default 3),
 * which resolves subscribe.callback().
 */
import type { Client, MQTTMessage } from "tinymqtt";
import * as subscribe from "tinymqtt/subscribe";

const hostname = process.argv[2] ?? process.env["MQTT_HOST"] ?? "localhost";
const port = Number(process.argv[3] ?? process.env["MQTT_PORT"] ?? 1883);
const count = Number(process.argv[4] ?? 3);

function onMessagePrint(client: Client, userdata: unknown, message: MQTTMessage): void {
  console.log(`${message.topic} ${new TextDecoder().decode(message.payload)}`);
  const seen = userdata as { received: number };
  if (++seen.received === count) client.disconnect();
}

await subscribe.callback(onMessagePrint, "paho/test/callback", { hostname, port, userdata: { received: 0 } });
