/**
 * hosts/node/tcp-link.ts against a raw TCP server: every link of the process reads into one shared buffer,
 * so what it hands the client must be the client's own bytes, whatever other links read meanwhile; a chunk
 * the client leaves unread stops the socket reading (the server feels it as TCP backpressure); and once user
 * code has the socket, the socket's own stream events carry what arrives.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, describe, it } from "node:test";
import type { Link, LinkError, LinkEvents } from "../../../src/connection/host.js";
import { openTcpLink } from "../../../hosts/node/tcp-link.js";
import { sleep, until } from "../../support/wait.js";

/** Bytes that differ from link to link and from offset to offset, so a chunk overwritten by another read shows. */
function pattern(seed: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + (i >> 8) + seed * 101) & 0xff;
  return b;
}

interface Opened { link: Link; events: LinkEvents & { readables: number; closed: Array<LinkError | undefined> }; peer: Promise<net.Socket> }

describe("the Node TCP link", () => {
  const servers: net.Server[] = [];
  const links: Link[] = [];
  after(() => {
    for (const link of links) link.destroy();
    for (const server of servers) server.close();
  });

  /** A server on a free loopback port, and a link to it whose onReadable runs `onReadable`. */
  async function open(onReadable: (link: Link) => void): Promise<Opened> {
    const server = net.createServer();
    servers.push(server);
    const peer = new Promise<net.Socket>((resolve) => server.once("connection", resolve));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    let isOpen: () => void = () => {};
    const opened = new Promise<void>((resolve) => (isOpen = resolve));
    const events = {
      readables: 0,
      closed: [] as Array<LinkError | undefined>,
      onOpen: (): void => isOpen(),
      onReadable(): void {
        this.readables++;
        onReadable(link);
      },
      onWritable: (): void => {},
      onClose(error: LinkError | undefined): void {
        this.closed.push(error);
      },
    };
    const link = openTcpLink({ host: "127.0.0.1", port, bindAddress: "", transport: "tcp", tls: undefined, wsPath: "/mqtt", wsHeaders: undefined }, events);
    links.push(link);
    await opened;
    return { link, events, peer };
  }

  /** Reads every chunk waiting, keeping each as handed out (no copy), into `into`. */
  const drainInto = (into: Uint8Array[]) => (link: Link): void => {
    for (let chunk = link.read(); chunk !== null; chunk = link.read()) into.push(chunk);
  };

  it("hands each link its own bytes: chunks kept by the client stay intact while other links read", async () => {
    const kept: Uint8Array[][] = [[], [], []];
    const opened = await Promise.all(kept.map((into) => open(drainInto(into))));
    const sent = opened.map((_o, i) => pattern(i + 1, 300_000));
    const peers = await Promise.all(opened.map((o) => o.peer));
    // Interleaved writes, so that the three sockets' reads alternate in the shared buffer.
    for (let offset = 0; offset < 300_000; offset += 10_000) {
      peers.forEach((p, i) => p.write(sent[i]!.subarray(offset, offset + 10_000)));
      await sleep(1);
    }
    await until(() => kept.every((chunks) => chunks.reduce((n, c) => n + c.length, 0) === 300_000), 10_000, "every byte at every link");
    kept.forEach((chunks, i) => assert.ok(Buffer.concat(chunks).equals(sent[i]!), `link ${i + 1}: its bytes, in order, unchanged`));
    assert.ok(kept.every((chunks) => chunks.length > 1), "each link read in several chunks");
  });

  it("stops reading while the client leaves a chunk unread: the server is held back by TCP, and nothing is lost", async () => {
    const { link, events, peer } = await open(() => {});
    const socket = await peer;
    const total = 32 * 1024 * 1024;
    const sent = pattern(7, total);
    socket.write(sent);
    await until(() => events.readables > 0, 5_000, "the first chunk");
    await sleep(500);
    // Loopback TCP buffers hold a few MiB at most: the rest waits in the server's socket.
    assert.equal(events.readables, 1, "one chunk announced, then no reading until it is taken");
    assert.ok(socket.writableLength > 16 * 1024 * 1024, `the server is held back (${socket.writableLength} bytes still to send)`);
    const received: Uint8Array[] = [];
    const take = drainInto(received);
    take(link);
    const onReadable = events.onReadable.bind(events);
    events.onReadable = function (): void {
      onReadable();
      take(link);
    };
    await until(() => received.reduce((n, c) => n + c.length, 0) >= total, 20_000, "all 32 MiB");
    assert.ok(Buffer.concat(received).equals(sent), "every byte, in order");
  });

  it("once user code has the socket, what arrives goes through its stream: 'readable', readableLength and read()", async () => {
    const { link, events, peer } = await open(() => {});
    const server = await peer;
    server.write("hello");
    await until(() => events.readables === 1, 5_000, "the first chunk");
    const socket = link.socket as net.Socket;
    assert.equal(socket.readableLength, 5, "the chunk held back is in the socket's stream");
    const userReadable = new Promise<void>((resolve) => socket.once("readable", resolve));
    server.write(" world");
    await userReadable;
    await until(() => socket.readableLength === 11, 5_000, "the second chunk in the stream");
    const chunks: Uint8Array[] = [];
    drainInto(chunks)(link);
    assert.equal(Buffer.concat(chunks).toString(), "hello world");
    server.end();
    await until(() => events.closed.length === 1, 5_000, "the close");
    assert.deepEqual(events.closed, [undefined], "a clean close, reported once");
  });
});
