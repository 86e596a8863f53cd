/**
 * The Moddable FlashStore (hosts/moddable/flash-store.ts) on a fake flash partition with NOR semantics
 * (test/support/fake-flash.ts: erase sets 0xFF, writes only clear bits): the session survives a restart
 * exactly as a model of the SessionStore semantics says (order included), compaction between the two
 * halves keeps it as the log fills them again and again, and a power cut at every single erase or write,
 * during appends, compactions and the recovery itself, leaves the state before or after the operation
 * it interrupted, never anything else, and never a write over unerased flash.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { FlashStore } from "../../../hosts/moddable/flash-store.js";
import type { StoredSession } from "../../../src/session/store.js";
import { FakeFlash, PowerCut } from "../../support/fake-flash.js";

const BLOCK = 256;

/** A recognisable fake PUBLISH (stores keep bytes; they never parse them). */
function packet(id: number, n: number): Uint8Array {
  const p = new Uint8Array(n);
  p[0] = 0x32;
  for (let i = 1; i < n; i++) p[i] = (id * 31 + i * 7) & 0xff;
  return p;
}

type Op =
  | { op: "open"; client: string; version: number }
  | { op: "close" }
  | { op: "save"; id: number; packet: Uint8Array }
  | { op: "release"; id: number }
  | { op: "remove"; id: number }
  | { op: "in"; id: number }
  | { op: "inRemove"; id: number };

/** What a SessionStore must give back after a restart. */
class Model {
  out = new Map<number, { released: boolean; packet: Uint8Array }>();
  incoming = new Set<number>();
  version: number | undefined;

  static of(s: StoredSession, version: number): Model {
    const m = new Model();
    for (const p of s.outgoing) m.out.set(p.id, { released: p.released, packet: p.packet });
    for (const id of s.incoming) m.incoming.add(id);
    m.version = version;
    return m;
  }

  apply(o: Op): void {
    switch (o.op) {
      case "open": this.version = o.version; break;
      case "close": break;
      case "save": this.out.set(o.id, { released: false, packet: o.packet.slice() }); break;
      case "release": { const p = this.out.get(o.id); if (p !== undefined) p.released = true; break; }
      case "remove": this.out.delete(o.id); break;
      case "in": this.incoming.add(o.id); break;
      case "inRemove": this.incoming.delete(o.id); break;
    }
  }

  state(): string {
    return show({
      outgoing: [...this.out].map(([id, p]) => ({ id, released: p.released, packet: p.packet })),
      incoming: [...this.incoming],
      version: this.version,
    });
  }
}

function show(s: StoredSession): string {
  return JSON.stringify({
    outgoing: s.outgoing.map((p) => `${p.id}${p.released ? "r" : ""}:${Buffer.from(p.packet).toString("hex")}`),
    incoming: s.incoming,
    version: s.outgoing.length > 0 ? s.version : undefined,
  });
}

function exec(store: FlashStore, o: Op): void {
  switch (o.op) {
    case "open": store.open(o.client, o.version); break;
    case "close": store.close(); break;
    case "save": store.saveOutgoing(o.id, o.packet); break;
    case "release": store.releaseOutgoing(o.id); break;
    case "remove": store.removeOutgoing(o.id); break;
    case "in": store.saveIncoming(o.id); break;
    case "inRemove": store.removeIncoming(o.id); break;
  }
}

/**
 * A client's life: QoS 1/2 flows and incoming QoS 2 ids coming and going, with packets of varied sizes,
 * at most 4 outgoing and 4 incoming live (so the live state fits half of a 4-block partition), restarts.
 */
