/**
 * The outbox: every QoS 1/2 PUBLISH from publish() until its flow completes, kept as its encoded bytes
 * (the retransmit record is the packet itself, as in MQTT-C) in one fixed byte log, plus the packet ids
 * of SUBSCRIBE/UNSUBSCRIBE awaiting their acknowledgements.
 *
 * A record is a prefix in the log and, for a packet larger than the engine's output, the rest of it by
 * reference: the publisher's own payload (or a packet a session store loaded), never copied, kept until
 * the flow completes so that a resend after a lost link sends it whole. The log then holds only the
 * header; the references sit in one array made at the first such record.
 *
 * Records are appended in publish order and their bytes reclaimed from the front once done. A flow the
 * broker leaves unfinished at the front would hold every position and byte behind it, completed or not;
 * so when the log runs out of either while completed records lie behind the front, compact() closes the
 * gaps (in place, order kept) and the log is full (MQTT_ERR_QUEUE_SIZE) only when the unfinished flows
 * themselves fill it. Log positions run head <= cursor <= tail: records before the cursor went out on this
 * connection, records from it on wait for room in the in-flight window. After a reconnect, rewind() moves
 * the cursor back to the head so every unfinished flow is resumed in its original order [MQTT-4.6.0-1].
 *
 * Packet ids come from one PacketIdTable for publishes and (un)subscribes alike, so none is reused while
 * any of them is in use; per-id state lives in typed arrays indexed by the table's dense slot.
 */
import { Arena } from "../buffers/arena.js";
import { ByteRing, RING_FULL } from "../buffers/byte-ring.js";
import { NO_PACKET_ID, PacketIdTable } from "../buffers/packet-id-table.js";

export const FREE = 0;
/** A publish not yet sent on any connection. */
export const QUEUED = 1;
export const WAIT_PUBACK = 2;
export const WAIT_PUBREC = 3;
export const WAIT_PUBCOMP = 4;
export const WAIT_SUBACK = 5;
export const WAIT_UNSUBACK = 6;

/** The id slot of a completed record: no slot, as a table holds at most 65535 (0..65534). */
const DONE = 0xffff;

export class Outbox {
  readonly ids: PacketIdTable;
  readonly store: ByteRing;
  /**
   * Per id slot, in one array (each typed array costs five XS slots of heap whatever its length): at [slot]
   * the sequence number of its record, at [capacity + slot] when the last packet of its flow went out.
   * Only this class writes them, and the flow states: every change of a flow's state is one of its methods.
   */
  private readonly seqAndSentAt: Float64Array;
  /**
   * Records are numbered by ever-increasing sequence numbers (record n lives at index n % capacity), so
   * head <= cursor <= tail compare as plain numbers, full and empty never look alike. Record i's bytes are
   * store.bytes[spans[2i], spans[2i] + spans[2i + 1]).
   */
  private readonly spans: Uint32Array;
  /**
   * Two halves in one array: at [i] for record i, its flow's id slot, or DONE once the flow has completed;
   * at [capacity + slot], the flow state of id slot `slot` (FREE, QUEUED, WAIT_*).
   */
  private readonly slotAtAndState: Uint16Array;
  /** Per id slot: the rest of the packet after its prefix in the log, for a record kept partly by reference. */
  private rest: Array<Uint8Array | undefined> | undefined = undefined;
  private head = 0;
  private cursor = 0;
  private tail = 0;
  /** Unfinished flows, in total and sent on this connection. */
  pending = 0;
  inflight = 0;
  /** Where open() reserved room for the next record. */
  writeOffset = 0;

  /** `arena`: carve every array out of it (Outbox.bytesFor() bytes) instead of allocating them. */
  constructor(maxMessages: number, storeBytes: number, arena?: Arena) {
    const a = arena ?? new Arena(Outbox.bytesFor(maxMessages, storeBytes));
    this.ids = new PacketIdTable(maxMessages, a);
    this.store = new ByteRing(storeBytes, a);
    this.seqAndSentAt = a.f64(2 * maxMessages);
    this.spans = a.u32(2 * maxMessages);
    this.slotAtAndState = a.u16(2 * maxMessages);
  }

