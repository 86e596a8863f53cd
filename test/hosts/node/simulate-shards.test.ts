/**
 * `tinymqtt simulate --shard K/N --run RUN-ID` and `--collect RUN-ID` as users run them, against mosquitto
 * on loopback: four shard processes publish their reports to the broker, and the collector's totals are the
 * sum of what the shards themselves printed; a shard SIGKILLed mid-run is reported as died (its will) with
 * what its last report had. And the report codec on its own: what a shard publishes, a collector reads.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseBrokerUrl } from "../../../hosts/node/simulate/broker.js";
import { channelClient, connectClient, decodeReport, encodeReport, type PublishedReport, reportTopic } from "../../../hosts/node/simulate/shard-channel.js";
import { type Broker, startMosquitto } from "../../support/mosquitto.js";
import { type Run, runNode } from "../../support/run.js";
import { row, count, field, unique } from "../../support/simulate-summary.js";

const CLI = fileURLToPath(new URL("../../../hosts/node/cli.js", import.meta.url));

function cli(args: string[], started?: (child: ChildProcess) => void, timeoutMs = 90_000): Promise<Run> {
  return runNode(CLI, args, { timeoutMs, what: `tinymqtt ${args.join(" ")}`, ...(started === undefined ? {} : { started }) });
}

describe("tinymqtt simulate --shard / --collect", { timeout: 240_000 }, () => {
  let dir: string;
  let broker: Broker;
  let url: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tinymqtt-simulate-shards-"));
    broker = await startMosquitto({ maxInflightMessages: 100, maxQueuedMessages: 100_000 });
    url = `mqtt://${broker.host}:${broker.port}`;
  });
  after(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const fleet = (run: string, k: number, extra: string[] = []): string[] =>
    ["simulate", "--shard", `${k}/4`, "--run", run, "--broker", url, "--devices", "2000", "--rate", "1", "--qos", "1", "--interval", "1", ...extra];

  test("4 shards x 500 devices at QoS 1: the collected totals equal the sum of the shards' own", async () => {
    const run = `t${process.pid}a`;
    const shards = [0, 1, 2, 3].map((k) => cli([...fleet(run, k), "--duration", "4"]));
    const report = join(dir, "collected.html");
    const collected = await cli(["simulate", "--collect", run, "--broker", url, "--report", report]);
    const own = await Promise.all(shards);
    for (const s of own) assert.equal(s.code, 0, s.stdout + s.stderr);
    assert.equal(collected.code, 0, collected.stdout + collected.stderr);
    const c = collected.stdout;
    const sum = (label: string, read: (v: string) => number): number => own.reduce((n, s) => n + read(row(s.stdout, label)), 0);
    assert.equal(count(row(c, "sent")), sum("sent", count));
    assert.equal(count(row(c, "received")), sum("received", count));
    assert.equal(unique(row(c, "received")), sum("received", unique));
    assert.equal(count(row(c, "link cuts")), sum("link cuts", count));
    assert.ok(count(row(c, "sent")) >= 4 * 500 * 3, row(c, "sent"));
    assert.equal(row(c, "lost"), "0 (0.00 %)");
    assert.match(row(c, "devices"), /^2,000 \(max connected 2,000,/);
    own.forEach((s, k) => {
      assert.match(row(s.stdout, "devices"), /^500 \(/);
      const share = row(c, `shard ${k}`);
      assert.match(share, new RegExp(`^devices ${(k * 500).toLocaleString("en-US")}–${(k * 500 + 499).toLocaleString("en-US")}: `));
      assert.equal(field(share, "sent"), count(row(s.stdout, "sent")));
      assert.equal(field(share, "seen"), unique(row(s.stdout, "received")));
    });
    assert.match(row(c, "result"), /^ok$/);
    assert.match(readFileSync(report, "utf8"), /<th>shard 3<\/th><td>devices 1,500–1,999:/);
  });

  test("a shard SIGKILLed mid-run is reported as died, with what its last report had sent; the run fails", async () => {
    const run = `t${process.pid}b`;
    // The test watches shard 2's reports itself: it kills the shard once one shows messages sent, and the
    // collector must then show exactly what the last of them said.
    let last: PublishedReport | undefined;
    const watcher = channelClient(`watcher-${run}`);
    watcher.onMessage = (_c, _u, m) => {
      const r = decodeReport(m.payload, run);
      if (!(r instanceof Error)) last = r;
    };
    await connectClient(watcher, parseBrokerUrl(url), "watcher");
    assert.equal(watcher.subscribe(reportTopic(run, 2), 1)[0], 0);
    let victim: ChildProcess | undefined;
    let killed = false;
    const shards = [0, 1, 2, 3].map((k) => cli([...fleet(run, k), "--duration", "6"], k === 2 ? (child) => (victim = child) : undefined));
    const kill = setInterval(() => {
      if (killed || victim === undefined || last === undefined || last.counts.sent === 0) return;
      killed = true;
      victim.kill("SIGKILL");
    }, 50);
    const collected = await cli(["simulate", "--collect", run, "--broker", url, "--report", ""]);
    const own = await Promise.all(shards);
    clearInterval(kill);
    watcher.disconnect();
    watcher.loopStop();
    assert.ok(killed, "shard 2 was killed");
    assert.equal(own[2]!.code, null, "shard 2 died of the signal");
    for (const k of [0, 1, 3]) assert.equal(own[k]!.code, 0, own[k]!.stdout + own[k]!.stderr);
    assert.equal(collected.code, 2, collected.stdout + collected.stderr);
    const c = collected.stdout;
    const dead = row(c, "shard 2");
    assert.match(dead, /^devices 1,000–1,499: sent [\d,]+, .* — DIED: as of its last report, [\d.]+ s into its run$/);
    assert.equal(field(dead, "sent"), last!.counts.sent, dead);
    assert.ok(last!.counts.sent > 0);
    for (const k of [0, 1, 3]) {
      const share = row(c, `shard ${k}`);
      assert.equal(field(share, "sent"), count(row(own[k]!.stdout, "sent")), share);
      assert.doesNotMatch(share, /DIED/);
    }
    assert.match(row(c, "result"), new RegExp(`^FAILED: shard 2 died: its last report, [\\d.]+ s into its run \\(\\w+\\), had ${last!.counts.sent.toLocaleString("en-US").replace(/,/g, ",?")} sent by its 500 devices`));
  });

  test("usage: --shard needs K/N, a run id and a broker; --collect a run id; a run nobody reported: exit 1 with the reason", async () => {
    const fleetArgs = ["--devices", "4", "--rate", "1", "--duration", "1"];
    for (const [args, error] of [
      [["--shard", "4/4", "--run", "x", "--broker", url, ...fleetArgs], /--shard must be K\/N with K from 0 to N - 1, got "4\/4"/],
      [["--shard", "0/4", "--run", "x", ...fleetArgs], /--shard needs --broker/],
      [["--shard", "0/4", "--run", "a/b", "--broker", url, ...fleetArgs], /--shard needs a run id of letters/],
      [["--collect", "x", "--workers", "2", "--broker", url], /--collect gathers a run's reports/],
    ] as const) {
      const run = await cli(["simulate", ...args]);
      assert.equal(run.code, 1, args.join(" "));
      assert.match(run.stderr, new RegExp(`^Error: ${error.source}.*\n\nUsage: tinymqtt`));
    }
    const nobody = await cli(["simulate", "--collect", `nobody${process.pid}`, "--broker", url, "--wait", "1", "--report", ""]);
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, new RegExp(`^Error: no shard of run nobody${process.pid} reported on mqtt://127\\.0\\.0\\.1:\\d+ within 1 s\n$`));
  });
});

describe("the shard report codec", () => {
  test("a report survives the trip (NaN percentiles included); anything else is refused with a reason", () => {
    const report: PublishedReport = {
      run: "r", shard: 1, shards: 2, first: 5, devices: 1, state: "running", sequence: 3, elapsed: 2.5, phase: "telemetry",
      counts: { sent: 3, skippedOffline: 0, refusedBudget: 0, unfinished: 0, received: 3, wills: 0, connected: 1, maxConnected: 1, connectFailures: 0, cuts: 0, reconnects: 0 },
      sentPerDevice: [3], seen: [{ device: 5, ranges: [0, 3], duplicates: 0 }], latency: { buckets: [[10, 3]], count: 3, max: 0.02 },
      samples: [{ t: 1, phase: "connect", connected: 1, sentPerSec: 0, receivedPerSec: 0, gaps: 0, duplicates: 0, p50: NaN, p99: NaN, heapPerDevice: 1, buffersPerDevice: 2, rss: 3 }],
      windows: [{ buckets: [], count: 0, max: 0 }], rampSeconds: 0.1, telemetrySeconds: 0, memoryIdle: undefined, memoryLoaded: undefined, problems: [],
      options: { devices: 10, rate: 1, duration: 5, qos: 1, cutRate: 0, connectBatch: 200, keepalive: 60, drainTimeout: 10, progressEvery: 1,
        budget: { maxPacketSize: 4096, outputBytes: 2048, storeBytes: 6144, maxMessages: 32, maxIncomingQos2: 16, maxTopicAliases: 8 }, broker: "mqtt://x:1" },
      startedAt: "2026-01-01T00:00:00.000Z", interval: 1,
    };
    const back = decodeReport(encodeReport(report), "r");
    assert.ok(!(back instanceof Error), String(back));
    const { memoryIdle, memoryLoaded, ...rest } = report;
    assert.deepEqual(back, rest, "undefined memory is left out, NaN comes back");
    assert.equal((decodeReport(encodeReport(report), "other") as Error).message, "a report that is not a tinymqtt simulate shard report of this run");
    assert.match((decodeReport(new TextEncoder().encode("{}"), "r") as Error).message, /^an unreadable report \(/);
    assert.ok(memoryIdle === undefined && memoryLoaded === undefined);
  });
});
