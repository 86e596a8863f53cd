/**
 * The conformance audit as a test: every client-side statement of MQTT 3.1.1 and 5.0 is cited by a test
 * that runs and passes, or listed with its reason in test/conformance/not-applicable-*.tsv, and every
 * citation names a statement that exists (audit.ts). The same check as `npm run conformance`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { audit } from "./audit.js";
import { collectCitingTests } from "./collect.js";

test("every client-side statement of MQTT 3.1.1 and 5.0 has a passing test or a reason it cannot apply", () => {
  const collected = collectCitingTests();
  assert.equal(collected.status, 0, `the citing tests' run failed:\n${collected.stderr.slice(-4000)}`);
  const result = audit(collected.ran);
  assert.deepEqual(result.problems, [], "run `npm run conformance` for the table");
});

test("a client-side statement with neither a passing test nor a reason is a problem: nothing is let off", () => {
  const none = audit([]);
  for (const s of none.standards) {
    assert.equal(s.tested, 0);
    for (const r of s.rows) {
      if (r.reason === undefined) assert.ok(none.problems.some((p) => p.includes(` ${r.statement.id} (`)), `MQTT ${s.standard} ${r.statement.id}`);
    }
  }
  const failed = audit([{ file: "/x/dist/test/conformance/v311/a.test.js", name: "[MQTT-3.1.0-1] first", passed: false }]);
  assert.ok(failed.problems.includes("failed: test/conformance/v311/a.test.ts: [MQTT-3.1.0-1] first"));
  assert.equal(failed.standards[0]!.tested, 0, "a failed test counts for nothing");
});
