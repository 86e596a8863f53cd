/**
 * What callbacks receive and what publish() returns: Paho's MQTTMessage and MQTTMessageInfo.
 */
import type { PublishView } from "../codec/packets/publish.js";
import { type Properties, readProperties } from "../codec/properties.js";
import { MQTT_ERR_SUCCESS } from "./constants.js";
import type { Host } from "../connection/host.js";
import { errorString } from "./strings.js";

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
  /** Zero copy: the decoder's view until the callback returns, then null. Owned: undefined. */
  private view: PublishView | null | undefined;
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
      this.view = undefined;
      this.topicText = view.topic;
      this.owned = view.bytes.slice(view.propertiesStart, view.payloadEnd);
      this.payloadAt = view.payloadStart - view.propertiesStart;
    }
  }

  /** @internal The callback returned: a zero-copy view may no longer be read. */
  expire(): void {
    if (this.view !== undefined) this.view = null;
  }

  private live(): PublishView | undefined {
    if (this.view === null) throw new Error(EXPIRED);
    return this.view;
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
    return view === undefined ? readProperties(this.owned!, 0, this.payloadAt) : view.properties;
  }

  /** A plain copy that owns its data: what to keep from a zero-copy message. */
  copy(): ReceivedMessage {
    return { topic: this.topic, payload: this.payload.slice(), qos: this.qos, retain: this.retain, dup: this.dup,
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

/**
 * @internal How a client tells its QoS 0 MessageInfos they were written: by count rather than one by one.
 * Each such MessageInfo holds the number of QoS 0 publishes queued up to and including it; it is published
 * once `written` reaches that number. Only MessageInfos with a waitForPublish() pending are listed.
 */
export class WrittenCounter {
  /** QoS 0 publishes queued, and how many of them the link has taken. */
  queued = 0;
  written = 0;
  waiting: MessageInfo[] | undefined = undefined;

  /** Every QoS 0 publish queued so far has been written: resolves the waitForPublish() of each. */
  allWritten(): void {
    this.written = this.queued;
    const waiting = this.waiting;
    if (waiting === undefined) return;
    this.waiting = undefined;
    for (const info of waiting) info.markPublished();
  }
}

/**
 * What publish() returns: Paho's MQTTMessageInfo. It unpacks as Paho's tuple does:
 * `const [rc, mid] = client.publish(...)`.
 */
export class MessageInfo {
  // Declared, and set in the constructor only: one is made per publish, and field initializers would add
  // a call to each construction until the optimizing compiler has run.
  declare rc: number;
  declare mid: number;
  private declare published: boolean;
  /** Made by the first waitForPublish() that has to wait: most messages are never waited for. */
  private declare waiters: Array<(failure?: Error) => void> | undefined;
  /** Why the message will never be published (a reason code >= 0x80), once known. */
  private declare failure: Error | undefined;
  private declare readonly timers: Pick<Host, "setTimer" | "clearTimer">;
  /** QoS 0: published once counter.written reaches seq (see WrittenCounter). */
  private declare readonly counter: WrittenCounter | undefined;
  private declare readonly seq: number;
  /** QoS 1/2 published while not connected: rc says MQTT_ERR_NO_CONN, yet the message is queued. */
  private declare readonly queued: boolean;

  /** @internal Made by Client.publish(). */
  constructor(rc: number, mid: number, timers: Pick<Host, "setTimer" | "clearTimer">, counter?: WrittenCounter, seq = 0, queued = rc === MQTT_ERR_SUCCESS) {
    this.rc = rc;
    this.mid = mid;
    this.published = false;
    this.waiters = undefined;
    this.failure = undefined;
    this.timers = timers;
    this.counter = counter;
    this.seq = seq;
    this.queued = queued;
  }

  /** `const [rc, mid] = info`, as Paho's `rc, mid = info`. */
  *[Symbol.iterator](): Iterator<number> {
    yield this.rc;
    yield this.mid;
  }

  isPublished(): boolean {
    return this.published || (this.counter !== undefined && this.counter.written >= this.seq);
  }

  /**
   * Resolves once the message has been published (QoS 0: written to the network; QoS 1: PUBACK; QoS 2:
   * PUBCOMP; a QoS 1/2 message published while not connected goes out after CONNACK). Rejects at once
   * when publish() did not queue the message (rc), when the message ended with a failure reason
   * code (>= 0x80: refused by a v5 broker, or dropped with a lost session), and after timeoutMs if given.
   */
  waitForPublish(timeoutMs?: number): Promise<void> {
    if (this.isPublished()) return Promise.resolve();
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (!this.queued) {
      return Promise.reject(new Error(`message ${this.mid} is not queued: ${errorString(this.rc)}`));
    }
    return new Promise<void>((resolve, reject) => {
      let timer: unknown;
      const done = (failure?: Error): void => {
        if (timer !== undefined) this.timers.clearTimer(timer);
        if (failure === undefined) resolve();
        else reject(failure);
      };
      if (this.waiters === undefined) {
        this.waiters = [];
        if (this.counter !== undefined) (this.counter.waiting ??= []).push(this);
      }
      this.waiters.push(done);
      if (timeoutMs !== undefined) {
        timer = this.timers.setTimer(() => {
          if (this.waiters !== undefined) this.waiters = this.waiters.filter((w) => w !== done);
          reject(new Error(`message ${this.mid} not published within ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }

  /** @internal The flow ended with reason code `reasonCode` (>= 0x80): never published. */
  markFailed(reasonCode: number): void {
    this.failure = new Error(`message ${this.mid} was not published: reason code 0x${reasonCode.toString(16)}`);
    const waiters = this.waiters;
    if (waiters === undefined) return;
    this.waiters = undefined;
    for (const w of waiters) w(this.failure);
  }

  /** @internal */
  markPublished(): void {
    this.published = true;
    const waiters = this.waiters;
    if (waiters === undefined) return;
    this.waiters = undefined;
    for (const w of waiters) w();
  }
}
