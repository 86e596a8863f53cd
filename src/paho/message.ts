/**
 * What callbacks receive and what publish() returns: Paho's MQTTMessage and MQTTMessageInfo.
 */
import type { PublishView } from "../codec/packets/publish.js";
import type { Properties } from "../codec/properties.js";
import { MQTT_ERR_SUCCESS } from "./constants.js";
import type { Host } from "../connection/host.js";
import { errorString } from "./strings.js";

/**
 * A received message. It is a view into the client's receive buffer (zero copy): valid during the
 * callback it is passed to. To keep it, copy what you need: `message.payload.slice()`, `message.topic`
 * (a string, already a copy), `message.properties` (built fresh on each read).
 */
export class MQTTMessage {
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  readonly dup: boolean;
  readonly mid: number;
  private readonly view: PublishView;
  private topicCache: string | undefined;

  constructor(view: PublishView) {
    this.view = view;
    this.qos = view.qos;
    this.retain = view.retain;
    this.dup = view.dup;
    this.mid = view.packetId;
  }

  get topic(): string {
    return (this.topicCache ??= this.view.topic);
  }

  get payload(): Uint8Array {
    return this.view.payload;
  }

  get properties(): Properties | undefined {
    return this.view.properties;
  }

  /** A copy that stays valid after the callback returns. */
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

/** What publish() returns: Paho's MQTTMessageInfo. */
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

  constructor(rc: number, mid: number, timers: Pick<Host, "setTimer" | "clearTimer">, counter?: WrittenCounter, seq = 0) {
    this.rc = rc;
    this.mid = mid;
    this.published = false;
    this.waiters = undefined;
    this.failure = undefined;
    this.timers = timers;
    this.counter = counter;
    this.seq = seq;
  }

  isPublished(): boolean {
    return this.published || (this.counter !== undefined && this.counter.written >= this.seq);
  }

  /**
   * Resolves once the message has been published (QoS 0: written to the network; QoS 1: PUBACK; QoS 2:
   * PUBCOMP). Rejects at once when publish() failed (rc), when the message ended with a failure reason
   * code (>= 0x80: refused by a v5 broker, or dropped with a lost session), and after timeoutMs if given.
   */
  waitForPublish(timeoutMs?: number): Promise<void> {
    if (this.isPublished()) return Promise.resolve();
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.rc !== MQTT_ERR_SUCCESS) {
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