  static bytesFor(maxMessages: number, storeBytes: number): number {
    const n = maxMessages;
    return PacketIdTable.bytesFor(n) + ByteRing.bytesFor(storeBytes) +
      Arena.span(2 * n, 8) + Arena.span(2 * n, 4) + Arena.span(2 * n, 2);
  }

  get capacity(): number {
    return this.ids.capacity;
  }

  /** Flows not yet sent on this connection. */
  get unsent(): number {
    return this.pending - this.inflight;
  }

  /** A packet id for a SUBSCRIBE or UNSUBSCRIBE, or NO_PACKET_ID when every id slot is taken. */
  takeControlId(state: typeof WAIT_SUBACK | typeof WAIT_UNSUBACK): number {
    const id = this.ids.allocate();
    if (id !== NO_PACKET_ID) this.slotAtAndState[this.ids.capacity + this.ids.slotOf(id)] = state;
    return id;
  }

  /**
   * Takes a packet id and `length` bytes of room for a PUBLISH: encode it at writeOffset with that id,
   * then append(). NO_PACKET_ID when ids, log positions or bytes have run out.
   */
  open(length: number): number {
    if (this.ids.size === this.ids.capacity) return NO_PACKET_ID;
    if (this.tail - this.head === this.ids.capacity) this.compact();
    let offset = this.store.reserve(length);
    if (offset === RING_FULL && this.store.capacity - this.liveBytes() >= length) {
      this.compact();
      offset = this.store.reserve(length);
    }
    if (offset === RING_FULL) return NO_PACKET_ID;
    const id = this.ids.allocate();
    if (id === NO_PACKET_ID) return NO_PACKET_ID;
    this.writeOffset = offset;
    return id;
  }

  /** `rest`: the packet's bytes after the `length` written at writeOffset, kept by reference. */
  append(id: number, length: number, rest?: Uint8Array): void {
    const slot = this.ids.slotOf(id);
    if (rest !== undefined) (this.rest ??= new Array<Uint8Array | undefined>(this.ids.capacity).fill(undefined))[slot] = rest;
    const seq = this.tail++;
    const i = seq % this.ids.capacity;
    this.store.commit(length);
    this.spans[2 * i] = this.writeOffset;
    this.spans[2 * i + 1] = length;
    this.slotAtAndState[i] = slot;
    this.seqAndSentAt[slot] = seq;
    this.slotAtAndState[this.ids.capacity + slot] = QUEUED;
    this.pending++;
  }

  /**
   * Appends a flow saved by a session store, under its own packet id, as already sent once (so it goes
   * out again with DUP, or as PUBREL when released). False when it does not fit.
   */
  restore(id: number, packet: Uint8Array, released: boolean, byReferenceAbove: number): boolean {
    if (this.tail - this.head === this.ids.capacity || packet.length === 0) return false;
    // A packet above the output's size stays where the store loaded it, but for its first byte (the
    // flags a resend changes).
    const prefix = packet.length > byReferenceAbove ? 1 : packet.length;
    const offset = this.store.reserve(prefix);
    if (offset === RING_FULL || !this.ids.claim(id)) return false;
    this.store.bytes.set(packet.subarray(0, prefix), offset);
    this.writeOffset = offset;
    this.append(id, prefix, prefix < packet.length ? packet.subarray(prefix) : undefined);
    const qos = (packet[0]! >> 1) & 3;
    this.slotAtAndState[this.ids.capacity + this.ids.slotOf(id)] = released ? WAIT_PUBCOMP : qos === 1 ? WAIT_PUBACK : WAIT_PUBREC;
    return true;
  }

  /** The flow state of id slot `slot` (FREE, QUEUED, WAIT_*). */
  stateOf(slot: number): number {
    return this.slotAtAndState[this.ids.capacity + slot]!;
  }

