// Host-neutral test shape shared by node:test and the real XS engine (no Node or Moddable imports).
//
// A suite is a module named `test/codec/portable/<name>.suite.ts` that exports
//
//     export const tests: PortableTest[] = [
//       { name: "decodes CONNACK", fn() { equal(...); } },
//     ];
//
// Tests are synchronous on purpose: xsnap-worker replies as soon as `handleCommand` returns, so a
// test that awaits would report before it finished. Drive time and I/O with fakes instead.
// Node registers each entry as a node:test test (test/codec/portable.test.ts); XS runs them through
// `runTests` inside one bundled script (test/support/xs/bundle.ts). Names must be unique within a suite:
// they are how one test is run alone on either host.

export interface PortableTest {
  name: string;
  fn: () => void;
}

export interface Failure {
  name: string;
  message: string;
}

export interface Summary {
  passed: number;
  failed: Failure[];
}

/** Runs every test (or only the one called `only`) and collects failures instead of stopping. */
export function runTests(tests: readonly PortableTest[], only?: string): Summary {
  const summary: Summary = { passed: 0, failed: [] };
  const seen = new Set<string>();
  for (const t of tests) {
    if (seen.has(t.name)) summary.failed.push({ name: t.name, message: "duplicate test name" });
    seen.add(t.name);
  }
  const chosen = only === undefined ? tests : tests.filter((t) => t.name === only);
  if (chosen.length === 0) summary.failed.push({ name: only ?? "(suite)", message: "no such test" });
  for (const t of chosen) {
    try {
      t.fn();
      summary.passed++;
    } catch (e) {
      summary.failed.push({ name: t.name, message: describeError(e) });
    }
  }
  return summary;
}

/** Message of a thrown value; keeps the class name when it carries meaning (TypeError, ProtocolError...). */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.name === "Error" ? e.message : `${e.name}: ${e.message}`;
  return `non-Error thrown: ${String(e)}`;
}
