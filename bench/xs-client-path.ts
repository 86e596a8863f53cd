// Bundled by bench/xs-client-path-run.ts and run inside XS (xsnap-worker): the Paho Client's own work per
// message sent and received, over an in-memory link, so the meter's count is the client's and nothing else
// (no bridge, no socket fakes, no TCP segmentation): deterministic from one run to the next.
// The link plays a broker on loopback: it takes every byte, answers each QoS 1 PUBLISH with PUBACK, each
// QoS 2 one with PUBREC, each PUBREL with PUBCOMP and each PUBREC with PUBREL, in the next chunk read.
// handleCommand("send <qos> <count> [profile]") publishes `count` 32-byte messages to one topic as the
// bench:xs app does (as many as the client takes, more from onPublish as they complete);
// handleCommand("receive <qos> <count> [profile]") feeds `count` 32-byte PUBLISHes, eight to a chunk, to a
// client with zeroCopyMessages (the device default). The reply is JSON {"messages": n, "profile": [...]}.
import { Client } from "../src/paho/client.js";
import type { Host, Link, LinkEvents } from "../src/connection/host.js";
import { Encoder } from "../src/codec/encoder.js";
import { instrument, profileReport, resetProfile } from "./xs-profile.js";
import { Engine } from "../src/engine/engine.js";
import { Outbox } from "../src/engine/outbox.js";
import { OutputRing } from "../src/buffers/output-ring.js";
import { ByteRing } from "../src/buffers/byte-ring.js";
import { PacketIdTable } from "../src/buffers/packet-id-table.js";
import { Decoder } from "../src/codec/decoder.js";
import { ConnectionDriver } from "../src/connection/driver.js";
import { EventLoop } from "../src/paho/event-loop.js";
import { Completions } from "../src/paho/completions.js";
import { MessageInfo, MQTTMessage } from "../src/paho/message.js";
import { AckView } from "../src/codec/packets/ack.js";
import { PublishView } from "../src/codec/packets/publish-packet.js";

const CONNACK = Uint8Array.of(0x20, 2, 0, 0);
/** PUBLISHes per chunk fed to the receiving client: within ESP32_BUDGET's 16 incoming QoS 2 ids. */
const PER_CHUNK = 8;

/** A link to a broker that accepts everything and acknowledges at once. */
class LoopbackLink implements Link {
  readonly socket = this;
  private pending = new Uint8Array(65536);
  private pendingLength = 0;
  private readonly chunk = new Uint8Array(65536);
  constructor(readonly events: LinkEvents, readonly host: MemoryHost) {}
  read(): Uint8Array | null {
    if (this.pendingLength === 0) return null;
    this.chunk.set(this.pending.subarray(0, this.pendingLength));
    const out = this.chunk.subarray(0, this.pendingLength);
    this.pendingLength = 0;
    return out;
  }
  write(bytes: Uint8Array, offset: number, length: number): number {
    // The client writes whole packets, in order: walk their fixed headers.
    let i = offset;
    const end = offset + length;
    while (i < end) {
      const type = bytes[i]! >> 4;
      const qos = (bytes[i]! >> 1) & 3;
      let remaining = 0;
      let shift = 0;
      let j = i + 1;
      for (;;) {
        const b = bytes[j++]!;
        remaining |= (b & 0x7f) << shift;
        shift += 7;
        if (b < 0x80) break;
      }
      if (type === 1) {
        this.queue(CONNACK);
      } else if (type === 3 && qos > 0) {
        const id = j + 2 + ((bytes[j]! << 8) | bytes[j + 1]!);
        this.queue(Uint8Array.of(qos === 1 ? 0x40 : 0x50, 2, bytes[id]!, bytes[id + 1]!));
      } else if (type === 5 || type === 6) {
        // PUBREC -> PUBREL, PUBREL -> PUBCOMP.
        this.queue(Uint8Array.of(type === 5 ? 0x62 : 0x70, 2, bytes[j]!, bytes[j + 1]!));
      }
      i = j + remaining;
    }
    return length;
  }
  queue(packets: Uint8Array): void {
    const wasEmpty = this.pendingLength === 0;
    this.pending.set(packets, this.pendingLength);
    this.pendingLength += packets.length;
    if (wasEmpty) this.host.defer(() => this.events.onReadable());
  }
  close(): void {}
  destroy(): void {}
}

