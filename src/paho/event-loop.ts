/**
 * Paho's event loop: the connection driver (src/connection/driver.ts) with what the Client makes of its
 * events. The Client (./client.ts) takes requests and checks them; this side opens links
 * where the supervisor (src/connection/supervisor.ts) says, does what its transitions answer (open, drop,
 * report, end a loop), turns each engine event into a Paho callback, tells MessageInfos when they are
 * published (./completions.ts), and decides when output is written: soon rather than now in a loop, so a
 * burst of publishes leaves in one write.
 *
 * As in rumqttc, where client.rs sends requests and eventloop.rs does the I/O and reconnects. This driver
 * subclass is the one object per client besides the Client and the engine: it holds the connection's
 * state and what the option functions set (the Client writes those fields, nothing else does).
 */
import { MQTTv5, type ProtocolVersion } from "../codec/constants.js";
import type { Will } from "../codec/packet-types.js";
import type { PublishView } from "../codec/packets/publish-packet.js";
import type { Properties } from "../codec/properties.js";
import type { Host, Link, LinkError, LinkParams, TlsOptions } from "../connection/host.js";
import { ConnectionDriver } from "../connection/driver.js";
import { AWAIT_CONNACK, BACKOFF, type Callback, OPENING, type SupervisorEvent, type SupervisorState, initialState, referencedServer } from "../connection/supervisor.js";
import { CLOSING, type ClosedEvent, type Engine, type EngineEvent, type RefusedEvent } from "../engine/engine.js";
import type { ClientSettings, ConnectArgs } from "./arguments.js";
import type { Client } from "./client.js";
import { type Authenticator, type Logger, type MessageCallback, MqttConnectionError } from "./client-types.js";
import type { Completions } from "./completions.js";
import { type ConnectSettings, connectPacket, describeConnect } from "./connect-packet.js";
import { MQTT_ERR_AUTH, MQTT_ERR_CONN_LOST, MQTT_ERR_CONN_REFUSED, MQTT_ERR_INVAL, MQTT_ERR_NO_CONN, MQTT_ERR_SUCCESS, MQTT_LOG_DEBUG, MQTT_LOG_ERR, MQTT_LOG_INFO, MQTT_LOG_NOTICE, MQTT_LOG_WARNING } from "./constants.js";
import { disconnectReasonCode } from "./disconnect-reason.js";
import { writeLog } from "./logging.js";
import { MQTTMessage } from "./message.js";
import { connackString } from "./strings.js";
import { topicMatchesSub } from "./topic-rules.js";

export const MODE_MANUAL = 0;
export const MODE_BACKGROUND = 1;
export const MODE_FOREVER = 2;
/** Empty lists every new client starts with, shared: a client holds its own once it has something in it. */
const NO_CALLBACKS: ReadonlyArray<[string, MessageCallback]> = Object.freeze([]);
const NO_SERVERS: ReadonlyArray<{ host: string; port: number }> = Object.freeze([]);

export interface Waiter { resolve: (rc: number) => void; reject: (e: Error) => void }

/** How a client's links open: what LinkParams take besides the broker's address. */
export interface LinkSettings {
  readonly transport: "tcp" | "websockets";
  readonly tls: TlsOptions | undefined;
  readonly wsPath: string;
  readonly wsHeaders: Record<string, string> | undefined;
}

/** The settings of every client that changed none, shared: one field per client instead of four. */
const TCP: LinkSettings = Object.freeze({ transport: "tcp", tls: undefined, wsPath: "/mqtt", wsHeaders: undefined });
const WEBSOCKETS: LinkSettings = Object.freeze({ ...TCP, transport: "websockets" });

/**
 * @internal One per Client, made by it: the Client reads and sets these fields, nothing else does. The
 * settings CONNECT carries are fields of its own (it is the ConnectSettings connectPacket() reads), not an
 * object of their own: one object less per client.
 */
