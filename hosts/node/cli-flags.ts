/**
 * The connection flags `tinymqtt pub` and `sub` share with mosquitto_pub and mosquitto_sub: broker and
 * credentials (-h -p -u -P, or -L URL), the session (-i -k -c -x -V), the will (--will-*), TLS (--cafile
 * --capath --cert --key --insecure --tls-version --tls-alpn --tls-use-os-certs), and the message budget
 * (--max-packet-size, ours: raises the client's buffers to receive large messages), -D properties (cli-properties.ts)
 * and -d (cli-debug.ts); and the client they make (clientOf).
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import { CONNACK, type ProtocolVersion } from "../../src/codec/constants.js";
import type { QoS } from "../../src/codec/packet-types.js";
import type { ConnectionOptions } from "./publish-helpers.js";
import { PacketLog } from "./cli-debug.js";
import { type CommandProperties, type PropertyFlag, PropertyError, propertiesOf, readPropertyFlag } from "./cli-properties.js";
import { nodeHost } from "./host.js";
import { Client, type ClientOptions, DEFAULT_BUDGET, MqttConnectionError, type TlsOptions, connackString, reasonCodeString } from "./index.js";

/** A mistake in the arguments: reported with a pointer to the usage (pub, sub) or the usage, exit 1. */
export class UsageError extends Error {}

type OptionTable = Record<string, { type: "string" | "boolean"; short?: string }>;

/** The arguments ready for parseArgs, and the -D flags taken out of them. */
export interface PreparedArgs {
  args: string[];
  properties: PropertyFlag[];
}

/**
 * mosquitto's tools take the argument after a flag that needs one as its value, whatever it looks like
 * (`-x -1`, `-m -5`); node:util's parseArgs would read a leading dash as another option. So each such
 * pair is joined into --name=value before parseArgs sees it. -D (--property) takes three or four
 * arguments: those are read here (cli-properties.ts). As in mosquitto, -D means MQTT v5 unless a -V
 * comes after it.
 */
export function prepareArgs(args: readonly string[], options: OptionTable): PreparedArgs {
  const takesValue = new Map<string, string>();
  for (const [name, o] of Object.entries(options)) {
    if (o.type !== "string") continue;
    takesValue.set(`--${name}`, name);
    if (o.short !== undefined) takesValue.set(`-${o.short}`, name);
  }
  const out: string[] = [];
  const properties: PropertyFlag[] = [];
  let versionFromProperty = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const name = takesValue.get(arg);
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    if (arg === "-D" || arg === "--property") {
      const { flag, taken } = readPropertyFlag(args, i + 1);
      if (flag !== undefined) properties.push(flag);
      versionFromProperty = true;
      i += taken;
      continue;
    }
    if (name === "protocol-version" || arg.startsWith("--protocol-version=")) versionFromProperty = false;
    if (name !== undefined && i + 1 < args.length) out.push(`--${name}=${args[++i]!}`);
    else out.push(arg);
  }
  if (versionFromProperty) out.push("--protocol-version=mqttv5");
  return { args: out, properties };
}

export const CONNECTION_FLAGS = {
  host: { type: "string", short: "h" },
  port: { type: "string", short: "p" },
  url: { type: "string", short: "L" },
  qos: { type: "string", short: "q" },
  id: { type: "string", short: "i" },
  keepalive: { type: "string", short: "k" },
  username: { type: "string", short: "u" },
  pw: { type: "string", short: "P" },
  "protocol-version": { type: "string", short: "V" },
  "disable-clean-session": { type: "boolean", short: "c" },
  "session-expiry-interval": { type: "string", short: "x" },
  "bind-address": { type: "string", short: "A" },
  debug: { type: "boolean", short: "d" },
  quiet: { type: "boolean" },
  help: { type: "boolean" },
  "will-topic": { type: "string" },
  "will-payload": { type: "string" },
  "will-qos": { type: "string" },
  "will-retain": { type: "boolean" },
  cafile: { type: "string" },
  capath: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  insecure: { type: "boolean" },
  "tls-version": { type: "string" },
  "tls-alpn": { type: "string" },
  "tls-use-os-certs": { type: "boolean" },
  "max-packet-size": { type: "string" },
} as const;

export type ConnectionValues = { [K in keyof typeof CONNECTION_FLAGS]?: (typeof CONNECTION_FLAGS)[K]["type"] extends "boolean" ? boolean : string };

export interface CliConnection extends ConnectionOptions {
  hostname: string;
  port: number;
  keepalive: number;
  protocol: ProtocolVersion;
  cleanSession: boolean;
  bindAddress: string;
  /** -d: print each packet sent and received (cli-debug.ts). */
  debug: boolean;
  quiet: boolean;
  /** -D: MQTT 5 properties per command (connect's and will's are in connectProperties and will already). */
  properties: CommandProperties;
  /** The topic a -L URL names, if any. */
  urlTopic: string | undefined;
}

