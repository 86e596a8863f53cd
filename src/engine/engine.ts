/**
 * The protocol engine: MQTT's client side as a state machine with no sockets, timers or clock.
 *
 * Theory of operation. The connection driver (src/connection/driver.ts) is its only caller. It opens a
 * link and calls begin(connect, now); from then on it feeds received bytes to receive(), calls poll()
 * until it returns null and hands each event to the facade, writes whatever the output holds to the link
 * (consumed() says how much it took), and calls tick(now) at nextDeadline(). When the link goes away it
 * calls lost(); a later begin() resumes every unfinished QoS 1/2 flow in its original order.
 *
 * The contract: the engine has no clock. Every call that can send or time something takes `now`, the
 * host's milliseconds (poll() works in the time of the receive() that fed its bytes). Its settings are
 * one readonly EngineOptions object, given at construction and replaced whole by configure() (at a
 * reconnect, or when the application changes a setting). publish(), subscribe() and unsubscribe() return
 * a RequestResult. Flow states change only through the Outbox's own methods.
 *
 * Large messages. The output is a ring of outputBytes (src/buffers/output-ring.ts) holding whole packets; a
 * PUBLISH larger than it goes out through it as through a window: its header in the ring, then its payload
 * spliced in by reference and handed out in pieces of at most outputBytes as the link takes them. QoS 1/2
 * records of such a message keep the header in the store and the payload by reference (see Outbox), so the
 * publisher's array is held until the flow completes and a resend sends it whole.
 *
 * States: IDLE (no link) -> CONNACK_WAIT (CONNECT written) -> CONNECTED -> CLOSING (DISCONNECT written, or
 * the link is to be dropped) -> IDLE via lost(). This file owns every transition.
 *
 * User code never runs inside the decoder: poll() returns an event after the decoder has returned a
 * packet, and the acknowledgement of a delivered message is written at the start of the next poll(),
 * after the user's callback ran, as Paho does. The only error that leaves the engine is the caller's
 * own misuse (RangeError/TypeError from publish arguments); protocol violations by the peer become a
 * "closed" event carrying the v5 reason code.
 */
import { MQTT_ERR_CONN_LOST, MQTT_ERR_INVAL, MQTT_ERR_KEEPALIVE, MQTT_ERR_NO_CONN, MQTT_ERR_NOT_SUPPORTED, MQTT_ERR_PAYLOAD_SIZE, MQTT_ERR_PROTOCOL, MQTT_ERR_QUEUE_SIZE, MQTT_ERR_SUCCESS, MQTT_ERR_UNKNOWN, MQTT_LOG_DEBUG, MQTT_LOG_ERR, MQTT_LOG_WARNING } from "../paho/constants.js";
import { Arena } from "../buffers/arena.js";
import { ByteRing, RING_FULL } from "../buffers/byte-ring.js";
import { OutputRing } from "../buffers/output-ring.js";
import { NO_PACKET_ID } from "../buffers/packet-id-table.js";
import { AUTH, CONNACK, CONNECT, DISCONNECT, PINGREQ, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE, PACKET_NAMES, type ProtocolVersion } from "../codec/constants.js";
import { Decoder, type DecodedPacket } from "../codec/decoder.js";
import { Encoder } from "../codec/encoder.js";
import { MQTT5_NOT_BUILT } from "../codec/property-codec.js";
import { copyBytes } from "../codec/write.js";
import { MqttProtocolError, PROTOCOL_ERROR } from "../codec/errors.js";
import type { AckView } from "../codec/packets/ack.js";
import type { PublishView } from "../codec/packets/publish-packet.js";
import type { ConnackPacket, ConnectPacket, Packet, PublishPacket, QoS, SubackPacket, Subscription, UnsubackPacket } from "../codec/packet-types.js";
import type { Properties } from "../codec/properties.js";
import type { SessionStore, StoredSession } from "../session/store.js";
import type { Budget } from "./budget.js";
import type { TopicAliases } from "./topic-aliases.js";
import type { Mqtt5Support } from "./mqtt5.js";
// Types only: the module is the MQTT 5 part's, which a 3.1.1-only build does not load.
import type { CONTINUE_AUTHENTICATION, REAUTHENTICATE } from "./enhanced-auth.js";
import { FREE, Outbox, QUEUED, WAIT_PUBACK, WAIT_PUBCOMP, WAIT_PUBREC, WAIT_SUBACK, WAIT_UNSUBACK } from "./outbox.js";
import { Qos0Repeat } from "./qos0-repeat.js";
import { IncomingQos2 } from "./incoming-qos2.js";

export const IDLE = 0;
export const CONNACK_WAIT = 1;
export const CONNECTED = 2;
export const CLOSING = 3;

/** v5 reason codes the engine itself sends. */
const RECEIVE_MAXIMUM_EXCEEDED = 0x93;
const TOPIC_ALIAS_INVALID = 0x94;
const PACKET_ID_NOT_FOUND = 0x92;
const UNSPECIFIED_ERROR = 0x80;
const PACKET_TOO_LARGE_REASON = 0x95;

/** An empty payload shared by every engine: a typed array costs some 180 bytes of heap, even an empty one. */
const NO_BYTES = new Uint8Array(0);

/** What the encoder is left holding after a control packet is written (see writePacket()). */
const FORGET: Packet = Object.freeze({ type: PINGREQ });

/** Room kept free in the output ring before reading another packet, so an acknowledgement always fits. */
const CONTROL_RESERVE = 16;

export interface ConnectedEvent { type: "connected"; sessionPresent: boolean; reasonCode: number; properties: Properties | undefined }
export interface RefusedEvent { type: "refused"; reasonCode: number; properties: Properties | undefined }
/** `message` is the decoder's reused view: valid until the next poll(). */
export interface MessageEvent { type: "message"; message: PublishView }
/** A QoS 1/2 publish's flow ended: `qos` is the publish's (the ECMA-419 client reports PUBACK or PUBCOMP by it). */
export interface PublishedEvent { type: "published"; mid: number; qos: 1 | 2; reasonCode: number; properties: Properties | undefined }
export interface SubscribedEvent { type: "subscribed"; mid: number; reasonCodes: number[]; properties: Properties | undefined }
export interface UnsubscribedEvent { type: "unsubscribed"; mid: number; reasonCodes: number[]; properties: Properties | undefined }
/** The link must go: `rc` is the Paho error, `reasonCode` the v5 reason (the broker's, or the one we sent). */
export interface ClosedEvent {
  type: "closed";
  rc: number;
  reasonCode: number;
  properties: Properties | undefined;
  reason: string;
  /** The broker ended it with a DISCONNECT packet (MQTT 5). */
  fromServer: boolean;
}
/** MQTT 5 enhanced authentication: the broker's AUTH (0x18 continue, or 0x00 after a re-authentication). */
export interface AuthEvent { type: "auth"; reasonCode: number; properties: Properties | undefined }
export type EngineEvent = ConnectedEvent | RefusedEvent | MessageEvent | PublishedEvent | SubscribedEvent |
  UnsubscribedEvent | ClosedEvent | AuthEvent;

export type EngineLog = (level: number, message: string) => void;

