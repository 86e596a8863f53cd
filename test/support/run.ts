/**
 * Runs a Node script to completion for a test, capturing its output; killed (and the test failed) after
 * timeoutMs so a hung child never hangs the suite.
 */
import { type ChildProcess, spawn } from "node:child_process";

export interface Run { code: number | null; stdout: string; stderr: string }

export interface RunOptions {
  env?: Record<string, string>;
  timeoutMs?: number;
  /** The child's working folder (default: this process's). */
  cwd?: string;
  /** How the failure message names the child. */
  what?: string;
  /** Sees the process once spawned. */
  started?: (child: ChildProcess) => void;
}

export function runNode(file: string, args: string[], options: RunOptions = {}): Promise<Run> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const what = options.what ?? `${file} ${args.join(" ")}`;
  return new Promise((resolve, reject) => {
    const env = options.env === undefined ? process.env : { ...process.env, ...options.env };
    const child = spawn(process.execPath, [file, ...args], { stdio: ["ignore", "pipe", "pipe"], env, cwd: options.cwd });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${what} did not exit within ${timeoutMs} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, timeoutMs);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    options.started?.(child);
  });
}
