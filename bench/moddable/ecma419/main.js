/*
 * bench:moddable, tinymqtt's ECMA-419 profile ("embedded:network/mqtt/client", 1 KiB packets): see ../workload.js.
 */
import MQTTClient from "embedded:network/mqtt/client";
import config from "mc/config";
import { runWorkload, snapshot } from "workload";

const payload = ArrayBuffer.fromString("x".repeat(32));
snapshot("start");
new MQTTClient({
	host: String(config.broker), port: Number(config.port), id: "bench-ecma419", keepAlive: 60_000,
	budget: { maxPacketSize: 1024, outputBytes: 1024, storeBytes: 1024, maxMessages: 8, maxIncomingQos2: 4, maxTopicAliases: 0 },
	onControl(message) {
		if (message.operation === MQTTClient.CONNACK) runWorkload(() => this.write(payload, { topic: "bench/ecma419", QoS: 0 }));
	},
});
