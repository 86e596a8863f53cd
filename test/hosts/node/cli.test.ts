/**
 * The `tinymqtt` command, run as users run it (node dist/hosts/node/cli.js): pub and sub end to end through
 * a real mosquitto, the usage and exit code for bad arguments, the reason for a failed or refused
 * connection, and the demo with its in-process broker and with mosquitto.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type Broker, freePort, startMosquitto } from "../../support/mosquitto.js";
import { type Run, runNode } from "../../support/run.js";

const CLI = fileURLToPath(new URL("../../../hosts/node/cli.js", import.meta.url));

/** Runs the CLI; killed (and the test failed) after timeoutMs. `started` sees the process once spawned. */
function cli(args: string[], timeoutMs = 10_000, started?: (child: ChildProcess) => void): Promise<Run> {
  return runNode(CLI, args, started === undefined ? { timeoutMs, what: `tinymqtt ${args.join(" ")}` } : { timeoutMs, what: `tinymqtt ${args.join(" ")}`, started });
}

describe("tinymqtt pub and sub against mosquitto", { timeout: 60_000 }, () => {
  let broker: Broker;
  before(async () => {
    broker = await startMosquitto();
  });
  after(() => broker?.stop());
  const at = (): string[] => ["-h", broker.host, "-p", String(broker.port)];

  test("sub -C 2 -v receives the two (retained) messages pub sent, then exits 0", async () => {
    const pub1 = await cli(["pub", ...at(), "-t", "cli/retained/a", "-m", "first message", "-r", "-q", "1"]);
    assert.deepEqual(pub1, { code: 0, stdout: "", stderr: "" });
    const pub2 = await cli(["pub", ...at(), "-t", "cli/retained/b", "-m", "second message", "-r", "-q", "2", "-V", "mqttv5"]);
    assert.deepEqual(pub2, { code: 0, stdout: "", stderr: "" });
    const sub = await cli(["sub", ...at(), "-t", "cli/retained/#", "-C", "2", "-v", "-q", "1"]);
    assert.equal(sub.code, 0, sub.stderr);
    assert.deepEqual(sub.stdout.split("\n").sort(), ["", "cli/retained/a first message", "cli/retained/b second message"]);
    for (const topic of ["cli/retained/a", "cli/retained/b"]) assert.equal((await cli(["pub", ...at(), "-t", topic, "-n", "-r"])).code, 0);
  });

  test("sub prints live messages from several -t filters, payload only without -v; -R drops retained ones", async () => {
    assert.equal((await cli(["pub", ...at(), "-t", "cli/live/old", "-m", "stale", "-r"])).code, 0);
    let stop = false;
    const sub = cli(["sub", ...at(), "-t", "cli/live/x", "-t", "cli/live/old", "-C", "2", "-R", "-V", "5"], 15_000, (child) => {
      child.once("exit", () => (stop = true));
    });
    // Not knowing when sub has subscribed, publish until it has had its two messages.
    for (let i = 1; !stop && i < 100; i++) {
      const pub = await cli(["pub", ...at(), "-t", "cli/live/x", "-m", `live ${i}`, "-q", "1"]);
      assert.equal(pub.code, 0, pub.stderr);
    }
    const result = await sub;
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.split("\n");
    assert.equal(lines.length, 3);
    assert.equal(lines[2], "");
    const [, n] = /^live (\d+)$/.exec(lines[0] ?? "") ?? [];
    assert.ok(n !== undefined, `unexpected output ${JSON.stringify(result.stdout)}`);
    assert.equal(lines[1], `live ${Number(n) + 1}`);
    assert.equal((await cli(["pub", ...at(), "-t", "cli/live/old", "-n", "-r"])).code, 0);
  });

  test("pub -d with a will and -i: mosquitto's packet lines on stdout (the broker accepted the CONNECT)", async () => {
    const run = await cli(["pub", ...at(), "-t", "cli/will/t", "-m", "x", "--will-topic", "cli/will/w", "--will-payload", "bye",
      "--will-qos", "1", "--will-retain", "-i", "cli-will-client", "-k", "30", "-d"]);
    assert.deepEqual(run, { code: 0, stderr: "", stdout: ["Client cli-will-client sending CONNECT", "Client cli-will-client received CONNACK (0)",
      "Client cli-will-client sending PUBLISH (d0, q0, r0, m1, 'cli/will/t', ... (1 bytes))", "Client cli-will-client sending DISCONNECT", ""].join("\n") });
  });

  // Issue 15: the exit code is mosquitto_pub/sub's, the CONNACK code (it was 1).
  test("a broker refusing the connection: exit with the CONNACK code (5 on 3.1.1, 135 on MQTT 5) and the reason", async () => {
    const strict = await startMosquitto({ config: "allow_anonymous false" });
    try {
      const run = await cli(["pub", "-h", strict.host, "-p", String(strict.port), "-t", "a", "-m", "b"]);
      assert.equal(run.code, 5);
      assert.equal(run.stdout, "");
      assert.match(run.stderr, /^Error: .*refused the connection: Connection Refused: not authorised\. \(CONNACK code 5\)\n$/);
      const sub = await cli(["sub", "-h", strict.host, "-p", String(strict.port), "-t", "a", "-u", "nobody", "-P", "wrong", "-V", "5"]);
      assert.equal(sub.code, 135);
      assert.match(sub.stderr, /refused the connection: .*\(CONNACK reason code 0x87\)/);
    } finally {
      await strict.stop();
    }
  });
});

