/**
 * `tinymqtt demo` (`npm start`): a real publish/subscribe round trip at QoS 0, 1 and 2. A subscriber and a
 * publisher client connect to a broker (an in-process aedes broker on a free loopback port unless one is
 * given), the publisher sends one message at each QoS, and every step is printed with its timing: the
 * publish flow's completion (written / PUBACK / PUBCOMP) and the round trip back to the subscriber.
 */
import { randomBytes } from "node:crypto";
import { type AddressInfo, type Server, type Socket, createServer } from "node:net";
import { performance } from "node:perf_hooks";
import { Client, type ConnectFlags, connackString, reasonCodeString } from "./index.js";
import { AEDES_HINT } from "./simulate/broker.js";
import { CONNACK } from "../../src/codec/constants.js";
import type { QoS } from "../../src/codec/packet-types.js";

export interface DemoOptions {
  /** The broker: mqtt://host:port (mqtts:// for TLS). Default: an in-process aedes broker. */
  broker?: string | undefined;
  /** Where the steps go, one line each; default console.log. */
  print?: (line: string) => void;
  /** How long any one step may take; default 5000 ms. */
  stepTimeoutMs?: number;
}

interface BrokerHandle {
  host: string;
  port: number;
  tls: boolean;
  describe: string;
  stop(): Promise<void>;
}

/**
 * Printed after the QoS 0 round trip through a broker given with --broker: a stock mosquitto leaves Nagle's
 * algorithm on (set_tcp_nodelay false), so its small writes wait for the peer's delayed ACK.
 */
const NAGLE_NOTE = "QoS 0: note: a stock mosquitto has set_tcp_nodelay off, so its small writes wait for a delayed ACK: about 40 ms of a QoS 0 round trip (set_tcp_nodelay true in mosquitto.conf removes it)";

/** Runs the demo; rejects with the reason when a step fails or times out. Leaves nothing running. */
export async function runDemo(options: DemoOptions = {}): Promise<void> {
  const print = options.print ?? ((line: string) => console.log(line));
  const timeout = options.stepTimeoutMs ?? 5000;
  const runId = randomBytes(3).toString("hex");
  const base = `tinymqtt/demo/${runId}`;
  const ms = (t: number): string => `${t.toFixed(2)} ms`;

  print("tinymqtt demo: a publish/subscribe round trip at QoS 0, 1 and 2");
  const broker = options.broker === undefined ? await startAedes() : parseBroker(options.broker);
  print(`broker: ${broker.describe}`);
  const clients: Client[] = [];
  try {
    const arrivals = new Map<string, (at: number, qos: number, payload: string) => void>();
    const subscriber = new Client({ clientId: `tinymqtt-demo-sub-${runId}` });
    clients.push(subscriber);
    subscriber.onMessage = (_c, _u, message) => {
      const at = performance.now();
      arrivals.get(message.topic)?.(at, message.qos, new TextDecoder().decode(message.payload));
    };
    await connectClient(subscriber, "subscriber", broker, timeout, print);
    const granted = await within(new Promise<number[]>((resolve) => {
      subscriber.onSubscribe = (_c, _u, _mid, reasonCodes) => resolve(reasonCodes);
      subscriber.subscribe(`${base}/#`, 2);
    }), timeout, "the SUBACK");
    const code = granted[0] ?? 0x80;
    if (code >= 0x80) throw new Error(`the broker refused the subscription to "${base}/#": ${reasonCodeString(code)}`);
    print(`subscriber: subscribed to "${base}/#" (granted QoS ${code})`);

    const publisher = new Client({ clientId: `tinymqtt-demo-pub-${runId}` });
    clients.push(publisher);
    await connectClient(publisher, "publisher", broker, timeout, print);

    const acks = ["written to the network", "PUBACK", "PUBCOMP"];
    const results: string[] = [];
    for (const qos of [0, 1, 2] as QoS[]) {
      const topic = `${base}/qos${qos}`;
      const text = `hello at QoS ${qos}`;
      const received = new Promise<{ at: number; qos: number; payload: string }>((resolve) => {
        arrivals.set(topic, (at, q, payload) => resolve({ at, qos: q, payload }));
      });
      print(`QoS ${qos}: publishing "${text}" to "${topic}"`);
      const start = performance.now();
      const info = publisher.publish(topic, text, qos);
      const published = info.waitForPublish(timeout).then(() => performance.now());
      const [doneAt, arrival] = await Promise.all([published, within(received, timeout, `the QoS ${qos} message back at the subscriber`)]);
      arrivals.delete(topic);
      if (arrival.payload !== text) throw new Error(`QoS ${qos}: the subscriber received "${arrival.payload}", not "${text}"`);
      print(`QoS ${qos}: ${acks[qos]} after ${ms(doneAt - start)} (mid ${info.mid})`);
      print(`QoS ${qos}: received by the subscriber at QoS ${arrival.qos}: round trip ${ms(arrival.at - start)}`);
      if (qos === 0 && options.broker !== undefined) print(NAGLE_NOTE);
      results.push(`QoS ${qos} ${ms(arrival.at - start)}`);
    }

    for (const [client, name] of [[publisher, "publisher"], [subscriber, "subscriber"]] as const) {
      await disconnectClient(client, timeout);
      print(`${name}: disconnected`);
    }
    print(`round trip complete: ${results.join(", ")}`);
  } finally {
    for (const client of clients) {
      client.disconnect();
      client.loopStop();
    }
    await broker.stop();
    if (options.broker === undefined) print("broker: stopped");
  }
}

