/**
 * `tinymqtt pub`, as mosquitto_pub: connects (with -c a persistent session, with -A from a chosen local
 * address), publishes every message in order, waits until each is published (QoS 0: written; QoS 1: PUBACK;
 * QoS 2: PUBCOMP), disconnects and exits 0. A refused connection exits with the CONNACK code; a lost
 * connection, or an MQTT 5 broker refusing a message, exits 1 with the reason.
 *
 * Unlike mosquitto_pub, a lost connection is not retried: the command fails and says how far it got.
 */
import type { QoS } from "../../src/codec/packet-types.js";
import type { Properties } from "../../src/codec/properties.js";
import { topicNameProblem } from "../../src/codec/topics.js";
import { type CliConnection, clientOf, refusal } from "./cli-flags.js";
import { type Client, type MessageInfo, MQTT_ERR_CONN_LOST, MQTT_ERR_NO_CONN, MQTT_ERR_QUEUE_SIZE, MQTT_ERR_SUCCESS, MqttConnectionError, errorString, reasonCodeString } from "./index.js";

export interface PubSettings {
  topic: string;
  payloads: Array<string | Uint8Array | null>;
  qos: QoS;
  retain: boolean;
  /** -D publish ...: MQTT 5 PUBLISH properties for every message. */
  properties?: Properties | undefined;
  /** -D disconnect ...: MQTT 5 DISCONNECT properties. */
  disconnectProperties?: Properties | undefined;
}

export async function runPub(c: CliConnection, s: PubSettings): Promise<void> {
  const problem = topicNameProblem(s.topic);
  if (problem !== undefined) throw new RangeError(`invalid topic: ${problem}`);
  const client = clientOf(c);
  const refused: string[] = [];
  let published = 0;
  let failure: Error | undefined;
  let finished = false;
  let started = false;
  const end = (error?: Error): void => {
    if (finished) return;
    finished = true;
    failure = error;
    client.disconnect(0, s.disconnectProperties);
  };
  client.onPublish = (_c, _u, mid, reasonCode) => {
    published++;
    if (reasonCode >= 0x80) refused.push(`"${s.topic}" (mid ${mid}): ${reasonCodeString(reasonCode)} (0x${reasonCode.toString(16)})`);
  };
  client.onConnect = (_c, _u, _f, rc) => {
    if (rc !== 0) return end(refusal(c, rc));
    // A persistent session (-c) may reconnect only by our own doing: never, as the command fails instead.
    if (started) return;
    started = true;
    publishAll(client, s).then(() => {
      if (refused.length === 0) end();
      else end(new Error(`the broker refused ${refused.length} of ${s.payloads.length} messages: ${refused.join("; ")}`));
    }, (e: unknown) => end(e instanceof Error ? e : new Error(String(e))));
  };
  client.onDisconnect = (_c, _u, flags, reasonCode) => {
    if (finished) return;
    const why = flags.isDisconnectPacketFromServer ? `the broker sent DISCONNECT: ${reasonCodeString(reasonCode)}` : reasonCodeString(reasonCode);
    end(new MqttConnectionError(MQTT_ERR_CONN_LOST, `the connection to ${c.hostname}:${c.port} was lost (${why}); ${published} of ${s.payloads.length} messages published`));
  };
  await client.connect(c.hostname, c.port, c.keepalive, c.bindAddress, undefined, c.connectProperties);
  await client.loopForever();
  if (failure !== undefined) throw failure;
}

/**
 * Publishes in order. When the client's budget is full (MQTT_ERR_QUEUE_SIZE), waits for the oldest message
 * still in flight before trying again, so any number of lines (-l) goes through a fixed budget.
 */
async function publishAll(client: Client, s: PubSettings): Promise<void> {
  const outstanding: MessageInfo[] = [];
  for (const payload of s.payloads) {
    for (;;) {
      const info = client.publish(s.topic, payload, s.qos, s.retain, s.properties);
      // Between a lost link and the reconnect, QoS 1/2 says MQTT_ERR_NO_CONN but is queued all the same.
      if (info.rc === MQTT_ERR_SUCCESS || (info.rc === MQTT_ERR_NO_CONN && s.qos > 0)) {
        outstanding.push(info);
        break;
      }
      const oldest = outstanding.shift();
      if (info.rc !== MQTT_ERR_QUEUE_SIZE || oldest === undefined) {
        throw new MqttConnectionError(info.rc, `could not publish to "${s.topic}": ${errorString(info.rc)}`);
      }
      await settled(oldest);
    }
  }
  await Promise.all(outstanding.map(settled));
}

/** A message's flow is over, either way: a refusal is reported by onPublish. */
function settled(info: MessageInfo): Promise<void> {
  return info.waitForPublish().catch(() => {});
}
