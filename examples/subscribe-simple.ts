/**
 * Paho's "Simple Example": wait for one message and print it.
 *
 *   node dist/examples/subscribe-simple.js [host] [port]     (or MQTT_HOST, MQTT_PORT)
 */
import * as subscribe from "tinymqtt/subscribe";

const hostname = process.argv[2] ?? process.env["MQTT_HOST"] ?? "localhost";
const port = Number(process.argv[3] ?? process.env["MQTT_PORT"] ?? 1883);

const msg = await subscribe.simple("paho/test/simple", { hostname, port });
console.log(`${msg.topic} ${new TextDecoder().decode(msg.payload)}`);
