/**
 * Paho's "External event loop support" (its examples/loop_asyncio.py): the program's own event loop owns
 * the socket. The socket callbacks register it: readable -> loopRead(), writable again -> loopWrite(), and
 * loopMisc() every second for keepalive and retries. Here the outside loop is Node's own, driven through
 * the socket's events; on Moddable it would be the host's socket callbacks.
 *
 *   node dist/examples/external-loop.js [host] [port] [count]     (or MQTT_HOST, MQTT_PORT)
 *
 * It subscribes, publishes `count` messages (default 3) to itself, and disconnects once all came back.
 */
import type { Socket } from "node:net";
import { Client, type MQTTMessage } from "tinymqtt";

const host = process.argv[2] ?? process.env["MQTT_HOST"] ?? "localhost";
const port = Number(process.argv[3] ?? process.env["MQTT_PORT"] ?? 1883);
const count = Number(process.argv[4] ?? 3);
const topic = "paho/test/external-loop";

/** Connects the client's socket to the outside event loop, as Paho's AsyncioHelper does. */
class EventLoopHelper {
  private misc: ReturnType<typeof setInterval> | undefined;

  constructor(client: Client) {
    client.onSocketOpen = (c, userdata, sock) => {
      console.log("Socket opened");
      (sock as Socket).on("readable", () => c.loopRead());
      this.misc = setInterval(() => c.loopMisc(), 1000);
    };
    client.onSocketClose = (c, userdata, sock) => {
      console.log("Socket closed");
      (sock as Socket).removeAllListeners("readable");
      clearInterval(this.misc);
    };
    client.onSocketRegisterWrite = (c, userdata, sock) => {
      (sock as Socket).once("drain", () => c.loopWrite());
    };
    client.onSocketUnregisterWrite = () => {};
  }
}

let received = 0;
const client = new Client();
new EventLoopHelper(client);
client.onConnect = (c) => c.subscribe(topic, 1);
client.onSubscribe = (c) => {
  for (let i = 1; i <= count; i++) c.publish(topic, `message ${i}`, 1);
};
client.onMessage = (c, userdata, msg: MQTTMessage) => {
  console.log(`Got response with ${msg.payload.length} bytes: ${new TextDecoder().decode(msg.payload)}`);
  if (++received === count) c.disconnect();
};
const disconnected = new Promise<void>((resolve) => {
  client.onDisconnect = () => resolve();
});

await client.connect(host, port, 60);
await disconnected;
console.log("Disconnected");
