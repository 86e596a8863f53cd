// The XS memory profile of the client, shared by the xs-client test (which fails on growth) and
// `npm run bench:xs` (which prints the table): one quiet client inside xsnap-worker, ESP32_BUDGET, on the
// bridge host or on hosts/moddable (over the Moddable fakes), connected to mosquitto; a Node peer
// publishes to it and it publishes to the peer. Live slots are read
// from the worker's meter after gc(); compute is the meter's deterministic count of XS work.
import { performance } from "node:perf_hooks";
import { Client, type MessageInfo, MQTT_ERR_NO_CONN, MQTT_ERR_QUEUE_SIZE, MQTT_ERR_SUCCESS } from "../../../../hosts/node/index.js";
import type { Broker } from "../../../support/mosquitto.js";
import { XsDriver } from "./driver.js";

export const XS = 1;
const HOST = "127.0.0.1";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface Checkpoint {
  /** Messages each way at each QoS so far. */
  messages: number;
  /** Live XS slots after gc(). */
  slots: number;
}

export interface PhaseCost {
  what: string;
  messages: number;
  /** Metered XS compute per message (bridge work included). */
  compute: number;
  /** XS slots allocated per message and freed by the next GC (bridge frames included). */
  transientSlots: number;
}

export interface MemoryProfile {
  /** Live slots after gc() with the bundle loaded and no client. */
  baseSlots: number;
  /** Live slots after gc() with the client connected and subscribed, idle. */
  idleSlots: number;
  /** Bytes of the typed arrays the client holds (its budget's buffers and tables), counted in XS. */
  bufferBytes: number;
  checkpoints: Checkpoint[];
  costs: PhaseCost[];
  /** Links and timers the XS host holds at the end (must stay 1 and 1). */
  hostState: { links: number; timers: number };
  /** Where the idle client's objects are (app.ts census), largest first. */
  census: CensusGroup[];
}

export interface CensusGroup { path: string; objects: number; slots: number }

export interface ProfileOptions {
  broker: Broker;
  /** Message counts (each way, each of QoS 0 and 1) at which to gc() and record the live slots. */
  checkpoints: number[];
  payloadBytes?: number;
  /** Messages in the probes that measure per-message compute and transient slots. */
  probe?: number;
  /** hosts/moddable over the Moddable fakes instead of the bridge host. */
  moddable?: boolean;
  log?: (line: string) => void;
}

/** Publishes count messages from the Node peer, waiting whenever its budget is full; resolves when all are out. */
async function peerPublish(peer: Client, topic: string, qos: 0 | 1, count: number, payload: Uint8Array): Promise<void> {
  let last: MessageInfo | undefined;
  for (let i = 0; i < count;) {
    const info = peer.publish(topic, payload, qos);
    if (info.rc === MQTT_ERR_QUEUE_SIZE) {
      if (last !== undefined && !last.isPublished()) await last.waitForPublish(10_000);
      else await sleep(1);
      continue;
    }
    if (info.rc !== MQTT_ERR_SUCCESS && !(info.rc === MQTT_ERR_NO_CONN && qos > 0)) throw new Error(`peer publish failed: rc ${info.rc}`);
    last = info;
    i++;
  }
  if (last !== undefined) await last.waitForPublish(20_000);
}

/** Waits (bounded) until the XS client has received `target` messages of this QoS. */
async function xsReceived(d: XsDriver, qos: number, target: number, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  for (;;) {
    const got = (await d.call<number[]>("received", XS))[qos]!;
    if (got >= target) return;
    if (performance.now() > deadline) throw new Error(`XS received ${got} of ${target} QoS ${qos} messages within ${ms} ms`);
    await sleep(20);
  }
}

/** Runs one burst of publishes from XS and waits (bounded) for it to complete. */
async function xsBurst(d: XsDriver, topic: string, qos: number, count: number, payloadBytes: number, ms: number): Promise<void> {
  const before = d.events.length;
  await d.call("burst", XS, topic, qos, count, payloadBytes);
  await d.waitFor((e) => e.type === "burstDone" && d.events.indexOf(e) >= before, ms, `XS burst of ${count} QoS ${qos}`);
}

