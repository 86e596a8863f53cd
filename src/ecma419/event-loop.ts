/**
 * The ECMA-419 client's side of the connection driver (src/connection/driver.ts): what the link, the
 * engine and the connect timeout report, as the pattern's callbacks (onReadable, onWritable, onControl,
 * onClose, onError), each called with the client as `this`. It holds the message whose payload is being
 * read: until the application has read it, nothing more is read from the link (the transport pushes
 * back), and its acknowledgement goes out once it has been read. It never reconnects: the supervisor
 * (src/connection/supervisor.ts) serves for its connect timeout.
 */
// The pattern's operation codes are MQTT's packet types.
import { CONNACK, PUBACK, PUBCOMP, SUBACK, UNSUBACK } from "../codec/constants.js";
import type { ConnectPacket } from "../codec/packet-types.js";
import type { PublishView } from "../codec/packets/publish-packet.js";
import type { Host, LinkError } from "../connection/host.js";
import { ConnectionDriver } from "../connection/driver.js";
import { type SupervisorEvent, initialState } from "../connection/supervisor.js";
import { CLOSING, CONNECTED, type Engine, type EngineEvent } from "../engine/engine.js";
import { MQTT_ERR_SUCCESS } from "../paho/constants.js";
import type { Ecma419Client } from "./client.js";
import type { Ecma419Options } from "./options.js";

/** How long opening the link, and then CONNACK, may each take: the pattern has no option for it. */
const CONNECT_TIMEOUT_MS = 30_000;

/** @internal One per Ecma419Client, made by it. */
export class Ecma419Loop extends ConnectionDriver {
  /** The message whose payload is being read: its view stays valid until the next poll(). */
  message: PublishView | null = null;
  /** How much of its payload read() has handed out. */
  position = 0;
  /** service() stopped for the payload to be read: read() goes on with it once the payload is used up. */
  resume = false;
  /** The output was full: onWritable is owed once it drains. */
  blocked = false;
  /** write() sent DISCONNECT: the link closes once it has drained. */
  closing = false;

  constructor(host: Host, engine: Engine, private readonly client: Ecma419Client, private readonly options: Ecma419Options,
    private readonly connect: ConnectPacket) {
    super(host, engine, initialState(CONNECT_TIMEOUT_MS));
  }

  /** What write() may take next: the output's room when it has drained, else 0 (onWritable follows). */
  room(): number {
    return this.engine.wantsWrite ? 0 : this.engine.budget.outputBytes;
  }

  /** Bytes of the current message's payload not read yet. */
  get unread(): number {
    const m = this.message;
    return m === null ? 0 : m.payloadEnd - m.payloadStart - this.position;
  }

  // ---- what the driver reports ----------------------------------------------------------------

  linkOpened(): void {
    this.supervise({ type: "opened" });
    this.engine.begin(this.connect, this.clock());
    this.service();
  }

  linkReadable(): void {
    this.service();
  }

  linkClosed(error: LinkError | undefined): void {
    this.release();
    this.finish(error === undefined ? undefined : new Error(error.message));
  }

  /** Hands events to the application; false while a payload waits to be read. */
  dispatch(): boolean {
    const engine = this.engine;
    // A payload still unread holds back the next message, but not the end of the connection.
    if (this.unread > 0 && engine.state !== CLOSING) {
      this.resume = true;
      return false;
    }
    this.message = null;
    let e: EngineEvent | null;
    while (this.link !== null && (e = engine.poll()) !== null) {
      if (!this.handle(e)) return false;
    }
    return this.link !== null;
  }

  /** The driver wrote: the close after a drained DISCONNECT, and onWritable owed since a full output. */
  written(waiting: boolean): void {
    if (waiting) return;
    const engine = this.engine;
    if (engine.state === CLOSING && this.closing) {
      this.release()?.close();
      this.finish(undefined);
      return;
    }
    if (this.blocked && engine.state === CONNECTED) {
      this.blocked = false;
      this.call(this.options.onWritable, this.room());
    }
  }

  serviced(): void {
    this.flush();
  }

  timerFired(): void {
    this.supervise({ type: "timer" });
  }

  // ---- engine events --------------------------------------------------------------------------

  private handle(e: EngineEvent): boolean {
    const o = this.options;
    switch (e.type) {
      case "message": {
        const m = e.message;
        this.message = m;
        this.position = 0;
        const length = m.payloadEnd - m.payloadStart;
        this.call(o.onReadable, length, { more: false, topic: m.topic, QoS: m.qos, byteLength: length, retain: m.retain, duplicate: m.dup });
        if (this.position < length && this.link !== null) {
          this.resume = true;
          return false;
        }
        this.message = null;
        return true;
      }
      case "connected":
        this.supervise({ type: "accepted" });
        this.call(o.onControl, { operation: CONNACK, id: 0 });
        if (this.link !== null) this.call(o.onWritable, this.room());
        return true;
      case "published":
        this.call(o.onControl, { operation: e.qos === 2 ? PUBCOMP : PUBACK, id: e.mid });
        return true;
      case "subscribed":
        this.call(o.onControl, { operation: SUBACK, id: e.mid, payload: Uint8Array.from(e.reasonCodes) });
        return true;
      case "unsubscribed":
        this.call(o.onControl, { operation: UNSUBACK, id: e.mid });
        return true;
      case "refused":
        this.end(new Error(`connection refused: CONNACK return code ${e.reasonCode}`));
        return false;
      case "closed":
        this.end(e.rc === MQTT_ERR_SUCCESS ? undefined : new Error(e.reason));
        return false;
      default:
        return true;
    }
  }

  // ---- the end ----------------------------------------------------------------------------------

  /** The engine ended the connection: what it still has to say goes out, then the link is dropped. */
  private end(error: Error | undefined): void {
    this.flush();
    const link = this.release();
    if (link === null) return;
    link.destroy();
    this.finish(error);
  }

  /** The link is gone (released): the application hears why, once. */
  private finish(error: Error | undefined): void {
    this.message = null;
    this.clearTimer();
    // This class never reconnects: what is left of the lifecycle is its start, for no one.
    this.supervisor = initialState(CONNECT_TIMEOUT_MS);
    if (error === undefined) this.call(this.options.onClose);
    else this.call(this.options.onError, error);
  }

  /** Feeds the supervisor; a connect timeout ends the connection with an error. */
  supervise(event: SupervisorEvent): void {
    const next = this.feedSupervisor(event, this.host.now());
    if (!next.callbacks.includes("onConnectFail")) return;
    this.release()?.destroy();
    this.finish(new Error(event.type === "timer" ? "no CONNACK within the connect timeout" : "the connection could not be made"));
  }

  /** Runs application code; what it throws is reported to onError (or rethrown when there is none). */
  call<A extends unknown[]>(fn: ((this: Ecma419Client, ...args: A) => void) | undefined, ...args: A): void {
    if (fn === undefined) return;
    try {
      fn.apply(this.client, args);
    } catch (e) {
      const onError = this.options.onError;
      if (onError === undefined || (fn as unknown) === onError) throw e;
      onError.call(this.client, e instanceof Error ? e : new Error(String(e)));
    }
  }
}
