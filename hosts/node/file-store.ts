/**
 * A session store in a file: one append-only log per client id (src/session/record-log.ts), compacted
 * by atomic rename when it opens and whenever it has doubled since the last compaction.
 *
 * Durability. Every record is written with a synchronous write() before the engine sends the packet
 * that tells the broker about it, so a killed process (SIGKILL, a crash) loses nothing: the bytes are
 * in the operating system's cache. What a power cut can cost depends on `sync`:
 * - "flush" (default): fdatasync before each batch of bytes goes to the broker, so whatever the broker
 *   has heard of is on disk; a power cut loses at most records whose packets never left.
 * - "always": fdatasync after every record (slowest).
 * - "none": the operating system decides; a power cut can lose the last few seconds of records, which
 *   means messages published in them are lost, and acknowledged ones may be re-sent.
 * A torn write (the file cut at any byte) is found by the records' lengths and CRCs: loading keeps the
 * complete records before it, drops the rest, and reports how many bytes it dropped.
 *
 * Privacy. The log holds every unacknowledged message's topic and payload, so it is kept from other
 * local users as mosquitto keeps its persistence file: a folder the store creates is 0700, its files
 * are 0600 (a log written before this rule becomes 0600 when it is next opened, as opening rewrites
 * it), and a folder that another user could write to (group or world writable, or owned by someone
 * else) is refused, as a writer there could replace the log with messages of its choosing.
 */
import fs from "node:fs";
import path from "node:path";
import { IN_REMOVED, IN_SAVED, OUT_RELEASED, OUT_REMOVED, OUT_SAVED, recordLength, replay, snapshot, writeRecord } from "../../src/session/record-log.js";
import type { SessionStore, StoredSession } from "../../src/session/store.js";

export interface FileStoreOptions {
  /** When to fdatasync: "flush" (default), "always" or "none"; see the file's header. */
  sync?: "flush" | "always" | "none";
  /** Compact once the log has grown past this many bytes and doubled since the last compaction. */
  compactAfterBytes?: number;
}

export interface Recovery {
  file: string;
  /** Bytes at the end of the log that did not form a complete record (a torn write), now removed. */
  droppedBytes: number;
}

/**
 * The log's file name: the client id, URI-encoded; a long id is cut and completed by a hash of the
 * whole id, as file names are limited (255 bytes on most file systems).
 */
function fileName(clientId: string): string {
  const encoded = encodeURIComponent(clientId);
  if (encoded.length <= 200) return `${encoded}.session`;
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < clientId.length; i++) {
    const c = clientId.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return `${encoded.slice(0, 160)}-${h1.toString(16).padStart(8, "0")}${h2.toString(16).padStart(8, "0")}.session`;
}

/** Read and written by the owner only. */
const PRIVATE_FILE = 0o600;

/** Throws when a user other than this process's could write to `dir` (see "Privacy" above). */
function refuseSharedFolder(dir: string): void {
  const st = fs.statSync(dir);
  if (!st.isDirectory()) throw new Error(`FileStore ${dir}: not a folder`);
  const uid = process.getuid?.();
  const mode = (st.mode & 0o777).toString(8).padStart(4, "0");
  if ((st.mode & 0o022) !== 0) {
    throw new Error(`FileStore ${dir}: the folder is writable by other users (mode ${mode}); the session log holds ` +
      `unacknowledged messages, so give it a folder only this user can write (chmod go-w, or a new folder)`);
  }
  if (uid !== undefined && st.uid !== uid) {
    throw new Error(`FileStore ${dir}: the folder belongs to user ${st.uid}, not to this process's user ${uid}; ` +
      `the session log holds unacknowledged messages, so give it a folder this user owns`);
  }
}

export class FileStore implements SessionStore {
  readonly dir: string;
  /** What the last open() found damaged, if anything. */
  lastRecovery: Recovery | undefined;
  private readonly sync: "flush" | "always" | "none";
  private readonly compactAfter: number;
  private fd = -1;
  private file = "";
  private size = 0;
  private compactedSize = 0;
  private dirty = false;
  private scratch = new Uint8Array(1024);
  /** What the last load() found damaged; open() reports it as lastRecovery. */
  private loaded: Recovery | undefined;
  private version = 0;

  constructor(dir: string, options: FileStoreOptions = {}) {
    this.dir = dir;
    this.sync = options.sync ?? "flush";
    this.compactAfter = options.compactAfterBytes ?? 1 << 20;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    refuseSharedFolder(dir);
  }

  open(clientId: string, version: number): StoredSession {
    const file = path.join(this.dir, fileName(clientId));
    if (this.fd >= 0 && file !== this.file) throw new Error(`FileStore ${this.dir}: open for another client; use one store per client`);
    this.close();
    this.file = file;
    const session = this.load();
    this.lastRecovery = this.loaded;
    // The log from here on holds packets encoded for this client's protocol.
    this.version = version;
    this.compact({ ...session, version });
    this.fd = fs.openSync(this.file, "a", PRIVATE_FILE);
    return session;
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

  flush(): void {
    if (!this.dirty || this.fd < 0) return;
    if (this.sync !== "none") fs.fdatasyncSync(this.fd);
    this.dirty = false;
    if (this.size > this.compactAfter && this.size > 2 * this.compactedSize) {
      fs.closeSync(this.fd);
      this.fd = -1;
      this.compact({ ...this.load(), version: this.version });
      this.fd = fs.openSync(this.file, "a", PRIVATE_FILE);
    }
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    fs.closeSync(this.fd);
    this.fd = -1;
  }

  private append(kind: number, id: number, data?: Uint8Array): void {
    if (this.fd < 0) throw new Error("FileStore: open() first");
    const n = recordLength(data === undefined ? 0 : data.length);
    if (n > this.scratch.length) this.scratch = new Uint8Array(Math.max(n, this.scratch.length * 2));
    writeRecord(this.scratch, 0, kind, id, data);
    let written = 0;
    try {
      while (written < n) written += fs.writeSync(this.fd, this.scratch, written, n - written);
    } catch (e) {
      // A half-written record would hide every record after it: cut it off before reporting.
      fs.ftruncateSync(this.fd, this.size);
      throw e;
    }
    this.size += n;
    this.dirty = true;
    if (this.sync === "always") {
      fs.fdatasyncSync(this.fd);
      this.dirty = false;
    }
  }

  private load(): StoredSession {
    let log: Uint8Array;
    try {
      log = fs.readFileSync(this.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      log = new Uint8Array(0);
    }
    const r = replay(log);
    this.loaded = r.droppedBytes > 0 ? { file: this.file, droppedBytes: r.droppedBytes } : undefined;
    return r.session;
  }

  /** Rewrites the log as the live session's records: to a temporary file, made durable, then renamed over. */
  private compact(session: StoredSession): void {
    const bytes = snapshot(session);
    const tmp = `${this.file}.tmp`;
    const fd = fs.openSync(tmp, "w", PRIVATE_FILE);
    try {
      // A temporary file left over from a crash keeps its old mode: "w" only sets the mode it creates.
      fs.fchmodSync(fd, PRIVATE_FILE);
      fs.writeSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
    const dirFd = fs.openSync(this.dir, "r");
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
    this.size = this.compactedSize = bytes.length;
  }
}
