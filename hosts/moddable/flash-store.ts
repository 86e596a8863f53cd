/**
 * A session store in a flash partition (Moddable's `flash` module), for one client id: the session log
 * (src/session/record-log.ts) appended to one half of the partition, compacted into the other half.
 *
 *   import Flash from "flash";                     // the app's manifest provides the `flash` module
 *   import { Client, FlashStore } from "tinymqtt";
 *   const store = new FlashStore({ flash: new Flash("session") });   // a partition of >= 2 erase blocks
 *
 * Layout. The partition is cut into two halves A and B, each a whole number of erase blocks. Each half
 * starts with a header, then records:
 *
 *   header := magic u32 | generation u32 | idLength u16 | clientId[idLength] (UTF-8) | crc32 u32
 *
 * The valid half (magic and CRC right) with the higher generation is the active one. Records are appended
 * after its last valid record: flash is only written where it was erased (0xFF), and replay() stops at the
 * first torn record, so the log is always "the header, complete records, perhaps one torn record".
 * Compaction (when the next record does not fit in the active half, and on open() when the log ends in a
 * torn record or belongs to another client id) writes the snapshot() of the live state into the other half:
 * erase it (its header's block first), write the records, then write its header with generation + 1 LAST.
 * A power cut at any point of it leaves the old half the newest valid one, holding the same state.
 *
 * Durability. Flash writes are synchronous and every record is written before the engine sends the packet
 * that tells the broker about it (like the file store's "always"): a power cut loses at most the record
 * being written, whose packet never left, and opening drops that torn record and reports its bytes in
 * lastRecovery. flush() has nothing to do.
 *
 * Memory. The store keeps no copy of the session: open() and compaction read the log back from flash and
 * replay it, so they briefly hold the used part of a half (and its snapshot) in RAM; size the partition for
 * the session (a few erase blocks), not larger. Wear: each compaction erases one half; open() compacts
 * only when it must (otherwise it appends), so frequent restarts do not erase flash each time.
 *
 * One store serves one client id: open() for another id while one is open throws. The partition holds the
 * session of one client id: opening a different id (after close()) starts an empty session, which replaces
 * the other id's.
 */
import { utf8Length, writeUtf8 } from "../../src/codec/utf8.js";
import { crc32, IN_REMOVED, IN_SAVED, OUT_RELEASED, OUT_REMOVED, OUT_SAVED, PROTOCOL, recordLength, replay, snapshot, writeRecord } from "../../src/session/record-log.js";
import type { SessionStore, StoredSession } from "../../src/session/store.js";

/**
 * What the store uses of Moddable's Flash (`import Flash from "flash"`; `new Flash(partitionName)`):
 * erase(sector) erases one block (sectors count from the partition's start), read() returns an ArrayBuffer
 * (useHostBuffer is never passed), write() programs byteLength bytes from the start of buffer.
 */
export interface FlashLike {
  readonly byteLength: number;
  readonly blockSize: number;
  erase(sector: number): void;
  read(offset: number, byteLength: number): ArrayBuffer | object;
  write(offset: number, byteLength: number, buffer: Uint8Array): void;
}

export interface FlashStoreOptions {
  /** The partition, e.g. `new Flash("session")`. */
  flash: FlashLike;
}

export interface FlashRecovery {
  /** Bytes after the last complete record that did not form a record (a torn write), now left behind. */
  droppedBytes: number;
}

const MAGIC = 0x544d5331; // "TMS1"
/** magic u32 | generation u32 | idLength u16 */
const HEADER_FIXED = 10;
const CRC_BYTES = 4;

function u32(b: Uint8Array, o: number): number {
  return (b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!)) >>> 0;
}

function putU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

export class FlashStore implements SessionStore {
  /** What the last open() found damaged, if anything. */
  lastRecovery: FlashRecovery | undefined;
  private readonly flash: FlashLike;
  private readonly blocksPerHalf: number;
  private readonly halfBytes: number;
  /** The client id open, undefined when closed. */
  private clientId: string | undefined;
  /** That id in UTF-8, as the headers hold it. */
  private id = new Uint8Array(0);
  private version = 0;
  private active = 0;
  private generation = 0;
  /** Where the next record goes, from the start of the active half. */
  private end = 0;
  private scratch = new Uint8Array(64);

  constructor(options: FlashStoreOptions) {
    const flash = options.flash;
    const blocks = Math.floor(flash.byteLength / flash.blockSize);
    if (!(blocks >= 2)) throw new RangeError("FlashStore: the partition needs at least two erase blocks");
    this.flash = flash;
    this.blocksPerHalf = blocks >> 1;
    this.halfBytes = this.blocksPerHalf * flash.blockSize;
  }

