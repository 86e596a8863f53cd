/**
 * The audit itself: for each standard, each client-side statement with the tests that cite it or the
 * reason it cannot apply, and every problem that makes the audit fail (a statement with neither, a
 * citation of an id the standard does not have, an unlabelled citation outside the conformance folders,
 * a failed citing test, a reason for a statement that is not client-side or is tested all the same).
 */
import type { RanTest } from "./citation-reporter.js";
import { STANDARDS, citationsOf, isClientSide, notApplicableOf, statementsOf, type Standard, type Statement } from "./statements.js";

export interface Row {
  statement: Statement;
  /** "file: test name" of each passed test citing it. */
  tests: string[];
  reason: string | undefined;
}

export interface StandardAudit {
  standard: Standard;
  rows: Row[];
  tested: number;
  explained: number;
  missing: number;
}

export interface Audit {
  standards: StandardAudit[];
  problems: string[];
}

/** A test's file as a path under test/, the .ts a reader opens. */
function sourceOf(file: string): string {
  const m = /[\\/]dist[\\/](test[\\/].*)\.js$/.exec(file);
  return m === null ? file : `${m[1]!.replaceAll("\\", "/")}.ts`;
}

export function audit(ran: readonly RanTest[]): Audit {
  const problems: string[] = [];
  const citedBy = new Map<string, string[]>(); // "standard id" -> tests
  for (const t of ran) {
    const where = `${sourceOf(t.file)}: ${t.name}`;
    if (!t.passed) {
      problems.push(`failed: ${where}`);
      continue;
    }
    try {
      for (const c of citationsOf(t.name, t.file)) {
        const key = `${c.standard} ${c.id}`;
        citedBy.set(key, [...(citedBy.get(key) ?? []), where]);
      }
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  const standards = STANDARDS.map((standard): StandardAudit => {
    const statements = statementsOf(standard);
    const known = new Set(statements.map((s) => s.id));
    const reasons = notApplicableOf(standard);
    for (const key of citedBy.keys()) {
      const [std, id] = key.split(" ") as [string, string];
      if (std === standard && !known.has(id)) problems.push(`MQTT ${standard} has no statement ${id}, cited by ${citedBy.get(key)!.join("; ")}`);
    }
    const rows: Row[] = [];
    for (const statement of statements) {
      const tests = citedBy.get(`${standard} ${statement.id}`) ?? [];
      const reason = reasons.get(statement.id);
      if (reason !== undefined && !isClientSide(statement)) problems.push(`not-applicable-${standard}.tsv: ${statement.id} is ${statement.side}-side; only client-side statements need a reason`);
      if (reason !== undefined && tests.length > 0) problems.push(`not-applicable-${standard}.tsv: ${statement.id} is tested by ${tests.join("; ")}`);
      if (isClientSide(statement)) rows.push({ statement, tests, reason });
    }
    for (const id of reasons.keys()) if (!known.has(id)) problems.push(`not-applicable-${standard}.tsv: MQTT ${standard} has no statement ${id}`);
    const tested = rows.filter((r) => r.tests.length > 0).length;
    const explained = rows.filter((r) => r.tests.length === 0 && r.reason !== undefined).length;
    for (const r of rows) {
      if (r.tests.length === 0 && r.reason === undefined) problems.push(`MQTT ${standard} ${r.statement.id} (${r.statement.side}): no test cites it and no reason is given`);
    }
    return { standard, rows, tested, explained, missing: rows.length - tested - explained };
  });
  return { standards, problems };
}
