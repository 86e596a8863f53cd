/**
 * The ECMA-419 MQTT client class pattern (`embedded:network/mqtt/client`) over the same sans-I/O Engine
 * the Paho-shaped Client uses, so an application written to the standard runs on tinymqtt unchanged.
 *
 *   const mqtt = new Ecma419Client({ host, port, id, keepAlive: 60_000,
 *     onControl(msg) { if (msg.operation === Ecma419Client.CONNACK) this.write(null, { operation: SUBSCRIBE, items }) },
 *     onReadable(count, { topic, QoS, byteLength, more }) { const payload = this.read(count) } });
 *
 * Reading is pull-style, as the pattern says: onReadable announces a message's payload and the
 * application reads it with read(count) or read(buffer), then or later. Until the payload has been read
 * the client reads nothing more (the transport pushes back); the acknowledgement of a QoS 1/2 message
 * goes out once it has been read. The payload is read straight out of the receive buffer: read(buffer)
 * copies nothing else. Writing: write(data, { topic, QoS, retain, byteLength }) publishes; a
 * byteLength larger than data starts a fragmented payload that later write(data) calls complete.
 * write(null, { operation: SUBSCRIBE | UNSUBSCRIBE, items: [{ topic, QoS }] }) and
 * write(null, { operation: DISCONNECT }) do the rest. Packet ids, acknowledgements, keepalive pings
 * and resending are the engine's: an `id` option, PUBACK/PUBREC/PUBREL/PUBCOMP writes and PINGREQ writes
 * are not needed (ids are reported in onControl; PINGREQ is accepted and left to the keepalive timer).
 *
 * MQTT 3.1.1, as the pattern specifies. Nonstandard options: `platform` (the tinymqtt Host; default the
 * registered one), `budget` (default ESP32_BUDGET), `tls` (the host's TLS options).
 */
import { MQTT_ERR_QUEUE_SIZE, MQTT_ERR_SUCCESS } from "../paho/constants.js";
import type { ConnectPacket, QoS, Subscription } from "../codec/packet-types.js";
import type { PublishView } from "../codec/packets/publish.js";
import { NO_BYTES, utf8Bytes, viewBytes } from "../connection/payload.js";
import { type Budget, ESP32_BUDGET, checkBudget } from "../engine/budget.js";
import { CLOSING, CONNACK_WAIT, CONNECTED, Engine, type EngineEvent } from "../engine/engine.js";
import { type Host, type LinkError, type TlsOptions, getDefaultHost } from "../connection/host.js";
import { ConnectionDriver } from "../connection/driver.js";
import { type SupervisorEvent, type SupervisorState, initialState } from "../connection/supervisor.js";
import { errorString } from "../paho/strings.js";
import { topicFilterProblem, topicNameProblem } from "../paho/topic-rules.js";

type BufferSource = ArrayBuffer | ArrayBufferView;

export interface Ecma419ReadableOptions {
  /** More fragments of this payload follow (always false here: a payload arrives whole). */
  more: boolean;
  topic?: string;
  QoS?: number;
  /** The whole payload's length. */
  byteLength?: number;
  retain?: boolean;
  duplicate?: boolean;
}

export interface Ecma419ControlMessage {
  operation: number;
  /** The packet id the acknowledgement is for; 0 for CONNACK. */
  id: number;
  /** SUBACK: one granted QoS (or 0x80) per filter. */
  payload?: Uint8Array;
}

export interface Ecma419Will {
  topic: string;
  message?: string | BufferSource;
  QoS?: number;
  retain?: boolean;
}

export interface Ecma419WriteOptions {
  operation?: number;
  topic?: string;
  QoS?: number;
  retain?: boolean;
  duplicate?: boolean;
  /** The whole payload's length when data is its first fragment. */
  byteLength?: number;
  /** Ignored: the engine assigns packet ids (onControl reports them). */
  id?: number;
  items?: Array<{ topic: string; QoS?: number }>;
}

