/**
 * The connection's lifecycle, as named states and one pure transition function:
 * transition(state, event, now) -> { state, callbacks, timer }. No clock, no link, no callback of its own:
 * the facade feeds it what happened and does what it answers (open a link, drop it, run a callback), then
 * keeps one timer at `timer`. Reconnect backoff, failover rotation, server redirection, loopForever's
 * first-connection rule and the CONNACK timeout live here and nowhere else.
 *
 *   phase          event                       next           callbacks                          timer
 *   -------------  --------------------------  -------------  ---------------------------------  ------------------
 *   STOPPED        start                       OPENING        open                               now + connectTimeout
 *   BACKOFF        start                       OPENING        open                               now + connectTimeout
 *   BACKOFF        timer                       OPENING        open                               now + connectTimeout
 *   BACKOFF        disconnect                  STOPPED        loopEnded                          none
 *   STOPPED        disconnect                  STOPPED        loopEnded                          none
 *   OPENING        opened                      AWAIT_CONNACK  -                                  now + connectTimeout
 *   OPENING        lost                        BACKOFF        onConnectFail (next server)        now + delay  (1)
 *   OPENING        timer                       BACKOFF        drop, onConnectFail (next server)  now + delay  (1)
 *   OPENING        disconnect                  STOPPED        drop, loopEnded                    none
 *   AWAIT_CONNACK  accepted                    CONNECTED      -                                  none
 *   AWAIT_CONNACK  refused                     CLOSING        -                                  none
 *   AWAIT_CONNACK  lost                        BACKOFF        onConnectFail (next server)        now + delay  (1)
 *   AWAIT_CONNACK  timer                       BACKOFF        drop, onConnectFail (next server)  now + delay  (1)
 *   AWAIT_CONNACK  disconnect                  CLOSING        -                                  none         (2)
 *   CONNECTED      lost                        BACKOFF        onDisconnect                       now + delay  (1)(3)
 *   CONNECTED      disconnect                  CLOSING        -                                  none         (2)
 *   CLOSING        lost, after disconnect      STOPPED        onDisconnectNormal, loopEnded      none
 *   CLOSING        lost, after a refusal       BACKOFF        onDisconnect (next server)         now + delay  (1)
 *   CLOSING        disconnect                  CLOSING        - (the end is disconnect()'s now)  none
 *   any            lost, redirected (a followed Server Reference): the next open goes to connect()'s broker,
 *                  which the facade has replaced with the referenced one
 *
 *   (1) BACKOFF only while a loop runs (loopStart, loopForever); otherwise STOPPED. An attempt that fails
 *       before any connection was accepted, under loopForever without retryFirstConnection, ends in
 *       STOPPED with loopFailed added (loopForever rejects).
 *   (2) disconnect() writes DISCONNECT (the engine's part) and the link closes once it has drained: the
 *       end is Paho's normal disconnection (onDisconnect, reason 0), never "closed by the broker".
 *   (3) The backoff goes back to its minimum only when the connection lasted STABLE_MS after CONNACK.
 *
 * Backoff: the first reconnect waits minDelay, each failed one doubles the wait up to maxDelay.
 */

export const STOPPED = "STOPPED";
export const OPENING = "OPENING";
export const AWAIT_CONNACK = "AWAIT_CONNACK";
export const CONNECTED = "CONNECTED";
export const CLOSING = "CLOSING";
export const BACKOFF = "BACKOFF";
export type Phase = typeof STOPPED | typeof OPENING | typeof AWAIT_CONNACK | typeof CONNECTED | typeof CLOSING | typeof BACKOFF;

/**
 * How long a connection must last after CONNACK for the backoff to go back to its minimum: 10 s. A broker
 * that accepts and then closes at once (an ACL kick, a message over its limits, a session takeover loop)
 * does so within a round trip or two of what we send after CONNACK, well under a second on a LAN and a few
 * over a cellular link; resetting on every CONNACK would reconnect to it every minDelay forever. 10 s is
 * also shorter than any usual keepalive, so a working connection resets it long before it could fail.
 */
export const STABLE_MS = 10_000;

export interface SupervisorState {
  readonly phase: Phase;
  /** How many brokers there are (connect()'s, then failoverSet()'s); `server`: the next open goes to this one. */
  readonly servers: number;
  readonly server: number;
  /** The next backoff wait, ms. */
  readonly delayMs: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  /** How long opening the link and then CONNACK may take. */
  readonly connectTimeoutMs: number;
  /** When CONNACK accepted the current connection; -1 without one. */
  readonly connectedAt: number;
  /** A CONNACK refused this link (it ends in CLOSING). */
  readonly refused: boolean;
  /** disconnect() ended this connection. */
  readonly stopping: boolean;
  /** A loop runs (loopStart, loopForever): failures are followed by a reconnect. */
  readonly looping: boolean;
  /** loopForever without retryFirstConnection: the loop ends if no connection was ever accepted. */
  readonly giveUpBeforeFirst: boolean;
  readonly everConnected: boolean;
  /** When the supervisor's timer is due: the connect timeout or the end of a backoff; Infinity: none. */
  readonly deadline: number;
}

export type SupervisorEvent =
  | { readonly type: "start" }
  | { readonly type: "opened" }
  | { readonly type: "accepted" }
  | { readonly type: "refused" }
  /** The link is gone; `redirected`: it carried a Server Reference the facade follows (serverRedirectSet). */
  | { readonly type: "lost"; readonly redirected?: boolean }
  | { readonly type: "disconnect" }
  | { readonly type: "timer" };