  open(clientId: string, version: number): StoredSession {
    if (this.clientId !== undefined && this.clientId !== clientId) {
      throw new Error(`FlashStore: open for client ${JSON.stringify(this.clientId)}; use one store per client`);
    }
    this.close();
    this.lastRecovery = undefined;
    const idLength = utf8Length(clientId);
    if (idLength < 0 || idLength > 0xffff || HEADER_FIXED + idLength + CRC_BYTES > this.halfBytes) {
      throw new RangeError("FlashStore: client id cannot be stored in this partition");
    }
    const id = new Uint8Array(idLength);
    writeUtf8(clientId, id, 0);
    this.id = id;
    this.version = version;

    // The newest valid half, whichever client id it holds.
    let newest = -1;
    let newestGeneration = 0;
    let sameId = false;
    for (let half = 0; half < 2; half++) {
      const h = this.readHeader(half);
      if (h !== undefined && (newest < 0 || h.generation > newestGeneration)) {
        newest = half;
        newestGeneration = h.generation;
        sameId = h.sameId;
      }
    }

    this.clientId = clientId;
    try {
      if (newest >= 0 && sameId) {
        this.active = newest;
        this.generation = newestGeneration;
        const start = this.headerLength();
        const log = this.read(newest * this.halfBytes + start, this.halfBytes - start);
        const r = replay(log);
        // Erased flash reads 0xFF: only what was written after the last record was torn.
        let last = log.length;
        while (last > r.validLength && log[last - 1] === 0xff) last--;
        const dropped = last - r.validLength;
        if (dropped > 0) {
          this.lastRecovery = { droppedBytes: dropped };
          // The torn bytes cannot be written over: start a clean half.
          this.compact({ ...r.session, version });
        } else {
          this.end = start + r.validLength;
          // The log from here on holds packets encoded for this client's protocol.
          if (r.session.version !== version) this.append(PROTOCOL, version);
        }
        return r.session;
      }
      // Nothing stored, or another client id's session: start this id's, in the other half.
      this.active = newest >= 0 ? newest : 1;
      this.generation = newest >= 0 ? newestGeneration : 0;
      this.compact({ outgoing: [], incoming: [], version });
      return { outgoing: [], incoming: [] };
    } catch (e) {
      this.clientId = undefined;
      throw e;
    }
  }

  saveOutgoing(id: number, packet: Uint8Array): void {
    this.append(OUT_SAVED, id, packet);
  }

  releaseOutgoing(id: number): void {
    this.append(OUT_RELEASED, id);
  }

  removeOutgoing(id: number): void {
    this.append(OUT_REMOVED, id);
  }

  saveIncoming(id: number): void {
    this.append(IN_SAVED, id);
  }

  removeIncoming(id: number): void {
    this.append(IN_REMOVED, id);
  }

  /** Flash writes are synchronous: every record is already durable. */
  flush(): void {}

  close(): void {
    this.clientId = undefined;
  }

  private append(kind: number, id: number, data?: Uint8Array): void {
    if (this.clientId === undefined) throw new Error("FlashStore: open() first");
    const n = recordLength(data === undefined ? 0 : data.length);
    if (this.end + n > this.halfBytes) {
      this.compact({ ...replay(this.read(this.active * this.halfBytes + this.headerLength(), this.end - this.headerLength())).session, version: this.version });
      if (this.end + n > this.halfBytes) throw new RangeError("FlashStore: the session does not fit in half the partition");
    }
    if (n > this.scratch.length) this.scratch = new Uint8Array(Math.max(n, this.scratch.length * 2));
    writeRecord(this.scratch, 0, kind, id, data);
    try {
      this.flash.write(this.active * this.halfBytes + this.end, n, this.scratch);
    } catch (e) {
      // The record may be half written: nothing can follow it in this half, so the next record compacts.
      this.end = this.halfBytes;
      throw e;
    }
    this.end += n;
  }

  /**
   * Writes the session's records into the other half, its header (generation + 1) last, then makes it the
   * active half. Until the header is complete the active half stays the newest valid one.
   */
  private compact(session: StoredSession): void {
    const records = snapshot(session);
    const start = this.headerLength();
    if (start + records.length > this.halfBytes) throw new RangeError("FlashStore: the session does not fit in half the partition");
    const target = 1 - this.active;
    const base = target * this.halfBytes;
    // The header's block first: from then on the target half is invalid until its new header is written.
    for (let b = 0; b < this.blocksPerHalf; b++) this.flash.erase(target * this.blocksPerHalf + b);
    if (records.length > 0) this.flash.write(base + start, records.length, records);
    const generation = (this.generation + 1) >>> 0;
    const header = new Uint8Array(start);
    putU32(header, 0, MAGIC);
    putU32(header, 4, generation);
    header[8] = this.id.length >> 8;
    header[9] = this.id.length & 0xff;
    header.set(this.id, HEADER_FIXED);
    putU32(header, start - CRC_BYTES, crc32(header, 0, start - CRC_BYTES));
    this.flash.write(base, start, header);
    this.active = target;
    this.generation = generation;
    this.end = start + records.length;
  }

  /** The generation of a half's header, and whether it holds this client id; undefined when not valid. */
  private readHeader(half: number): { generation: number; sameId: boolean } | undefined {
    const base = half * this.halfBytes;
    const fixed = this.read(base, HEADER_FIXED);
    if (u32(fixed, 0) !== MAGIC) return undefined;
    const idLength = (fixed[8]! << 8) | fixed[9]!;
    const length = HEADER_FIXED + idLength + CRC_BYTES;
    if (length > this.halfBytes) return undefined;
    const header = this.read(base, length);
    if (u32(header, length - CRC_BYTES) !== crc32(header, 0, length - CRC_BYTES)) return undefined;
    let sameId = idLength === this.id.length;
    for (let i = 0; sameId && i < idLength; i++) sameId = header[HEADER_FIXED + i] === this.id[i];
    return { generation: u32(header, 4), sameId };
  }

  private headerLength(): number {
    return HEADER_FIXED + this.id.length + CRC_BYTES;
  }

  private read(offset: number, byteLength: number): Uint8Array {
    if (byteLength <= 0) return new Uint8Array(0);
    // Without useHostBuffer, Moddable's Flash.read returns an ArrayBuffer.
    return new Uint8Array(this.flash.read(offset, byteLength) as ArrayBuffer);
  }
}
