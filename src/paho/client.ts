/**
 * The Paho-shaped client (shared/API.md): option functions, connect/reconnect/disconnect, the network
 * loops, publish/subscribe, and the callbacks, over the sans-I/O Engine and a Host's links and timer.
 *
 * The data path: link bytes -> engine.receive -> engine.poll -> one callback per event (never inside the
 * decoder) -> engine output -> link.write. In a loop mode (loopStart/loopForever) the host's link events
 * and one timer drive it all, reconnecting with backoff; otherwise the caller drives it with loop() or
 * with loopRead/loopWrite/loopMisc, as Paho's external event loop contract says.
 */
import { MQTTv31, MQTTv311, MQTTv5, type ProtocolVersion } from "../codec/constants.js";
import type { ConnectPacket, QoS, Subscription, Will } from "../codec/packet-types.js";
import type { Properties } from "../codec/properties.js";
import type { PublishView } from "../codec/packets/publish.js";
import { MQTT_ERR_AUTH, MQTT_ERR_CONN_LOST, MQTT_ERR_CONN_REFUSED, MQTT_ERR_INVAL, MQTT_ERR_KEEPALIVE, MQTT_ERR_NO_CONN, MQTT_ERR_NOT_SUPPORTED, MQTT_ERR_QUEUE_SIZE, MQTT_ERR_SUCCESS, MQTT_LOG_DEBUG, MQTT_LOG_ERR, MQTT_LOG_INFO, MQTT_LOG_NOTICE, MQTT_LOG_WARNING } from "./constants.js";
import { type Budget, checkBudget } from "../engine/budget.js";
import { CLOSING, CONNECTED, type ClosedEvent, ENGINE_DEFAULTS, Engine, type EngineEvent, type EngineOptions, IDLE } from "../engine/engine.js";
import { type Host, type Link, type LinkError, type LinkEvents, type LinkParams, type TlsOptions, getDefaultHost } from "../connection/host.js";
import { ConnectionDriver } from "../connection/driver.js";
import { NO_BYTES, utf8Bytes } from "../connection/payload.js";
import { AWAIT_CONNACK, BACKOFF, type Callback, OPENING, type SupervisorEvent, type SupervisorState, initialState, transition } from "../connection/supervisor.js";
import { Completions } from "./completions.js";
import { MQTTMessage, type MessageInfo } from "./message.js";
import type { SessionStore } from "../session/store.js";
import { connackString, errorString } from "./strings.js";
import { topicFilterProblem, topicMatchesSub, topicNameProblem } from "./topic-rules.js";
import { isSharedFilter } from "../codec/topics.js";

export type Payload = Uint8Array | ArrayBuffer | string | number | null | undefined;

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

type SocketCallback = (client: Client, userdata: unknown, socket: unknown) => void;
export type MessageCallback = (client: Client, userdata: unknown, message: MQTTMessage) => void;

const MODE_MANUAL = 0;
/** Empty lists every new client starts with, shared: a client holds its own once it has something in it. */
const NO_CALLBACKS: ReadonlyArray<[string, MessageCallback]> = Object.freeze([]);
const NO_SERVERS: ReadonlyArray<{ host: string; port: number }> = Object.freeze([]);
/** What Client.lastTopic holds before publish() has accepted a topic: equal to nothing a caller passes. */
const NO_TOPIC = Symbol("no topic yet");
const MODE_BACKGROUND = 1;
const MODE_FOREVER = 2;
const MAX_PAYLOAD = 268435455;
/** Reason codes reported to onDisconnect when no DISCONNECT packet gave one (Paho's mapping). */
const NORMAL_DISCONNECTION = 0x00;
const UNSPECIFIED_ERROR = 0x80;
const KEEP_ALIVE_TIMEOUT = 0x8d;

interface ConnectArgs {
  host: string;
  port: number;
  keepalive: number;
  bindAddress: string;
  cleanStart: boolean | undefined;
  properties: Properties | undefined;
}

export class Client {
  onConnect: ((client: Client, userdata: unknown, flags: ConnectFlags, reasonCode: number, properties: Properties) => void) | null = null;
  onConnectFail: ((client: Client, userdata: unknown) => void) | null = null;
  onDisconnect: ((client: Client, userdata: unknown, flags: DisconnectFlags, reasonCode: number, properties: Properties) => void) | null = null;
  onMessage: MessageCallback | null = null;
  onPublish: ((client: Client, userdata: unknown, mid: number, reasonCode: number, properties: Properties) => void) | null = null;
  onSubscribe: ((client: Client, userdata: unknown, mid: number, reasonCodes: number[], properties: Properties) => void) | null = null;
  onUnsubscribe: ((client: Client, userdata: unknown, mid: number, reasonCodes: number[], properties: Properties) => void) | null = null;
  onLog: ((client: Client, userdata: unknown, level: number, buf: string) => void) | null = null;
  onPreConnect: ((client: Client, userdata: unknown) => void) | null = null;
  onSocketOpen: SocketCallback | null = null;
  onSocketClose: SocketCallback | null = null;
  onSocketRegisterWrite: SocketCallback | null = null;
  onSocketUnregisterWrite: SocketCallback | null = null;

  userdata: unknown;
  /** The engine's only caller: the link, the one timer, the clock as last read (src/connection/driver.ts). */
  private driver!: ConnectionDriver;
  /** The driver's engine, for the facade's commands (a field: publish() is a hot path on XS). */
  private engine!: Engine;
  private clientId!: string;
  private cleanSession!: boolean;
  private protocol!: ProtocolVersion;
  private transport!: "tcp" | "websockets";
  private username: string | undefined;
  private password: Uint8Array | undefined;
  private will: Will | undefined;
  private tls: TlsOptions | undefined;
  private wsPath = "/mqtt";
  private wsHeaders: Record<string, string> | undefined;
  private logger: Logger | undefined;
  /** Copied when changed (rarely), so a new client shares the one empty list. */
  private messageCallbacks: ReadonlyArray<[string, MessageCallback]> = NO_CALLBACKS;
  private authenticator: Authenticator | undefined;
  private followRedirects = false;
  private zeroCopyMessages = false;
  /** Brokers to fail over to (failoverSet), after the one connect() named. */
  private failover: ReadonlyArray<{ host: string; port: number }> = NO_SERVERS;
  /** The connection's lifecycle (src/connection/supervisor.ts): backoff, failover, redirects, timeouts. */
  private supervisor!: SupervisorState;

