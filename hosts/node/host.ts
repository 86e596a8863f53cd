/**
 * The Node host: performance.now() for the clock, setTimeout for the one timer, setImmediate to defer, and
 * links over node:net / node:tls, and over the runtime's WebSocket (hosts/node/ws-link.ts: Node 22+, or
 * Node 20/21 with --experimental-websocket).
 */
import { promises as dns } from "node:dns";
import { performance } from "node:perf_hooks";
import type { Host, Link, LinkEvents, LinkParams } from "../../src/connection/host.js";
import { openTcpLink } from "./tcp-link.js";
import { DEFAULT_WS_MAX_MESSAGE_BYTES, openWsLink } from "./ws-link.js";

export interface SrvTarget { name: string; port: number }

export class NodeHost implements Host {
  /** How connectSrv looks names up; replace it in tests (no DNS server needed). */
  resolver: (name: string) => Promise<Array<SrvTarget & { priority: number; weight: number }>> = (name) => dns.resolveSrv(name);

  /**
   * WebSockets: the largest message accepted. undici, under Node's WebSocket, holds a message whole before
   * handing it over, so this bounds what a broker can make it buffer; keep it above budget.maxPacketSize.
   */
  wsMaxMessageBytes = DEFAULT_WS_MAX_MESSAGE_BYTES;
  /** WebSockets: how long connecting and the HTTP upgrade may take before the attempt fails. */
  wsHandshakeTimeoutMs = 30_000;

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
      return openWsLink(params, events, { maxMessageBytes: this.wsMaxMessageBytes, handshakeTimeoutMs: this.wsHandshakeTimeoutMs });
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
