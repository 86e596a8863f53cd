/**
 * The ECMA-419 MQTT client class pattern (`embedded:network/mqtt/client`) over the same connection driver
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
 * This class is the read/write surface; ./event-loop.ts turns what happens on the link into callbacks.
 *
 * MQTT 3.1.1, as the pattern specifies. Nonstandard options: `platform` (the tinymqtt Host; default the
 * registered one), `budget` (default ESP32_BUDGET), `tls` (the host's TLS options).
 */
import type { QoS } from "../codec/packet-types.js";
import { getDefaultHost } from "../connection/host.js";
import { NO_BYTES } from "../connection/payload.js";
import { ESP32_BUDGET, checkBudget } from "../engine/budget.js";
import { CONNECTED, Engine } from "../engine/engine.js";
import { MQTT_ERR_QUEUE_SIZE, MQTT_ERR_SUCCESS } from "../paho/constants.js";
import { errorString } from "../paho/strings.js";
import { topicFilterProblem, topicNameProblem } from "../codec/topics.js";
import { Ecma419Loop } from "./event-loop.js";
import { type BufferSource, type Ecma419Options, type Ecma419WriteOptions, bytesOf, connectPacket } from "./options.js";

export type { Ecma419ControlMessage, Ecma419Options, Ecma419ReadableOptions, Ecma419Will, Ecma419WriteOptions } from "./options.js";

