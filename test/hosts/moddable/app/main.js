/*
 * One client through each of tinymqtt's manifest names, side by side: "tinymqtt" and "tinymqtt/moddable"
 * (the Paho API) and "embedded:network/mqtt/client" (ECMA-419). Each subscribes to <base>/<lane>/in/#
 * at QoS 2, then publishes "<lane> q<N>" at QoS 0, 1 and 2 to <base>/<lane>/out/<N> and traces
 * "<lane>: ready"; every message it receives is traced as "<lane>: got <topic> qos <QoS> <payload>".
 * The test reads these traces and what the broker delivers to its own subscriber.
 */
import { Client as PahoClient } from "tinymqtt";
import { Client as ModdableClient, FlashStore } from "tinymqtt/moddable";
import MQTTClient from "embedded:network/mqtt/client";
import config from "mc/config";

const base = String(config.base);
const broker = String(config.broker);
const port = Number(config.port);

trace(`app: FlashStore is a ${typeof FlashStore}\n`);

function paho(lane, Client) {
  const client = new Client({ clientId: `${base}-${lane}` });
  client.onConnect = (c, _userdata, _flags, reasonCode) => {
    trace(`${lane}: connected ${reasonCode}\n`);
    c.subscribe(`${base}/${lane}/in/#`, 2);
  };
  client.onSubscribe = (c, _userdata, _mid, reasonCodes) => {
    for (let qos = 0; qos <= 2; qos++) c.publish(`${base}/${lane}/out/${qos}`, `${lane} q${qos}`, qos);
    trace(`${lane}: ready ${reasonCodes.join(",")}\n`);
  };
  client.onMessage = (_c, _userdata, message) => {
    trace(`${lane}: got ${message.topic} qos ${message.qos} ${String.fromArrayBuffer(message.payload.slice().buffer)}\n`);
  };
  client.connectAsync(broker, port, 60);
  client.loopStart();
}

function ecma419(lane) {
  new MQTTClient({
    host: broker,
    port,
    id: `${base}-${lane}`,
    keepAlive: 60_000,
    onControl(message) {
      if (message.operation === MQTTClient.CONNACK) {
        trace(`${lane}: connected 0\n`);
        this.write(null, { operation: MQTTClient.SUBSCRIBE, items: [{ topic: `${base}/${lane}/in/#`, QoS: 2 }] });
      } else if (message.operation === MQTTClient.SUBACK) {
        for (let QoS = 0; QoS <= 2; QoS++) this.write(ArrayBuffer.fromString(`${lane} q${QoS}`), { topic: `${base}/${lane}/out/${QoS}`, QoS });
        trace(`${lane}: ready ${Array.from(message.payload).join(",")}\n`);
      }
    },
    onReadable(count, options) {
      trace(`${lane}: got ${options.topic} qos ${options.QoS} ${String.fromArrayBuffer(this.read(count))}\n`);
    },
    onError(error) {
      trace(`${lane}: error ${error.message}\n`);
    },
  });
}

paho("tinymqtt", PahoClient);
paho("tinymqtt-moddable", ModdableClient);
ecma419("ecma419");
