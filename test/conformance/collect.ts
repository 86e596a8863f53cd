/**
 * Runs every test whose name cites a statement, in a child node:test run of the test files that can cite
 * one (mayCite), filtered by name (--test-name-pattern) and reported by citation-reporter.ts, and returns the
 * tests that ran. Names can be built at run time (the codec vectors' are), so a file counts with the modules
 * it imports.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { RanTest } from "./citation-reporter.js";
import { CITING_NAME_PATTERN, ROOT } from "./statements.js";

const TESTS = join(ROOT, "dist", "test");
/** This audit's own test cites nothing and must not start the audit again. */
const SELF = join(TESTS, "conformance", "coverage.test.js");
/** The cited part of the suite takes seconds; this bounds a run that hangs. */
const RUN_LIMIT_MS = 10 * 60_000;

/**
 * Whether a test file can name a statement: its text, or that of a module of dist/test it imports (the codec
 * vectors, whose ids the names are built from), holds "MQTT-" and a digit, or it imports a path it computes.
 * The others are left out of the run:
 * their hooks alone (a Moddable build, a broker to start) would take minutes and could cite nothing.
 */
function mayCite(file: string, seen: Set<string>): boolean {
  if (seen.has(file)) return false;
  seen.add(file);
  const text = readFileSync(file, "utf8");
  // An import of a computed path (portable.test loads its suites by listing a folder) could bring in anything.
  if (/MQTT-\d/.test(text) || /import\s*\(\s*[^"\s]/.test(text)) return true;
  for (const m of text.matchAll(/(?:from\s*|import\s*\(\s*)"(\.{1,2}\/[^"]+\.js)"/g)) {
    const imported = resolve(dirname(file), m[1]!);
    if (imported.startsWith(TESTS) && mayCite(imported, seen)) return true;
  }
  return false;
}

function testFiles(): string[] {
  return (readdirSync(TESTS, { recursive: true }) as string[])
    .filter((f) => f.endsWith(".test.js"))
    .map((f) => join(TESTS, f))
    .filter((f) => f !== SELF && mayCite(f, new Set()))
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
