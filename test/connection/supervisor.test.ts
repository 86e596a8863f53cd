/**
 * The supervisor's transition table (src/connection/supervisor.ts), one test per row, on a fake clock:
 * `now` is a number the test picks, and the function is pure, so each test states a state, an event and
 * the time, and reads the next state, the callbacks and the timer.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  AWAIT_CONNACK, BACKOFF, CLOSING, CONNECTED, OPENING, STABLE_MS, STOPPED, type SupervisorEvent, type SupervisorState,
  initialState, referencedServer, transition,
} from "../../src/connection/supervisor.js";

/** A supervisor with two servers, a 5 s connect timeout and a 1..8 s backoff, in `phase`. */
function state(changes: Partial<SupervisorState> = {}): SupervisorState {
  return { ...initialState(5_000, 1_000, 8_000), servers: 2, looping: true, ...changes };
}

function step(s: SupervisorState, event: SupervisorEvent, now: number): { phase: string; callbacks: readonly string[]; timer: number; state: SupervisorState } {
  const t = transition(s, event, now);
  return { phase: t.state.phase, callbacks: t.callbacks, timer: t.timer, state: t.state };
}

describe("the supervisor's transitions", () => {
  test("STOPPED, start: it opens a link, and the link has the connect timeout to open", () => {
    const t = step(state(), { type: "start" }, 100);
    assert.deepEqual([t.phase, t.callbacks, t.timer], [OPENING, ["open"], 5_100]);
  });

  test("BACKOFF, start: connect() or reconnect() does not wait for the backoff", () => {
    const t = step(state({ phase: BACKOFF, deadline: 9_000 }), { type: "start" }, 100);
    assert.deepEqual([t.phase, t.callbacks, t.timer], [OPENING, ["open"], 5_100]);
  });

  test("BACKOFF, timer: the backoff is over and a link opens", () => {
    const s = state({ phase: BACKOFF, deadline: 2_000 });
    assert.deepEqual(step(s, { type: "timer" }, 1_999).callbacks, [], "a timer that fires early changes nothing");
    const t = step(s, { type: "timer" }, 2_000);
    assert.deepEqual([t.phase, t.callbacks, t.timer], [OPENING, ["open"], 7_000]);
  });

  test("BACKOFF, disconnect: no reconnect, and loopForever ends", () => {
    const t = step(state({ phase: BACKOFF, deadline: 2_000 }), { type: "disconnect" }, 100);
    assert.deepEqual([t.phase, t.callbacks, t.timer], [STOPPED, ["loopEnded"], Infinity]);
  });

  test("STOPPED, disconnect: nothing to close, and loopForever ends", () => {
    const t = step(state(), { type: "disconnect" }, 100);
    assert.deepEqual([t.phase, t.callbacks, t.timer], [STOPPED, ["loopEnded"], Infinity]);
  });

  test("OPENING, opened: CONNECT is written and CONNACK has the connect timeout to come", () => {
    const t = step(state({ phase: OPENING, deadline: 5_000 }), { type: "opened" }, 300);
    assert.deepEqual([t.phase, t.callbacks, t.timer], [AWAIT_CONNACK, [], 5_300]);
  });

  test("OPENING, lost: the attempt failed, the next server is tried after the backoff, which doubles", () => {
    const t = step(state({ phase: OPENING, deadline: 5_000 }), { type: "lost" }, 300);
    assert.deepEqual([t.phase, t.callbacks, t.timer, t.state.server, t.state.delayMs], [BACKOFF, ["onConnectFail"], 1_300, 1, 2_000]);
  });

  test("OPENING, timer: a link that does not open in time is dropped, and the attempt failed", () => {
    const t = step(state({ phase: OPENING, deadline: 5_000 }), { type: "timer" }, 5_000);
    assert.deepEqual([t.phase, t.callbacks, t.timer, t.state.server], [BACKOFF, ["drop", "onConnectFail"], 6_000, 1]);
  });

  test("OPENING, disconnect: the link is dropped, no reconnect, and loopForever ends", () => {
    const t = step(state({ phase: OPENING, deadline: 5_000 }), { type: "disconnect" }, 300);
    assert.deepEqual([t.phase, t.callbacks, t.timer], [STOPPED, ["drop", "loopEnded"], Infinity]);
  });

  test("AWAIT_CONNACK, accepted: connected, with no timer of the supervisor's (keepalive is the engine's)", () => {
    const t = step(state({ phase: AWAIT_CONNACK, deadline: 5_000 }), { type: "accepted" }, 400);
    assert.deepEqual([t.phase, t.callbacks, t.timer, t.state.connectedAt, t.state.everConnected], [CONNECTED, [], Infinity, 400, true]);
  });

  test("AWAIT_CONNACK, refused: the link is closing, and the refusal is remembered for the next server", () => {
    const t = step(state({ phase: AWAIT_CONNACK, deadline: 5_000 }), { type: "refused" }, 400);
    assert.deepEqual([t.phase, t.callbacks, t.timer, t.state.refused], [CLOSING, [], Infinity, true]);
  });

  test("AWAIT_CONNACK, lost: the attempt failed before CONNACK, the next server after the backoff", () => {
    const t = step(state({ phase: AWAIT_CONNACK, deadline: 5_000 }), { type: "lost" }, 400);
    assert.deepEqual([t.phase, t.callbacks, t.timer, t.state.server], [BACKOFF, ["onConnectFail"], 1_400, 1]);
  });

  test("AWAIT_CONNACK, timer: no CONNACK within the connect timeout drops the link, and the attempt failed", () => {
    const s = state({ phase: AWAIT_CONNACK, deadline: 5_300 });
    assert.deepEqual(step(s, { type: "timer" }, 5_299).phase, AWAIT_CONNACK);
    const t = step(s, { type: "timer" }, 5_300);
    assert.deepEqual([t.phase, t.callbacks, t.timer, t.state.server], [BACKOFF, ["drop", "onConnectFail"], 6_300, 1]);
  });

  test("AWAIT_CONNACK, disconnect: DISCONNECT goes out and the link closes as a normal disconnection", () => {
    const t = step(state({ phase: AWAIT_CONNACK, deadline: 5_000 }), { type: "disconnect" }, 400);
    assert.deepEqual([t.phase, t.callbacks, t.timer, t.state.stopping], [CLOSING, [], Infinity, true]);
    const end = step(t.state, { type: "lost" }, 450);
    assert.deepEqual([end.phase, end.callbacks], [STOPPED, ["onDisconnectNormal", "loopEnded"]], "never onConnectFail");
  });

  test("CONNECTED, lost after STABLE_MS: onDisconnect, and the backoff is back to its minimum", () => {
    const s = state({ phase: CONNECTED, connectedAt: 1_000, delayMs: 8_000, everConnected: true });
    const t = step(s, { type: "lost" }, 1_000 + STABLE_MS);
    assert.deepEqual([t.phase, t.callbacks, t.timer, t.state.delayMs], [BACKOFF, ["onDisconnect"], 2_000 + STABLE_MS, 2_000]);
  });

  test("CONNECTED, lost right after CONNACK: the backoff is not reset, so a broker that accepts and closes is not hammered", () => {
    const s = state({ phase: CONNECTED, connectedAt: 1_000, delayMs: 8_000, everConnected: true });
    const t = step(s, { type: "lost" }, 1_000 + STABLE_MS - 1);
    assert.deepEqual([t.phase, t.callbacks, t.timer, t.state.delayMs], [BACKOFF, ["onDisconnect"], 9_000 + STABLE_MS - 1, 8_000]);
  });

  test("CONNECTED, disconnect: DISCONNECT goes out and the link closes", () => {
    const t = step(state({ phase: CONNECTED, connectedAt: 1_000 }), { type: "disconnect" }, 2_000);
    assert.deepEqual([t.phase, t.callbacks, t.timer, t.state.stopping], [CLOSING, [], Infinity, true]);
  });

  test("CLOSING after disconnect, lost: STOPPED, Paho's normal onDisconnect, and loopForever ends", () => {
    const t = step(state({ phase: CLOSING, stopping: true, connectedAt: 1_000 }), { type: "lost" }, 2_000);
    assert.deepEqual([t.phase, t.callbacks, t.timer], [STOPPED, ["onDisconnectNormal", "loopEnded"], Infinity]);
  });

  test("CLOSING after a refusal, lost: onDisconnect, and the next server after the backoff", () => {
    const t = step(state({ phase: CLOSING, refused: true }), { type: "lost" }, 2_000);
    assert.deepEqual([t.phase, t.callbacks, t.timer, t.state.server], [BACKOFF, ["onDisconnect"], 3_000, 1]);
  });

  test("CLOSING, disconnect: the end now counts as disconnect()'s", () => {
    const t = step(state({ phase: CLOSING, refused: true }), { type: "disconnect" }, 2_000);
    assert.deepEqual([t.phase, t.callbacks, t.state.stopping], [CLOSING, [], true]);
    assert.deepEqual(step(t.state, { type: "lost" }, 2_100).callbacks, ["onDisconnectNormal", "loopEnded"]);
  });

  test("lost, redirected: the next open goes to connect()'s broker, which the Server Reference replaced", () => {
    const t = step(state({ phase: CONNECTED, server: 1, connectedAt: 0 }), { type: "lost", redirected: true }, 20_000);
    assert.deepEqual([t.phase, t.state.server], [BACKOFF, 0]);
  });
});

