/*
 * bench:moddable, tinymqtt's 3.1.1 profile ("tinymqtt/mqtt311", manifests/mqtt311.json, 1 KiB packets): see ../workload.js.
 */
import { Client } from "tinymqtt/mqtt311";
import config from "mc/config";
import { runWorkload, snapshot } from "workload";

const payload = "x".repeat(32);
snapshot("start");
const client = new Client({ clientId: "bench-mqtt311", budget: { maxPacketSize: 1024, outputBytes: 1024, storeBytes: 1024, maxMessages: 8, maxIncomingQos2: 4, maxTopicAliases: 0 } });
client.onConnect = () => runWorkload(() => client.publish("bench/mqtt311", payload, 0));
client.connectAsync(String(config.broker), Number(config.port), 60);
client.loopStart();
