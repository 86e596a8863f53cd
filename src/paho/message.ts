/**
 * What callbacks receive and what publish() returns: Paho's MQTTMessage and MQTTMessageInfo.
 */
import type { PublishView } from "../codec/packets/publish-packet.js";
import type { Properties } from "../codec/properties.js";
import type { Completions } from "./completions.js";
import { errorString } from "./strings.js";

type PropertyReader = (bytes: Uint8Array, start: number, end: number) => Properties | undefined;

/**
 * Copies, whatever the array: a Node Buffer's own slice() is a view, which would keep the whole chunk a
 * message arrived in (with every other message in it) for as long as the message is kept.
 */
const typedArraySlice = Uint8Array.prototype.slice;

const EXPIRED = "this message was a zero-copy view into the client's receive buffer (zeroCopyMessages), valid " +
  "only during its callback, which has returned: keep message.copy() in the callback instead";

/**
 * A received message, as callbacks get it. By default (on Node) it owns its data and can be kept like
 * Paho's: its topic, payload and properties stay as they were. With the client option
 * `zeroCopyMessages` (the default on Moddable) it is a view into the client's receive buffer, valid
 * during its callback only: reading anything from it after the callback returned throws an error that
 * names message.copy(), so a kept view fails loudly instead of showing a later message's data.
 */
export class MQTTMessage {
  private readonly qosValue: 0 | 1 | 2;
  private readonly retainValue: boolean;
  private readonly dupValue: boolean;
  private readonly midValue: number;
  /**
   * Zero copy: the decoder's view until the callback returns, then null. Owned: undefined, or, when the copy
   * holds properties (MQTT 5), the view's readProperties, which reads only its arguments: so a kept message
   * holds nothing of the client.
   */
  private view: PublishView | PropertyReader | null | undefined;
  private topicText: string | undefined;
  /** Owned: the properties and payload, copied in one piece, and where the payload starts in it. */
  private readonly owned: Uint8Array | undefined;
  private readonly payloadAt: number;

  /** @internal Made by the client for each message it delivers. */
  constructor(view: PublishView, zeroCopy: boolean) {
    this.qosValue = view.qos;
    this.retainValue = view.retain;
    this.dupValue = view.dup;
    this.midValue = view.packetId;
    if (zeroCopy) {
      this.view = view;
      this.owned = undefined;
      this.payloadAt = 0;
    } else {
      this.view = view.propertiesStart === view.propertiesEnd ? undefined : view.readProperties;
      this.topicText = view.topic;
      this.owned = typedArraySlice.call(view.bytes, view.propertiesStart, view.payloadEnd);
      this.payloadAt = view.payloadStart - view.propertiesStart;
    }
  }

  /** @internal The callback returned: a zero-copy view may no longer be read. */
  expire(): void {
    if (this.owned === undefined) this.view = null;
  }

  /** The decoder's view while a zero-copy message may be read; undefined for an owned one. */
  private live(): PublishView | undefined {
    if (this.view === null) throw new Error(EXPIRED);
    return this.owned === undefined ? this.view as PublishView : undefined;
  }

  get qos(): 0 | 1 | 2 {
    this.live();
    return this.qosValue;
  }

  get retain(): boolean {
    this.live();
    return this.retainValue;
  }

  get dup(): boolean {
    this.live();
    return this.dupValue;
  }

  get mid(): number {
    this.live();
    return this.midValue;
  }

  get topic(): string {
    const view = this.live();
    return (this.topicText ??= view!.topic);
  }

  get payload(): Uint8Array {
    const view = this.live();
    return view === undefined ? this.owned!.subarray(this.payloadAt) : view.payload;
  }

  /** Built on each read, so a caller may change what it gets. */
  get properties(): Properties | undefined {
    const view = this.live();
    return view !== undefined ? view.properties : (this.view as PropertyReader | undefined)?.(this.owned!, 0, this.payloadAt);
  }

  /** A plain copy that owns its data: what to keep from a zero-copy message. */
  copy(): ReceivedMessage {
    return { topic: this.topic, payload: typedArraySlice.call(this.payload), qos: this.qos, retain: this.retain, dup: this.dup,
      mid: this.mid, properties: this.properties };
  }
}

