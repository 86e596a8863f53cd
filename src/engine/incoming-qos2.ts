/**
 * Incoming QoS 2 packet ids from the moment their message is taken until the broker's PUBREL: what makes
 * delivery exactly once. A PUBLISH whose id is held here is a re-send of a message already delivered, to be
 * acknowledged again and not delivered; PUBREL frees the id for a new message.
 *
 * The ids live in a PacketIdTable of budget.maxIncomingQos2, which MQTT 5 advertises as Receive Maximum (a
 * broker that exceeds it commits a protocol error, 0x93, and the engine says so). MQTT 3.x cannot tell the
 * broker any limit, and brokers do exceed it: mosquitto 2.0.11 resuming a session ignores its own
 * max_inflight_messages. An id past the table still has to be remembered until its PUBREL, because once the
 * message is delivered a re-send after a lost link must be recognised. The alternatives, weighed:
 * - delivering it untracked (what the engine used to do) delivers it twice when the link drops before the
 *   broker has read our PUBREC;
 * - taking nothing (no delivery, no PUBREC) leaves the message with the broker, which under 3.1.1 re-sends
 *   only at a reconnect: it would wait for the next lost link. Reading nothing more until an id is freed
 *   deadlocks: the PUBRELs that would free one were sent after the broker read our PUBRECs, so they queue
 *   on the link behind the very PUBLISH we would be refusing to read.
 * So ids past the table go into a set that can hold every id there is, one bit each: 8 KiB, made at the
 * first such message (3.x only; most clients never need it) and never more, whatever the broker does. Which
 * of them the application has acknowledged (manualAck) takes another 8 KiB, made only when one is.
 *
 * A subclass of the table, its flags in one array, so that a client holds no more objects than before.
 */
import { Arena } from "../buffers/arena.js";
import { NO_PACKET_ID, PacketIdTable } from "../buffers/packet-id-table.js";

/** Bytes of a set of every packet id (0..65535), one bit each. */
const ID_SET_BYTES = 0x10000 / 8;

export class IncomingQos2 extends PacketIdTable {
  /**
   * [0, capacity): per table slot, 1 once the message's PUBREC may go out (the application acknowledged it,
   * or it never needed to). Then, once made: the overflow set, and after it the acknowledged bits of its ids.
   */
  private flags: Uint8Array;

  /** `arena`: carve the table and its flags out of it (IncomingQos2.bytesFor(capacity) bytes). */
  constructor(capacity: number, arena: Arena) {
    super(capacity, arena);
    this.flags = arena.u8(capacity);
  }

  static override bytesFor(capacity: number): number {
    return PacketIdTable.bytesFor(capacity) + Arena.span(capacity, 1);
  }

  /** Whether ids past the table have been held since the client was made (the set is kept once made). */
  get hasOverflowSet(): boolean {
    return this.flags.length > this.capacity;
  }

  /** Held, in the table or past it. */
  override has(id: number): boolean {
    return super.has(id) || this.overflowBit(0, id);
  }

  /**
   * Holds id, not held yet, until release(); `acked` when its PUBREC may go out without the application's
   * ack(). `overflow`: when the table is full, hold it past the table (3.x) rather than refuse (false).
   */
  hold(id: number, acked: boolean, overflow: boolean): boolean {
    if (this.claim(id)) {
      this.flags[this.slotOf(id)] = acked ? 1 : 0;
      return true;
    }
    if (!overflow) return false;
    this.growFlags(1);
    this.setOverflowBit(0, id, true);
    if (acked) this.acknowledge(id);
    return true;
  }

  /** The application acknowledged id (or a store says the broker had its PUBREC): PUBREC may be sent again. */
  acknowledge(id: number): void {
    const slot = this.slotOf(id);
    if (slot >= 0) this.flags[slot] = 1;
    else if (this.overflowBit(0, id)) {
      this.growFlags(2);
      this.setOverflowBit(1, id, true);
    }
  }

  isAcknowledged(id: number): boolean {
    const slot = this.slotOf(id);
    return slot >= 0 ? this.flags[slot] === 1 : this.overflowBit(1, id);
  }

  /** PUBREL: frees id, in the table or past it; false when it was not held. */
  override release(id: number): boolean {
    if (super.release(id)) return true;
    if (!this.overflowBit(0, id)) return false;
    this.setOverflowBit(0, id, false);
    this.setOverflowBit(1, id, false);
    return true;
  }

  /** Calls fn for every id held, the table's first. */
  forEachHeld(fn: (id: number) => void): void {
    for (let slot = 0; slot < this.capacity; slot++) {
      const id = this.idAt(slot);
      if (id !== NO_PACKET_ID) fn(id);
    }
    const { flags, capacity } = this;
    const end = Math.min(flags.length, capacity + ID_SET_BYTES);
    for (let at = capacity; at < end; at++) {
      for (let b = 0; flags[at] !== 0 && b < 8; b++) if ((flags[at]! >> b) & 1) fn((at - capacity) * 8 + b);
    }
  }

  /** Frees every id (the broker has no session); the overflow set stays made, emptied. */
  override clear(): void {
    super.clear();
    this.flags.fill(0);
  }

  /** Makes room for `sets` id sets after the table's flags (1: the overflow set; 2: its acknowledged bits too). */
  private growFlags(sets: 1 | 2): void {
    const length = this.capacity + sets * ID_SET_BYTES;
    if (this.flags.length >= length) return;
    const grown = new Uint8Array(length);
    grown.set(this.flags);
    this.flags = grown;
  }

  /** Bit `id` of id set `set` (0: held past the table, 1: acknowledged); false before the set is made. */
  private overflowBit(set: 0 | 1, id: number): boolean {
    const at = this.capacity + set * ID_SET_BYTES + (id >> 3);
    return at < this.flags.length && ((this.flags[at]! >> (id & 7)) & 1) === 1;
  }

  private setOverflowBit(set: 0 | 1, id: number, on: boolean): void {
    const at = this.capacity + set * ID_SET_BYTES + (id >> 3);
    if (at >= this.flags.length) return;
    this.flags[at] = on ? this.flags[at]! | (1 << (id & 7)) : this.flags[at]! & ~(1 << (id & 7));
  }
}
