/*
 * A device that keeps its session in a FlashStore on "tinymqtt/session-partition" (on lin a file under /tmp/),
 * started again and again by test/hosts/moddable/toolchain.test.ts, which kills it each time (SIGKILL).
 * It counts its runs in <file root><base>.runs, beside the partition:
 * - run 1, with no broker listening: publishes "q1 offline" at QoS 1 to <base>/store/1 and "q2 offline" at
 *   QoS 2 to <base>/store/2, which wait in the store, and traces "store-app: queued <mid> <mid>";
 * - every later run: connects; the client sends whatever the store kept, and once connected the app publishes
 *   "run <N>" at QoS 2 to <base>/store/end, so the test sees where each run's messages end.
 * It traces "store-app: run <N> connected" and "store-app: published <mid>" (onPublish).
 */
import { Client, FlashStore } from "tinymqtt/moddable";
import { sessionPartition } from "tinymqtt/session-partition";
import { File } from "file";
import config from "mc/config";

const base = String(config.base);
const runs = `${config.file.root}${base}.runs`;

let run = 1;
if (File.exists(runs)) {
	const file = new File(runs);
	run = Number(file.read(String)) + 1;
	file.close();
}
const counter = new File(runs, true);
counter.write(String(run).padStart(6, "0"));
counter.close();

const store = new FlashStore({ flash: sessionPartition(`${base}-session`) });
const client = new Client({ clientId: `${base}-store`, cleanSession: false, store });
client.onConnect = (c) => {
	trace(`store-app: run ${run} connected\n`);
	if (run > 1) c.publish(`${base}/store/end`, `run ${run}`, 2);
};
client.onPublish = (_c, _userdata, mid) => trace(`store-app: published ${mid}\n`);
if (run === 1) {
	const q1 = client.publish(`${base}/store/1`, "q1 offline", 1);
	const q2 = client.publish(`${base}/store/2`, "q2 offline", 2);
	trace(`store-app: queued ${q1.mid} ${q2.mid}\n`);
}
client.connectAsync(String(config.broker), Number(config.port), 60);
client.loopStart();
trace(`store-app: run ${run} started\n`);
