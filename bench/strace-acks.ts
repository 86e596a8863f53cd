// Reads the wire of an end-to-end client off its system calls: how its acknowledgements batch into writes, and
// how long each waited between the packet that asked for it arriving and its leaving.
//   BENCH_STRACE=/tmp/e2e-strace BENCH_QOS=2 BENCH_RUNS=1 node dist/bench/e2e.js    (each child under strace)
//   node dist/bench/strace-acks.js /tmp/e2e-strace/*.txt
// Input: `strace -f -ttt -xx -s 65536 -e trace=read,write,writev` of one client process. The MQTT socket is the
// descriptor (not stdin/out/err) that moved the most bytes. A packet "arrives" with the read() that completes it and an
// acknowledgement "leaves" with the write() that holds it: PUBLISH (QoS 2) -> PUBREC and PUBREL -> PUBCOMP on a
// subscriber, PUBREC -> PUBREL on a publisher. strace stops the process at every call, so absolute times are
// inflated; the batching and the order of events are the client's own.
import { readFileSync } from "node:fs";

const LINE = /^\d+\s+([\d.]+) (read|write|writev)\((\d+), (.*)\) = (-?\d+)/;
/** The packet type that answers each type asked: PUBLISH -> PUBREC, PUBREC -> PUBREL, PUBREL -> PUBCOMP. */
const ANSWER: Record<number, number> = { 3: 5, 5: 6, 6: 7 };
const NAMES: Record<number, string> = { 5: "PUBLISH -> PUBREC", 6: "PUBREC -> PUBREL", 7: "PUBREL -> PUBCOMP" };

function unescape(s: string): number[] {
  const out: number[] = [];
  for (const m of s.matchAll(/\\x([0-9a-f]{2})/g)) out.push(parseInt(m[1]!, 16));
  return out;
}

/** Whole frames of buf: [first byte, body offset, body length]; the rest is left for the next chunk. */
function frames(buf: number[]): { frames: Array<[number, number]>; rest: number[] } {
  const out: Array<[number, number]> = [];
  let o = 0;
  for (;;) {
    if (o + 2 > buf.length) break;
    let length = 0;
    let mult = 1;
    let p = o + 1;
    let complete = false;
    while (p < buf.length) {
      const b = buf[p++]!;
      length += (b & 0x7f) * mult;
      mult *= 128;
      if ((b & 0x80) === 0) { complete = true; break; }
    }
    if (!complete || p + length > buf.length) break;
    const type = buf[o]! >> 4;
    let id = -1;
    if (type === 3 && ((buf[o]! >> 1) & 3) === 2) {
      const at = p + 2 + ((buf[p]! << 8) | buf[p + 1]!);
      id = (buf[at]! << 8) | buf[at + 1]!;
    } else if (type >= 4 && type <= 7) id = (buf[p]! << 8) | buf[p + 1]!;
    if (id >= 0) out.push([type, id]);
    o = p + length;
  }
  return { frames: out, rest: buf.slice(o) };
}

const quantile = (xs: number[], q: number): number => xs[Math.min(xs.length - 1, Math.floor(xs.length * q))] ?? NaN;

for (const path of process.argv.slice(2)) {
  const calls: Array<{ at: number; write: boolean; fd: number; bytes: number[] }> = [];
  const ioBytes = new Map<number, number>();
  /** strace -f splits a call another thread interrupted: "read(...) <unfinished ...>", later "<... read resumed>) = n". */
  const unfinished = new Map<string, string>();
  for (let line of readFileSync(path, "utf8").split("\n")) {
    const cut = /^(\d+)\s+(.*) <unfinished \.\.\.>$/.exec(line);
    if (cut !== null) {
      unfinished.set(cut[1]!, line.slice(0, line.length - " <unfinished ...>".length));
      continue;
    }
    const resumed = /^(\d+)\s+[\d.]+ <\.\.\. \w+ resumed>(.*)$/.exec(line);
    if (resumed !== null) {
      const start = unfinished.get(resumed[1]!);
      unfinished.delete(resumed[1]!);
      if (start === undefined) continue;
      line = start + resumed[2]!;
    }
    const m = LINE.exec(line);
    if (m === null || Number(m[5]) <= 0) continue;
    const write = m[2] !== "read";
    const fd = Number(m[3]);
    // read(fd, "data", size) and write(fd, "data", size): the data is the first argument after fd.
    // writev(fd, [{iov_base="data", iov_len=n}, ...], count): every iov_base, in order.
    const args = m[2] === "writev" ? m[4]! : m[4]!.slice(0, m[4]!.lastIndexOf('", ') + 1);
    const bytes = unescape(args).slice(0, Number(m[5]));
    calls.push({ at: Number(m[1]) * 1e6, write, fd, bytes });
    if (fd > 2) ioBytes.set(fd, (ioBytes.get(fd) ?? 0) + bytes.length);
  }
  // The module files a child reads at start can outweigh its reads from the socket, but nothing else is written.
  const fd = [...ioBytes].sort((a, b) => b[1] - a[1])[0]?.[0];
  let input: number[] = [];
  let output: number[] = [];
  const asked = new Map<number, number>();
  const delays = new Map<number, number[]>();
  let reads = 0;
  let writes = 0;
  let packetsIn = 0;
  let acksOut = 0;
  let connected = false;
  for (const c of calls) {
    if (c.fd !== fd) continue;
    // The descriptor may have been a module file's before it was the socket: the stream starts at CONNECT.
    if (c.write && c.bytes[0] === 0x10) {
      connected = true;
      input = [];
      output = [];
    }
    if (!connected) continue;
    if (!c.write) {
      reads++;
      const f = frames(input.concat(c.bytes));
      input = f.rest;
      for (const [type, id] of f.frames) {
        packetsIn++;
        const answer = ANSWER[type];
        if (answer !== undefined) asked.set(answer * 65536 + id, c.at);
      }
    } else {
      writes++;
      const f = frames(output.concat(c.bytes));
      output = f.rest;
      for (const [type, id] of f.frames) {
        const since = asked.get(type * 65536 + id);
        if (since === undefined) continue;
        asked.delete(type * 65536 + id);
        acksOut++;
        let list = delays.get(type);
        if (list === undefined) delays.set(type, (list = []));
        list.push(c.at - since);
      }
    }
  }
  console.log(`${path}: ${reads} reads, ${writes} writes on fd ${fd}; ${(packetsIn / Math.max(1, reads)).toFixed(2)} packets per read, ` +
    `${(acksOut / Math.max(1, writes)).toFixed(2)} acknowledgements per write`);
  for (const [type, list] of delays) {
    list.sort((a, b) => a - b);
    console.log(`  ${NAMES[type]}: ${list.length} answered, waited median ${quantile(list, 0.5).toFixed(0)} µs, p90 ${quantile(list, 0.9).toFixed(0)} µs, ` +
      `p99 ${quantile(list, 0.99).toFixed(0)} µs, max ${quantile(list, 1).toFixed(0)} µs`);
  }
}