/** Time stands still; deferred callbacks run when run() is called, as from an event loop. */
class MemoryHost implements Host {
  private deferred: Array<() => void> = [];
  link: LoopbackLink | undefined;
  now(): number { return 1000; }
  setTimer(): unknown { return 1; }
  clearTimer(): void {}
  defer(callback: () => void): void { this.deferred.push(callback); }
  open(_params: unknown, events: LinkEvents): Link {
    this.link = new LoopbackLink(events, this);
    this.defer(() => events.onOpen());
    return this.link;
  }
  run(): void {
    while (this.deferred.length > 0) {
      const batch = this.deferred;
      this.deferred = [];
      for (const callback of batch) callback();
    }
  }
}

const budget = { maxPacketSize: 4096, outputBytes: 2048, storeBytes: 6144, maxMessages: 32, maxIncomingQos2: 16 };
const host = new MemoryHost();
const client = new Client({ clientId: "xs-client-path", host, budget, zeroCopyMessages: true });
const payload = new Uint8Array(32).fill(0x61);
const TOPIC = "xsmem/tiny/out";
let left = 0;
let received = 0;
let qos: 0 | 1 | 2 = 0;
let pumping = false;
let profiling = false;
function pump(): void {
  if (pumping) return;
  pumping = true;
  while (left > 0) {
    const info = client.publish(TOPIC, payload, qos);
    if (info.rc !== 0) break;
    left--;
  }
  pumping = false;
}
client.onPublish = () => pump();
client.onMessage = (_client, _userdata, message) => {
  if (message.payload.length === 32) received++;
};
client.loopStart();
void client.connect("loopback", 1883);

/** PER_CHUNK PUBLISHes at `q`, ids 1..PER_CHUNK (each released before the next chunk comes). */
function publishChunk(q: 0 | 1 | 2): Uint8Array {
  const encoder = new Encoder(4);
  const parts: Uint8Array[] = [];
  for (let id = 1; id <= PER_CHUNK; id++) {
    parts.push(encoder.encode({ type: 3, topic: "xsmem/tiny/in", payload, qos: q, retain: false, dup: false, packetId: q > 0 ? id : 0 }));
  }
  const chunk = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    chunk.set(p, o);
    o += p.length;
  }
  return chunk;
}
const chunks = [publishChunk(0), publishChunk(1), publishChunk(2)];

function send(count: number): number {
  left = count;
  let rounds = 0;
  while (left > 0 && rounds++ < 1_000_000) {
    pump();
    host.run();
  }
  host.run();
  return count - left;
}

function receive(count: number): number {
  received = 0;
  for (let fed = 0; fed < count; fed += PER_CHUNK) {
    host.link!.queue(chunks[qos]!);
    host.run();
  }
  return received;
}

(globalThis as unknown as { handleCommand: (request: ArrayBuffer) => ArrayBuffer }).handleCommand = (request) => {
  const [direction = "send", q = "0", count = "0", mode = ""] = new TextDecoder().decode(request).split(" ");
  host.run(); // connect() went on in promise jobs after the script's evaluation: CONNECT, CONNACK
  if (!client.isConnected()) throw new Error("not connected");
  if (mode === "profile" && !profiling) {
    profiling = true;
    instrument({ Client, Engine, Outbox, OutputRing, ByteRing, PacketIdTable, Decoder, Encoder, ConnectionDriver, EventLoop, Completions, MessageInfo, MQTTMessage, AckView, PublishView, LoopbackLink, MemoryHost });
  }
  qos = Number(q) as 0 | 1 | 2;
  const n = Number(count);
  if (mode === "profile") resetProfile();
  const messages = direction === "receive" ? receive(n) : send(n);
  const profile = mode === "profile" ? profileReport(n) : undefined;
  return new TextEncoder().encode(JSON.stringify({ messages, profile })).buffer as ArrayBuffer;
};
