/**
 * `-d` for `tinymqtt pub`/`sub`: a line for each packet sent and received, in mosquitto's own layout
 * ("Client id sending PUBLISH (d0, q1, r0, m1, 'a/b', ... (5 bytes))", "Client id received PUBACK (Mid: 1,
 * RC:0)", ...), on stdout as mosquitto_pub/sub print them.
 *
 * The packets are read off the link: a Host that wraps the Node host and decodes, with the library's own
 * decoder, the bytes each link reads and writes. Nothing in the client changes, and without -d nothing of
 * this runs.
 */
import { AUTH, CONNACK, CONNECT, DISCONNECT, PINGREQ, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE, type ProtocolVersion } from "../../src/codec/constants.js";
import type { DecodedPacket } from "../../src/codec/decoder.js";
import { Decoder } from "../../src/codec/mqtt5.js";
import type { Host, Link, LinkEvents, LinkParams } from "./index.js";

export class PacketLog {
  /** The client id as mosquitto prints it: "(null)" until one is known (given, or assigned on MQTT 5). */
  private id = "(null)";
  /** The last message id used: a QoS 0 PUBLISH carries none on the wire, but takes the next one, as mosquitto's. */
  private lastMid = 0;
  /** Incoming topic aliases (MQTT 5), so a PUBLISH sent by alias prints its topic. */
  private readonly aliases = new Map<number, string>();

  constructor(private readonly print: (line: string) => void, private readonly version: ProtocolVersion, private readonly maxPacketSize: number) {}

  /** `inner`, with every link it opens read as it goes. */
  host(inner: Host): Host {
    return {
      now: () => inner.now(),
      setTimer: (callback, ms) => inner.setTimer(callback, ms),
      clearTimer: (handle) => inner.clearTimer(handle),
      defer: (callback) => inner.defer(callback),
      open: (params: LinkParams, events: LinkEvents) => this.tap(inner.open(params, events)),
    };
  }

  /**
   * The link, handing the client at most one packet's end per read(): the client handles a packet (and
   * calls its callbacks, which may print) before it reads the next, so each "received" line comes out
   * where mosquitto prints it, before what handling the packet prints.
   */
  private tap(link: Link): Link {
    const sent = new Decoder({ maxPacketSize: this.maxPacketSize, version: this.version });
    const received = new Decoder({ maxPacketSize: this.maxPacketSize, version: this.version });
    received.skipOversized = this.version !== 5;
    const framing = new Framing();
    let chunk: Uint8Array | null = null;
    let at = 0;
    this.aliases.clear();
    const log = this;
    return {
      read() {
        if (chunk === null || at === chunk.length) {
          chunk = link.read();
          at = 0;
          if (chunk === null) return null;
        }
        const end = framing.pieceEnd(chunk, at);
        const piece = chunk.subarray(at, end);
        at = end;
        log.decode(received, piece, false);
        return piece;
      },
      write(bytes, offset, length) {
        const taken = link.write(bytes, offset, length);
        if (taken > 0) log.decode(sent, bytes.subarray(offset, offset + taken), true);
        return taken;
      },
      close: () => link.close(),
      destroy: () => link.destroy(),
      get socket() {
        return link.socket;
      },
    };
  }

  private decode(decoder: Decoder, bytes: Uint8Array, sending: boolean): void {
    try {
      decoder.feed(bytes);
      for (let p = decoder.next(); p !== null; p = decoder.next()) this.line(p, sending);
    } catch (e) {
      // Only the log is lost: the client reads the same bytes with its own decoder and reports what is wrong.
      this.print(`Client ${this.id} ${sending ? "sending" : "received"} bytes that could not be decoded: ${(e as Error).message}`);
      decoder.reset();
    }
  }

