/*
 * bench:moddable, tinymqtt's ECMA-419 profile ("embedded:network/mqtt/client"), on the same workload.
 */
import MQTTClient from "embedded:network/mqtt/client";
import Timer from "timer";
import config from "mc/config";
import { snapshot } from "memory";

const messages = Number(config.messages);
const payload = ArrayBuffer.fromString("x".repeat(32));
snapshot("start");
let client;

function burst(count, then) {
	let left = count;
	const step = () => {
		for (let i = 0; i < 10 && left > 0; i++, left--) client.write(payload, { topic: "bench/ecma419", QoS: 0 });
		Timer.set(left > 0 ? step : then, 1);
	};
	step();
}

client = new MQTTClient({
	host: String(config.broker), port: Number(config.port), id: "bench-ecma419", keepAlive: 60_000,
	budget: { maxPacketSize: 1024, outputBytes: 1024, storeBytes: 1024, maxMessages: 8, maxIncomingQos2: 4, maxTopicAliases: 0 },
	onControl(message) {
		if (message.operation !== MQTTClient.CONNACK) return;
		Timer.set(() => {
			snapshot("idle");
			burst(messages, () => {
				snapshot("after 1x");
				burst(4 * messages, () => {
					snapshot("after 5x");
					trace("bench: done\n");
				});
			});
		}, 100);
	},
});
