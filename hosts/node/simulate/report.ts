/**
 * What a simulation run shows: the summary table for the terminal, and a self-contained HTML report whose
 * charts are inline SVG drawn here (no script, no network: a browser opens it offline). The table's memory
 * rows and the memory chart show the same quantities (memory.ts): the clients' heap and buffers per device.
 */
import type { PartsResult } from "./fleet-result.js";
import type { SimulationResult, Sample } from "./run.js";

const num = (x: number, digits = 0): string => (Number.isFinite(x) ? x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "-");
const ms = (x: number): string => (Number.isFinite(x) ? `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms` : "-");
const kib = (bytes: number): string => (Number.isFinite(bytes) ? `${(bytes / 1024).toFixed(2)} KiB` : "-");
const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;

/** The in-process broker's heap, which the RSS includes; nothing for a broker elsewhere. */
function brokerShare(r: SimulationResult): string {
  const idle = r.memoryIdle.brokerHeap;
  const loaded = r.memoryLoaded.brokerHeap;
  if (idle === undefined || loaded === undefined) return "";
  // With workers the broker runs in the coordinating process, apart from the workers' RSS.
  if (isParts(r)) return `; the in-process broker's V8 heap ${mib(idle)} / ${mib(loaded)}, in the coordinating process`;
  return ` (of which the in-process broker's V8 heap ${mib(idle)} / ${mib(loaded)})`;
}

const isParts = (r: SimulationResult): r is PartsResult => "shares" in r;

/** One row per worker or shard: its devices, what they sent, what of it was seen, its latency, memory and state. */
function shareRows(r: PartsResult): Array<[string, string]> {
  return r.shares.map((s) => {
    if (s.state === "missing") return [`${r.partName} ${s.shard}`, "never reported"];
    const c = s.counts;
    const state = s.state === "done" ? "" : ` — ${s.state === "died" ? "DIED" : "did not finish"}: as of its last report, ${s.elapsed.toFixed(1)} s into its run`;
    const memory = s.memoryLoaded === undefined ? "" : `; ${kib(s.memoryLoaded.heapPerDevice)} heap + ${kib(s.memoryLoaded.buffersPerDevice)} buffers per device, RSS ${mib(s.memoryLoaded.rss)}`;
    return [`${r.partName} ${s.shard}`, `devices ${num(s.first)}–${num(s.first + s.devices - 1)}: sent ${num(c.sent)}, seen ${num(s.unique)}, lost ${num(s.lost)}; ` +
      `cuts ${num(c.cuts)}; p50 / p99 ${ms(s.latency.p50)} / ${ms(s.latency.p99)}${memory}${state}`];
  });
}

function okText(r: SimulationResult): string {
  if (r.options.qos === 0 && r.lost > 0) return "ok (QoS 0 may lose on link cuts)";
  if (r.brokers > 1 && r.lostAcknowledged > 0) return `ok for the client; the brokers lost ${num(r.lostAcknowledged)} acknowledged messages`;
  return "ok";
}

