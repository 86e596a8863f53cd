/**
 * The Moddable host: the clock from `time` (Time.ticks, made monotonic and wrap-safe), the one timer from
 * `timer`, links over `socket` and, when the application provides it, `securesocket`.
 *
 *   import { moddableHost } from "tinymqtt/moddable";
 *   import SecureSocket from "securesocket";      // only for TLS; include $(MODDABLE)/modules/crypt/tls.json
 *   moddableHost.SecureSocket = SecureSocket;
 *
 * The session store on flash is hosts/moddable/flash-store.ts (FlashStore), given the app's Flash partition.
 */
import { Socket } from "socket";
import Time from "time";
import Timer from "timer";
import { MQTT_ERR_NOT_SUPPORTED } from "../../src/paho/constants.js";
import type { Host, Link, LinkEvents, LinkParams } from "../../src/connection/host.js";
import { type ResourceConstructor, type SecureSocketConstructor, SocketLink } from "./socket-link.js";

/**
 * Milliseconds that only grow: Time.ticks is a signed 32-bit counter on most microcontrollers and wraps
 * after 24.8 days, so the clock adds up Time.delta() between readings, which is right across a wrap.
 * The engine reads it at least once per keepalive interval while connected, far more often than it wraps.
 */
export class TickClock {
  /** Undefined until the first reading: the module may be preloaded, when no native code can run. */
  private last: number | undefined = undefined;
  private elapsed = 0;

  now(): number {
    const ticks = Time.ticks;
    if (this.last !== undefined) this.elapsed += Time.delta(this.last, ticks);
    this.last = ticks;
    return this.elapsed;
  }
}

export class ModdableHost implements Host {
  /** Set to the `securesocket` module's class to allow tlsSet()/tlsSetContext(). */
  SecureSocket: SecureSocketConstructor | undefined = undefined;
  /** Set to the `Resource` module's class to name TLS certificates and keys by resource path in tlsSet(). */
  Resource: ResourceConstructor | undefined = undefined;
  private readonly clock = new TickClock();

  now(): number {
    return this.clock.now();
  }

  setTimer(callback: () => void, ms: number): unknown {
    return Timer.set(callback, Math.max(0, Math.ceil(ms)));
  }

  clearTimer(handle: unknown): void {
    Timer.clear(handle as ReturnType<typeof Timer.set>);
  }

  defer(callback: () => void): void {
    Timer.set(callback, 0);
  }

  open(params: LinkParams, events: LinkEvents): Link {
    if (params.transport !== "tcp") {
      Timer.set(() => events.onClose({ rc: MQTT_ERR_NOT_SUPPORTED, message: "the Moddable host has no WebSocket transport" }), 0);
      return { socket: null, read: () => null, write: () => 0, close() {}, destroy() {} };
    }
    if (params.bindAddress !== "") throw new RangeError("the Moddable host cannot bind to a local address");
    return new SocketLink(params, events, { Socket, SecureSocket: this.SecureSocket, Resource: this.Resource });
  }
}

export const moddableHost = new ModdableHost();
