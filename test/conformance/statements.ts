/**
 * The conformance audit's data: the normative statements of each standard (docs/conformance/*.tsv), the
 * statements this client cannot meet by design (test/conformance/not-applicable-*.tsv), and the rule that
 * turns a test's name into the statements it cites. docs/conformance/README.md states the rule for people.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export type Standard = "3.1.1" | "5.0";
export const STANDARDS: readonly Standard[] = ["3.1.1", "5.0"];

/** The repository root: this file runs as dist/test/conformance/statements.js. */
export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface Statement {
  id: string;
  area: string;
  /** client, both, server or general: see docs/conformance/README.md. */
  side: string;
  text: string;
}

/** A statement binds this client when its side is client or both. */
export function isClientSide(s: Statement): boolean {
  return s.side === "client" || s.side === "both";
}

/** Tab-separated rows, skipping blank lines and # comments; each row must have `columns` fields. */
function rows(path: string, columns: number): string[][] {
  const out: string[][] = [];
  readFileSync(path, "utf8").split("\n").forEach((line, i) => {
    if (line.trim() === "" || line.startsWith("#")) return;
    const fields = line.split("\t");
    if (fields.length !== columns) throw new Error(`${path}:${i + 1}: ${fields.length} fields, expected ${columns}`);
    out.push(fields);
  });
  return out;
}

export function statementsOf(standard: Standard): Statement[] {
  const [header, ...body] = rows(`${ROOT}docs/conformance/mqtt-${standard}-statements.tsv`, 4);
  if (header?.join(",") !== "id,area,side,short_text") throw new Error(`mqtt-${standard}-statements.tsv: unexpected header`);
  return body.map(([id, area, side, text]) => ({ id: id!, area: area!, side: side!, text: text! }));
}

/** id -> why the statement cannot apply to this client. */
export function notApplicableOf(standard: Standard): Map<string, string> {
  const reasons = new Map<string, string>();
  for (const [id, reason] of rows(`${ROOT}test/conformance/not-applicable-${standard}.tsv`, 2)) {
    if (reasons.has(id!)) throw new Error(`not-applicable-${standard}.tsv: ${id} listed twice`);
    if (reason!.trim() === "") throw new Error(`not-applicable-${standard}.tsv: ${id} has no reason`);
    reasons.set(id!, reason!);
  }
  return reasons;
}

/** `[MQTT-3.1.2-22]`, or with the standard named: `[3.1.1 MQTT-3.1.2-22]`, `[5.0 MQTT-3.1.2-22]`. */
export const CITATION = /\[(?:(3\.1\.1|5\.0) )?(MQTT-\d+(?:\.\d+)*-\d+)\]/g;

/** The same, as a --test-name-pattern: selects every test whose name cites something. */
export const CITING_NAME_PATTERN = String.raw`\[(?:(?:3\.1\.1|5\.0) )?MQTT-\d`;

/** The standard a test file's unlabelled citations refer to, from its folder; undefined outside the two. */
export function standardOfFile(file: string): Standard | undefined {
  const m = /[\\/]test[\\/]conformance[\\/](v311|v5)[\\/]/.exec(file);
  return m === null ? undefined : m[1] === "v311" ? "3.1.1" : "5.0";
}

export interface Citation {
  standard: Standard;
  id: string;
}

/**
 * The statements a test's own name cites. A label in the brackets wins; without one, the file's folder
 * decides, and outside test/conformance/v311 and v5 an unlabelled citation is an error (thrown), since the
 * same id can mean different statements in the two standards.
 */
export function citationsOf(name: string, file: string): Citation[] {
  const out: Citation[] = [];
  for (const m of name.matchAll(CITATION)) {
    const standard = (m[1] as Standard | undefined) ?? standardOfFile(file);
    if (standard === undefined) {
      throw new Error(`${file}: "${name}" cites [${m[2]}] without naming the standard; write [3.1.1 ${m[2]}] or [5.0 ${m[2]}]`);
    }
    out.push({ standard, id: m[2]! });
  }
  return out;
}
