/**
 * `tinymqtt pub`/`sub` beside Debian's mosquitto_pub/mosquitto_sub (mosquitto-clients): the same arguments
 * against the same mosquitto, comparing what reaches the broker (read back as a retained message by
 * mosquitto_sub), what is printed and the exit code. Every run is killed after a bound (10 s); a suite's
 * bound is its ~70 runs' worth on a loaded machine.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, connect } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Broker, freePort, startMosquitto } from "../../support/mosquitto.js";
import { OPENSSL, type TestPki, makeTestPki, tlsListener, wsListener } from "../../support/tls.js";
import { type RecordedPacket, startRecordingProxy } from "../../support/recording-proxy.js";
import { execFileSync } from "node:child_process";

const CLI = fileURLToPath(new URL("../../../hosts/node/cli.js", import.meta.url));
const ours = { pub: [process.execPath, CLI, "pub"], sub: [process.execPath, CLI, "sub"] } as const;
const theirs = { pub: ["mosquitto_pub"], sub: ["mosquitto_sub"] } as const;
type Tool = typeof ours;

interface Run { code: number | null; stdout: string; stderr: string }

function run(command: readonly string[], args: string[], options: { input?: string; timeoutMs?: number; started?: (c: ChildProcess) => void; env?: Record<string, string> } = {}): Promise<Run> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const env = options.env === undefined ? process.env : { ...process.env, ...options.env };
    const child = spawn(command[0]!, [...command.slice(1), ...args], { stdio: ["pipe", "pipe", "pipe"], env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    // A tool that exits without reading its stdin closes the pipe under the write: that is no failure here.
    child.stdin.on("error", () => {});
    child.stdin.end(options.input);
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command.join(" ")} ${args.join(" ")} did not exit within ${timeoutMs} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, timeoutMs);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    options.started?.(child);
  });
}

describe("tinymqtt pub and sub beside mosquitto_pub and mosquitto_sub", { timeout: 300_000 }, () => {
  let broker: Broker;
  let strict: Broker;
  let dir: string;
  let wsPort: number;
  before(async () => {
    wsPort = await freePort();
    broker = await startMosquitto({ config: wsListener(wsPort) });
    strict = await startMosquitto({ config: "allow_anonymous false" });
    dir = mkdtempSync(join(tmpdir(), "tinymqtt-cli-"));
  });
  after(async () => {
    await broker?.stop();
    await strict?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const at = (b: Broker = broker): string[] => ["-h", b.host, "-p", String(b.port)];
  /** The retained message on topic as mosquitto_sub prints it: "qos retain length payload", or "" when none. */
  const retained = async (topic: string): Promise<string> => (await run(theirs.sub, [...at(), "-t", topic, "-C", "1", "-W", "1", "-F", "%q %r %l %p"])).stdout;

  const pubCases: Array<[string, (topic: string) => string[], string?]> = [
    ["-m -q 1", (t) => ["-t", t, "-m", "hello", "-q", "1"]],
    ["-f file", (t) => ["-t", t, "-f", join(dir, "payload.bin")]],
    ["-s (stdin as one message)", (t) => ["-t", t, "-s"], "first line\nsecond line\n"],
    ["-l (a message per line)", (t) => ["-t", t, "-l", "-q", "1"], "one\ntwo\nthree\n"],
    ["-n", (t) => ["-t", t, "-n", "-q", "2"]],
    ["-L mqtt://host:port/topic", (t) => ["-L", `mqtt://${broker.host}:${broker.port}/${t}`, "-m", "by url"]],
    ["-V mqttv5 -x 60", (t) => ["-t", t, "-m", "five", "-V", "mqttv5", "-x", "60"]],
    ["--will-* and -i", (t) => ["-t", t, "-m", "w", "--will-topic", `${t}/will`, "--will-payload", "gone", "--will-qos", "1", "-i", `id-${t.replace(/\//g, "-")}`]],
  ];
  for (const [name, args, input] of pubCases) {
    test(`pub ${name}: the same message reaches the broker, the same output and exit code`, async () => {
      writeFileSync(join(dir, "payload.bin"), Buffer.from([0x00, 0xff, 0x41, 0x0a]));
      const results: Run[] = [];
      const messages: string[] = [];
      for (const [who, tool] of [["mosquitto", theirs], ["tinymqtt", ours]] as const) {
        const topic = `cmp/pub/${who}/${name.replace(/[^a-z0-9]+/gi, "-")}`;
        const opts = input === undefined ? {} : { input };
        results.push(await run(tool.pub, name.startsWith("-L") ? args(topic) : [...at(), ...args(topic), "-r"], opts));
        if (name.startsWith("-L")) results.at(-1)!.code === 0 && (await run(tool.pub, ["-L", `mqtt://${broker.host}:${broker.port}/${topic}/check`, "-m", "by url", "-r"]));
        messages.push(await retained(name.startsWith("-L") ? `${topic}/check` : topic));
        await run(theirs.pub, [...at(), "-t", name.startsWith("-L") ? `${topic}/check` : topic, "-n", "-r"]);
      }
      assert.deepEqual(results[1], results[0]);
      assert.equal(messages[1], messages[0]);
      // A null retained message clears the topic: nothing to read back, for both.
      if (name !== "-n") assert.notEqual(messages[0], "", "a retained message was read back");
    });
  }

  /** The flags a --help text describes, one per " -x : ..." line. */
  const flagsOf = (help: string): string[] => [...help.matchAll(/^ (-[A-Za-z]|--[a-z0-9-]+) : /gm)].map((m) => m[1]!).sort();
  // mosquitto's flags we leave out: a unix socket, repeats, client id prefixes, the inflight limit, Nagle,
  // cipher lists, TLS engines and PSK (node:tls has no engines; PSK needs a callback), SOCKS proxies, JSON output.
  const leftOut = ["--unix", "--repeat", "--repeat-delay", "-I", "-M", "--nodelay", "--ciphers", "--keyform", "--tls-engine",
    "--tls-engine-kpass-sha1", "--psk", "--psk-identity", "--proxy", "--random-filter", "--pretty"];
  for (const command of ["pub", "sub"] as const) {
    test(`${command} --help describes each of mosquitto_${command}'s flags but those left out, in mosquitto's layout`, async () => {
      const theirRun = await run(theirs[command], ["--help"]);
      const ourRun = await run(ours[command], ["--help"]);
      assert.equal(ourRun.code, 0);
      const theirFlags = flagsOf(theirRun.stdout);
      const ourFlags = flagsOf(ourRun.stdout);
      assert.ok(theirFlags.length > 30 && ourFlags.length > 30, "flags found in both");
      // Ours describe --tls-alpn, which mosquitto's name in the usage lines only, and --max-packet-size, our own.
      assert.deepEqual(theirFlags.filter((f) => !leftOut.includes(f)), ourFlags.filter((f) => f !== "--max-packet-size" && f !== "--tls-alpn"));
      // The skeleton: a line on what the command does, the version, a blank line, the usage, then the flags.
      const skeleton = (text: string): string[] => text.split("\n").slice(0, 4).map((l) => l.replace(/mosquitto_(pub|sub)/g, "tinymqtt $1").replace(/ .*/, ""));
      assert.deepEqual(skeleton(ourRun.stdout), skeleton(theirRun.stdout));
    });
  }

  test("pub -c -i and -A: the broker sees the same persistent session (resumed on the second run) and the same source address", async () => {
    const logged = await startMosquitto({ config: "log_type debug" });
    try {
      const sessions: string[][] = [];
      for (const [who, tool] of [["mosquitto", theirs], ["tinymqtt", ours]] as const) {
        const id = `cmp-pub-c-${who}`;
        const args = ["-h", "127.0.0.1", "-p", String(logged.port), "-A", "127.0.0.2", "-c", "-i", id, "-t", "cmp/pub/c", "-m", "kept", "-q", "1"];
        const from = logged.log.length;
        for (let i = 0; i < 2; i++) assert.deepEqual(await run(tool.pub, args), { code: 0, stdout: "", stderr: "" }, who);
        // "New client connected from 127.0.0.2:port as id (p2, c0, k60)." and "Sending CONNACK to id (session present, 0)".
        const lines = logged.log.slice(from).split("\n").map((l) => l.replace(/^\d+: /, "").replace(/:\d+ /, ":PORT ").replaceAll(id, "ID"))
          .filter((l) => /^(New client connected from|Sending CONNACK to)/.test(l));
        sessions.push(lines);
      }
      assert.deepEqual(sessions[1], sessions[0]);
      assert.deepEqual(sessions[0], [
        "New client connected from 127.0.0.2:PORT as ID (p2, c0, k60).", "Sending CONNACK to ID (0, 0)",
        "New client connected from 127.0.0.2:PORT as ID (p2, c0, k60).", "Sending CONNACK to ID (1, 0)",
      ]);
    } finally {
      await logged.stop();
    }
  });

  test("sub -A: the broker sees the connection come from the bound address, as from mosquitto_sub", async () => {
    const logged = await startMosquitto({ config: "log_type debug" });
    try {
      const seen: string[][] = [];
      for (const tool of [theirs, ours]) {
        const from = logged.log.length;
        assert.deepEqual(await run(tool.sub, ["-h", "127.0.0.1", "-p", String(logged.port), "-A", "127.0.0.3", "-t", "cmp/sub/bound", "-E"]), { code: 0, stdout: "", stderr: "" });
        // (Not "New connection from": the broker's readiness probe may be logged late, from 127.0.0.1.)
        seen.push(logged.log.slice(from).split("\n").filter((l) => l.includes("New client connected from"))
          .map((l) => l.replace(/^\d+: /, "").replace(/:\d+ as \S+/, "")));
      }
      assert.deepEqual(seen, [["New client connected from 127.0.0.3 (p2, c1, k60)."], ["New client connected from 127.0.0.3 (p2, c1, k60)."]]);
    } finally {
      await logged.stop();
    }
  });

  for (const args of [["-c"], ["-c", "-V", "5"], ["-x", "-1", "-V", "mqttv5"]]) {
    test(`pub ${args.join(" ")} without -i: the same error as mosquitto_pub (a persistent session needs a client id), exit 1`, async () => {
      const theirRun = await run(theirs.pub, [...at(), "-t", "a", "-m", "b", ...args]);
      const ourRun = await run(ours.pub, [...at(), "-t", "a", "-m", "b", ...args]);
      assert.equal(theirRun.code, 1);
      assert.deepEqual(ourRun, { ...theirRun, stderr: theirRun.stderr.replace("mosquitto_pub --help", "tinymqtt pub --help") });
    });
  }

  /** A -d run's output with the broker-assigned client ids (MQTT 5, random) made the same. */
  const assigned = (r: Run): Run => ({ ...r, stdout: r.stdout.replace(/auto-[0-9A-F-]{36}/g, "auto-ID") });
  const debugPubCases: Array<[string, string[], string?]> = [
    ["-q 0", ["-q", "0"]],
    ["-q 1", ["-q", "1"]],
    ["-q 2 -i", ["-q", "2", "-i", "cmp-debug"]],
    ["-q 1 -V 5 (the id the broker assigns)", ["-q", "1", "-V", "5"]],
    ["-l -q 1 (a mid per line)", ["-l", "-q", "1"], "a\nb\nc\n"],
    ["-l -q 0", ["-l"], "a\nb\n"],
  ];
  for (const [name, args, input] of debugPubCases) {
    test(`pub -d ${name}: the same packet lines as mosquitto_pub -d, in its layout`, async () => {
      const message = input === undefined ? ["-m", "hello"] : [];
      const theirRun = assigned(await run(theirs.pub, [...at(), "-t", "cmp/debug/pub", ...message, "-d", ...args], input === undefined ? {} : { input }));
      const ourRun = assigned(await run(ours.pub, [...at(), "-t", "cmp/debug/pub", ...message, "-d", ...args], input === undefined ? {} : { input }));
      // With several messages, a PUBACK may come back before or after the next PUBLISH goes out: the order
      // of the lines then depends on timing, for either tool, so only their set is compared.
      const lines = (r: Run): Run => (input === undefined ? r : { ...r, stdout: r.stdout.split("\n").sort().join("\n") });
      assert.deepEqual(lines(ourRun), lines(theirRun));
      assert.match(theirRun.stdout, /^Client \S+ sending CONNECT\nClient \S+ received CONNACK \(0\)\n/);
    });
  }

  test("sub -d -E with -U on MQTT 5: the same packet lines and Subscribed line as mosquitto_sub -d", async () => {
    const args = [...at(), "-t", "cmp/debug/a", "-t", "cmp/debug/b", "-q", "1", "-U", "cmp/debug/c", "-E", "-d", "-V", "5"];
    const theirRun = assigned(await run(theirs.sub, args));
    assert.deepEqual(assigned(await run(ours.sub, args)), theirRun);
    assert.match(theirRun.stdout, /sending SUBSCRIBE \(Mid: 1, Topic: cmp\/debug\/b, QoS: 1, Options: 0x00\)\n.*sending UNSUBSCRIBE \(Mid: 2, Topic: cmp\/debug\/c\)\n.*received SUBACK\nSubscribed \(mid: 1\): 1, 1\n/s);
  });

  // Ours acknowledges a message once its callback has run (nothing is lost if it throws), and delivers QoS 2 at
  // PUBLISH rather than PUBREL: -C 1 then prints the message before the PUBACK/PUBREC, and a QoS 2 flow ends
  // with the DISCONNECT after PUBREC. The README says so.
  for (const qos of [0, 1, 2] as const) {
    test(`sub -d -C 1 receiving a QoS ${qos} message: mosquitto_sub's lines${qos === 0 ? "" : ", but for when the message is acknowledged"}`, async () => {
      await run(theirs.pub, [...at(), "-t", `cmp/debug/r${qos}`, "-m", "kept", "-q", String(qos), "-r"]);
      const args = [...at(), "-t", `cmp/debug/r${qos}`, "-q", "2", "-C", "1", "-d", "-i", "cmp-debug-sub"];
      const theirRun = await run(theirs.sub, args);
      const ourRun = await run(ours.sub, args);
      await run(theirs.pub, [...at(), "-t", `cmp/debug/r${qos}`, "-n", "-r"]);
      let expected = theirRun.stdout;
      const id = "Client cmp-debug-sub";
      if (qos === 1) expected = expected.replace(`${id} sending PUBACK (m1, rc0)\nkept\n`, `kept\n${id} sending PUBACK (m1, rc0)\n`);
      if (qos === 2) expected = expected.replace(`${id} sending PUBREC (m1, rc0)\n${id} received PUBREL (Mid: 1)\n${id} sending PUBCOMP (m1)\nkept\n`, `kept\n${id} sending PUBREC (m1, rc0)\n`);
      if (qos > 0) assert.notEqual(expected, theirRun.stdout, "the difference is where the test expects it");
      assert.deepEqual(ourRun, { ...theirRun, stdout: expected });
      assert.match(theirRun.stdout, new RegExp(`received PUBLISH \\(d0, q${qos}, r1, m${qos === 0 ? 0 : 1}, 'cmp/debug/r${qos}', \\.\\.\\. \\(4 bytes\\)\\)`));
    });
  }

  /** The -D flags for each command, as mosquitto names them. */
  const D = (...groups: string[][]): string[] => groups.flatMap((g) => ["-D", ...g]);
  /** What the broker was sent, packet by packet: the type and the properties (the will's too). */
  const sent = (packets: RecordedPacket[]): Array<[string, unknown, unknown?]> =>
    packets.map((p) => p.cmd === "connect" ? [p.cmd, p.properties, (p.will as { properties?: unknown } | undefined)?.properties] : [p.cmd, p.properties]);

  test("-D on connect, will, publish and disconnect (pub) and subscribe, unsubscribe (sub): the broker receives the same properties from both", async () => {
    const proxy = await startRecordingProxy(broker.port);
    try {
      const via = ["-h", "127.0.0.1", "-p", String(proxy.port)];
      const pub = [...via, "-t", "cmp/props/pub", "-m", "hi", "-q", "1", "-i", "cmp-props-pub", "--will-topic", "cmp/props/will", ...D(
        ["connect", "user-property", "ck", "cv"], ["connect", "session-expiry-interval", "30"], ["connect", "request-problem-information", "1"],
        ["will", "user-property", "wk", "wv"], ["will", "will-delay-interval", "5"], ["will", "content-type", "text/will"],
        ["publish", "user-property", "k1", "v1"], ["publish", "user-property", "k2", "v2"], ["publish", "content-type", "text/plain"],
        ["publish", "message-expiry-interval", "3600"], ["publish", "payload-format-indicator", "1"], ["publish", "response-topic", "re/sp"],
        ["publish", "correlation-data", "abc"], ["disconnect", "user-property", "dk", "dv"], ["disconnect", "session-expiry-interval", "0"])];
      const sub = [...via, "-t", "cmp/props/sub", "-U", "cmp/props/other", "-E", "-i", "cmp-props-sub", ...D(
        ["subscribe", "user-property", "sk", "sv"], ["subscribe", "subscription-identifier", "42"], ["unsubscribe", "user-property", "uk", "uv"],
        ["disconnect", "user-property", "dk", "dv"])];
      const seen: Array<Array<Array<[string, unknown, unknown?]>>> = [];
      for (const tool of [theirs, ours]) {
        assert.deepEqual(await run(tool.pub, pub), { code: 0, stdout: "", stderr: "" });
        assert.deepEqual(await run(tool.sub, sub), { code: 0, stdout: "", stderr: "" });
        seen.push(proxy.take().map(sent));
      }
      const [theirPackets, ourPackets] = seen as [Array<Array<[string, unknown, unknown?]>>, Array<Array<[string, unknown, unknown?]>>];
      assert.deepEqual(ourPackets.map((c) => c.map(([cmd]) => cmd)), [["connect", "publish", "disconnect"], ["connect", "subscribe", "unsubscribe", "disconnect"]]);
      assert.deepEqual(theirPackets.map((c) => c.map(([cmd]) => cmd)), ourPackets.map((c) => c.map(([cmd]) => cmd)));
      for (let c = 0; c < 2; c++) {
        for (let i = 0; i < theirPackets[c]!.length; i++) {
          const [cmd, theirProps, theirWill] = theirPackets[c]![i]!;
          const [, ourProps, ourWill] = ourPackets[c]![i]!;
          // Each CONNECT also carries its client's own limits: mosquitto's Receive Maximum 20 (its -M), ours those
          // of the client's budget (Receive Maximum, Maximum Packet Size, Topic Alias Maximum). The rest is compared.
          const given = (props: unknown): unknown => cmd !== "connect" ? props
            : Object.fromEntries(Object.entries(props as object).filter(([k]) => !["receiveMaximum", "maximumPacketSize", "topicAliasMaximum"].includes(k)));
          assert.deepEqual([cmd, given(ourProps), ourWill], [cmd, given(theirProps), theirWill]);
        }
      }
      // Not vacuous: the properties given are there (mqtt-packet's user properties have a null prototype).
      const plain = (props: unknown): unknown => ({ ...(props as object), userProperties: { ...(props as { userProperties: object }).userProperties } });
      assert.deepEqual(plain(theirPackets[0]![1]![1]), { payloadFormatIndicator: true, messageExpiryInterval: 3600, contentType: "text/plain",
        responseTopic: "re/sp", correlationData: Buffer.from("abc"), userProperties: { k1: "v1", k2: "v2" } });
      assert.deepEqual(plain(theirPackets[1]![1]![1]), { subscriptionIdentifier: 42, userProperties: { sk: "sv" } });
    } finally {
      await proxy.close();
    }
  });

  test("-D publish: a subscriber prints the same properties for both publishers, and sub -F prints them as mosquitto_sub -F does", async () => {
    const props = D(["publish", "user-property", "k1", "v1"], ["publish", "user-property", "k2", "v2"], ["publish", "content-type", "text/plain"],
      ["publish", "message-expiry-interval", "3600"], ["publish", "payload-format-indicator", "1"], ["publish", "response-topic", "re/sp"],
      ["publish", "correlation-data", "abc"]);
    const read = [...at(), "-t", "cmp/props/read", "-C", "1", "-W", "2", "-F", "%P|%C|%E|%F|%R|%D|%S|%A|%X|%p", ...D(["subscribe", "subscription-identifier", "7"])];
    const printed: string[] = [];
    for (const publisher of [theirs, ours]) {
      for (const reader of [theirs, ours]) {
        assert.deepEqual(await run(publisher.pub, [...at(), "-t", "cmp/props/read", "-m", "hi", "-r", "-q", "1", ...props]), { code: 0, stdout: "", stderr: "" });
        const r = await run(reader.sub, read);
        assert.equal(r.code, 0, r.stderr);
        // The expiry the broker passes on is what is left of it: a second may have gone by.
        printed.push(r.stdout.replace("|3599|", "|3600|"));
      }
    }
    await run(theirs.pub, [...at(), "-t", "cmp/props/read", "-n", "-r"]);
    assert.deepEqual(printed, Array(4).fill("k1:v1 k2:v2|text/plain|3600|1|re/sp|abc|7||6869|hi\n"));
  });

  const badProperties: string[][] = [
    ["publish", "bogus", "1"], ["publish", "session-expiry-interval", "1"], ["bogus", "user-property", "a", "b"], ["publish", "user-property", "a"],
    ["subscribe", "content-type", "x"], ["publish", "subscription-identifier", "3"], ["publish", "message-expiry-interval", "-1"],
    ["publish", "payload-format-indicator", "300"], ["puback", "reason-string", "x"], ["auth", "authentication-method", "x"],
    ["connack", "maximum-qos", "1"], ["connect", "receive-maximum", "0"], ["publish", "topic-alias", "0"], ["publish", "correlation-data"],
    ["connect", "request-problem-information", "2"], ["publish", "content-type", "a", "-D", "publish", "content-type", "b"],
    ["connect", "maximum-packet-size", "0", "--quiet"], ["connect", "session-expiry-interval", "5", "-x", "5"],
  ];
  for (const bad of badProperties) {
    test(`-D ${bad.join(" ")}: mosquitto's error, word for word, and exit 1, from pub and sub`, async () => {
      for (const command of ["pub", "sub"] as const) {
        const args = [...at(), "-t", "a", ...(command === "pub" ? ["-m", "x"] : ["-E"]), "-i", "cmp-bad-props", "-D", ...bad];
        const theirRun = await run(theirs[command], args);
        const ourRun = await run(ours[command], args);
        assert.equal(theirRun.code, 1, theirRun.stderr);
        assert.deepEqual(ourRun, { ...theirRun, stderr: theirRun.stderr.replace(`mosquitto_${command} --help`, `tinymqtt ${command} --help`) }, command);
      }
    });
  }

  test("pub -L ws://host:port/topic (which mosquitto_pub 2.0 refuses: unsupported URL scheme) reaches the broker over WebSockets", async () => {
    const topic = "cmp/pub/ws";
    assert.deepEqual(await run(ours.pub, ["-L", `ws://127.0.0.1:${wsPort}/${topic}`, "-m", "over ws", "-q", "1", "-r"]), { code: 0, stdout: "", stderr: "" });
    assert.equal(await retained(topic), "0 1 7 over ws\n");
    await run(theirs.pub, [...at(), "-t", topic, "-n", "-r"]);
  });

  test("pub --max-packet-size: a 400 kB message, larger than the default budget, goes through", async () => {
    writeFileSync(join(dir, "large.bin"), Buffer.alloc(400_000, 0x61));
    const topic = "cmp/pub/large";
    const sent = await run(ours.pub, [...at(), "-t", topic, "-f", join(dir, "large.bin"), "-r", "-q", "1", "--max-packet-size", "500000"]);
    assert.deepEqual(sent, { code: 0, stdout: "", stderr: "" });
    assert.equal((await run(theirs.sub, [...at(), "-t", topic, "-C", "1", "-W", "2", "-F", "%l"])).stdout, "400000\n");
    await run(theirs.pub, [...at(), "-t", topic, "-n", "-r"]);
  });

  test("pub -f of a 400 kB file without --max-packet-size: the same bytes reach the broker as from mosquitto_pub, exit 0", async () => {
    const payload = Buffer.alloc(400_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7919) & 0xff;
    writeFileSync(join(dir, "large-unflagged.bin"), payload);
    const received: string[] = [];
    for (const [who, tool] of [["mosquitto", theirs], ["tinymqtt", ours]] as const) {
      const topic = `cmp/pub/large-unflagged/${who}`;
      assert.deepEqual(await run(tool.pub, [...at(), "-t", topic, "-f", join(dir, "large-unflagged.bin"), "-r", "-q", "1"]), { code: 0, stdout: "", stderr: "" }, who);
      received.push((await run(theirs.sub, [...at(), "-t", topic, "-C", "1", "-W", "2", "-F", "%l %x"])).stdout);
      await run(theirs.pub, [...at(), "-t", topic, "-n", "-r"]);
    }
    assert.equal(received[0], `400000 ${payload.toString("hex")}\n`);
    assert.deepEqual(received[1], received[0]);
  });

  const subCases: Array<[string, string[]]> = [
    ["-C 2 -v", ["-t", "cmp/sub/#", "-C", "2", "-v"]],
    ["-F with every field", ["-t", "cmp/sub/#", "-C", "2", "-F", "%t|%q|%r|%l|%x|%p|%%\\t."]],
    ["-N", ["-t", "cmp/sub/#", "-C", "2", "-N"]],
    ["-T filters a topic out", ["-t", "cmp/sub/#", "-T", "cmp/sub/a", "-C", "1", "-v"]],
    ["-R with -W: nothing printed, exit 27", ["-t", "cmp/sub/#", "-R", "-W", "1"]],
    ["--retained-only with -W", ["-t", "cmp/sub/#", "--retained-only", "-W", "1", "-v"]],
    ["-W on a silent topic: Timed out, exit 27", ["-t", "cmp/silent", "-W", "1"]],
    ["-E: exit once subscribed", ["-t", "cmp/silent", "-E", "-q", "1"]],
    ["-U with -E", ["-t", "cmp/silent", "-U", "cmp/other", "-E"]],
    ["-c -i -x -V 5", ["-t", "cmp/sub/#", "-C", "2", "-c", "-i", "cmp-sub-session", "-x", "1", "-V", "5", "-v"]],
  ];
  for (const [name, args] of subCases) {
    test(`sub ${name}: the same output and exit code`, async () => {
      for (const [topic, text] of [["cmp/sub/a", "one"], ["cmp/sub/b", "two"]]) await run(theirs.pub, [...at(), "-t", topic!, "-m", text!, "-r", "-q", "1"]);
      const theirRun = await run(theirs.sub, [...at(), ...args]);
      const ourRun = await run(ours.sub, [...at(), ...args]);
      assert.deepEqual(ourRun, theirRun);
    });
  }

  test("sub --remove-retained: both clear the retained messages they receive", async () => {
    const runs: Run[] = [];
    for (const tool of [theirs, ours] as Tool[]) {
      await run(theirs.pub, [...at(), "-t", "cmp/rr/x", "-m", "v", "-r"]);
      // The retained "v"; the null message that cleared it may come back live too, for either tool (a race in the broker).
      const r = await run(tool.sub, [...at(), "-t", "cmp/rr/#", "--remove-retained", "-W", "1"]);
      runs.push({ ...r, stdout: r.stdout.replace(/\n\n$/, "\n") });
      assert.equal(await retained("cmp/rr/#"), "");
    }
    assert.deepEqual(runs[1], runs[0]);
    assert.deepEqual(runs[0], { code: 27, stdout: "v\n", stderr: "Timed out\n" });
  });

  test("SIGINT ends sub with a DISCONNECT (its will is not published) and exit 0, as mosquitto_sub", async () => {
    await run(theirs.pub, [...at(), "-t", "cmp/sigint/topic", "-m", "here", "-r"]);
    // mosquitto_sub's stdout is block-buffered into a pipe: stdbuf makes it line-buffered, so the signal goes
    // out once the first message (the retained one: subscribed by then) is printed.
    for (const [who, command] of [["mosquitto", ["stdbuf", "-oL", ...theirs.sub]], ["tinymqtt", ours.sub]] as const) {
      const will = `cmp/sigint/${who}`;
      const r = await run(command, [...at(), "-t", "cmp/sigint/topic", "-v", "--will-topic", will, "--will-payload", "died", "--will-retain"], {
        started: (child) => child.stdout!.once("data", () => child.kill("SIGINT")),
      });
      assert.deepEqual(r, { code: 0, stdout: "cmp/sigint/topic here\n", stderr: "" }, who);
      assert.equal(await retained(will), "", `${who}: no will`);
    }
  });

  for (const [name, args] of [["3.1.1", ["-u", "nobody", "-P", "wrong"]], ["MQTT 5", ["-V", "5"]]] as const) {
    test(`a refused connection on ${name}: the same exit code (the CONNACK code) from pub and sub`, async () => {
      for (const command of ["pub", "sub"] as const) {
        const extra = command === "pub" ? ["-t", "a", "-m", "b"] : ["-t", "a"];
        const theirRun = await run(theirs[command], [...at(strict), ...extra, ...args]);
        const ourRun = await run(ours[command], [...at(strict), ...extra, ...args]);
        assert.equal(ourRun.code, theirRun.code, `${command}: ${ourRun.stderr}`);
        assert.equal(ourRun.code, name === "MQTT 5" ? 135 : 5);
        assert.equal((await run(ours[command], [...at(strict), ...extra, ...args, "--quiet"])).stderr, "");
      }
    });
  }
});

