/**
 * The Paho-shaped client (shared/API.md): option functions, connect/reconnect/disconnect, the network
 * loops, publish/subscribe, and the callbacks the application sets on it. This class takes the requests:
 * it checks their arguments (./arguments.ts) and hands them to the engine or to its event loop
 * (./event-loop.ts), the connection driver with Paho's handling of what happens on the link: the
 * supervisor's lifecycle (src/connection/supervisor.ts), the callbacks, the publish completions.
 *
 * The data path: link bytes -> engine.receive -> engine.poll -> one callback per event (never inside the
 * decoder) -> engine output -> link.write. In a loop mode (loopStart/loopForever) the host's link events
 * and one timer drive it all, reconnecting with backoff; otherwise the caller drives it with loop() or
 * with loopRead/loopWrite/loopMisc, as Paho's external event loop contract says.
 */
import { MQTTv5 } from "../codec/constants.js";
import type { QoS } from "../codec/packet-types.js";
import type { Properties } from "../codec/properties.js";
import { type Host, type TlsOptions, getDefaultHost } from "../connection/host.js";
import { checkBudget } from "../engine/budget.js";
import { CONNECTED, Engine, type EngineOptions } from "../engine/engine.js";
import { type ConnectArgs, MAX_PAYLOAD, type Payload, checkCallbackFilter, checkPublishProperties, checkQos, checkTopicName, clientSettings, connectArgs, connectTimeoutMs, messageRetryMs, nonNegativeInteger, publishPayload, reconnectDelaysMs, subscriptions, toBytes, topicFilters, toPayload, checkedWill } from "./arguments.js";
import { type AckListCallback, type Authenticator, type ClientCallback, type ClientOptions, type ConnectCallback, type DisconnectCallback, type LogCallback, type Logger, type MessageCallback, MqttConnectionError, type PublishCallback, type SocketCallback, type SubscribeOptions } from "./client-types.js";
import { Completions } from "./completions.js";
import { MQTT_ERR_CONN_LOST, MQTT_ERR_INVAL, MQTT_ERR_NO_CONN, MQTT_ERR_NOT_SUPPORTED, MQTT_ERR_QUEUE_SIZE, MQTT_ERR_SUCCESS, MQTT_LOG_DEBUG, MQTT_LOG_WARNING } from "./constants.js";
import { EventLoop, MODE_BACKGROUND, MODE_FOREVER, MODE_MANUAL } from "./event-loop.js";
import { type ClientFeatures, FAILOVER_NOT_BUILT, NO_FEATURES } from "./features.js";
import { defaultLogger } from "./logging.js";
import type { MessageInfo } from "./message.js";
import { errorString } from "./strings.js";

export { MqttConnectionError, toPayload, type Payload };
export type { Authenticator, ClientOptions, ConnectFlags, DisconnectFlags, Logger, MessageCallback, SubscribeOptions } from "./client-types.js";

/** What Client.lastTopic holds before publish() has accepted a topic: equal to nothing a caller passes. */
const NO_TOPIC = Symbol("no topic yet");

export class Client {
  onConnect: ConnectCallback | null = null;
  onConnectFail: ClientCallback | null = null;
  onDisconnect: DisconnectCallback | null = null;
  onMessage: MessageCallback | null = null;
  onPublish: PublishCallback | null = null;
  onSubscribe: AckListCallback | null = null;
  onUnsubscribe: AckListCallback | null = null;
  onLog: LogCallback | null = null;
  onPreConnect: ClientCallback | null = null;
  onSocketOpen: SocketCallback | null = null;
  onSocketClose: SocketCallback | null = null;
  onSocketRegisterWrite: SocketCallback | null = null;
  onSocketUnregisterWrite: SocketCallback | null = null;

