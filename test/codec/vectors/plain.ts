/**
 * Normalising packets for comparison. The decoder hands out reused views (PublishView, AckView) whose
 * fields are getters over its receive buffer, valid only until its next call; toPlain reads them into a
 * plain object of copies, the same shape the encoder takes, so assert.deepEqual can compare it to a
 * vector's packet and it stays valid after the decoder moves on.
 */
import { AckView, PublishView, type DecodedPacket, type Packet } from "../../../src/codec/index.js";

/**
 * A plain copy of a packet: views read through their getters, every Uint8Array (a view into the
 * decoder's buffer, or a Node Buffer) copied into a fresh Uint8Array, keys whose value is undefined left
 * out. Nothing else is changed: no defaults are filled in.
 */
export function toPlain(p: DecodedPacket | Packet): Packet {
  if (p instanceof PublishView) {
    return plain({
      type: p.type, topic: p.topic, payload: p.payload, qos: p.qos, retain: p.retain, dup: p.dup, packetId: p.packetId,
      properties: p.properties,
    }) as Packet;
  }
  if (p instanceof AckView) {
    return plain({ type: p.type, packetId: p.packetId, reasonCode: p.reasonCode, properties: p.properties }) as Packet;
  }
  return plain(p) as Packet;
}

function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return Uint8Array.from(v);
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v !== "object" || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v)) {
    const value = (v as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = plain(value);
  }
  return out;
}

/** The parts one after another, in a new array. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
