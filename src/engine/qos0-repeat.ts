/**
 * The header of the last QoS 0 PUBLISH without properties, and what it depends on. A QoS 0 PUBLISH has no
 * packet id, so the next one to the same topic, with a payload of the same length and the same retain
 * flag, on the same protocol, has the same header: the engine copies it instead of measuring and encoding
 * the packet again. Made at the first QoS 0 publish, so a client that never publishes at QoS 0 holds none.
 */

/** The longest header kept (a topic of up to about 128 bytes). */
const MAX_KEPT_HEADER = 136;

export class Qos0Repeat {
  /** What the kept header depends on, compared by the engine's publish() inline (its hot path). */
  topic: string | undefined = undefined;
  payloadLength = -1;
  retain = false;
  version = 0;
  /** The kept header's bytes. */
  header = new Uint8Array(0);

  /** Keeps the `headerLength` header bytes written at bytes[offset] for a PUBLISH of these; long ones are not kept. */
  keep(topic: string, payloadLength: number, retain: boolean, version: number, bytes: Uint8Array, offset: number, headerLength: number): void {
    this.topic = undefined;
    if (headerLength > MAX_KEPT_HEADER) return;
    if (this.header.length !== headerLength) this.header = new Uint8Array(headerLength);
    const header = this.header;
    for (let i = 0; i < headerLength; i++) header[i] = bytes[offset + i]!;
    this.topic = topic;
    this.payloadLength = payloadLength;
    this.retain = retain;
    this.version = version;
  }
}