export async function profileMemory(options: ProfileOptions): Promise<MemoryProfile> {
  const { broker, payloadBytes = 32, probe = 100, moddable = false, log = () => {} } = options;
  const payload = new Uint8Array(payloadBytes).fill(0x7a);
  const d = await XsDriver.start();
  const peer = new Client({ clientId: `xs-mem-peer-${process.pid}` });
  peer.maxInflightMessagesSet(100);
  const peerGot = [0, 0, 0];
  try {
    await peer.connect(HOST, broker.port, 30);
    peer.loopStart();
    await waitUntil(() => peer.isConnected(), 3000, "the peer's CONNACK");
    peer.onMessage = (_c, _u, m) => { peerGot[m.qos]!++; };
    let suback = false;
    peer.onSubscribe = () => { suback = true; };
    peer.subscribe([["xsmem/out/0", 0], ["xsmem/out/1", 1]]);
    await waitUntil(() => suback, 3000, "the peer's SUBACK");

    const baseSlots = await d.gc();
    await d.call("create", XS, { clientId: `xs-mem-${process.pid}`, quiet: true, moddable });
    await d.call("invoke", XS, "connect", [HOST, broker.port, 60], 1);
    await d.call("invoke", XS, "loopStart");
    await d.waitFor((e) => e.type === "connect", 3000, "XS onConnect");
    await d.call("invoke", XS, "subscribe", [[["xsmem/in/0", 0], ["xsmem/in/1", 1]]]);
    await d.waitFor((e) => e.type === "subscribe", 3000, "XS onSubscribe");
    await peerPublish(peer, "xsmem/in/1", 1, 1, payload);
    await xsReceived(d, 1, 1, 3000);
    await peerPublish(peer, "xsmem/in/0", 0, 1, payload);
    await xsReceived(d, 0, 1, 3000);
    let received = 1; // each QoS: the one that proved the subscription
    const idleSlots = await d.gc();
    const bufferBytes = await d.call<number>("bufferBytes", XS);
    const census = await d.call<CensusGroup[]>("census", XS);
    log(`base ${baseSlots} slots; idle connected client ${idleSlots} slots; buffers ${bufferBytes} bytes`);

    const checkpoints: Checkpoint[] = [];
    const costs = new Map<string, { compute: number; messages: number }>();
    const account = async (what: string, messages: number, run: () => Promise<void>): Promise<void> => {
      await d.settled();
      const before = d.compute;
      const started = performance.now();
      await run();
      await d.settled();
      const compute = d.compute - before - d.lastCompute;
      log(`  ${what}: ${messages} in ${(performance.now() - started).toFixed(0)} ms`);
      const c = costs.get(what) ?? { compute: 0, messages: 0 };
      c.compute += compute;
      c.messages += messages;
      costs.set(what, c);
    };
    let done = 0;
    for (const target of options.checkpoints) {
      const n = target - done;
      const t0 = performance.now();
      await account("received QoS 0", n, async () => {
        await peerPublish(peer, "xsmem/in/0", 0, n, payload);
        await xsReceived(d, 0, received + n, 20_000);
      });
      await account("received QoS 1", n, async () => {
        await peerPublish(peer, "xsmem/in/1", 1, n, payload);
        await xsReceived(d, 1, received + n, 20_000);
      });
      received += n;
      await account("sent QoS 0", n, () => xsBurst(d, "xsmem/out/0", 0, n, payloadBytes, 20_000));
      await account("sent QoS 1", n, () => xsBurst(d, "xsmem/out/1", 1, n, payloadBytes, 20_000));
      done = target;
      const slots = await d.gc();
      checkpoints.push({ messages: target, slots });
      log(`${target} messages each way at QoS 0 and 1: ${slots} live slots (${(performance.now() - t0).toFixed(0)} ms)`);
    }
    // QoS 0 delivery to the peer is not acknowledged: wait for it to settle before counting.
    await waitUntil(() => peerGot[0]! >= done * 0.99 && peerGot[1]! >= done, 10_000, () => `the peer's deliveries (${peerGot.join("/")})`);

    // Per-message transient slots: a short probe after gc(), before any collection can run.
    const transient = new Map<string, number>();
    const probeRun = async (what: string, run: () => Promise<void>): Promise<void> => {
      const start = await d.gc();
      await run();
      await d.settled();
      transient.set(what, (d.heap - start) / probe);
    };
    await probeRun("received QoS 0", async () => {
      await peerPublish(peer, "xsmem/in/0", 0, probe, payload);
      await xsReceived(d, 0, received + probe, 5000);
    });
    await probeRun("received QoS 1", async () => {
      await peerPublish(peer, "xsmem/in/1", 1, probe, payload);
      await xsReceived(d, 1, received + probe, 5000);
    });
    await probeRun("sent QoS 0", () => xsBurst(d, "xsmem/out/0", 0, probe, payloadBytes, 5000));
    await probeRun("sent QoS 1", () => xsBurst(d, "xsmem/out/1", 1, probe, payloadBytes, 5000));

    const result: MemoryProfile = {
      baseSlots,
      idleSlots,
      bufferBytes,
      checkpoints,
      costs: [...costs].map(([what, c]) => ({ what, messages: c.messages, compute: c.compute / c.messages, transientSlots: transient.get(what) ?? NaN })),
      hostState: await d.call("hostState"),
      census,
    };
    return result;
  } finally {
    peer.disconnect();
    peer.loopStop();
    await d.close();
  }
}

