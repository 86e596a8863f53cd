/**
 * The broker a simulation runs against: the one named by a URL, or an in-process aedes (a devDependency,
 * loaded only then) in a worker thread so the command works on a fresh machine.
 */
import { Worker } from "node:worker_threads";

export interface BrokerHandle {
  host: string;
  port: number;
  /** For the report: "mqtt://host:port" or "in-process aedes on 127.0.0.1:port". */
  describe: string;
  inProcess: boolean;
  /** The in-process broker's own V8 heap in use (its worker thread's), bytes; undefined for a broker elsewhere. */
  heapUsed(): Promise<number | undefined>;
  stop(): Promise<void>;
}

/** mqtt://host:port (tcp:// also); the port defaults to 1883. TLS is not simulated. */
export function parseBrokerUrl(spec: string): BrokerHandle {
  let url: URL;
  try {
    url = new URL(spec.includes("://") ? spec : `mqtt://${spec}`);
  } catch {
    throw new RangeError(`--broker must be a URL such as mqtt://localhost:1883, got "${spec}"`);
  }
  if (url.protocol !== "mqtt:" && url.protocol !== "tcp:") throw new RangeError(`--broker: unsupported scheme "${url.protocol}" (use mqtt://)`);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw new RangeError(`--broker: no host in "${spec}"`);
  const port = url.port === "" ? 1883 : Number(url.port);
  return { host, port, describe: `mqtt://${url.host}`, inProcess: false, heapUsed: async () => undefined, stop: async () => {} };
}

/** Several brokers (the nodes of a cluster), comma-separated: mqtt://a:1883,mqtt://b:1883. */
export function parseBrokerUrls(spec: string): BrokerHandle[] {
  const parts = spec.split(",").map((p) => p.trim());
  if (parts.some((p) => p === "")) throw new RangeError(`--broker: an empty URL in "${spec}"`);
  return parts.map(parseBrokerUrl);
}

const START_TIMEOUT_MS = 10_000;

/**
 * The in-process broker is aedes, an optional peer dependency (the library itself ships no runtime
 * dependency): one line says how to get it, or how to do without it.
 */
export const AEDES_HINT = (command: string): string =>
  `the in-process broker needs aedes, an optional peer dependency: run "npm install aedes" beside tinymqtt, or give a broker: ${command} --broker mqtt://host:port`;

export async function startAedesWorker(): Promise<BrokerHandle> {
  try {
    await import("aedes");
  } catch {
    throw new Error(AEDES_HINT("tinymqtt simulate"));
  }
  const worker = new Worker(new URL("./aedes-worker.js", import.meta.url));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the in-process broker did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    worker.once("error", (e) => { clearTimeout(timer); reject(e); });
    worker.once("message", (m: { port: number }) => { clearTimeout(timer); resolve(m.port); });
  });
  return {
    host: "127.0.0.1",
    port,
    describe: `in-process aedes on 127.0.0.1:${port}`,
    inProcess: true,
    heapUsed: () => new Promise<number | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 2000);
      worker.once("message", (m: { heapUsed?: number }) => { clearTimeout(timer); resolve(m.heapUsed); });
      worker.postMessage("heap");
    }),
    stop: async () => {
      const stopped = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 3000);
        worker.once("message", () => { clearTimeout(timer); resolve(); });
      });
      worker.postMessage("stop");
      await stopped;
      await worker.terminate();
    },
  };
}
