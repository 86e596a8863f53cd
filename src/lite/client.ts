/**
 * tinymqtt/lite: the smallest client, for a sensor that only needs MQTT 3.1.1 with QoS 0/1/2, a will,
 * keepalive and reconnect. Its API is Moddable's own `mqtt` module's (`new Client({ host, port, id, user,
 * password, will, timeout })`, onReady, onMessage(topic, body), onClose, publish(topic, data, { quality,
 * retain }), subscribe, unsubscribe, close), so an app written for that module runs on it, and gains:
 *   - QoS 1 and 2 both ways: a QoS 1/2 message is kept until its flow completes, re-sent (DUP) after a
 *     reconnect, and delivered exactly once (QoS 2) or at least once (QoS 1), acknowledged after onMessage ran;
 *   - `reconnect` (ms): after a lost link the client connects again, the delay doubling up to `reconnectMax`;
 *   - `clean: false`: a persistent session, whose incoming QoS 2 state survives the reconnect.
 * It is one object per client and one buffer (the CONNECT packet, the settings, and an input of `maxPacketSize`
 * bytes for a packet that spans reads); the optional parts (the in-flight table, the incoming QoS 2 ids, the
 * list of what waits for room in the socket) are made when first needed. It is one module on purpose: on XS
 * each module costs a header of bytecode, and this profile's budget is three times Moddable's one module.
 * What it leaves to the full client ("tinymqtt"): MQTT 5, 3.1, TLS, WebSockets, a session kept across
 * restarts, flow control beyond `maxInflight`, several filters per SUBSCRIBE, and Paho's API.
 *
 * The host (a LitePlatform) gives it a socket shaped like Moddable's: write() says how many bytes fit now,
 * write(bytes) sends them, close(). hosts/moddable/lite.ts hands it Moddable's Socket itself;
 * hosts/node/lite.ts a node:net socket behind the same three calls.
 */
import { topicFilterProblem, topicNameProblem } from "../codec/topics.js";
import { decodeUtf8, stringProblem, UTF8_OK, utf8Length, validateTopicName, writeUtf8 } from "../codec/utf8.js";

/** What the client calls on the host's socket: Moddable's `socket` API. */
export interface LiteSocket {
  /** With no argument: how many bytes the socket takes now. With bytes: sends them all. */
  write(bytes?: Uint8Array): number | void;
  close(): void;
}

/** What the client is told by the host's socket. */
export interface LiteSocketEvents {
  /** The TCP connection is up. */
  opened(): void;
  /** Bytes arrived; the client is done with them when this returns. */
  received(bytes: Uint8Array): void;
  /** The socket has room again after write() said it had too little. */
  writable(): void;
  /** The connection is gone (`reason` says why when it failed). Never called after close(). */
  closed(reason: string | undefined): void;
}

/** What a timer calls. */
export interface LiteTimerTarget {
  timerFired(): void;
}

/** What a host gives the lite client: sockets, timers and (optionally) native UTF-8 conversions. */
export interface LitePlatform {
  connect(host: string, port: number, events: LiteSocketEvents): LiteSocket;
  /** Calls target.timerFired() after ms (and every ms when repeat): one object per client, no closure. */
  setTimer(target: LiteTimerTarget, ms: number, repeat: boolean): unknown;
  clearTimer(timer: unknown): void;
  /** UTF-8 bytes of s (on XS, ArrayBuffer.fromString). Without it: the portable loop of src/codec/utf8.ts. */
  encode?(s: string): Uint8Array;
  /** bytes[start, end) as a string, already validated (on XS, String.fromArrayBuffer). */
  decode?(bytes: Uint8Array, start: number, end: number): string;
}

export interface LiteWill {
  topic: string;
  message: string | ArrayBuffer | Uint8Array;
  /** The will's QoS (Moddable's name for it). */
  quality?: 0 | 1 | 2;
  retain?: boolean;
}

export interface LiteOptions {
  /** The broker's host name or address. */
  host: string;
  port?: number;
  /** The client identifier ("" lets the broker choose, with a clean session only). */
  id?: string;
  user?: string;
  password?: string | ArrayBuffer | Uint8Array;
  will?: LiteWill;
  /** Keepalive in milliseconds, as Moddable's `timeout` (sent to the broker in whole seconds); 0 = none. Default 60,000. */
  timeout?: number;
  /** CleanSession (default true, as Moddable's client). */
  clean?: boolean;
  /** Connect again this many ms after a lost link (doubling up to reconnectMax); 0 (default) = never. */
  reconnect?: number;
  /** The longest delay between reconnect attempts, ms (default 30,000). */
  reconnectMax?: number;
  /** The largest packet received whole (default 1024); larger PUBLISHes are acknowledged, not delivered. */
  maxPacketSize?: number;
  /** At most this many QoS 1/2 publishes unfinished (default 10); publish() returns -1 beyond. */
  maxInflight?: number;
  /** At most this many QoS 2 messages received and not yet released by the broker (default 16). */
  maxIncomingQos2?: number;
}

