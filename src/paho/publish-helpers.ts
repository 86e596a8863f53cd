/**
 * tinymqtt/publish: Paho's paho.mqtt.publish. single() and multiple() connect, publish, wait until every
 * message is published (QoS 0: written to the network; QoS 1: PUBACK; QoS 2: PUBCOMP), disconnect cleanly
 * and resolve. They reject when the connection cannot be made, is refused (ConnectionRefusedError, with the
 * CONNACK code and its text) or is lost before every message is published.
 *
 * One difference from Paho, on purpose: Paho's helpers run loop_forever(), which reconnects after a lost
 * connection, so a publish to a broker that went away never returns. These reject instead, saying how many
 * messages were published, so a script learns it failed.
 *
 * The connection plumbing (runSession) is shared with tinymqtt/subscribe.
 */
import { MqttConnectionError, type Logger, type Payload, toPayload } from "./client.js";
import { Client } from "./full-client.js";
import { MQTTv5, type ProtocolVersion } from "../codec/constants.js";
import type { QoS } from "../codec/packet-types.js";
import type { Properties } from "../codec/properties.js";
import { MQTT_ERR_AUTH, MQTT_ERR_CONN_LOST, MQTT_ERR_CONN_REFUSED, MQTT_ERR_NO_CONN, MQTT_ERR_QUEUE_SIZE, MQTT_ERR_SUCCESS } from "./constants.js";
import type { Budget } from "../engine/budget.js";
import type { Host, TlsOptions } from "../connection/host.js";
import type { MessageInfo } from "./message.js";
import { connackString, errorString, reasonCodeString } from "./strings.js";
import { topicNameProblem } from "../codec/topics.js";

/** Paho's `will` dict. */
export interface WillOptions {
  topic: string;
  /** Default: a zero-length payload. */
  payload?: Payload;
  /** Default 0. */
  qos?: QoS;
  /** Default false. */
  retain?: boolean;
  /** MQTT 5 will properties. */
  properties?: Properties;
}

/** Paho's `auth` dict. */
export interface AuthOptions {
  username: string;
  password?: string | Uint8Array | null;
}

/** What every helper takes to reach the broker (Paho's keyword arguments, in camelCase). */
export interface ConnectionOptions {
  /** Default "localhost". */
  hostname?: string;
  /** Default 1883. */
  port?: number;
  /** Default "": the broker assigns one (3.1.1, 5); made up on 3.1. */
  clientId?: string;
  /** Seconds; default 60. */
  keepalive?: number;
  will?: WillOptions;
  auth?: AuthOptions;
  /** As Client.tlsSet(); `context` uses tlsSetContext() instead, `insecure` tlsInsecureSet(). */
  tls?: TlsOptions;
  /** Default MQTTv311. */
  protocol?: ProtocolVersion;
  /** Default "tcp". */
  transport?: "tcp" | "websockets";
  /** MQTT 5 CONNECT properties. */
  connectProperties?: Properties;
  /** Default: the registered host (the Node host when imported as tinymqtt/publish on Node). */
  host?: Host;
  /** Receives the client's log (Client.enableLogger). */
  logger?: Logger;
  /** The client's memory budget (ClientOptions.budget). */
  budget?: Partial<Budget>;
}

export interface SingleOptions extends ConnectionOptions {
  /** Default 0. */
  qos?: QoS;
  /** Default false. */
  retain?: boolean;
  /** MQTT 5 PUBLISH properties. */
  properties?: Properties;
}

export interface MultipleOptions extends ConnectionOptions {
  /** MQTT 5 PUBLISH properties for every message that does not carry its own. */
  properties?: Properties;
}

/** Paho's message dict: only the topic is required. */
export interface MessageObject {
  topic: string;
  payload?: Payload;
  qos?: QoS;
  retain?: boolean;
  /** MQTT 5 PUBLISH properties. */
  properties?: Properties;
}

/** Paho's message tuple. */
export type MessageTuple = readonly [topic: string, payload?: Payload, qos?: QoS, retain?: boolean, properties?: Properties];

export type PublishMessage = MessageObject | MessageTuple;

