/**
 * A real mosquitto for integration tests: its own free loopback port, its own folder and generated config.
 *
 *   const broker = await startMosquitto({ config: "max_inflight_messages 100" });
 *   after(() => broker.stop());
 *
 * The broker is the system's /usr/sbin/mosquitto (Debian package `mosquitto`, installed by .ci/run).
 * Started as root it drops to the `mosquitto` user, so the folder is made 0755 (0777 with persistence, which
 * mosquitto writes there). Mosquitto's own defaults are left alone unless asked for: tests that count
 * messages should pass maxInflightMessages / maxQueuedMessages (see shared/DESIGN.md, "Facts measured").
 *
 * Every broker started here is killed (and its temporary folder removed) when the process exits, even if a
 * test forgot stop().
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const MOSQUITTO = process.env["MOSQUITTO"] ?? "/usr/sbin/mosquitto";
const HOST = "127.0.0.1";
const READY_TIMEOUT_MS = 5000;
const STOP_TIMEOUT_MS = 3000;
/** How much of mosquitto's log is kept for error messages. */
const LOG_LIMIT = 64 * 1024;

export interface MosquittoOptions {
  /** Extra lines appended to the generated config (listeners, TLS, max_packet_size...). */
  config?: string;
  /** Turns persistence on, stored in dir (which is then made writable to the mosquitto user). */
  persistence?: boolean;
  /** The folder for the config, the log and persistence; default a fresh temporary one, removed on stop(). */
  dir?: string;
  /** Sets max_inflight_messages (mosquitto's default 20 also caps unfinished incoming QoS 2). */
  maxInflightMessages?: number;
  /** Sets max_queued_messages (mosquitto's default 1000 drops messages beyond it). */
  maxQueuedMessages?: number;
}

export interface Broker {
  readonly host: "127.0.0.1";
  readonly port: number;
  readonly dir: string;
  /** The path of the generated config. */
  readonly configPath: string;
  /** The running mosquitto process (a new one after restart()). */
  readonly process: ChildProcess;
  /** Everything mosquitto has logged (stdout and stderr), the last 64 KiB. */
  readonly log: string;
  /** SIGTERM (SIGKILL after 3 s), then removes the folder if startMosquitto made it. Safe to call twice. */
  stop(): Promise<void>;
  /** SIGSTOP: the broker freezes, sockets stay open, nothing is answered. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Stops and starts mosquitto again on the same port, with the same config and folder. */
  restart(): Promise<void>;
}

/** Processes still running, killed on exit; temporary folders not yet removed, removed on exit. */
const live = new Set<ChildProcess>();
const ownedDirs = new Set<string>();
let hooked = false;

function killAll(): void {
  for (const child of live) {
    try {
      child.kill("SIGCONT");
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
  live.clear();
  for (const dir of ownedDirs) rmSync(dir, { recursive: true, force: true });
  ownedDirs.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = (): void => {
      killAll();
      process.removeListener(signal, onSignal);
      // Die of the signal as we would have without this handler, unless someone else handles it.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** A port nothing listens on right now (the kernel's choice for port 0). */
export function freePort(host = HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: HOST, port });
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

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Broker> {
  hookExit();
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "tinymqtt-mosquitto-"));
  if (ownDir) ownedDirs.add(dir);
  const removeDir = (): void => {
    if (!ownDir) return;
    ownedDirs.delete(dir);
    rmSync(dir, { recursive: true, force: true });
  };
  // mosquitto runs as its own user once it has dropped root: it must reach the folder, and write it to persist.
  chmodSync(dir, options.persistence === true ? 0o777 : 0o755);
  const configPath = join(dir, "mosquitto.conf");

  let port = 0;
  let child: ChildProcess | undefined;
  let log = "";
  let stopped = false;

  const writeConfig = (): void => {
    const lines = [
      `listener ${port} ${HOST}`,
      "allow_anonymous true",
      "log_dest stderr",
      "log_type error",
      "log_type warning",
      "log_type notice",
      "log_type information",
    ];
    if (options.persistence === true) lines.push("persistence true", `persistence_location ${dir}/`);
    if (options.maxInflightMessages !== undefined) lines.push(`max_inflight_messages ${options.maxInflightMessages}`);
    if (options.maxQueuedMessages !== undefined) lines.push(`max_queued_messages ${options.maxQueuedMessages}`);
    if (options.config !== undefined) lines.push(options.config);
    writeFileSync(configPath, lines.join("\n") + "\n", { mode: 0o644 });
  };

  /** Starts mosquitto on `port` and resolves once it accepts connections. */
  const launch = async (): Promise<void> => {
    const proc = spawn(MOSQUITTO, ["-c", configPath], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    live.add(proc);
    let exited: string | null = null;
    let spawnError: Error | null = null;
    const append = (chunk: Buffer): void => {
      log += chunk.toString("utf8");
      if (log.length > LOG_LIMIT) log = log.slice(-LOG_LIMIT);
    };
    proc.stdout?.on("data", append);
    proc.stderr?.on("data", append);
    proc.once("error", (e) => {
      spawnError = e;
      live.delete(proc);
    });
    proc.once("exit", (code, signal) => {
      exited = signal !== null ? `killed by ${signal}` : `exited with code ${String(code)}`;
      live.delete(proc);
    });
    // A broker nobody stopped must not keep the test process alive; the exit hook kills it.
    proc.unref();
    (proc.stdout as Socket | null)?.unref();
    (proc.stderr as Socket | null)?.unref();

    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (spawnError !== null) throw new Error(`could not run ${MOSQUITTO}: ${(spawnError as Error).message}`);
      if (exited !== null) {
        throw new Error(`mosquitto ${exited} before accepting connections on ${HOST}:${port}; its log:\n${log}`);
      }
      if (await canConnect(port)) return;
      if (Date.now() > deadline) {
        killProcess(proc);
        throw new Error(`mosquitto did not accept connections on ${HOST}:${port} within ${READY_TIMEOUT_MS} ms; its log:\n${log}`);
      }
      await sleep(25);
    }
  };

  const killProcess = (proc: ChildProcess): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      live.delete(proc);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      // This timer is ref'd: it keeps the event loop alive until mosquitto has really gone.
      const timer = setTimeout(() => proc.kill("SIGKILL"), STOP_TIMEOUT_MS);
      proc.once("exit", () => {
        clearTimeout(timer);
        live.delete(proc);
        resolve();
      });
      proc.kill("SIGCONT"); // a paused broker cannot act on SIGTERM
      proc.kill("SIGTERM");
    });
  };

  // The free port can be taken between freePort() and mosquitto's bind: try a few.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    writeConfig();
    try {
      await launch();
      break;
    } catch (e) {
      if (attempt >= 3 || !/Address already in use/i.test(log)) {
        removeDir();
        throw e;
      }
      log = "";
    }
  }

  const current = (): ChildProcess => {
    if (child === undefined) throw new Error("mosquitto is not running");
    return child;
  };

  return {
    host: HOST,
    get port() {
      return port;
    },
    dir,
    configPath,
    get process() {
      return current();
    },
    get log() {
      return log;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child !== undefined) await killProcess(child);
      removeDir();
    },
    pause() {
      current().kill("SIGSTOP");
    },
    resume() {
      current().kill("SIGCONT");
    },
    async restart() {
      if (stopped) throw new Error("restart() after stop()");
      await killProcess(current());
      await launch();
    },
  };
}