export function integer(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

export function qosOf(value: string | undefined, name: string): QoS | undefined {
  return integer(value, name, 0, 2) as QoS | undefined;
}

function protocolOf(value: string | undefined): ProtocolVersion {
  switch (value?.toLowerCase()) {
    case undefined: case "mqttv311": case "311": return 4;
    case "mqttv5": case "5": return 5;
    case "mqttv31": case "31": return 3;
    default: throw new UsageError(`-V must be mqttv5 (5), mqttv311 (311) or mqttv31 (31), got "${value}"`);
  }
}

/** -L mqtt(s)://[user[:pass]@]host[:port]/topic, or ws(s)://... (the path is the topic, as mosquitto reads it). */
function fromUrl(spec: string, o: CliConnection): void {
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw new UsageError(`-L must be a URL such as mqtt://user:pass@host:1883/topic, got "${spec}"`);
  }
  const scheme = url.protocol.slice(0, -1);
  if (!["mqtt", "mqtts", "ws", "wss"].includes(scheme)) throw new UsageError(`-L: unsupported scheme "${url.protocol}" (mqtt, mqtts, ws or wss)`);
  const secure = scheme === "mqtts" || scheme === "wss";
  o.hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  o.port = url.port !== "" ? Number(url.port) : scheme === "mqtt" ? 1883 : scheme === "mqtts" ? 8883 : secure ? 443 : 80;
  if (scheme.startsWith("ws")) o.transport = "websockets";
  if (secure) o.tls = o.tls ?? {};
  if (url.username !== "") o.auth = { username: decodeURIComponent(url.username), password: url.password === "" ? null : decodeURIComponent(url.password) };
  const topic = decodeURIComponent(url.pathname.slice(1));
  o.urlTopic = topic === "" ? undefined : topic;
}

/** Where Linux distributions and macOS keep the system's CA bundle, as OpenSSL is built to look for it. */
const SYSTEM_BUNDLES = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem", "/usr/lib/ssl/cert.pem"];

/**
 * --tls-use-os-certs: the certificates OpenSSL (and so mosquitto_pub) trusts by default: the file
 * SSL_CERT_FILE names, else the system bundle, and the folders SSL_CERT_DIR names. Node's own bundled roots
 * where the system has none.
 */
function osCertificates(): string[] {
  const file = process.env["SSL_CERT_FILE"] ?? SYSTEM_BUNDLES.find((f) => existsSync(f));
  const pems: string[] = [];
  if (file !== undefined && existsSync(file)) pems.push(readFileSync(file, "utf8"));
  for (const dir of (process.env["SSL_CERT_DIR"] ?? "").split(":").filter((d) => d !== "" && existsSync(d))) pems.push(...folderCertificates(dir));
  return pems.length > 0 || process.env["SSL_CERT_FILE"] !== undefined ? pems : [...rootCertificates];
}

/** The certificates of a folder as OpenSSL finds them (subject-hash names), or named *.pem / *.crt. */
function folderCertificates(dir: string): string[] {
  return readdirSync(dir).filter((name) => /\.(pem|crt)$/.test(name) || /^[0-9a-f]{8}\.\d$/.test(name)).map((name) => readFileSync(join(dir, name), "utf8"));
}

/** --capath: every certificate file of the folder; --tls-use-os-certs: the system's, as OpenSSL finds them. */
function tlsOf(v: ConnectionValues): TlsOptions | undefined {
  const given = [v.cafile, v.capath, v.cert, v.key, v["tls-version"], v["tls-alpn"]].some((x) => x !== undefined) || v.insecure === true || v["tls-use-os-certs"] === true;
  if (!given) return undefined;
  const cas: string[] = [];
  if (v.cafile !== undefined) cas.push(readFileSync(v.cafile, "utf8"));
  if (v.capath !== undefined) cas.push(...folderCertificates(v.capath));
  if (v["tls-use-os-certs"] === true) cas.push(...osCertificates());
  const tls: TlsOptions = { certfile: v.cert, keyfile: v.key };
  if (cas.length > 0) tls.caCerts = cas.join("\n");
  // mosquitto names versions tlsv1.2; node:tls TLSv1.2.
  if (v["tls-version"] !== undefined) tls.tlsVersion = v["tls-version"].replace(/^tlsv/i, "TLSv");
  if (v["tls-alpn"] !== undefined) tls.alpnProtocols = [v["tls-alpn"]];
  if (v.insecure === true) tls.insecure = true;
  return tls;
}

/** The larger budget --max-packet-size asks for: room for one such message in and out. */
function budgetFor(bytes: number): ConnectionOptions["budget"] {
  return { maxPacketSize: bytes, outputBytes: Math.max(DEFAULT_BUDGET.outputBytes, bytes + 1024), storeBytes: Math.max(DEFAULT_BUDGET.storeBytes, 2 * bytes) };
}

