/**
 * The simulate command's HTML report in a real browser: headless Chromium (Debian's `chromium`, installed
 * by .ci/run) opens a report from a short run, offline, over the DevTools protocol. The test asserts that
 * no console error or exception was raised, that every chart is an SVG with a size and drawn lines, and
 * that the screenshot is not blank (decoded here: many colours, the chart lines' colours among them).
 *
 * The DevTools client runs in a child Node with --experimental-websocket (Node 20's built-in WebSocket), so
 * no npm dependency is needed. Skipped, saying so, only when chromium is not installed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { inflateSync } from "node:zlib";
import { renderHtml, runSimulation } from "../../../hosts/node/simulate/index.js";

function findChromium(): string | undefined {
  const names = process.env["CHROMIUM"] !== undefined ? [process.env["CHROMIUM"]] : ["chromium", "chromium-browser", "google-chrome"];
  for (const name of names) {
    const candidates = name.includes("/") ? [name] : (process.env["PATH"] ?? "").split(delimiter).map((d) => join(d, name));
    for (const c of candidates) {
      try {
        accessSync(c, constants.X_OK);
        return c;
      } catch {
        // Not here.
      }
    }
  }
  return undefined;
}

/** Run by a child `node --experimental-websocket`: argv = [wsUrl, pageUrl]; prints one JSON line. */
const CDP_CLIENT = String.raw`
const [wsUrl, pageUrl] = process.argv.slice(1);
const ws = new WebSocket(wsUrl);
let nextId = 1;
const pending = new Map();
const errors = [];
let loaded;
const loadedP = new Promise((r) => (loaded = r));
const send = (method, params = {}) => new Promise((resolve, reject) => {
  const id = nextId++;
  pending.set(id, { resolve, reject });
  ws.send(JSON.stringify({ id, method, params }));
});
ws.onmessage = (ev) => {
  const m = JSON.parse(ev.data);
  if (m.id !== undefined) {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) p.reject(new Error(m.error.message)); else p.resolve(m.result);
    return;
  }
  if (m.method === "Runtime.consoleAPICalled" && (m.params.type === "error" || m.params.type === "assert")) errors.push("console." + m.params.type + ": " + m.params.args.map((a) => a.value ?? a.description).join(" "));
  if (m.method === "Runtime.exceptionThrown") errors.push("exception: " + (m.params.exceptionDetails.exception?.description ?? m.params.exceptionDetails.text));
  if (m.method === "Log.entryAdded" && m.params.entry.level === "error") errors.push("log: " + m.params.entry.text + " " + (m.params.entry.url ?? ""));
  if (m.method === "Page.loadEventFired") loaded();
};
ws.onerror = () => { console.log(JSON.stringify({ fatal: "WebSocket error" })); process.exit(2); };
ws.onopen = async () => {
  try {
    await send("Runtime.enable");
    await send("Log.enable");
    await send("Page.enable");
    await send("Emulation.setDeviceMetricsOverride", { width: 1366, height: 900, deviceScaleFactor: 1, mobile: false });
    await send("Page.navigate", { url: pageUrl });
    await loadedP;
    await new Promise((r) => setTimeout(r, 300));
    const probe = await send("Runtime.evaluate", { returnByValue: true, expression: "[...document.querySelectorAll('svg.chart')].map((s) => { const r = s.getBoundingClientRect(); return { x: r.left, w: r.width, h: r.height, title: s.getAttribute('aria-label'), lines: [...s.querySelectorAll('polyline')].filter((p) => p.getTotalLength() > 0).length }; })" });
    const shot = await send("Page.captureScreenshot", { format: "png" });
    console.log(JSON.stringify({ errors, charts: probe.result.value, png: shot.data }));
    ws.close();
    process.exit(0);
  } catch (e) {
    console.log(JSON.stringify({ fatal: String(e && e.stack || e) }));
    process.exit(2);
  }
};
`;

/** Decodes an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes) to its pixels. */
function decodePng(png: Buffer): { width: number; height: number; channels: number; pixels: Uint8Array } {
  assert.equal(png.subarray(0, 8).toString("hex"), "89504e470d0a1a0a", "a PNG signature");
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString("latin1", offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.equal(data[8], 8, "8-bit samples");
      assert.equal(data[12], 0, "not interlaced");
      channels = data[9] === 6 ? 4 : data[9] === 2 ? 3 : 0;
      assert.ok(channels > 0, `colour type ${data[9]}`);
    } else if (type === "IDAT") idat.push(data);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels]! : 0;
      let v = line[x]!;
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[y * stride + x] = v & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

function runNode(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the DevTools client did not finish within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.once("close", () => {
      clearTimeout(timer);
      resolve(stdout.trim().split("\n").pop() ?? "");
    });
  });
}

