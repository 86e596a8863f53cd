/*
 * bench:moddable, tinymqtt's smallest profile ("tinymqtt/lite", manifests/lite.json, 1 KiB packets), with the
 * API of Moddable's mqtt module: the same calls as ../moddable-mqtt/main.js. See ../workload.js.
 */
import Client from "tinymqtt/lite";
import config from "mc/config";
import { runWorkload, snapshot } from "workload";

const payload = "x".repeat(32);
snapshot("start");
const client = new Client({ host: String(config.broker), port: Number(config.port), id: "bench-lite", maxPacketSize: 1024 });
client.onReady = () => runWorkload(() => client.publish("bench/lite", payload));
