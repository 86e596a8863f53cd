/**
 * `tinymqtt simulate`'s flags and what runs for them (the CLI in hosts/node/cli.ts parses with these flags
 * and hands the values here): one process (the default), `--workers [N]` processes on this machine, one
 * `--shard K/N` of a fleet spread over machines, or `--collect RUN-ID` to gather the shards' reports.
 */
import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { UsageError, integer, qosOf } from "../cli-flags.js";
import { formatSummary, renderHtml } from "./report.js";
import { collect } from "./collect.js";
import { type SimulateOptions, type SimulationResult, runSimulation } from "./run.js";
import { runShard } from "./shard.js";
import { RUN_ID } from "./shard-channel.js";
import { runWorkers } from "./workers.js";

export const SIMULATE_FLAGS = {
  devices: { type: "string" },
  rate: { type: "string" },
  duration: { type: "string" },
  broker: { type: "string" },
  qos: { type: "string", short: "q" },
  "cut-rate": { type: "string" },
  report: { type: "string" },
  "connect-batch": { type: "string" },
  keepalive: { type: "string", short: "k" },
  workers: { type: "string" },
  share: { type: "boolean" },
  username: { type: "string" },
  password: { type: "string" },
  shard: { type: "string" },
  run: { type: "string" },
  interval: { type: "string" },
  collect: { type: "string" },
  wait: { type: "string" },
  help: { type: "boolean" },
} as const;

export type SimulateFlags = { [K in keyof typeof SIMULATE_FLAGS]?: (typeof SIMULATE_FLAGS)[K]["type"] extends "string" ? string : boolean };

/** `--workers` with no number after it means one worker per core: the number is filled in before parsing. */
export function withWorkersDefault(args: string[]): string[] {
  return args.flatMap((a, i) => (a === "--workers" && (i + 1 === args.length || args[i + 1]!.startsWith("-")) ? [a, String(availableParallelism())] : [a]));
}

function decimal(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`${name} must be a number from ${min} to ${max}, got "${value}"`);
  return n;
}

function authOf(v: SimulateFlags): { username: string; password: string } | undefined {
  if (v.username === undefined && v.password === undefined) return undefined;
  if (v.username === undefined) throw new UsageError("--password needs --username");
  return { username: v.username, password: v.password ?? "" };
}

function fleetOptions(v: SimulateFlags): SimulateOptions {
  const devices = integer(v.devices, "--devices", 1, 1_000_000);
  const rate = decimal(v.rate, "--rate", 0, 1_000_000);
  const duration = decimal(v.duration, "--duration", 0, 86_400);
  if (devices === undefined || rate === undefined || duration === undefined) throw new UsageError("simulate needs --devices N --rate R --duration S");
  return {
    devices, rate, duration, broker: v.broker, qos: qosOf(v.qos, "--qos") ?? 0,
    cutRate: decimal(v["cut-rate"], "--cut-rate", 0, 1_000_000),
    connectBatch: integer(v["connect-batch"], "--connect-batch", 1, 100_000) ?? 200,
    keepalive: integer(v.keepalive, "--keepalive", 0, 65535) ?? 60, share: v.share === true, auth: authOf(v),
  };
}

/** Prints the summary, writes the report; the exit code: 0 ok, 2 lost (or QoS 2 duplicated), 1 nothing connected. */
function finish(result: SimulationResult, report: string | undefined): number {
  process.stdout.write(`\n${formatSummary(result)}\n`);
  const file = report ?? "tinymqtt-simulate-report.html";
  if (file !== "") {
    const path = resolve(file);
    writeFileSync(path, renderHtml(result));
    process.stdout.write(`report: ${path}\n`);
  }
  if (result.ok) return 0;
  return result.maxConnected === 0 ? 1 : 2;
}

function runIdOf(value: string | undefined, flag: string): string {
  if (value === undefined || !RUN_ID.test(value)) throw new UsageError(`${flag} needs a run id of letters, digits, "-" and "_" (at most 64), got "${value ?? ""}"`);
  return value;
}

function brokerOf(v: SimulateFlags, what: string): string {
  if (v.broker === undefined) throw new UsageError(`${what} needs --broker mqtt://host:port: the shards and the collector meet on it`);
  return v.broker;
}

export async function runSimulateCommand(v: SimulateFlags): Promise<number> {
  if (v.collect !== undefined) {
    if (v.shard !== undefined || v.workers !== undefined) throw new UsageError("--collect gathers a run's reports: give it neither --shard nor --workers");
    const run = runIdOf(v.collect, "--collect");
    return finish(await collect({ run, broker: brokerOf(v, "--collect"), wait: decimal(v.wait, "--wait", 1, 86_400), auth: authOf(v) }), v.report);
  }
  const workers = integer(v.workers, "--workers", 1, 1024);
  const options = fleetOptions(v);
  if (v.shard !== undefined) {
    if (workers !== undefined) throw new UsageError("--shard runs one slice in this process: not with --workers");
    const m = /^(\d{1,6})\/(\d{1,6})$/.exec(v.shard);
    const shard = Number(m?.[1]);
    const shards = Number(m?.[2]);
    if (m === null || !(shards >= 1 && shard < shards)) throw new UsageError(`--shard must be K/N with K from 0 to N - 1, got "${v.shard}"`);
    const run = runIdOf(v.run, "--shard");
    const interval = decimal(v.interval, "--interval", 0.5, 3600);
    // The collector writes the fleet's report; a shard writes its own only when asked.
    return finish(await runShard({ ...options, broker: brokerOf(v, "--shard"), shard, shards, run, interval }), v.report ?? "");
  }
  const result = workers === undefined ? await runSimulation(options) : await runWorkers({ ...options, workers });
  return finish(result, v.report);
}
