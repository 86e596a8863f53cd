/*
 * bench:moddable, the peer's side: Moddable's own mqtt module ($(MODULES)/network/mqtt, MQTT 3.1.1, QoS 0),
 * taken from the SDK at build time: see ../workload.js.
 */
import Client from "mqtt";
import config from "mc/config";
import { runWorkload, snapshot } from "workload";

const payload = "x".repeat(32);
snapshot("start");
const client = new Client({ host: String(config.broker), port: Number(config.port), id: "bench-moddable" });
client.onReady = () => runWorkload(() => client.publish("bench/moddable", payload));
