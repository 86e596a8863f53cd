#!/usr/bin/env node
/**
 * The `tinymqtt` command: `pub` and `sub` with mosquitto_pub's and mosquitto_sub's common options (over
 * tinymqtt/publish and tinymqtt/subscribe), `demo`, a publish/subscribe round trip at QoS 0, 1 and 2, and
 * `simulate`, many simulated devices against one broker (hosts/node/simulate).
 * Bad arguments exit 1 with the usage on stderr; a failed or refused connection exits 1 with the reason.
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Logger } from "../../src/paho/client.js";
import type { ProtocolVersion } from "../../src/codec/constants.js";
import type { QoS } from "../../src/codec/packet-types.js";
import { runDemo } from "./demo.js";
import { type ConnectionOptions, single } from "./publish.js";
import { callback } from "./subscribe.js";
import { formatSummary, renderHtml, runSimulation } from "./simulate/index.js";

const USAGE = `Usage: tinymqtt <command> [options]

Commands:
  pub    publish one message (mosquitto_pub's common options)
  sub    subscribe and print the messages received (mosquitto_sub's common options)
  demo   a publish/subscribe round trip at QoS 0, 1 and 2, with round-trip times
  simulate  many simulated sensors in this process against one broker: telemetry, link cuts, a checker

tinymqtt pub -t topic {-m message | -n} [-h host] [-p port] [-q qos] [-r] [-i id] [-k keepalive]
             [-u username [-P password]] [-V protocol] [-d]
             [--will-topic topic [--will-payload payload] [--will-qos qos] [--will-retain]]
tinymqtt sub -t topic [-t topic ...] [-h host] [-p port] [-q qos] [-C count] [-R] [-v] [-i id]
             [-k keepalive] [-u username [-P password]] [-V protocol] [-d]
tinymqtt demo [--broker mqtt://host:port]
tinymqtt simulate --devices N --rate R --duration S [--broker mqtt://host:port] [--qos Q] [--cut-rate C]
             [--report file.html] [--connect-batch B] [--keepalive K]
tinymqtt --help

 -h : the broker host to connect to. Defaults to localhost.
 -p : the network port to connect to. Defaults to 1883.
 -t : the MQTT topic to publish to, or a topic filter to subscribe to (sub: repeatable).
 -m : the message payload to send.
 -n : send a null (zero length) message.
 -q : quality of service level: 0, 1 or 2. Defaults to 0.
 -r : publish the message as retained.
 -i : the client id. Defaults to an id the broker assigns (a generated one on MQTT 3.1).
 -k : keep alive in seconds. Defaults to 60.
 -u : the username for authenticating with the broker.
 -P : the password for authenticating with the broker (needs -u).
 -V : the MQTT version: mqttv5 (5), mqttv311 (311) or mqttv31 (31). Defaults to mqttv311.
 -d : print debugging information (to stderr).
 -C : sub: disconnect and exit after receiving this many messages.
 -R : sub: do not print stale (retained) messages.
 -v : sub: print "topic payload" instead of the payload alone.
 --will-topic, --will-payload, --will-qos, --will-retain : the will message (pub).
 --broker : demo, simulate: the broker URL (mqtt://host:port); without it an in-process broker is started.

simulate: each device is a full client with the ESP32 budget and a will, publishing R messages per second
at QoS Q (default 0) for S seconds, while links are cut at random (C cuts per second across all devices,
default N/50, at least 0.5; 0 for none) and devices reconnect by themselves. A checker subscriber counts
lost and duplicated messages per device from sequence numbers. It prints a live progress line, then a
summary, and writes an HTML report (--report, default tinymqtt-simulate-report.html; "" for none).
Exit code 0; 2 when QoS 1/2 lost a message (or QoS 2 duplicated one); 1 for errors.
`;

const SIMULATE = {
  devices: { type: "string" },
  rate: { type: "string" },
  duration: { type: "string" },
  broker: { type: "string" },
  qos: { type: "string", short: "q" },
  "cut-rate": { type: "string" },
  report: { type: "string" },
  "connect-batch": { type: "string" },
  keepalive: { type: "string", short: "k" },
  help: { type: "boolean" },
} as const;

/** A mistake in the arguments: reported with the usage, exit 1. */
class UsageError extends Error {}