export class EventLoop extends ConnectionDriver implements ConnectSettings {
  clientId: string;
  cleanSession: boolean;
  username: string | undefined = undefined;
  password: Uint8Array | undefined = undefined;
  will: Will | undefined = undefined;
  authenticator: Authenticator | undefined = undefined;
  /** How links open (the transport, tlsSet(), wsSetOptions()): a shared default until an option changes it. */
  linkSettings: LinkSettings;
  logger: Logger | undefined = undefined;
  /** Copied when changed (rarely), so a new client shares the one empty list. */
  messageCallbacks: ReadonlyArray<[string, MessageCallback]> = NO_CALLBACKS;
  followRedirects = false;
  zeroCopyMessages: boolean;
  readonly protocol: ProtocolVersion;
  /** connect()'s arguments (its broker replaced by a followed Server Reference); undefined before connect(). */
  args: ConnectArgs | undefined = undefined;
  /** Brokers to fail over to (failoverSet), after the one connect() named. */
  failover: ReadonlyArray<{ host: string; port: number }> = NO_SERVERS;
  mode = MODE_MANUAL;
  /** loopStart() ran and loopStop() has not: loopStop() succeeds even if the loop already ended. */
  backgroundStarted = false;
  /** Bytes arrived since loopRead() last read; loop() waits for them through readableWaiter. */
  readable = false;
  readableWaiter: (() => void) | undefined = undefined;
  /** An awaited connect()/reconnect(), and loopForever()'s promise. */
  openWaiter: Waiter | undefined = undefined;
  foreverWaiter: Waiter | undefined = undefined;
  /** What tells each MessageInfo it was published: made at the first publish. */
  completions: Completions | undefined = undefined;
  /** A deferred flush is on its way (publishes before it leave with it). */
  flushScheduled = false;
  /** A publish in a callback of service() left bytes for service() to write when its callbacks are done. */
  flushOwed = false;
  /** Why the engine ended the connection, for onDisconnect once the link is gone. */
  private closedEvent: ClosedEvent | undefined = undefined;
  /**
   * Why the link closed, as the host said (a LinkError), or why an attempt could not even start (an
   * Error, rejected as it is): kept until the supervisor has decided.
   */
  private failure: LinkError | Error | undefined = undefined;
  private writeRegistered = false;

  constructor(host: Host, engine: Engine, private readonly client: Client, s: ClientSettings) {
    super(host, engine, initialState(s.connectTimeoutMs));
    this.protocol = s.protocol;
    this.clientId = s.clientId;
    this.cleanSession = s.cleanSession;
    this.linkSettings = s.transport === "tcp" ? TCP : WEBSOCKETS;
    this.zeroCopyMessages = s.zeroCopyMessages;
  }

  // ---- starting and stopping ------------------------------------------------------------------

  /**
   * A connection attempt asked for by the application (connect, reconnect, a loop starting): any link is
   * dropped and the supervisor opens a new one. `awaited`: the caller takes the outcome from the promise;
   * otherwise (the loops) a failure goes to onConnectFail.
   */
  start(awaited: boolean): Promise<number> {
    if (this.args === undefined) return Promise.reject(new MqttConnectionError(MQTT_ERR_INVAL, "connect() needs a host"));
    this.dropLink();
    const opened = new Promise<number>((resolve, reject) => {
      this.openWaiter = awaited ? { resolve, reject } : undefined;
      if (!awaited) resolve(MQTT_ERR_SUCCESS);
    });
    this.supervise({ type: "start" });
    return opened;
  }

  /** The supervisor's list: connect()'s broker, then failoverSet()'s; the next attempt goes to the first. */
  setServers(): void {
    if (this.args === undefined) return;
    this.supervisor = { ...this.supervisor, servers: 1 + this.failover.length, server: 0 };
  }

