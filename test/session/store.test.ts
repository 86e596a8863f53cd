/**
 * Session stores on their own: MemoryStore and the Node FileStore keep exactly the session (outgoing
 * QoS 1/2 publishes as encoded packets, in publish order, with how far each got; incoming QoS 2 ids
 * between PUBREC and PUBREL), per client id, as copies. FileStore: the state survives a new instance,
 * compaction (on open and when the log has doubled) keeps the live state and bounds the file, a torn tail
 * is dropped and reported (lastRecovery), and the three sync modes call fdatasync when their documentation
 * says; with a Client, "flush" makes the records durable before the bytes that tell the broker go out.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client, FileStore, type FileStoreOptions, MemoryStore, type SessionStore } from "../../hosts/node/index.js";
import { CONNACK, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL } from "../../src/codec/index.js";
import { replay, snapshot } from "../../src/session/record-log.js";
import { FakeHost } from "../support/fake-host.js";
import { plain } from "../integration/faults/util.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "tinymqtt-session-store-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => path.join(root, `d${dirs++}`);

/** A recognisable fake PUBLISH of n bytes (stores keep bytes; they never parse them). */
function packet(id: number, n = 12, qos = 1): Uint8Array {
  const p = new Uint8Array(n);
  p[0] = 0x30 | (qos << 1);
  for (let i = 1; i < n; i++) p[i] = (id * 31 + i) & 0xff;
  return p;
}

interface Kind {
  name: string;
  /** A store, and a way to get "the same store after a restart" (a new FileStore on the same folder). */
  make(options?: FileStoreOptions): { store: SessionStore; reopen(): SessionStore };
}

const KINDS: Kind[] = [
  {
    name: "MemoryStore",
    make() {
      const store = new MemoryStore();
      return { store, reopen: () => store };
    },
  },
  {
    name: "FileStore",
    make(options) {
      const dir = freshDir();
      const store = new FileStore(dir, options);
      return {
        store,
        reopen: () => {
          store.close();
          return new FileStore(dir, options);
        },
      };
    },
  },
];

for (const kind of KINDS) {
  describe(`${kind.name}: session semantics`, () => {
    test("an unknown client id opens empty", () => {
      const { store } = kind.make();
      assert.deepEqual(store.open("nobody", 4), { outgoing: [], incoming: [] });
      store.close();
    });

    test("every call before open() throws instead of saving nowhere", () => {
      const { store } = kind.make();
      assert.throws(() => store.saveOutgoing(1, packet(1)), /open\(\) first/);
      assert.throws(() => store.saveIncoming(1), /open\(\) first/);
      store.close();
    });

    test("outgoing flows in publish order, released ones marked, removed ones gone; incoming ids until released", () => {
      const { store, reopen } = kind.make();
      store.open("c", 4);
      for (const id of [5, 1, 9, 3, 7]) store.saveOutgoing(id, packet(id, 10 + id, id % 2 === 0 ? 1 : 2));
      store.releaseOutgoing(9);
      store.releaseOutgoing(3);
      store.removeOutgoing(1);
      store.removeOutgoing(3); // a released flow that completed
      store.saveIncoming(7);
      store.saveIncoming(300);
      store.saveIncoming(65535);
      store.removeIncoming(300);
      // Calls about ids the store does not hold change nothing.
      store.releaseOutgoing(42);
      store.removeOutgoing(42);
      store.removeIncoming(42);
      const expected = {
        outgoing: [
          { id: 5, released: false, packet: Array.from(packet(5, 15, 2)) },
          { id: 9, released: true, packet: Array.from(packet(9, 19, 2)) },
          { id: 7, released: false, packet: Array.from(packet(7, 17, 2)) },
        ],
        incoming: [7, 65535],
      };
      const again = reopen();
      assert.deepEqual(plain(again.open("c", 4)), expected);
      again.close();
    });

    test("packets are copied in and out: the engine reuses its buffers, a caller may scribble on what open() returned", () => {
      const { store, reopen } = kind.make();
      store.open("c", 4);
      const buffer = packet(1, 40);
      store.saveOutgoing(1, buffer.subarray(0, 20));
      buffer.fill(0xee); // the engine's outbox ring moves on
      let s = store.open("c", 4);
      assert.deepEqual(Array.from(s.outgoing[0]!.packet), Array.from(packet(1, 40).subarray(0, 20)));
      s.outgoing[0]!.packet.fill(0);
      s.outgoing[0]!.released = true;
      s.incoming.push(99);
      const again = reopen();
      s = again.open("c", 4);
      assert.deepEqual(plain(s), { outgoing: [{ id: 1, released: false, packet: Array.from(packet(1, 40).subarray(0, 20)) }], incoming: [] });
      again.close();
    });

    test("sessions of different client ids stay apart; a store serves one client id at a time", () => {
      const { store, reopen } = kind.make();
      store.open("a", 4);
      store.saveOutgoing(1, packet(1));
      store.saveIncoming(11);
      assert.throws(() => store.open("b/with spaces/é", 4), /one store per client/);
      store.close();
      store.open("b/with spaces/é", 4);
      store.saveOutgoing(2, packet(2));
      store.close();
      store.open("a", 4);
      store.saveOutgoing(3, packet(3));
      store.close();
      const again = reopen();
      assert.deepEqual(again.open("a", 4).outgoing.map((p) => p.id), [1, 3]);
      assert.deepEqual(again.open("a", 4).incoming, [11]);
      again.close();
      assert.deepEqual(plain(again.open("b/with spaces/é", 4)), { outgoing: [{ id: 2, released: false, packet: Array.from(packet(2)) }], incoming: [] });
      again.close();
    });

    test("a flow saved again under its id replaces the old record (its PUBLISH re-armed, not released)", () => {
      const { store, reopen } = kind.make();
      store.open("c", 4);
      store.saveOutgoing(4, packet(4, 12, 2));
      store.releaseOutgoing(4);
      store.saveOutgoing(4, packet(4, 14, 2));
      const again = reopen();
      assert.deepEqual(plain(again.open("c", 4)).outgoing, [{ id: 4, released: false, packet: Array.from(packet(4, 14, 2)) }]);
      again.close();
    });

    test("close() is idempotent and flush() after it does nothing", () => {
      const { store } = kind.make();
      store.open("c", 4);
      store.saveOutgoing(1, packet(1));
      store.close();
      store.close();
      store.flush();
    });
  });
}

