/**
 * Fault tests: no QoS 1/2 message lost, no QoS 2 message delivered twice, whatever dies on the way.
 * Loopback only, bounded in count and time (under a minute in all on this machine). Each prints its seed
 * and what it did (t.diagnostic); FAULT_SEED=<n> repeats a run's random choices.
 *
 * 1. SIGKILL: a child process (test/integration/faults/publisher.ts: FileStore compacting every 8 KiB, clean session off,
 *    a fixed client id) publishes 2,000 QoS 1 and 2,000 QoS 2 messages and is killed 20 times mid-stream (at
 *    random progress points, some within 60 ms of its start line, some at a random time after spawn: while
 *    it boots, compacts, restores, connects, resumes); every fifth kill also leaves a torn partial record at
 *    the end of the store file, which the next incarnation must drop and report (FileStore.lastRecovery).
 *    Each new incarnation resumes from the file store; the last one must see onPublish for every restored mid.
 * 2. mosquitto (persistence on) is restarted 10 times mid-stream under an in-process publisher with a
 *    FileStore; both clients must find their sessions after every restart.
 * 3. TCP proxies between each client and mosquitto cut (FIN and RST), stall (shorter than keepalive: bytes
 *    arrive late) and black-hole (longer: keepalive ends the link, held bytes are dropped) at random; the
 *    clients reconnect with backoff, not in a tight loop: connection attempts are counted by the proxies and
 *    timed by onPreConnect (never closer than the minimum delay), and a 3 s window in which every new
 *    connection is cut before its CONNACK must see the attempts back off (a handful, not one per cut).
 * 4. The subscriber itself restarted 10 times mid-stream: abandoned between two turns of its loop without
 *    DISCONNECT, replaced by a new Client over its FileStore, which takes the session over.
 * 5. A realistic store log (written by a Client through a FileStore) truncated at every byte offset, and
 *    damaged by single-byte corruption: record-log replay and FileStore load exactly the complete records
 *    before the cut, report what they dropped, repair the file, and a Client restores from what they load.
 * Assertions in 1-4: every QoS 1 message at least once, every QoS 2 message exactly once, no gaps, nothing
 * stray, every publish's MessageInfo resolved and onPublish reason 0.
 * mosquitto is configured deliberately (shared/DESIGN.md): max_inflight_messages 40, above the publishers'
 * window of 20 (mosquitto silently drops a 3.1.1 publisher's QoS 2 above its limit); max_queued_messages
 * 10000, above the whole stream (mosquitto drops messages beyond it for a slow or offline subscriber); its
 * log must not mention dropping anything. The subscribers' budget.maxIncomingQos2 is 16, below that window
 * and far below what mosquitto 2.0.11 sends when it resumes a session: on 3.1.1 exactly once then rests on
 * the overflow set of src/engine/incoming-qos2.ts (see SUBSCRIBER_INCOMING_QOS2 in test/integration/faults/util.ts);
 * each test reports how many times the table was exceeded.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Client, FileStore, MQTT_ERR_NO_CONN, MQTT_ERR_SUCCESS, type MessageInfo } from "../../hosts/node/index.js";
import { CONNACK, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL } from "../../src/codec/index.js";
import { OUT_SAVED, recordLength, replay, writeRecord } from "../../src/session/record-log.js";
import { FakeHost } from "../support/fake-host.js";
import { type Broker, startMosquitto } from "../support/mosquitto.js";
import { type Proxy, startProxy } from "../support/proxy.js";
import {
  HOST, RecordingStore, SUBSCRIBER_INCOMING_QOS2, type Subscriber, expectedAt, recordLog, payloadOf, plain, qosOf, rng, sleep, startSubscriber,
  topicOf, until, within,
} from "./faults/util.js";

const PER_QOS = 2000;
const TOTAL = 2 * PER_QOS;
const MOSQUITTO_LIMITS = { maxInflightMessages: 40, maxQueuedMessages: 10000 };
/** The publishers' in-flight window: at most this many QoS 1/2 flows sent and unacknowledged. */
const INFLIGHT = 20;
/** How many publishes may be outstanding (queued or in flight) before a publisher waits for onPublish. */
const WINDOW = 100;

const root = fs.mkdtempSync(path.join(os.tmpdir(), "tinymqtt-faults-"));
/** Child publishers still running: killed if this process exits first (a failed assertion, a timeout). */
const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
  fs.rmSync(root, { recursive: true, force: true });
});

/** Ends a client for good, whatever state the test left it in (used from t.after). */
function stop(client: Client): void {
  client.disconnect();
  client.loopStop();
}

function seedFor(name: string): number {
  const fixed = process.env["FAULT_SEED"];
  if (fixed !== undefined) return Number(fixed);
  let h = Date.now() >>> 0;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 0x9e3779b1) >>> 0;
  return h;
}