export interface LitePublishFlags {
  /** QoS 0, 1 or 2 (Moddable's name for it). */
  quality?: 0 | 1 | 2;
  retain?: boolean;
}

/** The client's states. */
const CLOSED = 0;
const CONNECTING = 1;
const CONNECTED = 2;
/** close() was called: nothing more happens. */
const ENDED = 3;

/** `waiting` entries that are not in-flight ids: an acknowledgement, its type in the bits above the id. */
const CONTROL = 0x10000;
const PUBACK = 0x40;
const PUBREC = 0x50;
const PUBREL = 0x62;
const PUBCOMP = 0x70;
const PINGREQ = 0xc0;

/** The settings kept in the client's buffer, by index (see LiteClient.buffer). */
const KEEPALIVE = 0;
const CLEAN = 1;
const RECONNECT_MIN = 2;
const RECONNECT_MAX = 3;
const MAX_INFLIGHT = 4;
const MAX_INCOMING_QOS2 = 5;
const SETTINGS = 6;

/** Bits of `activity`. */
const SENT = 1;
const RECEIVED = 2;

/** How long a CONNACK may take (from the start of the TCP connection) before the attempt counts as failed. */
const CONNACK_TIMEOUT_MS = 30_000;

/** Packets in `waiting` (for room in the socket) beyond which the link is dropped: the broker is not reading. */
const MAX_WAITING = 64;

const EMPTY: Uint8Array = new Uint8Array(0);

export class LiteClient {
  /** What onReady() and onMessage() run with; set by the application, as on Moddable's client. */
  declare onReady?: () => void;
  declare onMessage?: (topic: string, body: ArrayBuffer) => void;
  /** The link is gone (`reason` says why); with `reconnect` set, the client connects again. */
  declare onClose?: (reason?: string) => void;
  /** A QoS 1/2 publish's flow completed: the broker has it. */
  declare onPublished?: (id: number) => void;
  /** SUBACK: `granted` is the QoS given, or 0x80 for a refused subscription. */
  declare onSubscribed?: (id: number, granted: number) => void;
  declare onUnsubscribed?: (id: number) => void;

  private readonly platform: LitePlatform;
  private readonly host: string;
  private readonly port: number;
  /**
   * The client's one buffer, laid out by the constructor: the CONNECT packet (the same at every connection,
   * so encoded once), the settings it read from the options (SETTINGS, 32 bits each), then the input, where a
   * packet that spans received chunks is gathered (maxPacketSize bytes). One typed array rather than three
   * plus a property per setting: on XS every object and property is a slot of RAM, which an idle client on a
   * device should hold few of (the slots are counted by npm run bench:moddable).
   */
  private readonly buffer: Uint8Array;
  /** Where the input starts in `buffer`. */
  private readonly inputAt: number;
  /** > 0: bytes of a packet gathered in the input; < 0: bytes still to drop of one larger than the input. */
  private gathered = 0;

  private state = CLOSED;
  private socket: LiteSocket | undefined = undefined;
  /** The keepalive timer while connected; the reconnect timer while waiting to reconnect. */
  private timer: unknown = undefined;
  private reconnectDelay = 0;
  /** Keepalive: SENT and RECEIVED since the last tick, and (above them) the ticks in a row with nothing received. */
  private activity = 0;
  private lastId = 0;
  /**
   * QoS 1/2 publishes not finished, by id: the PUBLISH packet, re-sent as it is (DUP set) after a reconnect.
   * A QoS 2 one the broker has PUBREC'd is kept under -id (PUBREL owed): entries move to the end as PUBRECs
   * arrive, so the PUBRELs re-sent after a reconnect keep the order of the PUBRECs [MQTT-4.6.0-3].
   */
  private inflight: Map<number, Uint8Array> | undefined = undefined;
  /** Ids of QoS 2 messages delivered and not yet released (PUBREL): what makes delivery exactly once. */
  private incoming: Set<number> | undefined = undefined;
  /** What waits for room in the socket, in order: in-flight ids (-id: the PUBREL) or CONTROL acknowledgements. */
  private waiting: number[] | undefined = undefined;
  /** The last topic published and its encoded field (length prefix and UTF-8): a sensor repeats its topics. */
  private topic: string | undefined = undefined;
  private topicField: Uint8Array = EMPTY;

