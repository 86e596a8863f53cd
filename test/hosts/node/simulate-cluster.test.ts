/**
 * `tinymqtt simulate` against a real broker cluster: two ejabberd nodes on loopback (test/support/ejabberd.ts).
 * The fleet is spread over both nodes with failoverSet, the checker has an ear on each node (ejabberd offers
 * no shared subscriptions, so each ear hears everything and the checker counts the union), and node 2 is
 * SIGKILLed during the telemetry: its devices move to node 1, and nothing a device published at QoS 1 is lost
 * by the client (what was in flight is resent after the failover). What the cluster itself lost with the dead
 * node is reported in its own figure, apart from the client's.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { type EjabberdCluster, startEjabberdCluster } from "../../support/ejabberd.js";
import { runNode } from "../../support/run.js";
import { row, count } from "../../support/simulate-summary.js";

const CLI = fileURLToPath(new URL("../../../hosts/node/cli.js", import.meta.url));

describe("tinymqtt simulate against a two-node ejabberd cluster", { timeout: 180_000 }, () => {
  let cluster: EjabberdCluster;
  before(async () => {
    cluster = await startEjabberdCluster(2);
  });
  after(async () => {
    await cluster?.stop();
  });

  test("QoS 1 fleet over both nodes, node 2 SIGKILLed mid-run: devices fail over, 0 lost by the client, the cluster's losses apart", async () => {
    let killedAt: number | undefined;
    const run = await runNode(CLI, ["simulate", "--devices", "100", "--rate", "2", "--duration", "8", "--qos", "1", "--cut-rate", "0",
      "--broker", cluster.urls, "--username", "sim", "--password", "x", "--report", ""], {
      timeoutMs: 90_000, what: "tinymqtt simulate against the cluster",
      started: (child) => child.stdout?.on("data", (chunk: Buffer) => {
        const m = /\[\s+(\d+) s\] telemetry/.exec(chunk.toString());
        if (killedAt !== undefined || m === null || Number(m[1]) < 3) return;
        killedAt = Number(m[1]);
        void cluster.kill(1);
      }),
    });
    assert.ok(killedAt !== undefined, "node 2 was killed during the telemetry");
    assert.equal(run.code, 0, run.stdout + run.stderr + cluster.nodes[0]!.log);
    const out = run.stdout;
    assert.match(row(out, "broker"), /^mqtt:\/\/127\.0\.0\.1:\d+, mqtt:\/\/127\.0\.0\.1:\d+$/);
    // Half the fleet started on node 2 and reconnected to node 1; all 100 are connected at the end.
    assert.match(row(out, "devices"), /^100 \(max connected 100, 100 at the end;/);
    const reconnects = Number(/reconnects ([\d,]+)/.exec(row(out, "link cuts"))?.[1]);
    assert.ok(reconnects >= 50, `reconnects ${reconnects}`);
    const sent = count(row(out, "sent"));
    assert.ok(sent >= 1200, `sent ${sent}`);
    // The client's figure is 0; the cluster's is its own, and what was seen plus what the cluster lost is all that was sent.
    const whose = /^0 by the client \(never acknowledged to the device\); ([\d,]+) by the brokers \(acknowledged, delivered to no checker\)$/.exec(row(out, "lost, by whom"));
    assert.ok(whose !== null, row(out, "lost, by whom"));
    const clusterLost = count(whose[1]!);
    const unique = Number(/\(([\d,]+) unique\)/.exec(row(out, "received"))?.[1]?.replace(/,/g, ""));
    assert.equal(unique + clusterLost, sent);
    assert.equal(count(row(out, "lost")), clusterLost);
    assert.match(row(out, "result"), clusterLost === 0 ? /^ok$/ : new RegExp(`^ok for the client; the brokers lost ${clusterLost} acknowledged messages$`));
  });
});
