/**
 * The connection flags `tinymqtt pub` and `sub` share with mosquitto_pub and mosquitto_sub: broker and
 * credentials (-h -p -u -P, or -L URL), the session (-i -k -c -x -V), the will (--will-*), TLS (--cafile
 * --capath --cert --key --insecure --tls-version --tls-alpn --tls-use-os-certs), and the message budget
 * (--max-packet-size, ours: raises the client's buffers for large messages).
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import type { ProtocolVersion } from "../../src/codec/constants.js";
import type { QoS } from "../../src/codec/packet-types.js";
import type { ConnectionOptions } from "./publish-helpers.js";
import { DEFAULT_BUDGET, type Logger, type TlsOptions } from "./index.js";

/** A mistake in the arguments: reported with the usage, exit 1. */
export class UsageError extends Error {}

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

const stderrLogger: Logger = {
  debug: (m) => process.stderr.write(`${m}\n`),
  info: (m) => process.stderr.write(`${m}\n`),
  warn: (m) => process.stderr.write(`Warning: ${m}\n`),
  error: (m) => process.stderr.write(`Error: ${m}\n`),
};

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

/** --capath: every certificate file of the folder; --tls-use-os-certs: Node's trusted roots. */
function tlsOf(v: ConnectionValues): TlsOptions | undefined {
  const given = [v.cafile, v.capath, v.cert, v.key, v["tls-version"], v["tls-alpn"]].some((x) => x !== undefined) || v.insecure === true || v["tls-use-os-certs"] === true;
  if (!given) return undefined;
  const cas: string[] = [];
  if (v.cafile !== undefined) cas.push(readFileSync(v.cafile, "utf8"));
  if (v.capath !== undefined) {
    for (const name of readdirSync(v.capath)) if (/\.(pem|crt)$/.test(name) || /^[0-9a-f]{8}\.\d$/.test(name)) cas.push(readFileSync(join(v.capath, name), "utf8"));
  }
  if (v["tls-use-os-certs"] === true) cas.push(...rootCertificates);
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

export function connectionOf(v: ConnectionValues): CliConnection {
  const o: CliConnection = { hostname: v.host ?? "localhost", port: 1883, keepalive: integer(v.keepalive, "-k (keepalive)", 0, 65535) ?? 60,
    protocol: protocolOf(v["protocol-version"]), cleanSession: v["disable-clean-session"] !== true, bindAddress: v["bind-address"] ?? "", urlTopic: undefined };
  const tls = tlsOf(v);
  if (tls !== undefined) o.tls = tls;
  if (v.url !== undefined) fromUrl(v.url, o);
  o.port = integer(v.port, "-p (port)", 1, 65535) ?? (v.url !== undefined ? o.port : tls !== undefined ? 8883 : 1883);
  if (v.id !== undefined) o.clientId = v.id;
  if (!o.cleanSession && o.protocol !== 5 && v.id === undefined) throw new UsageError("You must provide a client id if you are using the -c option.");
  if (v.pw !== undefined && v.username === undefined && o.auth === undefined) throw new UsageError("-P (password) needs -u (username)");
  if (v.username !== undefined) o.auth = { username: v.username, password: v.pw ?? null };
  const expiry = v["session-expiry-interval"] === "-1" ? 0xffffffff : integer(v["session-expiry-interval"], "-x (session expiry)", 0, 0xffffffff);
  if (o.protocol === 5 && (expiry !== undefined || !o.cleanSession)) o.connectProperties = { sessionExpiryInterval: expiry ?? 0xffffffff };
  const willQos = qosOf(v["will-qos"], "--will-qos");
  if (v["will-topic"] !== undefined) o.will = { topic: v["will-topic"], payload: v["will-payload"], qos: willQos ?? 0, retain: v["will-retain"] === true };
  else if (v["will-payload"] !== undefined || willQos !== undefined || v["will-retain"] === true) throw new UsageError("--will-payload, --will-qos and --will-retain need --will-topic");
  const maxPacket = integer(v["max-packet-size"], "--max-packet-size", 64, 268_435_460);
  if (maxPacket !== undefined) o.budget = budgetFor(maxPacket);
  if (v.debug === true) o.logger = stderrLogger;
  return o;
}
