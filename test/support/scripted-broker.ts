/**
 * A tiny scripted MQTT server for hostile-input and timing tests: each accepted connection is handed to a
 * script that reads the client's packets and answers exactly what the test wants, well-formed (through our
 * Encoder) or not (sendRaw).
 *
 *   const broker = await startScriptedBroker(async (conn) => {
 *     const connect = await conn.next();                      // the client's CONNECT
 *     await conn.send({ type: CONNACK, sessionPresent: false, reasonCode: 0 });
 *     conn.sendRaw(new Uint8Array([0x30, 0x7f]));             // a PUBLISH that never finishes
 *   });
 *   after(() => broker.close());
 *
 * Packets come out of our Decoder and are copied into plain objects (strings, fresh Uint8Arrays, plain
 * properties) so a script may keep them. A script that throws or rejects has its connection destroyed and
 * its error kept in broker.errors: assert that it is empty.
 */
import { type AddressInfo, type Server, type Socket, createServer } from "node:net";
import { Decoder, Encoder, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, type Packet, type ProtocolVersion } from "../../src/codec/index.js";
import type { DecodedPacket } from "../../src/codec/index.js";

const HOST = "127.0.0.1";
const NEXT_TIMEOUT_MS = 5000;

/** What next() returns: the decoded packet as a plain object the script owns. */
export type ReceivedPacket = Packet & { topicAlias?: number };

export interface ScriptedConnection {
  /** The protocol level: 4 until a CONNECT arrives, then the one it asked for. */
  readonly version: ProtocolVersion;
  readonly socket: Socket;
  /**
   * The client's next packet; null once the client has closed the connection and every packet before
   * that has been read. Rejects with the decoder's MqttProtocolError if the client sent malformed bytes,
   * or after timeoutMs (default 5 s) so a script never hangs a test.
   */
  next(timeoutMs?: number): Promise<ReceivedPacket | null>;
  /** Async iteration over the packets until the connection closes. */
  [Symbol.asyncIterator](): AsyncIterator<ReceivedPacket>;
  /** Encodes with our Encoder at `version` (default: the connection's) and writes; resolves when written. */
  send(packet: Packet, version?: ProtocolVersion): Promise<void>;
  /** Writes bytes as they are; resolves when written. */
  sendRaw(bytes: Uint8Array): Promise<void>;
  /** Half-closes (FIN) after what was written. */
  end(): void;
  /** Closes at once. */
  destroy(): void;
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;
}

export interface ScriptedBroker {
  readonly host: "127.0.0.1";
  readonly port: number;
  /** Connections accepted so far, live or not, in order. */
  readonly connections: readonly ScriptedConnection[];
  /** Errors thrown by scripts. */
  readonly errors: unknown[];
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

export interface ScriptedBrokerOptions {
  /** The largest packet the server's decoder accepts (default 1 MiB). */
  maxPacketSize?: number;
}

/** Deep-copies plain objects and arrays; Uint8Arrays become fresh copies (never views, never Buffers). */
function copy<T>(value: T): T {
  if (value instanceof Uint8Array) return new Uint8Array(value) as T;
  if (Array.isArray(value)) return value.map(copy) as T;
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = copy(v);
    return out as T;
  }
  return value;
}

/** Turns what the decoder returned (possibly a reused view into its buffer) into a plain, owned object. */
function toPlain(p: DecodedPacket): ReceivedPacket {
  switch (p.type) {
    case PUBLISH: {
      const out: ReceivedPacket = { type: PUBLISH, topic: p.topic, payload: new Uint8Array(p.payload), qos: p.qos,
        retain: p.retain, dup: p.dup, packetId: p.packetId };
      const properties = p.properties;
      if (properties !== undefined) out.properties = copy(properties);
      if (p.topicAlias !== 0) out.topicAlias = p.topicAlias;
      return out;
    }
    case PUBACK: case PUBREC: case PUBREL: case PUBCOMP: {
      const out: ReceivedPacket = { type: p.type, packetId: p.packetId, reasonCode: p.reasonCode ?? 0 };
      const properties = p.properties;
      if (properties !== undefined) out.properties = copy(properties);
      return out;
    }
    default:
      return copy(p);
  }
}

