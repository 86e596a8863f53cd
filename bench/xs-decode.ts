// Bundled by bench/codec.ts (esbuild, iife, platform neutral) and run inside XS (xsnap-worker).
// At load it builds, per variant, a stream of CHUNK_SIZE packets cut into CHUNK_SIZE-byte chunks
// (so chunk boundaries repeat identically when the stream is replayed in a cycle), and one decoder.
// handleCommand("<variant> <tinymqtt|floor> <N>") decodes chunks in a cycle until at least N PUBLISH
// packets have come out and replies with JSON {"packets": n, "touch": t}. The caller diffs the meter's
// compute between two N to remove the fixed cost of the command.
import { Decoder } from "../src/codec/index.js";
import { CHUNK_SIZE, FloorWalker, VARIANTS, buildStream, chunk, sink, tinyDecodeChunk } from "./workload.js";

interface State {
  chunks: Uint8Array[];
  next: number;
  decoder: Decoder;
  walker: FloorWalker;
}

const states: Record<string, State> = {};
for (const v of VARIANTS) {
  const { bytes } = buildStream(v, CHUNK_SIZE);
  states[v.name] = { chunks: chunk(bytes), next: 0, decoder: new Decoder({ maxPacketSize: 65536, version: v.version }), walker: new FloorWalker() };
}

function run(variant: string, which: string, target: number): { packets: number; touch: number } {
  const s = states[variant];
  if (s === undefined) throw new Error(`no variant ${variant}`);
  const chunks = s.chunks;
  let i = s.next;
  let n = 0;
  if (which === "tinymqtt") {
    const dec = s.decoder;
    while (n < target) {
      n += tinyDecodeChunk(dec, chunks[i]!);
      if (++i === chunks.length) i = 0;
    }
  } else if (which === "floor") {
    const w = s.walker;
    while (n < target) {
      n += w.walk(chunks[i]!);
      if (++i === chunks.length) i = 0;
    }
    sink.value ^= w.touch;
  } else {
    throw new Error(`no decoder ${which}`);
  }
  s.next = i;
  return { packets: n, touch: sink.value };
}

(globalThis as unknown as { handleCommand: (request: ArrayBuffer) => ArrayBuffer }).handleCommand = (request) => {
  const [variant = "", which = "", count = "0"] = new TextDecoder().decode(request).split(" ");
  const result = run(variant, which, Number(count));
  return new TextEncoder().encode(JSON.stringify(result)).buffer as ArrayBuffer;
};
