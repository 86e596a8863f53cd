/**
 * A Link over node:net or node:tls. The socket reads into one buffer shared by every link of the process
 * (net.Socket's `onread`), which skips Node's stream machinery (a Buffer, a queue and a 'readable' event per
 * chunk: 2 to 3 µs of CPU per chunk here, bench/results/qos2.md): each chunk goes to the client from the read
 * callback itself, copied out of the shared buffer as the client reads it. A chunk the client has not read
 * by the time that callback returns (Paho's loop(), or input it is still working through) is kept and the
 * socket stops reading until the client has it, so a slow consumer pushes back on the broker through TCP
 * instead of buffering without bound.
 *
 * User code that holds the socket (Client.socket(), Paho's socket callbacks) drives an external loop with the
 * socket's own events ('readable', read(), readableLength): from the moment it first gets the socket, the
 * link hands each chunk to the socket's stream instead, and reads it back from there, as Node's own reading does.
 */
import net from "node:net";
import tls from "node:tls";
import { MQTT_ERR_NO_CONN, MQTT_ERR_TLS } from "../../src/paho/constants.js";
import type { Link, LinkError, LinkEvents, LinkParams } from "../../src/connection/host.js";
import { tlsConnectOptions } from "./tls-options.js";

/** Codes of TLS failures, reported as MQTT_ERR_TLS with the reason. */
const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|UNABLE_TO_|CERT_|SELF_SIGNED|DEPTH_ZERO|HOSTNAME_MISMATCH|ERR_OSSL)/;

/** A TCP or TLS handshake that takes longer than this is abandoned. */
const CONNECT_TIMEOUT_MS = 30_000;

/**
 * Where every link's socket reads: a read fills it and its callback (onRead) is done with it before the
 * event loop runs another read, so one buffer serves all the links of a process. 64 KiB, as Node's own reads.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

export function openTcpLink(params: LinkParams, events: LinkEvents): Link {
  let options: tls.ConnectionOptions | undefined;
  if (params.tls !== undefined) {
    try {
      options = tlsConnectOptions(params, params.tls);
    } catch (e) {
      // A certificate or key file that cannot be read: a TLS failure of this attempt, reported as one.
      const message = `cannot read a TLS file: ${(e as Error).message}`;
      setImmediate(() => events.onClose({ rc: MQTT_ERR_TLS, message }));
      return { socket: null, read: () => null, write: () => 0, close: () => {}, destroy: () => {} };
    }
  }
  // tls.connect() takes net's onread too (Node's documentation); @types/node leaves it out of its options.
  const socket = options === undefined ? net.connect(netOptions(params)) : tls.connect({ ...options, onread: ON_READ } as tls.ConnectionOptions);
  return new TcpLink(socket, params, events);
}

/**
 * The link of each socket, for the listeners below: functions shared by every link rather than closures
 * made for each, since a process may hold thousands of idle connections (bench/client-memory.ts).
 */
const links = new WeakMap<net.Socket, TcpLink>();

class TcpLink implements Link {
  readonly tcp: net.Socket;
  readonly host: string;
  readonly port: number;
  readonly events: LinkEvents;
  closed = false;
  failure: LinkError | undefined = undefined;
  /** Until the TCP (or TLS) handshake completes; dropped then. */
  connectTimer: ReturnType<typeof setTimeout> | undefined;
  /** Bytes at the start of READ_BUFFER the client has not read yet: only ever non-zero inside onRead. */
  waiting = 0;
  /** A chunk the client had not read when onRead returned, copied out of READ_BUFFER; the socket reads no more meanwhile. */
  held: Buffer | null = null;
  /** User code has the socket: chunks go through its stream (see the top of this file). */
  streamed = false;

  constructor(socket: net.Socket, params: LinkParams, events: LinkEvents) {
    this.tcp = socket;
    this.host = params.host;
    this.port = params.port;
    this.events = events;
    links.set(socket, this);
    // A timer of the link's own rather than socket.setTimeout(), which leaves its cleared timer and listener
    // on the socket for the connection's life. Unreferenced, as that one is: the pending socket keeps the
    // process alive.
    this.connectTimer = setTimeout(connectTimedOut, CONNECT_TIMEOUT_MS, this).unref();
    socket.once(params.tls === undefined ? "connect" : "secureConnect", onConnect);
    socket.on("drain", onDrain);
    socket.on("error", onError);
    socket.on("close", onClose);
  }

  /** For user code only (Link.socket): from now on the socket's stream carries what is read. */
  get socket(): net.Socket {
    if (!this.streamed) this.streamFromNowOn();
    return this.tcp;
  }

  read(): Uint8Array | null {
    if (this.streamed) return this.tcp.read() as Buffer | null;
    const waiting = this.waiting;
    if (waiting > 0) {
      this.waiting = 0;
      return copyOfRead(waiting);
    }
    const held = this.held;
    if (held !== null) {
      // Taken at last: the socket reads on.
      this.held = null;
      this.tcp.resume();
    }
    return held;
  }