  constructor(options: LiteOptions, platform: LitePlatform) {
    if (options === null || typeof options !== "object") throw new TypeError("options: an object with the broker's host");
    if (typeof options.host !== "string" || options.host === "") throw new Error("parameter host is required");
    this.platform = platform;
    this.host = options.host;
    this.port = integer(options.port ?? 1883, 1, 65535, "port");
    const settings: number[] = [];
    settings[KEEPALIVE] = Math.ceil(integer(options.timeout ?? 60_000, 0, 65535_000, "timeout") / 1000) * 1000;
    settings[CLEAN] = options.clean ?? true ? 1 : 0;
    settings[RECONNECT_MIN] = integer(options.reconnect ?? 0, 0, 2 ** 31 - 1, "reconnect");
    settings[RECONNECT_MAX] = integer(options.reconnectMax ?? 30_000, settings[RECONNECT_MIN], 2 ** 31 - 1, "reconnectMax");
    // Below 65535, so that a SUBSCRIBE always finds a free id.
    settings[MAX_INFLIGHT] = integer(options.maxInflight ?? 10, 1, 65000, "maxInflight");
    settings[MAX_INCOMING_QOS2] = integer(options.maxIncomingQos2 ?? 16, 1, 65535, "maxIncomingQos2");
    const inputSize = integer(options.maxPacketSize ?? 1024, 16, 268_435_460, "maxPacketSize");
    const connect = encodeConnect(options, settings[KEEPALIVE] / 1000, settings[CLEAN] === 1, platform);
    const buffer = this.buffer = new Uint8Array(connect.length + 4 * SETTINGS + inputSize);
    buffer.set(connect, 0);
    for (let i = 0; i < SETTINGS; i++) {
      const at = connect.length + 4 * i;
      buffer[at] = settings[i]! >>> 24;
      buffer[at + 1] = (settings[i]! >> 16) & 0xff;
      buffer[at + 2] = (settings[i]! >> 8) & 0xff;
      buffer[at + 3] = settings[i]! & 0xff;
    }
    this.inputAt = connect.length + 4 * SETTINGS;
    this.open();
  }

  /** One of the settings kept in `buffer` (KEEPALIVE, CLEAN, RECONNECT_MIN...). */
  private setting(which: number): number {
    const b = this.buffer;
    const at = this.inputAt - 4 * (SETTINGS - which);
    return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
  }

  // ---- the application's calls ------------------------------------------------------------------

  /**
   * Sends a message: `data` a string (as UTF-8), an ArrayBuffer or a Uint8Array. Returns the message id of a
   * QoS 1/2 message, now kept until the broker has it (onPublished(id)), sent when connected and again after
   * a reconnect; 0 for a QoS 0 message handed to the socket; -1 when nothing was taken: a QoS 0 message
   * with no connection or no room in the socket, a QoS 1/2 message with maxInflight unfinished or after a
   * lost link that the client will not reconnect (no `reconnect`).
   */
  publish(topic: string, data: string | ArrayBuffer | Uint8Array, flags?: LitePublishFlags): number {
    const qos = flags?.quality ?? 0;
    if (qos !== 0 && qos !== 1 && qos !== 2) throw new RangeError(`quality must be 0, 1 or 2, not ${String(qos)}`);
    if (this.state === ENDED) throw new Error("client closed");
    if (topic !== this.topic) this.keepTopic(topic);
    const field = this.topicField;
    // An ArrayBuffer (what Moddable's APIs hand out) without a call: this runs for every message sent.
    const payload = data instanceof ArrayBuffer ? new Uint8Array(data) : toBytes(data, "data", this.platform);
    const rest = field.length + (qos === 0 ? 0 : 2) + payload.length;
    if (rest > MAX_REMAINING_LENGTH) throw new RangeError(`a PUBLISH of ${rest} bytes is over MQTT's largest packet (${MAX_REMAINING_LENGTH} bytes after the fixed header)`);
    const packet = new Uint8Array((rest < 128 ? 2 : headerLength(rest)) + rest);
    let at = writeHeader(packet, 0x30 | (qos << 1) | (flags?.retain === true ? 1 : 0), rest);
    packet.set(field, at);
    at += field.length;
    if (qos === 0) {
      packet.set(payload, at);
      return this.state === CONNECTED && this.waiting === undefined && this.send(packet) ? 0 : -1;
    }
    // Lost for good (no reconnect asked for): nothing would ever send it.
    if (this.state === CLOSED && this.setting(RECONNECT_MIN) === 0) return -1;
    const inflight = (this.inflight ??= new Map());
    if (inflight.size >= this.setting(MAX_INFLIGHT)) return -1;
    const id = this.nextId();
    packet[at] = id >> 8;
    packet[at + 1] = id & 0xff;
    packet.set(payload, at + 2);
    inflight.set(id, packet);
    if (this.state === CONNECTED) this.sendOrWait(id);
    return id;
  }

  /** Subscribes to one topic filter at `quality` (default 0); returns the id its SUBACK will carry. */
  subscribe(topic: string, quality: 0 | 1 | 2 = 0): number {
    if (quality !== 0 && quality !== 1 && quality !== 2) throw new RangeError(`quality must be 0, 1 or 2, not ${String(quality)}`);
    return this.sendRequest(0x82, topic, quality);
  }

  /** Unsubscribes from one topic filter; returns the id its UNSUBACK will carry. */
  unsubscribe(topic: string): number {
    return this.sendRequest(0xa2, topic, -1);
  }

  /**
   * Ends the client: DISCONNECT when connected (the broker then drops the will), the socket closed, no
   * reconnect. `immediate` skips the DISCONNECT, so the broker publishes the will. onClose is not called.
   */
  close(immediate = false): void {
    if (this.state === CONNECTED && !immediate) this.send(Uint8Array.of(0xe0, 0));
    this.drop();
    this.state = ENDED;
  }

