// The QoS 2 acknowledgement path without sockets: a Client over a link that records its writes, fed the chunks
// a broker sends, so what is measured is the client's own work per message. Used by bench/ack-path.ts (CPU per
// message, cold and warm) and by bench/e2e.ts (BENCH_WARMUP: a child runs messages through it before its run).
import type { Host, Link, LinkEvents } from "../src/connection/host.js";
import { Client } from "../src/paho/client.js";

export const TOPIC = "bench/ack-path/q2";
export const PAYLOAD = Buffer.alloc(64, 0x30);

export function publishPacket(id: number): Buffer {
  const body = 2 + TOPIC.length + 2 + PAYLOAD.length;
  const b = Buffer.alloc(2 + body);
  b[0] = 0x34;
  b[1] = body;
  b.writeUInt16BE(TOPIC.length, 2);
  b.write(TOPIC, 4, "latin1");
  b.writeUInt16BE(id, 4 + TOPIC.length);
  PAYLOAD.copy(b, 6 + TOPIC.length);
  return b;
}

export const idOf = (i: number): number => (i % 65535) + 1;
export const ack = (first: number, id: number): Buffer => Buffer.from([first, 2, id >> 8, id & 0xff]);

/** Walks whole frames of a byte stream, carrying a cut frame to the next chunk. */
export function frames(onFrame: (first: number, buf: Buffer, body: number) => void): (chunk: Buffer) => void {
  let carry = Buffer.alloc(0);
  return (chunk) => {
    const buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    let o = 0;
    while (o + 2 <= buf.length) {
      let length = 0;
      let mult = 1;
      let p = o + 1;
      for (;;) {
        if (p >= buf.length) { length = -1; break; }
        const b = buf[p++]!;
        length += (b & 0x7f) * mult;
        mult *= 128;
        if ((b & 0x80) === 0) break;
      }
      if (length < 0 || p + length > buf.length) break;
      onFrame(buf[o]!, buf, p);
      o = p + length;
    }
    carry = Buffer.from(buf.subarray(o));
  };
}

/** A host whose one link reads from `chunks` and hands what the client writes to `onWrite`. */
function fakeHost(chunks: Uint8Array[], onWrite: (bytes: Uint8Array, offset: number, length: number) => void): { host: Host; readable: () => void } {
  let events: LinkEvents | undefined;
  const link: Link = {
    socket: null,
    read: () => chunks.shift() ?? null,
    write: (bytes, offset, length) => { onWrite(bytes, offset, length); return length; },
    close: () => {},
    destroy: () => {},
  };
  const host: Host = {
    now: () => performance.now(),
    setTimer: (fn, ms) => setTimeout(fn, ms),
    clearTimer: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
    defer: (fn) => setImmediate(fn),
    open: (_params, e) => { events = e; setImmediate(() => e.onOpen()); return link; },
  };
  return { host, readable: () => events!.onReadable() };
}

const cpuUs = (from: NodeJS.CpuUsage): number => { const d = process.cpuUsage(from); return d.user + d.system; };
export const PER_CHUNK = 5;

/** Steady-state chunks: each holds PER_CHUNK PUBLISHes and the PUBRELs of the chunk before (the first, of the last). */
function subscriberChunks(): Buffer[] {
  const rounds = 13_107; // PER_CHUNK * rounds = 65535 ids: the cycle closes without an id in use twice
  const out: Buffer[] = [];
  for (let r = 0; r < rounds; r++) {
    const parts: Buffer[] = [];
    for (let k = 0; k < PER_CHUNK; k++) {
      parts.push(publishPacket(idOf(r * PER_CHUNK + k)));
      parts.push(ack(0x62, idOf((r + rounds - 1) * PER_CHUNK + k)));
    }
    out.push(Buffer.concat(parts));
  }
  return out;
}

/** Runs the messages of each segment through a fresh subscriber; CPU µs per message of each, and its writes per chunk. */
export async function inProcessSubscriber(counts: number[]): Promise<{ segments: number[]; writesPerChunk: number }> {
  const all = subscriberChunks();
  const queue: Uint8Array[] = [];
  let writes = 0;
  const { host, readable } = fakeHost(queue, () => { writes++; });
  const client = new Client({ host, clientId: "ack-path", budget: { maxIncomingQos2: 8000 } });
  let received = 0;
  client.onMessage = () => { received++; };
  await new Promise<void>((resolve) => {
    client.onConnect = () => { client.subscribe(TOPIC, 2); };
    client.onSubscribe = () => resolve();
    void client.connect("fake", 1883).then(() => {
      client.loopStart();
      queue.push(Buffer.from([0x20, 2, 0, 0]));
      readable();
      setTimeout(() => { queue.push(Buffer.from([0x90, 3, 0, 1, 2])); readable(); }, 10);
    });
  });
  let next = 1; // chunk 0 releases ids never sent: start after it
  const feed = (messages: number): number => {
    const cpu = process.cpuUsage();
    for (let n = 0; n < messages; n += PER_CHUNK) {
      queue.push(all[next]!);
      next = (next + 1) % all.length;
      readable();
    }
    return cpuUs(cpu) / messages;
  };
  const segments = counts.map(feed);
  const chunks = counts.reduce((a, b) => a + b, 0) / PER_CHUNK;
  if (received < chunks * PER_CHUNK) throw new Error(`in-process subscriber: ${received} of ${chunks * PER_CHUNK} delivered`);
  client.disconnect();
  return { segments, writesPerChunk: writes / chunks };
}

