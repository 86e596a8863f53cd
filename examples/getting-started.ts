/**
 * Paho's "Getting Started", line by line: subscribe to the broker's $SYS topic tree and print the messages.
 *
 *   node dist/examples/getting-started.js [host] [port] [count]     (or MQTT_HOST, MQTT_PORT)
 *
 * The original runs until interrupted; this one disconnects after `count` messages (default 5), which ends
 * loopForever().
 */
import { Client, type ConnectFlags, type MQTTMessage } from "tinymqtt";

const host = process.argv[2] ?? process.env["MQTT_HOST"] ?? "localhost";
const port = Number(process.argv[3] ?? process.env["MQTT_PORT"] ?? 1883);
const count = Number(process.argv[4] ?? 5);
let received = 0;

// The callback for when the client receives a CONNACK response from the server.
function onConnect(client: Client, userdata: unknown, flags: ConnectFlags, rc: number): void {
  console.log("Connected with result code " + String(rc));

  // Subscribing in onConnect() means that if we lose the connection and
  // reconnect then subscriptions will be renewed.
  client.subscribe("$SYS/#");
}

// The callback for when a PUBLISH message is received from the server.
function onMessage(client: Client, userdata: unknown, msg: MQTTMessage): void {
  console.log(msg.topic + " " + new TextDecoder().decode(msg.payload));
  if (++received === count) client.disconnect();
}

const client = new Client();
client.onConnect = onConnect;
client.onMessage = onMessage;

await client.connect(host, port, 60);

// Blocking call that processes network traffic, dispatches callbacks and
// handles reconnecting.
// Other loop*() functions are available that give a threaded interface and a
// manual interface.
await client.loopForever();