  /** QoS 1/2 publishes not finished yet (kept, sent or to be sent). */
  get unfinished(): number {
    return this.inflight?.size ?? 0;
  }

  // ---- the socket's events ----------------------------------------------------------------------

  /** @internal */
  opened(): void {
    if (this.state === CONNECTING && !this.send(this.buffer.subarray(0, this.inputAt - 4 * SETTINGS))) this.fail("no room in the socket for CONNECT");
  }

  /** @internal */
  received(chunk: Uint8Array): void {
    if (this.state !== CONNECTING && this.state !== CONNECTED) return;
    this.activity |= RECEIVED;
    const problem = this.frame(chunk);
    if (problem !== undefined) this.fail(problem);
  }

  /** @internal */
  writable(): void {
    const waiting = this.waiting;
    if (waiting === undefined || this.state !== CONNECTED) return;
    while (waiting.length > 0) {
      const entry = waiting[0]!;
      const packet = entry >= CONTROL ? ack(entry >> 16, entry & 0xffff) : this.inflightPacket(entry);
      if (packet !== undefined && !this.send(packet)) return;
      waiting.shift();
    }
    this.waiting = undefined;
  }

  /** @internal */
  closed(reason: string | undefined): void {
    if (this.state !== CONNECTING && this.state !== CONNECTED) return;
    this.socket = undefined;
    this.fail(reason ?? "closed by the broker");
  }

  /** @internal The one timer: the wait for CONNACK, the keepalive's tick or the delay before reconnecting, by state. */
  timerFired(): void {
    if (this.state === CONNECTED) return this.tick();
    // The other two are one-shot timers, already spent.
    this.timer = undefined;
    if (this.state === CONNECTING) this.fail(`no CONNACK from ${this.host}:${this.port} within ${CONNACK_TIMEOUT_MS / 1000} s`);
    else if (this.state === CLOSED) this.open();
  }

  // ---- receiving ----------------------------------------------------------------------------------

  /** Splits chunk into packets and handles each; a packet that spans chunks is gathered in the input. */
  private frame(chunk: Uint8Array): string | undefined {
    const end = chunk.length;
    const buffer = this.buffer;
    const base = this.inputAt;
    const inputSize = buffer.length - base;
    let at = 0;
    while (at < end) {
      if (this.gathered < 0) {
        const n = Math.min(-this.gathered, end - at);
        this.gathered += n;
        at += n;
        continue;
      }
      if (this.gathered === 0) {
        const size = packetSize(chunk, at, end);
        if (size === MALFORMED) return "malformed remaining length";
        if (size > 0 && size <= inputSize && at + size <= end) {
          const problem = this.handle(chunk, at, size);
          if (problem !== undefined) return problem;
          if (this.state !== CONNECTED && this.state !== CONNECTING) return undefined;
          at += size;
          continue;
        }
      }
      // A packet cut by the end of the chunk: its header byte by byte, then the rest in one copy.
      let have = this.gathered;
      let size = packetSize(buffer, base, base + have);
      while (size === INCOMPLETE && at < end) {
        buffer[base + have++] = chunk[at++]!;
        size = packetSize(buffer, base, base + have);
      }
      if (size === MALFORMED) return "malformed remaining length";
      if (size === INCOMPLETE) {
        this.gathered = have;
        return undefined;
      }
      const take = Math.min(size, inputSize) - have;
      const n = Math.min(take, end - at);
      buffer.set(chunk.subarray(at, at + n), base + have);
      have += n;
      at += n;
      if (n < take) {
        this.gathered = have;
        return undefined;
      }
      this.gathered = 0;
      if (size > inputSize) {
        // Larger than maxPacketSize: the broker of MQTT 3.1.1 cannot know our limit. Its start (held) says
        // what to acknowledge; the rest is dropped as it comes.
        this.gathered = inputSize - size;
        const problem = this.oversized(buffer, base);
        if (problem !== undefined) return problem;
        continue;
      }
      const problem = this.handle(buffer, base, size);
      if (problem !== undefined) return problem;
      if (this.state !== CONNECTED && this.state !== CONNECTING) return undefined;
    }
    return undefined;
  }

