// Hot-spot helper for the codec bench: loops one workload for a few seconds so it can be profiled.
//   node --cpu-prof --cpu-prof-dir=bench/results/prof dist/bench/profile.js decode|encode <variant> [seconds]
//   node --trace-deopt dist/bench/profile.js decode v311-qos0 1
import { Decoder, Encoder } from "../src/codec/index.js";
import { VARIANTS, buildStream, chunk, makePacket, makePayload, packetIdFor, sink, tinyDecodeChunk } from "./workload.js";

const [mode = "decode", name = "v311-qos0", secs = "3"] = process.argv.slice(2);
const v = VARIANTS.find((x) => x.name === name);
if (v === undefined) throw new Error(`variant is one of ${VARIANTS.map((x) => x.name).join(", ")}`);
const count = Math.round((10 * 1024 * 1024) / buildStream(v, 1).packetSize);
const until = performance.now() + Number(secs) * 1000;
let packets = 0;
const t0 = performance.now();
if (mode === "decode") {
  const chunks = chunk(buildStream(v, count).bytes);
  const dec = new Decoder({ maxPacketSize: 65536, version: v.version });
  while (performance.now() < until) for (let i = 0; i < chunks.length; i++) packets += tinyDecodeChunk(dec, chunks[i]!);
} else {
  const enc = new Encoder(v.version);
  const p = makePacket(v, makePayload());
  const out = new Uint8Array(65536);
  let o = 0;
  while (performance.now() < until) {
    for (let i = 0; i < count; i++) {
      if (v.qos > 0) p.packetId = packetIdFor(i);
      const n = enc.measure(p);
      if (o + n > out.length) o = 0;
      o = enc.write(out, o);
    }
    packets += count;
    sink.value ^= o;
  }
}
const ms = performance.now() - t0;
console.log(`${mode} ${name}: ${((packets / ms) * 1000 / 1e6).toFixed(2)} M packets/s (sink ${sink.value})`);