/** What the facade does, in order. */
export type Callback = "open" | "drop" | "onConnectFail" | "onDisconnect" | "onDisconnectNormal" | "loopEnded" | "loopFailed";

export interface Transition {
  readonly state: SupervisorState;
  readonly callbacks: readonly Callback[];
  /** When to call transition(state, { type: "timer" }): state.deadline. */
  readonly timer: number;
}

export function initialState(connectTimeoutMs = 5_000, minDelayMs = 1_000, maxDelayMs = 120_000): SupervisorState {
  return {
    phase: STOPPED, servers: 1, server: 0, delayMs: minDelayMs, minDelayMs, maxDelayMs, connectTimeoutMs,
    connectedAt: -1, refused: false, stopping: false, looping: false, giveUpBeforeFirst: false, everConnected: false,
    deadline: Infinity,
  };
}

const NONE: readonly Callback[] = Object.freeze([]);  // frozen: Moddable keeps a preloaded table in flash

export function transition(s: SupervisorState, e: SupervisorEvent, now: number): Transition {
  switch (e.type) {
    case "start":
      return open(s, now);
    case "opened":
      return s.phase === OPENING ? to({ ...s, phase: AWAIT_CONNACK, deadline: now + s.connectTimeoutMs }) : to(s);
    case "accepted":
      return to({ ...s, phase: CONNECTED, connectedAt: now, everConnected: true, deadline: Infinity });
    case "refused":
      return to({ ...s, phase: CLOSING, refused: true, deadline: Infinity });
    case "disconnect":
      return disconnect(s);
    case "timer":
      if (now < s.deadline) return to(s);
      if (s.phase === BACKOFF) return open(s, now);
      if (s.phase === OPENING || s.phase === AWAIT_CONNACK) return failedAttempt(s, now, ["drop", "onConnectFail"]);
      return to({ ...s, deadline: Infinity });
    case "lost":
      // A followed Server Reference replaced connect()'s broker: it is tried next.
      return lost(s.phase !== STOPPED && e.redirected === true ? { ...s, server: 0 } : s, now);
  }
}

function to(state: SupervisorState, callbacks: readonly Callback[] = NONE): Transition {
  return { state, callbacks, timer: state.deadline };
}

function open(s: SupervisorState, now: number): Transition {
  return to({ ...s, phase: OPENING, refused: false, stopping: false, connectedAt: -1, deadline: now + s.connectTimeoutMs }, ["open"]);
}

function disconnect(s: SupervisorState): Transition {
  switch (s.phase) {
    case STOPPED:
    case BACKOFF:
      return to(stopped(s), ["loopEnded"]);
    case OPENING:
      return to(stopped(s), ["drop", "loopEnded"]);
    default:
      return to({ ...s, phase: CLOSING, stopping: true, deadline: Infinity });
  }
}

/** The backoff after a connection that CONNACK accepted: back to its minimum only if it held (STABLE_MS). */
function settledDelay(s: SupervisorState, now: number): number {
  return s.connectedAt >= 0 && now - s.connectedAt >= STABLE_MS ? s.minDelayMs : s.delayMs;
}

function lost(s: SupervisorState, now: number): Transition {
  switch (s.phase) {
    case OPENING:
    case AWAIT_CONNACK:
      return failedAttempt(s, now, ["onConnectFail"]);
    case CONNECTED:
      return afterLoss({ ...s, delayMs: settledDelay(s, now) }, now, ["onDisconnect"]);
    case CLOSING:
      if (s.stopping) return to(stopped({ ...s, delayMs: settledDelay(s, now) }), ["onDisconnectNormal", "loopEnded"]);
      // A broker that refused us (unavailable, busy, not for us) is skipped for the next on the list.
      return afterLoss(s.refused ? nextServer(s) : s, now, ["onDisconnect"]);
    default:
      return to(s);
  }
}

/** Opening the link or the wait for CONNACK failed: the next attempt goes to the next server. */
function failedAttempt(s: SupervisorState, now: number, callbacks: Callback[]): Transition {
  const next = nextServer(s);
  if (s.looping && s.giveUpBeforeFirst && !s.everConnected) {
    return to({ ...stopped(next), looping: false }, [...callbacks, "loopFailed"]);
  }
  return afterLoss(next, now, callbacks);
}

/** A connection or an attempt ended without disconnect(): wait and reconnect when a loop runs. */
function afterLoss(s: SupervisorState, now: number, callbacks: Callback[]): Transition {
  if (!s.looping) return to(stopped(s), callbacks);
  const delayMs = s.delayMs;
  return to({ ...s, phase: BACKOFF, connectedAt: -1, delayMs: Math.min(delayMs * 2, s.maxDelayMs), deadline: now + delayMs }, callbacks);
}

function stopped(s: SupervisorState): SupervisorState {
  return { ...s, phase: STOPPED, connectedAt: -1, refused: false, stopping: false, deadline: Infinity };
}

function nextServer(s: SupervisorState): SupervisorState {
  return s.servers > 1 ? { ...s, server: (s.server + 1) % s.servers } : s;
}

/**
 * The broker an MQTT 5 Server Reference names ("host", "host:port", "[v6]:port", or several, space-separated:
 * the first); `port` when it names none. Undefined when it names no host.
 */
export function referencedServer(reference: string, port: number): { host: string; port: number } | undefined {
  const first = reference.trim().split(/\s+/)[0]!;
  const match = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(first);
  if (match === null || match[1] === "") return undefined;
  return { host: match[1]!, port: match[2] === undefined ? port : Number(match[2]) };
}