/** A message that owns its data (from MQTTMessage.copy(), or the subscribe helpers). */
export interface ReceivedMessage {
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  retain: boolean;
  dup: boolean;
  mid: number;
  properties: Properties | undefined;
}

/** MessageInfo.seq of a publish the engine did not take: it will never be published. */
export const NOT_QUEUED = -1;
/** MessageInfo.seq of a QoS 1/2 publish: published when its flow ends (QoS 0 counts from 1). */
export const QUEUED_FLOW = 0;

/**
 * What publish() returns: Paho's MQTTMessageInfo. It unpacks as Paho's tuple does:
 * `const [rc, mid] = client.publish(...)`. Its client's Completions (src/paho/completions.ts) say when
 * it is published.
 */
export class MessageInfo {
  // Declared, and set in the constructor only: one is made per publish, and field initializers would add
  // a call to each construction until the optimizing compiler has run. Few fields: each is a slot per
  // message on XS.
  declare rc: number;
  declare mid: number;
  private declare readonly completions: Completions;
  /** QoS 0: published once completions.writtenQos0 reaches it; QUEUED_FLOW (QoS 1/2) or NOT_QUEUED. */
  private declare readonly seq: number;
  /** true once published; why it never will be (a reason code >= 0x80), once known; undefined until then. */
  private declare outcome: true | Error | undefined;
  /** Made by the first waitForPublish() that has to wait: most messages are never waited for. */
  private declare waiters: Array<(failure?: Error) => void> | undefined;

  /** @internal Made by the client's Completions. */
  constructor(rc: number, mid: number, completions: Completions, seq: number) {
    this.rc = rc;
    this.mid = mid;
    this.completions = completions;
    this.seq = seq;
    this.outcome = undefined;
    this.waiters = undefined;
  }

  /**
   * `const [rc, mid] = info`, as Paho's `rc, mid = info`. An array's iterator rather than a generator method:
   * a generator's prototype object is mutable, which Moddable's linker would copy from flash to RAM.
   */
  [Symbol.iterator](): Iterator<number> {
    return [this.rc, this.mid][Symbol.iterator]();
  }

  isPublished(): boolean {
    return this.outcome === true || (this.seq > 0 && this.completions.writtenQos0 >= this.seq);
  }

  /**
   * Resolves once the message has been published (QoS 0: written to the network; QoS 1: PUBACK; QoS 2:
   * PUBCOMP; a QoS 1/2 message published while not connected goes out after CONNACK). Rejects at once
   * when publish() did not queue the message (rc), when the message ended with a failure reason
   * code (>= 0x80: refused by a v5 broker, or dropped with a lost session), and after timeoutMs if given.
   */
  waitForPublish(timeoutMs?: number): Promise<void> {
    if (this.isPublished()) return Promise.resolve();
    if (this.outcome !== undefined) return Promise.reject(this.outcome);
    if (this.seq === NOT_QUEUED) {
      return Promise.reject(new Error(`message ${this.mid} is not queued: ${errorString(this.rc)}`));
    }
    const timers = this.completions.timers;
    return new Promise<void>((resolve, reject) => {
      let timer: unknown;
      const done = (failure?: Error): void => {
        if (timer !== undefined) timers.clearTimer(timer);
        if (failure === undefined) resolve();
        else reject(failure);
      };
      if (this.waiters === undefined) {
        this.waiters = [];
        if (this.seq > 0) this.completions.waitForWrite(this);
      }
      this.waiters.push(done);
      if (timeoutMs !== undefined) {
        timer = timers.setTimer(() => {
          if (this.waiters !== undefined) this.waiters = this.waiters.filter((w) => w !== done);
          reject(new Error(`message ${this.mid} not published within ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }

  /** @internal The flow ended with reason code `reasonCode` (>= 0x80): never published. */
  markFailed(reasonCode: number): void {
    const failure = new Error(`message ${this.mid} was not published: reason code 0x${reasonCode.toString(16)}`);
    this.outcome = failure;
    this.settle(failure);
  }

  /** @internal */
  markPublished(): void {
    this.outcome = true;
    this.settle(undefined);
  }

  private settle(failure: Error | undefined): void {
    const waiters = this.waiters;
    if (waiters === undefined) return;
    this.waiters = undefined;
    for (const w of waiters) w(failure);
  }
}