/** The broker answered CONNECT with a failure: `reasonCode` is the CONNACK return code (3.x) or reason code (5). */
export class ConnectionRefusedError extends MqttConnectionError {
  readonly reasonCode: number;
  constructor(reasonCode: number, message: string) {
    // The same mapping as the client's: bad credentials and "not authorised" are MQTT_ERR_AUTH.
    super(reasonCode === 4 || reasonCode === 5 || reasonCode === 0x86 || reasonCode === 0x87 ? MQTT_ERR_AUTH : MQTT_ERR_CONN_REFUSED, message);
    // Defined, not assigned: Moddable freezes Error.prototype, where assigning `name` throws.
    Object.defineProperty(this, "name", { value: "ConnectionRefusedError", configurable: true, writable: true });
    this.reasonCode = reasonCode;
  }
}

/** Publish one message, then disconnect cleanly. */
export function single(topic: string, payload?: Payload, options: SingleOptions = {}): Promise<void> {
  const message: MessageObject = { topic, payload, qos: options.qos ?? 0, retain: options.retain ?? false };
  if (options.properties !== undefined) message.properties = options.properties;
  return multiple([message], options);
}

/**
 * Publish every message, in order, then disconnect cleanly. Rejects before connecting when a message is
 * invalid (RangeError/TypeError, as Paho's ValueError), and after disconnecting when an MQTT 5 broker refused
 * a message (a PUBACK/PUBREC reason code of 0x80 or more).
 */
export async function multiple(msgs: readonly PublishMessage[], options: MultipleOptions = {}): Promise<void> {
  if (!Array.isArray(msgs) || msgs.length === 0) throw new TypeError("msgs must be a non-empty list of messages");
  const list = msgs.map((m, i) => normalise(m as PublishMessage, msgs.length === 1 ? "" : `message ${i}: `, options.properties));
  const refused: string[] = [];
  const topics = new Map<number, string>();
  let published = 0;
  await runSession(options, { cleanSession: true, userdata: undefined, reconnect: false }, {
    setup(client) {
      client.onPublish = (_c, _u, mid, reasonCode) => {
        published++;
        const topic = topics.get(mid);
        topics.delete(mid);
        if (reasonCode >= 0x80) refused.push(`"${topic ?? `mid ${mid}`}": ${reasonCodeString(reasonCode)} (0x${reasonCode.toString(16)})`);
      };
    },
    connected(client, session) {
      publishAll(client, list, topics).then(() => {
        if (refused.length === 0) session.done();
        else session.fail(new Error(`the broker refused ${refused.length} of ${list.length} messages: ${refused.join("; ")}`));
      }, (e: unknown) => session.fail(e instanceof Error ? e : new Error(String(e))));
    },
    progress: () => `${published} of ${list.length} messages published`,
  });
}

interface Outgoing {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  properties: Properties | undefined;
}

function normalise(m: PublishMessage, which: string, defaultProperties: Properties | undefined): Outgoing {
  let o: MessageObject;
  if (Array.isArray(m)) {
    const [topic, payload, qos, retain, properties] = m as MessageTuple;
    o = { topic, payload, qos: qos ?? 0, retain: retain ?? false };
    if (properties !== undefined) o.properties = properties;
  } else if (typeof m === "object" && m !== null) {
    o = m as MessageObject;
  } else {
    throw new TypeError(`${which}a message must be a {topic, payload, qos, retain} object or a [topic, payload, qos, retain] tuple`);
  }
  const problem = topicNameProblem(o.topic);
  if (problem !== undefined) throw new RangeError(`${which}invalid topic: ${problem}`);
  const qos = o.qos ?? 0;
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new RangeError(`${which}invalid QoS ${String(qos)}: must be 0, 1 or 2`);
  return { topic: o.topic, payload: toPayload(o.payload), qos, retain: Boolean(o.retain), properties: o.properties ?? defaultProperties };
}

/**
 * Publishes in order. When the client's budget is full (MQTT_ERR_QUEUE_SIZE), waits for the oldest message
 * still in flight before trying again, so any number of messages goes through a fixed budget.
 */
async function publishAll(client: Client, list: readonly Outgoing[], topics: Map<number, string>): Promise<void> {
  const outstanding: MessageInfo[] = [];
  for (const m of list) {
    for (;;) {
      const info = client.publish(m.topic, m.payload, m.qos, m.retain, m.properties);
      // Between a lost link and the reconnect, QoS 1/2 says MQTT_ERR_NO_CONN but is queued all the same.
      if (info.rc === MQTT_ERR_SUCCESS || (info.rc === MQTT_ERR_NO_CONN && m.qos > 0)) {
        if (m.qos > 0) topics.set(info.mid, m.topic);
        outstanding.push(info);
        break;
      }
      const oldest = outstanding.shift();
      if (info.rc !== MQTT_ERR_QUEUE_SIZE || oldest === undefined) {
        throw new MqttConnectionError(info.rc, `could not publish to "${m.topic}": ${errorString(info.rc)}`);
      }
      await settled(oldest);
    }
  }
  await Promise.all(outstanding.map(settled));
}