const COMMON = {
  host: { type: "string", short: "h" },
  port: { type: "string", short: "p" },
  qos: { type: "string", short: "q" },
  id: { type: "string", short: "i" },
  keepalive: { type: "string", short: "k" },
  username: { type: "string", short: "u" },
  pw: { type: "string", short: "P" },
  "protocol-version": { type: "string", short: "V" },
  debug: { type: "boolean", short: "d" },
  help: { type: "boolean" },
} as const;

const PUB = {
  ...COMMON,
  topic: { type: "string", short: "t" },
  message: { type: "string", short: "m" },
  "null-message": { type: "boolean", short: "n" },
  retain: { type: "boolean", short: "r" },
  "will-topic": { type: "string" },
  "will-payload": { type: "string" },
  "will-qos": { type: "string" },
  "will-retain": { type: "boolean" },
} as const;

const SUB = {
  ...COMMON,
  topic: { type: "string", short: "t", multiple: true },
  count: { type: "string", short: "C" },
  "remove-retained": { type: "boolean", short: "R" },
  verbose: { type: "boolean", short: "v" },
} as const;

const DEMO = {
  broker: { type: "string" },
  help: { type: "boolean" },
} as const;

function integer(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

function qosOf(value: string | undefined, name: string): QoS | undefined {
  return integer(value, name, 0, 2) as QoS | undefined;
}

function protocolOf(value: string | undefined): ProtocolVersion | undefined {
  if (value === undefined) return undefined;
  switch (value.toLowerCase()) {
    case "mqttv5": case "5": return 5;
    case "mqttv311": case "311": return 4;
    case "mqttv31": case "31": return 3;
    default: throw new UsageError(`-V must be mqttv5 (5), mqttv311 (311) or mqttv31 (31), got "${value}"`);
  }
}

const stderrLogger: Logger = {
  debug: (m) => process.stderr.write(`${m}\n`),
  info: (m) => process.stderr.write(`${m}\n`),
  warn: (m) => process.stderr.write(`Warning: ${m}\n`),
  error: (m) => process.stderr.write(`Error: ${m}\n`),
};

type CommonValues = { [K in keyof typeof COMMON]?: (typeof COMMON)[K]["type"] extends "boolean" ? boolean : string };

function connectionOptions(v: CommonValues): ConnectionOptions {
  const options: ConnectionOptions = { hostname: v.host ?? "localhost", port: integer(v.port, "-p (port)", 1, 65535) ?? 1883,
    keepalive: integer(v.keepalive, "-k (keepalive)", 0, 65535) ?? 60 };
  if (v.id !== undefined) options.clientId = v.id;
  const protocol = protocolOf(v["protocol-version"]);
  if (protocol !== undefined) options.protocol = protocol;
  if (v.pw !== undefined && v.username === undefined) throw new UsageError("-P (password) needs -u (username)");
  if (v.username !== undefined) options.auth = { username: v.username, password: v.pw ?? null };
  if (v.debug === true) options.logger = stderrLogger;
  return options;
}

async function pub(args: string[]): Promise<void> {
  const { values: v } = parseArgs({ args, options: PUB, strict: true, allowPositionals: false });
  if (v.help === true) return void process.stdout.write(USAGE);
  const options = connectionOptions(v);
  if (v.topic === undefined) throw new UsageError("pub needs a topic: -t topic");
  if (v.message !== undefined && v["null-message"] === true) throw new UsageError("give only one of -m and -n");
  if (v.message === undefined && v["null-message"] !== true) throw new UsageError("pub needs a message: -m message, or -n for a null message");
  const willQos = qosOf(v["will-qos"], "--will-qos");
  if (v["will-topic"] !== undefined) {
    options.will = { topic: v["will-topic"], payload: v["will-payload"], qos: willQos ?? 0, retain: v["will-retain"] === true };
  } else if (v["will-payload"] !== undefined || willQos !== undefined || v["will-retain"] === true) {
    throw new UsageError("--will-payload, --will-qos and --will-retain need --will-topic");
  }
  await single(v.topic, v.message ?? null, { ...options, qos: qosOf(v.qos, "-q (qos)") ?? 0, retain: v.retain === true });
}

async function sub(args: string[]): Promise<void> {
  const { values: v } = parseArgs({ args, options: SUB, strict: true, allowPositionals: false });
  if (v.help === true) return void process.stdout.write(USAGE);
  const options = connectionOptions(v);
  const topics = v.topic ?? [];
  if (topics.length === 0) throw new UsageError("sub needs at least one topic: -t topic");
  const count = integer(v.count, "-C (count)", 1, Number.MAX_SAFE_INTEGER);
  const skipRetained = v["remove-retained"] === true;
  const verbose = v.verbose === true;
  const newline = Buffer.from("\n");
  let received = 0;
  await callback((client, _userdata, message) => {
    if (skipRetained && message.retain) return;
    if (count !== undefined && received >= count) return;
    received++;
    // The payload is a view into the client's receive buffer: Buffer.from copies it before the write queues it.
    const payload = Buffer.from(message.payload);
    process.stdout.write(verbose ? Buffer.concat([Buffer.from(`${message.topic} `), payload, newline]) : Buffer.concat([payload, newline]));
    if (received === count) client.disconnect();
  }, topics, { ...options, qos: qosOf(v.qos, "-q (qos)") ?? 0 });
}

async function demo(args: string[]): Promise<void> {
  const { values: v } = parseArgs({ args, options: DEMO, strict: true, allowPositionals: false });
  if (v.help === true) return void process.stdout.write(USAGE);
  await runDemo({ broker: v.broker, print: (line) => process.stdout.write(`${line}\n`) });
}

function decimal(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`${name} must be a number from ${min} to ${max}, got "${value}"`);
  return n;
}