/** A publish whose payload comes in fragments: sent once `filled` reaches the announced length. */
interface Fragmented { bytes: Uint8Array; filled: number; topic: string; qos: QoS; retain: boolean }

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
  /** The engine's only caller, with this class's handling of its events. */
  #loop: Ecma419Loop;
  #fragment: Fragmented | null = null;

  constructor(options: Ecma419Options) {
    if (typeof options?.host !== "string" || options.host === "") throw new TypeError("host required");
    if (options.format !== undefined && options.format !== "buffer") throw new RangeError('format must be "buffer"');
    this.target = options.target;
    const budget = checkBudget({ ...ESP32_BUDGET, ...options.budget });
    const connect = connectPacket(options);
    const port = options.port ?? (options.tls === undefined ? 1883 : 8883);
    this.#loop = new Ecma419Loop(options.platform ?? getDefaultHost(), new Engine(budget, 4), this, options, connect);
    this.#loop.supervise({ type: "start" });
    this.#loop.open({ host: options.host, port, bindAddress: "", transport: "tcp", tls: options.tls, wsPath: "/mqtt", wsHeaders: undefined });
  }

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
    const loop = this.#loop;
    const m = loop.message;
    const left = loop.unread;
    let result: ArrayBuffer | number | undefined;
    if (typeof what === "object" && what !== null) {
      const target = bytesOf(what);
      const n = Math.min(left, target.length);
      if (n > 0) target.set(m!.bytes.subarray(m!.payloadStart + loop.position, m!.payloadStart + loop.position + n));
      loop.position += n;
      result = n;
    } else {
      if (left === 0) return undefined;
      const n = what === undefined ? left : Math.max(0, Math.min(left, Math.floor(what)));
      const start = m!.payloadStart + loop.position;
      result = m!.bytes.slice(start, start + n).buffer as ArrayBuffer;
      loop.position += n;
    }
    if (m !== null && loop.unread === 0 && loop.resume) {
      // Read outside onReadable: the client was waiting for this to go on.
      loop.resume = false;
      loop.host.defer(() => loop.service());
    }
    return result;
  }

  /** Publishes, continues a fragmented payload, or sends SUBSCRIBE/UNSUBSCRIBE/DISCONNECT. Returns write room. */
  write(data: BufferSource | null, options?: Ecma419WriteOptions): number {
    const loop = this.#loop;
    if (this.#fragment !== null) {
      if (options !== undefined || data === null) throw new Error("a fragmented payload is being written: only its data may follow");
      this.#continueFragment(bytesOf(data));
      return loop.room();
    }
    if (loop.engine.state !== CONNECTED) throw new Error("not connected");
    if (options === undefined) throw new TypeError("write() needs options (topic, or an operation)");
    const operation = options.operation ?? Ecma419Client.PUBLISH;
    switch (operation) {
      case Ecma419Client.PUBLISH:
        this.#startPublish(data, options);
        break;
      case Ecma419Client.SUBSCRIBE:
      case Ecma419Client.UNSUBSCRIBE:
        this.#sendFilters(operation, options.items);
        break;
      case Ecma419Client.PINGREQ:
        break;
      case Ecma419Client.DISCONNECT:
        loop.closing = true;
        loop.engine.disconnect(0, undefined, loop.clock());
        break;
      default:
        throw new RangeError(`operation ${operation} is not written by the application (the engine acknowledges and pings itself)`);
    }
    loop.flush();
    return loop.room();
  }

  /** Drops the connection at once; no callback runs after this. */
  close(): void {
    this.#loop.message = null;
    this.#fragment = null;
    this.#loop.clearTimer();
    this.#loop.release()?.destroy();
  }

  /** write()'s PUBLISH: the whole payload, or the first fragment of a longer one (options.byteLength). */
  #startPublish(data: BufferSource | null, options: Ecma419WriteOptions): void {
    const topic = options.topic;
    const problem = topicNameProblem(topic);
    if (problem !== undefined) throw new RangeError(`invalid topic: ${problem}`);
    const qos = options.QoS ?? 0;
    if (qos !== 0 && qos !== 1 && qos !== 2) throw new RangeError(`invalid QoS ${String(qos)}`);
    const bytes = data === null ? NO_BYTES : bytesOf(data);
    const total = options.byteLength ?? bytes.length;
    if (!Number.isInteger(total) || total < bytes.length) throw new RangeError("byteLength is smaller than the data");
    if (total === bytes.length) {
      this.#publish(topic!, bytes, qos, options.retain === true);
      return;
    }
    const budget = this.#loop.engine.budget;
    const limit = qos === 0 ? budget.outputBytes : Math.min(budget.outputBytes, budget.storeBytes);
    if (total > limit) throw new RangeError(`a ${total}-byte payload does not fit the budget (${limit} bytes)`);
    this.#fragment = { bytes: new Uint8Array(total), filled: 0, topic: topic!, qos, retain: options.retain === true };
    this.#continueFragment(bytes);
  }

  #continueFragment(bytes: Uint8Array): void {
    const f = this.#fragment!;
    if (f.filled + bytes.length > f.bytes.length) throw new RangeError("more data than the byteLength announced");
    f.bytes.set(bytes, f.filled);
    f.filled += bytes.length;
    if (f.filled < f.bytes.length) return;
    this.#fragment = null;
    this.#publish(f.topic, f.bytes, f.qos, f.retain);
    this.#loop.flush();
  }

  #publish(topic: string, payload: Uint8Array, qos: QoS, retain: boolean): void {
    const loop = this.#loop;
    this.#check(loop.engine.publish(topic, payload, qos, retain, undefined, loop.clock()).rc);
  }

  /** write()'s SUBSCRIBE or UNSUBSCRIBE of `items`. */
  #sendFilters(operation: number, items: Ecma419WriteOptions["items"]): void {
    if (!Array.isArray(items) || items.length === 0) throw new TypeError("items: a non-empty list of { topic, QoS }");
    for (const item of items) {
      const problem = topicFilterProblem(item?.topic, 4);
      if (problem !== undefined) throw new RangeError(`invalid topic filter: ${problem}`);
    }
    const loop = this.#loop;
    const now = loop.clock();
    const r = operation === Ecma419Client.SUBSCRIBE
      ? loop.engine.subscribe(items.map((i) => ({ topicFilter: i.topic, qos: (i.QoS ?? 0) as QoS })), undefined, now)
      : loop.engine.unsubscribe(items.map((i) => i.topic), undefined, now);
    this.#check(r.rc);
  }

  #check(rc: number): void {
    if (rc === MQTT_ERR_SUCCESS) return;
    if (rc === MQTT_ERR_QUEUE_SIZE) this.#loop.blocked = true;
    throw new Error(`cannot write now: ${errorString(rc)}${rc === MQTT_ERR_QUEUE_SIZE ? " (wait for onWritable)" : ""}`);
  }
}