  userdata: unknown;
  /** The connection driver with Paho's handling of its events (./event-loop.ts): the link, the timer, the lifecycle. */
  private eventLoop!: EventLoop;
  /** The driver's engine, for the facade's commands (a field: publish() is a hot path on XS). */
  private engine!: Engine;
  /** The last topic publish() accepted: a publisher's topics repeat, so each is checked once in a row. */
  private lastTopic: unknown = NO_TOPIC;

  constructor(options: ClientOptions = {}) {
    this.init(options);
  }

  /**
   * The optional parts this client is built with (./features.ts): none here, so this class alone speaks MQTT
   * 3.1 and 3.1.1 (protocol MQTTv5 throws RangeError from the constructor, failoverSet() throws too). The
   * public Client (./full-client.ts) overrides it with every part. A getter, so no client pays a slot for it;
   * public only so that both classes keep one type (a protected member would make each its own).
   * @internal
   */
  get features(): ClientFeatures {
    return NO_FEATURES;
  }

  /** Back to the just-constructed state with new options: the link is dropped, callbacks are cleared. */
  reinitialise(options: ClientOptions = {}): void {
    this.eventLoop.dropLink();
    this.eventLoop.clearTimer();
    this.onConnect = this.onConnectFail = this.onDisconnect = this.onMessage = this.onPublish = null;
    this.onSubscribe = this.onUnsubscribe = this.onLog = this.onPreConnect = null;
    this.onSocketOpen = this.onSocketClose = this.onSocketRegisterWrite = this.onSocketUnregisterWrite = null;
    this.init(options);
  }

  private init(options: ClientOptions): void {
    const s = clientSettings(options);
    const engine = new Engine(checkBudget(options.budget), s.protocol, s.engineOptions, (level, message) => this.log(level, message), this.features.mqtt5);
    if (options.store !== undefined) engine.restore(options.store.open(s.clientId, s.protocol));
    this.eventLoop = new EventLoop(options.host ?? getDefaultHost(), engine, this, s);
    this.engine = engine;
    this.userdata = options.userdata;
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
    this.configureEngine({ retryMs: messageRetryMs(seconds) });
  }

  private configureEngine(changes: Partial<EngineOptions>): void {
    this.engine.configure({ ...this.engine.options, ...changes });
  }

  wsSetOptions(path = "/mqtt", headers?: Record<string, string>): void {
    const link = this.eventLoop.linkSettings;
    if (link.transport !== "websockets") throw new RangeError('wsSetOptions needs transport: "websockets"');
    this.eventLoop.linkSettings = { ...link, wsPath: path, wsHeaders: headers };
  }

  tlsSet(options: Omit<TlsOptions, "context" | "insecure"> = {}): void {
    const link = this.eventLoop.linkSettings;
    if (link.tls?.context !== undefined) throw new RangeError("TLS is already set with tlsSetContext");
    this.eventLoop.linkSettings = { ...link, tls: { ...options, insecure: link.tls?.insecure } };
  }

  tlsSetContext(context: unknown): void {
    const link = this.eventLoop.linkSettings;
    const tls = link.tls;
    if (tls !== undefined && tls.context === undefined && Object.keys(tls).some((k) => k !== "insecure" && tls[k as keyof TlsOptions] !== undefined)) {
      throw new RangeError("TLS is already set with tlsSet");
    }
    this.eventLoop.linkSettings = { ...link, tls: { context, insecure: tls?.insecure } };
  }

  tlsInsecureSet(insecure: boolean): void {
    const link = this.eventLoop.linkSettings;
    if (link.tls === undefined) throw new RangeError("call tlsSet() or tlsSetContext() before tlsInsecureSet()");
    this.eventLoop.linkSettings = { ...link, tls: { ...link.tls, insecure } };
  }

  enableLogger(logger?: Logger): void {
    this.eventLoop.logger = logger ?? defaultLogger();
  }

  disableLogger(): void {
    this.eventLoop.logger = undefined;
  }

