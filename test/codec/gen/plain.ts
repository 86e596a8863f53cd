/**
 * Turns what the decoder returns into plain data that outlives the next feed()/next(), and renders packets
 * and bytes for failure messages. Host-neutral, like random.ts.
 */
import { AckView, PublishView, type DecodedPacket, type Packet } from "../../../src/codec/index.js";

/**
 * A deep copy of a decoded packet as a plain object: PublishView and AckView getters read into fields,
 * every Uint8Array (payloads, passwords, correlation data: views into the decoder's buffers) copied. Fields
 * the decoder left out stay out, so the result deep-equals a canonical generated packet.
 */
export function toPlain(p: DecodedPacket): Packet {
  if (p instanceof PublishView) {
    const out: Packet = { type: p.type, topic: p.topic, payload: p.payload.slice(), qos: p.qos, retain: p.retain, dup: p.dup, packetId: p.packetId };
    const properties = p.properties;
    if (properties !== undefined) out.properties = copy(properties);
    return out;
  }
  if (p instanceof AckView) {
    const out: Packet = { type: p.type, packetId: p.packetId, reasonCode: p.reasonCode };
    const properties = p.properties;
    if (properties !== undefined) out.properties = copy(properties);
    return out;
  }
  return copy(p);
}

function copy<T>(v: T): T {
  if (v instanceof Uint8Array) return v.slice() as T;
  if (Array.isArray(v)) return v.map(copy) as T;
  if (typeof v === "object" && v !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v)) out[key] = copy((v as Record<string, unknown>)[key]);
    return out as T;
  }
  return v;
}

export function hex(bytes: Uint8Array, max = Infinity): string {
  let s = "";
  const n = Math.min(bytes.length, max);
  for (let i = 0; i < n; i++) s += (bytes[i]! < 16 ? "0" : "") + bytes[i]!.toString(16);
  return n < bytes.length ? `${s}... (${bytes.length} bytes)` : s;
}

/** JSON of a packet with byte arrays as hex and long strings cut, for failure messages. */
export function describe(p: unknown): string {
  return JSON.stringify(p, (_key, v: unknown) => {
    if (v instanceof Uint8Array) return `<${hex(v, 48)}>`;
    if (typeof v === "string" && v.length > 120) return v.slice(0, 120) + `... (${v.length} chars)`;
    return v;
  });
}