/**
 * What publish(), subscribe() and unsubscribe() return: an MQTT_ERR_* code, and the message id (mid)
 * the request took (0 when none). publish() returns one object it reuses: read it before publishing again.
 */
export interface RequestResult { rc: number; mid: number }

/** The engine's settings, given whole at construction and to configure(). */
export interface EngineOptions {
  /** At most this many QoS 1/2 publishes in flight; 0 = no limit but the broker's Receive Maximum. */
  readonly maxInflight: number;
  /** At most this many QoS 1/2 publishes waiting to be sent; 0 = as many as the budget holds. */
  readonly maxQueued: number;
  /**
   * Re-send an unacknowledged flow after this many ms on 3.x; 0 = never, the default, since 3.1.1
   * requires re-sending only on reconnect and v5 forbids anything else [MQTT-4.4.0-1].
   */
  readonly retryMs: number;
  /** How long a DISCONNECT may take to drain before the link is dropped anyway. */
  readonly closeTimeoutMs: number;
  /** Incoming QoS 1/2 messages are acknowledged by ack(), not once delivered. */
  readonly manualAck: boolean;
  /** Where the session is persisted; undefined keeps it in the engine's memory only. */
  readonly store: SessionStore | undefined;
  /**
   * When the broker has lost our session (CONNACK session present 0), re-send the QoS 1/2 publishes it
   * never acknowledged (true: nothing lost, a duplicate possible, as Paho does) or drop them, reporting
   * each as published with 0x80 (false: what the standard intends for a new session).
   */
  readonly resendOnSessionLoss: boolean;
  /** MQTT 5: give repeated QoS 0 topics an alias when the broker takes them (section 3.3.2.3.4). */
  readonly useTopicAliases: boolean;
}


export const ENGINE_DEFAULTS: EngineOptions = Object.freeze({
  maxInflight: 20, maxQueued: 0, retryMs: 0, closeTimeoutMs: 10_000, manualAck: false, store: undefined,
  resendOnSessionLoss: true, useTopicAliases: false,
});

export class Engine {
  state = IDLE;
  /** The protocol of the connection begin() started (the constructor's until then). */
  version: ProtocolVersion = 4;
  options: EngineOptions;
  private readonly log: EngineLog;
  /** The host's clock in milliseconds, as the caller last passed it. */
  private now = 0;
  /**
   * Messages too large for budget.maxPacketSize that an MQTT 3.x broker sent (it cannot know the limit):
   * each was read past, acknowledged as its QoS requires, logged at MQTT_LOG_ERR, and not delivered.
   */
  oversizedMessages = 0;

  readonly budget: Budget;
  private readonly decoder: Decoder;
  private readonly encoder: Encoder;
  /**
   * What publish() returns, overwritten by the next publish: the caller reads it before publishing again, so
   * no object is made per message. One per engine, made at run time: a module-level object would be mutable
   * preloaded state on Moddable, copied from flash to RAM.
   */
  private readonly publishResult: RequestResult = { rc: 0, mid: 0 };
  private readonly out: OutputRing;
  readonly outbox: Outbox;
  /** Incoming QoS 2 ids between delivery and PUBREL: what makes delivery exactly once. */
  private readonly incoming: IncomingQos2;
  /** How many filters each pending SUBSCRIBE/UNSUBSCRIBE carried, by id slot. */
  private readonly filterCount: Uint16Array;
  private readonly queue: EngineEvent[] = [];
  private readonly messageEvent: MessageEvent;
  private readonly publishedEvent: PublishedEvent = { type: "published", mid: 0, qos: 1, reasonCode: 0, properties: undefined };

  /** The last QoS 0 PUBLISH's header, made at the first QoS 0 publish: see repeatQos0(). */
  private qos0Repeat: Qos0Repeat | undefined = undefined;
  /** publish()'s packet, filled in for each publish. */
  private readonly publishScratch: PublishPacket = { type: PUBLISH, topic: "", payload: NO_BYTES, qos: 0, retain: false, dup: false, packetId: 0, properties: undefined };
  private readonly ackScratch = { type: PUBACK as typeof PUBACK | typeof PUBREC | typeof PUBREL | typeof PUBCOMP, packetId: 0, reasonCode: 0 };

  /** When disconnect() wrote DISCONNECT (-1: not disconnecting): the link gets closeTimeoutMs to drain. */
  private closingSince = -1;
  private cleanStartSent = false;
  /** The Authentication Method of this connection's CONNECT (MQTT 5), undefined without one. */
  private authMethod: string | undefined = undefined;
  /** This connection's CONNECT asked for Request Problem Information 0 (MQTT 5). */
  private problemInformationRefused = false;
  private lastSent = 0;
  private lastReceived = 0;
  /** When the link last took bytes of a large packet's payload: keepalive counts from it as from lastReceived. */
  private lastStreamed = -Infinity;
  private pingSentAt = -1;
  private effectiveKeepAlive = 0;
  private serverReceiveMaximum = 65535;
  /** What the broker's last CONNACK said it takes (MQTT 5); kept while offline for queued publishes. */
  private serverMaximumPacketSize = Infinity;
  private serverMaximumQos = 2;
  private serverRetainAvailable = true;
  /** MQTT 5 topic aliases, only when budget.maxTopicAliases > 0: see makeTopicAliases(). */
  private aliases: TopicAliases | undefined = undefined;
  /** The acknowledgement owed for the message last returned by poll(): type and id, 0 when none. */
  private owedAckType = 0;
  private owedAckId = 0;
  /**
   * The MQTT 5 part (./mqtt5.ts), undefined in a 3.1.1-only build. Declared last: XS looks an object's
   * properties up in order, and the hot paths read the fields above.
   */
  private readonly mqtt5: Mqtt5Support | undefined;

  /** `version`: the protocol the client speaks; a 3.x engine makes no topic alias tables unless begun with MQTT 5. */
  /**
   * `options`: clients with the default settings share ENGINE_DEFAULTS; `log`: where the engine's warnings
   * go (not a setting: the facade's logger); `mqtt5`: the MQTT 5 part (MQTT5 from ./mqtt5.ts), without which
   * the engine speaks MQTT 3.1 and 3.1.1 only (RangeError for version 5, here or in begin()).
   */
  constructor(budget: Budget, version: ProtocolVersion = 4, options: EngineOptions = ENGINE_DEFAULTS, log: EngineLog = () => {}, mqtt5?: Mqtt5Support) {
    if (version === 5 && mqtt5 === undefined) throw new RangeError(MQTT5_NOT_BUILT);
    this.mqtt5 = mqtt5;
    this.budget = budget;
    this.version = version;
    // A QoS 1/2 publish queued before the first begin() is stored encoded: at this version, not 3.1.1's.
    this.encoder = new Encoder(version, mqtt5?.properties);
    this.options = options;
    this.log = log;
    if (version === 5) this.makeTopicAliases();
    // Every buffer and table of the budget, carved out of one ArrayBuffer allocated here.
    const arena = new Arena(Engine.arenaBytes(budget));
    this.decoder = new Decoder({ maxPacketSize: budget.maxPacketSize, arena, properties: mqtt5?.properties });
    this.out = new OutputRing(budget.outputBytes, arena);
    this.outbox = new Outbox(budget.maxMessages, budget.storeBytes, arena);
    this.incoming = new IncomingQos2(budget.maxIncomingQos2, arena);
    this.filterCount = arena.u16(budget.maxMessages);
    this.messageEvent = { type: "message", message: this.decoder.publish };
    if (arena.remaining !== 0) throw new Error(`Engine.arenaBytes() is ${arena.remaining} bytes off`);
  }

