/*
 * bench:moddable, the peer's side: Moddable's own mqtt module ($(MODULES)/network/mqtt, MQTT 3.1.1, QoS 0),
 * taken from the SDK at build time, on the same workload as bench/moddable/tinymqtt.
 */
import Client from "mqtt";
import Timer from "timer";
import config from "mc/config";
import { snapshot } from "memory";

const messages = Number(config.messages);
const payload = "x".repeat(32);
snapshot("start");
let client = new Client({ host: String(config.broker), port: Number(config.port), id: "bench-moddable" });

function burst(count, then) {
	let left = count;
	const step = () => {
		for (let i = 0; i < 10 && left > 0; i++, left--) client.publish("bench/moddable", payload);
		Timer.set(left > 0 ? step : then, 1);
	};
	step();
}

client.onReady = () => {
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
