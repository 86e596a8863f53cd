// The application inside xsnap-worker: the unmodified client (src/) on the bridge host, driven by the
// Node driver. handleCommand dispatches the driver's frames (protocol.ts); CALL frames run the remote
// calls below, and the clients' callbacks travel up as UP_EVENT records. A "quiet" client (the memory
// benchmark) only counts its onMessage and onPublish calls, so that recording them costs nothing.
import { Client, type ClientOptions, DEFAULT_BUDGET, ESP32_BUDGET, MQTT_ERR_NO_CONN, MQTT_ERR_QUEUE_SIZE, MQTT_ERR_SUCCESS, type MQTTMessage, MqttConnectionError, type QoS } from "../../../../src/index.js";
import { Encoder, MqttProtocolError } from "../../../../src/codec/index.js";
import { Ecma419Client, type Ecma419Options } from "../../../../src/ecma419/client.js";
import type { Host, Link, LinkEvents } from "../../../../src/connection/host.js";
import { bridge as host } from "./xs-host.js";
import Time from "./moddable-fakes/time.js";
import Timer from "./moddable-fakes/timer.js";
import { Socket as FakeSocket } from "./moddable-fakes/socket.js";
import { CALL, CLOSED, DATA, GC, HEADER, OPENED, TICK, UP_EVENT, WRITABLE, decodeBytes, encodeBytes } from "./protocol.js";

declare function issueCommand(request: ArrayBuffer): ArrayBuffer;
declare function gc(): void;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function emit(event: Record<string, unknown>): void {
  const json = encoder.encode(JSON.stringify(encodeBytes(event)));
  const request = new Uint8Array(1 + json.length);
  request[0] = UP_EVENT;
  request.set(json, 1);
  issueCommand(request.buffer);
}

/** A steady stream of publishes for the benchmark: as many as the budget takes, more as they complete. */
interface Burst {
  topic: string;
  qos: QoS;
  left: number;
  payload: Uint8Array;
  /** Publishes not yet completed (onPublish). */
  open: number;
  pumping: boolean;
  /** The app's id of the client, for the "burstDone" event. */
  id: number;
}

function done(e: Entry): void {
  const b = e.burst!;
  e.burst = undefined;
  emit({ client: b.id, type: "burstDone" });
}

interface Entry {
  client: Client;
  quiet: boolean;
  /** Messages received, by QoS. */
  received: [number, number, number];
  burst: Burst | undefined;
}

const clients = new Map<number, Entry>();
const ecma419 = new Map<number, Ecma419Client>();

/**
 * hosts/moddable's two entry classes. The driver's bundle hands them over (useModdable) so that this
 * file, which Node's tsc also checks, never imports Moddable modules that only Moddable's typings know.
 */
export interface ModdableModules {
  Client: new (options?: ClientOptions) => Client;
  MQTTClient: new (options: Ecma419Options) => Ecma419Client;
}

let moddable: ModdableModules | undefined;

export function useModdable(modules: ModdableModules): void {
  moddable = modules;
}

function moddableModules(): ModdableModules {
  if (moddable === undefined) throw new Error("the bundle did not hand over hosts/moddable (useModdable)");
  return moddable;
}

/**
 * Moddable's own `mqtt` module ($(MODULES)/network/mqtt/mqtt.js, MQTT 3.1.1, QoS 0), the peer `npm run bench:xs`
 * measures beside the client: a bundle made with the SDK's file hands its class over (useModdableMqtt), and it
 * runs over the same fakes of Moddable's socket/timer/time modules as hosts/moddable.
 */
interface ModdableMqttClient {
  onReady?: () => void;
  onMessage?: (topic: string, body: ArrayBuffer) => void;
  onClose?: () => void;
  /** tinymqtt/lite returns -1 when the socket has no room for the message (Moddable's mqtt returns nothing). */
  publish(topic: string, data: ArrayBuffer | string, flags?: { quality?: 0 | 1 | 2 }): number | void;
  subscribe(topic: string, quality?: 0 | 1 | 2): void;
  /** tinymqtt/lite: QoS 1/2 messages not yet acknowledged. */
  readonly unfinished?: number;
  close(): void;
  /** Its socket (the fake): write() with no argument tells the room. */
  ws?: { write(): number };
}
type ModdableMqttClass = new (dictionary: { host: string; port: number; id: string; timeout?: number }) => ModdableMqttClient;