export interface Ecma419Options {
  host: string;
  port?: number;
  id?: string;
  user?: string;
  password?: string | BufferSource;
  /** Default true. */
  clean?: boolean;
  /** Milliseconds, as the pattern has it (sent rounded up to seconds); 0 or absent: no keepalive. */
  keepAlive?: number;
  will?: Ecma419Will;
  onReadable?: (this: Ecma419Client, count: number, options: Ecma419ReadableOptions) => void;
  onWritable?: (this: Ecma419Client, count: number) => void;
  onControl?: (this: Ecma419Client, message: Ecma419ControlMessage) => void;
  onClose?: (this: Ecma419Client) => void;
  onError?: (this: Ecma419Client, error: Error) => void;
  /** Only "buffer". */
  format?: "buffer";
  target?: unknown;
  platform?: Host;
  budget?: Partial<Budget>;
  tls?: TlsOptions;
}

/** Publishes of QoS 2 awaiting PUBCOMP, so completion is reported as PUBCOMP rather than PUBACK. */
class Qos2Ids {
  private readonly ids: Uint16Array;

  constructor(capacity: number) {
    this.ids = new Uint16Array(capacity);
  }

  add(id: number): void {
    const i = this.ids.indexOf(0);
    if (i >= 0) this.ids[i] = id;
  }

  /** Whether id was there (and removes it). */
  take(id: number): boolean {
    const i = this.ids.indexOf(id);
    if (i < 0) return false;
    this.ids[i] = 0;
    return true;
  }
}

/** How long opening the link, and then CONNACK, may each take: the pattern has no option for it. */
const CONNECT_TIMEOUT_MS = 30_000;

export class Ecma419Client {
  static readonly CONNECT = 1;
  static readonly CONNACK = 2;
  static readonly PUBLISH = 3;
  static readonly PUBACK = 4;
  static readonly PUBREC = 5;
  static readonly PUBREL = 6;
  static readonly PUBCOMP = 7;
  static readonly SUBSCRIBE = 8;
  static readonly SUBACK = 9;
  static readonly UNSUBSCRIBE = 10;
  static readonly UNSUBACK = 11;
  static readonly PINGREQ = 12;
  static readonly PINGRESP = 13;
  static readonly DISCONNECT = 14;

  target: unknown;
  #options: Ecma419Options;
  /** The engine's only caller: the link, the one timer (src/connection/driver.ts). */
  #driver: ConnectionDriver;
  #qos2: Qos2Ids;
  /** The message whose payload is being read: its view stays valid until the next poll(). */
  #message: PublishView | null = null;
  #position = 0;
  #resume = false;
  /** A fragmented publish being assembled. */
  #fragment: { bytes: Uint8Array; filled: number; topic: string; qos: QoS; retain: boolean } | null = null;
  /** The output was full: onWritable is owed once it drains. */
  #blocked = false;
  #closing = false;

  constructor(options: Ecma419Options) {
    if (typeof options?.host !== "string" || options.host === "") throw new TypeError("host required");
    if (options.format !== undefined && options.format !== "buffer") throw new RangeError('format must be "buffer"');
    this.#options = options;
    this.target = options.target;
    const budget = checkBudget({ ...ESP32_BUDGET, ...options.budget });
    this.#qos2 = new Qos2Ids(budget.maxMessages);
    const connect = this.#connectPacket(options);
    const port = options.port ?? (options.tls === undefined ? 1883 : 8883);
    // The lifecycle (src/connection/supervisor.ts) serves for its connect timeout: this class never reconnects.
    this.#driver = new Ecma419Client.#Driver(options.platform ?? getDefaultHost(), new Engine(budget, 4), initialState(CONNECT_TIMEOUT_MS), this, connect);
    this.#supervise({ type: "start" });
    this.#driver.open({ host: options.host, port, bindAddress: "", transport: "tcp", tls: options.tls, wsPath: "/mqtt", wsHeaders: undefined });
  }

  /** The driver, with what it tells this client: nested, so it reaches the private members. */
  static readonly #Driver = class extends ConnectionDriver {
    constructor(host: Host, engine: Engine, supervisor: SupervisorState, private readonly client: Ecma419Client, private readonly connect: ConnectPacket) {
      super(host, engine, supervisor);
    }