  /** One whole packet at bytes[at, at + size); returns what is wrong with it, if anything. */
  private handle(bytes: Uint8Array, at: number, size: number): string | undefined {
    const first = bytes[at]!;
    const type = first >> 4;
    const bodyStart = at + 1 + varintBytes(bytes, at + 1);
    const length = at + size - bodyStart;
    if (this.state === CONNECTING && type !== 2) return `packet type ${type} before CONNACK [MQTT-3.2.0-1]`;
    if (type === 3) return this.handlePublish(bytes, first, bodyStart, at + size);
    // Every other packet the broker may send has fixed flags: 0, or 2 for PUBREL [MQTT-2.2.2-2].
    if ((first & 0x0f) !== (type === 6 ? 2 : 0)) return `packet type ${type} with flags ${first & 0x0f} [MQTT-2.2.2-2]`;
    const id = length >= 2 ? (bytes[bodyStart]! << 8) | bytes[bodyStart + 1]! : -1;
    switch (type) {
      case 2: { // CONNACK
        if (length !== 2 || this.state !== CONNECTING) return "unexpected CONNACK";
        if (bytes[bodyStart + 1] !== 0) return `connection refused: ${refusal(bytes[bodyStart + 1]!)}`;
        const sessionPresent = (bytes[bodyStart]! & 1) === 1;
        if (sessionPresent && this.setting(CLEAN) === 1) return "CONNACK with session present to a clean session [MQTT-3.2.2-1]";
        this.connected(sessionPresent);
        return undefined;
      }
      case 4: // PUBACK
      case 7: // PUBCOMP
        if (length !== 2) return "malformed acknowledgement";
        this.finished(type === 4 ? id : -id);
        return undefined;
      case 5: { // PUBREC: the PUBREL is owed, and re-sent after a reconnect until PUBCOMP
        if (length !== 2) return "malformed PUBREC";
        const packet = this.inflight?.get(id);
        if (packet !== undefined && ((packet[0]! >> 1) & 3) === 2) {
          this.inflight!.delete(id);
          this.inflight!.set(-id, packet);
        }
        this.sendOrWait(CONTROL * (PUBREL >> 4) + id);
        return undefined;
      }
      case 6: // PUBREL: the QoS 2 message delivered under this id may come again as a new one
        if (length !== 2) return "malformed PUBREL";
        this.incoming?.delete(id);
        this.sendOrWait(CONTROL * (PUBCOMP >> 4) + id);
        return undefined;
      case 9: // SUBACK
        if (length !== 3) return "malformed SUBACK";
        this.call(this.onSubscribed, id, bytes[bodyStart + 2]!);
        return undefined;
      case 11: // UNSUBACK
        if (length !== 2) return "malformed UNSUBACK";
        this.call(this.onUnsubscribed, id, 0);
        return undefined;
      case 13: // PINGRESP
        return length === 0 ? undefined : "malformed PINGRESP";
      default:
        return `packet type ${type} is not one a broker sends [MQTT-4.8.0-1]`;
    }
  }

  private handlePublish(bytes: Uint8Array, first: number, start: number, end: number): string | undefined {
    const qos = (first >> 1) & 3;
    if (qos === 3) return "PUBLISH with QoS 3 [MQTT-3.3.1-4]";
    if (end - start < 2) return "malformed PUBLISH";
    const topicEnd = start + 2 + ((bytes[start]! << 8) | bytes[start + 1]!);
    const payloadStart = topicEnd + (qos === 0 ? 0 : 2);
    if (payloadStart > end || topicEnd === start + 2) return "malformed PUBLISH";
    const valid = validateTopicName(bytes, start + 2, topicEnd);
    if (valid !== UTF8_OK) return "PUBLISH topic is not a valid topic name [MQTT-3.3.2-1] [MQTT-3.3.2-2]";
    const id = qos === 0 ? 0 : (bytes[topicEnd]! << 8) | bytes[topicEnd + 1]!;
    if (qos !== 0 && id === 0) return "PUBLISH with packet id 0 [MQTT-2.3.1-1]";
    if (qos === 2) {
      const incoming = (this.incoming ??= new Set());
      if (incoming.has(id)) {
        // Already delivered: the broker re-sent it before our PUBREC reached it.
        this.sendOrWait(CONTROL * (PUBREC >> 4) + id);
        return undefined;
      }
      if (incoming.size >= this.setting(MAX_INCOMING_QOS2)) return `more than maxIncomingQos2 (${this.setting(MAX_INCOMING_QOS2)}) QoS 2 messages unreleased`;
    }
    const onMessage = this.onMessage;
    if (onMessage !== undefined) {
      const topic = this.platform.decode?.(bytes, start + 2, topicEnd) ?? decodeUtf8(bytes, start + 2, topicEnd);
      const body = (bytes.buffer as ArrayBuffer).slice(bytes.byteOffset + payloadStart, bytes.byteOffset + end);
      try {
        onMessage.call(this, topic, body);
      } catch {
        // The application's error is its own: the message counts as handled, as on Moddable's client.
      }
      if (this.state !== CONNECTED) return undefined;
    }
    // Acknowledged once the application has had it, so nothing is acknowledged that was not handled.
    if (qos === 1) this.sendOrWait(CONTROL * (PUBACK >> 4) + id);
    else if (qos === 2) {
      this.incoming!.add(id);
      this.sendOrWait(CONTROL * (PUBREC >> 4) + id);
    }
    return undefined;
  }

