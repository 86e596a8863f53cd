/*
 * bench:moddable, tinymqtt's side ("tinymqtt", the smallest Paho profile, 1 KiB packets): see ../workload.js.
 */
import { Client } from "tinymqtt";
import config from "mc/config";
import { runWorkload, snapshot } from "workload";

const payload = "x".repeat(32);
snapshot("start");
const client = new Client({ clientId: "bench-tinymqtt", budget: { maxPacketSize: 1024, outputBytes: 1024, storeBytes: 1024, maxMessages: 8, maxIncomingQos2: 4, maxTopicAliases: 0 } });
client.onConnect = () => runWorkload(() => client.publish("bench/tinymqtt", payload, 0));
client.connectAsync(String(config.broker), Number(config.port), 60);
client.loopStart();
