/**
 * `tinymqtt simulate --shard K/N --run RUN-ID --broker URL`: slice K (from 0) of a fleet of --devices split
 * into N, run here with its own checker like a worker (workers.ts), its reports published to the broker
 * (shard-channel.ts) for `--collect` to gather. The result returned is this shard's own.
 */
import { performance } from "node:perf_hooks";
import { parseBrokerUrls } from "./broker.js";
import { type SimulateOptions, type SimulationResult, runSimulation, settings, sliceOf } from "./run.js";
import type { ShardReport } from "./merge.js";
import { ShardPublisher, type PublishedReport } from "./shard-channel.js";

export interface ShardOptions extends SimulateOptions {
  /** The whole fleet's size: this shard runs its slice of it. */
  devices: number;
  broker: string;
  shard: number;
  shards: number;
  run: string;
  /** Seconds between two published reports; default 5. */
  interval?: number | undefined;
}

export async function runShard(opts: ShardOptions): Promise<SimulationResult> {
  const whole = settings(opts);
  if (!Number.isInteger(opts.shards) || opts.shards < 1 || opts.shards > whole.devices) throw new RangeError(`shards must be from 1 to the devices (${whole.devices}), got ${opts.shards}`);
  if (!Number.isInteger(opts.shard) || opts.shard < 0 || opts.shard >= opts.shards) throw new RangeError(`shard must be from 0 to ${opts.shards - 1}, got ${opts.shard}`);
  const interval = opts.interval ?? 5;
  const slice = sliceOf(whole.devices, opts.shard, opts.shards);
  const broker = parseBrokerUrls(opts.broker)[0]!;
  const publisher = new ShardPublisher(broker, opts.run, opts.shard, interval, opts.auth);
  await publisher.start();
  const startedAt = new Date().toISOString();
  const published = (report: ShardReport): PublishedReport => ({ ...report, options: { ...whole, broker: parseBrokerUrls(opts.broker).map((b) => b.describe).join(", ") }, startedAt, interval });
  let final: PublishedReport | undefined;
  try {
    const result = await runSimulation({
      ...opts, devices: slice.count, cutRate: whole.cutRate / opts.shards,
      part: { runId: opts.run, index: opts.shard, of: opts.shards, first: slice.first, fleetSize: whole.devices },
      onReport: (report) => {
        if (report.state === "done") final = published(report);
        else publisher.offer(published(report), performance.now());
      },
    });
    if (final !== undefined) await publisher.finish(final);
    if (publisher.problems.length > 0) {
      result.problems.push(...publisher.problems);
      result.ok = false;
    }
    return result;
  } finally {
    // A shard that failed says so at once rather than leave "running" for the collector to find stale.
    if (final === undefined) await publisher.abandon();
    await publisher.stop();
  }
}
