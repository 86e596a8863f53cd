// Where a QoS 2 message's work goes in each client, with the broker's timing taken out: a scripted broker in
// this process plays QoS 2 to one client child of bench/e2e.ts (the same subscriber and publisher roles the
// end-to-end bench runs), so every client gets exactly the same chunks, and what is left to compare is what
// each one does with them.
//   node dist/bench/ack-path.js   (BENCH_MESSAGES=n for the long runs, default 100,000; BENCH_CLIENTS=floor,tinymqtt;
//   BENCH_PARTS=sockets or in-process for one of the two parts)
// Subscriber, in lockstep: each chunk carries K PUBLISHes and the PUBRELs of the previous chunk's K; the next
// chunk goes once every PUBREC and PUBCOMP of this one has arrived, so the broker never waits on itself and
// the subscriber reads exactly one chunk per round. Counted: the subscriber's writes per chunk (the broker's
// reads: a lower bound when TCP joins two writes, exact when there is one), acknowledgements per write, and
// the time from writing a chunk to reading its last acknowledgement (loopback and scheduling included: noisy
// on a loaded machine, so compare clients of one run), and its CPU (process.cpuUsage, user + system) per
// message over the first 10,000 messages of a fresh process and over a long run.
// Publisher: the broker answers each chunk it reads with one chunk holding a PUBREC per PUBLISH and a PUBCOMP
// per PUBREL in it. Counted: the publisher's writes (broker reads) per message and its CPU per message.
// In process, no sockets: the same chunks fed to a Client over a link that records its writes, so what is
// left is the client's own work per message (JIT warm-up included: the first 10,000 messages of a fresh
// client, then 40,000 more, then 100,000 once warm), beside the floor's frame walk over the same chunks.
import { spawn } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { PER_CHUNK, TOPIC, ack, frames, idOf, inProcessFloor, inProcessPublisher, inProcessSubscriber, publishPacket } from "./in-process.js";

const LONG = Number(process.env["BENCH_MESSAGES"] ?? 100_000);
const COLD = 10_000;
// MQTT.js is left out by default: its lockstep run did not finish here (not looked into); bench/strace-acks.ts
// shows what it does on the wire (a write per acknowledgement).
const CLIENTS = (process.env["BENCH_CLIENTS"] ?? "floor,tinymqtt,tinymqtt zero-copy").split(",");
const E2E = fileURLToPath(new URL("./e2e.js", import.meta.url));
interface Child { json: () => Promise<Record<string, number>>; exited: Promise<void> }

function child(role: "sub" | "pub", contender: string, port: number, count: number): Child {
  const c = spawn(process.execPath, [E2E, role, contender, String(port), "2", TOPIC, String(count)], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: c.stdout! })[Symbol.asyncIterator]();
  return {
    json: async () => JSON.parse(String((await lines.next()).value)) as Record<string, number>,
    exited: new Promise((resolve) => c.once("exit", () => resolve())),
  };
}

/** Answers CONNECT and SUBSCRIBE (a publisher sends none); hands every other chunk to `onChunk`. */
function serve(socket: net.Socket, onChunk: (chunk: Buffer) => void, onSubscribed: () => void): void {
  socket.setNoDelay(true);
  socket.on("error", () => {});
  let stage = 0;
  socket.on("data", (d: Buffer) => {
    if (stage === 0 && d[0] === 0x10) {
      stage = 1;
      socket.write(Buffer.from([0x20, 2, 0, 0]));
      return;
    }
    if (stage === 1 && d[0] === 0x82) {
      stage = 2;
      socket.write(Buffer.from([0x90, 3, d[2]!, d[3]!, 2]));
      onSubscribed();
      return;
    }
    onChunk(d);
  });
}

interface SubResult { writesPerChunk: number; acksPerWrite: number; cpuUsPerMsg: number; rttUs: number[] }