    linkOpened(): void {
      this.client.#supervise({ type: "opened" });
      this.engine.begin(this.connect, this.clock());
      this.service();
    }

    linkReadable(): void { this.service(); }

    linkClosed(error: LinkError | undefined): void {
      this.release();
      this.client.#finish(error === undefined ? undefined : new Error(error.message));
    }

    dispatch(): boolean { return this.client.#dispatch(); }
    written(waiting: boolean): void { this.client.#written(waiting); }
    serviced(): void { this.flush(); }
    timerFired(): void { this.client.#supervise({ type: "timer" }); }
  };

  get format(): "buffer" {
    return "buffer";
  }

  set format(value: "buffer") {
    if (value !== "buffer") throw new RangeError('format must be "buffer"');
  }

  /**
   * Reads from the current message's payload: read(count) returns up to count bytes in a new ArrayBuffer
   * (all that is left without count); read(buffer) fills buffer and returns how many bytes it took.
   * Undefined when nothing is left to read.
   */
  read(count?: number): ArrayBuffer | undefined;
  read(buffer: BufferSource): number;
  read(what?: number | BufferSource): ArrayBuffer | number | undefined {
    const m = this.#message;
    const left = m === null ? 0 : m.payloadEnd - m.payloadStart - this.#position;
    let result: ArrayBuffer | number | undefined;
    if (typeof what === "object" && what !== null) {
      const target = what instanceof ArrayBuffer ? new Uint8Array(what) : new Uint8Array(what.buffer, what.byteOffset, what.byteLength);
      const n = Math.min(left, target.length);
      if (n > 0) target.set(m!.bytes.subarray(m!.payloadStart + this.#position, m!.payloadStart + this.#position + n));
      this.#position += n;
      result = n;
    } else {
      if (left === 0) return undefined;
      const n = what === undefined ? left : Math.max(0, Math.min(left, Math.floor(what)));
      const start = m!.payloadStart + this.#position;
      result = m!.bytes.slice(start, start + n).buffer as ArrayBuffer;
      this.#position += n;
    }
    if (m !== null && this.#position >= m.payloadEnd - m.payloadStart && this.#resume) {
      // Read outside onReadable: the client was waiting for this to go on.
      this.#resume = false;
      this.#driver.host.defer(() => this.#driver.service());
    }
    return result;
  }

  /** Publishes, continues a fragmented payload, or sends SUBSCRIBE/UNSUBSCRIBE/DISCONNECT. Returns write room. */
  write(data: BufferSource | null, options?: Ecma419WriteOptions): number {
    const engine = this.#driver.engine;
    if (this.#fragment !== null) {
      if (options !== undefined || data === null) throw new Error("a fragmented payload is being written: only its data may follow");
      this.#continueFragment(bytesOf(data));
      return this.#room();
    }
    if (engine.state !== CONNECTED) throw new Error("not connected");
    if (options === undefined) throw new TypeError("write() needs options (topic, or an operation)");
    const now = this.#driver.clock();
    const operation = options.operation ?? Ecma419Client.PUBLISH;
    switch (operation) {
      case Ecma419Client.PUBLISH: {
        const topic = options.topic;
        const problem = topicNameProblem(topic);
        if (problem !== undefined) throw new RangeError(`invalid topic: ${problem}`);
        const qos = options.QoS ?? 0;
        if (qos !== 0 && qos !== 1 && qos !== 2) throw new RangeError(`invalid QoS ${String(qos)}`);
        const bytes = data === null ? NO_BYTES : bytesOf(data);
        const total = options.byteLength ?? bytes.length;
        if (!Number.isInteger(total) || total < bytes.length) throw new RangeError("byteLength is smaller than the data");
        if (total > bytes.length) {
          const limit = qos === 0 ? engine.budget.outputBytes : Math.min(engine.budget.outputBytes, engine.budget.storeBytes);
          if (total > limit) throw new RangeError(`a ${total}-byte payload does not fit the budget (${limit} bytes)`);
          this.#fragment = { bytes: new Uint8Array(total), filled: 0, topic: topic!, qos, retain: options.retain === true };
          this.#continueFragment(bytes);
        } else {
          this.#publish(topic!, bytes, qos, options.retain === true);
        }
        break;
      }
      case Ecma419Client.SUBSCRIBE:
      case Ecma419Client.UNSUBSCRIBE: {
        const items = options.items;
        if (!Array.isArray(items) || items.length === 0) throw new TypeError("items: a non-empty list of { topic, QoS }");
        for (const item of items) {
          const problem = topicFilterProblem(item?.topic, 4);
          if (problem !== undefined) throw new RangeError(`invalid topic filter: ${problem}`);
        }
        const r = operation === Ecma419Client.SUBSCRIBE
          ? engine.subscribe(items.map((i): Subscription => ({ topicFilter: i.topic, qos: (i.QoS ?? 0) as QoS })), undefined, now)
          : engine.unsubscribe(items.map((i) => i.topic), undefined, now);
        this.#check(r.rc);
        break;
      }
      case Ecma419Client.PINGREQ:
        break;
      case Ecma419Client.DISCONNECT:
        this.#closing = true;
        engine.disconnect(0, undefined, now);
        break;
      default:
        throw new RangeError(`operation ${operation} is not written by the application (the engine acknowledges and pings itself)`);
    }
    this.#driver.flush();
    return this.#room();
  }

  /** Drops the connection at once; no callback runs after this. */
  close(): void {
    this.#message = null;
    this.#fragment = null;
    this.#driver.clearTimer();
    this.#driver.release()?.destroy();
  }

  #connectPacket(o: Ecma419Options): ConnectPacket {
    const will = o.will;
    if (will !== undefined && topicNameProblem(will.topic) !== undefined) throw new RangeError(`invalid will topic: ${topicNameProblem(will.topic)}`);
    return {
      type: 1, protocolVersion: 4, clientId: o.id ?? "", cleanStart: o.clean ?? true, keepAlive: Math.ceil((o.keepAlive ?? 0) / 1000),
      username: o.user, password: o.password === undefined ? undefined : bytesOf(o.password),
      will: will === undefined ? undefined : { topic: will.topic, payload: will.message === undefined ? NO_BYTES : bytesOf(will.message),
        qos: (will.QoS ?? 0) as QoS, retain: will.retain === true },
    };
  }

  #continueFragment(bytes: Uint8Array): void {
    const f = this.#fragment!;
    if (f.filled + bytes.length > f.bytes.length) throw new RangeError("more data than the byteLength announced");
    f.bytes.set(bytes, f.filled);
    f.filled += bytes.length;
    if (f.filled < f.bytes.length) return;
    this.#fragment = null;
    this.#publish(f.topic, f.bytes, f.qos, f.retain);
    this.#driver.flush();
  }

  #publish(topic: string, payload: Uint8Array, qos: QoS, retain: boolean): void {
    const r = this.#driver.engine.publish(topic, payload, qos, retain, undefined, this.#driver.clock());
    this.#check(r.rc);
    if (qos === 2) this.#qos2.add(r.mid);
  }

  #check(rc: number): void {
    if (rc === MQTT_ERR_SUCCESS) return;
    if (rc === MQTT_ERR_QUEUE_SIZE) this.#blocked = true;
    throw new Error(`cannot write now: ${errorString(rc)}${rc === MQTT_ERR_QUEUE_SIZE ? " (wait for onWritable)" : ""}`);
  }

