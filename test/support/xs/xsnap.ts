// Node driver for Moddable's XS engine as built by @agoric/xsnap (`xsnap-worker`).
//
// Protocol (read from xsnap-worker.c and checked by experiment): netstrings `<len>:<bytes>,`,
// parent -> worker on fd 3, worker -> parent on fd 4.
//   `e<source>`  eval the script.  `?<bytes>`  call global handleCommand(ArrayBuffer).
//   Reply `.` + JSON meter + `\x01` + result, or `!` + String(exception). The result bytes are the
//   returned value when it is an ArrayBuffer (or its `.result` property is), otherwise empty.
//   Promise jobs run before the reply, but a returned Promise is not awaited: keep handlers sync.
//   While a call runs, XS `issueCommand(ArrayBuffer)` sends `?<bytes>` up and blocks until the
//   parent answers `/<bytes>` (see `onCommand`).
// Engine: XS 13.3.0 (xsnap 0.15.0). ES2022 plus findLast and ArrayBuffer.transfer; no toSorted,
// Object.groupBy, Promise.withResolvers or Uint8Array.fromBase64. Host globals: print (to our
// stdout), gc, trace, performance.now, setImmediate, TextEncoder, TextDecoder, Base64, harden,
// issueCommand, currentMeterLimit, resetMeter, Compartment, ModuleSource. No console, setTimeout,
// queueMicrotask or structuredClone.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Readable, Writable } from "node:stream";

/** Meter record of one call; `compute` is deterministic, `timestamps` are wall-clock seconds. */
export interface Meter {
  currentHeapCount: number; // live XS slots after the call
  compute: number; // metered XS work of this call
  allocate: number; // bytes of chunk + slot space the machine has allocated
  timestamps: number[];
}
export interface Reply {
  meter: Meter;
  result: Uint8Array;
}
/** Answers an `issueCommand` from inside XS; may be async (the worker blocks meanwhile). */
export type UpstreamHandler = (request: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/** Nearest ancestor of this file holding package.json: works from test/support/xs and dist/test/support/xs alike. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    if (dirname(dir) === dir) throw new Error("no package.json above " + fileURLToPath(import.meta.url));
    dir = dirname(dir);
  }
  return dir;
}

export function workerPath(): string {
  const os = process.platform === "darwin" ? "mac" : "lin";
  const path = join(repoRoot(), `node_modules/@agoric/xsnap/xsnap-native/xsnap/build/bin/${os}/release/xsnap-worker`);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm rebuild @agoric/xsnap\``);
  return path;
}

const EXIT_CODES: Record<number, string> = { 11: "out of memory", 12: "stack overflow", 17: "over the compute limit" };

export class Xsnap {
  readonly #proc: ChildProcess;
  readonly #toWorker: Writable;
  readonly #onCommand: UpstreamHandler | undefined;
  #input = Buffer.alloc(0);
  #pending: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  #queue: Promise<unknown> = Promise.resolve(); // calls run one at a time
  #dead: Error | undefined;
  readonly #exited: Promise<void>;

  /** meteringLimit: compute allowed per call (xsnap -l); the worker exits with 17 past it. */
  constructor(options: { onCommand?: UpstreamHandler; meteringLimit?: number } = {}) {
    this.#onCommand = options.onCommand;
    const args = options.meteringLimit ? ["-l", String(options.meteringLimit)] : [];
    this.#proc = spawn(workerPath(), args, { stdio: ["ignore", "inherit", "inherit", "pipe", "pipe"] });
    this.#toWorker = this.#proc.stdio[3] as Writable;
    this.#toWorker.on("error", (e) => this.#fail(e));
    (this.#proc.stdio[4] as Readable).on("data", (chunk: Buffer) => this.#receive(chunk));
    this.#proc.on("error", (e) => this.#fail(e));
    this.#exited = new Promise((resolve) =>
      this.#proc.on("exit", (code, signal) => {
        const why = signal ?? `code ${code}${code !== null && EXIT_CODES[code] ? ": " + EXIT_CODES[code] : ""}`;
        this.#fail(new Error(`xsnap-worker exited (${why})`));
        resolve();
      }),
    );
  }

  evaluate(source: string): Promise<Reply> {
    return this.#call("e", new TextEncoder().encode(source));
  }

  command(bytes: Uint8Array): Promise<Reply> {
    return this.#call("?", bytes);
  }

  async close(): Promise<void> {
    if (this.#proc.exitCode === null && this.#proc.signalCode === null) this.#proc.kill();
    await this.#exited;
  }

  #call(prefix: string, body: Uint8Array): Promise<Reply> {
    const run = this.#queue.then(
      () =>
        new Promise<Reply>((resolve, reject) => {
          if (this.#dead) return reject(this.#dead);
          this.#pending = { resolve, reject };
          this.#send(prefix, body);
        }),
    );
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #send(prefix: string, body: Uint8Array): void {
    this.#toWorker.write(`${body.length + 1}:${prefix}`);
    this.#toWorker.write(body);
    this.#toWorker.write(",");
  }

  #receive(chunk: Buffer): void {
    this.#input = Buffer.concat([this.#input, chunk]);
    for (;;) {
      const colon = this.#input.indexOf(0x3a);
      if (colon < 0) return;
      const length = Number(this.#input.subarray(0, colon).toString("latin1"));
      const end = colon + 1 + length;
      if (this.#input.length <= end) return; // wait for the body and the ','
      if (!Number.isInteger(length) || this.#input[end] !== 0x2c) return this.#fail(new Error("bad netstring from xsnap-worker"));
      const message = new Uint8Array(this.#input.subarray(colon + 1, end)); // copy: plain Uint8Array
      this.#input = this.#input.subarray(end + 1);
      this.#dispatch(message);
    }
  }

  #dispatch(message: Uint8Array): void {
    const kind = message[0];
    const pending = this.#pending;
    if (kind === 0x3f /* ? */) {
      if (!this.#onCommand) return this.#fail(new Error("issueCommand called but no onCommand handler was given"));
      Promise.resolve(message.subarray(1))
        .then(this.#onCommand)
        .then((answer) => this.#send("/", answer), (e: unknown) => this.#fail(e instanceof Error ? e : new Error(String(e))));
      return;
    }
    this.#pending = undefined;
    if (!pending) return this.#fail(new Error("unsolicited reply from xsnap-worker"));
    const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    if (kind === 0x21 /* ! */) return pending.reject(new Error(`XS: ${text(message.subarray(1))}`));
    const split = message.indexOf(1);
    if (kind !== 0x2e /* . */ || split < 0) return this.#fail(new Error("unexpected reply from xsnap-worker"));
    pending.resolve({ meter: JSON.parse(text(message.subarray(1, split))) as Meter, result: message.subarray(split + 1) });
  }

  /** The worker is unusable from here on: reject what waits, refuse what comes, stop the process. */
  #fail(error: Error): void {
    this.#dead ??= error;
    this.#pending?.reject(error);
    this.#pending = undefined;
    if (this.#proc.exitCode === null && this.#proc.signalCode === null) this.#proc.kill();
  }
}