export function connectionOf(v: ConnectionValues, properties: readonly PropertyFlag[] = []): CliConnection {
  const o: CliConnection = { hostname: v.host ?? "localhost", port: 1883, keepalive: integer(v.keepalive, "-k (keepalive)", 0, 65535) ?? 60,
    protocol: protocolOf(v["protocol-version"]), cleanSession: v["disable-clean-session"] !== true, bindAddress: v["bind-address"] ?? "", debug: v.debug === true, quiet: v.quiet === true,
    properties: propertiesOf(properties), urlTopic: undefined };
  const tls = tlsOf(v);
  if (tls !== undefined) o.tls = tls;
  if (v.url !== undefined) fromUrl(v.url, o);
  o.port = integer(v.port, "-p (port)", 1, 65535) ?? (v.url !== undefined ? o.port : tls !== undefined ? 8883 : 1883);
  if (v.id !== undefined) o.clientId = v.id;
  if (!o.cleanSession && o.protocol !== 5 && v.id === undefined) throw new UsageError("You must provide a client id if you are using the -c option.");
  if (v.pw !== undefined && v.username === undefined && o.auth === undefined) throw new UsageError("-P (password) needs -u (username)");
  if (v.username !== undefined) o.auth = { username: v.username, password: v.pw ?? null };
  const expiry = v["session-expiry-interval"] === "-1" ? 0xffffffff : integer(v["session-expiry-interval"], "-x (session expiry)", 0, 0xffffffff);
  const connect = o.properties.connect;
  if (o.protocol !== 5 && (connect !== undefined || (o.properties.will !== undefined && v["will-topic"] !== undefined))) {
    throw new UsageError("-D connect and -D will need MQTT v5: drop -V, or give -V mqttv5");
  }
  if (connect !== undefined) o.connectProperties = connect;
  if (o.protocol === 5 && (expiry !== undefined || !o.cleanSession)) {
    // mosquitto adds -x's (or -c's) Session Expiry Interval to the -D connect list, then checks the list.
    if (connect?.sessionExpiryInterval !== undefined) throw new PropertyError("Error in CONNECT properties: Duplicate property in property list\n", true);
    o.connectProperties = { ...connect, sessionExpiryInterval: expiry ?? 0xffffffff };
    // mosquitto's rule: a session that never expires must be found again, by its client id.
    if (o.connectProperties.sessionExpiryInterval === 0xffffffff && v.id === undefined) throw new UsageError("You must provide a client id if you are using an infinite session expiry interval.");
  }
  const willQos = qosOf(v["will-qos"], "--will-qos");
  if (v["will-topic"] !== undefined) {
    o.will = { topic: v["will-topic"], payload: v["will-payload"], qos: willQos ?? 0, retain: v["will-retain"] === true };
    if (o.properties.will !== undefined) o.will.properties = o.properties.will;
  }
  else if (v["will-payload"] !== undefined || willQos !== undefined || v["will-retain"] === true) throw new UsageError("--will-payload, --will-qos and --will-retain need --will-topic");
  const maxPacket = integer(v["max-packet-size"], "--max-packet-size", 64, 268_435_460);
  if (maxPacket !== undefined) o.budget = budgetFor(maxPacket);
  return o;
}

/** A client configured from the flags (connect() takes the rest: host, port, keepalive, bind address). */
export function clientOf(c: CliConnection): Client {
  const options: ClientOptions = { clientId: c.clientId ?? "", cleanSession: c.cleanSession, protocol: c.protocol, transport: c.transport ?? "tcp", budget: c.budget };
  if (c.debug) {
    const budget = { ...DEFAULT_BUDGET, ...c.budget };
    const log = new PacketLog((line) => process.stdout.write(`${line}\n`), c.protocol, Math.max(budget.maxPacketSize, budget.outputBytes));
    options.host = log.host(nodeHost);
  }
  const client = new Client(options);
  if (c.auth !== undefined) client.usernamePwSet(c.auth.username, c.auth.password);
  if (c.will !== undefined) client.willSet(c.will.topic, c.will.payload, c.will.qos ?? 0, c.will.retain ?? false, c.will.properties);
  if (c.tls !== undefined) {
    const { insecure, ...rest } = c.tls;
    client.tlsSet(rest);
    if (insecure === true) client.tlsInsecureSet(true);
  }
  return client;
}

/** The error for a CONNACK refusing the connection; the command exits with its code, as mosquitto's do. */
export function refusal(c: CliConnection, rc: number): Error {
  const text = c.protocol === 5 ? reasonCodeString(rc, CONNACK) : connackString(rc);
  const code = c.protocol === 5 ? `CONNACK reason code 0x${rc.toString(16).padStart(2, "0")}` : `CONNACK code ${rc}`;
  return Object.assign(new MqttConnectionError(rc, `${c.hostname}:${c.port} refused the connection: ${text} (${code})`), { exitCode: rc });
}
