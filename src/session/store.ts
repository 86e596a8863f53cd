/**
 * Session persistence: what must survive a restart so that no QoS 1/2 message is lost and none is
 * delivered twice (MQTT 5 section 4.1), and nothing else:
 * - outgoing QoS 1/2 publishes not yet fully acknowledged, as their encoded PUBLISH, in publish order,
 *   with how far the flow got (released: PUBREC received, so PUBREL is next);
 * - incoming QoS 2 packet ids acknowledged with PUBREC and not yet released by PUBREL.
 * Packet ids need no record of their own: the ids of the stored publishes are exactly those the broker
 * may still hold, and a restored client never allocates one of them.
 *
 * Stores are synchronous: the engine calls them where a flow changes state, before the packet that
 * tells the broker about it goes out. Implementations copy what they keep (packet views are reused).
 */

export interface StoredPublish {
  /** The packet id, also the mid that onPublish reports when the flow completes. */
  id: number;
  /** PUBREC has arrived: the flow resumes with PUBREL. */
  released: boolean;
  /** The encoded PUBLISH packet. */
  packet: Uint8Array;
}

export interface StoredSession {
  outgoing: StoredPublish[];
  incoming: number[];
}

export interface SessionStore {
  /** What was saved for clientId (empty when nothing was), and from now on records for it. */
  open(clientId: string): StoredSession;
  saveOutgoing(id: number, packet: Uint8Array): void;
  releaseOutgoing(id: number): void;
  removeOutgoing(id: number): void;
  saveIncoming(id: number): void;
  removeIncoming(id: number): void;
  /** Makes everything saved so far durable, as far as the store can (hosts call it at quiet moments). */
  flush(): void;
  close(): void;
}

/**
 * A store in memory: a session that survives a new Client in the same process (the engine already
 * keeps its own session across reconnects without any store). Copies every packet it keeps.
 */
export class MemoryStore implements SessionStore {
  private readonly sessions = new Map<string, { outgoing: Map<number, StoredPublish>; incoming: Set<number> }>();
  private current: { outgoing: Map<number, StoredPublish>; incoming: Set<number> } | undefined;

  open(clientId: string): StoredSession {
    let s = this.sessions.get(clientId);
    if (s === undefined) this.sessions.set(clientId, (s = { outgoing: new Map(), incoming: new Set() }));
    this.current = s;
    return { outgoing: [...s.outgoing.values()].map((p) => ({ ...p, packet: p.packet.slice() })), incoming: [...s.incoming] };
  }

  saveOutgoing(id: number, packet: Uint8Array): void {
    const s = this.session();
    s.outgoing.delete(id);
    s.outgoing.set(id, { id, released: false, packet: packet.slice() });
  }

  releaseOutgoing(id: number): void {
    const p = this.session().outgoing.get(id);
    if (p !== undefined) p.released = true;
  }

  removeOutgoing(id: number): void {
    this.session().outgoing.delete(id);
  }

  saveIncoming(id: number): void {
    this.session().incoming.add(id);
  }

  removeIncoming(id: number): void {
    this.session().incoming.delete(id);
  }

  flush(): void {}

  close(): void {
    this.current = undefined;
  }

  private session(): { outgoing: Map<number, StoredPublish>; incoming: Set<number> } {
    if (this.current === undefined) throw new Error("MemoryStore: open() first");
    return this.current;
  }
}
