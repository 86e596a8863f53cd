// The host the client uses inside xsnap-worker: links and timers bridged to the Node driver, which
// owns the real sockets and the real clock (see protocol.ts). It is what hosts/moddable is on a device,
// with issueCommand standing in for lwIP and Timer: the client above it is the unmodified src/.
import type { Host, Link, LinkError, LinkEvents, LinkParams } from "../../../../src/connection/host.js";
import { UP_CLOSE, UP_DESTROY, UP_OPEN, UP_TIMER, UP_WRITE } from "./protocol.js";

declare function issueCommand(request: ArrayBuffer): ArrayBuffer;

interface Timer {
  at: number;
  callback: () => void;
}

/** The XS end of one TCP connection: received chunks wait in `chunks` until the client reads them. */
export class BridgeLink implements Link {
  readonly id: number;
  readonly events: LinkEvents;
  /** Chunks received and not read yet, oldest first; `first` indexes the oldest. */
  private chunks: Uint8Array[] = [];
  private first = 0;
  private ended = false;

  constructor(id: number, events: LinkEvents) {
    this.id = id;
    this.events = events;
  }

  get socket(): unknown {
    return this;
  }

  read(): Uint8Array | null {
    if (this.first === this.chunks.length) return null;
    const chunk = this.chunks[this.first]!;
    this.chunks[this.first++] = EMPTY;
    if (this.first === this.chunks.length) this.chunks.length = this.first = 0;
    return chunk;
  }

  write(bytes: Uint8Array, offset: number, length: number): number {
    if (this.ended) return 0;
    const request = new Uint8Array(5 + length);
    request[0] = UP_WRITE;
    new DataView(request.buffer).setUint32(1, this.id, true);
    request.set(bytes.subarray(offset, offset + length), 5);
    return new DataView(issueCommand(request.buffer)).getUint32(0, true);
  }

  close(): void {
    this.end(UP_CLOSE);
  }

  destroy(): void {
    this.end(UP_DESTROY);
  }

  /** @internal From the driver's DATA frame: a view into the command's own ArrayBuffer, no copy. */
  received(chunk: Uint8Array): void {
    if (this.ended) return;
    this.chunks.push(chunk);
    this.events.onReadable();
  }

  /** @internal The driver says the connection is gone. */
  lost(error: LinkError | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.events.onClose(error);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  private end(op: number): void {
    if (this.ended) return;
    this.ended = true;
    this.chunks.length = this.first = 0;
    const request = new Uint8Array(5);
    request[0] = op;
    new DataView(request.buffer).setUint32(1, this.id, true);
    issueCommand(request.buffer);
  }
}

const EMPTY = new Uint8Array(0);

export class BridgeHost implements Host {
  /** The driver's clock as of the command being handled. */
  clock = 0;
  readonly links = new Map<number, BridgeLink>();
  private timers: Timer[] = [];
  /** When the driver will next send TICK; Infinity when it will not. */
  private wakeAt = Infinity;
  private readonly encoder = new TextEncoder();

  now(): number {
    return this.clock;
  }

  setTimer(callback: () => void, ms: number): unknown {
    const timer: Timer = { at: this.clock + Math.max(0, ms), callback };
    this.timers.push(timer);
    if (timer.at < this.wakeAt) this.wake(timer.at);
    return timer;
  }

  clearTimer(handle: unknown): void {
    const i = this.timers.indexOf(handle as Timer);
    if (i >= 0) this.timers.splice(i, 1);
  }

  defer(callback: () => void): void {
    // Promise jobs run after handleCommand returns and before the reply: the next turn of this "loop".
    Promise.resolve().then(callback);
  }

  open(params: LinkParams, events: LinkEvents): Link {
    if (params.transport !== "tcp" || params.tls !== undefined) {
      throw new Error("the XS test host bridges plain TCP only");
    }
    const host = this.encoder.encode(params.host);
    const request = new Uint8Array(3 + host.length);
    request[0] = UP_OPEN;
    new DataView(request.buffer).setUint16(1, params.port, true);
    request.set(host, 3);
    const id = new DataView(issueCommand(request.buffer)).getUint32(0, true);
    const link = new BridgeLink(id, events);
    this.links.set(id, link);
    return link;
  }

  /** TICK: runs the timers that are due, earliest first, then asks for the next wake-up. */
  tick(): void {
    this.wakeAt = Infinity;
    for (;;) {
      let due: Timer | undefined;
      for (const t of this.timers) if (t.at <= this.clock && (due === undefined || t.at < due.at)) due = t;
      if (due === undefined) break;
      this.timers.splice(this.timers.indexOf(due), 1);
      due.callback();
    }
    let next = Infinity;
    for (const t of this.timers) if (t.at < next) next = t.at;
    if (next < this.wakeAt) this.wake(next);
  }

  /** Forgets links that have ended (their last event has been delivered). */
  prune(): void {
    for (const [id, link] of this.links) if (link.isEnded) this.links.delete(id);
  }

  get pendingTimers(): number {
    return this.timers.length;
  }

  private wake(at: number): void {
    this.wakeAt = at;
    const request = new Uint8Array(9);
    request[0] = UP_TIMER;
    new DataView(request.buffer).setFloat64(1, at, true);
    issueCommand(request.buffer);
  }
}

/** The one bridge of this worker: the app's host, and what the Moddable fakes (moddable-fakes/) build on. */
export const bridge = new BridgeHost();
