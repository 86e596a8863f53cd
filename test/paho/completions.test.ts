/**
 * Publish completions (src/paho/completions.ts): what tells each MessageInfo that its message was
 * published. No client, no link: the test plays the client, queuing publishes and saying when the link
 * took them or when the engine ended a flow. Timers are a fake the test fires by hand.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Completions } from "../../src/paho/completions.js";
import { MQTT_ERR_NO_CONN, MQTT_ERR_QUEUE_SIZE, MQTT_ERR_SUCCESS } from "../../src/paho/constants.js";

/** Timers that run only when the test fires them. */
class HandTimers {
  readonly armed = new Map<number, () => void>();
  private next = 1;
  setTimer(callback: () => void): unknown {
    this.armed.set(this.next, callback);
    return this.next++;
  }
  clearTimer(handle: unknown): void {
    this.armed.delete(handle as number);
  }
  fireAll(): void {
    for (const [handle, callback] of [...this.armed]) {
      this.armed.delete(handle);
      callback();
    }
  }
}

/** Whether the promise has settled, and how, after the microtasks queued so far. */
async function settled(p: Promise<void>): Promise<"resolved" | "pending" | string> {
  let state: string = "pending";
  p.then(() => (state = "resolved"), (e: Error) => (state = e.message));
  await new Promise<void>((resolve) => setImmediate(resolve));
  return state;
}

describe("QoS 0 completions", () => {
  test("a QoS 0 publish is published once the link has taken it, and not before", () => {
    const c = new Completions(new HandTimers());
    const info = c.queuedQos0Info(7);
    assert.equal(info.rc, MQTT_ERR_SUCCESS);
    assert.equal(info.mid, 7);
    assert.equal(info.isPublished(), false);
    c.writtenQos0Mids();
    assert.equal(info.isPublished(), true);
  });

  test("a written burst hands out its mids in publish order, for onPublish", () => {
    const c = new Completions(new HandTimers());
    for (const mid of [3, 4, 5]) c.queuedQos0Info(mid);
    assert.equal(c.unwrittenQos0, 3);
    const mids = c.writtenQos0Mids();
    assert.deepEqual(mids.slice(0, 3), [3, 4, 5]);
    assert.equal(c.unwrittenQos0, 0);
  });

  test("publishes queued while a burst's mids are being reported go to the other array, and only they are published next", () => {
    const c = new Completions(new HandTimers());
    const first = c.queuedQos0Info(1);
    const mids = c.writtenQos0Mids();
    // onPublish for mid 1 publishes again: mid 2 must not overwrite the array being read.
    const second = c.queuedQos0Info(2);
    assert.equal(mids[0], 1);
    assert.equal(first.isPublished(), true);
    assert.equal(second.isPublished(), false);
    c.recycle(mids);
    const next = c.writtenQos0Mids();
    assert.notEqual(next, mids);
    assert.equal(next[0], 2);
    assert.equal(second.isPublished(), true);
    // The recycled array serves the burst after.
    c.recycle(next);
    c.queuedQos0Info(3);
    assert.equal(c.writtenQos0Mids(), mids);
  });

  test("waitForPublish() on a QoS 0 publish resolves when its burst is written", async () => {
    const c = new Completions(new HandTimers());
    const waited = c.queuedQos0Info(1).waitForPublish();
    assert.equal(await settled(waited), "pending");
    c.writtenQos0Mids();
    assert.equal(await settled(waited), "resolved");
  });
});

describe("QoS 1/2 completions", () => {
  test("a flow that ends with a success reason code publishes its MessageInfo and resolves its waiters", async () => {
    const c = new Completions(new HandTimers());
    const info = c.queuedFlowInfo(MQTT_ERR_SUCCESS, 10);
    const waited = info.waitForPublish();
    // A QoS 0 burst written meanwhile says nothing of a QoS 1/2 flow.
    c.writtenQos0Mids();
    assert.equal(info.isPublished(), false);
    c.flowEnded(10, 0);
    assert.equal(info.isPublished(), true);
    assert.equal(await settled(waited), "resolved");
  });

  test("a flow that ends with a failure reason code rejects its waiters, now and later, naming the code", async () => {
    const c = new Completions(new HandTimers());
    const info = c.queuedFlowInfo(MQTT_ERR_SUCCESS, 11);
    const before = info.waitForPublish();
    c.flowEnded(11, 0x97);
    assert.equal(info.isPublished(), false);
    assert.match(await settled(before), /message 11 was not published: reason code 0x97/);
    assert.match(await settled(info.waitForPublish()), /reason code 0x97/);
  });

  test("a QoS 1/2 publish made while not connected says MQTT_ERR_NO_CONN and is still published when its flow ends", async () => {
    const c = new Completions(new HandTimers());
    const info = c.queuedFlowInfo(MQTT_ERR_NO_CONN, 12);
    assert.equal(info.rc, MQTT_ERR_NO_CONN);
    const waited = info.waitForPublish();
    c.flowEnded(12, 0);
    assert.equal(await settled(waited), "resolved");
  });

  test("the end of a flow no MessageInfo waits for (or one already ended) changes nothing", () => {
    const c = new Completions(new HandTimers());
    const info = c.queuedFlowInfo(MQTT_ERR_SUCCESS, 13);
    c.flowEnded(99, 0);
    assert.equal(info.isPublished(), false);
    c.flowEnded(13, 0);
    c.flowEnded(13, 0x80);
    assert.equal(info.isPublished(), true);
  });
});

describe("publishes that were not queued, and timeouts", () => {
  test("a publish the engine did not take is never published: waitForPublish() rejects at once with its rc", async () => {
    const c = new Completions(new HandTimers());
    const info = c.notQueuedInfo(MQTT_ERR_QUEUE_SIZE, 0);
    const [rc, mid] = info;
    assert.deepEqual([rc, mid], [MQTT_ERR_QUEUE_SIZE, 0]);
    c.writtenQos0Mids();
    assert.equal(info.isPublished(), false);
    assert.match(await settled(info.waitForPublish()), /message 0 is not queued/);
  });

  test("waitForPublish(timeoutMs) rejects when its timer fires first, and a completion clears the timer", async () => {
    const timers = new HandTimers();
    const c = new Completions(timers);
    const late = c.queuedFlowInfo(MQTT_ERR_SUCCESS, 20).waitForPublish(1000);
    assert.equal(timers.armed.size, 1);
    timers.fireAll();
    assert.match(await settled(late), /message 20 not published within 1000 ms/);
    const onTime = c.queuedFlowInfo(MQTT_ERR_SUCCESS, 21).waitForPublish(1000);
    c.flowEnded(21, 0);
    assert.equal(await settled(onTime), "resolved");
    assert.equal(timers.armed.size, 0, "the completion cleared its timer");
  });
});