  /** The bytes of the one ArrayBuffer the constructor carves every buffer and table of the budget from. */
  static arenaBytes(b: Budget): number {
    return Arena.span(b.maxPacketSize, 1) + ByteRing.bytesFor(b.outputBytes) + Outbox.bytesFor(b.maxMessages, b.storeBytes) +
      IncomingQos2.bytesFor(b.maxIncomingQos2) + Arena.span(b.maxMessages, 2);
  }

  /** New settings, from now on (the facades pass them at a reconnect and when a setting changes). */
  configure(options: EngineOptions): void {
    this.options = options;
  }

  /** The topic alias tables, made once, for MQTT 5 and only when the budget allows aliases. */
  private makeTopicAliases(): void {
    if (this.aliases !== undefined || this.budget.maxTopicAliases === 0) return;
    this.aliases = this.mqtt5!.topicAliases(this.budget.maxTopicAliases);
  }

  // ---- the link -------------------------------------------------------------------------------

  /** The link is open: writes CONNECT. Unfinished flows will be resumed once CONNACK arrives. */
  begin(connect: ConnectPacket, now: number): void {
    // The client's rule, not the codec's: a broker decodes such a CONNECT and refuses it with CONNACK 0x02.
    if (connect.protocolVersion !== 5 && connect.clientId === "" && !connect.cleanStart) {
      throw new RangeError("MQTT 3.x: a zero-byte client id needs clean session [MQTT-3.1.3-7]");
    }
    if (connect.protocolVersion === 5 && this.mqtt5 === undefined) throw new RangeError(MQTT5_NOT_BUILT);
    this.now = now;
    this.version = connect.protocolVersion;
    this.encoder.version = this.version;
    this.decoder.reset(this.version);
    // The Maximum Packet Size CONNECT advertises is the limit on this connection, even below the budget.
    this.decoder.limitPacketSize(this.version === 5 ? connect.properties?.maximumPacketSize ?? Infinity : Infinity);
    // 3.x cannot tell the broker the limit, so a larger message is read past rather than refused: refusing
    // would drop the link, and the broker would send it again on every reconnect.
    this.decoder.skipOversized = this.version !== 5;
    this.out.clear();
    this.queue.length = 0;
    this.owedAckType = 0;
    this.outbox.rewind();
    this.pingSentAt = -1;
    this.lastReceived = now;
    this.lastStreamed = -Infinity;
    this.serverReceiveMaximum = 65535;
    if (this.version === 5) this.makeTopicAliases();
    this.aliases?.newConnection();
    this.effectiveKeepAlive = connect.keepAlive;
    this.cleanStartSent = connect.cleanStart;
    this.closingSince = -1;
    // MQTT 5 only, so that sendAuth() finds the MQTT 5 part whenever there is a method.
    this.authMethod = connect.protocolVersion === 5 ? connect.properties?.authenticationMethod : undefined;
    this.problemInformationRefused = connect.properties?.requestProblemInformation === 0;
    this.state = CONNACK_WAIT;
    if (!this.writePacket(connect)) {
      throw new RangeError(`the CONNECT packet (${this.encoder.length} bytes) is larger than budget.outputBytes`);
    }
  }

  /**
   * Takes back a session saved by a store: its publishes resume (re-sent with DUP, or PUBREL for those
   * past PUBREC) once connected, and its incoming QoS 2 ids are not delivered again. Call before begin().
   */
  restore(session: StoredSession): void {
    if (session.outgoing.length > 0 && session.version !== undefined && session.version !== this.version) {
      throw new RangeError(`the stored session's messages were encoded for protocol level ${session.version}, not ${this.version}: connect with the same protocol to resume it`);
    }
    for (const p of session.outgoing) {
      if (!this.outbox.restore(p.id, p.packet, p.released, Math.min(this.out.capacity, this.outbox.store.capacity))) {
        throw new RangeError(`the stored session does not fit the budget (storeBytes ${this.outbox.store.capacity}, maxMessages ${this.outbox.capacity}) at mid ${p.id}`);
      }
    }
    // Ids past budget.maxIncomingQos2 (a 3.x broker sent more) are held in the overflow set, as before the restart.
    for (const id of session.incoming) {
      if (!this.incoming.has(id)) this.incoming.hold(id, true, true);
      else this.incoming.acknowledge(id);
    }
  }

  /** The link is gone (closed by either side, or failed). */
  lost(): void {
    this.state = IDLE;
    this.out.clear();
    this.queue.length = 0;
    this.owedAckType = 0;
    this.pingSentAt = -1;
    this.outbox.dropControlIds((id) => this.log(MQTT_LOG_WARNING, `the acknowledgement of (un)subscribe mid ${id} was lost with the connection`));
  }

  /** Feeds received bytes; ignored once the connection is closing, as nothing more will be processed. */
  receive(chunk: Uint8Array, now: number): void {
    this.now = now;
    if (this.state === IDLE || this.state === CLOSING) return;
    this.decoder.feed(chunk);
  }

  /** True while the last chunk still holds unread bytes (poll() stopped for the output to drain). */
  get hasInput(): boolean {
    return this.decoder.hasInput;
  }

  /** Bytes of a packet cut by the end of the last chunk, held in the receive buffer. */
  get bufferedInput(): number {
    return this.decoder.buffered;
  }

  // ---- output ---------------------------------------------------------------------------------

  /** The length of the next contiguous bytes to write, at outputOffset() in outputBuffer; 0 when none. */
  outputLength(): number {
    return this.out.readable();
  }

  outputOffset(): number {
    return this.out.readOffset;
  }

  /** The output ring's bytes, or while a large packet goes out, the array its payload lies in. */
  get outputBuffer(): Uint8Array {
    return this.out.buffer;
  }

  /** The transport took n bytes from the front of the output at `now` (room for more flows to go out). */
  consumed(n: number, now: number): void {
    this.now = now;
    // A large packet going out is the link at work: the broker cannot answer a PINGREQ queued behind it.
    if (this.out.streaming) this.lastStreamed = now;
    this.out.consume(n);
    this.pump();
  }

  get wantsWrite(): boolean {
    return this.out.length > 0;
  }

  // ---- events ---------------------------------------------------------------------------------

  /** The next event, or null when the fed bytes are used up (or the output must drain first). */
  poll(): EngineEvent | null {
    try {
      return this.nextEvent();
    } catch (e) {
      // The decoder's errors are handled inside; what else throws here is the session store (a disk that is
      // full, a flash write that failed): a transient error while processing an inbound packet, which ends
      // the connection [MQTT-4.8.0-2] rather than escape into the host's event loop. An acknowledgement
      // owed for the packet is not sent: payOwedAck() drops it once the engine is closing.
      this.transientError(e);
      return this.nextEvent();
    }
  }