  write(bytes: Uint8Array, offset: number, length: number): number {
    const socket = this.tcp;
    if (socket.destroyed || socket.writableNeedDrain) return 0;
    // Copied: the client reuses its output ring as soon as write() returns.
    socket.write(Buffer.from(bytes.subarray(offset, offset + length)));
    return length;
  }

  close(): void {
    this.closed = true;
    // Once our last bytes are out the socket is released, whatever the peer does: a peer that never
    // closes its side must not hold it half-open.
    const socket = this.tcp;
    socket.end(() => socket.destroy());
  }

  destroy(): void {
    this.closed = true;
    this.tcp.destroy();
  }

  stopConnectTimer(): void {
    if (this.connectTimer === undefined) return;
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
  }

  /**
   * Hands what the client has not read to the socket's stream, and listens to the stream as the user's loop
   * does. push() is how a socket's own reading feeds its stream: its answer (false past the high-water mark)
   * stops the reading, and the stream's next read() starts it again.
   */
  private streamFromNowOn(): void {
    this.streamed = true;
    const socket = this.tcp;
    // Listening first takes the stream out of flowing mode (a resume() for a held chunk put it there), so
    // what is pushed next waits in the stream instead of going to 'data' listeners nobody has.
    socket.on("readable", onReadable);
    if (this.waiting > 0) {
      socket.push(copyOfRead(this.waiting));
      this.waiting = 0;
    }
    if (this.held !== null) {
      socket.push(this.held);
      this.held = null;
    }
  }
}

/** The first `length` bytes of READ_BUFFER, in a buffer of their own (from Node's pool when small). */
function copyOfRead(length: number): Buffer {
  const chunk = Buffer.allocUnsafe(length);
  READ_BUFFER.copy(chunk, 0, 0, length);
  return chunk;
}

/** Every socket's read callback (net.Socket's onread), shared by all links as the listeners are. */
const ON_READ = { buffer: READ_BUFFER, callback: onRead };

/** Returns false to stop the socket reading (Node's onread contract), until read() or the stream starts it again. */
function onRead(this: net.Socket, length: number): boolean {
  const link = links.get(this)!;
  if (link.streamed) return this.push(copyOfRead(length));
  link.waiting = length;
  link.events.onReadable();
  // Read by the client, or handed to the stream by streamFromNowOn() when its code took the socket meanwhile.
  if (link.waiting === 0) return true;
  link.held = copyOfRead(link.waiting);
  link.waiting = 0;
  return false;
}

function connectTimedOut(link: TcpLink): void {
  link.connectTimer = undefined;
  link.failure ??= { rc: MQTT_ERR_NO_CONN, message: `no connection to ${link.host}:${link.port} within ${CONNECT_TIMEOUT_MS / 1000} s` };
  link.tcp.destroy();
}

function onConnect(this: net.Socket): void {
  const link = links.get(this)!;
  link.stopConnectTimer();
  this.setNoDelay(true);
  link.events.onOpen();
}

function onReadable(this: net.Socket): void {
  links.get(this)!.events.onReadable();
}

function onDrain(this: net.Socket): void {
  links.get(this)!.events.onWritable();
}

function onError(this: net.Socket, error: NodeJS.ErrnoException): void {
  const link = links.get(this)!;
  link.failure ??= describe(error, link);
}

function onClose(this: net.Socket): void {
  const link = links.get(this)!;
  link.stopConnectTimer();
  if (link.closed) return;
  link.closed = true;
  link.events.onClose(link.failure);
}

function netOptions(params: LinkParams): net.NetConnectOpts {
  const options: net.NetConnectOpts = { host: params.host, port: params.port, onread: ON_READ };
  if (params.bindAddress !== "") options.localAddress = params.bindAddress;
  return options;
}

function describe(error: NodeJS.ErrnoException, params: Pick<LinkParams, "host" | "port">): LinkError {
  const where = `${params.host}:${params.port}`;
  const code = error.code ?? "";
  if (TLS_CODES.test(code) || error.message.includes("certificate") || error.message.includes("SSL")) {
    // OpenSSL's own text is a colon-separated dump; its `reason` is the part a person needs.
    const openssl = (error as NodeJS.ErrnoException & { reason?: string }).reason;
    const reason = code.startsWith("ERR_SSL_") && openssl !== undefined ? openssl : error.message.trim();
    return { rc: MQTT_ERR_TLS, message: `TLS failure with ${where}: ${reason}${code === "" ? "" : ` (${code})`}` };
  }
  if (code === "ECONNREFUSED") return { rc: MQTT_ERR_NO_CONN, message: `connection refused by ${where}` };
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return { rc: MQTT_ERR_NO_CONN, message: `cannot resolve ${params.host}` };
  return { rc: MQTT_ERR_NO_CONN, message: `${code === "" ? "" : `${code}: `}${error.message}` };
}
