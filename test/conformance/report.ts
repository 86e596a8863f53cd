/**
 * `npm run conformance`: runs the citing tests (collect.ts), prints the audit (audit.ts) statement by
 * statement with the totals per standard, writes it to docs/conformance.md for users, and exits 1 when a
 * client-side statement has neither a test nor a reason, or anything else in the audit is wrong.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { audit, type Audit, type Row, type StandardAudit } from "./audit.js";
import { collectCitingTests } from "./collect.js";
import { ROOT } from "./statements.js";

function status(r: Row): string {
  return r.tests.length > 0 ? "tested" : r.reason !== undefined ? "n/a" : "MISSING";
}

function total(s: StandardAudit): string {
  return `MQTT ${s.standard}: ${s.tested + s.explained}/${s.rows.length} client-side statements tested or explained `
    + `(${s.tested} tested, ${s.explained} not applicable, ${s.missing} missing)`;
}

function printTable(a: Audit): void {
  for (const s of a.standards) {
    console.log(`\nMQTT ${s.standard}`);
    for (const r of s.rows) {
      const head = `${r.statement.id.padEnd(15)} ${r.statement.side.padEnd(6)} ${status(r).padEnd(7)} `;
      const lines = r.tests.length > 0 ? r.tests : [r.reason ?? r.statement.text];
      lines.forEach((line, i) => console.log(`${i === 0 ? head : " ".repeat(head.length)}${line}`));
    }
  }
  console.log("");
  for (const s of a.standards) console.log(total(s));
  for (const p of a.problems) console.log(`problem: ${p}`);
}

const cell = (s: string): string => s.replaceAll("|", "\\|");

function page(a: Audit): string {
  const out = [
    "# MQTT conformance, statement by statement",
    "",
    "<!-- Written by `npm run conformance` (test/conformance/report.ts); edit the tests, not this page. -->",
    "",
    "Every normative statement (MUST / MUST NOT) of the OASIS Standards [MQTT Version 3.1.1 Plus Errata 01]" +
      "(https://docs.oasis-open.org/mqtt/mqtt/v3.1.1/mqtt-v3.1.1.html) (10 December 2015) and " +
      "[MQTT Version 5.0](https://docs.oasis-open.org/mqtt/mqtt/v5.0/mqtt-v5.0.html) (7 March 2019) that binds a " +
      "client, with the tests that show tinymqtt meets it, or the reason it cannot apply to this client. Statement ids " +
      "are the standards' own; the one-line summaries are ours, and the standard's text is the authority. The full " +
      "lists, server-side statements included, are [mqtt-3.1.1-statements.tsv](conformance/mqtt-3.1.1-statements.tsv) " +
      "and [mqtt-5.0-statements.tsv](conformance/mqtt-5.0-statements.tsv); [conformance/README.md](conformance/README.md) " +
      "says how tests cite statements and where the lists were corrected against the standards.",
    "",
    "A statement counts as tested only when a test that cites it in its name ran and passed in this run; " +
      "`npm test` fails when a client-side statement has neither a test nor a reason.",
    "",
    ...a.standards.map((s) => `- ${total(s)}`),
  ];
  for (const s of a.standards) {
    out.push("", `## MQTT ${s.standard}`, "", "| Statement | Side | Requires | Tested by, or why it cannot apply |", "|---|---|---|---|");
    for (const r of s.rows) {
      const evidence = r.tests.length > 0 ? r.tests.map((t) => `\`${cell(t)}\``).join("<br>")
        : r.reason !== undefined ? `Not applicable: ${cell(r.reason)}` : "**missing**";
      out.push(`| ${r.statement.id} | ${r.statement.side} | ${cell(r.statement.text)} | ${evidence} |`);
    }
  }
  return `${out.join("\n")}\n`;
}

const collected = collectCitingTests();
const result = audit(collected.ran);
if (collected.status !== 0) result.problems.push(`the test run exited with ${collected.status}: ${collected.stderr.slice(-2000)}`);
printTable(result);
const path = `${ROOT}docs/conformance.md`;
const text = page(result);
let before = "";
try { before = readFileSync(path, "utf8"); } catch { /* first run */ }
if (text !== before) writeFileSync(path, text);
console.log(`\n${text === before ? "unchanged" : "wrote"} docs/conformance.md`);
process.exitCode = result.problems.length === 0 ? 0 : 1;