  /** What write() may take next: the output's room when it has drained, else 0 (onWritable follows). */
  #room(): number {
    const engine = this.#driver.engine;
    return engine.wantsWrite ? 0 : engine.budget.outputBytes;
  }

  /** Hands events to the application; false while a payload waits to be read. */
  #dispatch(): boolean {
    const m = this.#message;
    const engine = this.#driver.engine;
    // A payload still unread holds back the next message, but not the end of the connection.
    if (m !== null && this.#position < m.payloadEnd - m.payloadStart && engine.state !== CLOSING) {
      this.#resume = true;
      return false;
    }
    this.#message = null;
    let e: EngineEvent | null;
    while (this.#driver.link !== null && (e = engine.poll()) !== null) {
      if (!this.#handle(e)) return false;
    }
    return this.#driver.link !== null;
  }

  #handle(e: EngineEvent): boolean {
    const o = this.#options;
    switch (e.type) {
      case "message": {
        const m = e.message;
        this.#message = m;
        this.#position = 0;
        const length = m.payloadEnd - m.payloadStart;
        this.#call(o.onReadable, length, { more: false, topic: m.topic, QoS: m.qos, byteLength: length, retain: m.retain, duplicate: m.dup });
        if (this.#position < length && this.#driver.link !== null) {
          this.#resume = true;
          return false;
        }
        this.#message = null;
        return true;
      }
      case "connected":
        this.#supervise({ type: "accepted" });
        this.#call(o.onControl, { operation: Ecma419Client.CONNACK, id: 0 });
        if (this.#driver.link !== null) this.#call(o.onWritable, this.#room());
        return true;
      case "published":
        this.#call(o.onControl, { operation: this.#qos2.take(e.mid) ? Ecma419Client.PUBCOMP : Ecma419Client.PUBACK, id: e.mid });
        return true;
      case "subscribed":
        this.#call(o.onControl, { operation: Ecma419Client.SUBACK, id: e.mid, payload: Uint8Array.from(e.reasonCodes) });
        return true;
      case "unsubscribed":
        this.#call(o.onControl, { operation: Ecma419Client.UNSUBACK, id: e.mid });
        return true;
      case "refused":
        this.#end(new Error(`connection refused: CONNACK return code ${e.reasonCode}`));
        return false;
      case "closed":
        this.#end(e.rc === MQTT_ERR_SUCCESS ? undefined : new Error(e.reason));
        return false;
      default:
        return true;
    }
  }

  /** The driver wrote: the close after a drained DISCONNECT, and onWritable owed since a full output. */
  #written(waiting: boolean): void {
    if (waiting) return;
    const engine = this.#driver.engine;
    if (engine.state === CLOSING && this.#closing) {
      this.#driver.release()?.close();
      this.#finish(undefined);
      return;
    }
    if (this.#blocked && engine.state === CONNECTED) {
      this.#blocked = false;
      this.#call(this.#options.onWritable, this.#room());
    }
  }

  /** The engine ended the connection: what it still has to say goes out, then the link is dropped. */
  #end(error: Error | undefined): void {
    this.#driver.flush();
    const link = this.#driver.release();
    if (link === null) return;
    link.destroy();
    this.#finish(error);
  }

  /** The link is gone (released): the application hears why, once. */
  #finish(error: Error | undefined): void {
    this.#message = null;
    this.#driver.clearTimer();
    // This class never reconnects: what is left of the lifecycle is its start, for no one.
    this.#driver.supervisor = initialState(CONNECT_TIMEOUT_MS);
    if (error === undefined) this.#call(this.#options.onClose);
    else this.#call(this.#options.onError, error);
  }

  /** Feeds the supervisor; a connect timeout ends the connection with an error. */
  #supervise(event: SupervisorEvent): void {
    const next = this.#driver.feedSupervisor(event, this.#driver.host.now());
    if (next.callbacks.includes("onConnectFail")) {
      this.#driver.release()?.destroy();
      this.#finish(new Error(event.type === "timer" ? "no CONNACK within the connect timeout" : "the connection could not be made"));
    }
  }

  /** Runs application code; what it throws is reported to onError (or rethrown when there is none). */
  #call<A extends unknown[]>(fn: ((this: Ecma419Client, ...args: A) => void) | undefined, ...args: A): void {
    if (fn === undefined) return;
    try {
      fn.apply(this, args);
    } catch (e) {
      const onError = this.#options.onError;
      if (onError === undefined || (fn as unknown) === onError) throw e;
      onError.call(this, e instanceof Error ? e : new Error(String(e)));
    }
  }
}

function bytesOf(data: string | BufferSource): Uint8Array {
  if (typeof data === "string") return utf8Bytes(data, "a string");
  const bytes = viewBytes(data);
  if (bytes === undefined) throw new TypeError("data must be an ArrayBuffer, a view of one, or a string");
  return bytes;
}