  private nextEvent(): EngineEvent | null {
    for (;;) {
      // Owed for the last message, once the application had it (or at once for one never delivered).
      if (this.owedAckType !== 0 && !this.payOwedAck()) return null;
      if (this.queue.length !== 0) return this.queue.shift()!;
      if (this.state === IDLE || this.state === CLOSING) return null;
      // Each packet read may owe one acknowledgement: read only while one surely fits.
      if (this.out.reserve(CONTROL_RESERVE) === RING_FULL) return null;
      let packet: DecodedPacket | null;
      try {
        packet = this.decoder.next();
      } catch (e) {
        if (!(e instanceof MqttProtocolError)) throw e;
        this.fail(e.reasonCode, e.message);
        continue;
      }
      if (packet === null) return null;
      this.lastReceived = this.now;
      const event = this.handle(packet);
      if (event !== null) return event;
    }
  }

  /**
   * Timers: keepalive, the DISCONNECT drain, 3.x retry. Then read nextDeadline() for the next call. The
   * wait for CONNACK is the supervisor's (src/connection/supervisor.ts): what a timeout means is its call.
   */
  tick(now: number): void {
    this.now = now;
    if (this.state === CLOSING && this.closingSince >= 0 && now - this.closingSince >= this.options.closeTimeoutMs) {
      this.closingSince = -1;
      // Our DISCONNECT could not drain: the link is stuck, drop it; the disconnection itself succeeded.
      this.queue.push({ type: "closed", rc: MQTT_ERR_SUCCESS, reasonCode: 0, properties: undefined, reason: "DISCONNECT did not drain; link dropped", fromServer: false });
      return;
    }
    if (this.state !== CONNECTED) return;
    const ka = this.effectiveKeepAlive * 1000;
    if (ka > 0) {
      const heard = Math.max(this.lastReceived, this.lastStreamed);
      if (now - heard >= ka * 1.5) {
        this.close(MQTT_ERR_KEEPALIVE, 0, `nothing received for ${Math.round((now - this.lastReceived) / 1000)} s (keepalive ${this.effectiveKeepAlive} s)`);
        return;
      }
      if (this.pingSentAt < 0 && (now - this.lastSent >= ka || now - this.lastReceived >= ka)) {
        // Counted as sent even when the output is full: then the link is not draining, and the
        // 1.5 x keepalive rule above will end it if nothing arrives.
        this.writePacket({ type: PINGREQ });
        this.pingSentAt = now;
      }
    }
    if (this.options.retryMs > 0 && this.version < 5) this.retryStale(now);
  }

  /** When tick() must next run, in the host's milliseconds; Infinity when nothing is timed. */
  nextDeadline(): number {
    if (this.state === CLOSING) return this.closingSince >= 0 ? this.closingSince + this.options.closeTimeoutMs : Infinity;
    if (this.state !== CONNECTED) return Infinity;
    let next = Infinity;
    const ka = this.effectiveKeepAlive * 1000;
    if (ka > 0) {
      next = Math.max(this.lastReceived, this.lastStreamed) + ka * 1.5;
      if (this.pingSentAt < 0) next = Math.min(next, this.lastSent + ka, this.lastReceived + ka);
    }
    if (this.options.retryMs > 0 && this.version < 5 && this.outbox.inflight > 0) {
      this.outbox.forEachPending((_id, slot) => {
        if (this.outbox.isSent(slot)) next = Math.min(next, this.outbox.sentAtOf(slot) + this.options.retryMs);
      });
    }
    return next;
  }

  // ---- commands -------------------------------------------------------------------------------

  /**
   * Queues a PUBLISH at `now`. QoS 0 goes straight to the output (MQTT_ERR_NO_CONN without a connection,
   * as in Paho); QoS 1/2 is kept in the outbox and sent as the in-flight window allows, across reconnects.
   * Arguments were checked by the caller; the codec's RangeError remains for what only it can see. The
   * result is the engine's one RequestResult, overwritten by the next publish.
   */
  publish(topic: string, payload: Uint8Array, qos: QoS, retain: boolean, properties: Properties | undefined, now: number): RequestResult {
    this.now = now;
    const result = this.publishResult;
    // The hot path first: a QoS 0 PUBLISH with the header of the last one (see Qos0Repeat).
    const repeat = this.qos0Repeat;
    if (qos === 0 && repeat !== undefined && properties === undefined && topic === repeat.topic &&
      payload.length === repeat.payloadLength && retain === repeat.retain && this.version === repeat.version &&
      !this.options.useTopicAliases && this.repeatQos0(repeat.header, payload, retain, result)) {
      return result;
    }
    result.mid = 0;
    result.rc = this.queuePublish(topic, payload, qos, retain, properties, result);
    return result;
  }

  /** publish()'s work: returns the MQTT_ERR_* code, the mid taken in result.mid. */
  private queuePublish(topic: string, payload: Uint8Array, qos: QoS, retain: boolean, properties: Properties | undefined, result: RequestResult): number {
    const useAliases = this.options.useTopicAliases;
    if (qos > this.serverMaximumQos || (retain && !this.serverRetainAvailable)) {
      this.log(MQTT_LOG_WARNING, `the broker takes ${retain && !this.serverRetainAvailable ? "no retained messages" : `QoS ${this.serverMaximumQos} at most`}: publish to ${topic} refused`);
      return MQTT_ERR_NOT_SUPPORTED;
    }
    // One packet object reused: nothing runs between filling it and writing it that could publish.
    const packet = this.publishScratch;
    packet.topic = topic;
    packet.payload = payload;
    packet.qos = qos;
    packet.retain = retain;
    packet.packetId = qos > 0 ? 1 : 0;
    packet.properties = properties;
    // Aliases belong to one connection, so only QoS 0 (never stored, never re-sent) uses them.
    let newAlias = 0;
    if (qos === 0 && this.state === CONNECTED && useAliases && properties?.topicAlias === undefined) {
      const alias = this.aliases?.aliasFor(topic) ?? 0;
      if (alias !== 0) {
        packet.properties = { ...properties, topicAlias: Math.abs(alias) };
        if (alias > 0) packet.topic = "";
        else newAlias = -alias;
      }
    }
    const length = this.encoder.measure(packet);
    if (length > this.serverMaximumPacketSize) {
      this.log(MQTT_LOG_WARNING, `a ${length}-byte PUBLISH is over the broker's Maximum Packet Size of ${this.serverMaximumPacketSize}`);
      return MQTT_ERR_PAYLOAD_SIZE;
    }
    if (qos === 0) {
      // From the same sequence as QoS 1/2 ids (skipped, not taken), so mids do not collide.
      result.mid = this.outbox.ids.skip();
      if (this.state !== CONNECTED) return MQTT_ERR_NO_CONN;
      if (length > this.budget.outputBytes) {
        const rc = this.writeLarge(payload);
        if (rc === MQTT_ERR_SUCCESS && newAlias !== 0) this.aliases?.remember(topic, newAlias);
        return rc;
      }
      const offset = this.out.reserve(length);
      if (offset === RING_FULL) return MQTT_ERR_QUEUE_SIZE;
      this.encoder.write(this.out.bytes, offset);
      if (packet.properties === undefined && !useAliases) {
        (this.qos0Repeat ??= new Qos0Repeat()).keep(topic, payload.length, retain, this.version, this.out.bytes, offset, this.encoder.headerLength);
      }
      this.out.commit(length);
      this.lastSent = this.now;
      if (newAlias !== 0) this.aliases?.remember(topic, newAlias);
      return MQTT_ERR_SUCCESS;
    }
    // A packet larger than the output is kept as its header, and its payload by reference (see Outbox).
    // (The budget's sizes are the output's and the store's capacities, read without a getter call.)
    const { outputBytes, storeBytes } = this.budget;
    const byReference = length > outputBytes || length > storeBytes;
    const kept = byReference ? this.encoder.headerLength : length;
    if (kept > outputBytes || kept > storeBytes) return this.tooLarge(length);
    const maxQueued = this.options.maxQueued;
    if (maxQueued > 0 && this.outbox.unsent >= maxQueued) return MQTT_ERR_QUEUE_SIZE;
    const id = this.outbox.open(kept);
    if (id === NO_PACKET_ID) return MQTT_ERR_QUEUE_SIZE;
    // The id's two bytes were measured as 1's: write() takes the id from the packet.
    packet.packetId = id;
    const at = this.outbox.writeOffset;
    if (byReference) this.encoder.writeHeader(this.outbox.store.bytes, at);
    else this.encoder.write(this.outbox.store.bytes, at);
    this.outbox.append(id, kept, byReference ? payload : undefined);
    this.options.store?.saveOutgoing(id, byReference ? this.outbox.packetOf(this.outbox.ids.slotOf(id)) : this.outbox.store.bytes.subarray(at, at + length));
    this.pump();
    result.mid = id;
    return MQTT_ERR_SUCCESS;
  }