function scenario(steps: number, seed: number): Op[] {
  let x = seed;
  const rand = (n: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const ops: Op[] = [{ op: "open", client: "sensor-1", version: 5 }];
  const out = new Map<number, boolean>();
  const inc = new Set<number>();
  let next = 1;
  for (let i = 0; i < steps; i++) {
    const r = rand(10);
    if (r === 0) {
      ops.push({ op: "close" }, { op: "open", client: "sensor-1", version: 5 });
    } else if (r <= 3 && out.size < 4) {
      const id = next++;
      out.set(id, false);
      ops.push({ op: "save", id, packet: packet(id, 8 + rand(40)) });
    } else if (r <= 5 && out.size > 0) {
      const ids = [...out.keys()];
      const id = ids[rand(ids.length)]!;
      if (!out.get(id) && rand(2) === 0) {
        out.set(id, true);
        ops.push({ op: "release", id });
      } else {
        out.delete(id);
        ops.push({ op: "remove", id });
      }
    } else if (r <= 7 && inc.size < 4) {
      const id = 1000 + rand(50);
      inc.add(id);
      ops.push({ op: "in", id });
    } else if (inc.size > 0) {
      const id = [...inc][0]!;
      inc.delete(id);
      ops.push({ op: "inRemove", id });
    } else if (out.size > 0) {
      // The same flow saved again (restarted from PUBLISH): keeps its place.
      const id = [...out.keys()][0]!;
      out.set(id, false);
      ops.push({ op: "save", id, packet: packet(id + 500, 8 + rand(40)) });
    }
  }
  return ops;
}

function reopen(flash: FakeFlash, client = "sensor-1", version = 5): { store: FlashStore; session: StoredSession } {
  const store = new FlashStore({ flash });
  return { store, session: store.open(client, version) };
}

describe("FlashStore", () => {
  test("needs two erase blocks; a fresh partition opens empty", () => {
    assert.throws(() => new FlashStore({ flash: new FakeFlash(BLOCK, 1) }), RangeError);
    const flash = new FakeFlash(BLOCK, 4);
    const { store, session } = reopen(flash);
    assert.deepEqual(session, { outgoing: [], incoming: [] });
    assert.equal(store.lastRecovery, undefined);
    assert.equal(flash.overwrites, 0);
  });

  test("save/release/remove/incoming round trip across a restart", () => {
    const flash = new FakeFlash(BLOCK, 4);
    const { store } = reopen(flash);
    const p1 = packet(1, 20);
    const p2 = packet(2, 30);
    const p3 = packet(3, 5);
    store.saveOutgoing(1, p1);
    store.saveOutgoing(2, p2);
    store.saveOutgoing(3, p3);
    p2.fill(0); // the store copied it
    store.releaseOutgoing(2);
    store.removeOutgoing(1);
    store.saveIncoming(7);
    store.saveIncoming(8);
    store.removeIncoming(7);
    store.flush();
    store.close();
    assert.throws(() => store.saveIncoming(9), /open\(\) first/);

    const erases = flash.erases;
    const again = reopen(flash.restart());
    assert.deepEqual(again.session, {
      outgoing: [
        { id: 2, released: true, packet: packet(2, 30) },
        { id: 3, released: false, packet: p3 },
      ],
      incoming: [8],
      version: 5,
    });
    assert.equal(again.store.lastRecovery, undefined);
    assert.equal(erases, 2, "one compaction (one half erased) on the first open");

    // A clean log is appended to on open, not compacted: restarts do not wear the flash.
    const f = flash.restart();
    for (let i = 0; i < 3; i++) reopen(f).store.close();
    assert.equal(f.erases, 0);
    assert.equal(f.overwrites, 0);
  });

  test("a model's life: many restarts and compactions keep the live state and its order", () => {
    const ops = scenario(1500, 7);
    const flash = new FakeFlash(BLOCK, 4);
    const model = new Model();
    let store = new FlashStore({ flash });
    for (const o of ops) {
      model.apply(o);
      if (o.op === "open") store = new FlashStore({ flash });
      exec(store, o);
    }
    assert.ok(flash.erases >= 40, `compacted many times (${flash.erases / 2} compactions)`);
    assert.equal(flash.overwrites, 0);
    assert.equal(show(reopen(flash.restart()).session), model.state());
  });

  test("compaction keeps publish order, a re-saved flow's place and released flags", () => {
    const flash = new FakeFlash(BLOCK, 4);
    const { store } = reopen(flash);
    store.saveOutgoing(10, packet(10, 40));
    store.saveOutgoing(11, packet(11, 40));
    store.saveOutgoing(12, packet(12, 40));
    store.releaseOutgoing(11);
    store.saveIncoming(5);
    for (let i = 0; i < 200; i++) {
      store.saveOutgoing(100 + (i % 50), packet(i, 30));
      store.removeOutgoing(100 + (i % 50));
    }
    store.saveOutgoing(10, packet(99, 12)); // restarted from PUBLISH: keeps its place
    assert.ok(flash.erases >= 20);
    const { session } = reopen(flash.restart());
    assert.deepEqual(session.outgoing.map((p) => [p.id, p.released]), [[10, false], [11, true], [12, false]]);
    assert.deepEqual(session.outgoing[0]!.packet, packet(99, 12));
    assert.deepEqual(session.incoming, [5]);
  });

  test("a power cut at every erase and write (appends, compactions, recovery) leaves the state before or after", () => {
    const ops = scenario(300, 11);
    const dry = new FakeFlash(BLOCK, 4);
    {
      let store = new FlashStore({ flash: dry });
      for (const o of ops) {
        if (o.op === "open") store = new FlashStore({ flash: dry });
        exec(store, o);
      }
    }
    const total = dry.operations;
    assert.ok(dry.erases >= 10, "the scenario compacts several times");
    let torn = 0;
    let cutsInRecovery = 0;
    for (let cut = 1; cut <= total; cut++) {
      const flash = new FakeFlash(BLOCK, 4);
      flash.cutAt = cut;
      const model = new Model();
      let store = new FlashStore({ flash });
      let before = "";
      let after = "";
      let interrupted: Op | undefined;
      for (const o of ops) {
        before = model.state();
        model.apply(o);
        after = model.state();
        if (o.op === "open") store = new FlashStore({ flash });
        try {
          exec(store, o);
        } catch (e) {
          assert.ok(e instanceof PowerCut, `cut ${cut}: ${String(e)}`);
          interrupted = o;
          break;
        }
      }
      assert.ok(interrupted !== undefined, `cut ${cut} happened`);
      assert.equal(flash.overwrites, 0, `cut ${cut}: no write over unerased flash`);

      // The restart: nothing thrown, the state before or after the interrupted operation.
      const restarted = flash.restart();
      const image = restarted.bytes.slice();
      const { store: recovered, session } = reopen(restarted);
      const got = show(session);
      assert.ok(got === before || got === after, `cut ${cut} in ${interrupted.op}: ${got}\n  before ${before}\n  after  ${after}`);
      if (recovered.lastRecovery !== undefined) {
        torn++;
        assert.ok(recovered.lastRecovery.droppedBytes > 0);
      }

      // The recovered log takes more records, and they survive another restart.
      const m2 = Model.of(session, 5);
      const more: Op[] = [
        { op: "save", id: 900, packet: packet(900, 33) },
        { op: "in", id: 901 },
        { op: "release", id: 900 },
      ];
      for (const o of more) {
        m2.apply(o);
        exec(recovered, o);
      }
      assert.equal(show(reopen(restarted.restart()).session), m2.state(), `cut ${cut}: appending after recovery`);
      assert.equal(restarted.overwrites, 0);

      // A second power cut during the recovery itself (it compacts when it found a torn record).
      for (let cut2 = 1; ; cut2++) {
        const again = new FakeFlash(BLOCK, image.length / BLOCK, image);
        again.cutAt = cut2;
        try {
          reopen(again);
          break;
        } catch (e) {
          assert.ok(e instanceof PowerCut);
          cutsInRecovery++;
        }
        const third = show(reopen(again.restart()).session);
        assert.equal(third, got, `cut ${cut}, then ${cut2} in recovery`);
      }
    }
    assert.ok(torn > 10, `torn records were found and reported (${torn})`);
    assert.ok(cutsInRecovery > 10, `recoveries were cut too (${cutsInRecovery})`);
  });

  test("lastRecovery reports the bytes of a torn record; the next open finds none", () => {
    const flash = new FakeFlash(BLOCK, 4);
    const { store } = reopen(flash);
    store.saveOutgoing(1, packet(1, 10));
    const p = new Uint8Array(40).fill(1);
    flash.cutAt = flash.operations + 1;
    assert.throws(() => store.saveOutgoing(2, p), PowerCut);
    const restarted = flash.restart();
    const first = reopen(restarted);
    assert.deepEqual(first.store.lastRecovery, { droppedBytes: (7 + 40 + 4) >> 1 });
    assert.deepEqual(first.session.outgoing.map((o) => o.id), [1]);
    const second = reopen(restarted.restart());
    assert.equal(second.store.lastRecovery, undefined);
  });

  test("a failed write is not written over: the next record goes to a compacted half", () => {
    const flash = new FakeFlash(BLOCK, 4);
    const { store } = reopen(flash);
    store.saveOutgoing(1, packet(1, 10));
    flash.cutAt = flash.operations + 1;
    assert.throws(() => store.saveOutgoing(2, packet(2, 40)), PowerCut);
    // The "device" did not restart: the same store goes on.
    store.saveOutgoing(3, packet(3, 10));
    assert.equal(flash.overwrites, 0);
    const { session } = reopen(flash.restart());
    assert.deepEqual(session.outgoing.map((o) => o.id), [1, 3]);
  });

  test("protocol version: a restart reports the version the packets were encoded for", () => {
    const flash = new FakeFlash(BLOCK, 4);
    reopen(flash, "c", 4).store.saveOutgoing(1, packet(1, 10));
    assert.equal(reopen(flash, "c", 5).session.version, 4);
    assert.equal(reopen(flash, "c", 5).session.version, 5);
  });

  test("one store per client id; the partition holds the last id's session", () => {
    const flash = new FakeFlash(BLOCK, 4);
    const { store } = reopen(flash, "a");
    store.saveIncoming(1);
    assert.throws(() => store.open("b", 5), /one store per client/);
    assert.deepEqual(store.open("a", 5).incoming, [1], "the same id takes over");
    store.close();
    assert.deepEqual(store.open("b", 5), { outgoing: [], incoming: [] });
    store.saveIncoming(2);
    store.close();
    assert.deepEqual(reopen(flash.restart(), "b").session.incoming, [2]);
    assert.deepEqual(reopen(flash.restart(), "a").session.incoming, [], "another id's session was replaced");
    assert.throws(() => new FlashStore({ flash }).open("x".repeat(600), 5), RangeError, "an id larger than a half");
  });

  test("a session larger than half the partition is refused, and what was saved stays", () => {
    const flash = new FakeFlash(BLOCK, 4);
    const { store } = reopen(flash);
    store.saveOutgoing(1, packet(1, 200));
    assert.throws(() => store.saveOutgoing(2, packet(2, 400)), RangeError);
    store.saveIncoming(3);
    const { session } = reopen(flash.restart());
    assert.deepEqual(session.outgoing.map((o) => o.id), [1]);
    assert.deepEqual(session.incoming, [3]);
  });
});
