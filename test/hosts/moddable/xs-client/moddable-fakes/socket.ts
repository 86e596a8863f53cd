// Moddable's `socket` module as the XS lane's fake, with the semantics hosts/moddable relies on (read from
// Moddable's documentation and its lwIP implementation): callback(1) connected, callback(2, n) received,
// callback(3, n) room to write, callback(-1) disconnected, callback(-2) error; received bytes can be read
// only inside the callback(2) call; write() with no argument tells the room, and writing more than the
// room throws, as lwIP's "can't write all data". The room is lwIP's default send buffer on an ESP32; it
// comes back, with callback(3), in a later turn, as TCP acknowledgements would bring it.
import type { LinkError } from "../../../../../src/connection/host.js";
import { type BridgeLink, bridge } from "../xs-host.js";

/** CONFIG_LWIP_TCP_SND_BUF_DEFAULT on ESP-IDF. */
export const SEND_BUFFER = 5744;

type Data = string | number | ArrayBuffer | ArrayBufferView;

export class Socket {
  callback: (message: number, value?: number) => void = () => {};
  private readonly link: BridgeLink;
  private data: Uint8Array | null = null;
  private position = 0;
  private room = SEND_BUFFER;
  private refill = false;
  /** Bytes written within the room that the bridge could not take yet (the TCP stack's send buffer). */
  private readonly unsent: Uint8Array[] = [];
  private closed = false;

  constructor(dictionary: { host?: string; address?: string; port: number; noDelay?: boolean }) {
    const host = dictionary.address ?? dictionary.host;
    if (host === undefined) throw new Error("host or address required");
    this.link = bridge.open({ host, port: dictionary.port, bindAddress: "", transport: "tcp", tls: undefined, wsPath: "", wsHeaders: undefined }, {
      onOpen: () => this.callback(1),
      onReadable: () => this.received(),
      onWritable: () => this.drain(),
      onClose: (error: LinkError | undefined) => {
        if (!this.closed) this.callback(error === undefined ? -1 : -2);
      },
    }) as BridgeLink;
  }

  read(type?: unknown, until?: number): unknown {
    const left = this.data === null ? 0 : this.data.length - this.position;
    if (arguments.length === 0) return left;
    if (this.data === null || left === 0) throw new Error("nothing to read");
    const n = until === undefined ? left : Math.min(left, until);
    const start = this.position;
    this.position += n;
    if (type === ArrayBuffer) return this.data.slice(start, start + n).buffer;
    if (type === null) return n;
    throw new Error("unsupported output type");
  }

  write(...items: Data[]): number | undefined {
    if (items.length === 0) return this.closed ? 0 : this.room;
    const bytes = items.map(toBytes);
    const needed = bytes.reduce((n, b) => n + b.length, 0);
    if (needed > this.room) throw new Error("can't write all data");
    for (const b of bytes) {
      const taken = this.unsent.length > 0 ? 0 : this.link.write(b, 0, b.length);
      if (taken < b.length) this.unsent.push(b.slice(taken));
    }
    this.room -= needed;
    if (!this.refill && this.unsent.length === 0) {
      this.refill = true;
      Promise.resolve().then(() => this.refilled());
    }
    return undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.link.destroy();
  }

  /** The driver's socket drained: what the send buffer holds goes out, then the room comes back. */
  private drain(): void {
    while (this.unsent.length > 0 && !this.closed) {
      const b = this.unsent[0]!;
      const taken = this.link.write(b, 0, b.length);
      if (taken < b.length) {
        this.unsent[0] = b.slice(taken);
        return;
      }
      this.unsent.shift();
    }
    this.refilled();
  }

  private refilled(): void {
    this.refill = false;
    if (this.closed || this.unsent.length > 0) return;
    this.room = SEND_BUFFER;
    this.callback(3, this.room);
  }

  /** Hands each received chunk to the callback; outside it, read() finds nothing. */
  private received(): void {
    let chunk: Uint8Array | null;
    while (!this.closed && (chunk = this.link.read()) !== null) {
      this.data = chunk;
      this.position = 0;
      try {
        this.callback(2, chunk.length);
      } finally {
        this.data = null;
      }
    }
  }
}

function toBytes(item: Data): Uint8Array {
  if (typeof item === "number") return Uint8Array.of(item);
  if (typeof item === "string") return new TextEncoder().encode(item);
  if (item instanceof ArrayBuffer) return new Uint8Array(item);
  return new Uint8Array(item.buffer, item.byteOffset, item.byteLength);
}
