/**
 * The connection driver: the engine's only caller, under both facades (src/paho/client.ts and
 * src/ecma419/client.ts). It owns the engine, the current link and the one timer: it feeds the link's
 * bytes and the host's time in, writes what the engine produces, keeps the supervisor's state
 * (src/connection/supervisor.ts) and the timer at the first of the engine's deadline and the supervisor's,
 * and ignores every event of a link it no longer owns. It asks the host for nothing else; what the events
 * mean, and what to do about the supervisor's answers, is the facade's business: each facade extends it
 * with the DriverHooks (a subclass rather than a hooks object: one object less per client, which counts on
 * a microcontroller holding a few hundred).
 */
import type { Engine } from "../engine/engine.js";
import { CLOSING, IDLE } from "../engine/engine.js";
import type { Host, Link, LinkError, LinkEvents, LinkParams } from "./host.js";
import { type SupervisorEvent, type SupervisorState, type Transition, transition } from "./supervisor.js";

/** What the driver tells its facade. */
export interface DriverHooks {
  /** The link opened: the facade writes CONNECT (engine.begin) and whatever else it wants. */
  linkOpened(): void;
  /** Bytes are waiting on the link. */
  linkReadable(): void;
  /** The link is gone, by the peer or a failure (never after the driver's own drop()/close()). */
  linkClosed(error: LinkError | undefined): void;
  /** Hands the engine's waiting events to the facade; false: read nothing more for now. */
  dispatch(): boolean;
  /** The driver wrote to the link; `waiting`: output is left for when the link takes more. */
  written(waiting: boolean): void;
  /** service() is done reading (the outer call, not a reentrant one). */
  serviced(): void;
  /** The one timer fired at `now`, at or after the supervisor's deadline: the facade feeds it a "timer" event. */
  timerFired(now: number): void;
}

export abstract class ConnectionDriver implements DriverHooks {
  link: Link | null = null;
  /** The link opened: bytes may be written. */
  linkOpen = false;
  /** The host's clock as last read, passed to the engine (a burst of QoS 0 publishes reads it once). */
  now = 0;
  private timer: unknown = undefined;
  private timerAt = Infinity;
  /** service() is running (a callback inside it is being called): read it, never write it. */
  servicing = false;

  /** `supervisor`: the lifecycle's state, changed by feedSupervisor() (and by the facade's settings). */
  constructor(readonly host: Host, readonly engine: Engine, public supervisor: SupervisorState) {}

  abstract linkOpened(): void;
  abstract linkReadable(): void;
  abstract linkClosed(error: LinkError | undefined): void;
  abstract dispatch(): boolean;
  abstract written(waiting: boolean): void;
  abstract serviced(): void;
  abstract timerFired(now: number): void;

  /** Whether the one timer runs (a Paho client without a loop is ticked by its application instead). */
  timed(): boolean {
    return true;
  }

  /** Reads the host's clock. */
  clock(): number {
    return (this.now = this.host.now());
  }

  /** Opens a link (replacing none: drop the old one first); what host.open() throws is the caller's. */
  open(params: LinkParams): Link {
    this.linkOpen = false;
    const events = new DriverLinkEvents(this);
    const link = this.host.open(params, events);
    events.link = link;
    this.link = link;
    return link;
  }

  /** The link is no longer ours (destroyed, or closed after a drain): forget it; the engine too. */
  release(): Link | null {
    const link = this.link;
    this.link = null;
    this.linkOpen = false;
    this.engine.lost();
    return link;
  }

