/**
 * Paho's "Publish Multiple Example": a message object and a message tuple, then a clean disconnect.
 *
 *   node dist/examples/publish-multiple.js [host] [port]     (or MQTT_HOST, MQTT_PORT)
 */
import * as publish from "tinymqtt/publish";

const hostname = process.argv[2] ?? process.env["MQTT_HOST"] ?? "localhost";
const port = Number(process.argv[3] ?? process.env["MQTT_PORT"] ?? 1883);

const msgs: publish.PublishMessage[] = [{ topic: "paho/test/multiple", payload: "multiple 1" },
  ["paho/test/multiple", "multiple 2", 0, false]];
await publish.multiple(msgs, { hostname, port });
