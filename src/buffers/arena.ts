/**
 * One ArrayBuffer, allocated once, carved into the typed arrays of a client's fixed structures (rings, id
 * tables, per-message state). Each separate typed array costs an ArrayBuffer object, and a small one its own
 * heap block too, on top of its bytes: a client holds some twenty, so carving them all out of one buffer
 * saves about 2 KiB of heap per client on V8, and objects (slots) on XS.
 *
 * Sizes are known up front: each structure says how many arena bytes it takes (a static bytesFor()), the
 * owner allocates the sum, and the structures take their views in any order. Every view starts on an
 * 8-byte boundary, so a Float64Array can follow a Uint8Array; span() counts that padding.
 */
export class Arena {
  private readonly buffer: ArrayBuffer;
  private offset = 0;

  constructor(bytes: number) {
    this.buffer = new ArrayBuffer(bytes);
  }

  /** Arena bytes taken by n elements of elementSize bytes, padding included. */
  static span(n: number, elementSize: 1 | 2 | 4 | 8): number {
    return Math.ceil((n * elementSize) / 8) * 8;
  }

  /** Bytes not yet carved. */
  get remaining(): number {
    return this.buffer.byteLength - this.offset;
  }

  u8(n: number): Uint8Array {
    return new Uint8Array(this.buffer, this.take(n, 1), n);
  }

  u16(n: number): Uint16Array {
    return new Uint16Array(this.buffer, this.take(n, 2), n);
  }

  u32(n: number): Uint32Array {
    return new Uint32Array(this.buffer, this.take(n, 4), n);
  }

  f64(n: number): Float64Array {
    return new Float64Array(this.buffer, this.take(n, 8), n);
  }

  private take(n: number, elementSize: 1 | 2 | 4 | 8): number {
    const at = this.offset;
    const span = Arena.span(n, elementSize);
    if (span > this.buffer.byteLength - at) {
      throw new RangeError(`arena of ${this.buffer.byteLength} bytes has ${this.buffer.byteLength - at} left, not ${span}`);
    }
    this.offset = at + span;
    return at;
  }
}
