/*
 * A sensor on a Moddable device (ESP32) that publishes telemetry to an MQTT broker with tinymqtt.
 *
 * - A will: if the device drops off the network (power cut, Wi-Fi gone), the broker publishes
 *   "offline" on sensors/<id>/status, retained, so dashboards know. On connecting it says "online".
 * - Telemetry every `interval` seconds at QoS 1: while the broker is unreachable, readings wait in the
 *   client's fixed budget (ESP32_BUDGET: 32 messages, 6 KiB) and go out when it is back; beyond that
 *   new readings are dropped and the log says so, never an out-of-memory.
 * - Reconnects by itself, backing off from 1 s to 60 s; a persistent session (cleanSession false) keeps
 *   its subscription and queued messages at the broker meanwhile.
 * - Listens on sensors/<id>/interval for a new reporting period in seconds.
 * - Its id is made once and kept in flash (preference), so the session and the will survive reboots.
 *
 * Build and run (in this folder): mcconfig -d -m -p esp32 ssid="<wifi>" password="<secret>"
 * The broker is set in manifest.json's "config". Type-checked by `npm run build` (tsconfig.moddable.json).
 */
import { Client, MQTT_ERR_SUCCESS, MQTT_LOG_ERR, MQTT_LOG_WARNING } from "tinymqtt";
import config from "mc/config";
import Preference from "preference";
import Timer from "timer";

/** The device's id: made up on first boot, then read back from flash. */
function sensorId() {
  const saved = Preference.get("sensor", "id");
  if (typeof saved === "string") return saved;
  const id = `sensor-${Math.floor(Math.random() * 0xffffffff).toString(16).padStart(8, "0")}`;
  Preference.set("sensor", "id", id);
  return id;
}

const id = config.sensorId ?? sensorId();
const base = `sensors/${id}`;
let interval = Number(config.interval ?? 10);

/** Replace with the board's real sensor: an I2C thermometer, an analog input... */
function readTemperature() {
  const minutes = Date.now() / 60_000;
  return Math.round((21 + 2 * Math.sin(minutes / 30)) * 10) / 10;
}

const client = new Client({ clientId: id, cleanSession: false 
});
client.willSet(`${base}/status`, "offline", 1, true);
client.reconnectDelaySet(1, 60);

client.onLog = /** @type {Client["onLog"]} */ ((_client, _userdata, level, line) => {
  if (level === MQTT_LOG_ERR || level === MQTT_LOG_WARNING) trace(`mqtt: ${line}\n`);
});

client.onConnect = /** @type {Client["onConnect"]} */ ((c, _userdata, flags, reasonCode) => {
  if (reasonCode !== 0) {
    trace(`refused by the broker: ${reasonCode}\n`);
    return;
  }
  trace(`connected${flags.sessionPresent ? " (session resumed)" : ""}\n`);
  c.publish(`${base}/status`, "online", 1, true);
  c.subscribe(`${base}/interval`, 1);
});

client.onDisconnect = /** @type {Client["onDisconnect"]} */ ((_client, _userdata, _flags, reasonCode) => {
  trace(`disconnected (0x${reasonCode.toString(16)}); reconnecting\n`);
});

client.onMessage = /** @type {Client["onMessage"]} */ ((_client, _userdata, message) => {
  // The payload is a view into the receive buffer, valid during this call: decoded at once.
  const seconds = Number(String.fromArrayBuffer(message.payload.slice().buffer));
  if (Number.isFinite(seconds) && seconds >= 1) {
    interval = seconds;
    schedule();
    trace(`reporting every ${interval} s\n`);
  }
});

/** @type {ReturnType<typeof Timer.repeat> | undefined} */
let timer;

function report() {
  const reading = JSON.stringify({ t: readTemperature(), at: Date.now() 
});
  const info = client.publish(`${base}/temperature`, reading, 1);
  if (info.rc !== MQTT_ERR_SUCCESS) trace(`reading dropped: rc ${info.rc}\n`);
}

function schedule() {
  if (timer !== undefined) Timer.clear(timer);
  timer = Timer.repeat(report, interval * 1000);
}

client.connectAsync(config.broker ?? "test.mosquitto.org", Number(config.port ?? 1883), 60);
client.loopStart();
schedule();
