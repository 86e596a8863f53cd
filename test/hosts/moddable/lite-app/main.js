/*
 * The app test/hosts/moddable/lite.test.ts builds from manifests/lite.json alone and runs in mcsim: the code
 * of an app written for Moddable's `mqtt` module, with `import Client from "tinymqtt/lite"` in its place and
 * what that module lacks: QoS 1/2, a will, a persistent session and reconnect; a keepalive of 2 s, so that
 * its timer runs (pings) while the test does. It subscribes once (the
 * session keeps the subscription across a broker restart) and publishes QoS 0/1/2 at every connection.
 */
import Client from "tinymqtt/lite";
import config from "mc/config";

const base = String(config.base);
const client = new Client({
	host: String(config.broker), port: Number(config.port), id: `${base}-app`, clean: false, timeout: 2000,
	reconnect: 200, reconnectMax: 1000,
	will: { topic: `${base}/status`, message: "offline", quality: 1, retain: true },
});
let round = 0;
client.onReady = () => {
	round++;
	trace(`lite: ready ${round}\n`);
	if (round === 1) client.subscribe(`${base}/in/#`, 2);
	client.publish(`${base}/status`, "online", { quality: 1, retain: true });
	for (let q = 0; q <= 2; q++) client.publish(`${base}/out/${q}`, `q${q} #${round}`, { quality: q });
};
client.onSubscribed = (id, granted) => trace(`lite: subscribed ${granted}\n`);
client.onMessage = (topic, body) => trace(`lite: got ${topic} ${String.fromArrayBuffer(body)}\n`);
client.onClose = (reason) => trace(`lite: closed ${reason}\n`);