/** The floor subscriber's work on the same chunks: walk the frames, answer each from a table, one write per chunk. */
export function inProcessFloor(counts: number[]): number[] {
  const all = subscriberChunks();
  const table = (type: number): Buffer => {
    const t = Buffer.alloc(65536 * 4);
    for (let id = 1; id < 65536; id++) ack(type, id).copy(t, id * 4);
    return t;
  };
  const pubrec = table(0x50);
  const pubcomp = table(0x70);
  const answers = Buffer.alloc(64 * 1024);
  let sink = 0;
  let length = 0;
  let delivered = 0;
  const walk = frames((first, buf, body) => {
    const type = first >> 4;
    if (type === 3) {
      const id = buf.readUInt16BE(body + 2 + buf.readUInt16BE(body));
      pubrec.copy(answers, length, id * 4, id * 4 + 4);
      length += 4;
      delivered++;
    } else if (type === 6) {
      const id = buf.readUInt16BE(body);
      pubcomp.copy(answers, length, id * 4, id * 4 + 4);
      length += 4;
    }
  });
  let next = 1;
  return counts.map((messages) => {
    const cpu = process.cpuUsage();
    for (let n = 0; n < messages; n += PER_CHUNK) {
      length = 0;
      walk(all[next]!);
      next = (next + 1) % all.length;
      sink += Buffer.from(answers.subarray(0, length)).length;
    }
    if (sink === 0 || delivered === 0) throw new Error("the floor wrote nothing");
    return cpuUs(cpu) / messages;
  });
}

/** Publishes the messages of each segment from a fresh publisher (window 1,000); CPU µs per message of each. */
export async function inProcessPublisher(counts: number[]): Promise<{ segments: number[]; writesPerMessage: number }> {
  const window = 1000;
  const queue: Uint8Array[] = [];
  let writes = 0;
  let readable = (): void => {};
  const answer = frames((first, buf, body) => {
    const type = first >> 4;
    if (type === 3) queue.push(ack(0x50, buf.readUInt16BE(body + 2 + buf.readUInt16BE(body))));
    else if (type === 6) queue.push(ack(0x70, buf.readUInt16BE(body)));
  });
  const fake = fakeHost(queue, (bytes, offset, length) => {
    writes++;
    const before = queue.length;
    answer(Buffer.from(bytes.subarray(offset, offset + length)));
    // The broker's answers to one write come back as one chunk, as bench/e2e.ts's floor broker would send them.
    if (queue.length > before) {
      const joined = Buffer.concat(queue.splice(before) as Buffer[]);
      queue.push(joined);
      setImmediate(readable);
    }
  });
  readable = fake.readable;
  const client = new Client({ host: fake.host, clientId: "ack-path-pub", budget: { maxMessages: window + 8, storeBytes: (window + 8) * 128, outputBytes: window * 128 + 1024 } });
  client.maxInflightMessagesSet(window);
  const total = counts.reduce((a, b) => a + b, 0);
  const marks = counts.map((_, i) => counts.slice(0, i + 1).reduce((a, b) => a + b, 0));
  const segments: number[] = [];
  let published = 0;
  let completed = 0;
  let cpu = process.cpuUsage();
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (published < total && published - completed < window) {
        client.publish(TOPIC, PAYLOAD, 2);
        published++;
      }
    };
    client.onPublish = () => {
      completed++;
      if (completed === marks[segments.length]) {
        segments.push(cpuUs(cpu) / counts[segments.length]!);
        cpu = process.cpuUsage();
      }
      if (completed === total) resolve();
      else pump();
    };
    client.onConnect = () => { cpu = process.cpuUsage(); pump(); };
    void client.connect("fake", 1883).then(() => {
      client.loopStart();
      queue.push(Buffer.from([0x20, 2, 0, 0]));
      readable();
    });
  });
  client.disconnect();
  return { segments, writesPerMessage: writes / total };
}
