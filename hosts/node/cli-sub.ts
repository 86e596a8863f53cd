/**
 * `tinymqtt sub`, as mosquitto_sub: subscribes in every CONNACK (so a lost connection is reconnected and the
 * subscriptions renewed), prints each message (payload, -v "topic payload", -F format, -N without the
 * newline), and ends on -C count, -E (once subscribed), -W timeout (exit 27, "Timed out"), --retained-only
 * (at the first message without the retain flag), or SIGINT/SIGTERM, always with a DISCONNECT. A refused
 * connection exits with the CONNACK code, as mosquitto_sub does (5 on 3.1.1, 0x87 = 135 on MQTT 5).
 */
import type { QoS } from "../../src/codec/packet-types.js";
import type { ReceivedMessage } from "../../src/paho/message.js";
import { type CliConnection, clientOf, integer, qosOf, refusal, UsageError } from "./cli-flags.js";
import { reasonCodeString, topicMatchesSub } from "./index.js";

export interface SubSettings {
  topics: string[];
  unsubscribe: string[];
  qos: string | undefined;
  count: string | undefined;
  timeout: string | undefined;
  noStale: boolean;
  retainedOnly: boolean;
  removeRetained: boolean;
  filterOut: string[];
  exitOnSubscribed: boolean;
  verbose: boolean;
  format: string | undefined;
  noEol: boolean;
}

/** Exit codes: 0, the CONNACK code of a refusal, 27 on -W, 1 for any other failure (thrown). */
export async function runSub(c: CliConnection, s: SubSettings): Promise<number> {
  const topics = c.urlTopic !== undefined ? [c.urlTopic, ...s.topics] : s.topics;
  if (topics.length === 0 && s.unsubscribe.length === 0) throw new UsageError("sub needs at least one topic: -t topic (or -L URL/topic)");
  const qos = qosOf(s.qos, "-q (qos)") ?? 0;
  const count = integer(s.count, "-C (count)", 1, Number.MAX_SAFE_INTEGER);
  const timeout = integer(s.timeout, "-W (timeout)", 1, 3_600_000);
  const client = clientOf(c);
  let exitCode = 0;
  let failure: Error | undefined;
  let received = 0;
  const end = (code: number, error?: Error): void => {
    if (failure === undefined && exitCode === 0) [exitCode, failure] = [code, error];
    client.disconnect(0, c.properties.disconnect);
  };
  client.onConnect = (_c, _u, _f, rc) => {
    if (rc !== 0) return end(rc, refusal(c, rc));
    if (topics.length > 0) client.subscribe(topics.map((t): [string, QoS] => [t, qos]), 0, undefined, c.properties.subscribe);
    if (s.unsubscribe.length > 0) client.unsubscribe(s.unsubscribe, c.properties.unsubscribe);
  };
  client.onSubscribe = (_c, _u, mid, codes) => {
    // mosquitto_sub -d prints the granted QoS (or reason codes) on stdout, unless --quiet.
    if (c.debug && !c.quiet) process.stdout.write(`Subscribed (mid: ${mid}): ${codes.join(", ")}\n`);
    const refused = codes.map((code, i) => [code, topics[i]] as const).filter(([code]) => code >= 0x80);
    if (refused.length > 0) return end(1, new Error(`the broker refused the subscription to ${refused.map(([code, t]) => `"${t}": ${reasonCodeString(code)}`).join("; ")}`));
    if (s.exitOnSubscribed) end(0);
  };
  client.onMessage = (_c, _u, message) => {
    if (s.filterOut.some((f) => topicMatchesSub(f, message.topic))) return;
    if (s.retainedOnly && !message.retain) return end(0);
    if (s.removeRetained && message.retain && message.payload.length > 0) client.publish(message.topic, null, 0, true);
    if (s.noStale && message.retain) return;
    if (count !== undefined && received >= count) return;
    received++;
    process.stdout.write(printed(message, s));
    if (received === count) end(0);
  };
  const stop = (): void => end(0);
  process.once("SIGINT", stop).once("SIGTERM", stop);
  const timer = timeout === undefined ? undefined : setTimeout(() => end(27, new TimedOut("Timed out")), timeout * 1000);
  try {
    await client.connect(c.hostname, c.port, c.keepalive, c.bindAddress, undefined, c.connectProperties);
    await client.loopForever();
  } finally {
    clearTimeout(timer);
    process.off("SIGINT", stop).off("SIGTERM", stop);
  }
  if (failure !== undefined && !(failure instanceof TimedOut)) throw Object.assign(failure, { exitCode });
  if (failure !== undefined) process.stderr.write(`${failure.message}\n`);
  return exitCode;
}

/** -W's ending: printed as mosquitto_sub prints it, without "Error: ". */
class TimedOut extends Error {}

/** What mosquitto_sub prints for a message: -F format, else [-v topic] payload, then a newline unless -N. */
function printed(m: ReceivedMessage, s: SubSettings): Buffer {
  // The payload is a view into the client's receive buffer: Buffer.from copies it before the write queues it.
  const payload = Buffer.from(m.payload);
  if (s.format !== undefined) return Buffer.concat([formatted(s.format, m, payload), Buffer.from(s.noEol ? "" : "\n")]);
  return Buffer.concat([Buffer.from(s.verbose ? `${m.topic} ` : ""), payload, Buffer.from(s.noEol ? "" : "\n")]);
}

/**
 * mosquitto_sub's -F: %t topic, %p payload, %q qos, %r retain, %l length, %m mid, %x/%X hex payload, %%, \n \t
 * \\; MQTT 5: %A topic alias, %C content type, %D correlation data, %E message expiry, %F payload format,
 * %P user properties (key:value, space separated), %R response topic, %S subscription identifier.
 */
function formatted(format: string, m: ReceivedMessage, payload: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < format.length; i++) {
    const ch = format[i]!;
    const next = format[i + 1];
    if ((ch === "%" || ch === "\\") && next !== undefined) {
      i++;
      const field = ch === "%" ? percent(next, m, payload) : ({ n: "\n", t: "\t", "\\": "\\", "0": "\0" } as Record<string, string>)[next];
      parts.push(typeof field === "string" ? Buffer.from(field) : field ?? Buffer.from(ch + next));
    } else parts.push(Buffer.from(ch));
  }
  return Buffer.concat(parts);
}

function percent(code: string, m: ReceivedMessage, payload: Buffer): Buffer | string | undefined {
  switch (code) {
    case "t": return m.topic;
    case "p": return payload;
    case "q": return String(m.qos);
    case "r": return m.retain ? "1" : "0";
    case "l": return String(payload.length);
    case "m": return String(m.mid);
    case "x": return payload.toString("hex");
    case "X": return payload.toString("hex").toUpperCase();
    case "%": return "%";
    // MQTT 5 properties; nothing when the message has none.
    case "A": return numberOf(m.properties?.topicAlias);
    case "C": return m.properties?.contentType ?? "";
    case "D": return m.properties?.correlationData === undefined ? "" : Buffer.from(m.properties.correlationData);
    case "E": return numberOf(m.properties?.messageExpiryInterval);
    case "F": return numberOf(m.properties?.payloadFormatIndicator);
    case "P": return (m.properties?.userProperties ?? []).map(([k, v]) => `${k}:${v}`).join(" ");
    case "R": return m.properties?.responseTopic ?? "";
    case "S": {
      const ids = m.properties?.subscriptionIdentifier;
      return numberOf(Array.isArray(ids) ? ids[0] : ids);
    }
    default: return undefined;
  }
}

function numberOf(n: number | undefined): string {
  return n === undefined ? "" : String(n);
}
