/**
 * What callbacks receive and what publish() returns: Paho's MQTTMessage and MQTTMessageInfo.
 */
import type { PublishView } from "./codec/packets/publish.js";
import type { Properties } from "./codec/properties.js";
import { MQTT_ERR_SUCCESS } from "./constants.js";
import type { Host } from "./host.js";
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

/** What publish() returns: Paho's MQTTMessageInfo. */
export class MessageInfo {
  rc: number;
  mid: number;
  private published = false;
  private waiters: Array<() => void> = [];
  private readonly timers: Pick<Host, "setTimer" | "clearTimer">;

  constructor(rc: number, mid: number, timers: Pick<Host, "setTimer" | "clearTimer">) {
    this.rc = rc;
    this.mid = mid;
    this.timers = timers;
  }

  isPublished(): boolean {
    return this.published;
  }

  /**
   * Resolves once the message has been published (QoS 0: written to the network; QoS 1: PUBACK; QoS 2:
   * PUBCOMP). Rejects at once when publish() failed (rc), and after timeoutMs if given.
   */
  waitForPublish(timeoutMs?: number): Promise<void> {
    if (this.published) return Promise.resolve();
    if (this.rc !== MQTT_ERR_SUCCESS) {
      return Promise.reject(new Error(`message ${this.mid} is not queued: ${errorString(this.rc)}`));
    }
    return new Promise<void>((resolve, reject) => {
      let timer: unknown;
      const done = (): void => {
        if (timer !== undefined) this.timers.clearTimer(timer);
        resolve();
      };
      this.waiters.push(done);
      if (timeoutMs !== undefined) {
        timer = this.timers.setTimer(() => {
          this.waiters = this.waiters.filter((w) => w !== done);
          reject(new Error(`message ${this.mid} not published within ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }

  /** @internal */
  markPublished(): void {
    this.published = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
