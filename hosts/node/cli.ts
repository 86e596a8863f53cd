#!/usr/bin/env node
/**
 * The `tinymqtt` command: `pub` and `sub` with mosquitto_pub's and mosquitto_sub's options (cli-pub.ts,
 * cli-sub.ts), `demo`, a publish/subscribe round trip at QoS 0, 1 and 2, and `simulate`, many simulated
 * devices against one broker (hosts/node/simulate).
 * Bad arguments exit 1 with the error on stderr (pub, sub: and a pointer to their --help, as mosquitto's
 * tools; the others: with the usage); a failed connection exits 1 with the reason, a refused one with the
 * CONNACK code.
 */
import { readFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runDemo } from "./demo.js";
import { CONNECTION_FLAGS, UsageError, connectionOf, prepareArgs, qosOf } from "./cli-flags.js";
import { PropertyError } from "./cli-properties.js";
import { runPub } from "./cli-pub.js";
import { runSub } from "./cli-sub.js";
import { USAGE, pubUsage, subUsage } from "./cli-usage.js";
import { SIMULATE_FLAGS, runSimulateCommand, withWorkersDefault } from "./simulate/command.js";

const PUB = {
  ...CONNECTION_FLAGS,
  topic: { type: "string", short: "t" },
  message: { type: "string", short: "m" },
  file: { type: "string", short: "f" },
  stdin: { type: "boolean", short: "s" },
  lines: { type: "boolean", short: "l" },
  "null-message": { type: "boolean", short: "n" },
  retain: { type: "boolean", short: "r" },
} as const;

const SUB = {
  ...CONNECTION_FLAGS,
  topic: { type: "string", short: "t", multiple: true },
  unsubscribe: { type: "string", short: "U", multiple: true },
  "filter-out": { type: "string", short: "T", multiple: true },
  count: { type: "string", short: "C" },
  timeout: { type: "string", short: "W" },
  "no-stale": { type: "boolean", short: "R" },
  "retained-only": { type: "boolean" },
  "remove-retained": { type: "boolean" },
  "exit-on-subscribed": { type: "boolean", short: "E" },
  verbose: { type: "boolean", short: "v" },
  format: { type: "string", short: "F" },
  "no-eol": { type: "boolean", short: "N" },
  pretty: { type: "boolean" },
} as const;

const DEMO = {
  broker: { type: "string" },
  help: { type: "boolean" },
} as const;

/** The payload from -m, -n, -f or -s; -l sends one message per line of stdin. */
function payloadsOf(v: { message?: string; file?: string; stdin?: boolean; lines?: boolean; "null-message"?: boolean }): Array<string | Uint8Array | null> {
  const given = [v.message !== undefined, v.file !== undefined, v.stdin === true, v.lines === true, v["null-message"] === true].filter(Boolean).length;
  if (given > 1) throw new UsageError("give only one of -m and -n, or of -f, -s and -l");
  if (given === 0) throw new UsageError("pub needs a message: -m message, -f file, -s, -l, or -n for a null message");
  if (v.message !== undefined) return [v.message];
  if (v.file !== undefined) return [readFileSync(v.file)];
  if (v.stdin === true) return [readFileSync(0)];
  if (v.lines === true) return readFileSync(0, "utf8").split("\n").filter((line, i, all) => i < all.length - 1 || line !== "");
  return [null];
}

async function pub(args: string[]): Promise<number> {
  const prepared = prepareArgs(args, PUB);
  const { values: v } = parseArgs({ args: prepared.args, options: PUB, strict: true, allowPositionals: false });
  if (v.help === true) {
    process.stdout.write(pubUsage());
    return 0;
  }
  const c = connectionOf(v, prepared.properties);
  const topic = v.topic ?? c.urlTopic;
  if (topic === undefined) throw new UsageError("pub needs a topic: -t topic (or -L URL/topic)");
  const qos = qosOf(v.qos, "-q (qos)") ?? 0;
  await runPub(c, { topic, payloads: payloadsOf(v), qos, retain: v.retain === true, properties: c.properties.publish, disconnectProperties: c.properties.disconnect });
  return 0;
}