async function subscriber(contender: string, perChunk: number, count: number): Promise<SubResult> {
  let chunks = 0;
  let reads = 0;
  let acks = 0;
  /** Per chunk: from writing it to reading its last acknowledgement, in µs. */
  const rtt: number[] = [];
  let sentAt = 0;
  const server = net.createServer((socket) => {
    let sent = 0;
    let expected = 0;
    let got = 0;
    const next = (): void => {
      if (sentAt > 0) rtt.push((performance.now() - sentAt) * 1000);
      if (sent >= count + perChunk) return;
      const parts: Buffer[] = [];
      for (let k = 0; k < perChunk; k++) {
        if (sent + k < count) parts.push(publishPacket(idOf(sent + k)));
        if (sent > 0) parts.push(ack(0x62, idOf(sent - perChunk + k)));
      }
      expected = parts.length;
      got = 0;
      sent += perChunk;
      chunks++;
      sentAt = performance.now();
      socket.write(Buffer.concat(parts));
    };
    const walk = frames(() => { got++; acks++; });
    serve(socket, (d) => {
      reads++;
      walk(d);
      if (got >= expected) next();
    }, () => setTimeout(next, 100));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const c = child("sub", contender, (server.address() as net.AddressInfo).port, count);
  await c.json();
  const r = await c.json();
  await c.exited;
  server.close();
  return { writesPerChunk: reads / chunks, acksPerWrite: acks / reads, cpuUsPerMsg: r["cpuUs"]! / r["received"]!, rttUs: rtt.sort((a, b) => a - b) };
}

interface PubResult { writesPerMsg: number; cpuUsPerMsg: number }

async function publisher(contender: string, count: number): Promise<PubResult> {
  let reads = 0;
  const server = net.createServer((socket) => {
    const answers: Buffer[] = [];
    const walk = frames((first, buf, body) => {
      const type = first >> 4;
      if (type === 3) {
        const at = body + 2 + buf.readUInt16BE(body);
        answers.push(ack(0x50, buf.readUInt16BE(at)));
      } else if (type === 6) answers.push(ack(0x70, buf.readUInt16BE(body)));
    });
    serve(socket, (d) => {
      reads++;
      walk(d);
      if (answers.length > 0) socket.write(Buffer.concat(answers.splice(0)));
    }, () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const c = child("pub", contender, (server.address() as net.AddressInfo).port, count);
  const r = await c.json();
  await c.exited;
  server.close();
  return { writesPerMsg: reads / count, cpuUsPerMsg: r["cpuUs"]! / count };
}

const f = (n: number, d = 2): string => n.toFixed(d);
const PARTS = (process.env["BENCH_PARTS"] ?? "sockets,in-process").split(",");
if (PARTS.includes("sockets")) {
console.log(`QoS 2 acknowledgement path, scripted broker (no mosquitto); CPU per message over the first ${COLD.toLocaleString("en-US")} ` +
  `messages of a fresh process and over ${LONG.toLocaleString("en-US")}.`);
const at = (xs: number[], q: number): number => xs[Math.min(xs.length - 1, Math.floor(xs.length * q))]!;
console.log("\n| subscriber | PUBLISHes per chunk | writes per chunk | acks per write | chunk to last ack, median / p90 µs | CPU µs/msg, first 10k | CPU µs/msg, whole run |");
console.log("|---|--:|--:|--:|--:|--:|--:|");
for (const contender of CLIENTS) {
  for (const k of [1, 20]) {
    const cold = await subscriber(contender, k, COLD);
    const long = await subscriber(contender, k, LONG);
    console.log(`| ${contender} | ${k} | ${f(long.writesPerChunk, 3)} | ${f(long.acksPerWrite)} | ${f(at(long.rttUs, 0.5), 0)} / ${f(at(long.rttUs, 0.9), 0)} | ` +
      `${f(cold.cpuUsPerMsg)} | ${f(long.cpuUsPerMsg)} |`);
  }
}
console.log("\n| publisher | writes per message | CPU µs/msg, first 10k | CPU µs/msg, whole run |");
console.log("|---|--:|--:|--:|");
for (const contender of CLIENTS) {
  const cold = await publisher(contender, COLD);
  const long = await publisher(contender, LONG);
  console.log(`| ${contender} | ${f(long.writesPerMsg, 3)} | ${f(cold.cpuUsPerMsg)} | ${f(long.cpuUsPerMsg)} |`);
}
}

if (!PARTS.includes("in-process")) process.exit(0);
const SEGMENTS = [10_000, 40_000, 100_000];
const sub = await inProcessSubscriber(SEGMENTS);
const floorSegments = inProcessFloor(SEGMENTS);
const pub = await inProcessPublisher(SEGMENTS);
const seg = (xs: number[]): string => xs.map((x) => f(x)).join(" | ");
console.log(`\nIn process, no sockets (${PER_CHUNK} PUBLISHes and ${PER_CHUNK} PUBRELs per chunk; the publisher's window 1,000): CPU µs per message`);
console.log("\n| | writes | first 10,000 | next 40,000 | next 100,000 |");
console.log("|---|--:|--:|--:|--:|");
console.log(`| floor subscriber | 1 per chunk | ${seg(floorSegments)} |`);
console.log(`| tinymqtt subscriber | ${f(sub.writesPerChunk, 3)} per chunk | ${seg(sub.segments)} |`);
console.log(`| tinymqtt publisher | ${f(pub.writesPerMessage, 4)} per message | ${seg(pub.segments)} |`);
process.exit(0);
