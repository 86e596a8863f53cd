/**
 * The Paho API's argument checks: what Paho raises ValueError/TypeError for, as RangeError/TypeError with
 * a message that says what was wrong, before anything is queued or changed. Each check returns the value
 * in the form the client keeps (bytes, a Subscription list, milliseconds), so the client only stores it.
 */
import { MQTTv31, MQTTv311, MQTTv5, type ProtocolVersion } from "../codec/constants.js";
import type { QoS, Subscription, Will } from "../codec/packet-types.js";
import type { Properties } from "../codec/properties.js";
import { isSharedFilter, topicFilterProblem, topicNameProblem } from "../codec/topics.js";
import { NO_BYTES, utf8Bytes } from "../connection/payload.js";
import { ENGINE_DEFAULTS, type EngineOptions } from "../engine/engine.js";
import type { ClientOptions, SubscribeOptions } from "./client-types.js";

export type Payload = Uint8Array | ArrayBuffer | string | number | null | undefined;

/** The largest payload MQTT can carry (the Remaining Length's limit). */
export const MAX_PAYLOAD = 268435455;

/** The constructor's options, checked, with their defaults filled in. */
export interface ClientSettings {
  protocol: ProtocolVersion;
  clientId: string;
  cleanSession: boolean;
  transport: "tcp" | "websockets";
  zeroCopyMessages: boolean;
  engineOptions: EngineOptions;
  connectTimeoutMs: number;
}

export function clientSettings(options: ClientOptions): ClientSettings {
  const protocol = options.protocol ?? MQTTv311;
  if (protocol !== MQTTv31 && protocol !== MQTTv311 && protocol !== MQTTv5) {
    throw new RangeError(`protocol must be MQTTv31 (3), MQTTv311 (4) or MQTTv5 (5), got ${String(protocol)}`);
  }
  const cleanSession = options.cleanSession ?? true;
  let clientId = options.clientId ?? "";
  if (typeof clientId !== "string") throw new TypeError("clientId must be a string");
  if (clientId === "" && !cleanSession && protocol !== MQTTv5) {
    throw new RangeError("a client id must be given when cleanSession is false (MQTT 3.x)");
  }
  if (clientId === "" && protocol === MQTTv31) clientId = makeClientId();
  const unacked = options.unackedOnNewSession ?? "resend";
  if (unacked !== "resend" && unacked !== "discard") throw new RangeError('unackedOnNewSession must be "resend" or "discard"');
  if (options.store !== undefined && (options.clientId ?? "") === "") {
    throw new RangeError("a session store needs a client id: the session is saved under it");
  }
  const transport = options.transport ?? "tcp";
  if (transport !== "tcp" && transport !== "websockets") throw new RangeError(`transport must be "tcp" or "websockets", got ${String(transport)}`);
  const manualAck = options.manualAck ?? false;
  // The default settings are one object every such client shares.
  const engineOptions = !manualAck && unacked === "resend" && options.store === undefined ? ENGINE_DEFAULTS
    : { ...ENGINE_DEFAULTS, manualAck, resendOnSessionLoss: unacked === "resend", store: options.store };
  return { protocol, clientId, cleanSession, transport, zeroCopyMessages: options.zeroCopyMessages ?? false, engineOptions,
    connectTimeoutMs: connectTimeoutMs(options.connectTimeout ?? 5) };
}

/** What connect() and connectAsync() were given, checked. */
export interface ConnectArgs {
  host: string;
  port: number;
  keepalive: number;
  bindAddress: string;
  cleanStart: boolean | undefined;
  properties: Properties | undefined;
}

export function connectArgs(protocol: ProtocolVersion, host: string, port: number, keepalive: number, bindAddress: string,
  cleanStart: boolean | undefined, properties: Properties | undefined): ConnectArgs {
  if (typeof host !== "string" || host === "") throw new RangeError("host must be a non-empty string");
  checkPort(port, "port");
  if (!Number.isInteger(keepalive) || keepalive < 0 || keepalive > 65535) throw new RangeError(`keepalive must be 0..65535 seconds, got ${String(keepalive)}`);
  if (cleanStart !== undefined && protocol !== MQTTv5) throw new RangeError("cleanStart is an MQTT 5 argument; use cleanSession on 3.x");
  if (properties !== undefined && protocol !== MQTTv5) throw new RangeError("connect properties need MQTT 5");
  return { host, port, keepalive, bindAddress, cleanStart, properties };
}