async function sub(args: string[]): Promise<number> {
  const prepared = prepareArgs(args, SUB);
  const { values: v } = parseArgs({ args: prepared.args, options: SUB, strict: true, allowPositionals: false });
  if (v.help === true) {
    process.stdout.write(subUsage());
    return 0;
  }
  return runSub(connectionOf(v, prepared.properties), {
    topics: v.topic ?? [], unsubscribe: v.unsubscribe ?? [], filterOut: v["filter-out"] ?? [], qos: v.qos, count: v.count, timeout: v.timeout,
    noStale: v["no-stale"] === true, retainedOnly: v["retained-only"] === true, removeRetained: v["remove-retained"] === true,
    exitOnSubscribed: v["exit-on-subscribed"] === true, verbose: v.verbose === true, format: v.format, noEol: v["no-eol"] === true,
  });
}

async function demo(args: string[]): Promise<void> {
  const { values: v } = parseArgs({ args, options: DEMO, strict: true, allowPositionals: false });
  if (v.help === true) return void process.stdout.write(USAGE);
  await runDemo({ broker: v.broker, print: (line) => process.stdout.write(`${line}\n`) });
}

async function simulate(args: string[]): Promise<number> {
  const { values: v } = parseArgs({ args: withWorkersDefault(args), options: SIMULATE_FLAGS, strict: true, allowPositionals: false });
  if (v.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  return runSimulateCommand(v);
}

/** As mosquitto_pub/sub: a refused connection exits with the CONNACK code (5 on 3.1.1, 135 on MQTT 5); else 1. */
function exitCodeOf(e: unknown): number {
  const { reasonCode, exitCode } = e as { reasonCode?: unknown; exitCode?: unknown };
  if (typeof exitCode === "number" && exitCode > 0) return exitCode;
  return typeof reasonCode === "number" && reasonCode > 0 ? reasonCode : 1;
}

/** Runs the command in argv; returns the exit code. */
async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    switch (command) {
      case "pub": return await pub(args);
      case "sub": return await sub(args);
      case "demo": await demo(args); return 0;
      case "simulate": return await simulate(args);
      case undefined: throw new UsageError("no command given");
      default: throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    // parseArgs reports unknown options and missing values as TypeErrors with an ERR_PARSE_ARGS_* code.
    const code = (e as { code?: unknown }).code;
    if (e instanceof PropertyError) {
      // mosquitto's -D errors, word for word, blank lines included; --quiet silences the last checks' ones.
      const hint = command === "pub" || command === "sub" ? `Use 'tinymqtt ${command} --help' to see usage.\n` : USAGE;
      process.stderr.write(`${e.quietable && args.includes("--quiet") ? "" : e.text}\n${hint}`);
      return 1;
    }
    if (e instanceof UsageError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"))) {
      // As mosquitto_pub/sub: pub's and sub's mistakes point to their own --help; the others print the usage.
      const hint = command === "pub" || command === "sub" ? `Use 'tinymqtt ${command} --help' to see usage.\n` : USAGE;
      process.stderr.write(`Error: ${(e as Error).message}\n\n${hint}`);
      return 1;
    }
    if (!args.includes("--quiet")) process.stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
    return exitCodeOf(e);
  }
}

/**
 * Node 20 and 21 have the WebSocket that ws:// and wss:// need behind a flag: the command then runs again
 * in a child Node with it, which gets Ctrl-C from the terminal itself (so the parent only waits).
 */
async function withWebSocket(argv: string[]): Promise<number> {
  const child = spawn(process.execPath, ["--experimental-websocket", "--no-warnings", fileURLToPath(import.meta.url), ...argv], { stdio: "inherit" });
  const ignore = (): void => {};
  process.on("SIGINT", ignore).on("SIGTERM", ignore);
  const code = await new Promise<number>((done) => child.once("exit", (c) => done(c ?? 1)));
  process.off("SIGINT", ignore).off("SIGTERM", ignore);
  return code;
}

const argv = process.argv.slice(2);
const needsFlag = typeof (globalThis as { WebSocket?: unknown }).WebSocket === "undefined" && argv.some((a) => /^wss?:\/\//i.test(a));
process.exitCode = needsFlag ? await withWebSocket(argv) : await main(argv);