  /**
   * Reads and handles whatever is waiting, then writes. A reentrant call (a callback that publishes)
   * only writes; the outer call goes on reading.
   */
  service(): void {
    if (this.servicing) {
      this.flush();
      return;
    }
    this.servicing = true;
    try {
      const engine = this.engine;
      for (;;) {
        const more = this.dispatch();
        this.flush();
        if (!more || this.link === null || engine.state === IDLE || engine.state === CLOSING) break;
        // Input left over means the output filled up: read on once flush() made room, wait if it did not.
        if (engine.hasInput) {
          if (engine.wantsWrite) break;
          continue;
        }
        const chunk = this.link.read();
        if (chunk === null) break;
        engine.receive(chunk, this.clock());
      }
    } finally {
      this.servicing = false;
    }
    this.serviced();
    this.armTimer();
  }

  /** Writes what the engine has for the link, as much as the link takes now. */
  flush(): void {
    const link = this.link;
    const engine = this.engine;
    if (link === null || !this.linkOpen) return;
    // What the broker is about to hear of must be durable first (the store decides how durable).
    if (engine.wantsWrite) engine.options.store?.flush();
    let length: number;
    while ((length = engine.outputLength()) > 0) {
      const taken = link.write(engine.outputBuffer, engine.outputOffset(), length);
      if (taken > 0) engine.consumed(taken, this.now);
      if (taken < length) break;
    }
    this.written(engine.wantsWrite);
    this.armTimer();
  }

  /**
   * Feeds the supervisor what happened at `now`; the facade does what it answers (the transition's
   * callbacks), then calls armTimer(). A deadline that moved earlier stops the timer armed for the old one.
   */
  feedSupervisor(event: SupervisorEvent, now: number): Transition {
    const previous = this.supervisor.deadline;
    const next = transition(this.supervisor, event, now);
    this.supervisor = next.state;
    if (next.timer < previous) this.clearTimer();
    return next;
  }

  /** Keeps the one timer armed for the first of the engine's deadline (with a link) and the supervisor's. */
  armTimer(): void {
    if (!this.timed()) return;
    let deadline = this.link === null ? Infinity : this.engine.nextDeadline();
    // An earlier timer stands: feedSupervisor() clears it when the supervisor's deadline moves earlier.
    if (this.timer !== undefined && this.timerAt <= deadline) return;
    const supervisor = this.supervisor.deadline;
    if (supervisor < deadline) deadline = supervisor;
    if (deadline === Infinity) return;
    if (this.timer !== undefined && this.timerAt <= deadline) return;
    this.clearTimer();
    this.timerAt = deadline;
    this.timer = this.host.setTimer(() => this.fired(), Math.max(0, deadline - this.host.now()));
  }

  /** The engine's timers (and the supervisor's, when due) at the host's time, then a service. */
  tick(): void {
    const now = this.clock();
    if (now >= this.supervisor.deadline) this.timerFired(now);
    if (this.link !== null) {
      this.engine.tick(now);
      this.service();
    }
  }

  /** Stops the timer; armTimer() then arms it anew. */
  clearTimer(): void {
    if (this.timer !== undefined) this.host.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private fired(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    this.tick();
    this.armTimer();
  }

  /** Link events, from the link `link` only: a link the driver no longer owns is not heard. */
  linkEvent(link: Link | undefined, event: "open" | "readable" | "writable"): void {
    if (link !== this.link) return;
    if (event === "open") {
      this.linkOpen = true;
      this.linkOpened();
    } else if (event === "readable") this.linkReadable();
    else this.service();
  }

  linkGone(link: Link | undefined, error: LinkError | undefined): void {
    if (link === this.link) this.linkClosed(error);
  }
}

/**
 * What a link reports to its driver: one small object per link rather than a closure per event, as a
 * process may hold thousands of connected clients.
 */
class DriverLinkEvents implements LinkEvents {
  link: Link | undefined = undefined;
  constructor(private readonly driver: ConnectionDriver) {}
  onOpen(): void { this.driver.linkEvent(this.link, "open"); }
  onReadable(): void { this.driver.linkEvent(this.link, "readable"); }
  onWritable(): void { this.driver.linkEvent(this.link, "writable"); }
  onClose(error: LinkError | undefined): void { this.driver.linkGone(this.link, error); }
}
