/**
 * What a host gives the client: a clock, one timer, and transports. The client (src/) is the same on every
 * host; hosts/node and hosts/moddable implement this. Transports are pull-style, like Moddable's sockets
 * and ECMA-419: the host says bytes are waiting and the client reads them when it is ready to, which is
 * also what Paho's external event loop (loopRead/loopWrite) needs.
 */

export interface TlsOptions {
  /** PEM text or file paths, as the host understands them. */
  caCerts?: string | undefined;
  certfile?: string | undefined;
  keyfile?: string | undefined;
  /** Paho's cert_reqs: verify the broker's certificate (default true). */
  certReqs?: boolean | undefined;
  tlsVersion?: string | undefined;
  ciphers?: string | undefined;
  alpnProtocols?: string[] | undefined;
  /** A host-specific prepared context (Node: tls.SecureContext). */
  context?: unknown;
  /** Skips only the host-name check (tlsInsecureSet). */
  insecure?: boolean | undefined;
}

export interface LinkParams {
  host: string;
  port: number;
  bindAddress: string;
  transport: "tcp" | "websockets";
  tls: TlsOptions | undefined;
  wsPath: string;
  wsHeaders: Record<string, string> | undefined;
}

export interface LinkError {
  /** An MQTT_ERR_* code: MQTT_ERR_TLS for a TLS failure, MQTT_ERR_NO_CONN for a refused connection... */
  rc: number;
  message: string;
}

export interface LinkEvents {
  /** The link is up: bytes may be written. */
  onOpen(): void;
  /** Bytes are waiting for read(). */
  onReadable(): void;
  /** write() took less than offered earlier; now it can take more. */
  onWritable(): void;
  /** The link is gone, with the reason when it failed. Called once, never after close()/destroy() return. */
  onClose(error: LinkError | undefined): void;
}

export interface Link {
  /** The next received chunk, or null when none is waiting. The client is done with it before the next read. */
  read(): Uint8Array | null;
  /** Takes up to `length` bytes of bytes[offset...] (copying them); returns how many it took. */
  write(bytes: Uint8Array, offset: number, length: number): number;
  /** Closes after what was written has gone out. */
  close(): void;
  /** Drops the link now. */
  destroy(): void;
  /**
   * What Client.socket() returns: the host's socket object. Read only for user code (Client.socket(), the
   * socket callbacks): a host may read its socket its own way until then, and as that socket's events
   * expect from then on (hosts/node/tcp-link.ts).
   */
  readonly socket: unknown;
}

export interface Host {
  /** Milliseconds from a monotonic clock. */
  now(): number;
  setTimer(callback: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
  /** Runs callback soon, from the host's event loop rather than the current call. */
  defer(callback: () => void): void;
  open(params: LinkParams, events: LinkEvents): Link;
}

/**
 * The default host lives on the global object, registered at run time, rather than in a module variable:
 * Moddable's linker preloads this module into flash, where a mutable binding would be copied to RAM.
 */
const DEFAULT_HOST = Symbol.for("tinymqtt.defaultHost");
type HostRegistry = { [DEFAULT_HOST]?: Host };

/** Hosts register themselves so `new Client()` works without naming one (tinymqtt on Node does this). */
export function setDefaultHost(host: Host): void {
  (globalThis as HostRegistry)[DEFAULT_HOST] = host;
}

export function getDefaultHost(): Host {
  const defaultHost = (globalThis as HostRegistry)[DEFAULT_HOST];
  if (defaultHost === undefined) {
    throw new Error("no host: pass { host } to new Client(), or import tinymqtt through a host entry (tinymqtt/node, tinymqtt/moddable)");
  }
  return defaultHost;
}
