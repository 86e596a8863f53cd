/**
 * The engine rig: src/engine/engine.ts driven directly with a clock the test moves by hand. What the engine
 * writes is decoded by our own Decoder in server mode (fake-host.ts Wire); what it reads is made by our own
 * Encoder. Shared by the engine tests and the conformance tests.
 */
import { CONNACK, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, type Packet, type ProtocolVersion, type QoS } from "../../src/codec/index.js";
import type { Properties } from "../../src/codec/properties.js";
import type { Budget } from "../../src/engine/budget.js";
import { ENGINE_DEFAULTS, Engine, type EngineEvent, type EngineOptions } from "../../src/engine/engine.js";
import { MQTT5 } from "../../src/engine/mqtt5.js";
import { type Seen, Wire, encode } from "./fake-host.js";

export const SMALL: Budget = { maxPacketSize: 4096, outputBytes: 4096, storeBytes: 16384, maxMessages: 64, maxIncomingQos2: 8, maxTopicAliases: 0 };

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const ascii = (s: string): number[] => Array.from(text(s));

/** An engine event copied out of the engine's reused objects, for deepEqual. */
export type Ev =
  | { type: "connected"; sessionPresent: boolean; reasonCode: number; properties?: Properties | undefined }
  | { type: "refused"; reasonCode: number; properties?: Properties | undefined }
  | { type: "message"; topic: string; payload: string; qos: number; dup: boolean; retain: boolean; mid: number }
  | { type: "published"; mid: number; reasonCode: number }
  | { type: "subscribed" | "unsubscribed"; mid: number; reasonCodes: number[] }
  | { type: "closed"; rc: number; reasonCode: number; properties?: Properties | undefined }
  | { type: "auth"; reasonCode: number; properties?: Properties | undefined };

export function snap(e: EngineEvent): Ev {
  switch (e.type) {
    case "connected": return e.properties === undefined ? { type: e.type, sessionPresent: e.sessionPresent, reasonCode: e.reasonCode }
      : { type: e.type, sessionPresent: e.sessionPresent, reasonCode: e.reasonCode, properties: e.properties };
    case "refused": return e.properties === undefined ? { type: e.type, reasonCode: e.reasonCode } : { type: e.type, reasonCode: e.reasonCode, properties: e.properties };
    case "message": {
      const m = e.message;
      return { type: e.type, topic: m.topic, payload: new TextDecoder().decode(m.payload), qos: m.qos, dup: m.dup, retain: m.retain, mid: m.packetId };
    }
    case "published": return { type: e.type, mid: e.mid, reasonCode: e.reasonCode };
    case "subscribed": case "unsubscribed": return { type: e.type, mid: e.mid, reasonCodes: [...e.reasonCodes] };
    case "closed": return e.properties === undefined ? { type: e.type, rc: e.rc, reasonCode: e.reasonCode }
      : { type: e.type, rc: e.rc, reasonCode: e.reasonCode, properties: e.properties };
    case "auth": return e.properties === undefined ? { type: e.type, reasonCode: e.reasonCode } : { type: e.type, reasonCode: e.reasonCode, properties: e.properties };
  }
}

export interface RigOptions {
  version?: ProtocolVersion;
  keepAlive?: number;
  cleanStart?: boolean;
  budget?: Partial<Budget>;
  manualAck?: boolean;
  maxInflight?: number;
  maxQueued?: number;
  retryMs?: number;
}

/** One engine, its clock, and the broker's view of what it writes. */
export class Rig {
  readonly engine: Engine;
  readonly version: ProtocolVersion;
  readonly keepAlive: number;
  readonly cleanStart: boolean;
  now = 0;
  wire: Wire = new Wire();
  readonly logs: Array<[number, string]> = [];
  /** Every event polled so far, in order. */
  readonly history: Ev[] = [];