/** connect() and loopStart(), then waits for an accepting CONNACK. */
async function connectClient(client: Client, name: string, broker: BrokerHandle, timeout: number, print: (line: string) => void): Promise<void> {
  if (broker.tls) client.tlsSet({});
  print(`${name}: connecting to ${broker.host}:${broker.port}`);
  const start = performance.now();
  const connack = new Promise<ConnectFlags>((resolve, reject) => {
    client.onConnect = (_c, _u, flags, reasonCode) => {
      if (reasonCode === 0) resolve(flags);
      else reject(new Error(`${name}: ${broker.host}:${broker.port} refused the connection: ${refusal(reasonCode)}`));
    };
  });
  await client.connect(broker.host, broker.port, 60);
  client.loopStart();
  const flags = await within(connack, timeout, `the ${name}'s CONNACK`);
  print(`${name}: connected (CONNACK after ${(performance.now() - start).toFixed(2)} ms, session present: ${flags.sessionPresent})`);
}

function refusal(reasonCode: number): string {
  return `${connackString(reasonCode)} (CONNACK code ${reasonCode < 0x80 ? reasonCode : `0x${reasonCode.toString(16)}`})`;
}

async function disconnectClient(client: Client, timeout: number): Promise<void> {
  const gone = new Promise<void>((resolve) => {
    client.onDisconnect = () => resolve();
  });
  client.disconnect();
  await within(gone, timeout, "the disconnection");
  client.loopStop();
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

function parseBroker(spec: string): BrokerHandle {
  let url: URL;
  try {
    url = new URL(spec.includes("://") ? spec : `mqtt://${spec}`);
  } catch {
    throw new Error(`--broker must be a URL such as mqtt://localhost:1883, got "${spec}"`);
  }
  const tls = url.protocol === "mqtts:";
  if (!tls && url.protocol !== "mqtt:" && url.protocol !== "tcp:") {
    throw new Error(`--broker: unsupported scheme "${url.protocol}" (use mqtt:// or mqtts://)`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw new Error(`--broker: no host in "${spec}"`);
  const port = url.port === "" ? (tls ? 8883 : 1883) : Number(url.port);
  return { host, port, tls, describe: `${url.protocol}//${url.host}`, stop: async () => {} };
}

/** aedes (an optional peer dependency) on a free loopback port; loaded only when the demo needs it. */
async function startAedes(): Promise<BrokerHandle> {
  let Aedes: typeof import("aedes").Aedes;
  try {
    ({ Aedes } = await import("aedes"));
  } catch {
    throw new Error(AEDES_HINT("tinymqtt demo"));
  }
  const aedes = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    // Without it Nagle's algorithm holds the broker's first small writes back for a delayed ACK (about 40 ms).
    socket.setNoDelay(true);
    socket.once("close", () => sockets.delete(socket));
    aedes.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    host: "127.0.0.1",
    port,
    tls: false,
    describe: `started an in-process aedes broker on 127.0.0.1:${port}`,
    stop: async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
