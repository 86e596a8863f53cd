/**
 * A TCP proxy on a free loopback port that forwards to a broker and keeps what each client sent, parsed by
 * mqtt-packet (an independent codec): what reached the broker, packet by packet, to compare two clients.
 *
 *   const proxy = await startRecordingProxy(broker.port);
 *   after(() => proxy.close());
 *   ... run a client against proxy.port ...
 *   proxy.take()   // every connection's packets since the last take(), in order of connection
 */
import { type AddressInfo, type Socket, connect, createServer } from "node:net";
import mqttPacket from "mqtt-packet";

/** mqtt-packet's packet objects, loosely typed: its own typings do not cover everything its parser returns. */
export type RecordedPacket = Record<string, unknown> & { cmd: string };

export interface RecordingProxy {
  readonly port: number;
  /** The packets each connection sent since the last take(), one list per connection. */
  take(): RecordedPacket[][];
  close(): Promise<void>;
}

export async function startRecordingProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<RecordingProxy> {
  let recorded: RecordedPacket[][] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const packets: RecordedPacket[] = [];
    recorded.push(packets);
    // The version is read from CONNECT by the parser itself; 5 only sets the starting point.
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    parser.on("packet", (p) => packets.push(p as unknown as RecordedPacket));
    parser.on("error", (e: Error) => packets.push({ cmd: "error", message: e.message }));
    const upstream = connect({ host: targetHost, port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
      s.on("close", () => sockets.delete(s));
    }
    client.on("data", (chunk: Buffer) => {
      parser.parse(chunk);
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => client.write(chunk));
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    take() {
      const taken = recorded;
      recorded = [];
      return taken;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
