// Minimal host-neutral assertions for portable suites: no Node APIs, so they run unchanged in XS.
// Every failure is a plain Error whose message says what differed and where.

export function fail(message: string): never {
  throw new Error(message);
}

export function ok(value: unknown, message = "expected a truthy value"): asserts value {
  if (!value) fail(`${message} (got ${show(value)})`);
}

/** Strict identity (===). */
export function equal<T>(actual: T, expected: T, message?: string): void {
  if (actual !== expected) fail(`${message ? message + ": " : ""}${show(actual)} !== ${show(expected)}`);
}

/**
 * Structural equality: primitives by Object.is (so NaN equals NaN, 0 differs from -0), arrays and
 * plain objects by own enumerable keys ({a: undefined} differs from {}), typed arrays by type and
 * elements. Objects must share a prototype. Map and Set are refused rather than compared wrongly.
 */
export function deepEqual(actual: unknown, expected: unknown, message?: string): void {
  const where = firstDifference(actual, expected, "");
  if (where !== undefined) fail(`${message ? message + ": " : ""}deepEqual differs ${where}`);
}

/** Byte-for-byte equality with a hex excerpt around the first differing byte. */
export function bytesEqual(actual: Uint8Array, expected: Uint8Array, message?: string): void {
  const n = Math.min(actual.length, expected.length);
  let i = 0;
  while (i < n && actual[i] === expected[i]) i++;
  if (i === n && actual.length === expected.length) return;
  const from = Math.max(0, i - 8);
  const excerpt = (b: Uint8Array) => {
    const hex: string[] = from > 0 ? ["..."] : [];
    for (let j = from; j < Math.min(b.length, from + 24); j++) {
      const h = (b[j] ?? 0).toString(16).padStart(2, "0");
      hex.push(j === i ? `[${h}]` : h);
    }
    if (i >= b.length) hex.push("[end]");
    else if (b.length > from + 24) hex.push("...");
    return hex.join(" ");
  };
  fail(
    `${message ? message + ": " : ""}bytes differ at offset ${i} (lengths ${actual.length} / ${expected.length})\n` +
      `  actual:   ${excerpt(actual)}\n  expected: ${excerpt(expected)}`,
  );
}

/** Asserts that fn throws (and that check accepts what it threw); returns the thrown value. */
export function throws(fn: () => unknown, check?: (e: unknown) => boolean, message?: string): unknown {
  try {
    fn();
  } catch (e) {
    if (check && !check(e)) fail(`${message ? message + ": " : ""}unexpected error thrown: ${showError(e)}`);
    return e;
  }
  return fail(`${message ? message + ": " : ""}expected a throw, but none happened`);
}

function firstDifference(a: unknown, b: unknown, path: string): string | undefined {
  const at = path === "" ? "at top level" : `at ${path}`;
  if (Object.is(a, b)) return undefined;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
    return `${at}: ${show(a)} vs ${show(b)}`;
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${at}: ${kind(a)} vs ${kind(b)}`;
  if (a instanceof Map || a instanceof Set) fail(`deepEqual does not compare ${kind(a)} (${at})`);
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = a as unknown as ArrayLike<unknown>;
    const y = b as unknown as ArrayLike<unknown>;
    if (x.length !== y.length) return `${at}: length ${x.length} vs ${y.length}`;
    for (let i = 0; i < x.length; i++) {
      if (!Object.is(x[i], y[i])) return `at ${path}[${i}]: ${show(x[i])} vs ${show(y[i])}`;
    }
    return undefined;
  }
  const isArray = Array.isArray(a);
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  for (const k of kb) if (!Object.hasOwn(a, k)) return `at ${step(path, k, isArray)}: missing, expected ${show((b as Record<string, unknown>)[k])}`;
  for (const k of ka) if (!Object.hasOwn(b, k)) return `at ${step(path, k, isArray)}: unexpected ${show((a as Record<string, unknown>)[k])}`;
  for (const k of ka) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], step(path, k, isArray));
    if (d !== undefined) return d;
  }
  return undefined;
}

function step(path: string, key: string, isArray: boolean): string {
  return isArray ? `${path}[${key}]` : `${path}.${key}`;
}

function kind(v: object): string {
  return Array.isArray(v) ? "Array" : (Object.getPrototypeOf(v)?.constructor?.name ?? "null-prototype object");
}

function showError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : show(e);
}

/** Short rendering of a value for messages; bounded so a huge buffer cannot flood the output. */
export function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 80 ? v.slice(0, 80) + "..." : v);
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v !== "object" || v === null) return String(v);
  if (v instanceof Uint8Array) {
    const hex = Array.from(v.subarray(0, 16), (x) => x.toString(16).padStart(2, "0")).join(" ");
    return `Uint8Array(${v.length}) [${hex}${v.length > 16 ? " ..." : ""}]`;
  }
  if (Array.isArray(v)) return `Array(${v.length})`;
  if (v instanceof Error) return showError(v);
  return `${kind(v)} {${Object.keys(v).slice(0, 6).join(", ")}${Object.keys(v).length > 6 ? ", ..." : ""}}`;
}
