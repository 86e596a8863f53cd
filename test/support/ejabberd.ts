/**
 * A real two-node (or more) MQTT broker cluster on loopback for integration tests: Debian's ejabberd 23.01
 * (package `ejabberd`, installed by scripts/setup-tests.sh), each node a plain `erl` process named with
 * -sname nK@localhost, sharing a cookie and a private epmd (its own port, started here, so nothing outside
 * the test is touched), each with its own config, Mnesia folder and MQTT port (mod_mqtt). The nodes after
 * the first join the first with ejabberd_admin:join_cluster(<<"n1@localhost">>) (the node name as a binary),
 * run from a hidden control node.
 *
 *   const cluster = await startEjabberdCluster(2);
 *   cluster.nodes[0].port ...; cluster.kill(1);   // SIGKILL: the node dies with the sessions it held
 *   after(() => cluster.stop());
 *
 * Measured with it: live QoS 0/1 messages and offline persistent sessions cross nodes; retained messages do
 * not; a SIGSTOPped node freezes the whole cluster for about a minute (Erlang's net tick), so tests kill
 * nodes rather than pause them. Anonymous MQTT logins need a non-empty password (any username works).
 * Every process started here is killed, and the folder removed, when the test process exits.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./mosquitto.js";

export const ERL = process.env["ERL"] ?? "/usr/bin/erl";
/** Where Debian puts ejabberd's and its dependencies' Erlang applications. */
const ERL_LIBS = "/usr/lib/x86_64-linux-gnu";
const HOST = "127.0.0.1";
const READY_TIMEOUT_MS = 30_000;
const LOG_LIMIT = 64 * 1024;

export interface EjabberdNode {
  readonly name: string;
  readonly port: number;
  /** The node's beam process (erl execs into it), undefined once killed. */
  readonly process: ChildProcess | undefined;
  readonly log: string;
}

