// The Node side of the XS lane: one xsnap-worker running the whole client (test/hosts/moddable/xs-client/app.ts),
// whose sockets and clock live here. Answers the worker's issueCommand requests (open, write, close,
// wake me at t, an event happened) and delivers socket bytes, connection changes and due wake-ups with
// handleCommand, one at a time. Every command's meter is kept: `compute` summed, `heap` the last count.
import { build } from "esbuild";
import net from "node:net";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { MQTT_ERR_CONN_LOST, MQTT_ERR_NO_CONN } from "../../../../src/paho/constants.js";
import { type Meter, Xsnap, repoRoot } from "../../../support/xs/xsnap.js";
import {
  CALL, CLOSED, DATA, GC, HEADER, OPENED, TICK, UP_CLOSE, UP_DESTROY, UP_EVENT, UP_OPEN, UP_TIMER, UP_WRITE, WRITABLE,
  decodeBytes, encodeBytes,
} from "./protocol.js";

/** One callback record from XS: `client` is the app's id of the client, `type` the callback. */
export interface XsEvent {
  client: number;
  type: string;
  [field: string]: unknown;
}

/** The largest DATA delivery: a TCP segment on Ethernet or Wi-Fi (MSS 1460), what lwIP gives a socket at once. */
export const SEGMENT = 1460;

/** MQTT packet types, as counted on the wire by PacketCounter. */
export const PINGREQ = 12;
export const PINGRESP = 13;

/** Frames an MQTT byte stream just enough to count packets by type (fixed header and length only). */
export class PacketCounter {
  readonly counts = new Array<number>(16).fill(0);
  private need = 0; // bytes of the current packet's body still to skip
  private header: number[] = [];

  feed(bytes: Uint8Array): void {
    let i = 0;
    while (i < bytes.length) {
      if (this.need > 0) {
        const n = Math.min(this.need, bytes.length - i);
        this.need -= n;
        i += n;
        continue;
      }
      this.header.push(bytes[i++]!);
      const h = this.header;
      if (h.length < 2 || (h[h.length - 1]! & 0x80) !== 0) continue;
      let length = 0;
      for (let k = h.length - 1; k >= 1; k--) length = length * 128 + (h[k]! & 0x7f);
      this.counts[h[0]! >> 4]!++;
      this.need = length;
      this.header = [];
    }
  }
}

interface DriverLink {
  id: number;
  socket: net.Socket;
  opened: boolean;
  /** XS closed or dropped it: nothing more is delivered. */
  gone: boolean;
  error: Error | undefined;
  /** Deliveries to XS, in order. */
  chain: Promise<unknown>;
  sent: PacketCounter;
  received: PacketCounter;
}

const bundled = new Map<string, string>();

/**
 * esbuild of test/hosts/moddable/xs-client/app.ts with src/ and hosts/moddable/ (over moddable-fakes/), for XS;
 * with `moddableMqtt` (the path of the SDK's modules/network/mqtt/mqtt.js, or of hosts/moddable/lite.ts, which
 * has the same API), that module's default export too as the peer client,
 * over the same fakes (its WebSocket transport left out: a stub that throws), and the native string conversions
 * it expects of Moddable's runtime.
 */
export async function bundleApp(moddableMqtt?: string): Promise<string> {
  const key = moddableMqtt ?? "";
  const cached = bundled.get(key);
  if (cached !== undefined) return cached;
  const fakes = join(repoRoot(), "test/hosts/moddable/xs-client/moddable-fakes");
  const dir = join(repoRoot(), "test/hosts/moddable/xs-client");
  const entry = `
    import { useModdable${moddableMqtt === undefined ? "" : ", useModdableMqtt"} } from "./app.ts";
    import { Client } from "../../../../hosts/moddable/index.ts";
    import MQTTClient from "../../../../hosts/moddable/ecma419-client.ts";
    useModdable({ Client, MQTTClient });
    ${moddableMqtt === undefined ? "" : `import ModdableMqtt from ${JSON.stringify(moddableMqtt)};
    if (typeof globalThis.trace !== "function") globalThis.trace = () => {};
    // Moddable's runtime converts strings natively (ArrayBuffer.fromString, String.fromArrayBuffer); xsnap is
    // built without them (mxCESU8), so they are given its native TextEncoder/TextDecoder, a call away.
    if (typeof ArrayBuffer.fromString !== "function") { const e = new TextEncoder(); ArrayBuffer.fromString = (s) => e.encode(s).buffer; }
    if (typeof String.fromArrayBuffer !== "function") { const d = new TextDecoder(); String.fromArrayBuffer = (b, o, n) => d.decode(o === undefined ? b : new Uint8Array(b, o, n)); }
    useModdableMqtt(ModdableMqtt);`}`;
  const out = await build({
    stdin: { contents: entry, loader: "ts", resolveDir: dir, sourcefile: "xs-client-entry.ts" },
    // Moddable's native modules, as the fakes that give hosts/moddable their semantics over the bridge.
    plugins: [{
      name: "moddable-fakes",
      setup(b) {
        b.onResolve({ filter: /^(socket|timer|time)$/ }, (args) => ({ path: join(fakes, `${args.path}.ts`) }));
        b.onResolve({ filter: /^websocket$/ }, () => ({ path: "websocket", namespace: "stub" }));
        b.onLoad({ filter: /.*/, namespace: "stub" }, () => ({
          contents: "export class Client { constructor() { throw new Error('no WebSocket in the XS lane'); } }", loader: "js",
        }));
      },
    }],
    bundle: true,
    write: false,
    format: "iife",
    platform: "neutral",
    target: "es2022",
    logLevel: "silent",
  });
  const text = out.outputFiles[0]!.text;
  bundled.set(key, text);
  return text;
}