  /**
   * A QoS 0 PUBLISH whose header the last one kept (see Qos0Repeat): the header is copied rather than the
   * packet measured and encoded again, or refused for a full output. False when the general path must
   * decide (an error to report).
   */
  private repeatQos0(header: Uint8Array, payload: Uint8Array, retain: boolean, result: RequestResult): boolean {
    const length = header.length + payload.length;
    if (this.state !== CONNECTED || length > this.serverMaximumPacketSize || (retain && !this.serverRetainAvailable)) return false;
    const offset = this.out.reserve(length);
    result.mid = this.outbox.ids.skip();
    // A full output: the general path would measure the same packet to the same refusal.
    result.rc = offset === RING_FULL ? MQTT_ERR_QUEUE_SIZE : MQTT_ERR_SUCCESS;
    if (offset === RING_FULL) return true;
    const bytes = this.out.bytes;
    copyBytes(bytes, copyBytes(bytes, offset, header), payload);
    this.out.commit(length);
    this.lastSent = this.now;
    return true;
  }

  subscribe(subscriptions: Subscription[], properties: Properties | undefined, now: number): RequestResult {
    this.now = now;
    return this.sendControl(SUBSCRIBE, subscriptions.length, (packetId) => ({ type: SUBSCRIBE, packetId, subscriptions, properties }));
  }

  unsubscribe(topicFilters: string[], properties: Properties | undefined, now: number): RequestResult {
    this.now = now;
    return this.sendControl(UNSUBSCRIBE, topicFilters.length, (packetId) => ({ type: UNSUBSCRIBE, packetId, topicFilters, properties }));
  }

  /** Writes DISCONNECT; the host closes the link once the output has drained. */
  disconnect(reasonCode: number, properties: Properties | undefined, now: number): number {
    this.now = now;
    if (this.state !== CONNECTED && this.state !== CONNACK_WAIT) return MQTT_ERR_NO_CONN;
    // Disconnecting from the callback of a QoS 1/2 message: its acknowledgement goes first, or the broker
    // would send the message again to a persistent session.
    if (this.owedAckType !== 0) this.payOwedAck();
    const packet = this.version === 5 ? { type: DISCONNECT as typeof DISCONNECT, reasonCode, properties } : { type: DISCONNECT as typeof DISCONNECT };
    if (properties !== undefined && this.encoder.measure(packet) > this.serverMaximumPacketSize) {
      // Reason String and User Property go only where they fit the broker's Maximum Packet Size [MQTT-3.14.2-3] [MQTT-3.14.2-4].
      const { reasonString: _r, userProperties: _u, ...rest } = properties;
      packet.properties = Object.keys(rest).length === 0 ? undefined : rest;
    }
    this.writePacket(packet);
    this.state = CLOSING;
    this.closingSince = this.now;
    return MQTT_ERR_SUCCESS;
  }

  /** Manual acknowledgement (manualAck): PUBACK for QoS 1, PUBREC for QoS 2. */
  ack(mid: number, qos: number, now: number): number {
    this.now = now;
    if (qos === 0) return MQTT_ERR_SUCCESS;
    if (qos === 2 && this.incoming.has(mid)) {
      this.incoming.acknowledge(mid);
      this.options.store?.saveIncoming(mid);
    }
    if (this.state !== CONNECTED) return MQTT_ERR_NO_CONN;
    return this.writeAck(qos === 1 ? PUBACK : PUBREC, mid, 0) ? MQTT_ERR_SUCCESS : MQTT_ERR_QUEUE_SIZE;
  }

  // ---- incoming packets -----------------------------------------------------------------------

  private handle(p: DecodedPacket): EngineEvent | null {
    if (this.state === CONNACK_WAIT && p.type !== CONNACK && p.type !== AUTH) {
      return this.fail(PROTOCOL_ERROR, `${PACKET_NAMES[p.type]} before CONNACK [MQTT-3.2.0-1]`);
    }
    if (this.problemInformationRefused && p.type !== PUBLISH && p.type !== CONNACK && p.type !== DISCONNECT && "properties" in p) {
      const props = p.properties;
      if (props !== undefined && (props.reasonString !== undefined || props.userProperties !== undefined)) {
        return this.fail(PROTOCOL_ERROR, `${PACKET_NAMES[p.type]} carries a Reason String or User Property after Request Problem Information 0 [MQTT-3.1.2-29]`);
      }
    }
    switch (p.type) {
      case CONNACK: return this.onConnack(p);
      case PUBLISH: return this.onPublish(p);
      case PUBACK: return this.onPuback(p);
      case PUBREC: return this.onPubrec(p);
      case PUBREL: return this.onPubrel(p);
      case PUBCOMP: return this.onPubcomp(p);
      case SUBACK: return this.onListAck(p, WAIT_SUBACK);
      case UNSUBACK: return this.onListAck(p, WAIT_UNSUBACK);
      case PINGRESP: this.pingSentAt = -1; return null;
      case DISCONNECT: {
        const code = p.reasonCode ?? 0;
        return this.close(MQTT_ERR_CONN_LOST, code, `the broker sent DISCONNECT (0x${code.toString(16)})`, p.properties, true);
      }
      case AUTH: return this.onAuth(p.reasonCode ?? 0, p.properties);
      default: return this.fail(PROTOCOL_ERROR, `a server never sends ${PACKET_NAMES[p.type]}`);
    }
  }

  /** The broker's AUTH: only on MQTT 5 (the decoder refuses it before), so the MQTT 5 part is here. */
  private onAuth(reasonCode: number, properties: Properties | undefined): EngineEvent | null {
    const problem = this.mqtt5!.auth.problem(this.authMethod, reasonCode, properties, this.state === CONNECTED);
    return problem === undefined ? { type: "auth", reasonCode, properties } : this.fail(PROTOCOL_ERROR, problem);
  }