describe("FileStore: the file", () => {
  test("one file per client id, named safely inside the folder", () => {
    const dir = freshDir();
    const store = new FileStore(dir);
    store.open("../../etc/passwd", 4);
    store.saveIncoming(1);
    store.close();
    store.open("a b", 4);
    store.close();
    const names = fs.readdirSync(dir).sort();
    assert.deepEqual(names, ["..%2F..%2Fetc%2Fpasswd.session", "a%20b.session"]);
  });

  test("long client ids (MQTT allows up to 65535 bytes; 100 CJK characters is 300) still get a file",
    () => {
      const dir = freshDir();
      for (const id of ["x".repeat(300), "温度传感器".repeat(20)]) {
        const store = new FileStore(dir);
        store.open(id, 4);
        store.saveIncoming(3);
        store.close();
        const again = new FileStore(dir);
        assert.deepEqual(again.open(id, 4).incoming, [3]);
        again.close();
      }
    });

  test("open() compacts: the file holds only the live state's records, and loads the same", () => {
    const dir = freshDir();
    const store = new FileStore(dir);
    store.open("c", 4);
    for (let id = 1; id <= 200; id++) store.saveOutgoing(id, packet(id, 50, 2));
    for (let id = 1; id <= 200; id++) if (id % 10 !== 0) store.removeOutgoing(id);
    store.releaseOutgoing(20);
    store.saveIncoming(5);
    store.saveIncoming(6);
    store.removeIncoming(5);
    store.close();
    const file = path.join(dir, "c.session");
    const before = fs.statSync(file).size;
    const live = replay(fs.readFileSync(file)).session;
    const again = new FileStore(dir);
    const opened = again.open("c", 4);
    assert.deepEqual(plain(opened), plain(live));
    assert.deepEqual(opened.outgoing.map((p) => p.id), [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 200]);
    assert.equal(opened.outgoing[1]!.released, true);
    assert.deepEqual(opened.incoming, [6]);
    const after = fs.statSync(file).size;
    assert.equal(after, snapshot(live).length, "the compacted file is exactly the live state's records");
    assert.ok(after < before / 5, `compacted ${before} -> ${after} bytes`);
    assert.equal(again.lastRecovery, undefined);
    assert.equal(fs.existsSync(`${file}.tmp`), false, "no temporary file is left behind");
    again.close();
  });

  test("a long-running store compacts itself at flush() once the log has doubled: bounded file, live state kept in order", () => {
    const dir = freshDir();
    const file = path.join(dir, "c.session");
    const store = new FileStore(dir, { compactAfterBytes: 4096, sync: "none" });
    store.open("c", 4);
    // A sliding window of 30 flows over 3000 publishes, as a steady publisher keeps; flush() as the client does.
    const live: number[] = [];
    let biggest = 0;
    let compactions = 0;
    let last = 0;
    for (let n = 1; n <= 3000; n++) {
      const id = ((n - 1) % 65535) + 1;
      store.saveOutgoing(id, packet(id, 40, n % 2 === 0 ? 1 : 2));
      live.push(id);
      if (n % 2 === 1 && n % 3 === 0) store.releaseOutgoing(id);
      if (live.length > 30) store.removeOutgoing(live.shift()!);
      if (n % 7 === 0) store.flush();
      const size = fs.statSync(file).size;
      if (size < last) compactions++;
      last = size;
      biggest = Math.max(biggest, size);
    }
    store.close();
    assert.ok(compactions >= 5, `compacted ${compactions} times`);
    const liveBytes = snapshot(replay(fs.readFileSync(file)).session).length;
    assert.ok(biggest <= 2 * Math.max(4096, liveBytes) + 7 * 3 * 60, `the file peaked at ${biggest} bytes`);
    const again = new FileStore(dir);
    const s = again.open("c", 4);
    assert.deepEqual(s.outgoing.map((p) => p.id), live, "the live flows, in publish order");
    for (const p of s.outgoing) {
      const n = p.id; // ids 1..3000 here equal the publish number
      assert.equal(p.released, n % 2 === 1 && n % 3 === 0, `released flag of ${n}`);
      assert.deepEqual(Array.from(p.packet), Array.from(packet(n, 40, n % 2 === 0 ? 1 : 2)));
    }
    again.close();
  });

  test("a torn last record is dropped and reported by lastRecovery; the file is repaired so later records count", () => {
    const dir = freshDir();
    const file = path.join(dir, "c.session");
    const store = new FileStore(dir);
    store.open("c", 4);
    store.saveOutgoing(1, packet(1, 30));
    store.saveOutgoing(2, packet(2, 30));
    store.close();
    const full = fs.readFileSync(file);
    fs.writeFileSync(file, full.subarray(0, full.length - 5));
    const again = new FileStore(dir);
    assert.deepEqual(again.open("c", 4).outgoing.map((p) => p.id), [1]);
    assert.deepEqual(again.lastRecovery, { file, droppedBytes: 30 + 11 - 5 });
    again.saveOutgoing(3, packet(3, 30));
    again.close();
    const third = new FileStore(dir);
    assert.deepEqual(third.open("c", 4).outgoing.map((p) => p.id), [1, 3]);
    assert.equal(third.lastRecovery, undefined, "nothing damaged this time");
    third.close();
  });

  test("lastRecovery still describes the last open() after a compaction at flush()", () => {
    const dir = freshDir();
    const file = path.join(dir, "c.session");
    const store = new FileStore(dir, { compactAfterBytes: 512 });
    store.open("c", 4);
    store.saveOutgoing(1, packet(1, 30));
    store.close();
    fs.appendFileSync(file, new Uint8Array([1, 0, 2, 0, 0])); // a torn header
    const again = new FileStore(dir, { compactAfterBytes: 512 });
    again.open("c", 4);
    assert.equal(again.lastRecovery?.droppedBytes, 5);
    for (let id = 2; id < 40; id++) {
      again.saveOutgoing(id, packet(id, 30));
      again.removeOutgoing(id);
    }
    again.flush(); // the log has passed 512 bytes and doubled: compacts
    assert.ok(fs.statSync(file).size < 100, "compacted");
    assert.equal(again.lastRecovery?.droppedBytes, 5, "what the last open() found");
    again.close();
  });

  test("a temporary file left by a compaction cut short is ignored and replaced", () => {
    const dir = freshDir();
    const file = path.join(dir, "c.session");
    const store = new FileStore(dir);
    store.open("c", 4);
    store.saveIncoming(9);
    store.close();
    fs.writeFileSync(`${file}.tmp`, "garbage from a crash in the middle of a compaction");
    const again = new FileStore(dir);
    assert.deepEqual(again.open("c", 4), { outgoing: [], incoming: [9] });
    assert.equal(fs.existsSync(`${file}.tmp`), false);
    again.close();
  });
});

