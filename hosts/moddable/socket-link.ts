/**
 * A Link over a Moddable `socket` (TCP) or `securesocket` (TLS). Both report through one callback:
 * 1 connected, 2 bytes received (value: how many), 3 room to write (value: how many), -1 disconnected,
 * -2 error. Received bytes may only be read inside that callback (a SecureSocket holds its plaintext only
 * then), so each callback's bytes are read at once into a chunk that waits for the client's read(); the
 * client reads them before returning when a loop runs. Writes never block: write() offers only what
 * fits now (`socket.write()` with no argument says how much) and onWritable follows the next "room" report.
 * Host names are resolved by the socket itself, as everywhere in Moddable: lwIP's DNS on a device. A
 * socket that cannot even start (an unusable name, no free socket) throws, and connect() rejects with it.
 */
import type { Socket } from "socket";
import type SecureSocket from "securesocket";
import { MQTT_ERR_CONN_LOST, MQTT_ERR_NO_CONN, MQTT_ERR_TLS } from "../../src/paho/constants.js";
import type { Link, LinkError, LinkEvents, LinkParams } from "../../src/connection/host.js";

const CONNECTED = 1;
const READABLE = 2;
const WRITABLE = 3;

/** What the link needs of either socket class (the typings give SecureSocket no callback). */
export interface MessageSocket {
  callback: (message: number, value?: number) => void;
  read(type: typeof ArrayBuffer): ArrayBuffer;
  read(): number;
  write(): number;
  write(data: Uint8Array): void;
  close(): void;
}

export type SocketConstructor = typeof Socket;
export type SecureSocketConstructor = typeof SecureSocket;
export type ResourceConstructor = new (path: string) => object;

/** The socket classes (and, for TLS files by name, Resource) the link builds on. */
export interface SocketClasses {
  Socket: SocketConstructor;
  SecureSocket: SecureSocketConstructor | undefined;
  Resource: ResourceConstructor | undefined;
}

export class SocketLink implements Link {
  readonly socket: MessageSocket;
  private readonly events: LinkEvents;
  private readonly where: string;
  private readonly secure: boolean;
  /** Received chunks not read yet, oldest first. */
  private readonly chunks: Uint8Array[] = [];
  private open = false;
  private waiting = false;
  private done = false;
  /** A write has gone into the socket: a failing write after it is a lost connection, not a refused one. */
  private wrote = false;

  constructor(params: LinkParams, events: LinkEvents, sockets: SocketClasses) {
    this.events = events;
    this.where = `${params.host}:${params.port}`;
    this.secure = params.tls !== undefined;
    // Always `host`: lwIP's resolver returns a dotted address as it is, and SecureSocket takes the TLS
    // server name (SNI and the certificate check, an IP address included) from it.
    const dictionary: Record<string, unknown> = { host: params.host, port: params.port, noDelay: true };
    if (params.tls !== undefined) {
      if (sockets.SecureSocket === undefined) {
        throw new Error('TLS needs SecureSocket: include "$(MODDABLE)/modules/crypt/tls.json" and give the client a ModdableHost whose SecureSocket is set');
      }
      dictionary.secure = secureDictionary(params, sockets.Resource);
      this.socket = new sockets.SecureSocket(dictionary) as unknown as MessageSocket;
    } else {
      this.socket = new sockets.Socket(dictionary as { host: string; port: number }) as unknown as MessageSocket;
    }
    this.socket.callback = (message, value) => this.onMessage(message, value ?? 0);
  }

  read(): Uint8Array | null {
    return this.chunks.shift() ?? null;
  }