/** A message's flow is over, either way: a refusal is reported by the session's onPublish hook. */
function settled(info: MessageInfo): Promise<void> {
  return info.waitForPublish().catch(() => {});
}

// ---- the connection, shared with tinymqtt/subscribe ------------------------------------------------

/** @internal What a helper's hooks use to end the session. */
export interface Session {
  /** Disconnects cleanly; the helper resolves. */
  done(): void;
  /** Disconnects; the helper rejects with `error` (the first one given). */
  fail(error: Error): void;
}

/** @internal */
export interface SessionHooks {
  /** Once, before connecting: set callbacks. */
  setup?(client: Client, session: Session): void;
  /** On every accepted CONNACK (after a reconnect too). */
  connected(client: Client, session: Session): void;
  /** How far the helper got, for the error when the connection is lost. */
  progress?(): string;
}

/** @internal */
export interface SessionSettings {
  cleanSession: boolean | undefined;
  userdata: unknown;
  /** Reconnect after a lost connection, as Paho's loop_forever (subscribe); else fail (publish). */
  reconnect: boolean;
}

/**
 * @internal Paho's helper skeleton: a client configured from `options`, connect(), loopForever(). Settles
 * when the session is done or failed; rejects when the first connection fails or a CONNACK refuses it.
 */
export async function runSession(options: ConnectionOptions, settings: SessionSettings,
  hooks: SessionHooks): Promise<void> {
  const hostname = options.hostname ?? "localhost";
  const port = options.port ?? 1883;
  const protocol = options.protocol ?? 4;
  const client = new Client({ clientId: options.clientId ?? "", cleanSession: settings.cleanSession ?? true,
    userdata: settings.userdata, protocol, transport: options.transport ?? "tcp", budget: options.budget, host: options.host });
  configure(client, options);

  let failure: Error | undefined;
  let finished = false;
  const session: Session = {
    done() {
      if (finished) return;
      finished = true;
      client.disconnect();
    },
    fail(error) {
      if (finished) return;
      finished = true;
      failure = error;
      client.disconnect();
    },
  };
  client.onConnect = (c, _u, _flags, reasonCode) => {
    if (finished) return;
    if (reasonCode === 0) {
      hooks.connected(c, session);
      return;
    }
    const text = connackString(reasonCode);
    const code = protocol === MQTTv5 ? `CONNACK reason code 0x${reasonCode.toString(16).padStart(2, "0")}` : `CONNACK code ${reasonCode}`;
    session.fail(new ConnectionRefusedError(reasonCode, `${hostname}:${port} refused the connection: ${text} (${code})`));
  };
  client.onDisconnect = (_c, _u, flags, reasonCode) => {
    if (finished || settings.reconnect) return;
    const why = flags.isDisconnectPacketFromServer ? `the broker sent DISCONNECT: ${reasonCodeString(reasonCode)}` : reasonCodeString(reasonCode);
    const progress = hooks.progress?.() ?? "";
    session.fail(new MqttConnectionError(MQTT_ERR_CONN_LOST, `the connection to ${hostname}:${port} was lost (${why})${progress === "" ? "" : `; ${progress}`}`));
  };
  hooks.setup?.(client, session);

  await client.connect(hostname, port, options.keepalive ?? 60, "", undefined, options.connectProperties);
  await client.loopForever();
  if (failure !== undefined) throw failure;
}

function configure(client: Client, options: ConnectionOptions): void {
  const { auth, will, tls, logger } = options;
  if (auth !== undefined) {
    if (typeof auth.username !== "string") throw new TypeError("auth.username is required");
    client.usernamePwSet(auth.username, auth.password);
  }
  if (will !== undefined) client.willSet(will.topic, will.payload, will.qos ?? 0, will.retain ?? false, will.properties);
  if (tls !== undefined) {
    const { context, insecure, ...rest } = tls;
    if (context !== undefined) client.tlsSetContext(context);
    else client.tlsSet(rest);
    if (insecure === true) client.tlsInsecureSet(true);
  }
  if (logger !== undefined) client.enableLogger(logger);
}