export class XsDriver {
  readonly xs: Xsnap;
  readonly events: XsEvent[] = [];
  /** Sum of `compute` over every command; the heap count after the last one. */
  compute = 0;
  heap = 0;
  commands = 0;
  /** The compute of the last command alone. */
  lastCompute = 0;
  readonly links = new Map<number, DriverLink>();
  private nextLink = 1;
  private wakeTimer: ReturnType<typeof setTimeout> | undefined;
  private waiters: Array<() => void> = [];
  private failure: Error | undefined;
  private closed = false;

  private constructor() {
    this.xs = new Xsnap({ onCommand: (request) => this.upstream(request) });
  }

  /** moddableMqtt: the SDK's mqtt.js, bundled in too (see bundleApp). */
  static async start(moddableMqtt?: string): Promise<XsDriver> {
    const driver = new XsDriver();
    const load = await driver.xs.evaluate(await bundleApp(moddableMqtt));
    driver.heap = load.meter.currentHeapCount;
    return driver;
  }

  /** Calls one of app.ts's remote calls and returns its JSON result. */
  async call<T = unknown>(fn: string, ...args: unknown[]): Promise<T> {
    const reply = await this.send(CALL, new TextEncoder().encode(JSON.stringify(encodeBytes({ fn, args }))));
    return decodeBytes(JSON.parse(new TextDecoder().decode(reply))) as T;
  }

  /**
   * Resolves once every command sent so far has finished, and its meter is counted. An event raised
   * inside a command arrives before that command's reply: wait for this before reading compute or heap.
   */
  async settled(): Promise<void> {
    await this.call("noop");
  }

  /** gc() in XS; the live slots that remain. */
  async gc(): Promise<number> {
    await this.send(GC, new Uint8Array(0));
    return this.heap;
  }

  /** Drops every TCP connection of the worker from this side, as a network cut does. */
  cut(): void {
    for (const link of this.links.values()) link.socket.destroy();
  }

