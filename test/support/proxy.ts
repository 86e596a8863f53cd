/**
 * A TCP proxy on a free loopback port, for simulating bad networks between a client and a broker:
 * cut() drops every live connection at once (a lost link), stall() stops forwarding both ways while keeping
 * the sockets open and holding what either end sends, its FIN included (a link that goes silent: keepalive
 * territory), resume() lets the held bytes through,
 * throttle() makes it read from the client slowly (a slow consumer: TCP pushes back on the client).
 *
 *   const proxy = await startProxy(broker.port);
 *   after(() => proxy.close());
 */
import { type AddressInfo, type Server, type Socket, connect, createServer } from "node:net";

const HOST = "127.0.0.1";

export interface Proxy {
  readonly host: "127.0.0.1";
  readonly port: number;
  /** Live client-side connections (each paired with one to the target). */
  readonly connections: number;
  /** Connections accepted since start. */
  readonly accepted: number;
  /** Destroys every live connection, both sides; reset = true sends an RST instead of a FIN. */
  cut(reset?: boolean): void;
  /** Stops forwarding both ways; bytes are held (and TCP backpressure applies) until resume(). */
  stall(): void;
  /** Forwards what was held, and everything after. */
  resume(): void;
  readonly stalled: boolean;
  /** Reads from the client at about this many bytes a second from now on (0: as fast as it can). */
  throttle(bytesPerSecond: number): void;
  /** Bytes forwarded from clients to the target since start. */
  readonly forwardedUpstream: number;
  /** Cuts everything and stops listening. */
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  /** What was read while stalled, per direction, delivered in order on resume: chunks, then END for a FIN. */
  toUpstream: Held[];
  toClient: Held[];
}

/** A FIN read while stalled: a silent link carries none either, so it waits in line behind the held chunks. */
const END = null;
type Held = Buffer | typeof END;

/** Delivers what a stalled direction held, its FIN last. */
function release(held: Held[], to: Socket): void {
  for (const item of held.splice(0)) {
    if (item === END) to.end();
    else to.write(item);
  }
}

export async function startProxy(targetPort: number, targetHost = HOST): Promise<Proxy> {
  const pairs = new Set<Pair>();
  let stalled = false;
  let accepted = 0;
  let rate = 0;
  let forwardedUpstream = 0;

  /** Forwards from one socket to the other, honouring stall(), throttle() and the destination's backpressure. */
  const forward = (from: Socket, to: Socket, held: Held[], upstream: boolean): void => {
    from.on("data", (chunk: Buffer) => {
      if (stalled) {
        held.push(chunk);
        from.pause();
        return;
      }
      if (upstream) forwardedUpstream += chunk.length;
      if (upstream && rate > 0) {
        // Read on only after the time this chunk takes at the throttled rate.
        from.pause();
        setTimeout(() => {
          if (!stalled && !from.destroyed) from.resume();
        }, Math.ceil((chunk.length * 1000) / rate));
        to.write(chunk);
        return;
      }
      if (!to.write(chunk)) {
        from.pause();
        to.once("drain", () => {
          if (!stalled) from.resume();
        });
      }
    });
    from.on("end", () => {
      // A paused socket still reports its peer's FIN: while stalled, the other side must not hear of it
      // (a broker that gave up on the silent link would otherwise tell the client before its keepalive does).
      if (stalled) held.push(END);
      else to.end();
    });
  };

  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    accepted++;
    const upstream = connect({ host: targetHost, port: targetPort, allowHalfOpen: true });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const pair: Pair = { client, upstream, toUpstream: [], toClient: [] };
    pairs.add(pair);
    if (stalled) {
      client.pause();
      upstream.pause();
    }
    forward(client, upstream, pair.toUpstream, true);
    forward(upstream, client, pair.toClient, false);
    const drop = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop);
    upstream.on("error", drop);
    client.on("close", drop);
    upstream.on("close", drop);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, HOST, () => {
      server.removeListener("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  const cut = (reset = false): void => {
    for (const pair of [...pairs]) {
      pairs.delete(pair);
      for (const socket of [pair.client, pair.upstream]) {
        if (reset) socket.resetAndDestroy();
        else socket.destroy();
      }
    }
  };

  return {
    host: HOST,
    port,
    get connections() {
      return pairs.size;
    },
    get accepted() {
      return accepted;
    },
    get stalled() {
      return stalled;
    },
    get forwardedUpstream() {
      return forwardedUpstream;
    },
    throttle(bytesPerSecond: number) {
      rate = bytesPerSecond;
    },
    cut,
    stall() {
      stalled = true;
      for (const { client, upstream } of pairs) {
        client.pause();
        upstream.pause();
      }
    },
    resume() {
      if (!stalled) return;
      stalled = false;
      for (const pair of pairs) {
        release(pair.toUpstream, pair.upstream);
        release(pair.toClient, pair.client);
        pair.client.resume();
        pair.upstream.resume();
      }
    },
    close() {
      cut();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
