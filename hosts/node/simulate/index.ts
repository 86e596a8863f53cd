/**
 * The simulation runner behind `tinymqtt simulate` (hosts/node/cli.ts): many simulated devices in one
 * process against a broker, with the checker's counts, a summary and an HTML report.
 */
export { runSimulation, type Memory, type Sample, type SimulateOptions, type SimulationResult } from "./run.js";
export type { PerDevice } from "./memory.js";
export { formatSummary, renderHtml } from "./report.js";
export { parseBrokerUrl, startAedesWorker, type BrokerHandle } from "./broker.js";
export { runWorkers, type WorkersOptions } from "./workers.js";
export { mergeReports, type ShardReport, type MergedReport } from "./merge.js";
export type { PartsResult } from "./fleet-result.js";