  /** Resolves when some event satisfies `match` (checked against all events so far), or rejects after ms. */
  async waitFor(match: (e: XsEvent) => boolean, ms: number, what: string | (() => string)): Promise<XsEvent> {
    const deadline = performance.now() + ms;
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const found = this.events.find(match);
      if (found !== undefined) return found;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === "string" ? what : what()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 50));
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.push(done);
      });
    }
  }

  /** Packets the worker has written on all its connections, by MQTT packet type. */
  sentCount(type: number): number {
    let n = 0;
    for (const link of this.links.values()) n += link.sent.counts[type]!;
    return n + this.retiredSent[type]!;
  }

  receivedCount(type: number): number {
    let n = 0;
    for (const link of this.links.values()) n += link.received.counts[type]!;
    return n + this.retiredReceived[type]!;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.wakeTimer !== undefined) clearTimeout(this.wakeTimer);
    for (const link of this.links.values()) link.socket.destroy();
    await this.xs.close();
  }

  private readonly retiredSent = new Array<number>(16).fill(0);
  private readonly retiredReceived = new Array<number>(16).fill(0);

  private async send(op: number, body: Uint8Array): Promise<Uint8Array> {
    const frame = new Uint8Array(HEADER + body.length);
    frame[0] = op;
    frame.set(body, HEADER);
    // The clock is read when the frame is built: queued frames carry the time they were due.
    new DataView(frame.buffer).setFloat64(1, performance.now(), true);
    const reply = await this.xs.command(frame);
    this.meter(reply.meter);
    return reply.result;
  }

  private meter(m: Meter): void {
    this.compute += m.compute;
    this.lastCompute = m.compute;
    this.heap = m.currentHeapCount;
    this.commands++;
  }

  /** Delivers a frame for one link after the link's earlier deliveries. */
  private deliver(link: DriverLink, op: number, body: Uint8Array): Promise<unknown> {
    const run = link.chain.then(() => (link.gone && op !== CLOSED ? undefined : this.send(op, body)));
    link.chain = run.catch((e: Error) => this.fail(e));
    return link.chain;
  }

  private fail(e: Error): void {
    if (this.closed) return;
    this.failure ??= e;
    this.notify();
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private upstream(request: Uint8Array): Uint8Array {
    const view = new DataView(request.buffer, request.byteOffset, request.byteLength);
    switch (request[0]) {
      case UP_OPEN:
        return u32(this.open(view.getUint16(1, true), new TextDecoder().decode(request.subarray(3))));
      case UP_WRITE: {
        const link = this.links.get(view.getUint32(1, true));
        if (link === undefined || link.gone || link.socket.destroyed) return u32(0);
        if (link.socket.writableNeedDrain) return u32(0);
        const bytes = request.subarray(5);
        link.sent.feed(bytes);
        link.socket.write(Buffer.from(bytes));
        return u32(bytes.length);
      }
      case UP_CLOSE:
      case UP_DESTROY: {
        const link = this.links.get(view.getUint32(1, true));
        if (link !== undefined) {
          link.gone = true;
          if (request[0] === UP_CLOSE) link.socket.end();
          else link.socket.destroy();
        }
        return new Uint8Array(0);
      }
      case UP_TIMER: {
        const at = view.getFloat64(1, true);
        if (this.wakeTimer !== undefined) clearTimeout(this.wakeTimer);
        this.wakeTimer = undefined;
        if (at !== Infinity && !this.closed) {
          this.wakeTimer = setTimeout(() => {
            this.wakeTimer = undefined;
            this.send(TICK, new Uint8Array(0)).catch((e: Error) => this.fail(e));
          }, Math.max(0, at - performance.now()));
        }
        return new Uint8Array(0);
      }
      case UP_EVENT:
        this.events.push(decodeBytes(JSON.parse(new TextDecoder().decode(request.subarray(1)))) as XsEvent);
        this.notify();
        return new Uint8Array(0);
      default:
        throw new Error(`unknown request ${request[0]} from XS`);
    }
  }

  private open(port: number, host: string): number {
    const id = this.nextLink++;
    const socket = net.connect({ host, port });
    const link: DriverLink = { id, socket, opened: false, gone: false, error: undefined, chain: Promise.resolve(),
      sent: new PacketCounter(), received: new PacketCounter() };
    this.links.set(id, link);
    const idBytes = u32(id);
    socket.setNoDelay(true);
    socket.on("connect", () => {
      link.opened = true;
      this.deliver(link, OPENED, idBytes);
    });
    socket.on("data", (chunk: Buffer) => {
      link.received.feed(chunk);
      // The socket waits (and TCP pushes back) until XS has taken the chunk, in segments as lwIP hands
      // them to a Moddable socket: one pbuf, at most a TCP segment, per callback.
      socket.pause();
      let delivered: Promise<unknown> = Promise.resolve();
      for (let at = 0; at < chunk.length; at += SEGMENT) {
        const piece = chunk.subarray(at, Math.min(chunk.length, at + SEGMENT));
        const body = new Uint8Array(4 + piece.length);
        body.set(idBytes);
        body.set(piece, 4);
        delivered = this.deliver(link, DATA, body);
      }
      delivered.then(() => { if (!socket.destroyed) socket.resume(); });
    });
    socket.on("drain", () => this.deliver(link, WRITABLE, idBytes));
    socket.on("error", (e) => { link.error ??= e; });
    socket.on("close", () => {
      for (let t = 0; t < 16; t++) {
        this.retiredSent[t]! += link.sent.counts[t]!;
        this.retiredReceived[t]! += link.received.counts[t]!;
      }
      this.links.delete(id);
      if (link.gone) return;
      const rc = link.error === undefined ? 0 : link.opened ? MQTT_ERR_CONN_LOST : MQTT_ERR_NO_CONN;
      const message = new TextEncoder().encode(link.error?.message ?? "");
      const body = new Uint8Array(5 + message.length);
      body.set(idBytes);
      body[4] = rc;
      body.set(message, 5);
      this.deliver(link, CLOSED, body).then(() => { link.gone = true; });
    });
    return id;
  }
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}