  /** Answers the broker's challenge (0x18), or starts a re-authentication (0x19) when connected. */
  sendAuth(reasonCode: typeof CONTINUE_AUTHENTICATION | typeof REAUTHENTICATE, data: Uint8Array | undefined, now: number): number {
    this.now = now;
    // A re-authentication only once connected; an answer to a challenge also while CONNACK is awaited.
    if (this.state !== CONNECTED && (reasonCode === 0x19 || this.state !== CONNACK_WAIT)) return MQTT_ERR_NO_CONN;
    // An Authentication Method in CONNECT means MQTT 5, and so the MQTT 5 part.
    if (this.authMethod === undefined) return MQTT_ERR_INVAL;
    return this.writePacket(this.mqtt5!.auth.packet(this.authMethod, reasonCode, data)) ? MQTT_ERR_SUCCESS : MQTT_ERR_QUEUE_SIZE;
  }

  private onConnack(p: ConnackPacket): EngineEvent | null {
    if (this.state !== CONNACK_WAIT) return this.fail(PROTOCOL_ERROR, "a second CONNACK [MQTT-3.2.0-2]");
    if (p.reasonCode !== 0) {
      this.state = CLOSING;
      return { type: "refused", reasonCode: p.reasonCode, properties: p.properties };
    }
    if (p.sessionPresent && this.cleanStartSent) {
      return this.fail(PROTOCOL_ERROR, "CONNACK says a session is present after a clean start [MQTT-3.2.2-4]");
    }
    const props = p.properties;
    if (this.version === 5 && props?.authenticationMethod !== this.authMethod) {
      return this.fail(PROTOCOL_ERROR, this.authMethod === undefined ? "CONNACK names an Authentication Method that CONNECT did not [MQTT-4.12.0-6]"
        : "a successful CONNACK must name the CONNECT's Authentication Method [MQTT-4.12.0-5]");
    }
    this.state = CONNECTED;
    if (this.version === 5) {
      // Section 3.2.2.3: what the broker takes on this connection; absent means no limit.
      this.serverReceiveMaximum = props?.receiveMaximum ?? 65535;
      this.serverMaximumPacketSize = props?.maximumPacketSize ?? Infinity;
      this.serverMaximumQos = props?.maximumQos ?? 2;
      this.serverRetainAvailable = (props?.retainAvailable ?? 1) === 1;
      this.aliases?.reset(this.options.useTopicAliases ? props?.topicAliasMaximum ?? 0 : 0);
      if (props?.serverKeepAlive !== undefined) this.effectiveKeepAlive = props.serverKeepAlive;
    }
    // MQTT 3.1's CONNACK has no Session Present flag: the session is there unless we asked it gone.
    const sessionPresent = this.version === 3 ? !this.cleanStartSent : p.sessionPresent;
    if (!sessionPresent) this.sessionLost();
    this.pump();
    return { type: "connected", sessionPresent: p.sessionPresent, reasonCode: 0, properties: props };
  }

  /**
   * The broker has no session for us: no incoming QoS 2 is half done, and a QoS 2 publish that got its
   * PUBREC is the broker's now (it will be delivered), so its flow ends here. QoS 1/2 publishes not yet
   * acknowledged are sent again as Paho does (shared/API.md; the session-store issue makes it a choice).
   */
  private sessionLost(): void {
    const store = this.options.store;
    if (store !== undefined) this.incoming.forEachHeld((id) => store.removeIncoming(id));
    this.incoming.clear();
    const outbox = this.outbox;
    const finished: number[] = [];
    /** Discarded flows: their ids, each followed by its QoS. */
    const discarded: number[] = [];
    outbox.forEachPending((id, slot) => {
      const state = outbox.stateOf(slot);
      if (state === QUEUED) return;
      if (!this.options.resendOnSessionLoss) {
        // The broker took a message it PUBREC'd; the rest are dropped with the session, as asked.
        if (state === WAIT_PUBCOMP) finished.push(id);
        else discarded.push(id, state === WAIT_PUBACK ? 1 : 2);
      } else if (state === WAIT_PUBCOMP) {
        // A broker that forwards QoS 2 on PUBREL (as mosquitto does) lost this message with the
        // session: the whole flow starts again from PUBLISH.
        outbox.restartFromPublish(slot);
        this.options.store?.saveOutgoing(id, this.outbox.packetOf(slot));
      }
    });
    for (const id of finished) {
      this.completePublish(id);
      this.queue.push({ type: "published", mid: id, qos: 2, reasonCode: 0, properties: undefined });
    }
    for (let i = 0; i < discarded.length; i += 2) {
      const id = discarded[i]!;
      this.completePublish(id);
      this.log(MQTT_LOG_WARNING, `mid ${id} was sent to a session the broker no longer has: discarded, not re-sent`);
      this.queue.push({ type: "published", mid: id, qos: discarded[i + 1] as 1 | 2, reasonCode: UNSPECIFIED_ERROR, properties: undefined });
    }
  }

  /** Ends a publish flow, in the outbox and in the session store. */
  /** `slot`: id's slot in the outbox, when the caller has looked it up already. */
  private completePublish(id: number, slot?: number): void {
    this.outbox.complete(id, slot);
    this.options.store?.removeOutgoing(id);
  }

  private onPublish(p: PublishView): EngineEvent | null {
    if (p.topicAlias !== 0) {
      const alias = p.topicAlias;
      if (p.topicEnd > p.topicStart) {
        if (this.aliases?.set(alias, p.topic) !== true) {
          return this.fail(TOPIC_ALIAS_INVALID, `topic alias ${alias} is above our Topic Alias Maximum of ${this.budget.maxTopicAliases} [MQTT-3.3.2-9]`);
        }
      } else {
        const topic = this.aliases?.get(alias);
        if (topic === undefined) return this.fail(TOPIC_ALIAS_INVALID, `topic alias ${alias} was never set on this connection`);
        p.setTopic(topic);
      }
    }
    if (p.qos === 2) {
      const id = p.packetId;
      if (this.incoming.has(id)) {
        // A re-sent PUBLISH of a message we already delivered: acknowledge again (once the application
        // has, with manualAck), deliver nothing.
        if (!this.options.manualAck || this.incoming.isAcknowledged(id)) this.writeAck(PUBREC, id, 0);
        return null;
      }
      // A 3.x broker has no Receive Maximum to respect: past the table, ids go to the overflow set (see IncomingQos2).
      const madeBefore = this.incoming.hasOverflowSet;
      if (!this.incoming.hold(id, p.oversize > 0, this.version !== 5)) {
        return this.fail(RECEIVE_MAXIMUM_EXCEEDED, `more than ${this.incoming.capacity} QoS 2 messages in flight, our Receive Maximum`);
      }
      if (!madeBefore && this.incoming.hasOverflowSet) {
        this.log(MQTT_LOG_WARNING, `the broker has more than budget.maxIncomingQos2 (${this.incoming.capacity}) QoS 2 messages unreleased: ` +
          `ids past it are held in an 8 KiB set from now on (mid ${id})`);
      }
    }
    if (p.qos > 0 && (!this.options.manualAck || p.oversize > 0)) {
      this.owedAckType = p.qos === 1 ? PUBACK : PUBREC;
      this.owedAckId = p.packetId;
    }
    if (p.oversize > 0) {
      // Acknowledged (the broker stops resending it), never delivered: the application gets no message.
      this.oversizedMessages++;
      this.log(MQTT_LOG_ERR, `a ${p.oversize}-byte PUBLISH to ${p.topic} (QoS ${p.qos}, mid ${p.packetId}) is larger than ` +
        `budget.maxPacketSize ${this.budget.maxPacketSize}: read past, acknowledged, not delivered`);
      return null;
    }
    return this.messageEvent;
  }