  /** When the last packet of the flow in `slot` went out (the host's milliseconds). */
  sentAtOf(slot: number): number {
    return this.seqAndSentAt[this.ids.capacity + slot]!;
  }

  /** PUBREC arrived for the QoS 2 flow in `slot` and PUBREL goes out at `now`: it waits for PUBCOMP. */
  released(slot: number, now: number): void {
    this.slotAtAndState[this.ids.capacity + slot] = WAIT_PUBCOMP;
    this.seqAndSentAt[this.ids.capacity + slot] = now;
  }

  /** The broker lost the session holding the PUBREC'd flow in `slot`: it starts again from PUBLISH. */
  restartFromPublish(slot: number): void {
    this.slotAtAndState[this.ids.capacity + slot] = WAIT_PUBREC;
  }

  /** The flow in `slot` went out again (a 3.x retry) at `now`, or was due and is retried a whole interval later. */
  retriedAt(slot: number, now: number): void {
    this.seqAndSentAt[this.ids.capacity + slot] = now;
  }

  /** Sets DUP in the stored PUBLISH of `slot`, as a re-send must [MQTT-3.3.1-1]. */
  markDuplicate(slot: number): void {
    const at = this.recordOffset(slot);
    const bytes = this.store.bytes;
    bytes[at] = bytes[at]! | 0x08;
  }

  /** What the flow in `slot` waits for once its PUBLISH has gone out: WAIT_PUBACK (QoS 1) or WAIT_PUBREC (QoS 2). */
  awaitedAfterPublish(slot: number): number {
    return ((this.store.bytes[this.recordOffset(slot)]! >> 1) & 3) === 1 ? WAIT_PUBACK : WAIT_PUBREC;
  }

  /** The id slot of the next flow to send on this connection, or -1 when all have gone out. */
  nextToSend(): number {
    for (; this.cursor < this.tail; this.cursor++) {
      const i = this.cursor % this.ids.capacity;
      const slot = this.slotAtAndState[i]!;
      if (slot !== DONE) return slot;
    }
    return -1;
  }

  /** Moves the cursor past the flow nextToSend() returned, now in `state`. */
  markSent(slot: number, state: number, now: number): void {
    this.slotAtAndState[this.ids.capacity + slot] = state;
    this.seqAndSentAt[this.ids.capacity + slot] = now;
    this.inflight++;
    this.cursor++;
  }

  /** The encoded PUBLISH of a flow: store.bytes[recordOffset, recordOffset + prefixLength), then restOf(). */
  recordOffset(slot: number): number {
    return this.spans[2 * (this.seqAndSentAt[slot]! % this.ids.capacity)]!;
  }

  /** The bytes of the record kept in the log: all of the packet unless restOf() holds the rest. */
  prefixLength(slot: number): number {
    return this.spans[2 * (this.seqAndSentAt[slot]! % this.ids.capacity) + 1]!;
  }

  /** The packet's bytes after its prefix, held by reference; undefined when the log holds it all. */
  restOf(slot: number): Uint8Array | undefined {
    return this.rest === undefined ? undefined : this.rest[slot];
  }

  /** The whole packet's length. */
  recordLength(slot: number): number {
    return this.prefixLength(slot) + (this.restOf(slot)?.length ?? 0);
  }

  /** The whole packet as one array, for a session store: a view of the log, or a new array joining prefix and rest. */
  packetOf(slot: number): Uint8Array {
    const at = this.recordOffset(slot);
    const prefix = this.store.bytes.subarray(at, at + this.prefixLength(slot));
    const rest = this.restOf(slot);
    if (rest === undefined) return prefix;
    const whole = new Uint8Array(prefix.length + rest.length);
    whole.set(prefix);
    whole.set(rest, prefix.length);
    return whole;
  }