describe("FileStore: privacy (the log holds unacknowledged messages' topics and payloads)", () => {
  const mode = (p: string): number => fs.statSync(p).mode & 0o777;

  test("a folder it creates is 0700 and its log 0600, whatever the umask", () => {
    const dir = path.join(freshDir(), "nested");
    const umask = process.umask(0o000);
    try {
      const store = new FileStore(dir);
      store.open("private", 4);
      store.saveOutgoing(1, packet(1));
      store.flush();
      assert.equal(mode(dir).toString(8), "700");
      assert.equal(mode(path.dirname(dir)).toString(8), "700", "a parent it creates too");
      assert.equal(mode(path.join(dir, "private.session")).toString(8), "600");
      store.close();
    } finally {
      process.umask(umask);
    }
  });

  test("a log written before the rule (folder 0755, file 0644) still loads, and becomes 0600", () => {
    const dir = freshDir();
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    const file = path.join(dir, "old.session");
    fs.writeFileSync(file, snapshot({ version: 4, outgoing: [{ id: 7, packet: packet(7, 20), released: false }], incoming: [9] }));
    fs.chmodSync(file, 0o644);
    const store = new FileStore(dir);
    const loaded = store.open("old", 4);
    assert.deepEqual(loaded.outgoing.map((o) => o.id), [7]);
    assert.deepEqual(loaded.incoming, [9]);
    assert.equal(mode(file).toString(8), "600");
    store.close();
  });

  for (const shared of [0o775, 0o777, 0o1777]) {
    test(`a folder other users can write (mode ${shared.toString(8)}) is refused with a clear error, and nothing is written`, () => {
      const dir = freshDir();
      fs.mkdirSync(dir);
      fs.chmodSync(dir, shared);
      assert.throws(() => new FileStore(dir), (e: Error) => /writable by other users/.test(e.message) && e.message.includes(dir));
      assert.deepEqual(fs.readdirSync(dir), []);
    });
  }

  test("a folder owned by another user is refused", { skip: process.getuid?.() !== 0 && "needs root to make one" }, () => {
    const dir = freshDir();
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.chownSync(dir, 12345, 12345);
    assert.throws(() => new FileStore(dir), /belongs to user 12345/);
  });
});

