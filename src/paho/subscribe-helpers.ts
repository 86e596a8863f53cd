/**
 * tinymqtt/subscribe: Paho's paho.mqtt.subscribe. callback() subscribes and hands every message to a Paho
 * on_message callback until that callback calls client.disconnect(); simple() is callback() collecting
 * copies of the first msgCount messages. As Paho's, both subscribe in onConnect, so a lost connection is
 * reconnected and the subscriptions renewed; they reject when the first connection fails, when a CONNACK
 * refuses it, when the broker refuses a subscription, or when the callback throws.
 */
import type { Client, MessageCallback } from "./client.js";
import { SUBACK } from "../codec/constants.js";
import type { QoS } from "../codec/packet-types.js";
import type { Properties } from "../codec/properties.js";
import type { ReceivedMessage } from "./message.js";
import { type ConnectionOptions, runSession } from "./publish-helpers.js";
import { reasonCodeString } from "./strings.js";
import { topicFilterProblem } from "../codec/topics.js";

export interface SubscribeHelperOptions extends ConnectionOptions {
  /** The QoS of every subscription; default 0. */
  qos?: QoS;
  /** Default true (MQTT 5: clean start). False needs a clientId on 3.x. */
  cleanSession?: boolean;
  /** MQTT 5 SUBSCRIBE properties (a subscriptionIdentifier, userProperties). */
  properties?: Properties;
}

export interface CallbackOptions extends SubscribeHelperOptions {
  /** Passed to the callback as `userdata`. */
  userdata?: unknown;
}

export interface SimpleOptions extends SubscribeHelperOptions {
  /** How many messages to wait for; default 1. 1 resolves to the message, more to a list. */
  msgCount?: number;
  /** Default true; false skips messages with the retain flag set (stale retained messages). */
  retained?: boolean;
}

/** What simple() resolves to: one message for msgCount 1, a list for more (either, for a non-literal count). */
export type SimpleResult<N extends number> = N extends 1 ? ReceivedMessage : number extends N ? ReceivedMessage | ReceivedMessage[] : ReceivedMessage[];

/**
 * Subscribes to `topics` (a filter or a list of them, each at `options.qos`) and calls
 * `onMessage(client, userdata, message)` for every message. Resolves once the callback calls
 * `client.disconnect()`. The helper's client hands over messages that own their data: `message` may be kept.
 */
export async function callback(onMessage: MessageCallback, topics: string | readonly string[], options: CallbackOptions = {}): Promise<void> {
  if (typeof onMessage !== "function") throw new TypeError("callback must be a function (client, userdata, message) => void");
  const filters = checkTopics(topics, options);
  const qos = options.qos ?? 0;
  const requested = filters.map((f): [string, QoS] => [f, qos]);
  await runSession(options, { cleanSession: options.cleanSession, userdata: options.userdata, reconnect: true }, {
    setup(client, session) {
      client.onMessage = (c, userdata, message) => {
        try {
          onMessage(c, userdata, message);
        } catch (e) {
          session.fail(e instanceof Error ? e : new Error(String(e)));
        }
      };
      client.onSubscribe = (_c, _u, _mid, reasonCodes) => {
        const refused = reasonCodes.map((code, i) => [code, filters[i]] as const).filter(([code]) => code >= 0x80);
        if (refused.length === 0) return;
        const what = refused.map(([code, f]) => `"${f ?? "?"}": ${reasonCodeString(code, SUBACK)} (0x${code.toString(16)})`).join("; ");
        session.fail(new Error(`the broker refused the subscription to ${what}`));
      };
    },
    connected(client: Client) {
      client.subscribe(requested, 0, undefined, options.properties);
    },
  });
}

/**
 * Subscribes to `topics` and resolves to the first `msgCount` messages received: copies that stay valid
 * (MQTTMessage.copy()). With `retained: false`, messages carrying the retain flag are skipped.
 */
export async function simple<N extends number = 1>(topics: string | readonly string[], options: SimpleOptions & { msgCount?: N } = {}): Promise<SimpleResult<N>> {
  const count = options.msgCount ?? 1;
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1) throw new RangeError(`msgCount must be an integer >= 1, got ${String(count)}`);
  const retained = options.retained ?? true;
  const messages: ReceivedMessage[] = [];
  const { msgCount: _count, retained: _retained, ...rest } = options;
  await callback((client, _userdata, message) => {
    if (messages.length >= count) return;
    if (message.retain && !retained) return;
    messages.push(message.copy());
    if (messages.length === count) client.disconnect();
  }, topics, rest);
  return (count === 1 ? messages[0]! : messages) as SimpleResult<N>;
}

function checkTopics(topics: string | readonly string[], options: SubscribeHelperOptions): string[] {
  const filters = typeof topics === "string" ? [topics] : Array.isArray(topics) ? [...topics as readonly unknown[]] : [];
  if (filters.length === 0) throw new TypeError("topics must be a topic filter or a non-empty list of them");
  const version = options.protocol ?? 4;
  for (const f of filters) {
    const problem = topicFilterProblem(f, version);
    if (problem !== undefined) throw new RangeError(`invalid topic filter ${JSON.stringify(f)}: ${problem}`);
  }
  const qos = options.qos ?? 0;
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new RangeError(`invalid QoS ${String(qos)}: must be 0, 1 or 2`);
  return filters as string[];
}

export type { ReceivedMessage } from "./message.js";
export { ConnectionRefusedError, type ConnectionOptions, type WillOptions, type AuthOptions } from "./publish-helpers.js";
