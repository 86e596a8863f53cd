/**
 * tinymqtt/lite on Node: the lite client (src/lite/client.ts) over node:net, with Node's timers and the
 * portable UTF-8 conversions (which refuse what MQTT refuses). For simulating the devices that run it, and
 * for its tests against a real broker.
 *
 *   import { Client } from "tinymqtt/lite";
 *   const client = new Client({ host: "127.0.0.1", id: "sensor-7", reconnect: 1000 });
 *   client.onReady = () => client.subscribe("cmd/sensor-7", 1);
 *   client.onMessage = (topic, body) => console.log(topic, Buffer.from(body).toString());
 *   client.publish("telemetry/sensor-7", "21.5", { quality: 1 });
 */
import net from "node:net";
import { LiteClient, type LiteOptions, type LitePlatform, type LiteSocket, type LiteSocketEvents, type LiteTimerTarget } from "../../src/lite/client.js";

/** What write() reports while Node takes more: it buffers what it cannot send yet, until 'drain' is owed. */
const ROOM = 0x7fffffff;

/** A node:net socket behind the three calls of Moddable's socket that the lite client makes. */
class NodeLiteSocket implements LiteSocket {
  private readonly socket: net.Socket;
  private failure: string | undefined = undefined;

  constructor(host: string, port: number, events: LiteSocketEvents) {
    const socket = this.socket = net.connect({ host, port });
    socket.setNoDelay(true);
    socket.on("connect", () => events.opened());
    socket.on("data", (bytes: Buffer) => events.received(bytes));
    socket.on("drain", () => events.writable());
    socket.on("error", (e: NodeJS.ErrnoException) => (this.failure ??= e.code === "ECONNREFUSED" ? `connection refused by ${host}:${port}` : e.message));
    socket.on("close", () => events.closed(this.failure));
  }

  write(bytes?: Uint8Array): number | void {
    const socket = this.socket;
    if (bytes === undefined) return socket.destroyed || socket.writableNeedDrain ? 0 : ROOM;
    // Node holds the array until it is sent: the client never changes what it wrote.
    socket.write(bytes);
  }

  close(): void {
    // Quietly: the client asked for it and expects no closed() after.
    this.socket.removeAllListeners("close");
    this.socket.on("error", () => {});
    this.socket.end(() => this.socket.destroy());
  }
}

export const NODE_LITE_PLATFORM: LitePlatform = Object.freeze({
  connect: (host: string, port: number, events: LiteSocketEvents): LiteSocket => new NodeLiteSocket(host, port, events),
  setTimer: (target: LiteTimerTarget, ms: number, repeat: boolean): unknown =>
    repeat ? setInterval(() => target.timerFired(), ms) : setTimeout(() => target.timerFired(), ms),
  clearTimer: (timer: unknown): void => clearTimeout(timer as ReturnType<typeof setTimeout>),
});

export class Client extends LiteClient {
  constructor(options: LiteOptions, platform: LitePlatform = NODE_LITE_PLATFORM) {
    super(options, platform);
  }
}

export type { LiteOptions, LitePublishFlags, LiteWill, LitePlatform, LiteSocket, LiteSocketEvents, LiteTimerTarget } from "../../src/lite/client.js";
