/**
 * A Link over the runtime's WebSocket (MQTT over WebSockets, subprotocol "mqtt", binary frames only).
 *
 * Which WebSocket: globalThis.WebSocket, the WHATWG one Node bundles from undici. Node 22 and later have it
 * on by default; Node 20 and 21 need `node --experimental-websocket` (package.json's "test" script passes
 * it). Without it the link fails at once with MQTT_ERR_NOT_SUPPORTED and says so.
 *
 * Socket, TLS and bindAddress. The WHATWG constructor takes no TLS options, but Node's undici takes
 * `new WebSocket(url, { protocols, headers, dispatcher })`. Node does not export undici's Agent class; it
 * does create one as the global dispatcher (globalThis[Symbol.for("undici.globalDispatcher.1")]) when it
 * loads undici, which touching globalThis.WebSocket does, and that instance's constructor is the class.
 * Each link makes its own Agent whose `connect` hook opens the socket itself with node:net / node:tls, so
 * everything tlsSet() / tlsSetContext() / tlsInsecureSet() gives the TCP link applies here too (custom CA,
 * client certificate, certificate requirements, minimum version, ciphers, ALPN, host-name check, SNI), the
 * local address is bound, the real TLS error (unknown CA, expired, host name) is reported, and the link
 * owns the socket. If the global dispatcher is not an Agent (an application installed a proxy
 * dispatcher), plain ws:// without bindAddress still works through it; anything that needs the socket
 * fails with MQTT_ERR_NOT_SUPPORTED and says why.
 *
 * Pull style over a push API. WebSocket pushes every message; received messages wait in a queue here for
 * read(). While the queue holds more than RECEIVE_HIGH_WATER bytes the socket is paused (undici pauses and
 * resumes it for its own parser the same way), so a broker faster than the application is held back by
 * TCP instead of filling memory. undici assembles a whole WebSocket message before handing it over, so a
 * hostile broker could make it buffer one huge message: the link counts the bytes received since the last
 * message and drops the connection beyond maxMessageBytes.
 * Writing: write() copies and sends while bufferedAmount is below SEND_HIGH_WATER, else takes nothing;
 * a short timer then polls bufferedAmount and calls onWritable once it is below SEND_LOW_WATER.
 *
 * Client.socket() (Link.socket) is the WebSocket object, as Paho's is its WebSocket wrapper; the TCP/TLS
 * socket under it belongs to undici and is not handed out.
 */
import net from "node:net";
import tls from "node:tls";
import { MQTT_ERR_CONN_LOST, MQTT_ERR_NO_CONN, MQTT_ERR_NOT_SUPPORTED, MQTT_ERR_PROTOCOL, MQTT_ERR_TLS } from "../../src/paho/constants.js";
import type { Link, LinkError, LinkEvents, LinkParams } from "../../src/connection/host.js";
import { tlsConnectOptions } from "./tls-options.js";

export interface WsLinkOptions {
  /** The largest WebSocket message (MQTT data undici buffers whole) accepted; default 4 MiB. */
  maxMessageBytes?: number;
  /** How long the TCP/TLS connection and the HTTP upgrade may take; default 30 s. */
  handshakeTimeoutMs?: number;
}

export const DEFAULT_WS_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 30_000;
const RECEIVE_HIGH_WATER = 256 * 1024;
const RECEIVE_LOW_WATER = 64 * 1024;
const SEND_HIGH_WATER = 64 * 1024;
const SEND_LOW_WATER = 16 * 1024;
const DRAIN_POLL_MS = 5;
/** After close() (our close frame is out), how long the server gets to answer before the socket is dropped. */
const CLOSE_TIMEOUT_MS = 5000;

/** Codes of TLS failures, reported as MQTT_ERR_TLS with the reason (as the TCP link does). */
const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|UNABLE_TO_|CERT_|SELF_SIGNED|DEPTH_ZERO|HOSTNAME_MISMATCH|ERR_OSSL)/;

/** What undici's dispatcher classes and objects look like, as far as this file uses them. */
interface Dispatcher {
  dispatch(options: unknown, handler: object): boolean;
  close(): Promise<void>;
  destroy(): Promise<void>;
}
type Connector = (options: { hostname: string; port: string; protocol: string; servername?: string | null },
  callback: (error: Error | null, socket: net.Socket | null) => void) => net.Socket | undefined;
type AgentClass = new (options: { connect: Connector; connections?: number; pipelining?: number }) => Dispatcher;