/** The summary as rows of [label, value]. */
function summaryRows(r: SimulationResult): Array<[string, string]> {
  const o = r.options;
  const pct = (a: number, b: number): string => (b > 0 ? ` (${((100 * a) / b).toFixed(2)} %)` : "");
  const parts = isParts(r) ? r : undefined;
  const processes = parts === undefined ? "the whole process" : `the ${parts.shares.length} ${parts.partName} processes together`;
  return [
    ["devices", `${num(o.devices)} (max connected ${num(r.maxConnected)}, ${num(r.connectedAtEnd)} at the end; ramp ${r.rampSeconds.toFixed(1)} s)`],
    ["telemetry", `${o.rate} msg/s per device at QoS ${o.qos} for ${r.telemetrySeconds.toFixed(1)} s`],
    ["link cuts", `${num(r.cuts)} (${num(r.cutsPerSecond, 1)} per s measured, ${o.cutRate} asked); reconnects ${num(r.reconnects)}; wills received ${num(r.willsReceived)}; failed connection attempts ${num(r.connectFailures)}`],
    ["sent", `${num(r.sent)}${r.skippedOffline > 0 ? ` (+${num(r.skippedOffline)} QoS 0 not sent while offline)` : ""}${r.refusedBudget > 0 ? ` (+${num(r.refusedBudget)} refused: budget full)` : ""}`],
    ["received", `${num(r.received)} (${num(r.unique)} unique)`],
    ["lost", `${num(r.lost)}${pct(r.lost, r.sent)}${r.devicesWithLoss > 0 ? `, on ${num(r.devicesWithLoss)} devices` : ""}${r.unfinished > 0 ? `; ${num(r.unfinished)} flows unfinished` : ""}`],
    ...(r.brokers > 1 ? [["lost, by whom", `${num(r.lostUnacknowledged)} by the client (never acknowledged to the device); ${num(r.lostAcknowledged)} by the brokers (acknowledged, delivered to no checker)`] as [string, string]] : []),
    ["duplicated", `${num(r.duplicates)}${pct(r.duplicates, r.sent)}${parts !== undefined && parts.crossDuplicates > 0 ? ` (${num(parts.crossDuplicates)} seen by two checkers)` : ""}`],
    ["latency p50 / p99 / max", `${ms(r.latency.p50)} / ${ms(r.latency.p99)} / ${ms(r.latency.max)}`],
    ["heap per device (idle / loaded)", `${kib(r.memoryIdle.perDevice.heap)} / ${kib(r.memoryLoaded.perDevice.heap)} V8 heap + ${kib(r.memoryIdle.perDevice.buffers)} / ${kib(r.memoryLoaded.perDevice.buffers)} buffers${r.gcAvailable ? "" : " (no gc(): rough)"}`],
    ["process RSS (idle / loaded)", `${mib(r.memoryIdle.rss)} / ${mib(r.memoryLoaded.rss)}, ${processes}${brokerShare(r)}`],
    ...(parts === undefined ? [] : shareRows(parts)),
    ["broker", o.broker],
    ["result", r.ok ? okText(r) : `FAILED: ${r.problems.join("; ")}`],
  ];
}

export function formatSummary(r: SimulationResult): string {
  const rows = summaryRows(r);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n");
}

// ---- SVG charts ---------------------------------------------------------------------------------

interface Series { name: string; color: string; values: number[]; dashed?: boolean }

const escape = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** A round axis maximum: 1, 2 or 5 times a power of ten, at or above max. */
function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

const tickLabel = (v: number): string => (v >= 1e6 ? `${+(v / 1e6).toFixed(2)}M` : v >= 1e3 ? `${+(v / 1e3).toFixed(2)}k` : `${+v.toFixed(2)}`);