async function waitUntil(cond: () => boolean, ms: number, what: string | (() => string)): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === "string" ? what : what()}`);
    await sleep(5);
  }
}

/** What `npm run bench:xs` measures of Moddable's own mqtt module, beside profileMemory's client. */
export interface PeerProfile {
  baseSlots: number;
  /** Connected, subscribed, one message received; after gc(). */
  idleSlots: number;
  census: CensusGroup[];
  checkpoints: Checkpoint[];
  /** QoS 0 only: the module has no QoS 1/2. */
  costs: PhaseCost[];
}

export interface PeerOptions {
  broker: Broker;
  /** The SDK's modules/network/mqtt/mqtt.js, bundled at run time (never copied into the project). */
  moddableMqtt: string;
  checkpoints: number[];
  payloadBytes?: number;
  probe?: number;
  log?: (line: string) => void;
  /** Also a round of this many QoS 1 messages each way (tinymqtt/lite, which has the same API and QoS 1/2). */
  qos1Messages?: number;
}

/**
 * Moddable's mqtt module inside xsnap-worker, over the same fakes of Moddable's socket/timer/time modules and
 * the same bridge as profileMemory's client on hosts/moddable, with the same Node peer: QoS 0 both ways, the
 * same payloads, live slots after gc() at the same checkpoints, compute and short-lived slots per message.
 */
export async function profileModdableMqtt(options: PeerOptions): Promise<PeerProfile> {
  const { broker, payloadBytes = 32, probe = 100, log = () => {} } = options;
  const payload = new Uint8Array(payloadBytes).fill(0x7a);
  const d = await XsDriver.start(options.moddableMqtt);
  const peer = new Client({ clientId: `xs-mem-mqttjs-peer-${process.pid}` });
  peer.maxInflightMessagesSet(100);
  let peerGot = 0;
  try {
    await peer.connect(HOST, broker.port, 30);
    peer.loopStart();
    await waitUntil(() => peer.isConnected(), 3000, "the peer's CONNACK");
    peer.onMessage = () => { peerGot++; };
    let suback = false;
    peer.onSubscribe = () => { suback = true; };
    peer.subscribe("xsmem/mqttjs/out", 0);
    await waitUntil(() => suback, 3000, "the peer's SUBACK");

    const baseSlots = await d.gc();
    await d.call("createModdableMqtt", XS, { host: HOST, port: broker.port, id: `xs-mem-mqttjs-${process.pid}`, timeout: 60_000 });
    await d.waitFor((e) => e.type === "connect", 3000, "Moddable mqtt's onReady");
    await d.call("subscribeModdableMqtt", XS, "xsmem/mqttjs/in");
    // The module reports no SUBACK: a message that arrives proves the subscription.
    const received = async (target: number, ms: number): Promise<void> => {
      const deadline = performance.now() + ms;
      for (;;) {
        const got = await d.call<number>("receivedModdableMqtt", XS);
        if (got >= target) return;
        if (performance.now() > deadline) throw new Error(`Moddable mqtt received ${got} of ${target} messages within ${ms} ms`);
        await sleep(20);
      }
    };
    const proof = performance.now();
    while ((await d.call<number>("receivedModdableMqtt", XS)) === 0) {
      if (performance.now() - proof > 5000) throw new Error("Moddable mqtt's subscription never delivered");
      await peerPublish(peer, "xsmem/mqttjs/in", 0, 1, payload);
      await sleep(50);
    }
    let got = await d.call<number>("receivedModdableMqtt", XS);
    const idleSlots = await d.gc();
    const census = await d.call<CensusGroup[]>("census", XS, true);
    log(`base ${baseSlots} slots; idle connected Moddable mqtt ${idleSlots} slots`);

    const costs = new Map<string, { compute: number; messages: number }>();
    const account = async (what: string, messages: number, run: () => Promise<void>): Promise<void> => {
      await d.settled();
      const before = d.compute;
      await run();
      await d.settled();
      const c = costs.get(what) ?? { compute: 0, messages: 0 };
      c.compute += d.compute - before - d.lastCompute;
      c.messages += messages;
      costs.set(what, c);
    };
    /** Publishes n, as fast as the socket's room (and at QoS 1 the in-flight window) comes back. */
    const send = async (n: number, ms: number, qos: 0 | 1 = 0): Promise<void> => {
      const deadline = performance.now() + ms;
      for (let left = n; left > 0;) {
        const sent = await d.call<number>("publishModdableMqtt", XS, "xsmem/mqttjs/out", left, payloadBytes, qos);
        left -= sent;
        if (sent === 0) {
          if (performance.now() > deadline) throw new Error(`Moddable mqtt sent ${n - left} of ${n} within ${ms} ms`);
          await sleep(1);
        }
      }
    };
    const checkpoints: Checkpoint[] = [];
    let done = 0;
    for (const target of options.checkpoints) {
      const n = target - done;
      await account("received QoS 0", n, async () => {
        await peerPublish(peer, "xsmem/mqttjs/in", 0, n, payload);
        await received(got + n, 20_000);
      });
      got += n;
      await account("sent QoS 0", n, () => send(n, 20_000));
      done = target;
      const slots = await d.gc();
      checkpoints.push({ messages: target, slots });
      log(`${target} QoS 0 messages each way: ${slots} live slots`);
    }
    await waitUntil(() => peerGot >= done * 0.99, 10_000, () => `the peer's deliveries (${peerGot})`);
    const qos1 = options.qos1Messages ?? 0;
    if (qos1 > 0) {
      await d.call("subscribeModdableMqtt", XS, "xsmem/mqttjs/in1", 1);
      await sleep(200);
      await account("received QoS 1", qos1, async () => {
        await peerPublish(peer, "xsmem/mqttjs/in1", 1, qos1, payload);
        await received(got + qos1, 20_000);
      });
      got += qos1;
      await account("sent QoS 1", qos1, async () => {
        await send(qos1, 20_000, 1);
        // Until every PUBACK is in: the acknowledgements are part of what a QoS 1 message costs.
        const deadline = performance.now() + 10_000;
        while ((await d.call<number>("unfinishedModdableMqtt", XS)) > 0) {
          if (performance.now() > deadline) throw new Error("QoS 1 messages still unacknowledged after 10 s");
          await sleep(5);
        }
      });
      log(`${qos1} QoS 1 messages each way`);
    }

    const transient = new Map<string, number>();
    const probeRun = async (what: string, run: () => Promise<void>): Promise<void> => {
      const start = await d.gc();
      await run();
      await d.settled();
      transient.set(what, (d.heap - start) / probe);
    };
    await probeRun("received QoS 0", async () => {
      await peerPublish(peer, "xsmem/mqttjs/in", 0, probe, payload);
      await received(got + probe, 5000);
    });
    await probeRun("sent QoS 0", () => send(probe, 5000));
    await d.call("closeModdableMqtt", XS);
    return {
      baseSlots,
      idleSlots,
      census,
      checkpoints,
      costs: [...costs].map(([what, c]) => ({ what, messages: c.messages, compute: c.compute / c.messages, transientSlots: transient.get(what) ?? NaN })),
    };
  } finally {
    peer.disconnect();
    peer.loopStop();
    await d.close();
  }
}