let ModdableMqtt: ModdableMqttClass | undefined;
const peers = new Map<number, { client: ModdableMqttClient; received: number; payload: ArrayBuffer | undefined }>();
const bare = new Map<number, { socket: FakeSocket; timer: ReturnType<typeof Timer.repeat>; connected: boolean }>();

export function useModdableMqtt(Class: ModdableMqttClass): void {
  ModdableMqtt = Class;
}

function peer(id: number): { client: ModdableMqttClient; received: number; payload: ArrayBuffer | undefined } {
  const p = peers.get(id);
  if (p === undefined) throw new Error(`no Moddable mqtt client ${id}`);
  return p;
}

function entry(id: number): Entry {
  const e = clients.get(id);
  if (e === undefined) throw new Error(`no client ${id}`);
  return e;
}

function messageRecord(m: MQTTMessage): Record<string, unknown> {
  return { topic: m.topic, payload: m.payload, qos: m.qos, retain: m.retain, dup: m.dup, mid: m.mid, properties: m.properties ?? null };
}

/**
 * Sends what the burst still owes, as far as the client takes it now. Safe to re-enter: should onPublish
 * run inside publish() (a flush there completes QoS 0 at once), the call from it only returns and the
 * loop already running goes on, instead of recursing once per message.
 */
function pump(e: Entry): void {
  const b = e.burst;
  if (b === undefined || b.pumping) return;
  b.pumping = true;
  try {
    while (b.left > 0) {
      const info = e.client.publish(b.topic, b.payload, b.qos);
      if (info.rc === MQTT_ERR_QUEUE_SIZE) return;
      // While the link is down QoS 1/2 says MQTT_ERR_NO_CONN (as Paho) and is queued all the same.
      if (info.rc !== MQTT_ERR_SUCCESS && !(info.rc === MQTT_ERR_NO_CONN && b.qos > 0)) throw new Error(`burst publish failed: rc ${info.rc}`);
      b.left--;
      b.open++;
    }
  } finally {
    b.pumping = false;
  }
  if (b.open === 0) done(e);
}

interface CreateOptions extends Omit<ClientOptions, "host" | "budget"> {
  /** "esp32" (the default here), "default", or a partial budget. */
  budget?: "esp32" | "default" | ClientOptions["budget"];
  quiet?: boolean;
  /** Forward onLog lines too. */
  log?: boolean;
  /**
   * The Moddable host (hosts/moddable, the package's "tinymqtt/moddable" Client) over the fakes of
   * Moddable's socket/timer/time modules in moddable-fakes/, instead of the bridge host.
   */
  moddable?: boolean;
}

