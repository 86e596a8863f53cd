/**
 * A file that behaves as a flash partition, for FlashStore where Moddable has files and no `flash` module:
 * the lin simulator (mcsim), whose `file` module writes under /tmp/. FlashStore then runs unchanged, the same
 * record log (src/session/record-log.ts) in two halves, the same torn-record recovery, over a file instead of
 * NOR flash:
 *
 *   import { FilePartition } from "tinymqtt/hosts/moddable/file-partition";
 *   const store = new FlashStore({ flash: new FilePartition({ path: "/tmp/session.partition" }) });
 *
 * or, the same app code on lin and on a device, `sessionPartition("session")` from "tinymqtt/session-partition"
 * (manifests/moddable.json picks this class on lin and Moddable's Flash elsewhere).
 *
 * The file holds the partition's bytes; erased bytes read 0xFF, as on flash (a new or short file is filled with
 * them when opened). Moddable's File.write() ends with fflush(): every record is in the operating system's cache
 * when write() returns, so it survives the app being killed (it is not fsync'ed: a power cut of the machine
 * itself may lose the last records, which only a real flash partition guards against).
 */
import { File } from "file";
import type { FlashLike } from "./flash-store.js";

export interface FilePartitionOptions {
  /** The file, an absolute path (on lin, under the `file` module's root, /tmp/). */
  path: string;
  /** The partition's size; at least two blocks. Default 16 KiB. */
  byteLength?: number;
  /** The erase block. Default 4 KiB, an ESP32's flash sector. */
  blockSize?: number;
}

const ERASED = 0xff;

export class FilePartition implements FlashLike {
  readonly byteLength: number;
  readonly blockSize: number;
  private readonly file: File;
  /** One erased block, written by erase(); made on first use. */
  private erased: ArrayBuffer | undefined;

  constructor(options: FilePartitionOptions) {
    const blockSize = options.blockSize ?? 4096;
    const byteLength = options.byteLength ?? 4 * blockSize;
    if (!(blockSize > 0) || !(byteLength >= 2 * blockSize)) throw new RangeError("FilePartition: at least two blocks");
    this.blockSize = blockSize;
    this.byteLength = byteLength;
    this.file = new File(options.path, true);
    // A new partition (or one cut short when the app was killed while making it) reads as erased flash.
    const length = this.file.length;
    if (length < byteLength) {
      const rest = new Uint8Array(byteLength - length);
      rest.fill(ERASED);
      this.file.position = length;
      this.file.write(rest.buffer);
    }
  }

  erase(sector: number): void {
    if (this.erased === undefined) {
      const block = new Uint8Array(this.blockSize);
      block.fill(ERASED);
      this.erased = block.buffer;
    }
    this.file.position = sector * this.blockSize;
    this.file.write(this.erased);
  }

  read(offset: number, byteLength: number): ArrayBuffer {
    this.file.position = offset;
    return this.file.read(ArrayBuffer, byteLength);
  }

  write(offset: number, byteLength: number, buffer: Uint8Array): void {
    this.file.position = offset;
    // Moddable's File.write takes whole ArrayBuffers only.
    this.file.write(buffer.slice(0, byteLength).buffer);
  }

  close(): void {
    this.file.close();
  }
}