  private args: ConnectArgs | undefined;
  /** Why the engine ended the connection, for onDisconnect once the link is gone. */
  private closedEvent: ClosedEvent | undefined;
  /**
   * Why the link closed, as the host said (a LinkError), or why an attempt could not even start (an
   * Error, rejected as it is): kept until the supervisor has decided.
   */
  private failure: LinkError | Error | undefined = undefined;
  private mode = MODE_MANUAL;
  private writeRegistered = false;
  private readable = false;
  private readableWaiter: (() => void) | undefined;
  private openWaiter: { resolve: (rc: number) => void; reject: (e: Error) => void } | undefined;
  private foreverWaiter: { resolve: (rc: number) => void; reject: (e: Error) => void } | undefined;
  /** What tells each MessageInfo it was published (src/paho/completions.ts): made at the first publish. */
  private completions: Completions | undefined = undefined;
  /** The last topic publish() accepted: a publisher's topics repeat, so each is checked once in a row. */
  private lastTopic: unknown = NO_TOPIC;
  private flushScheduled = false;
  /** A publish in a callback of service() left bytes for service() to write when its callbacks are done. */
  private flushOwed = false;
  /** loopStart() ran and loopStop() has not: loopStop() succeeds even if the loop already ended. */
  private backgroundStarted = false;

  private get host(): Host {
    return this.driver.host;
  }


  constructor(options: ClientOptions = {}) {
    this.init(options);
  }

  /** Back to the just-constructed state with new options: the link is dropped, callbacks are cleared. */
  reinitialise(options: ClientOptions = {}): void {
    this.dropLink();
    this.driver.clearTimer();
    this.onConnect = this.onConnectFail = this.onDisconnect = this.onMessage = this.onPublish = null;
    this.onSubscribe = this.onUnsubscribe = this.onLog = this.onPreConnect = null;
    this.onSocketOpen = this.onSocketClose = this.onSocketRegisterWrite = this.onSocketUnregisterWrite = null;
    this.init(options);
  }

  private init(options: ClientOptions): void {
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
    this.zeroCopyMessages = options.zeroCopyMessages ?? false;
    const manualAck = options.manualAck ?? false;
    // The default settings are one object every such client shares.
    const settings = !manualAck && unacked === "resend" && options.store === undefined ? ENGINE_DEFAULTS
      : { ...ENGINE_DEFAULTS, manualAck, resendOnSessionLoss: unacked === "resend", store: options.store };
    const engine = new Engine(checkBudget(options.budget), protocol, settings, (level, message) => this.log(level, message));
    if (options.store !== undefined) engine.restore(options.store.open(clientId, protocol));
    this.driver = new Client.Driver(options.host ?? getDefaultHost(), engine, this);
    this.engine = engine;
    this.clientId = clientId;
    this.cleanSession = cleanSession;
    this.protocol = protocol;
    this.transport = transport;
    this.userdata = options.userdata;
    this.username = this.password = this.will = this.tls = this.wsHeaders = this.logger = undefined;
    this.wsPath = "/mqtt";
    this.supervisor = initialState(connectTimeoutMs(options.connectTimeout ?? 5));
    this.messageCallbacks = NO_CALLBACKS;
    this.authenticator = undefined;
    this.followRedirects = false;
    this.failover = NO_SERVERS;
    this.args = undefined;
    this.mode = MODE_MANUAL;
    this.completions = undefined;
  }

  // ---- options --------------------------------------------------------------------------------

  /** At most n QoS 1/2 messages in flight at once (default 20; 0 = no limit but the broker's). */
  maxInflightMessagesSet(n: number): void {
    this.configureEngine({ maxInflight: nonNegativeInteger(n, "maxInflightMessages") });
  }

  /** At most n QoS 1/2 messages waiting to be sent (0 = as many as the budget holds). */
  maxQueuedMessagesSet(n: number): void {
    this.configureEngine({ maxQueued: nonNegativeInteger(n, "maxQueuedMessages") });
  }

  /** Re-send an unacknowledged QoS 1/2 message after this many seconds (MQTT 3.x only; v5 forbids it). */
  messageRetrySet(seconds: number): void {
    if (typeof seconds !== "number" || !(seconds >= 0)) throw new RangeError("messageRetry must be a number of seconds >= 0");
    this.configureEngine({ retryMs: seconds * 1000 });
  }

  /** The engine's settings with `changes`, from now on. */
  private configureEngine(changes: Partial<EngineOptions>): void {
    this.engine.configure({ ...this.engine.options, ...changes });
  }

  wsSetOptions(path = "/mqtt", headers?: Record<string, string>): void {
    if (this.transport !== "websockets") throw new RangeError('wsSetOptions needs transport: "websockets"');
    this.wsPath = path;
    this.wsHeaders = headers;
  }

  tlsSet(options: Omit<TlsOptions, "context" | "insecure"> = {}): void {
    if (this.tls?.context !== undefined) throw new RangeError("TLS is already set with tlsSetContext");
    this.tls = { ...options, insecure: this.tls?.insecure };
  }

  tlsSetContext(context: unknown): void {
    if (this.tls !== undefined && this.tls.context === undefined && Object.keys(this.tls).some((k) => k !== "insecure" && this.tls![k as keyof TlsOptions] !== undefined)) {
      throw new RangeError("TLS is already set with tlsSet");
    }
    this.tls = { context, insecure: this.tls?.insecure };
  }

  tlsInsecureSet(insecure: boolean): void {
    if (this.tls === undefined) throw new RangeError("call tlsSet() or tlsSetContext() before tlsInsecureSet()");
    this.tls.insecure = insecure;
  }

  enableLogger(logger?: Logger): void {
    this.logger = logger ?? defaultLogger();
  }

  disableLogger(): void {
    this.logger = undefined;
  }

  usernamePwSet(username: string | null, password?: string | Uint8Array | null): void {
    if (username !== null && typeof username !== "string") throw new TypeError("username must be a string or null");
    this.username = username ?? undefined;
    this.password = password === undefined || password === null ? undefined : toBytes(password, "password");
  }

  userDataSet(userdata: unknown): void {
    this.userdata = userdata;
  }

  willSet(topic: string, payload?: Payload, qos: QoS = 0, retain = false, properties?: Properties): void {
    const problem = topicNameProblem(topic);
    if (problem !== undefined) throw new RangeError(`invalid will topic: ${problem}`);
    checkQos(qos);
    const bytes = toPayload(payload);
    if (bytes.length > 65535) throw new RangeError(`the will payload is ${bytes.length} bytes; at most 65535`);
    this.will = { topic, payload: bytes, qos: qos as QoS, retain: Boolean(retain), properties: this.protocol === MQTTv5 ? properties : undefined };
  }

  willClear(): void {
    this.will = undefined;
  }

  /**
   * MQTT 5: give topics published again and again at QoS 0 a topic alias, within the broker's Topic
   * Alias Maximum and budget.maxTopicAliases, so the topic goes over the wire only the first time.
   */
  outgoingTopicAliasesSet(enabled: boolean): void {
    if (enabled && this.protocol !== MQTTv5) throw new RangeError("topic aliases need MQTT 5");
    this.configureEngine({ useTopicAliases: enabled });
  }

