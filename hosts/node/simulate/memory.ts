/**
 * What a run can measure of memory honestly. The devices' clients live on this thread's V8 heap and in
 * array buffers, so their share is this thread's growth over a baseline taken before the devices exist,
 * divided by the device count (after a full GC where gc() is available). RSS belongs to the whole process
 * (the in-process broker's worker thread included) and is reported whole; the in-process broker's own heap
 * is measured inside its thread and reported beside it.
 */
import v8 from "node:v8";
import { runInNewContext } from "node:vm";

export interface ThreadMemory {
  heapUsed: number;
  arrayBuffers: number;
  /** The whole process's resident set. */
  rss: number;
}

export interface PerDevice {
  /** This thread's V8 heap and array buffers grown over the baseline, per device; never negative. */
  heap: number;
  buffers: number;
}

/** gc() when the process was started with --expose-gc, or can still be given it. */
export function findGc(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed !== undefined) return exposed;
  try {
    v8.setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  } catch {
    return undefined;
  }
}

export function threadMemory(): ThreadMemory {
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, rss: m.rss };
}

/** After a full GC (three, for what the first frees late) when gc is given. */
export async function settledMemory(gc: (() => void) | undefined): Promise<ThreadMemory> {
  if (gc !== undefined) {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  return threadMemory();
}

/**
 * The growth over the baseline per device. Noise (a GC between two readings, pages given back) can make a
 * reading fall below the baseline: that is no memory at all, so it counts as 0, never as a negative size.
 */
export function perDevice(now: ThreadMemory, baseline: ThreadMemory, devices: number): PerDevice {
  return {
    heap: Math.max(0, now.heapUsed - baseline.heapUsed) / devices,
    buffers: Math.max(0, now.arrayBuffers - baseline.arrayBuffers) / devices,
  };
}
