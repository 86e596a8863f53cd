/**
 * Paho's "Publish Single Example": one message, then a clean disconnect.
 *
 *   node dist/examples/publish-single.js [host] [port]     (or MQTT_HOST, MQTT_PORT)
 */
import * as publish from "tinymqtt/publish";

const hostname = process.argv[2] ?? process.env["MQTT_HOST"] ?? "localhost";
const port = Number(process.argv[3] ?? process.env["MQTT_PORT"] ?? 1883);

await publish.single("paho/test/single", "payload", { hostname, port });
