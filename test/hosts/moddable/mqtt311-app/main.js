/*
 * The 3.1.1 profile ("tinymqtt/mqtt311", manifests/mqtt311.json) on the device: one client with a will
 * (<base>/status "offline", QoS 1, retained) that publishes "online" there, subscribes to <base>/in/# at QoS 2,
 * then publishes "q<N> #<connection>" at QoS 0, 1 and 2 to <base>/out/<N> and traces "mqtt311: ready <granted>".
 * Every message it receives is traced as "mqtt311: got <topic> qos <QoS> <payload>"; each connection as
 * "mqtt311: connected <n>", each drop as "mqtt311: disconnected <rc>". It reconnects by itself (loopStart).
 * First it asks for what the profile leaves out, MQTT 5 and failover, and traces the errors it gets.
 */
import { Client, MQTTv5 } from "tinymqtt/mqtt311";
import config from "mc/config";

const base = String(config.base);
const broker = String(config.broker);
const port = Number(config.port);

try {
  new Client({ clientId: `${base}-v5`, protocol: MQTTv5 });
  trace("mqtt311: MQTTv5 accepted\n");
} catch (e) {
  trace(`mqtt311: MQTTv5 refused: ${e.message}\n`);
}

const client = new Client({ clientId: `${base}-client`, cleanSession: true });
try {
  client.failoverSet([{ host: broker, port }]);
  trace("mqtt311: failover accepted\n");
} catch (e) {
  trace(`mqtt311: failover refused: ${e.message}\n`);
}
try {
  client.authenticatorSet({ method: "SCRAM-SHA-1", challenge: () => undefined });
  trace("mqtt311: authenticator accepted\n");
} catch (e) {
  trace(`mqtt311: authenticator refused: ${e.message}\n`);
}

let connections = 0;
client.willSet(`${base}/status`, "offline", 1, true);
client.reconnectDelaySet(1, 2);
client.onConnect = (c) => {
  connections++;
  trace(`mqtt311: connected ${connections}\n`);
  c.publish(`${base}/status`, "online", 1, true);
  c.subscribe(`${base}/in/#`, 2);
};
client.onSubscribe = (c, _userdata, _mid, reasonCodes) => {
  for (let qos = 0; qos <= 2; qos++) c.publish(`${base}/out/${qos}`, `q${qos} #${connections}`, qos);
  trace(`mqtt311: ready ${reasonCodes.join(",")}\n`);
};
client.onMessage = (_c, _userdata, message) => {
  trace(`mqtt311: got ${message.topic} qos ${message.qos} ${String.fromArrayBuffer(message.payload.slice().buffer)}\n`);
};
client.onDisconnect = (_c, _userdata, _flags, rc) => {
  trace(`mqtt311: disconnected ${rc}\n`);
};
client.connectAsync(broker, port, 10);
client.loopStart();