/** Waits for the subscriber to hold every message, then a little longer for late duplicates; asserts. */
async function assertDelivery(sub: Subscriber, broker: Broker | undefined, timeoutMs: number): Promise<void> {
  await until(() => sub.tally.complete, timeoutMs, () => `every message at the subscriber: ${sub.tally.summary()}\n${sub.log.slice(-20).join("\n")}`);
  await sleep(500);
  const t = sub.tally;
  assert.deepEqual(t.missing(1), [], `QoS 1 messages lost: ${t.summary()}`);
  assert.deepEqual(t.missing(2), [], `QoS 2 messages lost: ${t.summary()}`);
  assert.deepEqual(t.q2Duplicates(), [], `QoS 2 messages delivered more than once: ${t.summary()}`);
  assert.deepEqual(t.stray, [], "messages that are not of the stream");
  assert.equal(t.wrongQos, 0, "every message arrives at the QoS it was published with");
  if (broker !== undefined) assert.doesNotMatch(broker.log, /dropped/i, "mosquitto dropped messages (see its limits)");
}

/**
 * An in-process publisher of the whole stream with a FileStore: at most WINDOW outstanding, every
 * MessageInfo kept (each must resolve), onPublish counted. `pace` optionally slows it (ms per 25 messages).
 */
function startPublisher(port: number, clientId: string, prefix: string, o: { keepalive: number; pace?: number; minDelay: number; maxDelay: number }) {
  // Compacting every 16 KiB or so: compaction runs mid-stream too.
  const store = new FileStore(path.join(root, clientId), { compactAfterBytes: 16384 });
  const client = new Client({ clientId, cleanSession: false, store });
  client.maxInflightMessagesSet(INFLIGHT);
  client.reconnectDelaySet(o.minDelay, o.maxDelay);
  const state = {
    client, store, infos: [] as MessageInfo[], published: 0, completed: 0, failures: [] as string[], connacks: [] as boolean[],
    attempts: [] as number[], log: [] as string[], finished: undefined as Promise<void> | undefined,
  };
  let wake: (() => void) | undefined;
  client.onPublish = (_c, _u, mid, rc) => {
    state.completed++;
    if (rc !== 0) state.failures.push(`mid ${mid}: reason ${rc}`);
    const w = wake;
    wake = undefined;
    w?.();
  };
  client.onConnect = (_c, _u, flags, rc) => { if (rc === 0) state.connacks.push(flags.sessionPresent); };
  client.onPreConnect = () => { state.attempts.push(performance.now()); };
  client.onLog = (_c, _u, level, buf) => {
    if (level > 8) return;
    state.log.push(`${Math.round(performance.now())} ${buf}`);
    if (state.log.length > 300) state.log.shift();
  };
  client.connectAsync(HOST, port, o.keepalive);
  client.loopStart();
  state.finished = (async () => {
    for (let k = 0; k < TOTAL; k++) {
      while (state.published - state.completed >= WINDOW) await new Promise<void>((resolve) => { wake = resolve; });
      const info = client.publish(topicOf(prefix, k), payloadOf(k), qosOf(k));
      // While the link is down QoS 1/2 says MQTT_ERR_NO_CONN (as Paho) and is queued all the same.
      if (info.rc !== MQTT_ERR_SUCCESS && info.rc !== MQTT_ERR_NO_CONN) throw new Error(`publish ${k}: rc ${info.rc}`);
      state.infos.push(info);
      state.published++;
      if (k % 25 === 24) await (o.pace === undefined ? new Promise((resolve) => setImmediate(resolve)) : sleep(o.pace));
    }
    await Promise.all(state.infos.map((i) => i.waitForPublish()));
  })();
  return state;
}

// ---- 1. SIGKILL of the publishing process ---------------------------------------------------------