describe("FileStore: failures and sharing", () => {
  test("an append cut short by a write error (disk full) does not hide the records written after it",
    () => {
      const dir = freshDir();
      const store = new FileStore(dir);
      store.open("c", 4);
      store.saveOutgoing(1, packet(1, 40));
      const original = fs.writeSync;
      let calls = 0;
      // The next record: half of it is written, then the disk is full.
      fs.writeSync = ((fd: number, buffer: Uint8Array, offset?: number, length?: number) => {
        calls++;
        if (calls === 1) return original(fd, buffer, offset, Math.floor((length ?? buffer.length) / 2));
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      }) as typeof fs.writeSync;
      try {
        assert.throws(() => store.saveOutgoing(2, packet(2, 40)), /ENOSPC/);
      } finally {
        fs.writeSync = original;
      }
      // Space is back; the store goes on, and these records are reported durable to the engine.
      store.saveOutgoing(3, packet(3, 40));
      store.saveIncoming(7);
      store.close();
      const again = new FileStore(dir);
      const s = again.open("c", 4);
      assert.deepEqual(s.outgoing.map((p) => p.id), [1, 3], "records written after the failed one survive");
      assert.deepEqual(s.incoming, [7]);
      again.close();
    });

  test("one FileStore given to two clients is refused clearly rather than mixing their sessions",
    () => {
      const dir = freshDir();
      const shared = new FileStore(dir);
      const host = new FakeHost();
      host.onLink = (link) => {
        link.accept();
        link.onPacket = (p, l) => { if (p.name === "CONNECT") l.send({ type: CONNACK, sessionPresent: false, reasonCode: 0 }); };
      };
      const a = new Client({ host, clientId: "device-a", cleanSession: false, store: shared });
      assert.throws(() => new Client({ host, clientId: "device-b", cleanSession: false, store: shared }), /one store per client/);
      a.publish("t/a", "from a", 1); // queued: not connected
      shared.close();
      const check = new FileStore(dir);
      const sa = check.open("device-a", 4);
      check.close();
      const sb = check.open("device-b", 4);
      check.close();
      assert.equal(sa.outgoing.length, 1, "device-a's publish is in device-a's session");
      assert.equal(sb.outgoing.length, 0, "nothing of device-a's in device-b's session");
    });
});

