/**
 * Helpers the client suites share: deep copies of what a callback received, and the clients a suite has
 * connected, disconnected together at its end.
 */
import type { Client } from "../../hosts/node/index.js";

/** A deep copy with every Uint8Array (a Buffer included) as a fresh plain Uint8Array. */
export function owned<T>(value: T): T {
  if (value instanceof Uint8Array) return new Uint8Array(value) as T;
  if (Array.isArray(value)) return value.map(owned) as T;
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, owned(v)])) as T;
  }
  return value;
}

/** Disconnects every client in `clients` and stops its loop (safe on clients already down), then forgets them. */
export function disconnectAll(clients: Set<Client>): void {
  for (const c of clients) {
    try {
      c.disconnect();
      c.loopStop();
    } catch {
      // Already down.
    }
  }
  clients.clear();
}