describe("tinymqtt pub beside mosquitto_pub over TLS: --cafile, --capath, --cert/--key, --insecure, --tls-version, --tls-alpn, --tls-use-os-certs, -L mqtts://, wss://", { timeout: 300_000 }, () => {
  let broker: Broker;
  let pki: TestPki;
  let port: { mutual: number; mismatch: number; wss: number; open: number };
  let capath: string;
  before(async () => {
    pki = makeTestPki();
    port = { mutual: await freePort(), mismatch: await freePort(), wss: await freePort(), open: await freePort() };
    broker = await startMosquitto({ config: [tlsListener(port.mutual, { ca: pki.ca, ...pki.server }, ["require_certificate true"]),
      tlsListener(port.mismatch, { ca: pki.ca, ...pki.mismatch }), tlsListener(port.open, { ca: pki.ca, ...pki.server }), wsListener(port.wss, { ca: pki.ca, ...pki.server })].join("\n") });
    // --capath: a folder of CA certificates named by their subject hash, as OpenSSL (and so mosquitto_pub) looks them up.
    capath = join(pki.dir, "capath");
    mkdirSync(capath);
    const hash = execFileSync(OPENSSL, ["x509", "-hash", "-noout", "-in", pki.ca], { encoding: "utf8" }).trim();
    copyFileSync(pki.ca, join(capath, `${hash}.0`));
  });
  after(async () => {
    await broker?.stop();
    pki?.remove();
  });
  const plain = (): string[] => ["-h", broker.host, "-p", String(broker.port)];
  const retained = async (topic: string): Promise<string> => (await run(theirs.sub, [...plain(), "-t", topic, "-C", "1", "-W", "1", "-F", "%q %r %p"])).stdout;
  const client = (): string[] => ["--cert", pki.client.cert, "--key", pki.client.key];

  const cases: Array<[string, (topic: string) => string[]]> = [
    ["--cafile --cert --key", (t) => ["-h", "127.0.0.1", "-p", String(port.mutual), "--cafile", pki.ca, ...client(), "-t", t]],
    ["--capath", (t) => ["-h", "127.0.0.1", "-p", String(port.mutual), "--capath", capath, ...client(), "-t", t]],
    ["--tls-version tlsv1.2", (t) => ["-h", "127.0.0.1", "-p", String(port.mutual), "--cafile", pki.ca, ...client(), "--tls-version", "tlsv1.2", "-t", t]],
    ["--insecure (a certificate for another name)", (t) => ["-h", "127.0.0.1", "-p", String(port.mismatch), "--cafile", pki.ca, "--insecure", "-t", t]],
    ["-L mqtts://", (t) => ["-L", `mqtts://127.0.0.1:${port.mutual}/${t}`, "--cafile", pki.ca, ...client()]],
  ];
  for (const [name, args] of cases) {
    test(`pub ${name}: the same message reaches the broker, the same output and exit code`, async () => {
      const results: Run[] = [];
      const messages: string[] = [];
      for (const [who, tool] of [["mosquitto", theirs], ["tinymqtt", ours]] as const) {
        const topic = `cmp/tls/${who}/${name.replace(/[^a-z0-9]+/gi, "-")}`;
        results.push(await run(tool.pub, [...args(topic), "-m", "over tls", "-q", "1", "-r"]));
        messages.push(await retained(topic));
      }
      assert.deepEqual(results[1], results[0]);
      assert.deepEqual(messages, ["0 1 over tls\n", "0 1 over tls\n"]);
    });
  }

  // --tls-use-os-certs trusts what OpenSSL trusts by default: SSL_CERT_FILE points OpenSSL (mosquitto_pub) and
  // ours at the test CA, or at an unrelated one. A listener without client certificates: mosquitto_pub sends
  // --cert only along with --cafile or --capath.
  for (const trusted of [true, false]) {
    test(`pub --tls-use-os-certs with SSL_CERT_FILE naming ${trusted ? "the broker's CA: both connect" : "another CA: both fail, ours with exit 1"}`, async () => {
      const env = { SSL_CERT_FILE: trusted ? pki.ca : pki.otherCa };
      const results: Run[] = [];
      const messages: string[] = [];
      for (const [who, tool] of [["mosquitto", theirs], ["tinymqtt", ours]] as const) {
        const topic = `cmp/tls/${who}/os-certs`;
        results.push(await run(tool.pub, ["-h", "127.0.0.1", "-p", String(port.open), "--tls-use-os-certs", "-t", topic, "-m", "os", "-q", "1", "-r"], { env }));
        messages.push(await retained(topic));
        await run(theirs.pub, [...plain(), "-t", topic, "-n", "-r"]);
      }
      if (trusted) {
        assert.deepEqual(results, [{ code: 0, stdout: "", stderr: "" }, { code: 0, stdout: "", stderr: "" }]);
        assert.deepEqual(messages, ["0 1 os\n", "0 1 os\n"]);
      } else {
        assert.ok(results[0]!.code === 1 || results[0]!.code === 8, `mosquitto_pub exited ${results[0]!.code}: ${results[0]!.stderr}`);
        assert.equal(results[1]!.code, 1);
        assert.match(results[1]!.stderr, /^Error: .*certificate/);
        assert.deepEqual(messages, ["", ""]);
      }
    });
  }

  test("pub --tls-alpn: the protocol is offered in the handshake (a TLS front that insists on \"mqtt\" sees it), and a mismatch fails both", async () => {
    // mosquitto's listeners take no ALPN setting: a Node TLS front that speaks only "mqtt" forwards to the plain listener.
    const negotiated: Array<string | false | null> = [];
    const front = createTlsServer({ key: readFileSync(pki.server.key), cert: readFileSync(pki.server.cert), ALPNProtocols: ["mqtt"] }, (socket) => {
      negotiated.push(socket.alpnProtocol);
      const upstream = connect({ host: broker.host, port: broker.port });
      socket.pipe(upstream).pipe(socket);
      const close = (): void => {
        socket.destroy();
        upstream.destroy();
      };
      socket.on("error", close).on("close", close);
      upstream.on("error", close).on("close", close);
    });
    front.on("tlsClientError", () => negotiated.push("refused"));
    await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
    try {
      const at = ["-h", "127.0.0.1", "-p", String((front.address() as AddressInfo).port), "--cafile", pki.ca, "-q", "1", "-m", "alpn"];
      for (const [who, tool] of [["mosquitto", theirs], ["tinymqtt", ours]] as const) {
        const topic = `cmp/tls/${who}/alpn`;
        assert.deepEqual(await run(tool.pub, [...at, "-t", topic, "-r", "--tls-alpn", "mqtt"]), { code: 0, stdout: "", stderr: "" }, who);
        assert.equal(await retained(topic), "0 1 alpn\n");
        await run(theirs.pub, [...plain(), "-t", topic, "-n", "-r"]);
        const refused = await run(tool.pub, [...at, "-t", topic, "--tls-alpn", "x-other"]);
        // mosquitto_pub: "Unable to connect (A TLS error occurred.)." and exit 1 or 8 (as for any failed handshake).
        assert.notEqual(refused.code, 0, who);
        if (who === "tinymqtt") assert.match(refused.stderr, /^Error: /);
      }
      assert.deepEqual(negotiated, ["mqtt", "refused", "mqtt", "refused"]);
    } finally {
      await new Promise((resolve) => front.close(resolve));
    }
  });

  test("pub -L wss:// (which mosquitto_pub 2.0 refuses) reaches mosquitto's WebSocket TLS listener, and fails to one it cannot verify", async () => {
    const topic = "cmp/tls/wss";
    const theirRun = await run(theirs.pub, ["-L", `wss://127.0.0.1:${port.wss}/${topic}`, "--cafile", pki.ca, "-m", "x"]);
    assert.equal(theirRun.code, 1);
    assert.deepEqual(await run(ours.pub, ["-L", `wss://127.0.0.1:${port.wss}/${topic}`, "--cafile", pki.ca, "-m", "over wss", "-q", "1", "-r"]), { code: 0, stdout: "", stderr: "" });
    assert.equal(await retained(topic), "0 1 over wss\n");
    await run(theirs.pub, [...plain(), "-t", topic, "-n", "-r"]);
    const untrusted = await run(ours.pub, ["-L", `wss://127.0.0.1:${port.wss}/${topic}`, "--cafile", pki.otherCa, "-m", "x"]);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /^Error: /);
    // And sub over wss://, with the same trust.
    await run(theirs.pub, [...plain(), "-t", topic, "-m", "kept", "-r"]);
    assert.deepEqual(await run(ours.sub, ["-L", `wss://127.0.0.1:${port.wss}/${topic}`, "--cafile", pki.ca, "-C", "1", "-v"]), { code: 0, stdout: `${topic} kept\n`, stderr: "" });
    await run(theirs.pub, [...plain(), "-t", topic, "-n", "-r"]);
  });

  // mosquitto_pub exits 1 when the handshake fails inside its network loop, and 8 (MOSQ_ERR_TLS) when it fails
  // inside mosquitto_connect: which of the two depends on how fast the broker answers, so CI has seen both.
  // Ours always exits 1, as mosquitto_pub does in the common case.
  test("pub without --insecure to a certificate for another name: both fail; ours exits 1", async () => {
    const args = ["-h", "127.0.0.1", "-p", String(port.mismatch), "--cafile", pki.ca, "-t", "cmp/tls/refused", "-m", "x"];
    const mine = await run(ours.pub, args);
    assert.equal(mine.code, 1, mine.stderr);
    assert.match(mine.stderr, /^Error: /);
    const mosquittos = await run(theirs.pub, args);
    assert.ok(mosquittos.code === 1 || mosquittos.code === 8, `mosquitto_pub exited ${mosquittos.code}: ${mosquittos.stderr}`);
  });
});