  setMode(mode: number, giveUpBeforeFirst: boolean): void {
    this.mode = mode;
    this.supervisor = { ...this.supervisor, looping: mode !== MODE_MANUAL, giveUpBeforeFirst };
  }

  /** A loop started: connect if connect_async() left that to it, else go on servicing the link there is. */
  startLooping(): void {
    if (this.link !== null) {
      this.host.defer(() => this.service());
      return;
    }
    if (this.args !== undefined) {
      void this.start(false);
      return;
    }
    const waiter = this.foreverWaiter;
    if (waiter === undefined) return;
    this.setMode(MODE_MANUAL, false);
    this.foreverWaiter = undefined;
    waiter.reject(new MqttConnectionError(MQTT_ERR_NO_CONN, "loopForever() before connect() or connectAsync()"));
  }

  private finishForever(rc: number): void {
    const waiter = this.foreverWaiter;
    this.foreverWaiter = undefined;
    if (this.mode !== MODE_MANUAL) this.setMode(MODE_MANUAL, false);
    this.clearTimer();
    waiter?.resolve(rc);
  }

  /** Opens a link to the supervisor's current server; CONNECT is written once it is up (linkOpened). */
  private openLink(): void {
    const a = this.args!;
    const client = this.client;
    this.call("onPreConnect", () => client.onPreConnect?.(client, client.userdata));
    const server = this.supervisor.server;
    const target = server === 0 ? a : this.failover[server - 1]!;
    const { transport, tls, wsPath, wsHeaders } = this.linkSettings;
    const params: LinkParams = { host: target.host, port: target.port, bindAddress: a.bindAddress, transport, tls, wsPath, wsHeaders };
    this.log(MQTT_LOG_DEBUG, `Connecting to ${target.host}:${target.port}`);
    this.closedEvent = undefined;
    this.readable = false;
    try {
      this.open(params);
    } catch (e) {
      // The host could not even start (a TLS file that cannot be read...): a failed attempt.
      this.failure = e instanceof Error ? e : new Error(String(e));
      this.supervise({ type: "lost" });
    }
  }

  // ---- what the driver reports ----------------------------------------------------------------

  linkOpened(): void {
    this.supervise({ type: "opened" });
    const client = this.client;
    // The socket is read only for a callback that is set: a host may read differently once user code holds it.
    const link = this.link!;
    this.call("onSocketOpen", () => client.onSocketOpen?.(client, client.userdata, link.socket));
    let packet;
    try {
      packet = connectPacket(this.protocol, this, this.args!, this.engine.budget, (m) => this.log(MQTT_LOG_WARNING, m));
      this.engine.begin(packet, this.clock());
    } catch (e) {
      // A CONNECT that cannot be made (larger than the budget's output): the attempt failed.
      this.failure = e as Error;
      this.dropLink();
      this.supervise({ type: "lost" });
      return;
    }
    this.log(MQTT_LOG_DEBUG, describeConnect(packet));
    this.flush();
    const waiter = this.openWaiter;
    this.openWaiter = undefined;
    waiter?.resolve(MQTT_ERR_SUCCESS);
    this.armTimer();
  }

  linkReadable(): void {
    this.readable = true;
    if (this.readableWaiter !== undefined) this.readableWaiter();
    if (this.mode !== MODE_MANUAL) this.service();
  }

  /** The link is gone: socket callbacks, then what the supervisor decides (callbacks, a reconnect). */
  linkClosed(error: LinkError | undefined): void {
    const link = this.link;
    if (link === null) return;
    this.releaseLink(link);
    this.failure = error;
    this.supervise({ type: "lost", redirected: this.followRedirect(this.closedEvent) });
  }

  dispatch(): boolean {
    let event: EngineEvent | null;
    while ((event = this.engine.poll()) !== null) this.handleEvent(event);
    return true;
  }

