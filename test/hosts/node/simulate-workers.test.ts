/**
 * `tinymqtt simulate --workers N` as users run it, against mosquitto on loopback: the fleet split over N
 * processes, one live line and one summary for the whole fleet, each worker's share adding up to the
 * totals, and every device's messages counted exactly once; a worker killed mid-run is reported as died.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Broker, startMosquitto } from "../../support/mosquitto.js";
import { type Run, runNode } from "../../support/run.js";
import { row, count, field } from "../../support/simulate-summary.js";

const CLI = fileURLToPath(new URL("../../../hosts/node/cli.js", import.meta.url));

function cli(args: string[], started?: (child: ChildProcess) => void, timeoutMs = 60_000): Promise<Run> {
  return runNode(CLI, args, { timeoutMs, what: `tinymqtt ${args.join(" ")}`, ...(started === undefined ? {} : { started }) });
}

/** The processes whose parent is pid (from /proc): the workers a coordinator forked. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name (field 2) is in parentheses and may hold spaces: the parent pid follows its ")".
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) out.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

describe("tinymqtt simulate --workers", { timeout: 180_000 }, () => {
  let dir: string;
  let broker: Broker;
  let url: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tinymqtt-simulate-workers-"));
    broker = await startMosquitto({ maxInflightMessages: 100, maxQueuedMessages: 100_000 });
    url = `mqtt://${broker.host}:${broker.port}`;
  });
  after(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("3 workers x 100 devices at QoS 1 with link cuts: one live line and one summary, shares that add up, every message seen once", async () => {
    const report = join(dir, "workers.html");
    const run = await cli(["simulate", "--workers", "3", "--devices", "300", "--rate", "2", "--duration", "3", "--qos", "1", "--cut-rate", "6",
      "--broker", url, "--report", report]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    // One line a second for the whole fleet (not one per worker): at least the telemetry's first two whole seconds.
    const lines = run.stdout.split("\n").filter((l) => l.startsWith("["));
    assert.ok(lines.length >= 2, run.stdout);
    for (const l of lines) assert.match(l, /^\[\s+\d+ s\] \w+\s+connected \d+\/300 {2}sent \d+\/s/);
    assert.match(row(run.stdout, "devices"), /^300 \(max connected 300,/);
    const sent = count(row(run.stdout, "sent"));
    assert.ok(sent >= 1500 && sent <= 1800, `sent ${sent}`);
    // Every message once; at QoS 1 a link cut before a PUBACK may deliver one twice, and then it is counted as a duplicate.
    const received = row(run.stdout, "received");
    assert.match(received, new RegExp(`\\(${sent.toLocaleString("en-US")} unique\\)$`));
    assert.equal(row(run.stdout, "lost"), "0 (0.00 %)");
    assert.equal(count(row(run.stdout, "duplicated")), count(received) - sent);
    const shares = [0, 1, 2].map((k) => row(run.stdout, `worker ${k}`));
    assert.deepEqual(shares.map((s) => /^devices ([\d,]+)–([\d,]+):/.exec(s)?.slice(1)), [["0", "99"], ["100", "199"], ["200", "299"]]);
    assert.equal(shares.reduce((n, s) => n + field(s, "sent"), 0), sent);
    assert.equal(shares.reduce((n, s) => n + field(s, "seen"), 0), sent);
    assert.equal(shares.reduce((n, s) => n + field(s, "cuts"), 0), count(row(run.stdout, "link cuts")));
    for (const s of shares) assert.ok(field(s, "sent") >= 500, s);
    assert.match(row(run.stdout, "process RSS (idle / loaded)"), /the 3 worker processes together$/);
    assert.match(row(run.stdout, "result"), /^ok$/);
    const html = readFileSync(report, "utf8");
    assert.match(html, /<th>worker 2<\/th><td>devices 200–299:/);
    assert.equal((html.match(/<svg class="chart"/g) ?? []).length, 5);
  });

  test("--share: two checker ears in a $share group (here on one broker): each message reaches one ear and is counted once", async () => {
    const both = `${url},${url}`;
    const shared = await cli(["simulate", "--devices", "40", "--rate", "5", "--duration", "2", "--qos", "1", "--cut-rate", "0", "--broker", both, "--share", "--report", ""]);
    assert.equal(shared.code, 0, shared.stdout + shared.stderr);
    const sent = count(row(shared.stdout, "sent"));
    assert.ok(sent >= 300, `sent ${sent}`);
    assert.equal(row(shared.stdout, "received"), `${sent.toLocaleString("en-US")} (${sent.toLocaleString("en-US")} unique)`);
    assert.equal(row(shared.stdout, "duplicated"), "0 (0.00 %)");
    // Unshared, each ear hears every message: twice the arrivals, the same messages once.
    const unshared = await cli(["simulate", "--devices", "40", "--rate", "5", "--duration", "2", "--qos", "1", "--cut-rate", "0", "--broker", both, "--report", ""]);
    assert.equal(unshared.code, 0, unshared.stdout + unshared.stderr);
    const sent2 = count(row(unshared.stdout, "sent"));
    assert.equal(row(unshared.stdout, "received"), `${(2 * sent2).toLocaleString("en-US")} (${sent2.toLocaleString("en-US")} unique)`);
    assert.equal(row(unshared.stdout, "duplicated"), "0 (0.00 %)");
    assert.equal(row(unshared.stdout, "lost, by whom"), "0 by the client (never acknowledged to the device); 0 by the brokers (acknowledged, delivered to no checker)");
  });

  test("a worker SIGKILLed mid-run is reported as died with what it had sent; the others' figures stand; exit 2", async () => {
    let coordinator: ChildProcess | undefined;
    let killed = 0;
    const running = cli(["simulate", "--workers", "2", "--devices", "100", "--rate", "2", "--duration", "6", "--qos", "1", "--cut-rate", "0",
      "--broker", url, "--report", ""], (child) => {
      coordinator = child;
      child.stdout?.on("data", (chunk: Buffer) => {
        // Kill one worker once the telemetry is under way.
        if (killed !== 0 || !/telemetry/.test(chunk.toString())) return;
        const workers = childrenOf(child.pid!).sort((a, b) => a - b);
        if (workers.length !== 2) return;
        killed = workers[1]!;
        process.kill(killed, "SIGKILL");
      });
    });
    const run = await running;
    assert.ok(coordinator !== undefined && killed > 0, "a worker was killed");
    assert.equal(run.code, 2, run.stdout + run.stderr);
    const dead = row(run.stdout, "worker 1");
    assert.match(dead, /^devices 50–99: sent [\d,]+, seen [\d,]+, lost [\d,]+; .* — DIED: as of its last report, [\d.]+ s into its run$/);
    assert.ok(field(dead, "sent") > 0, dead);
    const alive = row(run.stdout, "worker 0");
    assert.match(alive, /^devices 0–49: sent [\d,]+, seen [\d,]+, lost 0;/);
    assert.equal(field(alive, "sent"), field(alive, "seen"));
    assert.ok(field(alive, "sent") >= 500, alive);
    assert.match(row(run.stdout, "result"), /^FAILED: worker 1 died: its last report, [\d.]+ s into its run \(telemetry\), had [\d,]+ sent by its 50 devices/);
  });
});
