/**
 * What the ECMA-419 MQTT client class pattern (`embedded:network/mqtt/client`) takes and hands out: its
 * constructor options, the options of write() and of its callbacks, and the CONNECT its options make.
 */
import type { ConnectPacket, QoS } from "../codec/packet-types.js";
import type { Host, TlsOptions } from "../connection/host.js";
import { NO_BYTES, utf8Bytes, viewBytes } from "../connection/payload.js";
import type { Budget } from "../engine/budget.js";
import { topicNameProblem } from "../codec/topics.js";
import type { Ecma419Client } from "./client.js";

export type BufferSource = ArrayBuffer | ArrayBufferView;

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

/** The CONNECT the options make (MQTT 3.1.1, as the pattern specifies). */
export function connectPacket(o: Ecma419Options): ConnectPacket {
  const will = o.will;
  const problem = will === undefined ? undefined : topicNameProblem(will.topic);
  if (problem !== undefined) throw new RangeError(`invalid will topic: ${problem}`);
  // Here rather than at the first connection, where the encoder would refuse it far from the caller.
  if ((o.id ?? "") === "" && o.clean === false) throw new RangeError("an id is needed when clean is false [MQTT-3.1.3-7]");
  return {
    type: 1, protocolVersion: 4, clientId: o.id ?? "", cleanStart: o.clean ?? true, keepAlive: Math.ceil((o.keepAlive ?? 0) / 1000),
    username: o.user, password: o.password === undefined ? undefined : bytesOf(o.password),
    will: will === undefined ? undefined : { topic: will.topic, payload: will.message === undefined ? NO_BYTES : bytesOf(will.message),
      qos: (will.QoS ?? 0) as QoS, retain: will.retain === true },
  };
}

/** Data as the pattern takes it: a buffer or a view of one (not copied), or a string (as UTF-8). */
export function bytesOf(data: string | BufferSource): Uint8Array {
  if (typeof data === "string") return utf8Bytes(data, "a string");
  const bytes = viewBytes(data);
  if (bytes === undefined) throw new TypeError("data must be an ArrayBuffer, a view of one, or a string");
  return bytes;
}
