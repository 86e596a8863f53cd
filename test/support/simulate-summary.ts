/**
 * Reading `tinymqtt simulate`'s printed summary in tests: a row by its label, and the figures inside it.
 * Shared by the one-process, workers, shards and cluster suites (test/hosts/node/simulate*.test.ts).
 */
import assert from "node:assert/strict";

/** The summary row that starts with `label`, without the label. */
export function row(stdout: string, label: string): string {
  const line = stdout.split("\n").find((l) => l.startsWith(`${label} `));
  assert.ok(line !== undefined, `no "${label}" row in:\n${stdout}`);
  return line.slice(label.length).trim();
}

/** The number a row starts with ("1,234 ..."). */
export const count = (text: string): number => Number(/^[\d,]+/.exec(text)?.[0]?.replace(/,/g, "") ?? NaN);

/** The number after `name` in a row ("lost 0"). */
export const field = (text: string, name: string): number => Number(new RegExp(`${name} ([\\d,]+)`).exec(text)?.[1]?.replace(/,/g, "") ?? NaN);

/** The "(N unique)" figure of a received row. */
export const unique = (received: string): number => Number(/\(([\d,]+) unique\)/.exec(received)?.[1]?.replace(/,/g, "") ?? NaN);
