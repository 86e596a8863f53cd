/**
 * The telemetry payload, written by the devices and read by the checker; its layout lives here only.
 *
 * 16 bytes, big-endian: device index u32, sequence u32, sent-at f64 (the wall clock in ms with sub-ms
 * precision: performance.timeOrigin + performance.now(), so a checker in another process of the same machine
 * reads the same clock; across machines the clocks must be in sync). Anything of another length is a will
 * ("offline").
 */
export const PAYLOAD_BYTES = 16;

/** One payload buffer, reused for every publish (the client copies what it sends). */
export class PayloadWriter {
  readonly bytes = new Uint8Array(PAYLOAD_BYTES);
  private readonly view = new DataView(this.bytes.buffer);

  write(device: number, seq: number, sentAt: number): Uint8Array {
    this.view.setUint32(0, device);
    this.view.setUint32(4, seq);
    this.view.setFloat64(8, sentAt);
    return this.bytes;
  }
}

/** What a telemetry payload says; read() fills this one object in place (no allocation per message). */
export class PayloadReader {
  device = 0;
  seq = 0;
  sentAt = 0;

  /** False for a payload that is not telemetry. */
  read(p: Uint8Array): boolean {
    if (p.length !== PAYLOAD_BYTES) return false;
    const view = new DataView(p.buffer, p.byteOffset, PAYLOAD_BYTES);
    this.device = view.getUint32(0);
    this.seq = view.getUint32(4);
    this.sentAt = view.getFloat64(8);
    return true;
  }
}