interface RuntimeWebSocket {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly readyState: number;
  readonly protocol: string;
  onopen: ((e: unknown) => void) | null;
  onmessage: ((e: { data: unknown }) => void) | null;
  onerror: ((e: { message?: string; error?: unknown }) => void) | null;
  onclose: ((e: { code: number; reason: string; wasClean: boolean }) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}
type WebSocketClass = new (url: string, init: { protocols: string[]; headers?: Record<string, string>; dispatcher?: unknown }) => RuntimeWebSocket;

const OPEN = 1;

function runtimeWebSocket(): WebSocketClass | undefined {
  const ws = (globalThis as { WebSocket?: unknown }).WebSocket;
  return typeof ws === "function" ? ws as WebSocketClass : undefined;
}

/** undici's Agent class, from the global dispatcher Node creates (see the note at the top). */
function agentClass(): AgentClass | undefined {
  const dispatcher = (globalThis as Record<symbol, unknown>)[Symbol.for("undici.globalDispatcher.1")];
  const ctor = (dispatcher as { constructor?: unknown } | undefined)?.constructor;
  return typeof ctor === "function" && ctor.name === "Agent" ? ctor as AgentClass : undefined;
}

export function openWsLink(params: LinkParams, events: LinkEvents, options: WsLinkOptions = {}): Link {
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_WS_MAX_MESSAGE_BYTES;
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const secure = params.tls !== undefined;
  const host = net.isIPv6(params.host) ? `[${params.host}]` : params.host;
  const path = params.wsPath.startsWith("/") ? params.wsPath : `/${params.wsPath}`;
  const url = `${secure ? "wss" : "ws"}://${host}:${params.port}${path}`;

  /** Set once the link is over (closed, destroyed or failed): no event after that. */
  let done = false;
  let opened = false;
  let failure: LinkError | undefined;
  let raw: net.Socket | undefined;
  let agent: Dispatcher | undefined;
  let ws: RuntimeWebSocket | undefined;
  let handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  let drainTimer: ReturnType<typeof setTimeout> | undefined;
  let closeTimer: ReturnType<typeof setTimeout> | undefined;
  /** The HTTP status of a handshake answered without an upgrade. */
  let handshakeStatus = 0;
  // The receive queue: chunks[head..] wait for read(); queued counts their bytes.
  let chunks: Uint8Array[] = [];
  let head = 0;
  let queued = 0;
  let paused = false;
  /** Bytes off the socket since the last complete message: what undici holds of one unfinished message. */
  let sinceMessage = 0;

  const clearTimers = (): void => {
    if (handshakeTimer !== undefined) clearTimeout(handshakeTimer);
    if (drainTimer !== undefined) clearTimeout(drainTimer);
    if (closeTimer !== undefined) clearTimeout(closeTimer);
    handshakeTimer = drainTimer = closeTimer = undefined;
  };

  /** Tears everything down; reports `error` through onClose unless the user ended the link. */
  const finish = (report: boolean, error: LinkError | undefined): void => {
    if (done) return;
    done = true;
    clearTimers();
    chunks = [];
    head = queued = 0;
    if (ws !== undefined) {
      ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
      if (ws.readyState < 2) {
        try {
          ws.close();
        } catch {
          // Already closing.
        }
      }
    }
    raw?.destroy();
    if (agent !== undefined) {
      // The upgraded socket left the Agent's pool; this only ends an unfinished handshake.
      agent.destroy().catch(() => {});
    }
    if (report) events.onClose(error);
  };

  const fail = (error: LinkError): void => {
    failure ??= error;
    // Reported from the event loop, never from inside a call the client made.
    setImmediate(() => finish(true, failure));
  };

  const WebSocket = runtimeWebSocket();
  if (WebSocket === undefined) {
    fail({ rc: MQTT_ERR_NOT_SUPPORTED, message: "WebSockets need the runtime's WebSocket: Node 22 or later, or Node 20/21 started with --experimental-websocket" });
    return linkOver();
  }

  const Agent = agentClass();
  if (Agent === undefined && (secure || params.bindAddress !== "")) {
    fail({ rc: MQTT_ERR_NOT_SUPPORTED, message: `${secure ? "secure WebSockets (wss://)" : "bindAddress over WebSockets"} need undici's Agent, and the global dispatcher is not one (a proxy dispatcher?)` });
    return linkOver();
  }

  let tlsOptions: tls.ConnectionOptions | undefined;
  try {
    tlsOptions = params.tls === undefined ? undefined : tlsConnectOptions(params, params.tls);
  } catch (e) {
    fail({ rc: MQTT_ERR_TLS, message: `TLS settings for ${url}: ${(e as Error).message}` });
    return linkOver();
  }

  /**
   * Counts what undici holds of an unfinished message: the bytes received since its last complete one
   * (an overcount by at most one chunk, since this runs after undici has taken the chunk apart).
   */
  const onRawData = (chunk: Buffer): void => {
    sinceMessage += chunk.length;
    if (sinceMessage > maxMessageBytes) {
      fail({ rc: MQTT_ERR_PROTOCOL, message: `the broker sent a WebSocket message of more than ${maxMessageBytes} bytes (NodeHost.wsMaxMessageBytes)` });
      raw?.pause();
      return;
    }
    if (queued > RECEIVE_HIGH_WATER && !paused) {
      paused = true;
      raw?.pause();
    }
  };

  const connect: Connector = (_options, callback) => {
    const socket = tlsOptions === undefined
      ? net.connect(params.bindAddress === "" ? { host: params.host, port: params.port } : { host: params.host, port: params.port, localAddress: params.bindAddress })
      : tls.connect(tlsOptions);
    raw = socket;
    let called = false;
    socket.on("error", (error: NodeJS.ErrnoException) => {
      // undici destroys the socket with errors of its own (UND_ERR_*: "reset" after an HTTP answer that
      // was not an upgrade): the handshake's outcome says more than those.
      if (!(error.code ?? "").startsWith("UND_ERR")) failure ??= describe(error, params, url);
      if (!called) {
        called = true;
        callback(error, null);
      }
    });
    socket.once(tlsOptions === undefined ? "connect" : "secureConnect", () => {
      socket.setNoDelay(true);
      if (called) return;
      called = true;
      callback(null, socket);
    });
    return socket;
  };

  if (Agent !== undefined) {
    const base = new Agent({ connect, connections: 1, pipelining: 0 });
    agent = base;
  }

  /** The dispatcher WebSocket uses: the Agent, watched for the status of a handshake that fails. */
  const dispatcher = agent === undefined ? undefined : {
    dispatch(opts: unknown, handler: Record<string, unknown>): boolean {
      const watched = new Proxy(handler, {
        get(target, prop) {
          const value = Reflect.get(target, prop) as unknown;
          // onHeaders(status, ...) in undici 6 (Node 20, 22); onResponseStart(controller, status, ...) in
          // undici 7's handler API. Anything else passes through untouched.
          if (prop === "onHeaders" && typeof value === "function") {
            return (status: number, ...rest: unknown[]) => {
              handshakeStatus = status;
              return (value as (...a: unknown[]) => unknown).call(target, status, ...rest);
            };
          }
          if (prop === "onResponseStart" && typeof value === "function") {
            return (controller: unknown, status: number, ...rest: unknown[]) => {
              handshakeStatus = status;
              return (value as (...a: unknown[]) => unknown).call(target, controller, status, ...rest);
            };
          }
          return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      return agent!.dispatch(opts, watched);
    },
    close: () => agent!.close(),
    destroy: () => agent!.destroy(),
  };

  try {
    const init: { protocols: string[]; headers?: Record<string, string>; dispatcher?: unknown } = { protocols: ["mqtt"] };
    if (params.wsHeaders !== undefined) init.headers = params.wsHeaders;
    if (dispatcher !== undefined) init.dispatcher = dispatcher;
    ws = new WebSocket(url, init);
  } catch (e) {
    fail({ rc: MQTT_ERR_NO_CONN, message: `cannot open ${url}: ${(e as Error).message}` });
    return linkOver();
  }
  ws.binaryType = "arraybuffer";

  handshakeTimer = setTimeout(() => {
    handshakeTimer = undefined;
    fail({ rc: MQTT_ERR_NO_CONN, message: `the WebSocket handshake with ${url} took more than ${handshakeTimeoutMs} ms` });
  }, handshakeTimeoutMs);

  ws.onopen = () => {
    if (done) return;
    if (handshakeTimer !== undefined) clearTimeout(handshakeTimer);
    handshakeTimer = undefined;
    opened = true;
    // After undici's own listener, which hands complete messages over first (see onRawData).
    raw?.on("data", onRawData);
    events.onOpen();
  };

  ws.onmessage = (e) => {
    if (done) return;
    sinceMessage = 0;
    const data = e.data;
    if (!(data instanceof ArrayBuffer)) {
      fail({ rc: MQTT_ERR_PROTOCOL, message: "the broker sent a text WebSocket message; MQTT travels in binary messages" });
      return;
    }
    if (data.byteLength === 0) return;
    chunks.push(new Uint8Array(data));
    queued += data.byteLength;
    if (queued > RECEIVE_HIGH_WATER && !paused && raw !== undefined) {
      paused = true;
      raw.pause();
    }
    events.onReadable();
  };

  /** Why a handshake that never opened failed: the socket's error, else what the server answered. */
  const handshakeFailure = (): LinkError => failure ?? { rc: MQTT_ERR_NO_CONN, message: `the WebSocket handshake with ${url} failed: ${
    handshakeStatus !== 0 && handshakeStatus !== 101 ? `the server answered HTTP ${handshakeStatus}` : "the server did not upgrade the connection to subprotocol \"mqtt\""}` };

  ws.onerror = () => {
    // The reason is the socket's error (kept in `failure`) or the close event that follows. undici 6
    // (Node 20) fires no close event for a handshake that failed, so that case ends here.
    if (!opened) fail(handshakeFailure());
  };

  ws.onclose = (e) => {
    if (done) return;
    if (!opened) failure = handshakeFailure();
    if (failure === undefined && !e.wasClean && e.code !== 1000 && e.code !== 1005) {
      failure = { rc: MQTT_ERR_CONN_LOST, message: `the WebSocket to ${url} closed with code ${e.code}${e.reason === "" ? "" : ` (${e.reason})`}` };
    }
    finish(true, failure);
  };

  function linkOver(): Link {
    const socketOf = (): unknown => ws ?? null;
    return {
      get socket() {
        return socketOf();
      },
      read(): Uint8Array | null {
        if (head >= chunks.length) return null;
        const chunk = chunks[head]!;
        chunks[head++] = EMPTY;
        queued -= chunk.length;
        if (head === chunks.length) {
          chunks.length = 0;
          head = 0;
        } else if (head > 1024 && head * 2 > chunks.length) {
          chunks = chunks.slice(head);
          head = 0;
        }
        if (paused && queued < RECEIVE_LOW_WATER && !done) {
          paused = false;
          raw?.resume();
        }
        return chunk;
      },
      write(bytes: Uint8Array, offset: number, length: number): number {
        if (done || ws === undefined || ws.readyState !== OPEN) return 0;
        if (ws.bufferedAmount > SEND_HIGH_WATER) {
          waitForDrain();
          return 0;
        }
        // A copy: the client reuses its output ring as soon as write() returns.
        ws.send(bytes.slice(offset, offset + length));
        return length;
      },
      close(): void {
        if (done) return;
        const socket = ws;
        if (socket === undefined || socket.readyState !== OPEN) {
          finish(false, undefined);
          return;
        }
        // Quietly from here on: the close frame follows what was sent; the socket goes once the server
        // answers, or after CLOSE_TIMEOUT_MS.
        done = true;
        clearTimers();
        chunks = [];
        head = queued = 0;
        socket.onopen = socket.onmessage = socket.onerror = null;
        const end = (): void => {
          if (closeTimer !== undefined) clearTimeout(closeTimer);
          closeTimer = undefined;
          raw?.destroy();
          agent?.close().catch(() => {});
        };
        socket.onclose = end;
        closeTimer = setTimeout(end, CLOSE_TIMEOUT_MS);
        closeTimer.unref?.();
        if (paused) raw?.resume();
        try {
          socket.close(1000);
        } catch {
          end();
        }
      },
      destroy(): void {
        finish(false, undefined);
      },
    };
  }

  function waitForDrain(): void {
    if (drainTimer !== undefined) return;
    const poll = (): void => {
      drainTimer = undefined;
      if (done || ws === undefined) return;
      if (ws.bufferedAmount > SEND_LOW_WATER) {
        drainTimer = setTimeout(poll, DRAIN_POLL_MS);
        return;
      }
      events.onWritable();
    };
    drainTimer = setTimeout(poll, DRAIN_POLL_MS);
  }

  return linkOver();
}

const EMPTY = new Uint8Array(0);



function describe(error: NodeJS.ErrnoException, params: LinkParams, url: string): LinkError {
  const where = `${params.host}:${params.port}`;
  const code = error.code ?? "";
  if (TLS_CODES.test(code) || error.message.includes("certificate") || error.message.includes("SSL")) {
    return { rc: MQTT_ERR_TLS, message: `TLS failure with ${url}: ${tlsReason(error)}` };
  }
  if (code === "ECONNREFUSED") return { rc: MQTT_ERR_NO_CONN, message: `connection refused by ${where}` };
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return { rc: MQTT_ERR_NO_CONN, message: `cannot resolve ${params.host}` };
  return { rc: MQTT_ERR_NO_CONN, message: `${code === "" ? "" : `${code}: `}${error.message} (${url})` };
}

/**
 * OpenSSL's errors arrive as its error-queue line ("80FC...:error:0A00045C:SSL routines:ssl3_read_bytes:
 * tlsv13 alert certificate required:../deps/openssl/...c:1601:SSL alert number 116\n"): keep the words.
 */
function tlsReason(error: NodeJS.ErrnoException): string {
  const message = error.message.trim();
  const openssl = /^[0-9A-F]+:error:[0-9A-F]+:[^:]*:[^:]*:([^:]+):/.exec(message);
  if (openssl === null) return message;
  return error.code === undefined ? openssl[1]! : `${openssl[1]!} (${error.code})`;
}
