/**
 * tinymqtt/lite on Moddable: the lite client (src/lite/client.ts) over Moddable's `socket` and `timer`,
 * with XS's native UTF-8 conversions (ArrayBuffer.fromString, String.fromArrayBuffer). The socket the client
 * writes to is Moddable's Socket itself: its write() already says how much fits, so there is no wrapper.
 * The platform is one frozen object of functions, preloaded in flash; nothing here holds state.
 *
 *   import Client from "tinymqtt/lite";   // in place of: import Client from "mqtt"
 *   const client = new Client({ host: "broker.local", id: "sensor-7", timeout: 60_000, reconnect: 1000 });
 *   client.onReady = () => client.subscribe("cmd/sensor-7", 1);
 *   client.onMessage = (topic, body) => trace(`${topic}: ${String.fromArrayBuffer(body)}\n`);
 *   client.publish("telemetry/sensor-7", "21.5", { quality: 1 });
 */
import { Socket } from "socket";
import Timer from "timer";
import { LiteClient, type LiteOptions, type LitePlatform, type LiteSocket, type LiteSocketEvents } from "../../src/lite/client.js";

/** Moddable socket callback messages. */
const CONNECTED = 1;
const READABLE = 2;
const WRITABLE = 3;

type NativeStrings = { fromArrayBuffer(buffer: ArrayBufferLike, offset: number, length: number): string };

function connect(host: string, port: number, events: LiteSocketEvents): LiteSocket {
  const socket = new Socket({ host, port }) as unknown as LiteSocket & { callback: (message: number, value?: number) => void; read(type: typeof ArrayBuffer): ArrayBuffer };
  socket.callback = (message: number) => {
    if (message === READABLE) events.received(new Uint8Array(socket.read(ArrayBuffer)));
    else if (message === WRITABLE) events.writable();
    else if (message === CONNECTED) events.opened();
    else if (message < 0) {
      try {
        socket.close();
      } catch {
        // Already gone.
      }
      events.closed(message === -1 ? undefined : `socket error ${message}`);
    }
  };
  return socket;
}

export const MODDABLE_LITE_PLATFORM: LitePlatform = Object.freeze({
  connect,
  setTimer: (callback: () => void, ms: number, repeat: boolean): unknown => repeat ? Timer.repeat(callback, ms) : Timer.set(callback, ms),
  clearTimer: (timer: unknown): void => Timer.clear(timer as ReturnType<typeof Timer.set>),
  encode: (s: string): Uint8Array => new Uint8Array(ArrayBuffer.fromString(s)),
  decode: (bytes: Uint8Array, start: number, end: number): string =>
    (String as unknown as NativeStrings).fromArrayBuffer(bytes.buffer, bytes.byteOffset + start, end - start),
});

export class Client extends LiteClient {
  constructor(options: LiteOptions, platform: LitePlatform = MODDABLE_LITE_PLATFORM) {
    super(options, platform);
  }
}

export default Client;
export type { LiteOptions, LitePublishFlags, LiteWill, LitePlatform, LiteSocket, LiteSocketEvents } from "../../src/lite/client.js";
