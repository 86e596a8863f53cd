/*
 * The measuring half every bench/moddable app shares: live XS slot and chunk heap use (module
 * "instrumentation", after Debug.gc()), traced as "bench: <label> slots <bytes> chunks <bytes>".
 */
import Instrumentation from "instrumentation";
import Debug from "debug";

const SLOT = Instrumentation.map("XS Slot Heap Used");
const CHUNK = Instrumentation.map("XS Chunk Heap Used");

export function snapshot(label) {
	Debug.gc();
	trace(`bench: ${label} slots ${Instrumentation.get(SLOT)} chunks ${Instrumentation.get(CHUNK)}\n`);
}
