#!/usr/bin/env node
/**
 * The `tinymqtt` command: `pub` and `sub` with mosquitto_pub's and mosquitto_sub's common options (over
 * tinymqtt/publish and tinymqtt/subscribe), `demo`, a publish/subscribe round trip at QoS 0, 1 and 2, and
 * `simulate`, many simulated devices against one broker (hosts/node/simulate).
 * Bad arguments exit 1 with the usage on stderr; a failed or refused connection exits 1 with the reason.
 */
import { readFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runDemo } from "./demo.js";
import { CONNECTION_FLAGS, UsageError, connectionOf, qosOf } from "./cli-flags.js";
import { runSub } from "./cli-sub.js";
import { type ConnectionOptions, multiple } from "./publish.js";
import { SIMULATE_FLAGS, runSimulateCommand, withWorkersDefault } from "./simulate/command.js";

const USAGE = `Usage: tinymqtt <command> [options]

Commands:
  pub    publish one message (mosquitto_pub's common options)
  sub    subscribe and print the messages received (mosquitto_sub's common options)
  demo   a publish/subscribe round trip at QoS 0, 1 and 2, with round-trip times
  simulate  many simulated sensors in this process against one broker: telemetry, link cuts, a checker

tinymqtt pub -t topic {-m message | -f file | -s | -l | -n} [-L URL] [-h host] [-p port] [-q qos] [-r] [-i id]
             [-k keepalive] [-x session-expiry] [-u username [-P password]] [-V protocol] [-d] [--quiet]
             [--will-topic topic [--will-payload payload] [--will-qos qos] [--will-retain]]
             [{--cafile file | --capath dir} [--cert file --key file] [--insecure] [--tls-version v]
              [--tls-alpn protocol] [--tls-use-os-certs]] [--max-packet-size bytes]
tinymqtt sub -t topic [-t topic ...] [-L URL] [-U topic ...] [-T filter_out ...] [-h host] [-p port] [-q qos] [-c]
             [-x session-expiry] [-C count] [-W timeout] [-E] [-R] [--retained-only] [--remove-retained]
             [-v] [-F format] [-N] [-i id] [-k keepalive] [-A bind_address] [-u username [-P password]]
             [-V protocol] [-d] [--quiet] [--will-*] [TLS options as pub] [--max-packet-size bytes]
tinymqtt demo [--broker mqtt://host:port]
tinymqtt simulate --devices N --rate R --duration S [--broker mqtt://host:port] [--qos Q] [--cut-rate C]
             [--report file.html] [--connect-batch B] [--keepalive K] [--workers [N]] [--share]
             [--username U --password P]
tinymqtt simulate --shard K/N --run RUN-ID --broker URL --devices N --rate R --duration S [--interval I] [...]
tinymqtt simulate --collect RUN-ID --broker URL [--report file.html] [--wait S]
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
 -L : mqtt(s)://[username[:password]@]host[:port]/topic, or ws(s):// for MQTT over WebSockets.
 -f : pub: send a file's contents as the message. -s : the whole of stdin. -l : one message per line of stdin.
 -x : MQTT 5: the session expiry interval in seconds (-1: never). -c : sub: keep the session (clean session off).
 -A : sub: bind the outgoing socket to this address.
 -C : sub: disconnect and exit after receiving this many messages.
 -W : sub: disconnect and exit (code 27) after this many seconds.
 -E : sub: exit once the subscriptions are acknowledged. -U : sub: unsubscribe from this topic.
 -R : sub: do not print stale (retained) messages. --retained-only : only those; exit at the first new one.
 --remove-retained : sub: clear each retained message received (a null retained publish to its topic).
 -T : sub: do not print messages on topics matching this filter.
 -v : sub: print "topic payload" instead of the payload alone. -N : no newline after the payload.
 -F : sub: the output format: %t topic, %p payload, %q qos, %r retain, %l length, %m mid, %x hex, %%, \\n.
 --will-topic, --will-payload, --will-qos, --will-retain : the will message.
 --cafile, --capath, --cert, --key, --insecure, --tls-version, --tls-alpn, --tls-use-os-certs : TLS, as mosquitto.
 --max-packet-size : raise the client's budget to send and receive messages up to this many bytes.
 --quiet : do not print errors. A refused connection exits with the CONNACK code (5 on 3.1.1, 135 on MQTT 5).
 --broker : demo, simulate: the broker URL (mqtt://host:port); without it an in-process broker is started.

simulate: each device is a full client with the ESP32 budget and a will, publishing R messages per second
at QoS Q (default 0) for S seconds, while links are cut at random (C cuts per second across all devices,
default N/50, at least 0.5; 0 for none) and devices reconnect by themselves. A checker subscriber counts
lost and duplicated messages per device from sequence numbers. It prints a live progress line, then a
summary, and writes an HTML report (--report, default tinymqtt-simulate-report.html; "" for none).
Exit code 0; 2 when QoS 1/2 lost a message (or QoS 2 duplicated one); 1 for errors.
--workers N splits the fleet over N processes of this machine (N defaults to the number of cores), each
with its own checker; one live line and one summary for the whole fleet, with each worker's share.
--shard K/N runs slice K (from 0) of N of the fleet and publishes its reports to the broker, retained under
tinymqtt/sim/RUN-ID/ (every --interval seconds, default 5, and at its end); --collect RUN-ID gathers them
into one summary and report (waiting at most --wait seconds, default 3600), a shard that died included.
--broker URL,URL,... runs against a cluster's nodes: devices spread over them with failover, a checker
client on each (--share: in a $share group); the losses are split into the client's and the cluster's.
`;

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

async function pub(args: string[]): Promise<void> {
  const { values: v } = parseArgs({ args, options: PUB, strict: true, allowPositionals: false });
  if (v.help === true) return void process.stdout.write(USAGE);
  const c = connectionOf(v);
  const topic = v.topic ?? c.urlTopic;
  if (topic === undefined) throw new UsageError("pub needs a topic: -t topic (or -L URL/topic)");
  // pub goes through tinymqtt/publish's multiple(), whose session is clean and whose socket is not bound.
  if (!c.cleanSession || c.bindAddress !== "") throw new UsageError("-c and -A are for tinymqtt sub; tinymqtt pub's session is always clean");
  const qos = qosOf(v.qos, "-q (qos)") ?? 0;
  const retain = v.retain === true;
  const { hostname, port, keepalive, protocol, clientId, will, auth, tls, transport, connectProperties, budget, logger } = c;
  const options = Object.fromEntries(Object.entries({ hostname, port, keepalive, protocol, clientId, will, auth, tls, transport, connectProperties, budget, logger })
    .filter(([, x]) => x !== undefined)) as ConnectionOptions;
  await multiple(payloadsOf(v).map((payload) => ({ topic, payload, qos, retain })), options);
}

async function sub(args: string[]): Promise<number> {
  const { values: v } = parseArgs({ args, options: SUB, strict: true, allowPositionals: false });
  if (v.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  return runSub(connectionOf(v), {
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
      case "pub": await pub(args); return 0;
      case "sub": return await sub(args);
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
