/**
 * The telemetry phase and the drain after it. Every TICK_MS the messages due at rate × devices are
 * published round robin (so each device runs at `rate`), and link cuts fall as a Poisson process. The
 * drain then waits, bounded, for what is still on its way.
 */
import { performance } from "node:perf_hooks";
import type { QoS } from "../index.js";
import type { Checker } from "./checker.js";
import type { Fleet } from "./fleet.js";

const TICK_MS = 20;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** An exponentially distributed gap of mean 1 / ratePerSecond, in ms. */
const nextGap = (ratePerSecond: number): number => -Math.log(1 - Math.random()) * 1000 / ratePerSecond;

/** Publishes and cuts for `seconds`; resolves to the seconds it really took. `stop()` ends it early. */
export function telemetry(fleet: Fleet, rate: number, seconds: number, cutRate: number): { done: Promise<number>; stop(): void } {
  const n = fleet.devices.length;
  const start = performance.now();
  const end = start + seconds * 1000;
  let due = 0;
  let cursor = 0;
  let lastTick = start;
  let nextCutAt = cutRate > 0 ? start + nextGap(cutRate) : Infinity;
  let timer: ReturnType<typeof setInterval> | undefined;
  const done = new Promise<number>((resolve) => {
    timer = setInterval(() => {
      const now = Math.min(performance.now(), end);
      due += rate * n * (now - lastTick) / 1000;
      lastTick = now;
      while (due >= 1) {
        due -= 1;
        fleet.publish(fleet.devices[cursor]!);
        cursor = cursor + 1 === n ? 0 : cursor + 1;
      }
      while (now >= nextCutAt) {
        fleet.cutOne();
        nextCutAt += nextGap(cutRate);
      }
      if (now < end) return;
      clearInterval(timer);
      resolve((performance.now() - start) / 1000);
    }, TICK_MS);
  });
  return { done, stop: () => clearInterval(timer) };
}

/**
 * Waits until every message sent has arrived and every QoS 1/2 flow is complete, at most timeoutSeconds.
 * At QoS 0 nothing is re-sent: once nothing has arrived for a second, nothing more will.
 */
export async function drain(fleet: Fleet, checker: Checker, qos: QoS, timeoutSeconds: number): Promise<void> {
  const start = performance.now();
  const deadline = start + timeoutSeconds * 1000;
  for (;;) {
    const now = performance.now();
    if (now >= deadline) return;
    if (checker.unique() >= fleet.sent && fleet.pending() === 0) return;
    if (qos === 0 && now - Math.max(checker.lastArrival, start) > 1000) return;
    await sleep(50);
  }
}