describe("FileStore: sync modes", () => {
  /** Counts fdatasync calls made through node:fs while fn runs (FileStore calls fs.fdatasyncSync). */
  function countingSyncs<T>(fn: (count: () => number) => T): T {
    const original = fs.fdatasyncSync;
    let n = 0;
    fs.fdatasyncSync = ((fd: number) => {
      n++;
      original(fd);
    }) as typeof fs.fdatasyncSync;
    try {
      return fn(() => n);
    } finally {
      fs.fdatasyncSync = original;
    }
  }

  test('"always": one fdatasync per record', () => {
    countingSyncs((count) => {
      const store = new FileStore(freshDir(), { sync: "always" });
      store.open("c", 4);
      const base = count();
      store.saveOutgoing(1, packet(1));
      store.releaseOutgoing(1);
      store.saveIncoming(4);
      assert.equal(count() - base, 3);
      store.flush();
      assert.equal(count() - base, 3, "nothing left to sync at flush()");
      store.close();
    });
  });

  test('"flush" (the default): none per record, one per flush() with something new, none when nothing changed', () => {
    countingSyncs((count) => {
      const store = new FileStore(freshDir());
      store.open("c", 4);
      const base = count();
      for (let id = 1; id <= 10; id++) store.saveOutgoing(id, packet(id));
      assert.equal(count() - base, 0);
      store.flush();
      assert.equal(count() - base, 1);
      store.flush();
      assert.equal(count() - base, 1);
      store.removeOutgoing(1);
      store.close();
      assert.equal(count() - base, 2, "close() flushes");
    });
  });

  test('"none": never', () => {
    countingSyncs((count) => {
      const store = new FileStore(freshDir(), { sync: "none" });
      store.open("c", 4);
      const base = count();
      for (let id = 1; id <= 10; id++) store.saveOutgoing(id, packet(id));
      store.flush();
      store.close();
      assert.equal(count() - base, 0);
    });
  });

  test('"flush" with a Client: every record is synced before the bytes that tell the broker about it are written', () => {
    const host = new FakeHost();
    const events: string[] = [];
    const inner = new FileStore(freshDir());
    // A wrapper logging each call, so each link write can see whether every record before it was synced.
    const store: SessionStore = {
      open: (id) => inner.open(id, 4),
      saveOutgoing: (id, p) => { events.push(`save ${id}`); inner.saveOutgoing(id, p); },
      releaseOutgoing: (id) => { events.push(`release ${id}`); inner.releaseOutgoing(id); },
      removeOutgoing: (id) => { events.push(`remove ${id}`); inner.removeOutgoing(id); },
      saveIncoming: (id) => { events.push(`in ${id}`); inner.saveIncoming(id); },
      removeIncoming: (id) => { events.push(`out ${id}`); inner.removeIncoming(id); },
      flush: () => inner.flush(),
      close: () => inner.close(),
    };
    let synced = 0; // events.length at the last fdatasync
    let writes = 0;
    const violations: string[] = [];
    host.onLink = (link) => {
      const write = link.write.bind(link);
      link.write = (bytes, offset, length) => {
        writes++;
        if (synced < events.length) violations.push(`a write with unsynced records: ${events.slice(synced).join(", ")}`);
        return write(bytes, offset, length);
      };
      link.accept();
      link.onPacket = (p, l) => {
        if (p.name === "CONNECT") l.send({ type: CONNACK, sessionPresent: false, reasonCode: 0 });
        if (p.name === "PUBLISH" && p.qos === 1) l.send({ type: PUBACK, packetId: p.packetId! });
        if (p.name === "PUBLISH" && p.qos === 2) l.send({ type: PUBREC, packetId: p.packetId! });
        if (p.name === "PUBREL") l.send({ type: PUBCOMP, packetId: p.packetId! });
        if (p.name === "PUBLISH") l.send({ type: PUBLISH, topic: "in", payload: new Uint8Array([1]), qos: 2, retain: false, dup: false, packetId: 100 + (p.packetId! % 50) });
        if (p.name === "PUBREC") l.send({ type: PUBREL, packetId: p.packetId! });
      };
    };
    const original = fs.fdatasyncSync;
    fs.fdatasyncSync = ((fd: number) => {
      synced = events.length;
      original(fd);
    }) as typeof fs.fdatasyncSync;
    try {
      const client = new Client({ host, clientId: "sync", cleanSession: false, store });
      void client.connect("broker", 1883);
      client.loopStart();
      host.advance(10);
      for (let i = 0; i < 20; i++) {
        client.publish("t", `m${i}`, ((i % 2) + 1) as 1 | 2);
        if (i % 3 === 0) host.advance(1);
      }
      host.advance(100);
      client.disconnect();
      host.advance(100);
    } finally {
      fs.fdatasyncSync = original;
    }
    assert.deepEqual(violations, []);
    assert.ok(writes > 5, `${writes} writes`);
    assert.equal(events.filter((e) => e.startsWith("remove")).length, 20, `every flow completed: ${events.join(", ")}`);
    assert.ok(events.some((e) => e.startsWith("in ")) && events.some((e) => e.startsWith("out ")), "incoming QoS 2 recorded too");
    inner.close();
  });
});