describe("the footnotes", () => {
  test("(1) without a loop, a failure ends in STOPPED: nobody reconnects", () => {
    const t = step(state({ phase: AWAIT_CONNACK, looping: false }), { type: "lost" }, 400);
    assert.deepEqual([t.phase, t.callbacks, t.timer], [STOPPED, ["onConnectFail"], Infinity]);
  });

  test("(1) loopForever without retryFirstConnection gives up when the first connection fails", () => {
    const t = step(state({ phase: OPENING, giveUpBeforeFirst: true }), { type: "lost" }, 400);
    assert.deepEqual([t.phase, t.callbacks, t.state.looping], [STOPPED, ["onConnectFail", "loopFailed"], false]);
    const later = step(state({ phase: OPENING, giveUpBeforeFirst: true, everConnected: true }), { type: "lost" }, 400);
    assert.equal(later.phase, BACKOFF, "once a connection was accepted, failures are retried");
  });

  test("backoff: failed attempts wait 1, 2, 4, 8, 8 s", () => {
    let s = state();
    const waits: number[] = [];
    let now = 0;
    for (let i = 0; i < 5; i++) {
      s = transition(s, { type: "start" }, now).state;
      const t = transition(s, { type: "lost" }, now);
      waits.push(t.timer - now);
      s = t.state;
      now = t.timer;
    }
    assert.deepEqual(waits, [1_000, 2_000, 4_000, 8_000, 8_000]);
  });
});

describe("the broker a Server Reference names", () => {
  test("a host alone keeps connect()'s port; host:port and [v6]:port name their own; of several, the first", () => {
    assert.deepEqual(referencedServer("other.example", 1883), { host: "other.example", port: 1883 });
    assert.deepEqual(referencedServer("other.example:8883", 1883), { host: "other.example", port: 8883 });
    assert.deepEqual(referencedServer("[::1]:1884", 1883), { host: "::1", port: 1884 });
    assert.deepEqual(referencedServer("  a.example:1 b.example:2", 1883), { host: "a.example", port: 1 });
  });

  test("a reference that names no host is not followed", () => {
    assert.equal(referencedServer("", 1883), undefined);
    assert.equal(referencedServer(":1884", 1883), undefined);
  });
});
