/**
 * A node:test reporter for the conformance audit (collect.ts passes it to the runner): one JSON line per
 * test that ran, passed or failed. Suites, skipped and todo tests are left out: only a test that actually
 * ran can count as evidence for the statements its name cites.
 */
export interface RanTest {
  file: string;
  name: string;
  passed: boolean;
}

interface TestEvent {
  type: string;
  data: { name: string; file?: string; skip?: unknown; todo?: unknown; details?: { type?: string } };
}

export default async function* citationReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const { name, file, skip, todo, details } = event.data;
    if (details?.type === "suite" || skip || todo) continue;
    const ran: RanTest = { file: file ?? "", name, passed: event.type === "test:pass" };
    yield `${JSON.stringify(ran)}\n`;
  }
}
