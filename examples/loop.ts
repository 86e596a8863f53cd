/**
 * Paho's "Loop Example" (`while run: mqttc.loop()`) with its on_message example: the program drives the
 * network loop itself, one loop() call at a time. It subscribes, publishes a message to itself, and stops
 * the loop once that message comes back.
 *
 *   node dist/examples/loop.js [host] [port]     (or MQTT_HOST, MQTT_PORT)
 */
import { Client, type MQTTMessage } from "tinymqtt";

const host = process.argv[2] ?? process.env["MQTT_HOST"] ?? "localhost";
const port = Number(process.argv[3] ?? process.env["MQTT_PORT"] ?? 1883);

let run = true;

function onMessage(client: Client, userdata: unknown, message: MQTTMessage): void {
  console.log("Received message '" + new TextDecoder().decode(message.payload) + "' on topic '"
    + message.topic + "' with QoS " + String(message.qos));
  run = false;
}

const mqttc = new Client();
mqttc.onMessage = onMessage;
mqttc.onConnect = (client) => client.subscribe("paho/test/loop", 1);
mqttc.onSubscribe = (client) => client.publish("paho/test/loop", "hello from loop()", 1);
await mqttc.connect(host, port, 60);

while (run) {
  await mqttc.loop();
}
mqttc.disconnect();
