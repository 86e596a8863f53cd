/**
 * A read position inside one framed packet: bytes[pos, end). Every read checks the packet's end, so a
 * length field that runs past the packet is a Malformed Packet error, never an out-of-range read or an
 * allocation sized by the wire. The decoder owns one cursor and reuses it for every packet.
 */
import { malformed } from "./errors.js";
import { UTF8_INVALID, UTF8_OK, decodeUtf8, validateUtf8 } from "./utf8.js";

const EMPTY = new Uint8Array(0);

export class Cursor {
  bytes: Uint8Array = EMPTY;
  pos = 0;
  end = 0;
  /** The range of the last string or binary field skipped by skipUtf8 / skipBinary. */
  fieldStart = 0;
  fieldEnd = 0;

  reset(bytes: Uint8Array, pos: number, end: number): void {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  u8(what: string): number {
    if (this.pos >= this.end) throw malformed(`${what} runs past the end of the packet`);
    return this.bytes[this.pos++]!;
  }

  u16(what: string): number {
    if (this.pos + 2 > this.end) throw malformed(`${what} runs past the end of the packet`);
    const b = this.bytes;
    const v = (b[this.pos]! << 8) | b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    if (this.pos + 4 > this.end) throw malformed(`${what} runs past the end of the packet`);
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    return b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  /** A Variable Byte Integer (section 1.5.5): at most 4 bytes, minimal encoding [MQTT-1.5.5-1]. */
  varint(what: string): number {
    let byte = this.u8(what);
    // One byte is the common case: every property identifier, and property blocks under 128 bytes.
    if (byte < 0x80) return byte;
    let value = byte & 0x7f;
    let multiplier = 128;
    for (let i = 1; i < 4; i++) {
      byte = this.u8(what);
      value += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) {
        if (byte === 0) throw malformed(`${what} is not minimally encoded`);
        return value;
      }
      multiplier *= 128;
    }
    throw malformed(`${what} is longer than 4 bytes`);
  }

  /** Skips a length-prefixed binary field, leaving its range in fieldStart/fieldEnd. */
  skipBinary(what: string): void {
    const length = this.u16(what);
    if (this.pos + length > this.end) throw malformed(`${what} (${length} bytes) runs past the end of the packet`);
    this.fieldStart = this.pos;
    this.fieldEnd = this.pos += length;
  }

  /** Skips a UTF-8 string field after validating it in place [MQTT-1.5.4-1], [MQTT-1.5.4-2]. */
  skipUtf8(what: string): void {
    this.skipBinary(what);
    const check = validateUtf8(this.bytes, this.fieldStart, this.fieldEnd);
    if (check !== UTF8_OK) {
      throw malformed(`${what} ${check === UTF8_INVALID ? "is not valid UTF-8" : "contains U+0000"}`);
    }
  }

  utf8(what: string): string {
    this.skipUtf8(what);
    return decodeUtf8(this.bytes, this.fieldStart, this.fieldEnd);
  }

  /** A binary field as a view into the packet's bytes: valid as long as the packet is. */
  binary(what: string): Uint8Array {
    this.skipBinary(what);
    return this.bytes.subarray(this.fieldStart, this.fieldEnd);
  }

  /** Rejects bytes left over after the last field, a sign the sender and we disagree on the layout. */
  expectEnd(packet: string): void {
    if (this.pos !== this.end) throw malformed(`${packet} has ${this.end - this.pos} unexpected trailing bytes`);
  }
}