  usernamePwSet(username: string | null, password?: string | Uint8Array | null): void {
    if (username !== null && typeof username !== "string") throw new TypeError("username must be a string or null");
    this.eventLoop.username = username ?? undefined;
    this.eventLoop.password = password === undefined || password === null ? undefined : toBytes(password, "password");
  }

  userDataSet(userdata: unknown): void {
    this.userdata = userdata;
  }

  willSet(topic: string, payload?: Payload, qos: QoS = 0, retain = false, properties?: Properties): void {
    this.eventLoop.will = checkedWill(this.eventLoop.protocol, topic, payload, qos, retain, properties);
  }

  willClear(): void {
    this.eventLoop.will = undefined;
  }

  /**
   * MQTT 5: give topics published again and again at QoS 0 a topic alias, within the broker's Topic
   * Alias Maximum and budget.maxTopicAliases, so the topic goes over the wire only the first time.
   */
  outgoingTopicAliasesSet(enabled: boolean): void {
    if (enabled && this.eventLoop.protocol !== MQTTv5) throw new RangeError("topic aliases need MQTT 5");
    this.configureEngine({ useTopicAliases: enabled });
  }

  /** MQTT 5 enhanced authentication; null turns it off. */
  authenticatorSet(authenticator: Authenticator | null): void {
    if (authenticator !== null) {
      const auth = this.features.enhancedAuth;
      if (auth === undefined || this.eventLoop.protocol !== MQTTv5) throw new RangeError("enhanced authentication needs MQTT 5");
      auth.check(authenticator);
    }
    this.eventLoop.authenticator = authenticator ?? undefined;
  }

  /** MQTT 5: starts a re-authentication (AUTH 0x19) with the authenticator's initial data. */
  reauthenticate(): number {
    const authenticator = this.eventLoop.authenticator;
    if (authenticator === undefined) return MQTT_ERR_INVAL;
    const rc = this.engine.sendAuth(0x19, authenticator.initialData?.(), this.eventLoop.clock());
    this.eventLoop.flush();
    return rc;
  }

  /**
   * MQTT 5 server redirection: when a CONNACK or DISCONNECT carries a Server Reference (with reason
   * 0x9C Use another server or 0x9D Server moved), connect there next. Off by default: the reference
   * is always reported in the callback's properties.
   */
  serverRedirectSet(follow: boolean): void {
    this.eventLoop.followRedirects = follow;
  }

  /**
   * Other brokers of the same cluster: when a connection attempt fails, the next attempt goes to the
   * next broker in the list (connect()'s own host first), round and round, as MQTT.js's `servers`.
   */
  failoverSet(servers: Array<{ host: string; port?: number }>): void {
    const failover = this.features.failover;
    if (failover === undefined) throw new Error(FAILOVER_NOT_BUILT);
    this.eventLoop.failover = failover(servers);
    this.eventLoop.setServers();
  }

  /**
   * Reconnect after min seconds, doubling up to max; back to min once a connection has held for 10 s
   * after its CONNACK (a broker that accepts and closes at once is not retried every min seconds).
   */
  reconnectDelaySet(minDelay = 1, maxDelay = 120): void {
    const { minDelayMs, maxDelayMs } = reconnectDelaysMs(minDelay, maxDelay);
    this.eventLoop.supervisor = { ...this.eventLoop.supervisor, minDelayMs, delayMs: minDelayMs, maxDelayMs };
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
    this.eventLoop.supervisor = { ...this.eventLoop.supervisor, connectTimeoutMs: connectTimeoutMs(seconds) };
  }

  // ---- connection -----------------------------------------------------------------------------

  /** Opens the link and writes CONNECT; resolves MQTT_ERR_SUCCESS then. onConnect reports the CONNACK. */
  connect(host: string, port = 1883, keepalive = 60, bindAddress = "", cleanStart?: boolean, properties?: Properties): Promise<number> {
    this.setArgs(connectArgs(this.eventLoop.protocol, host, port, keepalive, bindAddress, cleanStart, properties));
    return this.eventLoop.start(true);
  }

