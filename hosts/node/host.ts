/**
 * The Node host: performance.now() for the clock, setTimeout for the one timer, setImmediate to defer, and
 * links over node:net / node:tls (WebSockets arrive with their own issue).
 */
import { promises as dns } from "node:dns";
import { performance } from "node:perf_hooks";
import { MQTT_ERR_NOT_SUPPORTED } from "../../src/constants.js";
import type { Host, Link, LinkEvents, LinkParams } from "../../src/host.js";
import { openTcpLink } from "./tcp-link.js";

export interface SrvTarget { name: string; port: number }

export class NodeHost implements Host {
  /** How connectSrv looks names up; replace it in tests (no DNS server needed). */
  resolver: (name: string) => Promise<Array<SrvTarget & { priority: number; weight: number }>> = (name) => dns.resolveSrv(name);

  now(): number {
    return performance.now();
  }

  setTimer(callback: () => void, ms: number): unknown {
    return setTimeout(callback, ms);
  }

  clearTimer(handle: unknown): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  }

  defer(callback: () => void): void {
    setImmediate(callback);
  }

  open(params: LinkParams, events: LinkEvents): Link {
    if (params.transport === "websockets") {
      setImmediate(() => events.onClose({ rc: MQTT_ERR_NOT_SUPPORTED, message: "WebSocket transport is not available in this version of the Node host" }));
      return { socket: null, read: () => null, write: () => 0, close: () => {}, destroy: () => {} };
    }
    return openTcpLink(params, events);
  }

  /** SRV targets in the order to try: by priority, and within one priority by weight, heaviest first. */
  async resolveSrv(name: string): Promise<SrvTarget[]> {
    const records = await this.resolver(name);
    return records.sort((a, b) => a.priority - b.priority || b.weight - a.weight).map(({ name: n, port }) => ({ name: n, port }));
  }
}

export const nodeHost = new NodeHost();