export interface EjabberdCluster {
  readonly host: "127.0.0.1";
  readonly nodes: readonly EjabberdNode[];
  /** mqtt://127.0.0.1:port of every node, comma-separated (what `simulate --broker` takes). */
  readonly urls: string;
  /** SIGKILLs node i; resolves once it is gone. */
  kill(i: number): Promise<void>;
  /** Kills every node and the epmd, removes the folder. Safe to call twice. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
let hooked = false;

function killAll(): void {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
  live.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", killAll);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function config(port: number): string {
  return [
    "hosts:", "  - localhost",
    "loglevel: warning",
    // Anonymous logins: any username, and a password that must not be empty.
    "auth_method: [anonymous]", "anonymous_protocol: login_anon",
    "listen:", "  -", `    port: ${port}`, `    ip: "${HOST}"`, "    module: mod_mqtt", "    backlog: 1000",
    "modules:", "  mod_mqtt: {}",
    "",
  ].join("\n");
}

function track(child: ChildProcess, onLog: (text: string) => void): Promise<string> {
  live.add(child);
  child.stdout?.on("data", (chunk: Buffer) => onLog(chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => onLog(chunk.toString("utf8")));
  return new Promise((resolve) => {
    child.once("error", (e) => {
      live.delete(child);
      resolve(`could not start: ${e.message}`);
    });
    child.once("exit", (code, signal) => {
      live.delete(child);
      resolve(signal !== null ? `killed by ${signal}` : `exited with code ${String(code)}`);
    });
  });
}

export async function startEjabberdCluster(size = 2): Promise<EjabberdCluster> {
  hookExit();
  const dir = mkdtempSync(join(tmpdir(), "tinymqtt-ejabberd-"));
  dirs.add(dir);
  const cookie = randomBytes(12).toString("hex");
  const epmdPort = await freePort();
  // Erlang's name server, ours alone: the nodes find each other through it, on loopback only.
  const epmd = spawn("epmd", ["-address", HOST, "-port", String(epmdPort)], { stdio: ["ignore", "pipe", "pipe"] });
  let epmdLog = "";
  const epmdGone = track(epmd, (t) => (epmdLog += t));
  const env = { ...process.env, ERL_LIBS, ERL_EPMD_PORT: String(epmdPort), HOME: dir };
  // The distribution listens on loopback only too.
  const erlArgs = (name: string): string[] => ["-sname", name, "-setcookie", cookie, "-start_epmd", "false", "-kernel", "inet_dist_use_interface", "{127,0,0,1}"];
  const nodes: Array<{ name: string; port: number; process: ChildProcess | undefined; log: string; gone: Promise<string> }> = [];
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const n of nodes) n.process?.kill("SIGKILL");
    await Promise.all(nodes.map((n) => n.gone));
    epmd.kill("SIGTERM");
    await epmdGone;
    dirs.delete(dir);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (let i = 1; i <= size; i++) {
      const name = `n${i}@localhost`;
      const port = await freePort();
      const nodeDir = join(dir, `n${i}`);
      mkdirSync(nodeDir);
      writeFileSync(join(dir, `n${i}.yml`), config(port));
      const child = spawn(ERL, [...erlArgs(name), "-noinput", "-mnesia", "dir", `"${nodeDir}"`, "-ejabberd", "log_path", `"${join(dir, `n${i}.log`)}"`, "-s", "ejabberd"], {
        cwd: nodeDir, env: { ...env, EJABBERD_CONFIG_PATH: join(dir, `n${i}.yml`) }, stdio: ["ignore", "pipe", "pipe"],
      });
      const node = { name, port, process: child as ChildProcess | undefined, log: "", gone: Promise.resolve("") };
      node.gone = track(child, (t) => (node.log = (node.log + t).slice(-LOG_LIMIT)));
      nodes.push(node);
      let exited: string | undefined;
      void node.gone.then((why) => (exited = why));
      const deadline = Date.now() + READY_TIMEOUT_MS;
      while (!(await canConnect(port))) {
        if (exited !== undefined) throw new Error(`ejabberd ${name} ${exited} before listening on ${port}; its output:\n${node.log}`);
        if (Date.now() > deadline) throw new Error(`ejabberd ${name} did not listen on ${port} within ${READY_TIMEOUT_MS} ms; its output:\n${node.log}`);
        await sleep(100);
      }
      if (i === 1) continue;
      // Join through a hidden control node: it prints what join_cluster returned, and the running DB nodes.
      const ctl = spawn(ERL, [...erlArgs(`ctl${i}@localhost`), "-hidden", "-noshell", "-eval",
        `R = rpc:call('${name}', ejabberd_admin, join_cluster, [<<"n1@localhost">>]), ` +
        `io:format("~p ~p~n", [R, lists:sort(rpc:call('n1@localhost', mnesia, system_info, [running_db_nodes]))]), halt().`],
      { env, stdio: ["ignore", "pipe", "pipe"] });
      let said = "";
      const ctlGone = track(ctl, (t) => (said += t));
      const timer = setTimeout(() => ctl.kill("SIGKILL"), READY_TIMEOUT_MS);
      await ctlGone;
      clearTimeout(timer);
      const joined = Array.from({ length: i }, (_, k) => `n${k + 1}@localhost`).sort().join(",");
      if (!said.startsWith(`ok [${joined}]`)) throw new Error(`ejabberd ${name} did not join n1@localhost: ${said.trim()}`);
    }
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}${epmdLog === "" ? "" : `\nepmd: ${epmdLog}`}`);
  }

  return {
    host: HOST,
    nodes,
    urls: nodes.map((n) => `mqtt://${HOST}:${n.port}`).join(","),
    async kill(i: number) {
      const node = nodes[i];
      if (node?.process === undefined) return;
      node.process.kill("SIGKILL");
      node.process = undefined;
      await node.gone;
    },
    stop,
  };
}
