/**
 * A Link over node:net or node:tls. The socket runs in paused mode: 'readable' tells the client bytes are
 * waiting and the client pulls them with read() when it is ready to, so a slow consumer pushes back on the
 * broker through TCP instead of buffering without bound.
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
  const socket = options === undefined ? net.connect(netOptions(params)) : tls.connect(options);
  return new TcpLink(socket, params, events);
}

/**
 * The link of each socket, for the listeners below: functions shared by every link rather than closures
 * made for each, since a process may hold thousands of idle connections (bench/client-memory.ts).
 */
const links = new WeakMap<net.Socket, TcpLink>();

class TcpLink implements Link {
  readonly socket: net.Socket;
  readonly host: string;
  readonly port: number;
  readonly events: LinkEvents;
  closed = false;
  failure: LinkError | undefined = undefined;
  /** Until the TCP (or TLS) handshake completes; dropped then. */
  connectTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(socket: net.Socket, params: LinkParams, events: LinkEvents) {
    this.socket = socket;
    this.host = params.host;
    this.port = params.port;
    this.events = events;
    links.set(socket, this);
    // A timer of the link's own rather than socket.setTimeout(), which leaves its cleared timer and listener
    // on the socket for the connection's life. Unreferenced, as that one is: the pending socket keeps the
    // process alive.
    this.connectTimer = setTimeout(connectTimedOut, CONNECT_TIMEOUT_MS, this).unref();
    socket.once(params.tls === undefined ? "connect" : "secureConnect", onConnect);
    socket.on("readable", onReadable);
    socket.on("drain", onDrain);
    socket.on("error", onError);
    socket.on("close", onClose);
    socket.pause();
  }

  read(): Uint8Array | null {
    return this.socket.read() as Buffer | null;
  }

  write(bytes: Uint8Array, offset: number, length: number): number {
    const socket = this.socket;
    if (socket.destroyed || socket.writableNeedDrain) return 0;
    // Copied: the client reuses its output ring as soon as write() returns.
    socket.write(Buffer.from(bytes.subarray(offset, offset + length)));
    return length;
  }

  close(): void {
    this.closed = true;
    // Once our last bytes are out the socket is released, whatever the peer does: a peer that never
    // closes its side must not hold it half-open.
    const socket = this.socket;
    socket.end(() => socket.destroy());
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  stopConnectTimer(): void {
    if (this.connectTimer === undefined) return;
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
  }
}

function connectTimedOut(link: TcpLink): void {
  link.connectTimer = undefined;
  link.failure ??= { rc: MQTT_ERR_NO_CONN, message: `no connection to ${link.host}:${link.port} within ${CONNECT_TIMEOUT_MS / 1000} s` };
  link.socket.destroy();
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
  const options: net.NetConnectOpts = { host: params.host, port: params.port };
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
