// Bundled by bench/xs-publish-run.ts and run inside XS (xsnap-worker): the Paho Client's publish path
// alone, over an in-memory link, so the meter's count per message is the client's own work and nothing
// else (no bridge, no socket fakes, no TCP segmentation): deterministic from one run to the next.
// The link takes every byte it is offered and answers each QoS 1 PUBLISH with a PUBACK (and each QoS 2 one
// with PUBREC, each PUBREL with PUBCOMP) in the next chunk it is read, as a broker on loopback would.
// handleCommand("<qos> <count>") publishes `count` 32-byte messages to one topic as the bench:xs app does
// (as many as the client takes, more as they complete) and replies with JSON {"published": n}.
import { Client } from "../src/paho/client.js";
import type { Host, Link, LinkEvents } from "../src/connection/host.js";
import { instrument, profileReport, resetProfile } from "./xs-profile.js";
import { Engine } from "../src/engine/engine.js";
import { Outbox } from "../src/engine/outbox.js";
import { OutputRing } from "../src/buffers/output-ring.js";
import { ByteRing } from "../src/buffers/byte-ring.js";
import { PacketIdTable } from "../src/buffers/packet-id-table.js";
import { Decoder } from "../src/codec/decoder.js";
import { Encoder } from "../src/codec/encoder.js";
import { ConnectionDriver } from "../src/connection/driver.js";
import { EventLoop } from "../src/paho/event-loop.js";
import { Completions } from "../src/paho/completions.js";
import { MessageInfo } from "../src/paho/message.js";
import { AckView } from "../src/codec/packets/ack.js";

const CONNACK = Uint8Array.of(0x20, 2, 0, 0);

/** A link to a broker that accepts everything and acknowledges at once. */
class LoopbackLink implements Link {
  readonly socket = this;
  private pending = new Uint8Array(65536);
  private pendingLength = 0;
  private readonly chunk = new Uint8Array(65536);
  private scan = 0;
  constructor(readonly events: LinkEvents, readonly host: MemoryHost) {}
  read(): Uint8Array | null {
    if (this.pendingLength === 0) return null;
    this.chunk.set(this.pending.subarray(0, this.pendingLength));
    const out = this.chunk.subarray(0, this.pendingLength);
    this.pendingLength = 0;
    return out;
  }
  write(bytes: Uint8Array, offset: number, length: number): number {
    // Walk the packets written (they arrive whole here: the client writes whole packets in order).
    let i = offset;
    const end = offset + length;
    while (i < end) {
      const type = bytes[i]! >> 4;
      let remaining = 0;
      let shift = 0;
      let j = i + 1;
      for (;;) {
        const b = bytes[j++]!;
        remaining |= (b & 0x7f) << shift;
        shift += 7;
        if (b < 0x80) break;
      }
      const qos = (bytes[i]! >> 1) & 3;
      if (type === 1) {
        this.queue(CONNACK);
      } else if (type === 3 && qos > 0) {
        const topicLength = (bytes[j]! << 8) | bytes[j + 1]!;
        const id = j + 2 + topicLength;
        this.queue(Uint8Array.of(qos === 1 ? 0x40 : 0x50, 2, bytes[id]!, bytes[id + 1]!));
      } else if (type === 6) {
        this.queue(Uint8Array.of(0x70, 2, bytes[j]!, bytes[j + 1]!));
      }
      i = j + remaining;
    }
    return length;
  }
  private queue(packet: Uint8Array): void {
    const wasEmpty = this.pendingLength === 0;
    this.pending.set(packet, this.pendingLength);
    this.pendingLength += packet.length;
    if (wasEmpty) this.host.defer(() => this.events.onReadable());
  }
  close(): void {}
  destroy(): void {}
}

/** Time stands still; deferred callbacks run when run() is called, as from an event loop. */
class MemoryHost implements Host {
  private deferred: Array<() => void> = [];
  now(): number { return 1000; }
  setTimer(): unknown { return 1; }
  clearTimer(): void {}
  defer(callback: () => void): void { this.deferred.push(callback); }
  open(_params: unknown, events: LinkEvents): Link {
    const link = new LoopbackLink(events, this);
    this.defer(() => events.onOpen());
    return link;
  }
  run(): void {
    while (this.deferred.length > 0) {
      const batch = this.deferred;
      this.deferred = [];
      for (const callback of batch) callback();
    }
  }
}

const host = new MemoryHost();
const client = new Client({ clientId: "xs-publish", host, budget: { maxPacketSize: 4096, outputBytes: 2048, storeBytes: 6144, maxMessages: 32 } });
const payload = new Uint8Array(32).fill(0x61);
const TOPIC = "xsmem/tiny/out";
let left = 0;
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
client.loopStart();
void client.connect("loopback", 1883);


(globalThis as unknown as { handleCommand: (request: ArrayBuffer) => ArrayBuffer }).handleCommand = (request) => {
  const [q = "0", count = "0", mode = ""] = new TextDecoder().decode(request).split(" ");
  if (mode === "profile" && !profiling) {
    profiling = true;
    instrument({ Client, Engine, Outbox, OutputRing, ByteRing, PacketIdTable, Decoder, Encoder, ConnectionDriver, EventLoop, Completions, MessageInfo, AckView, LoopbackLink, MemoryHost });
  }
  host.run(); // connect() went on in promise jobs after the script's evaluation: CONNECT, CONNACK
  if (!client.isConnected()) throw new Error("not connected");
  qos = Number(q) as 0 | 1 | 2;
  left = Number(count);
  const target = left;
  if (mode === "profile") resetProfile();
  let rounds = 0;
  while (left > 0 && rounds++ < 1_000_000) {
    pump();
    host.run();
  }
  host.run();
  const profile = mode === "profile" ? profileReport(target) : undefined;
  return new TextEncoder().encode(JSON.stringify({ published: target - left, profile })).buffer as ArrayBuffer;
};