const calls: Record<string, (...args: never[]) => unknown> = {
  create(id: number, options: CreateOptions = {}): null {
    const { budget = "esp32", quiet = false, log = false, moddable: onModdable = false, ...rest } = options;
    const b = budget === "esp32" ? ESP32_BUDGET : budget === "default" ? DEFAULT_BUDGET : budget;
    const client = onModdable ? new (moddableModules().Client)({ ...rest, budget: b }) : new Client({ ...rest, host, budget: b });
    const e: Entry = { client, quiet, received: [0, 0, 0], burst: undefined };
    clients.set(id, e);
    const up = (type: string, fields: Record<string, unknown> = {}): void => emit({ client: id, type, ...fields });
    client.onConnect = (_c, _u, flags, rc, properties) => up("connect", { flags, rc, properties });
    client.onConnectFail = () => up("connectFail");
    client.onDisconnect = (_c, _u, flags, rc, properties) => up("disconnect", { flags, rc, properties });
    client.onSubscribe = (_c, _u, mid, rcs, properties) => up("subscribe", { mid, rcs, properties });
    client.onUnsubscribe = (_c, _u, mid, rcs, properties) => up("unsubscribe", { mid, rcs, properties });
    client.onSocketOpen = () => up("socketOpen");
    client.onSocketClose = () => up("socketClose");
    if (log) client.onLog = (_c, _u, level, buf) => up("log", { level, buf });
    client.onMessage = (_c, _u, m) => {
      e.received[m.qos]++;
      if (!quiet) up("message", messageRecord(m));
    };
    client.onPublish = (_c, _u, mid, rc, properties) => {
      const b = e.burst;
      if (b !== undefined) {
        b.open--;
        if (b.left > 0) pump(e);
        else if (b.open === 0 && !b.pumping) done(e);
        return;
      }
      if (!quiet) up("publish", { mid, rc, properties });
    };
    return null;
  },

  /** Calls a Client method; a Promise result is reported later as a "settled" event with `token`. */
  invoke(id: number, method: string, args: unknown[] = [], token = 0): unknown {
    const client = entry(id).client as unknown as Record<string, (...a: unknown[]) => unknown>;
    const fn = client[method];
    if (typeof fn !== "function") throw new Error(`Client has no method ${method}`);
    const result = fn.apply(client, decodeBytes(args) as unknown[]);
    if (result instanceof Promise) {
      result.then(
        (value) => emit({ client: id, type: "settled", token, ok: true, value }),
        (error: Error & { rc?: number }) => emit({ client: id, type: "settled", token, ok: false, value: { message: error.message, rc: error.rc ?? null } }),
      );
      return null;
    }
    if (typeof result === "object" && result !== null && "mid" in result && "rc" in result) {
      const info = result as { rc: number; mid: number };
      return { rc: info.rc, mid: info.mid };
    }
    return result ?? null;
  },

  /** Publishes `count` messages of `size` bytes, paced by the budget; "burstDone" when all completed. */
  burst(id: number, topic: string, qos: QoS, count: number, size: number): null {
    const e = entry(id);
    if (e.burst !== undefined) throw new Error("a burst is already running");
    const payload = new Uint8Array(size);
    for (let i = 0; i < size; i++) payload[i] = 0x61 + (i % 26);
    e.burst = { topic, qos, left: count, payload, open: 0, pumping: false, id };
    pump(e);
    return null;
  },

  noop(): null {
    return null;
  },

  /** A Moddable mqtt client (needs a bundle with it: useModdableMqtt); "connect" once it is ready. */
  createModdableMqtt(id: number, options: { host: string; port: number; id: string; timeout?: number }): null {
    if (ModdableMqtt === undefined) throw new Error("this bundle has no Moddable mqtt module (useModdableMqtt)");
    const p = { client: new ModdableMqtt(options), received: 0, payload: undefined as ArrayBuffer | undefined };
    p.client.onReady = () => emit({ client: id, type: "connect" });
    p.client.onMessage = () => { p.received++; };
    p.client.onClose = () => emit({ client: id, type: "close" });
    peers.set(id, p);
    return null;
  },

  /** QoS 0 for Moddable's mqtt (it has no other); tinymqtt/lite takes `qos`. */
  subscribeModdableMqtt(id: number, topic: string, qos: 0 | 1 = 0): null {
    peer(id).client.subscribe(topic, qos);
    return null;
  },

  /** tinymqtt/lite's QoS 1/2 messages not yet acknowledged (0 for Moddable's mqtt, which has none). */
  unfinishedModdableMqtt(id: number): number {
    return peer(id).client.unfinished ?? 0;
  },

  receivedModdableMqtt(id: number): number {
    return peer(id).received;
  },

  /**
   * Publishes up to `count` QoS 0 messages of `size` bytes (one ArrayBuffer, made once, as tinymqtt's burst
   * reuses its payload) while the socket has room for one more: Moddable's mqtt writes each packet at once
   * and has no flow control, and a write beyond the room throws. Returns how many it published.
   */
  publishModdableMqtt(id: number, topic: string, count: number, size: number, qos: 0 | 1 = 0): number {
    const p = peer(id);
    if (p.payload === undefined || p.payload.byteLength !== size) {
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i++) bytes[i] = 0x61 + (i % 26);
      p.payload = bytes.buffer;
    }
    // Fixed header (2 while the rest is under 128 bytes, 3 beyond), the topic's length and UTF-8, the payload.
    const packet = 1 + (2 + topic.length + size < 128 ? 1 : 2) + 2 + topic.length + size;
    let n = 0;
    while (n < count) {
      if ("unfinished" in p.client) {
        // tinymqtt/lite (the same API): it checks the room itself and refuses with -1.
        if (p.client.publish(topic, p.payload, qos === 0 ? undefined : { quality: qos }) === -1) break;
      } else {
        const ws = p.client.ws;
        if (ws === undefined || ws.write() < packet) break;
        p.client.publish(topic, p.payload);
      }
      n++;
    }
    return n;
  },

  /**
   * What any client on Moddable holds of the host at least: a connected socket and one repeating timer, here
   * the fakes' JavaScript stand-ins for what a device has natively. bench:xs subtracts it from both clients.
   */
  openBareSocket(id: number, hostName: string, port: number): null {
    const socket = new FakeSocket({ host: hostName, port });
    socket.callback = (message) => { if (message === 1) emit({ client: id, type: "connect" }); };
    bare.set(id, { socket, timer: Timer.repeat(() => {}, 60_000), connected: false });
    return null;
  },

  /**
   * Writes `count` QoS 0 PUBLISH packets of `size` bytes (under 130), one write() each, as Moddable's mqtt
   * writes each PUBLISH; a CONNECT first, so that the broker reads them. Returns how many it wrote.
   */
  writeBareSocket(id: number, count: number, size: number): number {
    const b = bare.get(id)!;
    const socket = b.socket;
    if (!b.connected) {
      b.connected = true;
      socket.write(Uint8Array.of(0x10, 13, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 60, 0, 1, 0x62).buffer);
    }
    const bytes = new Uint8Array(size).fill(0x78);
    bytes.set([0x30, size - 2, 0, 1, 0x62]);
    const packet = bytes.buffer;
    let n = 0;
    while (n < count && (socket.write() as number) >= size) {
      socket.write(packet);
      n++;
    }
    return n;
  },

  closeBareSocket(id: number): null {
    const b = bare.get(id);
    if (b !== undefined) {
      b.socket.close();
      Timer.clear(b.timer);
    }
    bare.delete(id);
    return null;
  },

  /**
   * Where a client's objects are: every object reachable from it through own properties (the host, the
   * bridge, prototypes and frozen objects, which preloading puts in flash, left out), grouped by the path of
   * its first two property names, with an estimate of its XS slots (one per object, one per property or
   * element, two per Map or Set entry). Sorted by slots, largest first.
   */
  census(id: number, moddablePeer = false): Array<{ path: string; objects: number; slots: number }> {
    const root: unknown = moddablePeer ? peer(id).client : entry(id).client;
    const groups = new Map<string, { objects: number; slots: number }>();
    const seen = new Set<unknown>([host, root]);
    const queue: Array<{ value: object; path: string }> = [];
    const visit = (value: unknown, path: string): void => {
      if ((typeof value !== "object" && typeof value !== "function") || value === null || seen.has(value) || Object.isFrozen(value)) return;
      // The fakes' socket stands in for a native one: bench:xs measures it on its own (openBareSocket).
      if (value instanceof FakeSocket) return;
      seen.add(value);
      queue.push({ value, path });
    };
    const rootKeys = Reflect.ownKeys(root as object);
    groups.set("(the client object itself)", { objects: 1, slots: 1 + rootKeys.length });
    for (const key of rootKeys) visit((root as Record<PropertyKey, unknown>)[key], String(key));
    while (queue.length > 0) {
      const { value, path } = queue.shift()!;
      let slots = 1;
      const keys = ArrayBuffer.isView(value) || value instanceof ArrayBuffer ? [] : Reflect.ownKeys(value);
      slots += keys.length;
      if (ArrayBuffer.isView(value)) slots += 2;
      if (value instanceof Map || value instanceof Set) {
        slots += 2 * value.size;
        for (const [k, v] of value instanceof Map ? value : [...value].map((x) => [x, undefined])) {
          visit(k, path);
          visit(v, path);
        }
      }
      const group = path.split(".").slice(0, 2).join(".");
      const g = groups.get(group) ?? { objects: 0, slots: 0 };
      g.objects++;
      g.slots += slots;
      groups.set(group, g);
      for (const key of keys) {
        const d = Object.getOwnPropertyDescriptor(value, key);
        if (d !== undefined && "value" in d) visit(d.value, `${path}.${String(key)}`);
      }
    }
    return [...groups].map(([path, g]) => ({ path, ...g })).sort((a, b) => b.slots - a.slots);
  },

  closeModdableMqtt(id: number): null {
    peers.get(id)?.client.close();
    peers.delete(id);
    return null;
  },

  received(id: number): number[] {
    return entry(id).received;
  },

  /** Bytes of the typed arrays a new client with this client's options holds: its budget, allocated up front. */
  bufferBytes(id: number): number {
    const probe = new Client({ host, budget: (entry(id).client as unknown as { engine: { budget: ClientOptions["budget"] } }).engine.budget });
    const seen = new Set<unknown>();
    let bytes = 0;
    const walk = (value: unknown): void => {
      if (typeof value !== "object" || value === null || seen.has(value)) return;
      seen.add(value);
      if (ArrayBuffer.isView(value)) {
        if (!seen.has(value.buffer)) {
          seen.add(value.buffer);
          bytes += value.buffer.byteLength;
        }
        return;
      }
      if (value === host) return;
      for (const key of Object.keys(value)) walk((value as Record<string, unknown>)[key]);
    };
    walk(probe);
    return bytes;
  },

  /**
   * No broker: a client on an in-memory link that takes every byte at once receives CONNACK and then
   * `count` QoS 1 messages in ONE chunk; returns how many reached onMessage (the pull-style link never
   * signals again, so what is not delivered now never is).
   */
  oneChunk(count: number): number {
    let events: LinkEvents | undefined;
    const chunks: Uint8Array[] = [];
    const scripted: Host = {
      now: () => host.clock,
      setTimer: () => undefined,
      clearTimer: () => {},
      defer: (callback) => callback(),
      open(_params, e): Link {
        events = e;
        return { socket: null, read: () => chunks.shift() ?? null, write: (_b, _o, n) => n, close() {}, destroy() {} };
      },
    };
    const client = new Client({ clientId: "one-chunk", host: scripted, budget: ESP32_BUDGET });
    let delivered = 0;
    client.onMessage = () => { delivered++; };
    void client.connect("scripted", 1883, 60);
    events!.onOpen();
    client.loopStart();
    const packets = new Encoder();
    const parts: Uint8Array[] = [Uint8Array.of(0x20, 2, 0, 0)];
    for (let id = 1; id <= count; id++) {
      parts.push(packets.encode({ type: 3, topic: "t/1", payload: new Uint8Array(8), qos: 1, retain: false, dup: false, packetId: id }));
    }
    const chunk = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      chunk.set(p, at);
      at += p.length;
    }
    chunks.push(chunk);
    events!.onReadable();
    return delivered;
  },

  /**
   * Freezes Error.prototype as Moddable's preload freezes every built-in prototype, then makes the
   * client's two error types (a failed connect() rejects with one, malformed input raises the other);
   * returns the name of what each construction gave or threw. Irreversible: use a worker of its own.
   */
  frozenErrors(): string[] {
    Object.freeze(Error.prototype);
    const make = (construct: () => Error): string => {
      try {
        return construct().name;
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    };
    return [make(() => new MqttConnectionError(7, "lost")), make(() => new MqttProtocolError(0x81, "malformed"))];
  },

  /** The fake Time.ticks the Moddable host reads. */
  ticks(): number {
    return Time.ticks;
  },

  /** Live state that must not grow: links and timers held by the host. */
  hostState(): { links: number; timers: number } {
    return { links: host.links.size, timers: host.pendingTimers };
  },

  /**
   * The ECMA-419 client class on the same engine; its callbacks travel up as events too. onModdable: the
   * Moddable host's `embedded:network/mqtt/client` class (over the fakes) instead of the bridge host.
   * deferRead: onReadable leaves the payload for read419().
   */
  create419(id: number, options: Omit<Ecma419Options, "platform" | "onReadable" | "onWritable" | "onControl" | "onClose" | "onError">, onModdable = false, deferRead = false): null {
    const up = (type: string, fields: Record<string, unknown> = {}): void => emit({ client: id, type, ...fields });
    const Class = onModdable ? moddableModules().MQTTClient : Ecma419Client;
    const client = new Class({
      ...(decodeBytes(options) as Ecma419Options),
      ...(onModdable ? {} : { platform: host }),
      onReadable(count, info) {
        if (deferRead) {
          // Leave the payload unread: the client must wait for read419().
          up("readable", { count, options: { ...info } });
          return;
        }
        // Read in two parts, to show a payload may be taken piecemeal (into a caller's buffer, then as a copy).
        const head = new Uint8Array(Math.min(3, count));
        const n = this.read(head);
        const rest = this.read();
        const tail = rest === undefined ? new Uint8Array(0) : new Uint8Array(rest);
        const payload = new Uint8Array(n + tail.length);
        payload.set(head.subarray(0, n));
        payload.set(tail, n);
        up("readable", { count, options: { ...info }, payload });
      },
      onWritable(count) {
        up("writable", { count });
      },
      onControl(message) {
        up("control", { ...message });
      },
      onClose() {
        up("close");
      },
      onError(error) {
        up("error", { message: String(error) });
      },
    });
    ecma419.set(id, client);
    return null;
  },

  write419(id: number, data: unknown, options?: Record<string, unknown>): number {
    const client = ecma419.get(id);
    if (client === undefined) throw new Error(`no ECMA-419 client ${id}`);
    const bytes = decodeBytes(data) as Uint8Array | null;
    return client.write(bytes === null ? null : bytes, decodeBytes(options) as never);
  },

  /** Reads what is left of the current payload, outside onReadable. */
  read419(id: number): Uint8Array | null {
    const client = ecma419.get(id);
    if (client === undefined) throw new Error(`no ECMA-419 client ${id}`);
    const rest = client.read();
    return rest === undefined ? null : new Uint8Array(rest);
  },

  close419(id: number): null {
    ecma419.get(id)?.close();
    ecma419.delete(id);
    return null;
  },
};