  /**
   * Ends flow `id` (publish or (un)subscribe) and frees its id; false when no such flow is open. `slot`:
   * the id's slot, when the caller has looked it up already.
   */
  complete(id: number, slot = this.ids.slotOf(id)): boolean {
    if (slot < 0) return false;
    const st = this.slotAtAndState[this.ids.capacity + slot]!;
    this.slotAtAndState[this.ids.capacity + slot] = FREE;
    if (this.rest !== undefined) this.rest[slot] = undefined;
    this.ids.release(id);
    if (st === WAIT_SUBACK || st === WAIT_UNSUBACK) return true;
    const seq = this.seqAndSentAt[slot]!;
    if (seq < this.cursor) this.inflight--;
    this.pending--;
    this.slotAtAndState[seq % this.ids.capacity] = DONE;
    while (this.head < this.tail && this.slotAtAndState[this.head % this.ids.capacity] === DONE) {
      this.store.consume(this.spans[2 * (this.head % this.ids.capacity) + 1]!);
      this.head++;
    }
    if (this.cursor < this.head) this.cursor = this.head;
    return true;
  }

  /**
   * Bytes of the log held by unfinished flows; the rest of its length is completed records not reclaimed
   * yet. Counted when needed (the log is full) rather than kept: a field costs every client a slot on XS.
   */
  private liveBytes(): number {
    let bytes = 0;
    for (let seq = this.head; seq < this.tail; seq++) {
      const i = seq % this.ids.capacity;
      if (this.slotAtAndState[i] !== DONE) bytes += this.spans[2 * i + 1]!;
    }
    return bytes;
  }

  /**
   * Drops the records of flows completed behind an unfinished one: the live records take consecutive
   * positions from the head on and their bytes are packed in the log, in publish order, so that every free
   * position and byte can be used. O(records + live bytes); only when the log has run out of either.
   */
  private compact(): void {
    const n = this.ids.capacity;
    let to = this.head;
    let cursor = this.head;
    for (let seq = this.head; seq < this.tail; seq++) {
      const from = seq % n;
      const slot = this.slotAtAndState[from]!;
      if (slot === DONE) continue;
      // Moving down in order: position `to` is free or was already moved (to <= seq).
      const at = to % n;
      this.slotAtAndState[at] = slot;
      this.spans[2 * at] = this.spans[2 * from]!;
      this.spans[2 * at + 1] = this.spans[2 * from + 1]!;
      this.seqAndSentAt[slot] = to;
      if (seq < this.cursor) cursor = to + 1;
      to++;
    }
    this.tail = to;
    this.cursor = cursor;
    this.store.compact(this.spans, this.head % n, to - this.head);
  }

  /** Whether the flow in `slot` has gone out on this connection (and so may be retried). */
  isSent(slot: number): boolean {
    return this.seqAndSentAt[slot]! < this.cursor;
  }

  /** Calls fn for every unfinished publish flow, in publish order. */
  forEachPending(fn: (id: number, slot: number) => void): void {
    for (let seq = this.head; seq < this.tail; seq++) {
      const i = seq % this.ids.capacity;
      const slot = this.slotAtAndState[i]!;
      if (slot === DONE) continue;
      fn(this.ids.idAt(slot), slot);
    }
  }

  /** Frees the ids of SUBSCRIBE/UNSUBSCRIBE whose acknowledgement will never come (the link is gone). */
  dropControlIds(fn: (id: number) => void): void {
    for (let slot = 0; slot < this.ids.capacity; slot++) {
      const st = this.slotAtAndState[this.ids.capacity + slot];
      if (st !== WAIT_SUBACK && st !== WAIT_UNSUBACK) continue;
      const id = this.ids.idAt(slot);
      this.slotAtAndState[this.ids.capacity + slot] = FREE;
      this.ids.release(id);
      fn(id);
    }
  }

  /** For a new connection: every unfinished flow is to be sent again, in order. */
  rewind(): void {
    this.cursor = this.head;
    this.inflight = 0;
  }

  clear(): void {
    this.ids.clear();
    this.store.clear();
    this.slotAtAndState.fill(FREE, this.ids.capacity);
    this.rest?.fill(undefined);
    this.head = this.tail = this.cursor = 0;
    this.pending = this.inflight = 0;
  }
}
