/**
 * Runs every test whose name cites a statement, in a child node:test run of every test file filtered by
 * name (--test-name-pattern) and reported by citation-reporter.ts, and returns the tests that ran. Names
 * can be built at run time (the codec vectors' are), so no file is left out on its text alone.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { RanTest } from "./citation-reporter.js";
import { CITING_NAME_PATTERN, ROOT } from "./statements.js";

const TESTS = join(ROOT, "dist", "test");
/** This audit's own test cites nothing and must not start the audit again. */
const SELF = join(TESTS, "conformance", "coverage.test.js");
/** The whole suite runs in about five minutes; the cited part of it in well under that. */
const RUN_LIMIT_MS = 10 * 60_000;

function testFiles(): string[] {
  return (readdirSync(TESTS, { recursive: true }) as string[])
    .filter((f) => f.endsWith(".test.js"))
    .map((f) => join(TESTS, f))
    .filter((f) => f !== SELF)
    .sort();
}

/** Inside `npm test` this runs under the runner, whose NODE_TEST_CONTEXT would make the child report to it. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

export interface Collected {
  ran: RanTest[];
  /** The child run's exit status and its stderr, for a failed run. */
  status: number | null;
  stderr: string;
}

export function collectCitingTests(): Collected {
  const child = spawnSync(process.execPath, [
    "--expose-gc", "--experimental-websocket", "--test",
    `--test-name-pattern=${CITING_NAME_PATTERN}`,
    `--test-reporter=${join(TESTS, "conformance", "citation-reporter.js")}`, "--test-reporter-destination=stdout",
    ...testFiles(),
  ], { cwd: ROOT, env: childEnv(), encoding: "utf8", timeout: RUN_LIMIT_MS, maxBuffer: 64 << 20 });
  const ran = child.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as RanTest);
  return { ran, status: child.status, stderr: child.stderr };
}