export function checkPort(port: unknown, what: string): void {
  if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) throw new RangeError(`${what} must be 1..65535, got ${String(port)}`);
}

/** A topic to publish to (`what` names it in the error: "topic", "will topic"). */
export function checkTopicName(topic: unknown, what: string): void {
  const problem = topicNameProblem(topic);
  if (problem !== undefined) throw new RangeError(`invalid ${what}: ${problem}`);
}

export function checkQos(qos: unknown): void {
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new RangeError(`invalid QoS ${String(qos)}: must be 0, 1 or 2`);
}

/** A publish's properties: what only a broker may send is refused. */
export function checkPublishProperties(properties: Properties): void {
  if (properties.subscriptionIdentifier !== undefined) {
    throw new RangeError("a Subscription Identifier is the broker's to send: a client's PUBLISH carries none [MQTT-3.3.4-6]");
  }
}

/** A payload as publish() takes it, checked against MQTT's limit. */
export function publishPayload(payload: Payload): Uint8Array {
  const bytes = toPayload(payload);
  if (bytes.length > MAX_PAYLOAD) throw new RangeError(`payload is ${bytes.length} bytes; MQTT allows at most ${MAX_PAYLOAD}`);
  return bytes;
}

export function checkedWill(protocol: ProtocolVersion, topic: string, payload: Payload, qos: QoS, retain: boolean, properties: Properties | undefined): Will {
  checkTopicName(topic, "will topic");
  checkQos(qos);
  const bytes = toPayload(payload);
  if (bytes.length > 65535) throw new RangeError(`the will payload is ${bytes.length} bytes; at most 65535`);
  return { topic, payload: bytes, qos, retain: Boolean(retain), properties: protocol === MQTTv5 ? properties : undefined };
}

type SubscribeTopic = string | [string, QoS | SubscribeOptions] | Array<[string, QoS | SubscribeOptions]>;

/**
 * subscribe()'s arguments as a list of subscriptions: "a/b" with qos and options, a ["a/b", qos | options]
 * pair, or a list of pairs.
 */
export function subscriptions(protocol: ProtocolVersion, topic: SubscribeTopic, qos: QoS, options: SubscribeOptions | undefined): Subscription[] {
  const subs: Subscription[] = [];
  const add = (filter: unknown, o: number | SubscribeOptions | undefined): void => {
    const opts: SubscribeOptions = typeof o === "number" ? { ...options, qos: o as QoS } : { qos, ...o };
    subs.push(subscription(protocol, filter, opts));
  };
  if (typeof topic === "string") add(topic, options);
  else if (Array.isArray(topic) && typeof topic[0] === "string") add(topic[0], topic[1] as number | SubscribeOptions);
  else if (Array.isArray(topic) && topic.length > 0) {
    for (const pair of topic as unknown[]) {
      if (!Array.isArray(pair)) throw new TypeError("subscribe() takes a topic, a [topic, qos] pair or a list of pairs");
      add(pair[0], pair[1] as number | SubscribeOptions);
    }
  } else throw new TypeError("subscribe() takes a topic, a [topic, qos] pair or a non-empty list of pairs");
  return subs;
}