  private line(p: DecodedPacket, sending: boolean): void {
    const client = `Client ${this.id}`;
    if (sending) {
      switch (p.type) {
        case CONNECT:
          if (p.clientId !== "") this.id = p.clientId;
          return this.print(`Client ${this.id} sending CONNECT`);
        case PUBLISH:
          this.lastMid = p.qos > 0 ? p.packetId : this.lastMid === 0xffff ? 1 : this.lastMid + 1;
          return this.print(`${client} sending PUBLISH (d${p.dup ? 1 : 0}, q${p.qos}, r${p.retain ? 1 : 0}, m${this.lastMid}, '${p.topic}', ... (${p.payloadLength} bytes))`);
        case PUBACK: return this.print(`${client} sending PUBACK (m${p.packetId}, rc${p.reasonCode})`);
        case PUBREC: return this.print(`${client} sending PUBREC (m${p.packetId}, rc${p.reasonCode})`);
        case PUBREL: return this.print(`${client} sending PUBREL (m${p.packetId})`);
        case PUBCOMP: return this.print(`${client} sending PUBCOMP (m${p.packetId})`);
        case SUBSCRIBE:
          this.lastMid = p.packetId;
          for (const s of p.subscriptions) {
            const options = (s.noLocal ? 0x04 : 0) | (s.retainAsPublished ? 0x08 : 0) | ((s.retainHandling ?? 0) << 4);
            this.print(`${client} sending SUBSCRIBE (Mid: ${p.packetId}, Topic: ${s.topicFilter}, QoS: ${s.qos}, Options: 0x${options.toString(16).padStart(2, "0")})`);
          }
          return;
        case UNSUBSCRIBE:
          this.lastMid = p.packetId;
          for (const t of p.topicFilters) this.print(`${client} sending UNSUBSCRIBE (Mid: ${p.packetId}, Topic: ${t})`);
          return;
        case PINGREQ: return this.print(`${client} sending PINGREQ`);
        case DISCONNECT: return this.print(`${client} sending DISCONNECT`);
        default: return;
      }
    }
    switch (p.type) {
      case CONNACK: {
        const assigned = p.properties?.assignedClientIdentifier;
        if (typeof assigned === "string" && this.id === "(null)") this.id = assigned;
        return this.print(`Client ${this.id} received CONNACK (${p.reasonCode})`);
      }
      case PUBLISH: {
        let topic = p.topic;
        if (p.topicAlias > 0) {
          if (topic !== "") this.aliases.set(p.topicAlias, topic);
          else topic = this.aliases.get(p.topicAlias) ?? "";
        }
        return this.print(`${client} received PUBLISH (d${p.dup ? 1 : 0}, q${p.qos}, r${p.retain ? 1 : 0}, m${p.packetId}, '${topic}', ... (${p.oversize > 0 ? p.oversize : p.payloadLength} bytes))`);
      }
      case PUBACK: return this.print(`${client} received PUBACK (Mid: ${p.packetId}, RC:${p.reasonCode})`);
      case PUBCOMP: return this.print(`${client} received PUBCOMP (Mid: ${p.packetId}, RC:${p.reasonCode})`);
      case PUBREC: return this.print(`${client} received PUBREC (Mid: ${p.packetId})`);
      case PUBREL: return this.print(`${client} received PUBREL (Mid: ${p.packetId})`);
      case SUBACK: return this.print(`${client} received SUBACK`);
      case UNSUBACK: return this.print(`${client} received UNSUBACK`);
      case PINGRESP: return this.print(`${client} received PINGRESP`);
      case PINGREQ: return this.print(`${client} received PINGREQ`);
      // mosquitto's own layout for this one, without "Client id".
      case DISCONNECT: return this.print(`Received DISCONNECT (${p.reasonCode ?? 0})`);
      case AUTH: return this.print(`${client} received AUTH`);
      default: return;
    }
  }
}

/** Where the packets of a byte stream end, from each fixed header's Remaining Length. */
class Framing {
  /** Bytes of the current packet still to come after its fixed header; -1 while reading a fixed header. */
  private left = -1;
  private headerBytes = 0;
  private length = 0;
  private multiplier = 1;

  /** The end of the piece of bytes[at...] to hand out: the end of the first packet ending in it, else of bytes. */
  pieceEnd(bytes: Uint8Array, at: number): number {
    let i = at;
    while (i < bytes.length) {
      if (this.left < 0) {
        const b = bytes[i++]!;
        // The first byte is the packet type; then the Remaining Length, 7 bits a byte, high bit: more follows.
        if (this.headerBytes++ === 0) continue;
        this.length += (b & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        if ((b & 0x80) !== 0 && this.headerBytes < 5) continue;
        this.left = this.length;
      }
      const take = Math.min(this.left, bytes.length - i);
      i += take;
      this.left -= take;
      if (this.left === 0) {
        this.left = -1;
        this.headerBytes = this.length = 0;
        this.multiplier = 1;
        return i;
      }
    }
    return i;
  }
}