/**
 * The live slots of a bare connected socket and one repeating timer of the fakes (JavaScript objects here,
 * native on a device: a host object of a few slots each, under both clients alike), and the compute of one
 * write() of a QoS 0 PUBLISH through them (after a CONNECT; only XS is metered).
 */
export async function bareSocket(broker: Broker, packetBytes: number, writes = 2000): Promise<{ slots: number; computePerWrite: number }> {
  const d = await XsDriver.start();
  try {
    const base = await d.gc();
    await d.call("openBareSocket", XS, HOST, broker.port);
    await d.waitFor((e) => e.type === "connect", 3000, "the bare socket connected");
    const slots = (await d.gc()) - base;
    // What one write() of a packet costs in the fakes and the bridge (Moddable's mqtt makes one per PUBLISH).
    await d.settled();
    const before = d.compute;
    const deadline = performance.now() + 20_000;
    for (let left = writes; left > 0;) {
      const n = await d.call<number>("writeBareSocket", XS, left, packetBytes);
      left -= n;
      if (n > 0) continue;
      if (performance.now() > deadline) throw new Error(`the bare socket took ${writes - left} of ${writes} writes within 20 s`);
      await sleep(1);
    }
    await d.settled();
    const computePerWrite = (d.compute - before - d.lastCompute) / writes;
    await d.call("closeBareSocket", XS);
    return { slots, computePerWrite };
  } finally {
    await d.close();
  }
}