describe("tinymqtt: arguments and failures", { timeout: 60_000 }, () => {
  test("a closed port: exit 1 with the reason, for pub and sub", async () => {
    const port = String(await freePort());
    for (const command of [["pub", "-t", "a", "-m", "b"], ["sub", "-t", "a"]]) {
      const run = await cli([...command, "-h", "127.0.0.1", "-p", port]);
      assert.equal(run.code, 1);
      assert.equal(run.stdout, "");
      assert.equal(run.stderr, `Error: connection refused by 127.0.0.1:${port}\n`);
    }
  });

  const bad: Array<[string[], RegExp]> = [
    [[], /no command given/],
    [["publish"], /unknown command "publish"/],
    [["pub", "-m", "x"], /pub needs a topic/],
    [["pub", "-t", "a"], /pub needs a message/],
    [["pub", "-t", "a", "-m", "x", "-n"], /only one of -m and -n/],
    [["pub", "-t", "a", "-m", "x", "--bogus"], /Unknown option '--bogus'/],
    [["pub", "-t", "a", "-m", "x", "-q", "3"], /-q \(qos\) must be an integer from 0 to 2, got "3"/],
    [["pub", "-t", "a", "-m", "x", "-p", "http"], /-p \(port\) must be an integer from 1 to 65535/],
    [["pub", "-t", "a", "-m", "x", "-V", "4"], /-V must be mqttv5 \(5\), mqttv311 \(311\) or mqttv31 \(31\)/],
    [["pub", "-t", "a", "-m", "x", "-P", "secret"], /-P \(password\) needs -u/],
    [["pub", "-t", "a", "-m", "x", "--will-qos", "1"], /need --will-topic/],
    [["pub", "-t", "a", "-m", "x", "extra"], /Unexpected argument 'extra'/],
    [["pub", "-t", "a", "-m", "x", "-D", "connect", "user-property", "k", "v", "-V", "mqttv311"], /-D connect and -D will need MQTT v5/],
    [["sub", "-v"], /sub needs at least one topic/],
    [["sub", "-t", "a", "-C", "0"], /-C \(count\) must be an integer from 1/],
    [["sub", "-t", "a", "-k"], /Option '-k, --keepalive <value>' argument missing/],
    [["demo", "--broker"], /argument missing/],
  ];
  for (const [args, message] of bad) {
    test(`tinymqtt ${args.join(" ")}: exit 1, the error and the usage on stderr`, async () => {
      const run = await cli(args);
      assert.equal(run.code, 1);
      assert.equal(run.stdout, "");
      assert.match(run.stderr, /^Error: /);
      assert.match(run.stderr, message);
      // As mosquitto_pub/sub: pub's and sub's mistakes point to their own --help; the others print the usage.
      const command = args[0];
      if (command === "pub" || command === "sub") assert.match(run.stderr, new RegExp(`\\n\\nUse 'tinymqtt ${command} --help' to see usage\\.\\n$`));
      else assert.match(run.stderr, /Usage: tinymqtt <command> \[options\]/);
    });
  }

  test("an invalid topic is reported without the usage, exit 1", async () => {
    const run = await cli(["pub", "-t", "a/+", "-m", "x", "-p", String(await freePort())]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^Error: invalid topic: .*wildcards/);
  });

  test("--help prints the usage on stdout, exit 0: the commands for tinymqtt and demo, each command's own for pub and sub", async () => {
    for (const args of [["--help"], ["demo", "--help"]]) {
      const run = await cli(args);
      assert.deepEqual([run.code, run.stderr], [0, ""]);
      assert.match(run.stdout, /^Usage: tinymqtt <command> \[options\]/);
      assert.match(run.stdout, /tinymqtt pub -t topic .*\(tinymqtt pub --help\)/);
      assert.match(run.stdout, /tinymqtt sub -t topic .*\(tinymqtt sub --help\)/);
    }
    for (const [command, other] of [["pub", "sub"], ["sub", "pub"]] as const) {
      const run = await cli([command, "--help"]);
      assert.deepEqual([run.code, run.stderr], [0, ""]);
      // mosquitto's layout: what the command does, the version, the usage lines ending with --help, the flags.
      const lines = run.stdout.split("\n");
      assert.match(lines[0]!, new RegExp(`^tinymqtt ${command} `));
      assert.match(lines[1]!, /^tinymqtt version \d+\.\d+\.\d+\.$/);
      assert.match(lines[3]!, new RegExp(`^Usage: tinymqtt ${command} \\{`));
      assert.ok(lines.includes(`       tinymqtt ${command} --help`));
      assert.ok(!run.stdout.includes(`tinymqtt ${other} `), `${command} --help says nothing of ${other}`);
      assert.match(run.stdout, /\n -t : /);
    }
  });

  test("demo: a round trip at QoS 0, 1 and 2 through the in-process broker, exit 0", async () => {
    const run = await cli(["demo"], 20_000);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /broker: started an in-process aedes broker on 127\.0\.0\.1:\d+/);
    assertRoundTrip(run.stdout);
    assert.match(run.stdout, /broker: stopped\n$/);
  });

  test("demo --broker: the same round trip through mosquitto; a closed port fails with exit 1", async () => {
    const broker = await startMosquitto();
    try {
      const run = await cli(["demo", "--broker", `mqtt://${broker.host}:${broker.port}`], 20_000);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`broker: mqtt://127\\.0\\.0\\.1:${broker.port}`));
      assertRoundTrip(run.stdout);
      // Where the QoS 0 round trip is printed, the reason a stock mosquitto adds about 40 ms to it.
      assert.match(run.stdout, /QoS 0: received by the subscriber at QoS 0: round trip [\d.]+ ms\nQoS 0: note: a stock mosquitto has set_tcp_nodelay off.*about 40 ms/);
    } finally {
      await broker.stop();
    }
    const port = await freePort();
    const failed = await cli(["demo", "--broker", `mqtt://127.0.0.1:${port}`]);
    assert.equal(failed.code, 1);
    assert.equal(failed.stderr, `Error: connection refused by 127.0.0.1:${port}\n`);
  });
});

function assertRoundTrip(stdout: string): void {
  assert.match(stdout, /subscriber: connected/);
  assert.match(stdout, /subscriber: subscribed to "tinymqtt\/demo\/[0-9a-f]+\/#" \(granted QoS 2\)/);
  assert.match(stdout, /publisher: connected/);
  for (const [qos, ack] of [[0, "written to the network"], [1, "PUBACK"], [2, "PUBCOMP"]] as const) {
    assert.match(stdout, new RegExp(`QoS ${qos}: publishing "hello at QoS ${qos}"`));
    assert.match(stdout, new RegExp(`QoS ${qos}: ${ack} after \\d+\\.\\d\\d ms`));
    assert.match(stdout, new RegExp(`QoS ${qos}: received by the subscriber at QoS ${qos}: round trip \\d+\\.\\d\\d ms`));
  }
  assert.match(stdout, /publisher: disconnected\nsubscriber: disconnected\n/);
  assert.match(stdout, /round trip complete: QoS 0 [\d.]+ ms, QoS 1 [\d.]+ ms, QoS 2 [\d.]+ ms/);
}