  constructor(o: RigOptions = {}) {
    this.engine = new Engine({ ...SMALL, ...o.budget }, o.version ?? 4, {
      ...ENGINE_DEFAULTS, manualAck: o.manualAck ?? false,
      ...(o.maxInflight === undefined ? {} : { maxInflight: o.maxInflight }),
      ...(o.maxQueued === undefined ? {} : { maxQueued: o.maxQueued }),
      ...(o.retryMs === undefined ? {} : { retryMs: o.retryMs }),
    }, (level, message) => this.logs.push([level, message]), MQTT5);
    this.version = o.version ?? 4;
    this.keepAlive = o.keepAlive ?? 60;
    this.cleanStart = o.cleanStart ?? true;
  }

  /** The engine's settings with `changes`, from now on. */
  configure(changes: Partial<EngineOptions>): void {
    this.engine.configure({ ...this.engine.options, ...changes });
  }

  /** The link opens: begin() and what it wrote. */
  begin(): Seen[] {
    this.wire = new Wire();
    this.engine.begin({ type: 1, protocolVersion: this.version, clientId: "c", cleanStart: this.cleanStart, keepAlive: this.keepAlive }, this.now);
    return this.out();
  }

  /** begin() and an accepting CONNACK; returns the events of the CONNACK. */
  connect(sessionPresent = false, properties?: Properties): Ev[] {
    this.begin();
    return this.recv(connack(sessionPresent, 0, properties));
  }

  /** The transport takes everything waiting; the broker decodes it. */
  out(): Seen[] {
    const seen: Seen[] = [];
    const e = this.engine;
    for (let n = e.outputLength(); n > 0; n = e.outputLength()) {
      const bytes = e.outputBuffer.slice(e.outputOffset(), e.outputOffset() + n);
      e.consumed(n, this.now);
      seen.push(...this.wire.feed(bytes));
    }
    return seen;
  }

  /** The transport takes at most n bytes. */
  outSome(n: number): Seen[] {
    const e = this.engine;
    const len = Math.min(n, e.outputLength());
    const bytes = e.outputBuffer.slice(e.outputOffset(), e.outputOffset() + len);
    e.consumed(len, this.now);
    return this.wire.feed(bytes);
  }

  /** The broker's packets arrive as one chunk; returns the events polled until null. */
  recv(...packets: Packet[]): Ev[] {
    const parts = packets.map((p) => Array.from(encode(this.version, p)));
    return this.recvBytes(parts.flat());
  }

  recvBytes(bytes: number[] | Uint8Array): Ev[] {
    this.engine.receive(Uint8Array.from(bytes), this.now);
    return this.events();
  }

  events(): Ev[] {
    const out: Ev[] = [];
    for (let e = this.engine.poll(); e !== null; e = this.engine.poll()) out.push(snap(e));
    this.history.push(...out);
    return out;
  }

  publish(topic: string, payload: string, qos: QoS, retain = false, properties?: Properties): { rc: number; mid: number } {
    const { rc, mid } = this.engine.publish(topic, text(payload), qos, retain, properties, this.now);
    return { rc, mid };
  }

  tick(at: number): Ev[] {
    this.now = at;
    this.engine.tick(at);
    return this.events();
  }
}

export function connack(sessionPresent: boolean, reasonCode = 0, properties?: Properties): Packet {
  return properties === undefined ? { type: CONNACK, sessionPresent, reasonCode } : { type: CONNACK, sessionPresent, reasonCode, properties };
}
export const puback = (packetId: number, reasonCode = 0): Packet => ({ type: PUBACK, packetId, reasonCode });
export const pubrec = (packetId: number, reasonCode = 0): Packet => ({ type: PUBREC, packetId, reasonCode });
export const pubrel = (packetId: number): Packet => ({ type: PUBREL, packetId });
export const pubcomp = (packetId: number): Packet => ({ type: PUBCOMP, packetId });
export function incoming(topic: string, payload: string, qos: QoS, packetId: number, dup = false, properties?: Properties): Packet {
  return { type: PUBLISH, topic, payload: text(payload), qos, retain: false, dup, packetId, properties };
}
export const names = (seen: Seen[]): string[] => seen.map((p) => p.name);
export const ids = (seen: Seen[]): string[] => seen.map((p) => `${p.name} ${p.packetId ?? ""}${p.dup ? " dup" : ""}`.trim());
