/**
 * The session as an append-only log of small records, for stores that keep it in a file or in flash.
 * Each record carries its own length and a CRC-32, so a write torn by a crash or a power cut is found
 * on reading: replay stops at the last complete record and says how many bytes it dropped.
 *
 *   record := kind u8 | id u16 | length u32 | data[length] | crc32 u32 (of everything before it)
 *
 * Replay applies the records in order; a compacted log is simply the records of the live state.
 */
import type { StoredPublish, StoredSession } from "./store.js";

export const OUT_SAVED = 1;
export const OUT_RELEASED = 2;
export const OUT_REMOVED = 3;
export const IN_SAVED = 4;
export const IN_REMOVED = 5;
/** The protocol level the packets were encoded for (the id field holds it). */
export const PROTOCOL = 6;

const HEADER = 7;
const TRAILER = 4;

const CRC_TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  CRC_TABLE[n] = c >>> 0;
}

export function crc32(bytes: Uint8Array, start: number, end: number): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function recordLength(dataLength: number): number {
  return HEADER + dataLength + TRAILER;
}

/** Writes one record at out[offset]; returns the offset after it. */
export function writeRecord(out: Uint8Array, offset: number, kind: number, id: number, data?: Uint8Array): number {
  const n = data === undefined ? 0 : data.length;
  let o = offset;
  out[o++] = kind;
  out[o++] = id >> 8;
  out[o++] = id & 0xff;
  out[o++] = n >>> 24;
  out[o++] = (n >>> 16) & 0xff;
  out[o++] = (n >>> 8) & 0xff;
  out[o++] = n & 0xff;
  if (data !== undefined) {
    out.set(data, o);
    o += n;
  }
  const crc = crc32(out, offset, o);
  out[o++] = crc >>> 24;
  out[o++] = (crc >>> 16) & 0xff;
  out[o++] = (crc >>> 8) & 0xff;
  out[o++] = crc & 0xff;
  return o;
}

export interface Replay {
  session: StoredSession;
  /** Bytes of complete, valid records: where the next record belongs. */
  validLength: number;
  /** Bytes after them that did not form a complete, valid record (a torn write). */
  droppedBytes: number;
}

/** Rebuilds the session from a log; never throws on damaged input. */
export function replay(log: Uint8Array): Replay {
  const outgoing = new Map<number, StoredPublish>();
  const incoming = new Set<number>();
  let version: number | undefined;
  let o = 0;
  while (o + HEADER + TRAILER <= log.length) {
    const kind = log[o]!;
    const id = (log[o + 1]! << 8) | log[o + 2]!;
    const n = log[o + 3]! * 0x1000000 + ((log[o + 4]! << 16) | (log[o + 5]! << 8) | log[o + 6]!);
    const end = o + HEADER + n;
    if (end + TRAILER > log.length || kind < OUT_SAVED || kind > PROTOCOL) break;
    const crc = (log[end]! * 0x1000000 + ((log[end + 1]! << 16) | (log[end + 2]! << 8) | log[end + 3]!)) >>> 0;
    if (crc !== crc32(log, o, end)) break;
    switch (kind) {
      case OUT_SAVED:
        // Replaced in place: a flow saved again keeps its place in the order [MQTT-4.6.0-1].
        outgoing.set(id, { id, released: false, packet: log.slice(o + HEADER, end) });
        break;
      case OUT_RELEASED: {
        const p = outgoing.get(id);
        if (p !== undefined) p.released = true;
        break;
      }
      case OUT_REMOVED: outgoing.delete(id); break;
      case PROTOCOL: version = id; break;
      case IN_SAVED: incoming.add(id); break;
      default: incoming.delete(id);
    }
    o = end + TRAILER;
  }
  const session: StoredSession = { outgoing: [...outgoing.values()], incoming: [...incoming] };
  if (version !== undefined && session.outgoing.length > 0) session.version = version;
  return { session, validLength: o, droppedBytes: log.length - o };
}

/** The records of a live session: what a compacted log holds. */
export function snapshot(session: StoredSession): Uint8Array {
  let n = session.version === undefined ? 0 : recordLength(0);
  for (const p of session.outgoing) n += recordLength(p.packet.length) + (p.released ? recordLength(0) : 0);
  n += session.incoming.length * recordLength(0);
  const out = new Uint8Array(n);
  let o = 0;
  if (session.version !== undefined) o = writeRecord(out, o, PROTOCOL, session.version);
  for (const p of session.outgoing) {
    o = writeRecord(out, o, OUT_SAVED, p.id, p.packet);
    if (p.released) o = writeRecord(out, o, OUT_RELEASED, p.id);
  }
  for (const id of session.incoming) o = writeRecord(out, o, IN_SAVED, id);
  return out;
}
