/**
 * `tinymqtt simulate`'s flags and what runs for them (the CLI in hosts/node/cli.ts parses with these flags
 * and hands the values here): one process (the default), `--workers [N]` processes on this machine.
 */
import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { UsageError, integer, qosOf } from "../cli-flags.js";
import { formatSummary, renderHtml } from "./report.js";
import { type SimulateOptions, type SimulationResult, runSimulation } from "./run.js";
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

function fleetOptions(v: SimulateFlags): SimulateOptions {
  const devices = integer(v.devices, "--devices", 1, 1_000_000);
  const rate = decimal(v.rate, "--rate", 0, 1_000_000);
  const duration = decimal(v.duration, "--duration", 0, 86_400);
  if (devices === undefined || rate === undefined || duration === undefined) throw new UsageError("simulate needs --devices N --rate R --duration S");
  return {
    devices, rate, duration, broker: v.broker, qos: qosOf(v.qos, "--qos") ?? 0,
    cutRate: decimal(v["cut-rate"], "--cut-rate", 0, 1_000_000),
    connectBatch: integer(v["connect-batch"], "--connect-batch", 1, 100_000) ?? 200,
    keepalive: integer(v.keepalive, "--keepalive", 0, 65535) ?? 60,
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

export async function runSimulateCommand(v: SimulateFlags): Promise<number> {
  const workers = integer(v.workers, "--workers", 1, 1024);
  const options = fleetOptions(v);
  const result = workers === undefined ? await runSimulation(options) : await runWorkers({ ...options, workers });
  return finish(result, v.report);
}