export async function startScriptedBroker(handler: (conn: ScriptedConnection) => void | Promise<void>,
  options: ScriptedBrokerOptions = {}): Promise<ScriptedBroker> {
  const maxPacketSize = options.maxPacketSize ?? 1 << 20;
  const connections: ScriptedConnection[] = [];
  const sockets = new Set<Socket>();
  const errors: unknown[] = [];

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const conn = accept(socket, maxPacketSize);
    connections.push(conn);
    socket.once("close", () => sockets.delete(socket));
    try {
      const result = handler(conn);
      if (result instanceof Promise) {
        result.catch((e: unknown) => {
          errors.push(e);
          socket.destroy();
        });
      }
    } catch (e) {
      errors.push(e);
      socket.destroy();
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, HOST, () => {
      server.removeListener("error", reject);
      resolve();
    });
  });

  return {
    host: HOST,
    port: (server.address() as AddressInfo).port,
    connections,
    errors,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function accept(socket: Socket, maxPacketSize: number): ScriptedConnection {
  const decoder = new Decoder({ maxPacketSize });
  const encoder = new Encoder();
  const queue: ReceivedPacket[] = [];
  let failure: unknown = null;
  let ended = false;
  /** The one next() waiting, if any. */
  let waiter: { resolve: (p: ReceivedPacket | null) => void; reject: (e: unknown) => void } | null = null;

  const settle = (): void => {
    if (waiter === null) return;
    const w = waiter;
    if (queue.length > 0) {
      waiter = null;
      w.resolve(queue.shift()!);
    } else if (failure !== null) {
      waiter = null;
      w.reject(failure);
    } else if (ended) {
      waiter = null;
      w.resolve(null);
    }
  };

  socket.on("data", (chunk: Buffer) => {
    if (failure !== null) return;
    // A plain Uint8Array over the chunk, so every view the decoder hands out is one too.
    decoder.feed(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    try {
      for (let p = decoder.next(); p !== null; p = decoder.next()) queue.push(toPlain(p));
    } catch (e) {
      failure = e;
    }
    settle();
  });
  socket.on("error", () => {
    // A reset by the client is an ordinary way for a hostile test to end; 'close' follows.
  });
  const closed = new Promise<void>((resolve) => {
    socket.once("close", () => {
      ended = true;
      settle();
      resolve();
    });
  });
  socket.once("end", () => {
    ended = true;
    settle();
  });

  const write = (bytes: Uint8Array): Promise<void> =>
    new Promise((resolve) => {
      if (socket.destroyed) resolve();
      else socket.write(bytes, () => resolve());
    });

  const conn: ScriptedConnection = {
    get version() {
      return decoder.version;
    },
    socket,
    closed,
    next(timeoutMs = NEXT_TIMEOUT_MS) {
      if (waiter !== null) return Promise.reject(new Error("next() called while another next() is waiting"));
      return new Promise<ReceivedPacket | null>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiter = null;
          reject(new Error(`scripted broker: no packet from the client within ${timeoutMs} ms`));
        }, timeoutMs);
        waiter = {
          resolve: (p) => {
            clearTimeout(timer);
            resolve(p);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        };
        settle();
      });
    },
    [Symbol.asyncIterator]() {
      return {
        next: async (): Promise<IteratorResult<ReceivedPacket>> => {
          const p = await conn.next();
          return p === null ? { done: true, value: undefined } : { done: false, value: p };
        },
      };
    },
    send(packet, version) {
      encoder.version = version ?? decoder.version;
      return write(encoder.encode(packet));
    },
    sendRaw(bytes) {
      return write(bytes);
    },
    end() {
      socket.end();
    },
    destroy() {
      socket.destroy();
    },
  };
  return conn;
}
