/**
 * `tinymqtt simulate --collect RUN-ID --broker URL`: gathers the shards' reports of a run from the broker
 * (shard-channel.ts) into one result, as workers.ts does for the processes of one machine. It waits until
 * every shard has said "done" or is dead: its status says "died" (its will, or its own word on failing), or
 * no report came from it for three intervals and a few seconds (a shard cut off without the broker noticing
 * yet). A shard never heard of is missing. Bounded in any case by `wait` seconds.
 */
import { performance } from "node:perf_hooks";
import { MQTT_ERR_SUCCESS } from "../index.js";
import { type BrokerHandle, parseBrokerUrls } from "./broker.js";
import { type PartsResult, partsResult } from "./fleet-result.js";
import { type ProgressOut, printProgress, progressLine } from "./sampler.js";
import { type PublishedReport, type ShardState, channelClient, connectClient, decodeReport, decodeStatus, reportTopic, statusTopic } from "./shard-channel.js";
import type { Auth } from "./run.js";
import { liveSample } from "./workers.js";

export interface CollectOptions {
  run: string;
  broker: string;
  /** At most this many seconds; default 3600. */
  wait?: number | undefined;
  out?: ProgressOut;
  auth?: Auth | undefined;
}

/** Seconds without a report, beyond three intervals, after which a shard still "running" is taken for dead. */
const STALE_GRACE_SECONDS = 5;
/** Without any report in this long there is no run to collect. */
const FIRST_REPORT_SECONDS = 30;

interface Heard {
  report: PublishedReport | undefined;
  status: ShardState | undefined;
  /** performance.now() of the last report received from it. */
  lastHeard: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function collect(opts: CollectOptions): Promise<PartsResult> {
  const broker: BrokerHandle = parseBrokerUrls(opts.broker)[0]!;
  const out = opts.out ?? process.stdout;
  const wait = opts.wait ?? 3600;
  const client = channelClient(`tinymqtt-sim-${opts.run}-collector-${process.pid}`, opts.auth);
  const heard = new Map<number, Heard>();
  const problems: string[] = [];
  const t0 = performance.now();
  const entry = (shard: number): Heard => {
    let h = heard.get(shard);
    if (h === undefined) heard.set(shard, (h = { report: undefined, status: undefined, lastHeard: performance.now() }));
    return h;
  };
  const shardOf = (topic: string, prefix: string): number | undefined => {
    if (!topic.startsWith(prefix)) return undefined;
    const k = topic.slice(prefix.length);
    return /^\d{1,6}$/.test(k) ? Number(k) : undefined;
  };
  client.onMessage = (_c, _u, message) => {
    const reportOf = shardOf(message.topic, reportTopic(opts.run, "+").slice(0, -1));
    if (reportOf !== undefined) {
      const r = decodeReport(message.payload, opts.run);
      if (r instanceof Error || r.shard !== reportOf) {
        problems.push(`on ${message.topic}: ${r instanceof Error ? r.message : `a report of shard ${r.shard}`}`);
        return;
      }
      const h = entry(reportOf);
      if (h.report === undefined || r.sequence >= h.report.sequence) h.report = r;
      h.lastHeard = performance.now();
      return;
    }
    const statusOf = shardOf(message.topic, statusTopic(opts.run, "+").slice(0, -1));
    if (statusOf !== undefined && message.payload.length > 0) entry(statusOf).status = decodeStatus(message.payload);
  };
  await connectClient(client, broker, "collector");
  let timer: ReturnType<typeof setInterval> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      client.onSubscribe = (_c, _u, _mid, codes) => (codes.some((c) => c >= 0x80) ? reject(new Error(`${broker.describe} refused the collector's subscription`)) : resolve());
      client.subscribe([[reportTopic(opts.run, "+"), 1], [statusTopic(opts.run, "+"), 1]]);
    });
    let lastPrinted = -Infinity;
    const devices = (): number => [...heard.values()].find((h) => h.report !== undefined)?.report?.options.devices ?? 0;
    const latest = (): PublishedReport[] => [...heard.values()].flatMap((h) => (h.report === undefined ? [] : [h.report]));
    timer = setInterval(() => {
      const live = liveSample(latest());
      if (live !== undefined) lastPrinted = printProgress(out, progressLine(live.sample, live.sample.t, devices(), live.cuts), live.sample.t, lastPrinted, 1);
    }, 1000);
    for (;;) {
      const now = performance.now();
      const reports = latest();
      const firstWithin = Math.min(FIRST_REPORT_SECONDS, wait);
      if (reports.length === 0 && now - t0 > firstWithin * 1000) throw new Error(`no shard of run ${opts.run} reported on ${broker.describe} within ${firstWithin} s`);
      if (reports.length > 0) {
        const shards = reports[0]!.shards;
        const interval = reports[0]!.interval;
        const staleMs = (3 * interval + STALE_GRACE_SECONDS) * 1000;
        const final = (h: Heard | undefined): boolean => h !== undefined && (h.status === "died" || (h.report?.state === "done" && h.status !== "running") || now - h.lastHeard > staleMs);
        const quiet = [...heard.values()].every((h) => now - h.lastHeard > staleMs);
        let all = true;
        for (let k = 0; k < shards; k++) if (!final(heard.get(k)) && !(heard.get(k) === undefined && quiet)) all = false;
        if (all) break;
      }
      if (now - t0 > wait * 1000) {
        problems.push(`stopped waiting after ${wait} s`);
        break;
      }
      await sleep(100);
    }
  } finally {
    clearInterval(timer);
    if (out.isTTY === true) out.write("\n");
    if (client.disconnect() === MQTT_ERR_SUCCESS) await sleep(50);
    client.loopStop();
  }
  const reports = [...heard.values()].flatMap((h) => {
    if (h.report === undefined) return [];
    // Its own last word is "done" only with its final report; any other end is a death.
    return [h.report.state === "done" && h.status !== "died" ? h.report : { ...h.report, state: "died" as const }];
  });
  const first = reports[0]!;
  const result = partsResult(reports, first.shards, {
    partName: "shard", runId: opts.run, startedAt: reports.map((r) => r.startedAt).sort()[0]!, options: first.options,
    totalSeconds: Math.max(...reports.map((r) => r.elapsed)), brokerHeap: { idle: undefined, loaded: undefined },
  });
  if (problems.length > 0) {
    result.problems.push(...problems);
    result.ok = false;
  }
  return result;
}
