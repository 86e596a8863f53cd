/**
 * The publishing process that test/integration/faults.test.ts kills with SIGKILL, again and again: a tinymqtt Client with
 * a FileStore, clean session off and a fixed client id, publishing the stream of test/integration/faults/util.ts
 * (message k: QoS 1 when k is even, QoS 2 when odd) and resuming, in each new incarnation, where the last
 * one's durable progress says.
 *
 * Progress, so that a message whose publish() returned is never lost and none is published twice:
 * - publish(k) returns only after the FileStore has written k's record (a synchronous write(): a SIGKILL
 *   cannot undo it), and then k + 1 is appended to a side file ("progress", one number a line);
 * - on start, the next message is the larger of the side file's last complete line and one past the
 *   highest message still in the store: a kill between publish() returning and the side file's write
 *   leaves k in the store (its flow cannot have completed in between: acknowledgements need the event
 *   loop), so k is not published again; a kill inside publish() leaves no complete record of k, and
 *   publish() had not returned, so k is published by the next incarnation.
 *
 * Reports on stdout, one line each: "p <next>" after each publish, and "j <json>" for events (start,
 * connack, done). Exits 0 once every message is published and every flow has completed; 2 on an error.
 *
 * argv[2]: JSON { port, dir, clientId, prefix, perQos, window, inflight, compactAfterBytes }.
 */
import fs from "node:fs";
import path from "node:path";
import { Client, FileStore, MQTT_ERR_NO_CONN, MQTT_ERR_SUCCESS } from "../../../hosts/node/index.js";
import { indexOfPacket, payloadOf, qosOf, topicOf } from "./util.js";

interface Config {
  port: number;
  dir: string;
  clientId: string;
  prefix: string;
  perQos: number;
  window: number;
  inflight: number;
  /** Small, so that the store also compacts mid-stream (and a kill may land in a compaction). */
  compactAfterBytes: number;
}

const cfg = JSON.parse(process.argv[2]!) as Config;
// Never outlive the test: exit when the parent has gone (reparented) or after 90 s whatever happens.
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) process.exit(3); }, 500).unref();
setTimeout(() => process.exit(4), 90_000).unref();
const total = 2 * cfg.perQos;
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const fail = (why: string): never => {
  say(`j ${JSON.stringify({ ev: "error", why })}`);
  process.exit(2);
};

// ---- where the last incarnation got to ----------------------------------------------------------

const progressFile = path.join(cfg.dir, "progress");
let fromSideFile = 0;
try {
  const text = fs.readFileSync(progressFile, "utf8");
  // Only complete lines count: a kill may have torn the last one.
  const lines = text.split("\n");
  lines.pop();
  for (const line of lines) if (/^\d+$/.test(line)) fromSideFile = Math.max(fromSideFile, Number(line));
} catch (e) {
  if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
}

const storeDir = path.join(cfg.dir, "store");
const store = new FileStore(storeDir, { compactAfterBytes: cfg.compactAfterBytes });
const peek = store.open(cfg.clientId, 4);
const recovery = store.lastRecovery;
const restoredIds = new Set<number>();
let fromStore = 0;
for (const p of peek.outgoing) {
  restoredIds.add(p.id);
  fromStore = Math.max(fromStore, indexOfPacket(p.packet) + 1);
}
let next = Math.max(fromSideFile, fromStore);
const restoredCount = restoredIds.size;
const released = peek.outgoing.filter((p) => p.released).length;

// ---- the client ---------------------------------------------------------------------------------

const client = new Client({ clientId: cfg.clientId, cleanSession: false, store });
client.maxInflightMessagesSet(cfg.inflight);
client.reconnectDelaySet(0.05, 0.5);
let completed = 0;
let restoredReported = 0;
let wake: (() => void) | undefined;
client.onPublish = (_c, _u, mid, rc) => {
  if (rc !== 0) fail(`onPublish mid ${mid} reason ${rc}`);
  completed++;
  if (restoredIds.delete(mid)) restoredReported++;
  const w = wake;
  wake = undefined;
  w?.();
};
client.onConnect = (_c, _u, flags, rc) => {
  say(`j ${JSON.stringify({ ev: "connack", rc, sessionPresent: flags.sessionPresent })}`);
};

say(`j ${JSON.stringify({ ev: "start", next, fromSideFile, fromStore, restored: restoredCount, released, dropped: recovery?.droppedBytes ?? 0 })}`);

const progress = fs.openSync(progressFile, "a");
client.connectAsync("127.0.0.1", cfg.port, 10);
client.loopStart();

const waitForAck = (): Promise<void> => new Promise((resolve) => { wake = resolve; });
const outstanding = (): number => restoredCount + published - completed;
let published = 0;

while (next < total) {
  if (outstanding() >= cfg.window) {
    await waitForAck();
    continue;
  }
  const k = next;
  const info = client.publish(topicOf(cfg.prefix, k), payloadOf(k), qosOf(k));
  // While the link is down QoS 1/2 says MQTT_ERR_NO_CONN (as Paho) and is queued all the same.
  if (info.rc !== MQTT_ERR_SUCCESS && info.rc !== MQTT_ERR_NO_CONN) fail(`publish ${k}: rc ${info.rc}`);
  published++;
  next = k + 1;
  fs.writeSync(progress, `${next}\n`);
  say(`p ${next}`);
  // Let acknowledgements in now and then even when the window is not full.
  if (published % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
}
while (outstanding() > 0) await waitForAck();
say(`j ${JSON.stringify({ ev: "done", published, completed, restored: restoredCount, restoredReported, restoredUnreported: restoredIds.size })}`);
client.disconnect();
await new Promise((resolve) => setTimeout(resolve, 50));
client.loopStop();
store.close();
process.exit(0);
