/**
 * The types of the Paho-shaped Client's surface (shared/API.md): its constructor options, the shapes of
 * its callbacks and their flags, the options of subscribe(), the authenticator and logger it takes, and
 * the error connect() rejects with. The Client (src/paho/client.ts) re-exports them all.
 */
import type { ProtocolVersion } from "../codec/constants.js";
import type { QoS } from "../codec/packet-types.js";
import type { Properties } from "../codec/properties.js";
import type { Host } from "../connection/host.js";
import type { Budget } from "../engine/budget.js";
import type { SessionStore } from "../session/store.js";
import type { Client } from "./client.js";
import type { MQTTMessage } from "./message.js";

export interface ClientOptions {
  /** "" or absent: made up on 3.1, left for the broker to assign on 3.1.1 and 5. */
  clientId?: string;
  /** Default true. Clean Start on MQTT 5. */
  cleanSession?: boolean;
  userdata?: unknown;
  protocol?: ProtocolVersion;
  transport?: "tcp" | "websockets";
  manualAck?: boolean;
  /**
   * Hand callbacks zero-copy views into the receive buffer instead of messages that own their data: no
   * allocation per message, but a message is valid during its callback only (reading it later throws an
   * error naming message.copy()). Default false; true on Moddable, where allocation matters most.
   */
  zeroCopyMessages?: boolean;
  budget?: Partial<Budget>;
  /**
   * Where the session is persisted so it survives a restart (MemoryStore, the Node FileStore, the
   * Moddable store). Absent: the session lives in the client's memory, across reconnects only.
   */
  store?: SessionStore;
  /**
   * When the broker reports no session on connecting: "resend" (default) re-sends the QoS 1/2
   * publishes it never acknowledged, so nothing is lost and a duplicate is possible (Paho's behaviour);
   * "discard" drops them, reporting each to onPublish with reason 0x80, as the standard intends.
   */
  unackedOnNewSession?: "resend" | "discard";
  /**
   * Seconds that opening the link, and then the broker's CONNACK, may each take (Paho 2's connect_timeout);
   * default 5. See connectTimeoutSet().
   */
  connectTimeout?: number;
  host?: Host;
}

export interface ConnectFlags { sessionPresent: boolean }
export interface DisconnectFlags { isDisconnectPacketFromServer: boolean }
export interface SubscribeOptions {
  qos?: QoS;
  noLocal?: boolean;
  retainAsPublished?: boolean;
  retainHandling?: 0 | 1 | 2;
}

/**
 * MQTT 5 enhanced authentication (section 4.12): the method named in CONNECT, and the hook that answers
 * each challenge the broker sends. Set with authenticatorSet().
 */
export interface Authenticator {
  method: string;
  /** Authentication Data for CONNECT and for a re-authentication; none when undefined. */
  initialData?(): Uint8Array | undefined;
  /** The broker's AUTH 0x18: its data in (a copy), our response out. */
  challenge(data: Uint8Array | undefined, properties: Properties): Uint8Array | undefined;
  /** A re-authentication succeeded (AUTH 0x00). */
  done?(properties: Properties): void;
}

/** A console-like logger for enableLogger(). */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** The error connect() and reconnect() reject with; `rc` is an MQTT_ERR_* code. */
export class MqttConnectionError extends Error {
  readonly rc: number;
  constructor(rc: number, message: string) {
    super(message);
    // Defined, not assigned: Moddable freezes Error.prototype, where assigning `name` throws.
    Object.defineProperty(this, "name", { value: "MqttConnectionError", configurable: true, writable: true });
    this.rc = rc;
  }
}

export type ConnectCallback = (client: Client, userdata: unknown, flags: ConnectFlags, reasonCode: number, properties: Properties) => void;
export type DisconnectCallback = (client: Client, userdata: unknown, flags: DisconnectFlags, reasonCode: number, properties: Properties) => void;
export type MessageCallback = (client: Client, userdata: unknown, message: MQTTMessage) => void;
export type PublishCallback = (client: Client, userdata: unknown, mid: number, reasonCode: number, properties: Properties) => void;
/** onSubscribe and onUnsubscribe: one reason code per topic filter. */
export type AckListCallback = (client: Client, userdata: unknown, mid: number, reasonCodes: number[], properties: Properties) => void;
export type LogCallback = (client: Client, userdata: unknown, level: number, buf: string) => void;
export type ClientCallback = (client: Client, userdata: unknown) => void;
export type SocketCallback = (client: Client, userdata: unknown, socket: unknown) => void;