  /** The start of a PUBLISH larger than maxPacketSize, at head[at...]: acknowledged as its QoS requires, not delivered. */
  private oversized(head: Uint8Array, at: number): string | undefined {
    const first = head[at]!;
    if (first >> 4 !== 3) return `a packet of type ${first >> 4} larger than maxPacketSize`;
    const qos = (first >> 1) & 3;
    if (qos === 0) return undefined;
    const start = at + 1 + varintBytes(head, at + 1);
    const topicEnd = start + 2 + ((head[start]! << 8) | head[start + 1]!);
    if (topicEnd + 2 > head.length) return "a PUBLISH whose topic is longer than maxPacketSize";
    const id = (head[topicEnd]! << 8) | head[topicEnd + 1]!;
    if (qos === 1) this.sendOrWait(CONTROL * (PUBACK >> 4) + id);
    else {
      // Recorded as delivered, so its PUBREL completes the flow and a re-sent copy is not taken for new.
      (this.incoming ??= new Set()).add(id);
      this.sendOrWait(CONTROL * (PUBREC >> 4) + id);
    }
    return undefined;
  }

  // ---- the connection -----------------------------------------------------------------------------

  private open(): void {
    this.state = CONNECTING;
    this.gathered = 0;
    this.timer = this.platform.setTimer(this, CONNACK_TIMEOUT_MS, false);
    try {
      this.socket = this.platform.connect(this.host, this.port, this);
    } catch (e) {
      this.socket = undefined;
      this.fail(`cannot connect to ${this.host}:${this.port}: ${(e as Error).message}`);
    }
  }

  private connected(sessionPresent: boolean): void {
    this.state = CONNECTED;
    this.reconnectDelay = 0;
    this.activity = 0;
    this.platform.clearTimer(this.timer);
    this.timer = undefined;
    if (!sessionPresent) this.incoming?.clear();
    const keepAlive = this.setting(KEEPALIVE);
    if (keepAlive > 0) this.timer = this.platform.setTimer(this, keepAlive / 2, true);
    // Every unfinished flow again, in order [MQTT-4.4.0-1]: PUBLISH with DUP, or the PUBREL owed. A broker
    // that lost the session lost a PUBLISH it had PUBREC'd with it: that one is sent again as a PUBLISH.
    const inflight = this.inflight;
    if (inflight !== undefined) {
      for (const [key, packet] of inflight) {
        packet[0] = packet[0]! | 8;
        if (key < 0 && !sessionPresent) {
          inflight.delete(key);
          inflight.set(-key, packet);
        }
      }
      for (const key of inflight.keys()) {
        if (this.state !== CONNECTED) return;
        this.sendOrWait(key);
      }
    }
    this.call(this.onReady, 0, 0);
  }

  /**
   * Every keepAlive / 2 ms while connected. A PINGREQ when nothing was sent since the last tick, so the broker
   * never waits longer than the keepalive for a packet [MQTT-3.1.2-23]; the link is dropped after three
   * ticks (1.5 times the keepalive) with nothing received, PINGRESPs included, as Moddable's client does.
   */
  private tick(): void {
    const activity = this.activity;
    const silentTicks = (activity & RECEIVED) !== 0 ? 0 : (activity >> 2) + 1;
    if (silentTicks >= 3) {
      this.fail(`nothing from the broker for 1.5 times the keepalive of ${this.setting(KEEPALIVE) / 1000} s`);
      return;
    }
    this.activity = silentTicks << 2;
    if ((activity & SENT) === 0) this.sendOrWait(CONTROL * (PINGREQ >> 4));
  }

  /** The link failed or was refused: onClose, then a reconnect when asked for. */
  private fail(reason: string): void {
    if (this.state !== CONNECTING && this.state !== CONNECTED) return;
    this.drop();
    this.state = CLOSED;
    this.call(this.onClose, reason, 0);
    const min = this.setting(RECONNECT_MIN);
    if (this.state !== CLOSED || min === 0) return;
    const delay = this.reconnectDelay = Math.min(this.setting(RECONNECT_MAX), this.reconnectDelay === 0 ? min : this.reconnectDelay * 2);
    this.timer = this.platform.setTimer(this, delay, false);
  }