  private payOwedAck(): boolean {
    if (this.state !== CONNECTED) {
      this.owedAckType = 0;
      return true;
    }
    // The id is stored before PUBREC tells the broker we have the message: after a restart, a re-sent
    // PUBLISH is then recognised and not delivered again.
    if (this.owedAckType === PUBREC && this.incoming.has(this.owedAckId)) this.options.store?.saveIncoming(this.owedAckId);
    if (!this.writeAck(this.owedAckType as typeof PUBACK, this.owedAckId, 0)) return false;
    this.owedAckType = 0;
    return true;
  }

  private onPuback(p: AckView): EngineEvent | null {
    const slot = this.expect(p.packetId, WAIT_PUBACK, "PUBACK");
    if (slot < 0) return null;
    this.completePublish(p.packetId, slot);
    this.pump();
    return this.published(p.packetId, 1, p.reasonCode, p);
  }

  private onPubrec(p: AckView): EngineEvent | null {
    const slot = this.outbox.ids.slotOf(p.packetId);
    const st = slot < 0 ? FREE : this.outbox.stateOf(slot);
    if (st === WAIT_PUBCOMP) {
      this.writeAck(PUBREL, p.packetId, 0);
      return null;
    }
    if (st !== WAIT_PUBREC) {
      this.log(MQTT_LOG_WARNING, `PUBREC for mid ${p.packetId}, which has no QoS 2 flow waiting for one`);
      if (this.version === 5) this.writeAck(PUBREL, p.packetId, PACKET_ID_NOT_FOUND);
      return null;
    }
    if (p.reasonCode >= 0x80) {
      // The broker refused the message (v5): the flow ends here [MQTT-4.3.3-4].
      this.completePublish(p.packetId);
      this.pump();
      return this.published(p.packetId, 2, p.reasonCode, p);
    }
    this.outbox.released(slot, this.now);
    this.options.store?.releaseOutgoing(p.packetId);
    this.writeAck(PUBREL, p.packetId, 0);
    return null;
  }

  private onPubrel(p: AckView): EngineEvent | null {
    const known = this.incoming.release(p.packetId);
    if (known) this.options.store?.removeIncoming(p.packetId);
    if (!known) this.log(MQTT_LOG_DEBUG, `PUBREL for mid ${p.packetId}, which is not in flight: answered with PUBCOMP`);
    this.writeAck(PUBCOMP, p.packetId, known || this.version < 5 ? 0 : PACKET_ID_NOT_FOUND);
    return null;
  }

  private onPubcomp(p: AckView): EngineEvent | null {
    const slot = this.expect(p.packetId, WAIT_PUBCOMP, "PUBCOMP");
    if (slot < 0) return null;
    this.completePublish(p.packetId, slot);
    this.pump();
    return this.published(p.packetId, 2, p.reasonCode, p);
  }

  private onListAck(p: SubackPacket | UnsubackPacket, waiting: number): EngineEvent | null {
    const name = waiting === WAIT_SUBACK ? "SUBACK" : "UNSUBACK";
    const slot = this.outbox.ids.slotOf(p.packetId);
    if (slot < 0 || this.outbox.stateOf(slot) !== waiting) {
      this.log(MQTT_LOG_WARNING, `${name} for mid ${p.packetId}, which was not sent`);
      return null;
    }
    const expected = this.filterCount[slot]!;
    const counted = waiting === WAIT_SUBACK || this.version === 5;
    if (counted && p.reasonCodes.length !== expected) {
      return this.fail(PROTOCOL_ERROR, `${name} has ${p.reasonCodes.length} reason codes for ${expected} topic filters [MQTT-3.9.3-1]`);
    }
    this.outbox.complete(p.packetId);
    const type = waiting === WAIT_SUBACK ? "subscribed" : "unsubscribed";
    return { type, mid: p.packetId, reasonCodes: p.reasonCodes, properties: p.properties };
  }

  /** The outbox slot of flow `id` when it waits in `state`; -1 (and a warning) when it does not. */
  private expect(id: number, state: number, name: string): number {
    const slot = this.outbox.ids.slotOf(id);
    if (slot >= 0 && this.outbox.stateOf(slot) === state) return slot;
    this.log(MQTT_LOG_WARNING, `${name} for mid ${id}, which has no flow waiting for one`);
    return -1;
  }

  private published(mid: number, qos: 1 | 2, reasonCode: number, p: AckView): PublishedEvent {
    const e = this.publishedEvent;
    e.mid = mid;
    e.qos = qos;
    e.reasonCode = reasonCode;
    e.properties = p.propertiesStart === p.propertiesEnd ? undefined : p.properties;
    return e;
  }

  // ---- sending --------------------------------------------------------------------------------

  /** Moves queued and resumed flows into the output while the in-flight window and the output allow. */
  private pump(): void {
    if (this.state !== CONNECTED) return;
    const ob = this.outbox;
    const window = Math.min(this.options.maxInflight === 0 ? 65535 : this.options.maxInflight, this.serverReceiveMaximum);
    while (ob.inflight < window) {
      const slot = ob.nextToSend();
      if (slot < 0) return;
      const st = ob.stateOf(slot);
      if (st !== WAIT_PUBCOMP && this.serverMaximumPacketSize !== Infinity && ob.recordLength(slot) > this.serverMaximumPacketSize) {
        // Queued before this broker said what it takes: it would disconnect us on every attempt.
        const id = ob.ids.idAt(slot);
        const qos = ob.awaitedAfterPublish(slot) === WAIT_PUBACK ? 1 : 2;
        this.log(MQTT_LOG_WARNING, `mid ${id} (${ob.recordLength(slot)} bytes) is over the broker's Maximum Packet Size of ${this.serverMaximumPacketSize}: not sent`);
        this.completePublish(id);
        this.queue.push({ type: "published", mid: id, qos, reasonCode: PACKET_TOO_LARGE_REASON, properties: undefined });
        continue;
      }
      if (st === WAIT_PUBCOMP) {
        if (!this.writeAck(PUBREL, ob.ids.idAt(slot), 0)) return;
        ob.markSent(slot, WAIT_PUBCOMP, this.now);
        continue;
      }
      const next = this.copyRecord(slot, st !== QUEUED);
      if (next === 0) return;
      ob.markSent(slot, next, this.now);
    }
  }