  /** MQTT 5 enhanced authentication; null turns it off. */
  authenticatorSet(authenticator: Authenticator | null): void {
    if (authenticator !== null) {
      if (this.protocol !== MQTTv5) throw new RangeError("enhanced authentication needs MQTT 5");
      if (typeof authenticator.method !== "string" || authenticator.method === "") throw new TypeError("an authenticator needs a method name");
      if (typeof authenticator.challenge !== "function") throw new TypeError("an authenticator needs a challenge() function");
    }
    this.authenticator = authenticator ?? undefined;
  }

  /** MQTT 5: starts a re-authentication (AUTH 0x19) with the authenticator's initial data. */
  reauthenticate(): number {
    if (this.authenticator === undefined) return MQTT_ERR_INVAL;
    const rc = this.engine.sendAuth(0x19, this.authenticator.initialData?.(), this.driver.clock());
    this.flush();
    return rc;
  }

  /**
   * MQTT 5 server redirection: when a CONNACK or DISCONNECT carries a Server Reference (with reason
   * 0x9C Use another server or 0x9D Server moved), connect there next. Off by default: the reference
   * is always reported in the callback's properties.
   */
  serverRedirectSet(follow: boolean): void {
    this.followRedirects = follow;
  }

  /**
   * Other brokers of the same cluster: when a connection attempt fails, the next attempt goes to the
   * next broker in the list (connect()'s own host first), round and round, as MQTT.js's `servers`.
   */
  failoverSet(servers: Array<{ host: string; port?: number }>): void {
    if (!Array.isArray(servers)) throw new TypeError("failoverSet takes a list of { host, port }");
    this.failover = servers.map(({ host, port = 1883 }) => {
      if (typeof host !== "string" || host === "") throw new RangeError("every failover server needs a host");
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`failover port must be 1..65535, got ${String(port)}`);
      return { host, port };
    });
    this.setServers();
  }

  /**
   * Reconnect after min seconds, doubling up to max; back to min once a connection has held for 10 s
   * after its CONNACK (a broker that accepts and closes at once is not retried every min seconds).
   */
  reconnectDelaySet(minDelay = 1, maxDelay = 120): void {
    if (!(minDelay > 0) || !(maxDelay >= minDelay)) throw new RangeError("reconnect delays need 0 < minDelay <= maxDelay");
    this.supervisor = { ...this.supervisor, minDelayMs: minDelay * 1000, delayMs: minDelay * 1000, maxDelayMs: maxDelay * 1000 };
  }

  /**
   * How long opening the link, and then the broker's CONNACK, may each take (Paho 2's connect_timeout,
   * default 5 s). When the link does not open in time, an awaited connect() rejects with an
   * MqttConnectionError (MQTT_ERR_NO_CONN), as Paho's connect() raises; otherwise, and when CONNACK does
   * not come in time (connect() has resolved by then: it resolves once CONNECT is written, as Paho's
   * returns), the link is dropped, onConnectFail runs, loopForever() without retryFirstConnection
   * rejects with MQTT_ERR_NO_CONN, and a running loop reconnects after the backoff.
   */
  connectTimeoutSet(seconds: number): void {
    this.supervisor = { ...this.supervisor, connectTimeoutMs: connectTimeoutMs(seconds) };
  }

  // ---- connection -----------------------------------------------------------------------------

  /** Opens the link and writes CONNECT; resolves MQTT_ERR_SUCCESS then. onConnect reports the CONNACK. */
  connect(host: string, port = 1883, keepalive = 60, bindAddress = "", cleanStart?: boolean, properties?: Properties): Promise<number> {
    this.setArgs(host, port, keepalive, bindAddress, cleanStart, properties);
    return this.start(true);
  }

  /** Stores the arguments; the connection is made by loopStart()/loopForever() (Paho's connect_async). */
  connectAsync(host: string, port = 1883, keepalive = 60, bindAddress = "", cleanStart?: boolean, properties?: Properties): number {
    this.setArgs(host, port, keepalive, bindAddress, cleanStart, properties);
    if (this.mode !== MODE_MANUAL && this.driver.link === null) void this.start(false);
    return MQTT_ERR_SUCCESS;
  }

  /** SRV lookups need a host resolver: the Node host provides connectSrv through its transports. */
  connectSrv(domain?: string, keepalive = 60, bindAddress = ""): Promise<number> {
    const resolver = (this.host as Host & { resolveSrv?: (domain: string) => Promise<Array<{ name: string; port: number }>> }).resolveSrv;
    if (resolver === undefined) return Promise.reject(new MqttConnectionError(MQTT_ERR_NOT_SUPPORTED, "this host cannot resolve SRV records"));
    if (domain === undefined) return Promise.reject(new RangeError("connectSrv needs a domain"));
    return resolver.call(this.host, `_mqtt._tcp.${domain}`).then(async (targets) => {
      let last: unknown;
      for (const t of targets) {
        try {
          return await this.connect(t.name, t.port, keepalive, bindAddress);
        } catch (e) {
          last = e;
        }
      }
      throw last ?? new MqttConnectionError(MQTT_ERR_NO_CONN, `no SRV records for ${domain}`);
    });
  }

  /** Drops the current link, if any, and connects again with the last connect() arguments. */
  reconnect(): Promise<number> {
    if (this.args === undefined) return Promise.reject(new MqttConnectionError(MQTT_ERR_INVAL, "reconnect() before connect()"));
    return this.start(true);
  }

  /** Sends DISCONNECT (so no will is published) and closes the link; stops reconnecting. */
  disconnect(reasonCode = 0, properties?: Properties): number {
    const link = this.driver.link;
    if (link === null || !this.driver.linkOpen) {
      this.supervise({ type: "disconnect" });
      return MQTT_ERR_NO_CONN;
    }
    this.log(MQTT_LOG_DEBUG, "Sending DISCONNECT");
    const rc = this.engine.disconnect(reasonCode, this.protocol === MQTTv5 ? properties : undefined, this.driver.clock());
    this.supervise({ type: "disconnect" });
    if (rc !== MQTT_ERR_SUCCESS) {
      link.destroy();
      this.linkClosed(undefined);
      return rc;
    }
    this.flush();
    return MQTT_ERR_SUCCESS;
  }

  isConnected(): boolean {
    return this.engine.state === CONNECTED;
  }

  // ---- loops ----------------------------------------------------------------------------------

  /** Runs the network loop in the background (host events and a timer), reconnecting as needed. */
  loopStart(): number {
    if (this.mode !== MODE_MANUAL) return MQTT_ERR_INVAL;
    this.setMode(MODE_BACKGROUND, false);
    this.backgroundStarted = true;
    this.startLooping();
    return MQTT_ERR_SUCCESS;
  }

  /** Stops the background loop; the link stays as it is, and unprocessed bytes wait in it. */
  loopStop(): number {
    if (!this.backgroundStarted) return MQTT_ERR_INVAL;
    this.backgroundStarted = false;
    if (this.mode === MODE_BACKGROUND) this.setMode(MODE_MANUAL, false);
    this.driver.clearTimer();
    return MQTT_ERR_SUCCESS;
  }

  /**
   * Runs the network loop until disconnect() is called, reconnecting meanwhile. Resolves MQTT_ERR_SUCCESS
   * then. Rejects when the first connection fails, unless retryFirstConnection.
   */
  loopForever(options: { retryFirstConnection?: boolean } = {}): Promise<number> {
    if (this.mode !== MODE_MANUAL) return Promise.reject(new Error("the network loop is already running"));
    this.setMode(MODE_FOREVER, !(options.retryFirstConnection ?? false));
    return new Promise<number>((resolve, reject) => {
      this.foreverWaiter = { resolve, reject };
      this.startLooping();
    });
  }

  /** Waits up to timeout seconds for bytes, then reads, writes and runs timers once (Paho's loop()). */
  async loop(timeout = 1.0): Promise<number> {
    if (this.driver.link === null) return MQTT_ERR_NO_CONN;
    if (!this.readable && !this.engine.hasInput) {
      await new Promise<void>((resolve) => {
        const timer = this.host.setTimer(() => {
          this.readableWaiter = undefined;
          resolve();
        }, Math.max(0, timeout * 1000));
        this.readableWaiter = () => {
          this.host.clearTimer(timer);
          this.readableWaiter = undefined;
          resolve();
        };
      });
    }
    const rc = this.loopRead();
    if (rc !== MQTT_ERR_SUCCESS) return rc;
    this.loopWrite();
    return this.loopMisc();
  }

  /** Reads and handles what the link has received. */
  loopRead(): number {
    if (this.driver.link === null) return MQTT_ERR_NO_CONN;
    this.readable = false;
    this.service();
    return this.driver.link === null && this.supervisor.phase !== "STOPPED" ? MQTT_ERR_CONN_LOST : MQTT_ERR_SUCCESS;
  }

  /** Writes what is waiting to be sent. */
  loopWrite(): number {
    if (this.driver.link === null) return MQTT_ERR_NO_CONN;
    this.flush();
    return MQTT_ERR_SUCCESS;
  }

  /** Keepalive and retries: call at least once a second in an external loop. */
  loopMisc(): number {
    if (this.driver.link === null) return MQTT_ERR_NO_CONN;
    this.driver.tick();
    return this.driver.link === null ? MQTT_ERR_CONN_LOST : MQTT_ERR_SUCCESS;
  }

  /** The host's socket object, for an external event loop; null without a link. */
  socket(): unknown {
    return this.driver.link?.socket ?? null;
  }

  /**
   * Messages larger than budget.maxPacketSize that an MQTT 3.1/3.1.1 broker sent (it cannot be told the
   * limit): each was read past without being stored, acknowledged as its QoS requires, logged at
   * MQTT_LOG_ERR, and not delivered. On MQTT 5 the limit is advertised and a larger packet is a protocol
   * error (DISCONNECT 0x95).
   */
  get oversizedMessages(): number {
    return this.engine.oversizedMessages;
  }

  wantWrite(): boolean {
    return this.engine.wantsWrite;
  }

  // ---- messages -------------------------------------------------------------------------------

  publish(topic: string, payload?: Payload, qos: QoS = 0, retain = false, properties?: Properties): MessageInfo {
    if (topic !== this.lastTopic) {
      const problem = topicNameProblem(topic);
      if (problem !== undefined) throw new RangeError(`invalid topic: ${problem}`);
      this.lastTopic = topic;
    }
    checkQos(qos);
    if (properties?.subscriptionIdentifier !== undefined) throw new RangeError("a Subscription Identifier is the broker's to send: a client's PUBLISH carries none [MQTT-3.3.4-6]");
    const bytes = payload instanceof Uint8Array ? payload : toPayload(payload);
    if (bytes.length > MAX_PAYLOAD) throw new RangeError(`payload is ${bytes.length} bytes; MQTT allows at most ${MAX_PAYLOAD}`);
    // QoS 0 reads the clock once per burst: the publishes after the first, until the flush the first
    // scheduled, are in the same turn of the event loop. For QoS 0 the time only says when something was
    // last sent (for keepalive), and a clock read can cost as much as the rest of a small QoS 0 publish.
    const driver = this.driver;
    const now = qos !== 0 || !(this.flushScheduled || this.flushOwed) ? (driver.now = driver.host.now()) : driver.now;
    const props = this.protocol === MQTTv5 ? properties : undefined;
    let result = this.engine.publish(topic, bytes, qos as QoS, Boolean(retain), props, now);
    if (result.rc === MQTT_ERR_QUEUE_SIZE && this.flushOwed) {
      // In a callback, what earlier publishes queued waits for service() to write it: when that fills the
      // output, it is written now and this publish tried again, so a callback still publishes as much as
      // the link takes.
      this.flush();
      result = this.engine.publish(topic, bytes, qos as QoS, Boolean(retain), props, now);
    }
    const rc = result.rc;
    const mid = result.mid;
    const completions = (this.completions ??= new Completions(driver.host));
    if (rc !== MQTT_ERR_SUCCESS) {
      this.log(MQTT_LOG_WARNING, `publish to ${topic} not queued: ${errorString(rc)}`);
      return completions.notQueuedInfo(rc, mid);
    }
    if (this.logging) this.log(MQTT_LOG_DEBUG, `Sending PUBLISH (d0, q${qos}, r${retain ? 1 : 0}, m${mid}), '${topic}', ... (${bytes.length} bytes)`);
    // As Paho: without a connection every QoS says MQTT_ERR_NO_CONN, though QoS 1/2 is queued and goes
    // out after CONNACK (its waitForPublish() still resolves then). The engine writes QoS 0 only when connected.
    const info = qos === 0 ? completions.queuedQos0Info(mid)
      : completions.queuedFlowInfo(this.engine.state === CONNECTED ? MQTT_ERR_SUCCESS : MQTT_ERR_NO_CONN, mid);
    this.scheduleFlush();
    return info;
  }

  /**
   * subscribe("a/b", 1), subscribe(["a/b", 1]), subscribe([["a/b", 1], ["c", { qos: 2, noLocal: true }]]).
   * Returns [rc, mid].
   */
  subscribe(topic: string | [string, QoS | SubscribeOptions] | Array<[string, QoS | SubscribeOptions]>, qos: QoS = 0, options?: SubscribeOptions, properties?: Properties): [number, number] {
    const subs: Subscription[] = [];
    const add = (filter: unknown, o: number | SubscribeOptions | undefined): void => {
      const problem = topicFilterProblem(filter, this.protocol);
      if (problem !== undefined) throw new RangeError(`invalid subscription: ${problem}`);
      const opts: SubscribeOptions = typeof o === "number" ? { ...options, qos: o as QoS } : { qos: qos as QoS, ...o };
      checkQos(opts.qos ?? 0);
      if (this.protocol !== MQTTv5 && (opts.noLocal || opts.retainAsPublished || (opts.retainHandling ?? 0) !== 0)) {
        throw new RangeError("noLocal, retainAsPublished and retainHandling need MQTT 5");
      }
      const rh = opts.retainHandling ?? 0;
      if (rh !== 0 && rh !== 1 && rh !== 2) throw new RangeError("retainHandling must be 0, 1 or 2");
      if (opts.noLocal && isSharedFilter(filter as string)) throw new RangeError("No Local cannot be set on a shared subscription [MQTT-3.8.3-4]");
      const sub: Subscription = { topicFilter: filter as string, qos: (opts.qos ?? 0) as QoS };
      if (this.protocol === MQTTv5) {
        sub.noLocal = Boolean(opts.noLocal);
        sub.retainAsPublished = Boolean(opts.retainAsPublished);
        sub.retainHandling = rh;
      }
      subs.push(sub);
    };
    if (typeof topic === "string") add(topic, options);
    else if (Array.isArray(topic) && typeof topic[0] === "string") add(topic[0], topic[1] as number | SubscribeOptions);
    else if (Array.isArray(topic) && topic.length > 0) {
      for (const pair of topic as unknown[]) {
        if (!Array.isArray(pair)) throw new TypeError("subscribe() takes a topic, a [topic, qos] pair or a list of pairs");
        add(pair[0], pair[1] as number | SubscribeOptions);
      }
    } else throw new TypeError("subscribe() takes a topic, a [topic, qos] pair or a non-empty list of pairs");
    const r = this.engine.subscribe(subs, this.protocol === MQTTv5 ? properties : undefined, this.driver.clock());
    if (r.rc === MQTT_ERR_SUCCESS) {
      this.log(MQTT_LOG_DEBUG, `Sending SUBSCRIBE (d0, m${r.mid}) [${subs.map((s) => `('${s.topicFilter}', ${s.qos})`).join(", ")}]`);
      this.scheduleFlush();
    }
    return [r.rc, r.mid];
  }

  unsubscribe(topic: string | string[], properties?: Properties): [number, number] {
    const filters = typeof topic === "string" ? [topic] : topic;
    if (!Array.isArray(filters) || filters.length === 0) throw new TypeError("unsubscribe() takes a topic or a non-empty list of topics");
    for (const f of filters) {
      const problem = topicFilterProblem(f, this.protocol);
      if (problem !== undefined) throw new RangeError(`invalid topic filter: ${problem}`);
    }
    const r = this.engine.unsubscribe(filters, this.protocol === MQTTv5 ? properties : undefined, this.driver.clock());
    if (r.rc === MQTT_ERR_SUCCESS) {
      this.log(MQTT_LOG_DEBUG, `Sending UNSUBSCRIBE (d0, m${r.mid}) [${filters.map((f) => `'${f}'`).join(", ")}]`);
      this.scheduleFlush();
    }
    return [r.rc, r.mid];
  }

  /** With manualAck on: acknowledges message mid (PUBACK for QoS 1, PUBREC for QoS 2). */
  ack(mid: number, qos: QoS): number {
    checkQos(qos);
    const rc = this.engine.ack(mid, qos, this.driver.clock());
    this.scheduleFlush();
    return rc;
  }

  /** Routes messages whose topic matches `sub` (wildcards allowed) to callback instead of onMessage. */
  messageCallbackAdd(sub: string, callback: MessageCallback): void {
    const problem = topicFilterProblem(sub, 5);
    if (problem !== undefined) throw new RangeError(`invalid subscription: ${problem}`);
    if (typeof callback !== "function") throw new TypeError("callback must be a function");
    const existing = this.messageCallbacks.find(([s]) => s === sub);
    if (existing !== undefined) existing[1] = callback;
    else this.messageCallbacks = [...this.messageCallbacks, [sub, callback]];
  }

  messageCallbackRemove(sub: string): void {
    this.messageCallbacks = this.messageCallbacks.filter(([s]) => s !== sub);
  }

  // ---- the link -------------------------------------------------------------------------------

  private setArgs(host: string, port: number, keepalive: number, bindAddress: string, cleanStart: boolean | undefined, properties: Properties | undefined): void {
    if (typeof host !== "string" || host === "") throw new RangeError("host must be a non-empty string");
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`port must be 1..65535, got ${String(port)}`);
    if (!Number.isInteger(keepalive) || keepalive < 0 || keepalive > 65535) throw new RangeError(`keepalive must be 0..65535 seconds, got ${String(keepalive)}`);
    if (cleanStart !== undefined && this.protocol !== MQTTv5) throw new RangeError("cleanStart is an MQTT 5 argument; use cleanSession on 3.x");
    if (properties !== undefined && this.protocol !== MQTTv5) throw new RangeError("connect properties need MQTT 5");
    this.args = { host, port, keepalive, bindAddress, cleanStart, properties };
    this.setServers();
  }

  /** The supervisor's list: connect()'s broker, then failoverSet()'s; the next attempt goes to the first. */
  private setServers(): void {
    const a = this.args;
    if (a === undefined) return;
    this.supervisor = { ...this.supervisor, servers: 1 + this.failover.length, server: 0 };
  }

  private connectPacket(): ConnectPacket {
    const a = this.args!;
    const packet: ConnectPacket = {
      type: 1, protocolVersion: this.protocol, clientId: this.clientId,
      cleanStart: this.protocol === MQTTv5 ? a.cleanStart ?? this.cleanSession : this.cleanSession,
      keepAlive: a.keepalive, username: this.username, password: this.password, will: this.will,
    };
    if (this.protocol === MQTTv5) {
      // What the budget can take, advertised so the broker never sends more (section 3.1.2.11).
      const b = this.engine.budget;
      const properties: Properties = { receiveMaximum: b.maxIncomingQos2, maximumPacketSize: b.maxPacketSize };
      if (b.maxTopicAliases > 0) properties.topicAliasMaximum = b.maxTopicAliases;
      const auth = this.authenticator;
      if (auth !== undefined) {
        properties.authenticationMethod = auth.method;
        const data = auth.initialData?.();
        if (data !== undefined) properties.authenticationData = data;
      }
      // The user may ask for less than the budget holds, never for more.
      const asked = a.properties ?? {};
      packet.properties = { ...properties, ...asked };
      for (const key of ["receiveMaximum", "maximumPacketSize", "topicAliasMaximum"] as const) {
        const own = properties[key] ?? 0;
        if (asked[key] !== undefined && asked[key]! > own) {
          this.log(MQTT_LOG_WARNING, `connect property ${key} ${asked[key]} is more than the budget holds: ${own} advertised`);
          packet.properties[key] = own;
        }
      }
    }
    return packet;
  }

  /**
   * A connection attempt asked for by the application (connect, reconnect, a loop starting): any link is
   * dropped and the supervisor opens a new one. `awaited`: the caller takes the outcome from the promise;
   * otherwise (the loops) a failure goes to onConnectFail.
   */
  private start(awaited: boolean): Promise<number> {
    if (this.args === undefined) return Promise.reject(new MqttConnectionError(MQTT_ERR_INVAL, "connect() needs a host"));
    this.dropLink();
    const opened = new Promise<number>((resolve, reject) => {
      this.openWaiter = awaited ? { resolve, reject } : undefined;
      if (!awaited) resolve(MQTT_ERR_SUCCESS);
    });
    this.supervise({ type: "start" });
    return opened;
  }

  /** Opens a link to the supervisor's current server; CONNECT is written once it is up (linkOpened). */
  private openLink(): void {
    const a = this.args!;
    this.call("onPreConnect", () => this.onPreConnect?.(this, this.userdata));
    const server = this.supervisor.server;
    const target = server === 0 ? a : this.failover[server - 1]!;
    const params: LinkParams = { host: target.host, port: target.port, bindAddress: a.bindAddress, transport: this.transport,
      tls: this.tls, wsPath: this.wsPath, wsHeaders: this.wsHeaders };
    this.log(MQTT_LOG_DEBUG, `Connecting to ${target.host}:${target.port}`);
    this.closedEvent = undefined;
    this.readable = false;
    try {
      this.driver.open(params);
    } catch (e) {
      // The host could not even start (a TLS file that cannot be read...): a failed attempt.
      this.failure = e instanceof Error ? e : new Error(String(e));
      this.supervise({ type: "lost" });
      return;
    }
  }

  /** The driver, with what it tells the client: a nested class, so the client's private methods stay private. */
  private static readonly Driver = class extends ConnectionDriver {
    constructor(host: Host, engine: Engine, private readonly client: Client) {
      super(host, engine);
    }
    linkOpened(): void { this.client.linkOpened(); }
    linkReadable(): void { this.client.linkReadable(); }
    linkClosed(error: LinkError | undefined): void { this.client.linkClosed(error); }
    dispatch(): boolean { this.client.dispatch(); return true; }
    /** The driver wrote: Paho's socket callbacks, QoS 0 completions, and the close after a drained DISCONNECT. */
    written(waiting: boolean): void {
      const c = this.client;
      if (waiting !== c.writeRegistered) {
        c.writeRegistered = waiting;
        const socket = this.link!.socket;
        if (waiting) c.call("onSocketRegisterWrite", () => c.onSocketRegisterWrite?.(c, c.userdata, socket));
        else c.call("onSocketUnregisterWrite", () => c.onSocketUnregisterWrite?.(c, c.userdata, socket));
      }
      if (!waiting) {
        if (c.completions !== undefined && c.completions.unwrittenQos0 > 0) c.qos0Written(c.completions);
        if (this.engine.state === CLOSING && this.link !== null) c.closeWhenFlushed();
      }
    }
    // What user code queued after the loop's last flush (a publish from onPublish of QoS 0 written there).
    serviced(): void { if (this.client.flushOwed) this.client.flush(); }
    timerFired(): void { this.client.supervise({ type: "timer" }); }
    deadline(): number { return this.client.supervisor.deadline; }
    // Without a loop the application ticks, by loopMisc().
    override timed(): boolean { return this.client.mode !== MODE_MANUAL; }
  };

  private linkOpened(): void {
    this.supervise({ type: "opened" });
    this.call("onSocketOpen", () => this.onSocketOpen?.(this, this.userdata, this.driver.link!.socket));
    let packet: ConnectPacket;
    try {
      packet = this.connectPacket();
      this.engine.begin(packet, this.driver.clock());
    } catch (e) {
      // A CONNECT that cannot be made (larger than the budget's output): the attempt failed.
      this.failure = e as Error;
      this.dropLink();
      this.supervise({ type: "lost" });
      return;
    }
    this.log(MQTT_LOG_DEBUG, `Sending CONNECT (u${packet.username === undefined ? 0 : 1}, p${packet.password === undefined ? 0 : 1}, wr${packet.will?.retain ? 1 : 0}, wq${packet.will?.qos ?? 0}, wf${packet.will ? 1 : 0}, c${packet.cleanStart ? 1 : 0}, k${packet.keepAlive}) client_id=${this.clientId}`);
    this.flush();
    const waiter = this.openWaiter;
    this.openWaiter = undefined;
    waiter?.resolve(MQTT_ERR_SUCCESS);
    this.driver.armTimer();
  }

  private linkReadable(): void {
    this.readable = true;
    if (this.readableWaiter !== undefined) this.readableWaiter();
    if (this.mode !== MODE_MANUAL) this.service();
  }

  /** Reads and handles whatever is waiting, then writes (the driver's loop). */
  private service(): void {
    this.driver.service();
  }

  private dispatch(): void {
    let event: EngineEvent | null;
    while ((event = this.engine.poll()) !== null) this.handleEvent(event);
  }

  /** A received message to the callbacks whose subscription matches its topic, or to onMessage. */
  private deliver(view: PublishView): void {
    const message = new MQTTMessage(view, this.zeroCopyMessages);
    if (this.logging) this.log(MQTT_LOG_DEBUG, `Received PUBLISH (d${message.dup ? 1 : 0}, q${message.qos}, r${message.retain ? 1 : 0}, m${message.mid}), '${message.topic}', ...  (${view.payloadLength} bytes)`);
    let matched = false;
    for (const [sub, callback] of this.messageCallbacks) {
      if (!topicMatchesSub(sub, message.topic)) continue;
      matched = true;
      this.call("message callback", () => callback(this, this.userdata, message));
    }
    if (!matched) this.call("onMessage", () => this.onMessage?.(this, this.userdata, message));
    message.expire();
  }

  private handleEvent(e: EngineEvent): void {
    const props = (p: Properties | undefined): Properties => p ?? {};
    switch (e.type) {
      case "message":
        this.deliver(e.message);
        return;
      case "published": {
        this.completions?.flowEnded(e.mid, e.reasonCode);
        this.call("onPublish", () => this.onPublish?.(this, this.userdata, e.mid, e.reasonCode, props(e.properties)));
        return;
      }
      case "connected":
        this.supervise({ type: "accepted" });
        // A broker-assigned id names the session from now on, so a reconnect resumes it.
        if (e.properties?.assignedClientIdentifier !== undefined) this.clientId = e.properties.assignedClientIdentifier;
        this.log(MQTT_LOG_DEBUG, `Received CONNACK (${e.sessionPresent ? 1 : 0}, ${e.reasonCode})`);
        this.call("onConnect", () => this.onConnect?.(this, this.userdata, { sessionPresent: e.sessionPresent }, e.reasonCode, props(e.properties)));
        return;
      case "refused":
        this.supervise({ type: "refused" });
        this.log(MQTT_LOG_ERR, `Connection refused: ${this.protocol === MQTTv5 ? `reason code 0x${e.reasonCode.toString(16)}: ` : ""}${connackString(e.reasonCode)}`);
        this.closedEvent = { type: "closed", rc: e.reasonCode === 4 || e.reasonCode === 5 || e.reasonCode === 0x86 || e.reasonCode === 0x87 ? MQTT_ERR_AUTH : MQTT_ERR_CONN_REFUSED,
          reasonCode: e.reasonCode, properties: e.properties, reason: "connection refused", fromServer: false };
        this.call("onConnect", () => this.onConnect?.(this, this.userdata, { sessionPresent: false }, e.reasonCode, props(e.properties)));
        this.endLink();
        return;
      case "subscribed":
        this.log(MQTT_LOG_DEBUG, `Received SUBACK (m${e.mid}) [${e.reasonCodes.join(", ")}]`);
        this.call("onSubscribe", () => this.onSubscribe?.(this, this.userdata, e.mid, e.reasonCodes, props(e.properties)));
        return;
      case "unsubscribed":
        this.log(MQTT_LOG_DEBUG, `Received UNSUBACK (m${e.mid})`);
        this.call("onUnsubscribe", () => this.onUnsubscribe?.(this, this.userdata, e.mid, e.reasonCodes, props(e.properties)));
        return;
      case "auth": {
        const auth = this.authenticator;
        if (auth === undefined) return;
        if (e.reasonCode === 0) {
          this.log(MQTT_LOG_INFO, "Re-authentication succeeded");
          this.call("authenticator.done", () => auth.done?.(props(e.properties)));
          return;
        }
        let response: Uint8Array | undefined;
        this.call("authenticator.challenge", () => {
          response = auth.challenge(e.properties?.authenticationData?.slice(), props(e.properties));
        });
        this.engine.sendAuth(0x18, response, this.driver.now);
        return;
      }
      case "closed":
        this.closedEvent = e;
        this.log(e.rc === MQTT_ERR_CONN_LOST || e.rc === MQTT_ERR_SUCCESS ? MQTT_LOG_INFO : MQTT_LOG_ERR, `Connection closing: ${e.reason}`);
        this.endLink();
        return;
    }
  }

  /**
   * Writes soon rather than now when a loop runs: a burst of publishes then leaves in one write instead
   * of one system call each. Without a loop, now, as Paho's publish() does.
   */
  private scheduleFlush(): void {
    // In a callback of service() (onConnect, onMessage, onPublish...): service() writes once its callbacks
    // are done, everything they queued in one write rather than a system call per publish (as Paho writes
    // after its callbacks).
    if (this.driver.servicing) {
      this.flushOwed = true;
      return;
    }
    if (this.mode === MODE_MANUAL) {
      this.flush();
      return;
    }
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.host.defer(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Whether a log line would reach anyone: hot paths skip building the text otherwise. */
  private get logging(): boolean {
    return this.onLog !== null || this.logger !== undefined;
  }

  /** Writes what the engine has for the link, as much as the link takes now. */
  private flush(): void {
    this.flushOwed = false;
    this.driver.flush();
  }



  /** QoS 0 messages count as published once the link has taken their bytes (as Paho's on_publish). */
  private qos0Written(completions: Completions): void {
    const n = completions.unwrittenQos0;
    // onPublish may publish again, and without a loop even flush: those fill the other array meanwhile.
    const mids = completions.writtenQos0Mids();
    // As call() does, without a closure per message.
    for (let i = 0; i < n && this.onPublish !== null; i++) {
      try {
        this.onPublish?.(this, this.userdata, mids[i]!, 0, {});
      } catch (e) {
        this.caught("onPublish", e);
      }
    }
    completions.recycle(mids);
  }

  /**
   * The connection is over: what the link takes now (a final DISCONNECT) goes out, and the link is
   * closed, or dropped when it is not taking bytes (a stalled link must not hold the client).
   */
  private endLink(): void {
    this.flush();
    const link = this.driver.link;
    if (link === null) return;
    link.destroy();
    this.linkClosed(undefined);
  }

  private closeWhenFlushed(): void {
    if (this.driver.link === null || this.engine.wantsWrite) return;
    const link = this.driver.link;
    link.close();
    this.linkClosed(undefined);
  }

  /** Drops the link without callbacks, as reconnect() and reinitialise() do. */
  private dropLink(): void {
    this.driver.release()?.destroy();
  }

  /** The link is gone: socket callbacks, then what the supervisor decides (callbacks, a reconnect). */
  private linkClosed(error: LinkError | undefined): void {
    const link = this.driver.link;
    if (link === null) return;
    this.releaseLink(link);
    this.failure = error;
    this.supervise({ type: "lost", redirected: this.followRedirect(this.closedEvent) });
  }

  /** Feeds the supervisor an event and does what it answers, then keeps the one timer. */
  private supervise(event: SupervisorEvent): void {
    const previous = this.supervisor;
    const before = previous.phase;
    const now = this.host.now();
    const next = transition(this.supervisor, event, now);
    this.supervisor = next.state;
    for (const callback of next.callbacks) this.perform(callback, previous);
    if (next.state.phase === BACKOFF && before !== BACKOFF) this.log(MQTT_LOG_INFO, `Reconnecting in ${(next.timer - now) / 1000} s`);
    if (next.timer < previous.deadline) this.driver.clearTimer();
    if (event.type === "lost" || next.state.phase !== before) {
      this.closedEvent = undefined;
      this.failure = undefined;
    }
    this.driver.armTimer();
  }

  /** Does what the supervisor answered; `previous`: its state before the event. */
  private perform(callback: Callback, previous: SupervisorState): void {
    const phase = previous.phase;
    switch (callback) {
      case "open":
        this.openLink();
        return;
      case "drop": {
        const link = this.driver.link;
        if (link === null) return;
        if (this.host.now() >= previous.deadline) {
          this.closedEvent = { type: "closed", rc: MQTT_ERR_NO_CONN, reasonCode: 0, properties: undefined, fromServer: false,
            reason: phase === OPENING ? "the link did not open within the connect timeout" : "no CONNACK within the connect timeout" };
        }
        link.destroy();
        this.releaseLink(link);
        return;
      }
      case "onConnectFail":
        this.connectFailed(phase);
        return;
      case "onDisconnect":
        this.reportDisconnect(false, previous.refused);
        return;
      case "onDisconnectNormal":
        this.reportDisconnect(true, previous.refused);
        return;
      case "loopEnded":
        // disconnect() before the link opened: an awaited connect() has no connection to resolve with.
        this.openWaiter?.reject(new MqttConnectionError(MQTT_ERR_NO_CONN, "disconnect() before the link opened"));
        this.openWaiter = undefined;
        this.finishForever(MQTT_ERR_SUCCESS);
        return;
      case "loopFailed": {
        const waiter = this.foreverWaiter;
        this.foreverWaiter = undefined;
        this.mode = MODE_MANUAL;
        waiter?.reject(new MqttConnectionError(this.closedEvent?.rc ?? this.linkError?.rc ?? MQTT_ERR_NO_CONN, this.failureText()));
        return;
      }
    }
  }

  /** The link is no longer the client's: the engine forgets it, and the socket callbacks run. */
  private releaseLink(link: Link): void {
    const wasOpen = this.driver.linkOpen;
    this.driver.release();
    if (this.writeRegistered) {
      this.writeRegistered = false;
      this.call("onSocketUnregisterWrite", () => this.onSocketUnregisterWrite?.(this, this.userdata, link.socket));
    }
    if (wasOpen) this.call("onSocketClose", () => this.onSocketClose?.(this, this.userdata, link.socket));
  }

  private failureText(): string {
    return this.closedEvent?.reason ?? this.failure?.message ?? "the connection could not be opened";
  }

  /** What the host said when the link closed, if it closed with an error. */
  private get linkError(): LinkError | undefined {
    return this.failure instanceof Error ? undefined : this.failure;
  }

  /** An attempt failed before CONNACK accepted it: the awaited connect() rejects, or onConnectFail runs. */
  private connectFailed(phase: string): void {
    const message = this.failureText();
    const waiter = this.openWaiter;
    this.openWaiter = undefined;
    if (phase === AWAIT_CONNACK) {
      this.log(MQTT_LOG_ERR, `Connection failed before CONNACK: ${this.closedEvent?.reason ?? this.failure?.message ?? "closed by the broker"}`);
    } else {
      this.log(MQTT_LOG_ERR, `Failed to connect: ${message}`);
    }
    if (waiter !== undefined) waiter.reject(this.failure instanceof Error ? this.failure : new MqttConnectionError(this.linkError?.rc ?? this.closedEvent?.rc ?? MQTT_ERR_NO_CONN, message));
    else this.call("onConnectFail", () => this.onConnectFail?.(this, this.userdata));
  }

  /** onDisconnect for a connection CONNACK answered; `normal`: disconnect() ended it; `refused`: CONNACK refused it. */
  private reportDisconnect(normal: boolean, refused: boolean): void {
    const closed = this.closedEvent;
    const error = this.linkError;
    const fromServer = closed?.fromServer ?? false;
    let reasonCode: number;
    if (closed !== undefined) {
      // Paho's mapping where no packet gave a reason: keepalive 0x8D, any other error 0x80.
      const rc = closed.rc;
      if (rc === MQTT_ERR_KEEPALIVE) reasonCode = KEEP_ALIVE_TIMEOUT;
      else if (rc === MQTT_ERR_SUCCESS || fromServer || refused) reasonCode = closed.reasonCode;
      else reasonCode = closed.reasonCode === 0 ? UNSPECIFIED_ERROR : closed.reasonCode;
    } else if (normal) {
      reasonCode = NORMAL_DISCONNECTION;
    } else {
      reasonCode = UNSPECIFIED_ERROR;
      this.log(MQTT_LOG_WARNING, `Connection lost: ${error?.message ?? "closed by the broker"}`);
    }
    this.call("onDisconnect", () => this.onDisconnect?.(this, this.userdata, { isDisconnectPacketFromServer: fromServer }, reasonCode, closed?.properties ?? {}));
  }

  /**
   * Follows a v5 Server Reference ("host", "host:port", or several, space-separated: the first) when asked
   * to: it replaces connect()'s broker. Whether it did.
   */
  private followRedirect(closed: ClosedEvent | undefined): boolean {
    const reference = closed?.properties?.serverReference;
    const a = this.args;
    if (reference === undefined || a === undefined) return false;
    const code = closed!.reasonCode;
    this.log(MQTT_LOG_NOTICE, `The broker refers to ${reference} (reason 0x${code.toString(16)})${this.followRedirects ? "" : "; not followed (serverRedirectSet)"}`);
    if (!this.followRedirects || (code !== 0x9c && code !== 0x9d)) return false;
    const first = reference.trim().split(/\s+/)[0]!;
    const match = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(first);
    if (match === null || match[1] === "") return false;
    this.args = { ...a, host: match[1]!, port: match[2] === undefined ? a.port : Number(match[2]) };
    return true;
  }

  private setMode(mode: number, giveUpBeforeFirst: boolean): void {
    this.mode = mode;
    this.supervisor = { ...this.supervisor, looping: mode !== MODE_MANUAL, giveUpBeforeFirst };
  }

  private startLooping(): void {
    if (this.driver.link === null) {
      if (this.args === undefined) {
        const waiter = this.foreverWaiter;
        if (waiter !== undefined) {
          this.setMode(MODE_MANUAL, false);
          this.foreverWaiter = undefined;
          waiter.reject(new MqttConnectionError(MQTT_ERR_NO_CONN, "loopForever() before connect() or connectAsync()"));
        }
        return;
      }
      void this.start(false);
      return;
    }
    this.host.defer(() => this.service());
  }

  private finishForever(rc: number): void {
    const waiter = this.foreverWaiter;
    this.foreverWaiter = undefined;
    if (this.mode !== MODE_MANUAL) this.setMode(MODE_MANUAL, false);
    this.driver.clearTimer();
    waiter?.resolve(rc);
  }

  // ---- logging and user code ------------------------------------------------------------------

  private log(level: number, message: string): void {
    if (this.onLog !== null) {
      try {
        this.onLog(this, this.userdata, level, message);
      } catch {
        // A failing log callback must not take the client down, and has nowhere else to report to.
      }
    }
    const logger = this.logger;
    if (logger === undefined) return;
    try {
      if (level === MQTT_LOG_DEBUG) logger.debug(message);
      else if (level === MQTT_LOG_INFO || level === MQTT_LOG_NOTICE) logger.info(message);
      else if (level === MQTT_LOG_WARNING) logger.warn(message);
      else logger.error(message);
    } catch {
      // As above.
    }
  }

  /** Runs user code; an exception is logged (MQTT_LOG_ERR) and leaves the client's state intact. */
  private call(name: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.caught(name, e);
    }
  }

  private caught(name: string, e: unknown): void {
    this.log(MQTT_LOG_ERR, `Caught exception in ${name}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  }
}

function defaultLogger(): Logger {
  const c = (globalThis as { console?: Logger }).console;
  if (c === undefined) throw new Error("enableLogger() needs a logger on a host without console");
  return c;
}

function checkQos(qos: unknown): void {
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new RangeError(`invalid QoS ${String(qos)}: must be 0, 1 or 2`);
}

/** connectTimeout's seconds as milliseconds, checked. */
function connectTimeoutMs(seconds: unknown): number {
  if (typeof seconds !== "number" || !(seconds > 0) || seconds === Infinity) throw new RangeError(`connectTimeout must be a number of seconds > 0, got ${String(seconds)}`);
  return seconds * 1000;
}

function nonNegativeInteger(n: unknown, what: string): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) throw new RangeError(`${what} must be an integer >= 0, got ${String(n)}`);
  return n;
}

function toBytes(value: string | Uint8Array, what: string): Uint8Array {
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