function subscription(protocol: ProtocolVersion, filter: unknown, opts: SubscribeOptions): Subscription {
  const problem = topicFilterProblem(filter, protocol);
  if (problem !== undefined) throw new RangeError(`invalid subscription: ${problem}`);
  checkQos(opts.qos ?? 0);
  if (protocol !== MQTTv5 && (opts.noLocal || opts.retainAsPublished || (opts.retainHandling ?? 0) !== 0)) {
    throw new RangeError("noLocal, retainAsPublished and retainHandling need MQTT 5");
  }
  const rh = opts.retainHandling ?? 0;
  if (rh !== 0 && rh !== 1 && rh !== 2) throw new RangeError("retainHandling must be 0, 1 or 2");
  if (opts.noLocal && isSharedFilter(filter as string)) throw new RangeError("No Local cannot be set on a shared subscription [MQTT-3.8.3-4]");
  const sub: Subscription = { topicFilter: filter as string, qos: opts.qos ?? 0 };
  if (protocol === MQTTv5) {
    sub.noLocal = Boolean(opts.noLocal);
    sub.retainAsPublished = Boolean(opts.retainAsPublished);
    sub.retainHandling = rh;
  }
  return sub;
}

/** unsubscribe()'s topic or topics, checked, as a list. */
export function topicFilters(protocol: ProtocolVersion, topic: string | string[]): string[] {
  const filters = typeof topic === "string" ? [topic] : topic;
  if (!Array.isArray(filters) || filters.length === 0) throw new TypeError("unsubscribe() takes a topic or a non-empty list of topics");
  for (const f of filters) {
    const problem = topicFilterProblem(f, protocol);
    if (problem !== undefined) throw new RangeError(`invalid topic filter: ${problem}`);
  }
  return filters;
}

/** messageCallbackAdd()'s filter (any protocol's syntax: the callback matches topics, not subscriptions). */
export function checkCallbackFilter(sub: string, callback: unknown): void {
  const problem = topicFilterProblem(sub, MQTTv5);
  if (problem !== undefined) throw new RangeError(`invalid subscription: ${problem}`);
  if (typeof callback !== "function") throw new TypeError("callback must be a function");
}

/** connectTimeout's seconds as milliseconds, checked. */
export function connectTimeoutMs(seconds: unknown): number {
  if (typeof seconds !== "number" || !(seconds > 0) || seconds === Infinity) throw new RangeError(`connectTimeout must be a number of seconds > 0, got ${String(seconds)}`);
  return seconds * 1000;
}

/** reconnectDelaySet()'s seconds as milliseconds, checked. */
export function reconnectDelaysMs(minDelay: number, maxDelay: number): { minDelayMs: number; maxDelayMs: number } {
  if (!(minDelay > 0) || !(maxDelay >= minDelay)) throw new RangeError("reconnect delays need 0 < minDelay <= maxDelay");
  return { minDelayMs: minDelay * 1000, maxDelayMs: maxDelay * 1000 };
}

export function nonNegativeInteger(n: unknown, what: string): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) throw new RangeError(`${what} must be an integer >= 0, got ${String(n)}`);
  return n;
}

export function messageRetryMs(seconds: unknown): number {
  if (typeof seconds !== "number" || !(seconds >= 0)) throw new RangeError("messageRetry must be a number of seconds >= 0");
  return seconds * 1000;
}

/** A password (or other text-or-bytes argument) as bytes. */
export function toBytes(value: string | Uint8Array, what: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value !== "string") throw new TypeError(`${what} must be a string or a Uint8Array`);
  return utf8Bytes(value, what);
}

/** Paho's payload rules: bytes as they are, strings as UTF-8, numbers as their decimal text. */
export function toPayload(payload: Payload): Uint8Array {
  if (payload === undefined || payload === null) return NO_BYTES;
  if (payload instanceof Uint8Array) return payload;
  if (payload instanceof ArrayBuffer) return new Uint8Array(payload);
  if (typeof payload === "string") return utf8Bytes(payload, "payload");
  if (typeof payload === "number") {
    if (!Number.isFinite(payload)) throw new RangeError(`payload number ${payload} has no MQTT form`);
    return utf8Bytes(String(payload), "payload");
  }
  throw new TypeError("payload must be a Uint8Array, ArrayBuffer, string, number or null");
}

const ID_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** 3.1 forbids an empty client id: make one up, 23 characters as 3.1 allows. */
function makeClientId(): string {
  let id = "tinymqtt-";
  for (let i = 0; i < 14; i++) id += ID_CHARS[Math.floor(Math.random() * ID_CHARS.length)];
  return id;
}