/** Starts Chromium with a DevTools port of the kernel's choosing; resolves the page target's WebSocket URL. */
async function launch(chromium: string, profile: string): Promise<{ child: ChildProcess; pageWs: string }> {
  const child = spawn(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-extensions", `--user-data-dir=${profile}`, "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0", "about:blank"], { stdio: ["ignore", "ignore", "pipe"], detached: true });
  let log = "";
  const browserWs = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`chromium did not open its DevTools port within 20 s:\n${log}`)), 20_000);
    child.stderr!.on("data", (c: Buffer) => {
      log += c.toString("utf8");
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(log);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`chromium exited (${String(code)}) before opening its DevTools port:\n${log}`));
    });
  });
  const http = browserWs.replace(/^ws:/, "http:").replace(/\/devtools\/browser\/.*$/, "");
  for (let i = 0; i < 50; i++) {
    const targets = (await (await fetch(`${http}/json/list`)).json()) as Array<{ type: string; webSocketDebuggerUrl: string }>;
    const page = targets.find((t) => t.type === "page");
    if (page !== undefined) return { child, pageWs: page.webSocketDebuggerUrl };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("chromium has no page target");
}

/**
 * Stops Chromium and every helper process it started (renderers, the zygote, crashpad): it runs in a process
 * group of its own (spawned detached), so its helpers can be signalled with it. A helper left alive after the
 * browser exits keeps writing the profile, and removing the profile then fails with ENOTEMPTY (seen under load).
 */
async function stopGroup(child: ChildProcess): Promise<void> {
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  };
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    signalGroup("SIGTERM");
    const timer = setTimeout(() => signalGroup("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
  // Whatever helper outlived the browser goes now; wait until the group is empty (bounded: 5 s).
  signalGroup("SIGKILL");
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(-child.pid!, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const chromium = findChromium();
/** dist/test-output/report-browser: the screenshot and the report it shows. */
const OUTPUT = fileURLToPath(new URL("../../../test-output/report-browser/", import.meta.url));

test("the simulate report renders in headless Chromium: charts drawn, no console errors, a non-blank screenshot",
  { skip: chromium === undefined ? "chromium is not installed (apt-get install -y chromium; .ci/run does)" : false, timeout: 90_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "tinymqtt-report-"));
    let child: ChildProcess | undefined;
    try {
      const result = await runSimulation({ devices: 20, rate: 5, duration: 2, cutRate: 2, out: { write: () => true } });
      const file = join(dir, "report.html");
      writeFileSync(file, renderHtml(result));
      const launched = await launch(chromium!, join(dir, "profile"));
      child = launched.child;
      const line = await runNode(["--experimental-websocket", "--no-warnings", "-e", CDP_CLIENT, launched.pageWs, pathToFileURL(file).href], 30_000);
      const out = JSON.parse(line) as { fatal?: string; errors: string[]; charts: Array<{ x: number; w: number; h: number; title: string; lines: number }>; png: string };
      assert.equal(out.fatal, undefined, out.fatal);
      assert.deepEqual(out.errors, [], "no console errors or exceptions");
      assert.equal(out.charts.length, 5, JSON.stringify(out.charts));
      for (const c of out.charts) {
        assert.ok(c.w > 300 && c.h > 100, `chart "${c.title}" is ${c.w}x${c.h}`);
      }
      // The charts use the page's width: side by side, they span at least 90 % of the 1366-px laptop screen.
      const span = Math.max(...out.charts.map((c) => c.x + c.w)) - Math.min(...out.charts.map((c) => c.x));
      assert.ok(span >= 0.9 * 1366, `the charts span ${span} px of 1366: ${JSON.stringify(out.charts)}`);
      for (const title of ["Messages per second", "Connected devices"]) {
        const chart = out.charts.find((c) => c.title === title);
        assert.ok(chart !== undefined && chart.lines >= 1, `"${title}" has a drawn line: ${JSON.stringify(chart)}`);
      }
      const png = Buffer.from(out.png, "base64");
      // Kept after the run, for a person to look at: the test's output folder (under dist/, not committed).
      mkdirSync(OUTPUT, { recursive: true });
      writeFileSync(join(OUTPUT, "report.png"), png);
      writeFileSync(join(OUTPUT, "report.html"), renderHtml(result));
      t.diagnostic(`screenshot: ${join(OUTPUT, "report.png")}`);
      const { width, height, channels, pixels } = decodePng(png);
      assert.ok(width >= 800 && height >= 800, `screenshot ${width}x${height}`);
      const colours = new Set<number>();
      let sentBlue = 0;
      for (let i = 0; i < pixels.length; i += channels) {
        const rgb = (pixels[i]! << 16) | (pixels[i + 1]! << 8) | pixels[i + 2]!;
        colours.add(rgb);
        if (rgb === 0x1f77b4) sentBlue++;
      }
      assert.ok(colours.size > 50, `only ${colours.size} colours: a blank page?`);
      assert.ok(sentBlue > 50, `the "sent" line's colour (#1f77b4) covers ${sentBlue} pixels`);
    } finally {
      if (child !== undefined) await stopGroup(child);
      rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    }
  });