  private drop(): void {
    if (this.timer !== undefined) this.platform.clearTimer(this.timer);
    this.timer = undefined;
    this.waiting = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined) return;
    try {
      socket.close();
    } catch {
      // Moddable's socket may throw when the network is already gone: it is closed either way.
    }
  }

  // ---- sending ------------------------------------------------------------------------------------

  /** Writes the whole packet when the socket has room for it; false (nothing written) when not. */
  private send(packet: Uint8Array): boolean {
    const socket = this.socket;
    if (socket === undefined) return false;
    try {
      if ((socket.write() as number) < packet.length) return false;
      socket.write(packet);
    } catch (e) {
      this.fail(`write failed: ${(e as Error).message}`);
      return false;
    }
    this.activity |= SENT;
    return true;
  }

  /** An in-flight packet (by key) or an acknowledgement, sent now or after what already waits for room. */
  private sendOrWait(entry: number): void {
    if (this.state !== CONNECTED && this.state !== CONNECTING) return;
    const waiting = this.waiting;
    if (waiting === undefined) {
      const packet = entry >= CONTROL ? ack(entry >> 16, entry & 0xffff) : this.inflightPacket(entry);
      if (packet === undefined || this.send(packet) || this.state !== CONNECTED) return;
      this.waiting = [entry];
    } else if (waiting.length >= MAX_WAITING) {
      this.fail(`the socket took nothing while ${MAX_WAITING} packets waited`);
    } else {
      waiting.push(entry);
    }
  }

  private inflightPacket(key: number): Uint8Array | undefined {
    const packet = this.inflight?.get(key);
    // A PUBREL owed: four bytes, made when sent.
    return key < 0 && packet !== undefined ? ack(PUBREL >> 4, -key) : packet;
  }

  /** PUBACK (key id) or PUBCOMP (key -id): the flow is done. */
  private finished(key: number): void {
    const inflight = this.inflight;
    const packet = inflight?.get(key);
    // A PUBACK for a QoS 2 publish is not its end: only PUBCOMP is.
    if (packet === undefined || (key > 0 && ((packet[0]! >> 1) & 3) !== 1)) return;
    inflight!.delete(key);
    this.call(this.onPublished, key < 0 ? -key : key, 0);
  }

  /** SUBSCRIBE (qos >= 0) or UNSUBSCRIBE (qos -1) of one filter, checked as 3.1.1 wants it. */
  private sendRequest(type: number, filter: string, qos: number): number {
    const problem = topicFilterProblem(filter, 4);
    if (problem !== undefined) throw new RangeError(problem);
    if (this.state !== CONNECTED) throw new Error("not connected");
    const bytes = encodeUtf8(filter, "topic filter", this.platform);
    const rest = 2 + 2 + bytes.length + (qos >= 0 ? 1 : 0);
    const packet = new Uint8Array(headerLength(rest) + rest);
    let at = writeHeader(packet, type, rest);
    const id = this.nextId();
    packet[at++] = id >> 8;
    packet[at++] = id & 0xff;
    at = writeField(packet, at, bytes);
    if (qos >= 0) packet[at] = qos;
    if (!this.send(packet)) throw new Error("no room in the socket: try again once a message or acknowledgement has gone out");
    return id;
  }

  /** The next free packet id, 1 to 65535, none of the in-flight ones. */
  private nextId(): number {
    const inflight = this.inflight;
    let id = this.lastId;
    do id = id === 65535 ? 1 : id + 1;
    while (inflight !== undefined && (inflight.has(id) || inflight.has(-id)));
    this.lastId = id;
    return id;
  }

  // ---- encoding -----------------------------------------------------------------------------------

  private keepTopic(topic: string): void {
    const problem = topicNameProblem(topic);
    if (problem !== undefined) throw new RangeError(problem);
    const bytes = encodeUtf8(topic, "topic", this.platform);
    const field = new Uint8Array(2 + bytes.length);
    writeField(field, 0, bytes);
    this.topic = topic;
    this.topicField = field;
  }

  /** Calls the application's callback; what it throws stays with it (the client goes on). */
  private call(callback: ((a: never, b: never) => void) | undefined, a: unknown, b: unknown): void {
    if (callback === undefined) return;
    try {
      (callback as (a: unknown, b: unknown) => void).call(this, a, b);
    } catch {
      // As Moddable's client: a throwing callback does not take the connection down.
    }
  }
}

/** s as UTF-8, checked as MQTT wants its strings (stringProblem). */
function encodeString(s: string, what: string, platform: LitePlatform): Uint8Array {
  if (typeof s !== "string") throw new TypeError(`the ${what} must be a string`);
  const problem = stringProblem(s, what);
  if (problem !== undefined) throw new RangeError(problem);
  return encodeUtf8(s, what, platform);
}

/**
 * s as UTF-8: the platform's native conversion, or the portable one, which refuses a lone UTF-16 surrogate
 * (callers that check their strings first never meet that refusal).
 */
function encodeUtf8(s: string, what: string, platform: LitePlatform): Uint8Array {
  const encode = platform.encode;
  if (encode !== undefined) return encode(s);
  const n = utf8Length(s);
  if (n < 0) throw new RangeError(`the ${what} contains a lone UTF-16 surrogate`);
  const bytes = new Uint8Array(n);
  writeUtf8(s, bytes, 0);
  return bytes;
}

function toBytes(data: string | ArrayBuffer | Uint8Array, what: string, platform: LitePlatform): Uint8Array {
  if (typeof data === "string") return encodeUtf8(data, what, platform);
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError(`the ${what} must be a string, an ArrayBuffer or a Uint8Array`);
}