async function simulate(args: string[]): Promise<number> {
  const { values: v } = parseArgs({ args, options: SIMULATE, strict: true, allowPositionals: false });
  if (v.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const devices = integer(v.devices, "--devices", 1, 1_000_000);
  const rate = decimal(v.rate, "--rate", 0, 1_000_000);
  const duration = decimal(v.duration, "--duration", 0, 86_400);
  if (devices === undefined || rate === undefined || duration === undefined) throw new UsageError("simulate needs --devices N --rate R --duration S");
  const report = v.report ?? "tinymqtt-simulate-report.html";
  const result = await runSimulation({
    devices, rate, duration, broker: v.broker, qos: qosOf(v.qos, "--qos") ?? 0,
    cutRate: decimal(v["cut-rate"], "--cut-rate", 0, 1_000_000),
    connectBatch: integer(v["connect-batch"], "--connect-batch", 1, 100_000) ?? 200,
    keepalive: integer(v.keepalive, "--keepalive", 0, 65535) ?? 60,
  });
  process.stdout.write(`\n${formatSummary(result)}\n`);
  if (report !== "") {
    const path = resolve(report);
    writeFileSync(path, renderHtml(result));
    process.stdout.write(`report: ${path}\n`);
  }
  if (result.ok) return 0;
  return result.maxConnected === 0 ? 1 : 2;
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
      case "pub": await pub(args); return 0;
      case "sub": await sub(args); return 0;
      case "demo": await demo(args); return 0;
      case "simulate": return await simulate(args);
      case undefined: throw new UsageError("no command given");
      default: throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    // parseArgs reports unknown options and missing values as TypeErrors with an ERR_PARSE_ARGS_* code.
    const code = (e as { code?: unknown }).code;
    if (e instanceof UsageError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"))) {
      process.stderr.write(`Error: ${(e as Error).message}\n\n${USAGE}`);
      return 1;
    }
    process.stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