  /** Stores the arguments; the connection is made by loopStart()/loopForever() (Paho's connect_async). */
  connectAsync(host: string, port = 1883, keepalive = 60, bindAddress = "", cleanStart?: boolean, properties?: Properties): number {
    this.setArgs(connectArgs(this.eventLoop.protocol, host, port, keepalive, bindAddress, cleanStart, properties));
    if (this.eventLoop.mode !== MODE_MANUAL && this.eventLoop.link === null) void this.eventLoop.start(false);
    return MQTT_ERR_SUCCESS;
  }

  /** SRV lookups need a host resolver: the Node host provides connectSrv through its transports. */
  connectSrv(domain?: string, keepalive = 60, bindAddress = ""): Promise<number> {
    const host = this.eventLoop.host as Host & { resolveSrv?: (domain: string) => Promise<Array<{ name: string; port: number }>> };
    if (host.resolveSrv === undefined) return Promise.reject(new MqttConnectionError(MQTT_ERR_NOT_SUPPORTED, "this host cannot resolve SRV records"));
    if (domain === undefined) return Promise.reject(new RangeError("connectSrv needs a domain"));
    return host.resolveSrv(`_mqtt._tcp.${domain}`).then(async (targets) => {
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
    if (this.eventLoop.args === undefined) return Promise.reject(new MqttConnectionError(MQTT_ERR_INVAL, "reconnect() before connect()"));
    return this.eventLoop.start(true);
  }

  /** Sends DISCONNECT (so no will is published) and closes the link; stops reconnecting. */
  disconnect(reasonCode = 0, properties?: Properties): number {
    const link = this.eventLoop.link;
    if (link === null || !this.eventLoop.linkOpen) {
      this.eventLoop.supervise({ type: "disconnect" });
      return MQTT_ERR_NO_CONN;
    }
    this.log(MQTT_LOG_DEBUG, "Sending DISCONNECT");
    const rc = this.engine.disconnect(reasonCode, this.eventLoop.protocol === MQTTv5 ? properties : undefined, this.eventLoop.clock());
    this.eventLoop.supervise({ type: "disconnect" });
    if (rc !== MQTT_ERR_SUCCESS) {
      link.destroy();
      this.eventLoop.linkClosed(undefined);
      return rc;
    }
    this.eventLoop.flush();
    return MQTT_ERR_SUCCESS;
  }

  isConnected(): boolean {
    return this.engine.state === CONNECTED;
  }

  // ---- loops ----------------------------------------------------------------------------------

  /** Runs the network loop in the background (host events and a timer), reconnecting as needed. */
  loopStart(): number {
    if (this.eventLoop.mode !== MODE_MANUAL) return MQTT_ERR_INVAL;
    this.eventLoop.setMode(MODE_BACKGROUND, false);
    this.eventLoop.backgroundStarted = true;
    this.eventLoop.startLooping();
    return MQTT_ERR_SUCCESS;
  }

  /** Stops the background loop; the link stays as it is, and unprocessed bytes wait in it. */
  loopStop(): number {
    if (!this.eventLoop.backgroundStarted) return MQTT_ERR_INVAL;
    this.eventLoop.backgroundStarted = false;
    if (this.eventLoop.mode === MODE_BACKGROUND) this.eventLoop.setMode(MODE_MANUAL, false);
    this.eventLoop.clearTimer();
    return MQTT_ERR_SUCCESS;
  }

  /**
   * Runs the network loop until disconnect() is called, reconnecting meanwhile. Resolves MQTT_ERR_SUCCESS
   * then. Rejects when the first connection fails, unless retryFirstConnection.
   */
  loopForever(options: { retryFirstConnection?: boolean } = {}): Promise<number> {
    if (this.eventLoop.mode !== MODE_MANUAL) return Promise.reject(new Error("the network loop is already running"));
    this.eventLoop.setMode(MODE_FOREVER, !(options.retryFirstConnection ?? false));
    return new Promise<number>((resolve, reject) => {
      this.eventLoop.foreverWaiter = { resolve, reject };
      this.eventLoop.startLooping();
    });
  }

  /** Waits up to timeout seconds for bytes, then reads, writes and runs timers once (Paho's loop()). */
  async loop(timeout = 1.0): Promise<number> {
    if (this.eventLoop.link === null) return MQTT_ERR_NO_CONN;
    if (!this.eventLoop.readable && !this.engine.hasInput) {
      const host = this.eventLoop.host;
      await new Promise<void>((resolve) => {
        const timer = host.setTimer(() => {
          this.eventLoop.readableWaiter = undefined;
          resolve();
        }, Math.max(0, timeout * 1000));
        this.eventLoop.readableWaiter = () => {
          host.clearTimer(timer);
          this.eventLoop.readableWaiter = undefined;
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
    if (this.eventLoop.link === null) return MQTT_ERR_NO_CONN;
    this.eventLoop.readable = false;
    this.eventLoop.service();
    return this.eventLoop.link === null && this.eventLoop.supervisor.phase !== "STOPPED" ? MQTT_ERR_CONN_LOST : MQTT_ERR_SUCCESS;
  }

  /** Writes what is waiting to be sent. */
  loopWrite(): number {
    if (this.eventLoop.link === null) return MQTT_ERR_NO_CONN;
    this.eventLoop.flush();
    return MQTT_ERR_SUCCESS;
  }

  /** Keepalive and retries: call at least once a second in an external loop. */
  loopMisc(): number {
    if (this.eventLoop.link === null) return MQTT_ERR_NO_CONN;
    this.eventLoop.tick();
    return this.eventLoop.link === null ? MQTT_ERR_CONN_LOST : MQTT_ERR_SUCCESS;
  }

  /** The host's socket object, for an external event loop; null without a link. */
  socket(): unknown {
    return this.eventLoop.link?.socket ?? null;
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
      checkTopicName(topic, "topic");
      this.lastTopic = topic;
    }
    if (qos !== 0 && qos !== 1 && qos !== 2) checkQos(qos);
    if (properties != null) checkPublishProperties(properties);
    const bytes = payload instanceof Uint8Array && payload.length <= MAX_PAYLOAD ? payload : publishPayload(payload);
    // QoS 0 reads the clock once per burst: the publishes after the first, until the flush the first
    // scheduled, are in the same turn of the event loop. For QoS 0 the time only says when something was
    // last sent (for keepalive), and a clock read can cost as much as the rest of a small QoS 0 publish.
    const loop = this.eventLoop;
    const now = qos !== 0 || !(loop.flushScheduled || loop.flushOwed) ? (loop.now = loop.host.now()) : loop.now;
    const props = loop.protocol === MQTTv5 ? properties : undefined;
    let result = this.engine.publish(topic, bytes, qos, Boolean(retain), props, now);
    if (result.rc === MQTT_ERR_QUEUE_SIZE && loop.flushOwed && (qos === 0 || this.engine.options.maxQueued > 0)) {
      // In a callback, what earlier publishes queued waits for service() to write it: when that fills the
      // output, it is written now and this publish tried again, so a callback still publishes as much as
      // the link takes. QoS 1/2 is refused for a full outbox, which only acknowledgements empty, or for
      // maxQueuedMessages unsent ones, which writing may send.
      loop.flush();
      result = this.engine.publish(topic, bytes, qos, Boolean(retain), props, now);
    }
    const completions = (loop.completions ??= new Completions(loop.host));
    if (result.rc !== MQTT_ERR_SUCCESS) {
      // A full output is routine for a publisher that publishes until told to wait: no text unless logged.
      if (this.onLog !== null || loop.logger !== undefined) this.log(MQTT_LOG_WARNING, `publish to ${topic} not queued: ${errorString(result.rc)}`);
      return completions.notQueuedInfo(result.rc, result.mid);
    }
    const mid = result.mid;
    if (this.onLog !== null || loop.logger !== undefined) this.log(MQTT_LOG_DEBUG, `Sending PUBLISH (d0, q${qos}, r${retain ? 1 : 0}, m${mid}), '${topic}', ... (${bytes.length} bytes)`);
    // As Paho: without a connection every QoS says MQTT_ERR_NO_CONN, though QoS 1/2 is queued and goes
    // out after CONNACK (its waitForPublish() still resolves then). The engine writes QoS 0 only when connected.
    const info = qos === 0 ? completions.queuedQos0Info(mid)
      : completions.queuedFlowInfo(this.engine.state === CONNECTED ? MQTT_ERR_SUCCESS : MQTT_ERR_NO_CONN, mid);
    loop.scheduleFlush();
    return info;
  }

  /**
   * subscribe("a/b", 1), subscribe(["a/b", 1]), subscribe([["a/b", 1], ["c", { qos: 2, noLocal: true }]]).
   * Returns [rc, mid].
   */
  subscribe(topic: string | [string, QoS | SubscribeOptions] | Array<[string, QoS | SubscribeOptions]>, qos: QoS = 0, options?: SubscribeOptions, properties?: Properties): [number, number] {
    const subs = subscriptions(this.eventLoop.protocol, topic, qos, options);
    const r = this.engine.subscribe(subs, this.eventLoop.protocol === MQTTv5 ? properties : undefined, this.eventLoop.clock());
    if (r.rc === MQTT_ERR_SUCCESS) {
      this.log(MQTT_LOG_DEBUG, `Sending SUBSCRIBE (d0, m${r.mid}) [${subs.map((s) => `('${s.topicFilter}', ${s.qos})`).join(", ")}]`);
      this.eventLoop.scheduleFlush();
    }
    return [r.rc, r.mid];
  }

  unsubscribe(topic: string | string[], properties?: Properties): [number, number] {
    const filters = topicFilters(this.eventLoop.protocol, topic);
    const r = this.engine.unsubscribe(filters, this.eventLoop.protocol === MQTTv5 ? properties : undefined, this.eventLoop.clock());
    if (r.rc === MQTT_ERR_SUCCESS) {
      this.log(MQTT_LOG_DEBUG, `Sending UNSUBSCRIBE (d0, m${r.mid}) [${filters.map((f) => `'${f}'`).join(", ")}]`);
      this.eventLoop.scheduleFlush();
    }
    return [r.rc, r.mid];
  }

  /** With manualAck on: acknowledges message mid (PUBACK for QoS 1, PUBREC for QoS 2). */
  ack(mid: number, qos: QoS): number {
    checkQos(qos);
    const rc = this.engine.ack(mid, qos, this.eventLoop.clock());
    this.eventLoop.scheduleFlush();
    return rc;
  }

  /** Routes messages whose topic matches `sub` (wildcards allowed) to callback instead of onMessage. */
  messageCallbackAdd(sub: string, callback: MessageCallback): void {
    checkCallbackFilter(sub, callback);
    const existing = this.eventLoop.messageCallbacks.find(([s]) => s === sub);
    if (existing !== undefined) existing[1] = callback;
    else this.eventLoop.messageCallbacks = [...this.eventLoop.messageCallbacks, [sub, callback]];
  }

  messageCallbackRemove(sub: string): void {
    this.eventLoop.messageCallbacks = this.eventLoop.messageCallbacks.filter(([s]) => s !== sub);
  }

  private setArgs(args: ConnectArgs): void {
    this.eventLoop.args = args;
    this.eventLoop.setServers();
  }

  private log(level: number, message: string): void {
    this.eventLoop.log(level, message);
  }
}
