/**
 * Primitive writers for the encoder: each writes at out[offset] and returns the offset after what it
 * wrote. The caller has measured the packet and reserved room, so no bounds checks here.
 */
import { utf8Length, writeUtf8 } from "./utf8.js";

export function writeU16(out: Uint8Array, o: number, v: number): number {
  out[o] = v >> 8;
  out[o + 1] = v & 0xff;
  return o + 2;
}

export function writeU32(out: Uint8Array, o: number, v: number): number {
  out[o] = v >>> 24;
  out[o + 1] = (v >>> 16) & 0xff;
  out[o + 2] = (v >>> 8) & 0xff;
  out[o + 3] = v & 0xff;
  return o + 4;
}

export function varintLength(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : 4;
}

export function writeVarint(out: Uint8Array, o: number, v: number): number {
  if (v < 0x80) {
    out[o] = v;
    return o + 1;
  }
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) byte |= 0x80;
    out[o++] = byte;
  } while (v > 0);
  return o;
}

/** Measures a string for an MQTT string field; throws RangeError when it cannot be one. */
export function stringFieldLength(s: string, what: string): number {
  const n = utf8Length(s);
  if (n < 0) throw new RangeError(`${what} contains a lone UTF-16 surrogate, which has no UTF-8 form`);
  if (n > 65535) throw new RangeError(`${what} is ${n} bytes of UTF-8; MQTT strings hold at most 65535`);
  if (s.indexOf("\u0000") >= 0) throw new RangeError(`${what} contains U+0000, which MQTT forbids`);
  return n;
}

/** Writes a length-prefixed string whose UTF-8 length the caller measured. */
export function writeString(out: Uint8Array, o: number, s: string, byteLength: number): number {
  o = writeU16(out, o, byteLength);
  return writeUtf8(s, out, o);
}

/**
 * Writes a length-prefixed string that stringFieldLength has accepted, without its length at hand: the
 * prefix is filled in once the bytes are written, so the caller need not keep or recompute it.
 */
export function writeMeasuredString(out: Uint8Array, o: number, s: string): number {
  const end = writeUtf8(s, out, o + 2);
  writeU16(out, o, end - o - 2);
  return end;
}

const EMPTY = new Uint8Array(0);

const typedArraySet = Uint8Array.prototype.set;

/**
 * out.set(src, o), returning the offset after the copy. Called through the intrinsic because V8 (Node 20)
 * looks a typed array's set up with an inline-cache call on every use, even in optimized code: about 4 ns,
 * a tenth of encoding a small PUBLISH, which copies twice (topic and payload).
 */
export function copyBytes(out: Uint8Array, o: number, src: Uint8Array): number {
  typedArraySet.call(out, src, o);
  return o + src.length;
}

/** Longer strings are measured and encoded on every packet: the cache is for a device's few short ones. */
const CACHED_STRING = 128;

/**
 * The last string sent in one kind of field, already validated, as it goes on the wire (length prefix
 * and UTF-8 bytes). Devices send the same topic, content type... again and again, so measuring and
 * encoding it once pays on every packet, and one set() writes it. On XS it also saves a String wrapper
 * allocated for every character that charCodeAt() reads off a primitive string.
 */
export class StringFieldCache {
  /** undefined when nothing is kept (or the last string was longer than CACHED_STRING bytes). */
  value: string | undefined = undefined;
  field: Uint8Array = EMPTY;

  /**
   * Keeps s, whose UTF-8 length n the caller has measured and whose content it has validated. The
   * field's array is reused when the length is unchanged, as it is for strings that differ in a digit.
   */
  keep(s: string, n: number): void {
    this.value = undefined;
    if (n > CACHED_STRING) return;
    if (this.field.length !== 2 + n) this.field = new Uint8Array(2 + n);
    writeString(this.field, 0, s, n);
    this.value = s;
  }

  /** Writes the kept field at out[o]; returns the offset after it. */
  write(out: Uint8Array, o: number): number {
    return copyBytes(out, o, this.field);
  }
}

export function writeBinary(out: Uint8Array, o: number, data: Uint8Array): number {
  return copyBytes(out, writeU16(out, o, data.length), data);
}