  /** The driver wrote: Paho's socket callbacks, QoS 0 completions, and the close after a drained DISCONNECT. */
  written(waiting: boolean): void {
    if (waiting !== this.writeRegistered) {
      this.writeRegistered = waiting;
      const client = this.client;
      const link = this.link!;
      if (waiting) this.call("onSocketRegisterWrite", () => client.onSocketRegisterWrite?.(client, client.userdata, link.socket));
      else this.call("onSocketUnregisterWrite", () => client.onSocketUnregisterWrite?.(client, client.userdata, link.socket));
    }
    if (waiting) return;
    if (this.completions !== undefined && this.completions.unwrittenQos0 > 0) this.qos0Written(this.completions);
    if (this.engine.state === CLOSING && this.link !== null) this.closeWhenFlushed();
  }

  /** What user code queued after the loop's last flush (a publish from onPublish of QoS 0 written there). */
  serviced(): void {
    if (this.flushOwed) this.flush();
  }

  timerFired(): void {
    this.supervise({ type: "timer" });
  }

  /** Without a loop the application ticks, by loopMisc(). */
  override timed(): boolean {
    return this.mode !== MODE_MANUAL;
  }

  // ---- output ---------------------------------------------------------------------------------

  /**
   * Writes soon rather than now when a loop runs: a burst of publishes then leaves in one write instead
   * of one system call each. Without a loop, now, as Paho's publish() does.
   */
  scheduleFlush(): void {
    // In a callback of service() (onConnect, onMessage, onPublish...): service() writes once its callbacks
    // are done, everything they queued in one write rather than a system call per publish (as Paho writes
    // after its callbacks).
    if (this.servicing) {
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

  override flush(): void {
    this.flushOwed = false;
    super.flush();
  }

  /** QoS 0 messages count as published once the link has taken their bytes (as Paho's on_publish). */
  private qos0Written(completions: Completions): void {
    const n = completions.unwrittenQos0;
    // onPublish may publish again, and without a loop even flush: those fill the other array meanwhile.
    const mids = completions.writtenQos0Mids();
    const client = this.client;
    // As call() does, without a closure per message.
    for (let i = 0; i < n && client.onPublish !== null; i++) {
      try {
        client.onPublish?.(client, client.userdata, mids[i]!, 0, {});
      } catch (e) {
        this.caught("onPublish", e);
      }
    }
    completions.recycle(mids);
  }

  // ---- engine events --------------------------------------------------------------------------

  private handleEvent(e: EngineEvent): void {
    const client = this.client;
    const props = e.type === "message" ? undefined : e.properties ?? {};
    switch (e.type) {
      case "message":
        this.deliver(e.message);
        return;
      case "published":
        this.completions?.flowEnded(e.mid, e.reasonCode);
        // As call() does, without a closure per message.
        try {
          client.onPublish?.(client, client.userdata, e.mid, e.reasonCode, props!);
        } catch (x) {
          this.caught("onPublish", x);
        }
        return;
      case "connected":
        this.supervise({ type: "accepted" });
        // A broker-assigned id names the session from now on, so a reconnect resumes it.
        if (e.properties?.assignedClientIdentifier !== undefined) this.clientId = e.properties.assignedClientIdentifier;
        this.log(MQTT_LOG_DEBUG, `Received CONNACK (${e.sessionPresent ? 1 : 0}, ${e.reasonCode})`);
        this.call("onConnect", () => client.onConnect?.(client, client.userdata, { sessionPresent: e.sessionPresent }, e.reasonCode, props!));
        return;
      case "refused":
        this.refused(e, props!);
        return;
      case "subscribed":
        this.log(MQTT_LOG_DEBUG, `Received SUBACK (m${e.mid}) [${e.reasonCodes.join(", ")}]`);
        this.call("onSubscribe", () => client.onSubscribe?.(client, client.userdata, e.mid, e.reasonCodes, props!));
        return;
      case "unsubscribed":
        this.log(MQTT_LOG_DEBUG, `Received UNSUBACK (m${e.mid})`);
        this.call("onUnsubscribe", () => client.onUnsubscribe?.(client, client.userdata, e.mid, e.reasonCodes, props!));
        return;
      case "auth":
        // Only on MQTT 5 (the decoder refuses AUTH on 3.x), so the client has its enhanced authentication part.
        if (this.authenticator !== undefined) client.features.enhancedAuth!.answer(this, this.authenticator, e, props!);
        return;
      case "closed":
        this.closedEvent = e;
        this.log(e.rc === MQTT_ERR_CONN_LOST || e.rc === MQTT_ERR_SUCCESS ? MQTT_LOG_INFO : MQTT_LOG_ERR, `Connection closing: ${e.reason}`);
        this.endLink();
        return;
    }
  }

  /** A received message to the callbacks whose subscription matches its topic, or to onMessage. */
  private deliver(view: PublishView): void {
    const message = new MQTTMessage(view, this.zeroCopyMessages);
    const client = this.client;
    if (this.logging) this.log(MQTT_LOG_DEBUG, `Received PUBLISH (d${message.dup ? 1 : 0}, q${message.qos}, r${message.retain ? 1 : 0}, m${message.mid}), '${message.topic}', ...  (${view.payloadLength} bytes)`);
    let matched = false;
    const callbacks = this.messageCallbacks;
    // By index, and calling as call() does without a closure: this runs for every message received.
    for (let i = 0; i < callbacks.length; i++) {
      const [sub, callback] = callbacks[i]!;
      if (!topicMatchesSub(sub, message.topic)) continue;
      matched = true;
      try {
        callback(client, client.userdata, message);
      } catch (e) {
        this.caught("message callback", e);
      }
    }
    if (!matched) {
      try {
        client.onMessage?.(client, client.userdata, message);
      } catch (e) {
        this.caught("onMessage", e);
      }
    }
    message.expire();
  }

  /** CONNACK refused the connection: onConnect hears the reason, then the link goes. */
  private refused(e: RefusedEvent, props: Properties): void {
    const client = this.client;
    const code = e.reasonCode;
    this.supervise({ type: "refused" });
    this.log(MQTT_LOG_ERR, `Connection refused: ${this.protocol === MQTTv5 ? `reason code 0x${code.toString(16)}: ` : ""}${connackString(code)}`);
    const rc = code === 4 || code === 5 || code === 0x86 || code === 0x87 ? MQTT_ERR_AUTH : MQTT_ERR_CONN_REFUSED;
    this.closedEvent = { type: "closed", rc, reasonCode: code, properties: e.properties, reason: "connection refused", fromServer: false };
    this.call("onConnect", () => client.onConnect?.(client, client.userdata, { sessionPresent: false }, code, props));
    this.endLink();
  }

  // ---- the link's end and the supervisor --------------------------------------------------------

  /**
   * The connection is over: what the link takes now (a final DISCONNECT) goes out, and the link is
   * closed, or dropped when it is not taking bytes (a stalled link must not hold the client).
   */
  endLink(): void {
    this.flush();
    const link = this.link;
    if (link === null) return;
    link.destroy();
    this.linkClosed(undefined);
  }

  private closeWhenFlushed(): void {
    const link = this.link;
    if (link === null || this.engine.wantsWrite) return;
    link.close();
    this.linkClosed(undefined);
  }

  /** Drops the link without callbacks, as reconnect() and reinitialise() do. */
  dropLink(): void {
    this.release()?.destroy();
  }

  /** The link is no longer the client's: the engine forgets it, and the socket callbacks run. */
  private releaseLink(link: Link): void {
    const wasOpen = this.linkOpen;
    const client = this.client;
    this.release();
    if (this.writeRegistered) {
      this.writeRegistered = false;
      this.call("onSocketUnregisterWrite", () => client.onSocketUnregisterWrite?.(client, client.userdata, link.socket));
    }
    if (wasOpen) this.call("onSocketClose", () => client.onSocketClose?.(client, client.userdata, link.socket));
  }

  /** Feeds the supervisor an event and does what it answers, then keeps the one timer. */
  supervise(event: SupervisorEvent): void {
    const previous = this.supervisor;
    const now = this.host.now();
    const next = this.feedSupervisor(event, now);
    for (const callback of next.callbacks) this.perform(callback, previous);
    if (next.state.phase === BACKOFF && previous.phase !== BACKOFF) {
      // In whole milliseconds: the host's clock is fractional ("0.05000000000000091 s" was seen).
      this.log(MQTT_LOG_INFO, `Reconnecting in ${Math.round(next.timer - now) / 1000} s`);
    }
    if (event.type === "lost" || next.state.phase !== previous.phase) {
      this.closedEvent = undefined;
      this.failure = undefined;
    }
    this.armTimer();
  }

  /** Does what the supervisor answered; `previous`: its state before the event. */
  private perform(callback: Callback, previous: SupervisorState): void {
    switch (callback) {
      case "open":
        this.openLink();
        return;
      case "drop":
        this.dropTimedOut(previous);
        return;
      case "onConnectFail":
        this.connectFailed(previous.phase);
        return;
      case "onDisconnect":
      case "onDisconnectNormal":
        this.reportDisconnect(callback === "onDisconnectNormal", previous.refused);
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

  /** The supervisor drops the link: its connect timeout ran out (or disconnect() came before it opened). */
  private dropTimedOut(previous: SupervisorState): void {
    const link = this.link;
    if (link === null) return;
    if (this.host.now() >= previous.deadline) {
      this.closedEvent = { type: "closed", rc: MQTT_ERR_NO_CONN, reasonCode: 0, properties: undefined, fromServer: false,
        reason: previous.phase === OPENING ? "the link did not open within the connect timeout" : "no CONNACK within the connect timeout" };
    }
    link.destroy();
    this.releaseLink(link);
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
    const client = this.client;
    if (waiter !== undefined) waiter.reject(this.failure instanceof Error ? this.failure : new MqttConnectionError(this.linkError?.rc ?? this.closedEvent?.rc ?? MQTT_ERR_NO_CONN, message));
    else this.call("onConnectFail", () => client.onConnectFail?.(client, client.userdata));
  }

  /** onDisconnect for a connection CONNACK answered; `normal`: disconnect() ended it; `refused`: CONNACK refused it. */
  private reportDisconnect(normal: boolean, refused: boolean): void {
    const closed = this.closedEvent;
    const client = this.client;
    if (closed === undefined && !normal) this.log(MQTT_LOG_WARNING, `Connection lost: ${this.linkError?.message ?? "closed by the broker"}`);
    const reasonCode = disconnectReasonCode(closed, normal, refused);
    const flags = { isDisconnectPacketFromServer: closed?.fromServer ?? false };
    this.call("onDisconnect", () => client.onDisconnect?.(client, client.userdata, flags, reasonCode, closed?.properties ?? {}));
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
    const server = referencedServer(reference, a.port);
    if (server === undefined) return false;
    this.args = { ...a, ...server };
    return true;
  }

  // ---- logging and user code ------------------------------------------------------------------

  /** Whether a log line would reach anyone: hot paths skip building the text otherwise. */
  get logging(): boolean {
    return this.client.onLog !== null || this.logger !== undefined;
  }

  log(level: number, message: string): void {
    const client = this.client;
    if (client.onLog !== null) {
      try {
        client.onLog(client, client.userdata, level, message);
      } catch {
        // A failing log callback must not take the client down, and has nowhere else to report to.
      }
    }
    if (this.logger !== undefined) writeLog(this.logger, level, message);
  }

  /** Runs user code; an exception is logged (MQTT_LOG_ERR) and leaves the client's state intact. */
  call(name: string, fn: () => void): void {
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
