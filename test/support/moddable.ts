/**
 * The real Moddable toolchain for tests: the SDK that scripts/setup-tests.sh sets up from
 * ../shared/moddable-sdk/ (built once into ~/.cache), apps built with `mcconfig -d -m -p lin -t build`
 * (never the default target: it kills processes by name) into a folder of the caller's, and run headless in
 * mcsim under xvfb-run. Each run is its own process group, stopped by its PID alone.
 *
 *   const sdk = moddableSdk();                 // undefined when the SDK is not beside the repository
 *   const app = await buildApp(sdk, "test/hosts/moddable/app", out, { port: "1883" });
 *   const run = startApp(sdk, app.binary);     // run.lines: its traces; run.kill(): SIGKILL, as a power cut
 */
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Client, MQTT_ERR_SUCCESS, type QoS, type ReceivedMessage } from "../../hosts/node/index.js";
import { within } from "./wait.js";

/** The repository root (this file is dist/test/support/moddable.js once built). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const SETUP = process.env["TINYMQTT_MODDABLE_SETUP"] ?? join(ROOT, "../shared/moddable-sdk/setup.sh");

export interface ModdableSdk {
  /** The environment mcconfig and mcsim run in: MODDABLE, XS_DIR, BUILD_DIR, and PATH with the SDK's tools
   * and the project's TypeScript (>= 6, which mcconfig needs) first. */
  env: NodeJS.ProcessEnv;
  mcsim: string;
  /** The SDK's version, from the folder setup.sh names after it (moddable-sdk-<version>). */
  version: string;
}

/** The SDK, set up (instant once built); undefined when setup.sh is not beside the repository. */
export function moddableSdk(): ModdableSdk | undefined {
  if (!existsSync(SETUP)) return undefined;
  const line = execFileSync("bash", [SETUP], { env: { ...process.env, MODDABLE_SKIP_APT: "1" }, encoding: "utf8" }).trim();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [, name, value] of line.matchAll(/(\w+)='([^']*)'/g)) env[name!] = value!;
  const bin = join(env["MODDABLE"]!, "build/bin/lin/release");
  env["PATH"] = `${join(ROOT, "node_modules/.bin")}:${bin}:${process.env["PATH"] ?? ""}`;
  env["MAKEFLAGS"] = "-j2";
  const version = /moddable-sdk-([\w.]+)/.exec(env["MODDABLE"]!)?.[1] ?? "unknown";
  return { env, mcsim: join(bin, "mcsim"), version };
}

export interface BuiltApp {
  binary: string;
  /** The folder of the compiled modules (.xsb, XS bytecode), by module name. */
  modules: string;
  /** mcconfig's output: compiler, xsl and linker lines, warnings included. */
  log: string;
  /** xsl's "### warning" lines. */
  warnings: string[];
}

const BUILD_TIMEOUT_MS = 300_000;

/**
 * Builds the app in appDir into out, with config key=value pairs: a debug build (-d: instrumentation, traces),
 * or with mode "-i" release code with instrumentation.
 */
export async function buildApp(sdk: ModdableSdk, appDir: string, out: string, config: Record<string, string>, mode: "-d" | "-i" = "-d"): Promise<BuiltApp> {
  const args = [mode, "-m", "-p", "lin", "-t", "build", "-o", out, ...Object.entries(config).map(([k, v]) => `${k}=${v}`)];
  const log = await new Promise<string>((resolvePromise, reject) => {
    execFile("mcconfig", args, { cwd: resolve(ROOT, appDir), env: sdk.env, timeout: BUILD_TIMEOUT_MS, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`mcconfig failed for ${appDir}: ${error.message}\n${(stdout + stderr).slice(-4000)}`));
      else resolvePromise(stdout + stderr);
    });
  });
  const name = resolve(ROOT, appDir).split("/").pop()!;
  const kind = mode === "-d" ? "debug" : "instrument";
  const binary = join(out, "bin/lin/mc", kind, name, "mc.so");
  if (!existsSync(binary)) throw new Error(`mcconfig made no ${binary}:\n${log.slice(-4000)}`);
  return { binary, modules: join(out, "tmp/lin/mc", kind, name, "modules"), log, warnings: log.split("\n").filter((l) => l.startsWith("### warning")) };
}

export interface AppRun {
  /** Every trace line so far (the debug build's periodic "instruments" lines left out). */
  readonly lines: string[];
  readonly process: ChildProcess;
  /** SIGKILL to the run's process group (xvfb-run, Xvfb, mcsim): the app dies as in a power cut. */
  kill(): void;
  /** Resolves when the run has exited. */
  readonly exited: Promise<void>;
}

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) killGroup(child);
});

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/** Runs the app headless in mcsim (under xvfb-run and its own dbus), in a process group of its own. */
export function startApp(sdk: ModdableSdk, binary: string): AppRun {
  const child = spawn("xvfb-run", ["-a", "-s", "-screen 0 640x480x24", "dbus-run-session", "--", "stdbuf", "-oL", sdk.mcsim, binary], {
    env: sdk.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  const lines: string[] = [];
  let partial = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop()!;
    for (const line of parts) if (!line.startsWith("instruments")) lines.push(line);
  });
  child.stderr!.resume();
  const exited = new Promise<void>((resolvePromise) => child.on("exit", () => {
    live.delete(child);
    resolvePromise();
  }));
  return { lines, process: child, exited, kill: () => killGroup(child) };
}

/** The module names of an app's build: its .xsb files, by path under the modules folder, without .xsb. */
export function builtModules(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => e.isDirectory()
    ? builtModules(join(dir, e.name), `${prefix}${e.name}/`)
    : e.name.endsWith(".xsb") ? [prefix + e.name.slice(0, -4)] : []);
}

/**
 * A Paho client on Node that keeps a copy of every message on `filters`: what an app in mcsim sent, as the
 * broker delivers it. Connected and subscribed when this resolves; the caller disconnects it.
 */
export async function recorder(port: number, clientId: string, filters: Array<[string, QoS]>, cleanSession = true): Promise<{ client: Client; got: ReceivedMessage[] }> {
  const client = new Client({ clientId, cleanSession });
  const got: ReceivedMessage[] = [];
  client.onMessage = (_c, _u, m) => got.push(m.copy());
  const subscribed = new Promise<void>((resolve) => (client.onSubscribe = () => resolve()));
  client.onConnect = (c) => c.subscribe(filters);
  assert.equal(await within(client.connect("127.0.0.1", port, 60), 5000, `${clientId} connects`), MQTT_ERR_SUCCESS);
  assert.equal(client.loopStart(), MQTT_ERR_SUCCESS);
  await within(subscribed, 5000, `${clientId} subscribed to ${filters.map(([f]) => f).join(", ")}`);
  return { client, got };
}