/** A line chart over the samples' times: axes, grid, one polyline per series, a legend. */
function lineChart(title: string, unit: string, t: number[], series: Series[]): string {
  // Drawn at 520 x 280 and scaled to its column's width (CSS below: three columns on a laptop screen, where
  // the scale stays near 1, so the text reads at its size).
  const W = 520;
  const H = 280;
  const L = 60;
  const R = 14;
  const T = 40;
  const B = 42;
  const pw = W - L - R;
  const ph = H - T - B;
  const tMax = Math.max(1, ...t);
  const yMax = niceMax(Math.max(0, ...series.flatMap((s) => s.values.filter(Number.isFinite))));
  const x = (v: number): number => L + (v / tMax) * pw;
  const y = (v: number): number => T + ph - (v / yMax) * ph;
  const parts: string[] = [];
  parts.push(`<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escape(title)}">`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${L}" y="22" class="title">${escape(title)}</text>`);
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/>`);
    parts.push(`<text x="${L - 6}" y="${(y(v) + 4).toFixed(1)}" class="tick" text-anchor="end">${tickLabel(v)}</text>`);
  }
  const step = Math.max(1, niceMax(tMax / 6));
  for (let v = 0; v <= tMax + 1e-9; v += step) {
    parts.push(`<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${T}" y2="${T + ph}" class="grid"/>`);
    parts.push(`<text x="${x(v).toFixed(1)}" y="${T + ph + 16}" class="tick" text-anchor="middle">${tickLabel(v)}</text>`);
  }
  parts.push(`<text x="${L + pw / 2}" y="${H - 6}" class="axis" text-anchor="middle">seconds</text>`);
  parts.push(`<text x="14" y="${T + ph / 2}" class="axis" text-anchor="middle" transform="rotate(-90 14 ${T + ph / 2})">${escape(unit)}</text>`);
  parts.push(`<rect x="${L}" y="${T}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  let legendX = L + pw;
  for (let s = series.length - 1; s >= 0; s--) {
    const ser = series[s]!;
    const points: string[] = [];
    ser.values.forEach((v, i) => {
      if (Number.isFinite(v)) points.push(`${x(t[i]!).toFixed(1)},${y(v).toFixed(1)}`);
    });
    if (points.length === 1) {
      const [px, py] = points[0]!.split(",");
      parts.push(`<circle cx="${px}" cy="${py}" r="3" fill="${ser.color}"/>`);
    }
    parts.push(`<polyline fill="none" stroke="${ser.color}" stroke-width="2"${ser.dashed ? ' stroke-dasharray="6 4"' : ""} points="${points.join(" ")}"/>`);
    legendX -= 10 + ser.name.length * 7 + 22;
    parts.push(`<line x1="${legendX}" x2="${legendX + 16}" y1="${T - 10}" y2="${T - 10}" stroke="${ser.color}" stroke-width="3"${ser.dashed ? ' stroke-dasharray="6 4"' : ""}/>`);
    parts.push(`<text x="${legendX + 20}" y="${T - 5}" class="legend">${escape(ser.name)}</text>`);
  }
  parts.push("</svg>");
  return parts.join("");
}

function charts(samples: Sample[]): string {
  const t = samples.map((s) => s.t);
  const col = <K extends keyof Sample>(k: K): number[] => samples.map((s) => s[k] as number);
  return [
    lineChart("Messages per second", "messages/s", t, [
      { name: "sent", color: "#1f77b4", values: col("sentPerSec") },
      { name: "received", color: "#ff7f0e", values: col("receivedPerSec"), dashed: true },
    ]),
    lineChart("Latency (publish to checker), per second", "ms", t, [
      { name: "p50", color: "#2ca02c", values: col("p50") },
      { name: "p99", color: "#d62728", values: col("p99") },
    ]),
    lineChart("Connected devices", "devices", t, [{ name: "connected", color: "#9467bd", values: col("connected") }]),
    lineChart("Clients' memory per device (not after GC)", "KiB", t, [
      { name: "V8 heap", color: "#8c564b", values: col("heapPerDevice").map((v) => v / 1024) },
      { name: "buffers", color: "#e377c2", values: col("buffersPerDevice").map((v) => v / 1024), dashed: true },
    ]),
    lineChart("Lost (gaps so far) and duplicates, cumulative", "messages", t, [
      { name: "lost", color: "#d62728", values: col("gaps") },
      { name: "duplicates", color: "#bcbd22", values: col("duplicates"), dashed: true },
    ]),
  ].join("\n");
}

export function renderHtml(r: SimulationResult): string {
  const rows = summaryRows(r).map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(v)}</td></tr>`).join("\n");
  const o = r.options;
  const b = o.budget;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>tinymqtt simulate: ${o.devices} devices, QoS ${o.qos}</title>
<style>
body { font: 15px/1.4 system-ui, sans-serif; margin: 16px 24px; color: #222; background: #fafafa; }
h1 { font-size: 20px; margin: 0 0 4px; }
.meta { color: #555; margin-bottom: 16px; }
table { border-collapse: collapse; margin-bottom: 20px; background: #fff; width: 100%; }
th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #e4e4e4; vertical-align: top; }
th { font-weight: 600; white-space: nowrap; }
.ok { color: #1a7f37; } .failed { color: #c62828; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(400px, 1fr)); gap: 16px; }
.chart { display: block; width: 100%; height: auto; border: 1px solid #ddd; }
.chart .title { font: 600 15px system-ui, sans-serif; fill: #222; }
.chart .tick, .chart .legend { font: 12px system-ui, sans-serif; fill: #333; }
.chart .axis { font: 12px system-ui, sans-serif; fill: #444; }
.chart .grid { stroke: #eee; }
</style>
</head>
<body>
<h1>tinymqtt simulate — <span class="${r.ok ? "ok" : "failed"}">${r.ok ? "ok" : "FAILED"}</span></h1>
<div class="meta">run ${escape(r.runId)} started ${escape(r.startedAt)}, Node ${escape(r.node)}; ${o.devices} devices × ${o.rate} msg/s, QoS ${o.qos}, ${o.duration} s,
cuts ${o.cutRate}/s; device budget: maxPacketSize ${b.maxPacketSize}, outputBytes ${b.outputBytes}, storeBytes ${b.storeBytes}, maxMessages ${b.maxMessages}</div>
<table>
${rows}
</table>
<div class="charts">
${charts(r.samples)}
</div>
</body>
</html>
`;
}
