/*
 * bench:moddable, tinymqtt's side ("tinymqtt", the smallest Paho profile): heap before the client, once it
 * is connected and idle, and after `messages` and 5 x `messages` QoS 0 publishes of 32 bytes (slot growth).
 */
import { Client } from "tinymqtt";
import Timer from "timer";
import config from "mc/config";
import { snapshot } from "memory";

const messages = Number(config.messages);
const payload = "x".repeat(32);
snapshot("start");
let client = new Client({ clientId: "bench-tinymqtt", budget: { maxPacketSize: 1024, outputBytes: 1024, storeBytes: 1024, maxMessages: 8, maxIncomingQos2: 4, maxTopicAliases: 0 } });

function burst(count, then) {
	let left = count;
	const step = () => {
		for (let i = 0; i < 10 && left > 0; i++, left--) client.publish("bench/tinymqtt", payload, 0);
		Timer.set(left > 0 ? step : then, 1);
	};
	step();
}

client.onConnect = () => {
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
};
client.connectAsync(String(config.broker), Number(config.port), 60);
client.loopStart();