  /** Copies a stored PUBLISH into the output, DUP set when it went out before; its new state, or 0. */
  private copyRecord(slot: number, resend: boolean): number {
    const ob = this.outbox;
    const from = ob.recordOffset(slot);
    const length = ob.prefixLength(slot);
    // A record kept partly by reference: its header goes into the ring, the rest follows as a spliced span.
    const rest = ob.restOf(slot);
    if (rest !== undefined && !this.out.canSplice) return 0;
    const offset = this.out.reserve(length);
    if (offset === RING_FULL) return 0;
    if (resend) ob.markDuplicate(slot);
    this.out.bytes.set(ob.store.bytes.subarray(from, from + length), offset);
    this.out.commit(length);
    if (rest !== undefined) this.out.splice(rest, 0, rest.length);
    this.lastSent = this.now;
    return ob.awaitedAfterPublish(slot);
  }

  /** 3.x only: flows unacknowledged for retryMs go out again. */
  private retryStale(now: number): void {
    const ob = this.outbox;
    const due: number[] = [];
    ob.forEachPending((_id, slot) => {
      if (ob.isSent(slot) && now - ob.sentAtOf(slot) >= this.options.retryMs) due.push(slot);
    });
    for (const slot of due) {
      const id = ob.ids.idAt(slot);
      const sent = ob.stateOf(slot) === WAIT_PUBCOMP ? this.writeAck(PUBREL, id, 0) : this.copyRecord(slot, true) !== 0;
      // Restarted either way: a full output is retried a whole interval later, not in a busy loop.
      ob.retriedAt(slot, now);
      if (sent) this.log(MQTT_LOG_DEBUG, `re-sent mid ${id} after ${this.options.retryMs} ms without acknowledgement`);
    }
  }

  private sendControl(type: typeof SUBSCRIBE | typeof UNSUBSCRIBE, filters: number, make: (packetId: number) => Packet): RequestResult {
    if (this.state !== CONNECTED) return { rc: MQTT_ERR_NO_CONN, mid: 0 };
    const packet = make(1);
    const length = this.encoder.measure(packet);
    if (length > this.out.capacity || length > this.serverMaximumPacketSize) return { rc: this.tooLarge(length), mid: 0 };
    const id = this.outbox.takeControlId(type === SUBSCRIBE ? WAIT_SUBACK : WAIT_UNSUBACK);
    if (id === NO_PACKET_ID) return { rc: MQTT_ERR_QUEUE_SIZE, mid: 0 };
    if (!this.writePacket(make(id))) {
      this.outbox.complete(id);
      return { rc: MQTT_ERR_QUEUE_SIZE, mid: 0 };
    }
    this.filterCount[this.outbox.ids.slotOf(id)] = filters;
    return { rc: MQTT_ERR_SUCCESS, mid: id };
  }

  /**
   * Acknowledgements are most of what a QoS 1/2 subscriber writes (two per QoS 2 message), so the common
   * one, reason 0 without properties, is written as its four bytes (the same on every version: MQTT 5 leaves
   * out a reason 0 with no properties, section 3.4.2.1) rather than measured and encoded as a packet.
   */
  private writeAck(type: typeof PUBACK | typeof PUBREC | typeof PUBREL | typeof PUBCOMP, packetId: number, reasonCode: number): boolean {
    // Anything else (a reason code, an id a caller of ack() got wrong) goes through the encoder, which checks it.
    if (reasonCode === 0 && (packetId & 0xffff) === packetId && packetId !== 0) {
      const out = this.out;
      const offset = out.reserve(4);
      if (offset !== RING_FULL) {
        const bytes = out.bytes;
        bytes[offset] = type === PUBREL ? 0x62 : type << 4;
        bytes[offset + 1] = 2;
        bytes[offset + 2] = packetId >> 8;
        bytes[offset + 3] = packetId & 0xff;
        out.commit(4);
        this.lastSent = this.now;
        return true;
      }
    }
    const a = this.ackScratch;
    a.type = type;
    a.packetId = packetId;
    a.reasonCode = reasonCode;
    return this.writePacket(a);
  }

  private writePacket(packet: Packet): boolean {
    const length = this.encoder.measure(packet);
    const offset = this.out.reserve(length);
    if (offset === RING_FULL) {
      this.log(MQTT_LOG_WARNING, `output full (budget.outputBytes ${this.out.capacity}): ${PACKET_NAMES[packet.type]} waits`);
      return false;
    }
    this.encoder.write(this.out.bytes, offset);
    this.out.commit(length);
    this.lastSent = this.now;
    // The encoder keeps the packet it measured last; a control packet's (CONNECT's password, SUBSCRIBE's
    // list) would stay alive until the next one, as acknowledgements no longer pass through it.
    if (packet !== this.ackScratch) this.encoder.measure(FORGET);
    return true;
  }

  private tooLarge(length: number): number {
    this.log(MQTT_LOG_WARNING, `a ${length}-byte packet does not fit (its header must fit budget outputBytes ${this.out.capacity} and storeBytes ${this.outbox.store.capacity}; the broker's Maximum Packet Size ${this.serverMaximumPacketSize})`);
    return MQTT_ERR_PAYLOAD_SIZE;
  }

  /**
   * A measured QoS 0 PUBLISH larger than the output: its header is written into the ring and its payload
   * spliced in after it, by reference, to go out in pieces as the link takes them (see OutputRing).
   */
  private writeLarge(payload: Uint8Array): number {
    const headerLength = this.encoder.headerLength;
    if (headerLength > this.out.capacity) return this.tooLarge(this.encoder.length);
    if (!this.out.canSplice) return MQTT_ERR_QUEUE_SIZE;
    const offset = this.out.reserve(headerLength);
    if (offset === RING_FULL) return MQTT_ERR_QUEUE_SIZE;
    this.encoder.writeHeader(this.out.bytes, offset);
    this.out.commit(headerLength);
    this.out.splice(payload, 0, payload.length);
    this.lastSent = this.now;
    return MQTT_ERR_SUCCESS;
  }

  // ---- closing --------------------------------------------------------------------------------

  /** A protocol violation by the broker: DISCONNECT with the reason (v5), then the link goes. */
  private fail(reasonCode: number, reason: string): null {
    // After whatever is queued: the ring holds whole packets, and the link may be mid-way through one.
    if (this.version === 5 && this.state !== IDLE) this.writePacket({ type: DISCONNECT, reasonCode });
    return this.close(MQTT_ERR_PROTOCOL, reasonCode, reason);
  }

  /** A transient error while processing an inbound packet: DISCONNECT 0x80 (v5), then the link goes. */
  private transientError(e: unknown): void {
    const reason = `the session store failed while processing a packet: ${e instanceof Error ? e.message : String(e)}`;
    this.log(MQTT_LOG_ERR, reason);
    if (this.version === 5 && (this.state === CONNECTED || this.state === CONNACK_WAIT)) this.writePacket({ type: DISCONNECT, reasonCode: UNSPECIFIED_ERROR });
    this.close(MQTT_ERR_UNKNOWN, UNSPECIFIED_ERROR, reason);
  }

  /** Ends the connection: the "closed" event comes out of the next poll(), after any queued before it. */
  private close(rc: number, reasonCode: number, reason: string, properties?: Properties, fromServer = false): null {
    this.state = CLOSING;
    this.closingSince = -1;
    this.queue.push({ type: "closed", rc, reasonCode, properties, reason, fromServer });
    return null;
  }
}
