/**
 * Moddable's `flash` module (a partition) in memory, with NOR flash semantics: erase(sector) sets a block
 * to 0xFF, write() can only clear bits (new = old & data), so a write over unerased bytes corrupts them as
 * real flash would, and is counted in `overwrites`. A power cut can be armed at the Nth erase/write call:
 * that call does part of its work (a write programs the first half of its bytes, an erase erases only the
 * second half of its block, leaving the start, where a header lives, intact) and throws PowerCut.
 */
export class PowerCut extends Error {
  constructor() {
    super("power cut");
  }
}

export class FakeFlash {
  readonly bytes: Uint8Array;
  readonly blockSize: number;
  /** Erase and write calls so far. */
  operations = 0;
  erases = 0;
  /** Bytes written that needed a 0 -> 1 change (a write without erase). */
  overwrites = 0;
  /** The operation number (1-based) that the power cut interrupts; 0: none. */
  cutAt = 0;

  constructor(blockSize: number, blocks: number, from?: Uint8Array) {
    this.blockSize = blockSize;
    this.bytes = from === undefined ? new Uint8Array(blockSize * blocks).fill(0xff) : from.slice();
  }

  get byteLength(): number {
    return this.bytes.length;
  }

  /** The same partition after a restart: its contents, no armed cut, fresh counters. */
  restart(): FakeFlash {
    return new FakeFlash(this.blockSize, this.bytes.length / this.blockSize, this.bytes);
  }

  erase(sector: number): void {
    if (!Number.isInteger(sector) || sector < 0 || (sector + 1) * this.blockSize > this.bytes.length) throw new RangeError(`erase: bad sector ${sector}`);
    const start = sector * this.blockSize;
    if (++this.operations === this.cutAt) {
      this.bytes.fill(0xff, start + (this.blockSize >> 1), start + this.blockSize);
      throw new PowerCut();
    }
    this.erases++;
    this.bytes.fill(0xff, start, start + this.blockSize);
  }

  read(offset: number, byteLength: number): ArrayBuffer {
    if (offset < 0 || byteLength < 0 || offset + byteLength > this.bytes.length) throw new RangeError(`read: out of range ${offset}+${byteLength}`);
    return this.bytes.slice(offset, offset + byteLength).buffer;
  }

  write(offset: number, byteLength: number, buffer: Uint8Array): void {
    if (offset < 0 || byteLength < 0 || offset + byteLength > this.bytes.length || byteLength > buffer.length) {
      throw new RangeError(`write: out of range ${offset}+${byteLength}`);
    }
    const cut = ++this.operations === this.cutAt;
    const n = cut ? byteLength >> 1 : byteLength;
    for (let i = 0; i < n; i++) {
      const old = this.bytes[offset + i]!;
      const data = buffer[i]!;
      if ((old & data) !== data) this.overwrites++;
      this.bytes[offset + i] = old & data;
    }
    if (cut) throw new PowerCut();
  }
}