test("SIGKILL of a publishing process 20 times mid-stream: it resumes from its FileStore; QoS 1 at least once, QoS 2 exactly once", { timeout: 120_000 }, async (t) => {
  const started = performance.now();
  const seed = seedFor("kill");
  t.diagnostic(`seed ${seed}`);
  const random = rng(seed);
  const broker = await startMosquitto(MOSQUITTO_LIMITS);
  t.after(() => broker.stop());
  const prefix = `faults/kill/${seed}`;
  const sub = await startSubscriber(broker.port, `faults-kill-sub-${seed}`, prefix, PER_QOS);
  t.after(() => stop(sub.client));
  const dir = path.join(root, "kill");
  fs.mkdirSync(dir);
  const script = fileURLToPath(new URL("./faults/publisher.js", import.meta.url));
  const clientId = `faults-kill-pub-${seed}`;
  const config = JSON.stringify({ port: broker.port, dir, clientId, prefix, perQos: PER_QOS, window: WINDOW, inflight: INFLIGHT, compactAfterBytes: 8192 });
  const storeFile = path.join(dir, "store", `${encodeURIComponent(clientId)}.session`);

  // 20 kills: most at random progress points spread over the stream, some within 60 ms of the child's start
  const KILLS = 20;
  // line (restoring, connecting, resuming flows), two at a random time after spawn (booting, compacting).
  const plans = Array.from({ length: KILLS }, (_, i) => (i % 8 === 3
    ? { kind: "spawn" as const, delay: Math.floor(random() * 150) }
    : i % 4 === 1
      ? { kind: "early" as const, delay: Math.floor(random() * 60) }
      : { kind: "progress" as const, at: Math.floor(((i + 0.3 + random() * 0.5) / KILLS) * TOTAL * 0.85), delay: Math.floor(random() * 4) }));

  type Event = Record<string, unknown>;
  const incarnations: Array<{ start?: Event; connacks: Event[]; killedAt?: number; lastProgress: number; done?: Event; errors: Event[]; code: number | null; signal: string | null; stderr: string }> = [];
  let kills = 0;
  /** Incarnation number (1-based) -> bytes of a torn record left before it started. */
  const tornAppended = new Map<number, number>();
  while (incarnations.at(-1)?.done === undefined) {
    assert.ok(incarnations.length <= KILLS + 2, "more incarnations than kills + 1");
    const plan = kills < KILLS ? plans[kills]! : undefined;
    const me: (typeof incarnations)[number] = { connacks: [], lastProgress: -1, errors: [], code: null, signal: null, stderr: "" };
    incarnations.push(me);
    const child = spawn(process.execPath, [script, config], { stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    child.once("exit", () => children.delete(child));
    let killed = false;
    const kill = (): void => {
      if (killed) return;
      killed = true;
      me.killedAt = me.lastProgress;
      child.kill("SIGKILL");
    };
    const later = (ms: number): void => { if (ms === 0) kill(); else setTimeout(kill, ms); };
    if (plan?.kind === "spawn") later(plan.delay);
    child.stderr.on("data", (chunk: Buffer) => { me.stderr += chunk.toString(); });
    const lines = createInterface({ input: child.stdout });
    const linesClosed = new Promise((resolve) => lines.once("close", resolve));
    lines.on("line", (line) => {
      if (line.startsWith("p ")) {
        me.lastProgress = Number(line.slice(2));
        if (plan?.kind === "progress" && me.lastProgress >= plan.at) later(plan.delay);
        return;
      }
      const e = JSON.parse(line.slice(2)) as Event;
      if (e["ev"] === "start") {
        me.start = e;
        if (plan?.kind === "early") later(plan.delay);
      } else if (e["ev"] === "connack") me.connacks.push(e);
      else if (e["ev"] === "done") me.done = e;
      else me.errors.push(e);
    });
    const exit = await within(new Promise<[number | null, string | null]>((resolve) => child.once("exit", (code, signal) => resolve([code, signal]))),
      60_000, `incarnation ${incarnations.length} to end (${JSON.stringify(me)})`);
    [me.code, me.signal] = exit;
    await within(linesClosed, 5000, "the child's stdout to close");
    assert.deepEqual(me.errors, [], `incarnation ${incarnations.length} reported errors; stderr:\n${me.stderr}`);
    if (killed && me.signal === "SIGKILL") {
      kills++;
      // Every fifth kill also leaves a torn record, as a crash in the middle of write() could: the first
      // part of a record of a publish whose publish() never returned. The next incarnation must drop it.
      if (kills % 5 === 0 && fs.existsSync(storeFile)) {
        const record = new Uint8Array(recordLength(40));
        writeRecord(record, 0, OUT_SAVED, 4242, new Uint8Array(40).fill(0x33));
        const torn = record.subarray(0, 1 + Math.floor(random() * (record.length - 1)));
        fs.appendFileSync(storeFile, torn);
        tornAppended.set(incarnations.length + 1, torn.length);
      }
    } else assert.equal(me.code, 0, `incarnation ${incarnations.length} exited ${me.code} ${me.signal}:\n${me.stderr}`);
  }
  const killedAt = incarnations.filter((i) => i.killedAt !== undefined).map((i) => i.killedAt);
  t.diagnostic(`${incarnations.length} incarnations, ${kills} killed at progress ${JSON.stringify(killedAt)}`);
  t.diagnostic(`restored flows per start: ${JSON.stringify(incarnations.map((i) => i.start?.["restored"] ?? "-"))}; released: ${JSON.stringify(incarnations.map((i) => i.start?.["released"] ?? "-"))}; torn bytes dropped: ${JSON.stringify(incarnations.map((i) => i.start?.["dropped"] ?? "-"))}`);
  assert.equal(kills, KILLS);
  assert.equal(incarnations.length, KILLS + 1);
  const killedMidStream = incarnations.filter((i) => i.killedAt !== undefined && i.killedAt >= 0 && i.killedAt < TOTAL).length;
  assert.ok(killedMidStream >= KILLS / 2, `${killedMidStream} kills while publishing`);
  // Later incarnations found a session at the broker, and resumed flows from the store.
  let connected = false;
  for (const [n, i] of incarnations.entries()) {
    for (const c of i.connacks) {
      if (connected) assert.equal(c["sessionPresent"], true, `incarnation ${n + 1}'s CONNACK after the session began`);
      connected = true;
    }
  }
  assert.ok(incarnations.filter((i) => Number(i.start?.["restored"] ?? 0) > 0).length >= 5, "several incarnations resumed stored flows");
  for (const [n, bytes] of tornAppended) {
    const start = incarnations[n - 1]!.start;
    // An incarnation killed before its start line found it (and dropped it) without saying so: then the next says.
    if (start !== undefined) assert.equal(start["dropped"], bytes, `incarnation ${n} reports the torn record it dropped`);
  }
  assert.ok(tornAppended.size >= 3, "torn records were left");
  const done = incarnations.at(-1)!.done!;
  assert.equal(done["restoredUnreported"], 0, "onPublish reported every restored mid in the last incarnation");
  assert.equal(done["restoredReported"], done["restored"]);
  await assertDelivery(sub, broker, 60_000);
  t.diagnostic(`subscriber: ${sub.tally.summary()}; QoS 1 duplicates ${sub.tally.q1Duplicates()}; incoming QoS 2 table exceeded ${sub.overflowed}x; ${Math.round(performance.now() - started)} ms`);
});

// ---- 2. mosquitto restarted ------------------------------------------------------------------------

test("mosquitto (persistence on) restarted 10 times mid-stream: QoS 1 at least once, QoS 2 exactly once, sessions resumed", { timeout: 120_000 }, async (t) => {
  const started = performance.now();
  const seed = seedFor("restart");
  t.diagnostic(`seed ${seed}`);
  const random = rng(seed);
  const broker = await startMosquitto({ persistence: true, ...MOSQUITTO_LIMITS });
  t.after(() => broker.stop());
  const prefix = `faults/restart/${seed}`;
  const sub = await startSubscriber(broker.port, `faults-restart-sub-${seed}`, prefix, PER_QOS, { minDelay: 0.05, maxDelay: 0.5 });
  t.after(() => stop(sub.client));
  const pub = startPublisher(broker.port, `faults-restart-pub-${seed}`, prefix, { keepalive: 10, pace: 5, minDelay: 0.05, maxDelay: 0.5 });
  t.after(() => { stop(pub.client); pub.store.close(); });
  let publishError: unknown;
  pub.finished!.catch((e: unknown) => { publishError = e; });

  const RESTARTS = 10;
  const restartsAt: number[] = [];
  for (let i = 0; i < RESTARTS; i++) {
    const at = Math.floor(((i + 0.2 + random() * 0.6) / RESTARTS) * TOTAL * 0.9);
    await until(() => pub.published >= at || publishError !== undefined, 60_000, `the publisher to reach ${at} (at ${pub.published})`);
    if (publishError !== undefined) throw publishError;
    await sleep(Math.floor(random() * 50));
    const before = [pub.connacks.length, sub.connacks.length];
    restartsAt.push(pub.published);
    await broker.restart();
    await until(() => pub.connacks.length > before[0]! && sub.connacks.length > before[1]!, 20_000,
      () => `both clients back after restart ${i + 1}; publisher log:\n${pub.log.slice(-10).join("\n")}`);
  }
  t.diagnostic(`restarted at publisher progress ${JSON.stringify(restartsAt)}`);
  await within(pub.finished!, 60_000, `every publish acknowledged (${pub.completed}/${TOTAL})`);
  assert.ok(restartsAt.every((n) => n < TOTAL), "every restart came mid-stream");
  assert.deepEqual(pub.failures, []);
  assert.equal(pub.completed, TOTAL, "onPublish once per message");
  assert.ok(pub.infos.every((i) => i.isPublished()));
  // Persistence kept both sessions through every restart.
  for (const [who, connacks] of [["publisher", pub.connacks], ["subscriber", sub.connacks]] as const) {
    assert.ok(connacks.length >= RESTARTS + 1, `${who}: ${connacks.length} CONNACKs`);
    assert.deepEqual(connacks.slice(1).filter((p) => !p), [], `${who}: session present after every restart`);
  }
  await assertDelivery(sub, broker, 30_000);
  t.diagnostic(`subscriber: ${sub.tally.summary()}; QoS 1 duplicates ${sub.tally.q1Duplicates()}; incoming QoS 2 table exceeded ${sub.overflowed}x; ${Math.round(performance.now() - started)} ms`);
});

// ---- 3. a hostile network ----------------------------------------------------------------------------

test("proxies that cut, stall and black-hole the links at random: nothing lost or doubled; reconnects back off", { timeout: 150_000 }, async (t) => {
  const started = performance.now();
  const seed = seedFor("proxy");
  t.diagnostic(`seed ${seed}`);
  const random = rng(seed);
  const broker = await startMosquitto(MOSQUITTO_LIMITS);
  const proxies: Record<"pub" | "sub", Proxy> = { pub: await startProxy(broker.port), sub: await startProxy(broker.port) };
  t.after(async () => {
    await proxies.pub.close();
    await proxies.sub.close();
    await broker.stop();
  });
  const prefix = `faults/proxy/${seed}`;
  const MIN_DELAY = 0.1;
  const sub = await startSubscriber(proxies.sub.port, `faults-proxy-sub-${seed}`, prefix, PER_QOS, { keepalive: 1, minDelay: MIN_DELAY, maxDelay: 2 });
  t.after(() => stop(sub.client));
  const subAttempts: number[] = [];
  sub.client.onPreConnect = () => { subAttempts.push(performance.now()); };
  const pub = startPublisher(proxies.pub.port, `faults-proxy-pub-${seed}`, prefix, { keepalive: 1, pace: 120, minDelay: MIN_DELAY, maxDelay: 2 });
  t.after(() => { stop(pub.client); pub.store.close(); });
  let publishDone = false;
  let publishError: unknown;
  pub.finished!.then(() => { publishDone = true; }, (e: unknown) => { publishError = e; });

  const faults: Record<"pub" | "sub", string[]> = { pub: [], sub: [] };
  const deadline = performance.now() + 45_000;
  let probe: { attempts: number; accepted: number; ms: number } | undefined;
  let n = 0;
  while (!publishDone && publishError === undefined && performance.now() < deadline && n < 60) {
    await sleep(100 + Math.floor(random() * 300));
    n++;
    const side = random() < 0.5 ? "pub" : "sub";
    const proxy = proxies[side];
    const r = random();
    if (n === 6) {
      // The backoff probe: for 3 s every new connection of the publisher is accepted, held and cut before
      // its CONNACK; a client in a tight loop would make one attempt per cut (60), one backing off ~5.
      const attempts0 = pub.attempts.length;
      const accepted0 = proxies.pub.accepted;
      const t0 = performance.now();
      proxies.pub.stall();
      while (performance.now() - t0 < 3000) {
        proxies.pub.cut();
        await sleep(50);
      }
      proxies.pub.resume();
      probe = { attempts: pub.attempts.length - attempts0, accepted: proxies.pub.accepted - accepted0, ms: Math.round(performance.now() - t0) };
      faults.pub.push("probe");
    } else if (r < 0.35) {
      proxy.cut();
      faults[side].push("cut");
    } else if (r < 0.5) {
      proxy.cut(true);
      faults[side].push("reset");
    } else if (r < 0.8) {
      const ms = 100 + Math.floor(random() * 600);
      proxy.stall();
      await sleep(ms);
      proxy.resume();
      faults[side].push(`stall ${ms}`);
    } else {
      // Black hole: silent for longer than 1.5 x keepalive, then whatever was held is lost.
      const ms = 2000 + Math.floor(random() * 500);
      proxy.stall();
      await sleep(ms);
      proxy.cut();
      proxy.resume();
      faults[side].push(`blackhole ${ms}`);
    }
  }
  if (publishError !== undefined) throw publishError;
  const chaosMs = Math.round(performance.now() - started);
  t.diagnostic(`faults on the publisher's link: ${faults.pub.join(", ")}`);
  t.diagnostic(`faults on the subscriber's link: ${faults.sub.join(", ")}`);
  t.diagnostic(`connections accepted: publisher ${proxies.pub.accepted}, subscriber ${proxies.sub.accepted}; backoff probe ${JSON.stringify(probe)}`);
  await within(pub.finished!, 60_000, `every publish acknowledged (${pub.completed}/${TOTAL})\n${pub.log.slice(-15).join("\n")}`);
  assert.ok(faults.pub.length + faults.sub.length >= 15, `only ${faults.pub.length + faults.sub.length} faults injected before the stream ended`);
  assert.deepEqual(pub.failures, []);
  assert.equal(pub.completed, TOTAL);
  await assertDelivery(sub, broker, 60_000);

  // Backoff, not a tight loop.
  assert.ok(probe !== undefined, "the backoff probe ran");
  // At least one: the faults before the probe may already have doubled the backoff to its 2 s maximum (it goes
  // back to the minimum only after 10 s connected), so a probe that starts early in such a wait sees one attempt.
  assert.ok(probe.attempts >= 1 && probe.attempts <= 7, `connection attempts in the 3 s probe: ${probe.attempts} (backoff from ${MIN_DELAY} s doubling)`);
  assert.ok(probe.accepted <= probe.attempts + 1, `the proxy saw ${probe.accepted} connections for ${probe.attempts} attempts`);
  for (const [who, times] of [["publisher", pub.attempts], ["subscriber", subAttempts]] as const) {
    let minGap = Infinity;
    for (let i = 1; i < times.length; i++) minGap = Math.min(minGap, times[i]! - times[i - 1]!);
    t.diagnostic(`${who}: ${times.length} connection attempts, closest two ${Math.round(minGap)} ms apart`);
    assert.ok(minGap >= MIN_DELAY * 1000 - 5, `${who}: two connection attempts ${minGap} ms apart, under the ${MIN_DELAY} s minimum delay`);
  }
  // A black hole is found by keepalive (nothing received for 1.5 x keepalive), not left hanging.
  for (const [side, log] of [["pub", pub.log], ["sub", sub.log]] as const) {
    if (faults[side].some((f) => f.startsWith("blackhole"))) {
      assert.ok(log.some((l) => /nothing received for|Connection lost|Connection closing/.test(l)), `${side}: no sign of the black hole in the log:\n${log.slice(-10).join("\n")}`);
      t.diagnostic(`${side}: ${log.filter((l) => l.includes("nothing received for")).length} links ended by keepalive`);
    }
  }
  // Over the whole run: a few connections per fault at most (a black hole costs the held attempt too).
  for (const side of ["pub", "sub"] as const) {
    const bound = 3 * faults[side].length + (side === "pub" ? probe.accepted : 0) + 5;
    assert.ok(proxies[side].accepted <= bound, `${side}: ${proxies[side].accepted} connections for ${faults[side].length} faults`);
  }
  t.diagnostic(`subscriber: ${sub.tally.summary()}; QoS 1 duplicates ${sub.tally.q1Duplicates()}; incoming QoS 2 table exceeded ${sub.overflowed}x; chaos ${chaosMs} ms, total ${Math.round(performance.now() - started)} ms`);
});

// ---- 4. the subscriber restarted -------------------------------------------------------------------

test("a subscriber restarted 10 times mid-stream from its FileStore (abandoned without DISCONNECT): QoS 2 still exactly once", { timeout: 120_000 }, async (t) => {
  const started = performance.now();
  const seed = seedFor("subrestart");
  t.diagnostic(`seed ${seed}`);
  const random = rng(seed);
  const broker = await startMosquitto(MOSQUITTO_LIMITS);
  t.after(() => broker.stop());
  const prefix = `faults/subrestart/${seed}`;
  const subId = `faults-subrestart-sub-${seed}`;
  const subDir = path.join(root, subId);
  // The first incarnation subscribes; later ones find the subscription in the session.
  const first = await startSubscriber(broker.port, subId, prefix, PER_QOS, { minDelay: 0.05, maxDelay: 0.5 });
  first.client.disconnect();
  await until(() => !first.client.isConnected(), 3000, "the first subscriber's DISCONNECT");
  first.client.loopStop();
  const tally = first.tally;
  const connacks: boolean[] = [];
  const deliveredByIncarnation: number[] = [];
  const logState = { log: [] as string[], overflowed: 0 };
  const incarnation = async (): Promise<Client> => {
    const store = new FileStore(subDir, { compactAfterBytes: 8192 });
    const client = new Client({ clientId: subId, cleanSession: false, store, budget: { maxIncomingQos2: SUBSCRIBER_INCOMING_QOS2 } });
    client.onLog = recordLog(logState);
    t.after(() => { stop(client); store.close(); });
    const mine = deliveredByIncarnation.push(0) - 1;
    client.onMessage = (_c, _u, m) => {
      deliveredByIncarnation[mine]!++;
      tally.add(m);
    };
    client.onConnect = (_c, _u, flags, rc) => { if (rc === 0) connacks.push(flags.sessionPresent); };
    client.reconnectDelaySet(0.05, 0.5);
    const before = connacks.length;
    await within(client.connect(HOST, broker.port, 10), 5000, "subscriber connect()");
    client.loopStart();
    await until(() => connacks.length > before, 5000, "the subscriber's CONNACK");
    return client;
  };
  let sub = await incarnation();
  const pub = startPublisher(broker.port, `faults-subrestart-pub-${seed}`, prefix, { keepalive: 10, pace: 20, minDelay: 0.05, maxDelay: 0.5 });
  t.after(() => { stop(pub.client); pub.store.close(); });
  let publishError: unknown;
  pub.finished!.catch((e: unknown) => { publishError = e; });
  const RESTARTS = 10;
  const at: number[] = [];
  for (let i = 0; i < RESTARTS; i++) {
    const target = Math.floor(((i + 0.2 + random() * 0.6) / RESTARTS) * TOTAL * 0.9);
    await until(() => tally.received >= target || publishError !== undefined, 60_000, `the subscriber to reach ${target} (${tally.summary()})`);
    if (publishError !== undefined) throw publishError;
    await sleep(Math.floor(random() * 30));
    at.push(tally.received);
    // A "crash" between two turns of the loop: nothing more is read, acknowledged or sent; no DISCONNECT.
    // The new incarnation takes the session over (mosquitto then closes the old connection).
    sub.loopStop();
    sub = await incarnation();
  }
  t.diagnostic(`restarted after ${JSON.stringify(at)} deliveries; per incarnation ${JSON.stringify(deliveredByIncarnation)}`);
  await within(pub.finished!, 60_000, `every publish acknowledged (${pub.completed}/${TOTAL})`);
  assert.deepEqual(connacks, Array<boolean>(RESTARTS + 1).fill(true), "every incarnation found its session");
  await assertDelivery({ client: sub, tally, connacks, disconnects: 0, ...logState }, broker, 30_000);
  t.diagnostic(`subscriber: ${tally.summary()}; incoming QoS 2 table exceeded ${logState.overflowed}x; ${Math.round(performance.now() - started)} ms`);
});

// ---- 5. torn and damaged store files -----------------------------------------------------------------

/**
 * A realistic log: a Client with a FileStore (compaction off, so the file is the whole history) against a
 * fake broker that acknowledges in random order and sends incoming QoS 2 messages it releases later.
 */
function realisticLog(seed: number, steps: number): { bytes: Uint8Array; store: RecordingStore; clientId: string } {
  const random = rng(seed);
  const dir = path.join(root, `log-${seed}-${steps}`);
  const clientId = "torn/client";
  const file = path.join(dir, `${encodeURIComponent(clientId)}.session`);
  const store = new RecordingStore(new FileStore(dir, { sync: "none", compactAfterBytes: 1 << 30 }), () => file);
  const host = new FakeHost();
  const held: Array<() => void> = [];
  const incomingInUse = new Set<number>();
  host.onLink = (link) => {
    link.accept();
    link.onPacket = (p, l) => {
      if (p.name === "CONNECT") l.send({ type: CONNACK, sessionPresent: false, reasonCode: 0 });
      else if (p.name === "PUBLISH" && p.qos === 1) held.push(() => l.send({ type: PUBACK, packetId: p.packetId! }));
      else if (p.name === "PUBLISH" && p.qos === 2) held.push(() => l.send({ type: PUBREC, packetId: p.packetId! }));
      else if (p.name === "PUBREL") held.push(() => l.send({ type: PUBCOMP, packetId: p.packetId! }));
      else if (p.name === "PUBREC") {
        held.push(() => {
          l.send({ type: PUBREL, packetId: p.packetId! });
          incomingInUse.delete(p.packetId!);
        });
      }
    };
  };
  const client = new Client({ host, clientId, cleanSession: false, store, budget: { maxMessages: 64, storeBytes: 1 << 14, outputBytes: 1 << 14, maxPacketSize: 1 << 12 } });
  void client.connect("broker", 1883);
  client.loopStart();
  host.advance(1);
  for (let i = 0; i < steps; i++) {
    const r = random();
    if (r < 0.4) {
      const n = Math.floor(random() * 40);
      client.publish(`sensors/${Math.floor(random() * 5)}/reading`, "x".repeat(n), random() < 0.5 ? 1 : 2);
    } else if (r < 0.5) {
      let id = 1 + Math.floor(random() * 500);
      while (incomingInUse.has(id)) id = 1 + (id % 500);
      incomingInUse.add(id);
      host.link.send({ type: PUBLISH, topic: "commands/x", payload: new Uint8Array(3), qos: 2, retain: false, dup: false, packetId: id });
    } else if (held.length > 0) {
      held.splice(Math.floor(random() * held.length), 1)[0]!();
    }
    host.advance(1);
  }
  client.loopStop();
  store.close();
  return { bytes: new Uint8Array(fs.readFileSync(file)), store, clientId };
}

test("a store file cut at every byte offset, or damaged anywhere: replay and FileStore load the complete records before it, report the rest, and a Client restores", { timeout: 120_000 }, async (t) => {
  const started = performance.now();
  const seed = seedFor("torn");
  t.diagnostic(`seed ${seed}`);
  const random = rng(seed);
  const { bytes, store: recorded, clientId } = realisticLog(seed, 260);
  const boundaries = recorded.boundaries;
  const final = boundaries.at(-1)!;
  assert.equal(final.size, bytes.length, "the recording saw every record");
  assert.ok(final.state.outgoing.length > 0 && final.state.outgoing.some((p) => p.released), "the log ends with flows in every state");
  const kinds = new Set(recorded.calls.map((c) => c.split(" ")[0]));
  for (const k of ["save", "release", "remove", "in", "out"]) assert.ok(kinds.has(k), `the log has ${k} records`);
  t.diagnostic(`log of ${bytes.length} bytes, ${boundaries.length - 1} records; live at the end: ${final.state.outgoing.length} outgoing, ${final.state.incoming.length} incoming`);

  // record-log replay at every offset.
  for (let cut = 0; cut <= bytes.length; cut++) {
    const expected = expectedAt(boundaries, cut);
    const r = replay(bytes.subarray(0, cut));
    assert.deepEqual(plain(r.session), plain(expected.state), `replay cut at ${cut}`);
    assert.equal(r.validLength, expected.size, `validLength at cut ${cut}`);
    assert.equal(r.droppedBytes, cut - expected.size, `droppedBytes at cut ${cut}`);
  }

  // FileStore at every offset: loads the same, reports the torn bytes, repairs the file so that what it
  // appends next counts, and a Client takes the session back (restore() throws on anything corrupt).
  // On tmpfs when there is one: each load compacts with two fsyncs, which only cost time here.
  const shm = fs.existsSync("/dev/shm") ? fs.mkdtempSync("/dev/shm/tinymqtt-torn-") : undefined;
  t.after(() => { if (shm !== undefined) fs.rmSync(shm, { recursive: true, force: true }); });
  const dir = shm ?? path.join(root, "torn-filestore");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${encodeURIComponent(clientId)}.session`);
  const host = new FakeHost();
  const budget = { maxMessages: 64, storeBytes: 1 << 14, outputBytes: 1 << 14, maxPacketSize: 1 << 12, maxIncomingQos2: 64 };
  for (let cut = 0; cut <= bytes.length; cut++) {
    const expected = expectedAt(boundaries, cut);
    fs.writeFileSync(file, bytes.subarray(0, cut));
    const store = new FileStore(dir, { sync: "none" });
    const loaded = store.open(clientId, 4);
    assert.deepEqual(plain(loaded), plain(expected.state), `FileStore cut at ${cut}`);
    assert.equal(store.lastRecovery?.droppedBytes, cut === expected.size ? undefined : cut - expected.size, `lastRecovery at cut ${cut}`);
    store.saveIncoming(65535);
    store.close();
    const again = new FileStore(dir, { sync: "none" });
    const client = new Client({ host, clientId, cleanSession: false, store: again, budget });
    void client;
    const reloaded = again.open(clientId, 4);
    assert.deepEqual(plain(reloaded), plain({ outgoing: expected.state.outgoing, incoming: [...new Set([...expected.state.incoming, 65535])] }), `appended after repair, cut at ${cut}`);
    assert.equal(again.lastRecovery, undefined);
    again.close();
  }

  // At some cuts, a restored Client resumes exactly the loaded flows on connecting (session present).
  const probes = Array.from({ length: 25 }, () => Math.floor(random() * (bytes.length + 1)));
  for (const cut of probes) {
    const expected = expectedAt(boundaries, cut);
    fs.writeFileSync(file, bytes.subarray(0, cut));
    const h = new FakeHost();
    const seen: string[] = [];
    h.onLink = (link) => {
      link.accept();
      link.onPacket = (p, l) => {
        if (p.name === "CONNECT") l.send({ type: CONNACK, sessionPresent: true, reasonCode: 0 });
        else if (p.name === "PUBLISH") seen.push(`PUBLISH ${p.packetId}${p.dup ? " dup" : ""}`);
        else if (p.name === "PUBREL") seen.push(`PUBREL ${p.packetId}`);
      };
    };
    const store = new FileStore(dir, { sync: "none" });
    const client = new Client({ host: h, clientId, cleanSession: false, store, budget });
    client.maxInflightMessagesSet(0);
    void client.connect("broker", 1883);
    client.loopStart();
    h.advance(5);
    assert.deepEqual(seen, expected.state.outgoing.map((p) => (p.released ? `PUBREL ${p.id}` : `PUBLISH ${p.id} dup`)), `resumed flows at cut ${cut}`);
    // An incoming QoS 2 message the session holds is acknowledged again, not delivered again.
    let delivered = 0;
    client.onMessage = () => { delivered++; };
    for (const id of expected.state.incoming) h.link.send({ type: PUBLISH, topic: "commands/x", payload: new Uint8Array(3), qos: 2, retain: false, dup: true, packetId: id });
    h.advance(5);
    assert.equal(delivered, 0, `re-sent incoming messages delivered at cut ${cut}`);
    client.loopStop();
    store.close();
  }

  // Single damaged bytes anywhere: replay keeps the complete records before the damaged one, never throws.
  for (let i = 0; i < 3000; i++) {
    const at = Math.floor(random() * bytes.length);
    const damaged = bytes.slice();
    damaged[at] = damaged[at]! ^ (1 + Math.floor(random() * 255));
    const expected = expectedAt(boundaries, at);
    const r = replay(damaged);
    assert.deepEqual(plain(r.session), plain(expected.state), `byte ${at} damaged`);
    assert.equal(r.validLength, expected.size, `validLength with byte ${at} damaged`);
  }
  t.diagnostic(`${bytes.length + 1} cuts x (replay, FileStore load + repair + Client restore), ${probes.length} resumed connections, 3000 damaged bytes: ${Math.round(performance.now() - started)} ms`);
});
