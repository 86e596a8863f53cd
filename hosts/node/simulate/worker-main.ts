/**
 * A worker process of `tinymqtt simulate --workers N` (workers.ts forks it, with an IPC channel that carries
 * structured clones). It runs its part of the fleet with its own checker, sends its report each second,
 * says "ready" after its ramp and waits for "go" before its telemetry, and exits after its last report.
 *
 *   parent -> { type: "start", options, part } then { type: "go" }
 *   worker -> { type: "report", report } each second and at its end, { type: "ready" }, { type: "error", message }
 */
import { type Part, type SimulateOptions, runSimulation } from "./run.js";

export type ToWorker = { type: "start"; options: SimulateOptions; part: Part } | { type: "go" };
export type FromWorker = { type: "report"; report: import("./merge.js").ShardReport } | { type: "ready" } | { type: "error"; message: string };

const send = (m: FromWorker): Promise<void> => new Promise((resolve) => {
  if (process.send === undefined) return resolve();
  process.send(m, undefined, undefined, () => resolve());
});

if (process.send === undefined) throw new Error("worker-main.js runs as a child process with an IPC channel (simulate --workers)");

let go: (() => void) | undefined;
const started = new Promise<Extract<ToWorker, { type: "start" }>>((resolve) => {
  process.on("message", (m: ToWorker) => {
    if (m.type === "start") resolve(m);
    else if (m.type === "go") go?.();
  });
});

// A parent that goes away leaves nobody to report to: the worker stops with it.
const orphaned = (): never => process.exit(1);
process.on("disconnect", orphaned);

const { options, part } = await started;
let lastReport: Promise<void> = Promise.resolve();
try {
  await runSimulation({
    ...options, part, out: { write: () => true },
    onReport: (report) => {
      lastReport = send({ type: "report", report });
    },
    beforeTelemetry: () => new Promise<void>((resolve) => {
      go = resolve;
      void send({ type: "ready" });
    }),
  });
  // The last report was made before the fleet stopped; the channel may still be sending it.
  await lastReport;
  process.exitCode = 0;
} catch (e) {
  await send({ type: "error", message: e instanceof Error ? e.message : String(e) });
  process.exitCode = 1;
}
process.off("disconnect", orphaned);
process.disconnect();