/** The CONNECT packet of these options (MQTT 3.1.1). */
function encodeConnect(options: LiteOptions, keepAliveSeconds: number, clean: boolean, platform: LitePlatform): Uint8Array {
  const id = encodeString(options.id ?? "", "id", platform);
  const will = options.will;
  let willTopic: Uint8Array = EMPTY;
  let willMessage: Uint8Array = EMPTY;
  let flags = clean ? 0x02 : 0;
  if (id.length === 0 && !clean) throw new RangeError("an empty id needs a clean session [MQTT-3.1.3-7]");
  if (will !== undefined && will !== null) {
    const problem = topicNameProblem(will.topic);
    if (problem !== undefined) throw new RangeError(`will: ${problem}`);
    const qos = will.quality ?? 0;
    if (qos !== 0 && qos !== 1 && qos !== 2) throw new RangeError(`will.quality must be 0, 1 or 2, not ${String(qos)}`);
    willTopic = encodeUtf8(will.topic, "will topic", platform);
    willMessage = toBytes(will.message ?? "", "will message", platform);
    if (willMessage.length > 65535) throw new RangeError("the will message is longer than 65535 bytes");
    flags |= 0x04 | (qos << 3) | (will.retain === true ? 0x20 : 0);
  }
  const user = options.user === undefined ? undefined : encodeString(options.user, "user", platform);
  const password = options.password === undefined ? undefined : toBytes(options.password, "password", platform);
  if (password !== undefined && user === undefined) throw new RangeError("a password needs a user in MQTT 3.1.1 [MQTT-3.1.2-22]");
  if (password !== undefined && password.length > 65535) throw new RangeError("the password is longer than 65535 bytes");
  if (user !== undefined) flags |= 0x80;
  if (password !== undefined) flags |= 0x40;
  const rest = 10 + 2 + id.length + (flags & 0x04 ? 4 + willTopic.length + willMessage.length : 0) +
    (user === undefined ? 0 : 2 + user.length) + (password === undefined ? 0 : 2 + password.length);
  const packet = new Uint8Array(headerLength(rest) + rest);
  let at = writeHeader(packet, 0x10, rest);
  packet.set(PROTOCOL, at);
  at += PROTOCOL.length;
  packet[at++] = flags;
  packet[at++] = keepAliveSeconds >> 8;
  packet[at++] = keepAliveSeconds & 0xff;
  at = writeField(packet, at, id);
  if (flags & 0x04) at = writeField(packet, writeField(packet, at, willTopic), willMessage);
  if (user !== undefined) at = writeField(packet, at, user);
  if (password !== undefined) writeField(packet, at, password);
  return packet;
}

/** "MQTT", protocol level 4 (3.1.1). */
const PROTOCOL = Object.freeze([0, 4, 0x4d, 0x51, 0x54, 0x54, 4]) as readonly number[];

/** The largest remaining length MQTT can express (four bytes of it). */
const MAX_REMAINING_LENGTH = 268_435_455;

const INCOMPLETE = -1;
const MALFORMED = -2;

/** The whole size of the packet at bytes[at, end), INCOMPLETE when its header is not all there, or MALFORMED. */
function packetSize(bytes: Uint8Array, at: number, end: number): number {
  let remaining = 0;
  for (let i = 1; i <= 4; i++) {
    if (at + i >= end) return INCOMPLETE;
    const b = bytes[at + i]!;
    remaining += (b & 0x7f) * 128 ** (i - 1);
    if ((b & 0x80) === 0) return 1 + i + remaining;
  }
  return MALFORMED;
}

/** How many bytes the remaining length at bytes[at] takes. */
function varintBytes(bytes: Uint8Array, at: number): number {
  let n = 1;
  while ((bytes[at + n - 1]! & 0x80) !== 0) n++;
  return n;
}

/** The bytes of a packet's fixed header (its first byte and the remaining length) for this remaining length. */
function headerLength(rest: number): number {
  return rest < 128 ? 2 : rest < 16384 ? 3 : rest < 2097152 ? 4 : 5;
}

/** Writes the fixed header at packet[0]; returns the offset after it. */
function writeHeader(packet: Uint8Array, first: number, rest: number): number {
  packet[0] = first;
  // A sensor's packets are short: one byte of length, without the loop.
  if (rest < 128) {
    packet[1] = rest;
    return 2;
  }
  let at = 1;
  do {
    const b = rest & 0x7f;
    rest >>>= 7;
    packet[at++] = rest > 0 ? b | 0x80 : b;
  } while (rest > 0);
  return at;
}

/** bytes with their two-byte length before them, at packet[at]; returns the offset after. */
function writeField(packet: Uint8Array, at: number, bytes: Uint8Array): number {
  packet[at] = bytes.length >> 8;
  packet[at + 1] = bytes.length & 0xff;
  packet.set(bytes, at + 2);
  return at + 2 + bytes.length;
}

/** A four-byte acknowledgement (PUBACK, PUBREC, PUBREL, PUBCOMP) or PINGREQ (two bytes) by its type. */
function ack(type: number, id: number): Uint8Array {
  if (type === PINGREQ >> 4) return Uint8Array.of(PINGREQ, 0);
  return Uint8Array.of(type === PUBREL >> 4 ? PUBREL : type << 4, 2, id >> 8, id & 0xff);
}

/** An option that must be an integer in [min, max], or a RangeError naming it. */
function integer(value: unknown, min: number, max: number, name: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, not ${String(value)}`);
  }
  return value;
}

/** The CONNACK return codes of MQTT 3.1.1 (section 3.2.2.3), as text. */
function refusal(code: number): string {
  return code === 1 ? "unacceptable protocol version" : code === 2 ? "identifier rejected" : code === 3 ? "server unavailable"
    : code === 4 ? "bad user name or password" : code === 5 ? "not authorised" : `return code ${code}`;
}
