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
  /** The protocol level the outgoing packets were encoded for; present when there are any. */
  version?: number;
}

export interface SessionStore {
  /**
   * What was saved for clientId (empty when nothing was), and from now on records for it, with packets
   * encoded for protocol `version`. One store serves one client id: open() for another id while one is
   * open throws (opening the same id again takes over, as a restarted client does).
   */
  open(clientId: string, version: number): StoredSession;
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
  private readonly sessions = new Map<string, { outgoing: Map<number, StoredPublish>; incoming: Set<number>; version: number | undefined }>();
  private current: { outgoing: Map<number, StoredPublish>; incoming: Set<number>; version: number | undefined } | undefined;
  private currentId: string | undefined;

  open(clientId: string, version: number): StoredSession {
    if (this.current !== undefined && this.currentId !== clientId) {
      throw new Error(`MemoryStore: open for client ${JSON.stringify(this.currentId)}; use one store per client`);
    }
    this.currentId = clientId;
    let s = this.sessions.get(clientId);
    if (s === undefined) this.sessions.set(clientId, (s = { outgoing: new Map(), incoming: new Set(), version: undefined }));
    this.current = s;
    const saved: StoredSession = { outgoing: [...s.outgoing.values()].map((p) => ({ ...p, packet: p.packet.slice() })), incoming: [...s.incoming] };
    if (s.version !== undefined && saved.outgoing.length > 0) saved.version = s.version;
    s.version = version;
    return saved;
  }

  saveOutgoing(id: number, packet: Uint8Array): void {
    // Replaced in place: a flow saved again (restarted from PUBLISH) keeps its place in the order.
    this.session().outgoing.set(id, { id, released: false, packet: packet.slice() });
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
    this.currentId = undefined;
  }

  private session(): { outgoing: Map<number, StoredPublish>; incoming: Set<number>; version: number | undefined } {
    if (this.current === undefined) throw new Error("MemoryStore: open() first");
    return this.current;
  }
}
