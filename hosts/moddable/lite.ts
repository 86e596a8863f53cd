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
import { LiteClient, type LiteOptions, type LitePlatform, type LiteSocket, type LiteSocketEvents, type LiteTimerTarget } from "../../src/lite/client.js";

/** Moddable socket callback messages. */
const CONNECTED = 1;
const READABLE = 2;
const WRITABLE = 3;

type NativeStrings = { fromArrayBuffer(buffer: ArrayBufferLike, offset: number, length: number): string };

/** Moddable's Socket as the client uses it, with the client it reports to. */
type LiteModdableSocket = LiteSocket & { events: LiteSocketEvents; callback: (this: LiteModdableSocket, message: number) => void; read(type: typeof ArrayBuffer): ArrayBuffer };

/**
 * Every socket's callback (Moddable calls it on the socket): one function in flash for all of them, finding
 * the client on the socket, where a closure per connection would cost RAM.
 */
function socketMessage(this: LiteModdableSocket, message: number): void {
  const events = this.events;
  if (message === READABLE) events.received(new Uint8Array(this.read(ArrayBuffer)));
  else if (message === WRITABLE) events.writable();
  else if (message === CONNECTED) events.opened();
  else if (message < 0) {
    try {
      this.close();
    } catch {
      // Already gone.
    }
    events.closed(message === -1 ? undefined : `socket error ${message}`);
  }
}

function connect(host: string, port: number, events: LiteSocketEvents): LiteSocket {
  const socket = new Socket({ host, port }) as unknown as LiteModdableSocket;
  socket.events = events;
  socket.callback = socketMessage;
  return socket;
}

/** Every timer's callback (Moddable passes the timer): the client is on the timer, as on the socket. */
function timerFired(timer: { target: LiteTimerTarget }): void {
  timer.target.timerFired();
}

function setTimer(target: LiteTimerTarget, ms: number, repeat: boolean): unknown {
  const timer = (repeat ? Timer.repeat(timerFired as never, ms) : Timer.set(timerFired as never, ms)) as unknown as { target: LiteTimerTarget };
  timer.target = target;
  return timer;
}

export const MODDABLE_LITE_PLATFORM: LitePlatform = Object.freeze({
  connect,
  setTimer,
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
export type { LiteOptions, LitePublishFlags, LiteWill, LitePlatform, LiteSocket, LiteSocketEvents, LiteTimerTarget } from "../../src/lite/client.js";
