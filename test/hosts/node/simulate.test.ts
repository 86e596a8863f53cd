/**
 * `tinymqtt simulate`, run as users run it (node dist/hosts/node/cli.js simulate ...): a short run through
 * the in-process broker, one through mosquitto at QoS 1 with link cuts that must lose nothing, the usage
 * errors; and the checker's counting (sequence tracking, latency histogram) on its own.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LatencyHistogram, SequenceTracker } from "../../../hosts/node/simulate/stats.js";
import { perDevice } from "../../../hosts/node/simulate/memory.js";
import { PAYLOAD_BYTES, PayloadReader, PayloadWriter } from "../../../hosts/node/simulate/payload.js";
import { type Broker, startMosquitto } from "../../support/mosquitto.js";
import { type Run, runNode } from "../../support/run.js";
import { row, count } from "../../support/simulate-summary.js";

const CLI = fileURLToPath(new URL("../../../hosts/node/cli.js", import.meta.url));

function cli(args: string[], timeoutMs = 30_000): Promise<Run> {
  return runNode(CLI, args, { timeoutMs, what: `tinymqtt ${args.join(" ")}` });
}

/** The value column of a summary row, e.g. row(out, "lost") -> "0 (0.00 %)". */

describe("tinymqtt simulate", { timeout: 120_000 }, () => {
  let dir: string;
  let broker: Broker;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tinymqtt-simulate-"));
    broker = await startMosquitto({ maxInflightMessages: 100, maxQueuedMessages: 100_000 });
  });
  after(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("50 devices for 2 s through the in-process broker: exit 0, plain progress lines, a summary, the HTML report", async () => {
    const report = join(dir, "aedes.html");
    const run = await cli(["simulate", "--devices", "50", "--rate", "5", "--duration", "2", "--report", report]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    // Not a TTY: plain lines, no carriage returns.
    assert.doesNotMatch(run.stdout, /\r/);
    assert.match(run.stdout, /^\[\s+\d+ s\] telemetry connected \d+\/50 {2}sent \d+\/s {2}received \d+\/s {2}lost \d+ {2}duplicates \d+/m);
    assert.match(row(run.stdout, "broker"), /^in-process aedes on 127\.0\.0\.1:\d+$/);
    assert.match(row(run.stdout, "devices"), /^50 \(max connected 50,/);
    const sent = count(row(run.stdout, "sent"));
    assert.ok(sent > 300 && sent <= 500, `sent ${sent}`);
    assert.match(row(run.stdout, "result"), /^ok/);
    assert.match(row(run.stdout, "latency p50 / p99 / max"), /^[\d.]+ ms \/ [\d.]+ ms \/ [\d.]+ ms$/);
    assert.match(row(run.stdout, "heap per device (idle / loaded)"), /^[\d.]+ KiB \/ [\d.]+ KiB V8 heap \+ [\d.]+ KiB \/ [\d.]+ KiB buffers$/);
    assert.ok(run.stdout.includes(`report: ${report}`));
    const html = readFileSync(report, "utf8");
    assert.match(html, /^<!doctype html>/);
    assert.equal((html.match(/<svg class="chart"/g) ?? []).length, 5);
    assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/, "the report is self-contained");
  });

  test("QoS 1 through mosquitto with link cuts: every message arrives (0 lost), wills are published, exit 0", async () => {
    const report = join(dir, "mosquitto.html");
    const run = await cli(["simulate", "--devices", "50", "--rate", "10", "--duration", "2", "--qos", "1", "--cut-rate", "5",
      "--broker", `mqtt://${broker.host}:${broker.port}`, "--report", report]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(row(run.stdout, "lost"), "0 (0.00 %)");
    const sent = count(row(run.stdout, "sent"));
    assert.ok(sent > 800, `sent ${sent}`);
    const received = row(run.stdout, "received");
    assert.equal(Number(/\(([\d,]+) unique\)/.exec(received)?.[1]?.replace(/,/g, "")), sent);
    const cuts = count(row(run.stdout, "link cuts"));
    assert.ok(cuts >= 1, `cuts ${cuts}`);
    assert.match(row(run.stdout, "link cuts"), new RegExp(`wills received ${cuts}`));
    assert.match(row(run.stdout, "telemetry"), /at QoS 1/);
    assert.ok(existsSync(report));
  });

  test("missing or bad arguments: usage on stderr, exit 1; an unreachable broker: exit 1 with the reason", async () => {
    for (const args of [["simulate"], ["simulate", "--devices", "0", "--rate", "1", "--duration", "1"], ["simulate", "--devices", "5", "--rate", "x", "--duration", "1"],
      ["simulate", "--devices", "5", "--rate", "1", "--duration", "1", "--qos", "3"]]) {
      const run = await cli(args);
      assert.equal(run.code, 1, args.join(" "));
      assert.match(run.stderr, /^Error: .*\n\nUsage: tinymqtt/);
    }
    const down = await cli(["simulate", "--devices", "2", "--rate", "1", "--duration", "1", "--broker", "mqtt://127.0.0.1:1", "--report", ""]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^Error: cannot reach the broker mqtt:\/\/127\.0\.0\.1:1: /);
  });
});

describe("the checker's counting", () => {
  test("a sequence tracker tells new numbers from duplicates, and counts gaps a late message can still fill", () => {
    const t = new SequenceTracker();
    for (const seq of [0, 1, 3, 4, 1, 4]) t.see(seq);
    assert.deepEqual({ next: t.next, unique: t.unique, duplicates: t.duplicates, gaps: t.gaps }, { next: 2, unique: 4, duplicates: 2, gaps: 1 });
    assert.equal(t.see(2), true);
    assert.deepEqual({ next: t.next, unique: t.unique, gaps: t.gaps }, { next: 5, unique: 5, gaps: 0 });
    assert.equal(t.see(3), false);
  });

  test("latency percentiles come back within the histogram's 5 % resolution", () => {
    const h = new LatencyHistogram();
    assert.ok(Number.isNaN(h.quantile(0.5)));
    for (let i = 1; i <= 1000; i++) h.add(i / 10); // 0.1 .. 100 ms
    const near = (x: number, want: number): void => assert.ok(Math.abs(x - want) / want < 0.05, `${x} vs ${want}`);
    near(h.quantile(0.5), 50);
    near(h.quantile(0.99), 99);
    assert.equal(h.max, 100);
  });

  test("the payload layout: what a device writes, the checker reads back; other lengths are wills", () => {
    const bytes = new PayloadWriter().write(0xfedcba98, 7, 1234.5);
    assert.equal(bytes.length, PAYLOAD_BYTES);
    assert.equal(Buffer.from(bytes).toString("hex"), "fedcba980000000740934a0000000000");
    const reader = new PayloadReader();
    assert.equal(reader.read(bytes.slice()), true);
    assert.deepEqual({ device: reader.device, seq: reader.seq, sentAt: reader.sentAt }, { device: 0xfedcba98, seq: 7, sentAt: 1234.5 });
    assert.equal(reader.read(new TextEncoder().encode("offline")), false);
  });

  test("memory per device is the growth over the baseline, divided by the devices; a reading below the baseline is 0, never negative", () => {
    const baseline = { heapUsed: 10_000, arrayBuffers: 5_000, rss: 1 << 26 };
    assert.deepEqual(perDevice({ heapUsed: 30_000, arrayBuffers: 9_000, rss: 1 << 27 }, baseline, 10), { heap: 2_000, buffers: 400 });
    assert.deepEqual(perDevice({ heapUsed: 9_000, arrayBuffers: 4_000, rss: 1 << 25 }, baseline, 10), { heap: 0, buffers: 0 });
  });
});
