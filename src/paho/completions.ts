/**
 * Publish completions: which MessageInfo learns that its message was published, and when.
 *
 * QoS 0 is published once the link has taken its bytes (as Paho's on_publish). Rather than one call per
 * message, QoS 0 publishes are numbered as they are queued: each MessageInfo keeps its number (`seq`) and
 * is published once `writtenQos0` reaches it, so one store completes a whole written burst. The mids of
 * the burst are kept for onPublish, in two arrays that take turns (onPublish may publish again meanwhile).
 * QoS 1/2 is published when the engine reports the end of its flow ("published"): the MessageInfos in
 * flight are kept by mid until then.
 *
 * Nothing here is made before the first publish: an idle client holds only the empty record.
 */
import type { Host } from "../connection/host.js";
import { MQTT_ERR_SUCCESS } from "./constants.js";
import { MessageInfo, NOT_QUEUED, QUEUED_FLOW } from "./message.js";

export class Completions {
  /** QoS 0 publishes queued, and how many of them the link has taken: MessageInfo.seq is compared with it. */
  queuedQos0 = 0;
  writtenQos0 = 0;
  /** QoS 0 MessageInfos with a waitForPublish() pending: most are never waited for. */
  private waiting: MessageInfo[] | undefined = undefined;
  /** The mids of the QoS 0 publishes not yet written, at mids[0..unwrittenQos0). */
  unwrittenQos0 = 0;
  private mids: number[] | undefined = undefined;
  /** The array writtenQos0Mids() last handed out, back from recycle(). */
  private spare: number[] | undefined = undefined;
  /** QoS 1/2 MessageInfos whose flow is not over, by mid: made at the first such publish. */
  private inFlight: Map<number, MessageInfo> | undefined = undefined;

  constructor(readonly timers: Pick<Host, "setTimer" | "clearTimer">) {}

  /** A QoS 0 publish the engine wrote to its output (which it does only while connected: rc is success). */
  queuedQos0Info(mid: number): MessageInfo {
    (this.mids ??= [])[this.unwrittenQos0++] = mid;
    return new MessageInfo(MQTT_ERR_SUCCESS, mid, this, ++this.queuedQos0);
  }

  /** A QoS 1/2 publish the engine keeps until its flow ends; `rc` says MQTT_ERR_NO_CONN while not connected. */
  queuedFlowInfo(rc: number, mid: number): MessageInfo {
    const info = new MessageInfo(rc, mid, this, QUEUED_FLOW);
    (this.inFlight ??= new Map()).set(mid, info);
    return info;
  }

  /** A publish the engine did not take (`rc` says why): it will never be published. */
  notQueuedInfo(rc: number, mid: number): MessageInfo {
    return new MessageInfo(rc, mid, this, NOT_QUEUED);
  }

  /** A QoS 0 MessageInfo waits to be written: published() will tell it. */
  waitForWrite(info: MessageInfo): void {
    (this.waiting ??= []).push(info);
  }

  /**
   * The link has taken every QoS 0 publish queued so far: their MessageInfos are published. Returns the
   * array whose first `unwrittenQos0` (read before this call) entries are their mids, for onPublish; give
   * it back with recycle() once done with it.
   */
  writtenQos0Mids(): number[] {
    const mids = this.mids ?? [];
    this.mids = this.spare;
    this.spare = undefined;
    this.unwrittenQos0 = 0;
    this.writtenQos0 = this.queuedQos0;
    const waiting = this.waiting;
    if (waiting !== undefined) {
      this.waiting = undefined;
      for (const info of waiting) info.markPublished();
    }
    return mids;
  }

  /** The array writtenQos0Mids() returned, for the next burst. */
  recycle(mids: number[]): void {
    this.spare = mids;
  }

  /** The engine ended the QoS 1/2 flow of `mid` with `reasonCode` (>= 0x80: not published). */
  flowEnded(mid: number, reasonCode: number): void {
    const info = this.inFlight?.get(mid);
    if (info === undefined) return;
    this.inFlight!.delete(mid);
    if (reasonCode >= 0x80) info.markFailed(reasonCode);
    else info.markPublished();
  }
}
