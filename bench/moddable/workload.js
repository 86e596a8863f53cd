/*
 * What every bench/moddable app shares: live XS slot and chunk heap use (module "instrumentation", after
 * Debug.gc()), traced as "bench: <label> slots <bytes> chunks <bytes>", and the workload: once connected,
 * idle, then `messages` and 4 x `messages` more QoS 0 publishes of 32 bytes, 10 per timer tick.
 */
import Instrumentation from "instrumentation";
import Debug from "debug";
import Timer from "timer";
import config from "mc/config";

const SLOT = Instrumentation.map("XS Slot Heap Used");
const CHUNK = Instrumentation.map("XS Chunk Heap Used");
const messages = Number(config.messages);

export function snapshot(label) {
	Debug.gc();
	trace(`bench: ${label} slots ${Instrumentation.get(SLOT)} chunks ${Instrumentation.get(CHUNK)}\n`);
}

function burst(publish, count, then) {
	let left = count;
	const step = () => {
		for (let i = 0; i < 10 && left > 0; i++, left--) publish();
		Timer.set(left > 0 ? step : then, 1);
	};
	step();
}

/** Call once connected: publish() sends one message. Traces "bench: done" at the end. */
export function runWorkload(publish) {
	Timer.set(() => {
		snapshot("idle");
		burst(publish, messages, () => {
			snapshot("after 1x");
			burst(publish, 4 * messages, () => {
				snapshot("after 5x");
				trace("bench: done\n");
			});
		});
	}, 100);
}