(globalThis as unknown as { handleCommand: (request: ArrayBuffer) => ArrayBuffer | undefined }).handleCommand = (request) => {
  const view = new DataView(request);
  const op = view.getUint8(0);
  host.clock = view.getFloat64(1, true);
  let reply: ArrayBuffer | undefined;
  switch (op) {
    case TICK:
      host.tick();
      break;
    case OPENED:
      host.links.get(view.getUint32(HEADER, true))?.events.onOpen();
      break;
    case DATA:
      host.links.get(view.getUint32(HEADER, true))?.received(new Uint8Array(request, HEADER + 4));
      break;
    case CLOSED: {
      const rc = view.getUint8(HEADER + 4);
      const message = decoder.decode(new Uint8Array(request, HEADER + 5));
      host.links.get(view.getUint32(HEADER, true))?.lost(rc === 0 ? undefined : { rc, message });
      break;
    }
    case WRITABLE:
      host.links.get(view.getUint32(HEADER, true))?.events.onWritable();
      break;
    case CALL: {
      const { fn, args } = JSON.parse(decoder.decode(new Uint8Array(request, HEADER))) as { fn: string; args: never[] };
      const f = calls[fn];
      if (f === undefined) throw new Error(`no call ${fn}`);
      reply = encoder.encode(JSON.stringify(encodeBytes(f(...args)) ?? null)).buffer as ArrayBuffer;
      break;
    }
    case GC:
      host.prune();
      gc();
      return undefined;
    default:
      throw new Error(`unknown op ${op}`);
  }
  host.prune();
  return reply;
};