  write(bytes: Uint8Array, offset: number, length: number): number {
    if (this.done || !this.open) return 0;
    const n = Math.max(0, Math.min(length, this.socket.write()));
    // Anything short of the whole offer is owed an onWritable when the socket reports room again.
    if (n < length) this.waiting = true;
    if (n > 0) {
      try {
        this.socket.write(bytes.subarray(offset, offset + n));
      } catch {
        // Moddable's lin socket reports a refused connection as connected (the socket turned writable) and
        // throws on the first write; a write can also fail on a broken connection. The link is gone, and
        // says so once this call has returned, as a socket's own report would.
        const error: LinkError = this.wrote
          ? { rc: MQTT_ERR_CONN_LOST, message: `write failed on the connection to ${this.where}` }
          : { rc: MQTT_ERR_NO_CONN, message: `cannot connect to ${this.where}` };
        this.end();
        void Promise.resolve().then(() => this.events.onClose(error));
        return 0;
      }
      this.wrote = true;
    }
    return n;
  }

  /** Moddable sockets have no half-close: what write() took is already in the TCP stack's hands. */
  close(): void {
    this.end();
  }

  destroy(): void {
    this.end();
  }

  private onMessage(message: number, value: number): void {
    if (this.done) return;
    if (message === CONNECTED) {
      this.open = true;
      this.events.onOpen();
    } else if (message === READABLE) {
      if (value > 0 && this.socket.read() > 0) {
        this.chunks.push(new Uint8Array(this.socket.read(ArrayBuffer)));
        this.events.onReadable();
      }
    } else if (message === WRITABLE) {
      if (this.waiting && value > 0) {
        this.waiting = false;
        this.events.onWritable();
      }
    } else if (message < 0) {
      this.fail(message);
    }
  }

  private fail(message: number): void {
    const wasOpen = this.open;
    this.end();
    let error: LinkError | undefined;
    if (!wasOpen) {
      error = this.secure
        ? { rc: MQTT_ERR_TLS, message: `TLS connection to ${this.where} failed (connection, certificate or handshake)` }
        : { rc: MQTT_ERR_NO_CONN, message: `cannot connect to ${this.where}` };
    } else if (message !== -1) {
      error = { rc: MQTT_ERR_CONN_LOST, message: `socket error on the connection to ${this.where}` };
    }
    this.events.onClose(error);
  }

  private end(): void {
    if (this.done) return;
    this.done = true;
    this.open = false;
    this.chunks.length = 0;
    this.socket.close();
  }
}

/**
 * Paho's TLS options as a SecureSocket `secure` dictionary. A context from tlsSetContext() is that
 * dictionary itself. Certificates and keys are named resources (DER), as Moddable stores them.
 */
function secureDictionary(params: LinkParams, Resource: ResourceConstructor | undefined): Record<string, unknown> {
  const t = params.tls!;
  if (t.context !== undefined) return t.context as Record<string, unknown>;
  if (t.insecure === true) {
    throw new Error("Moddable's TLS cannot skip only the host-name check: tlsSet({ certReqs: false }) skips verification entirely");
  }
  const secure: Record<string, unknown> = {};
  const resource = (name: string): object => {
    if (Resource === undefined) throw new Error(`TLS files are resources on Moddable: set the ModdableHost's Resource = Resource to load "${name}"`);
    return new Resource(name);
  };
  if (t.caCerts !== undefined) secure.certificate = resource(t.caCerts);
  if (t.certfile !== undefined) secure.clientCertificates = [resource(t.certfile)];
  if (t.keyfile !== undefined) secure.clientKey = resource(t.keyfile);
  if (t.certReqs === false) secure.verify = false;
  if (t.tlsVersion !== undefined) secure.protocolVersion = tlsVersion(t.tlsVersion);
  if (t.alpnProtocols !== undefined) secure.applicationLayerProtocolNegotiation = t.alpnProtocols;
  return secure;
}

/** "TLSv1.2", "1.2" or "0x303" -> 0x303. */
function tlsVersion(v: string): number {
  const hex = /^0x30[0-4]$/i.test(v) ? Number(v) : undefined;
  if (hex !== undefined) return hex;
  const m = /^(?:TLSv?)?1\.([0-3])$/i.exec(v);
  if (m === null) throw new RangeError(`unknown TLS version ${v}: use "TLSv1.2" or "TLSv1.3"`);
  return 0x301 + Number(m[1]);
}
