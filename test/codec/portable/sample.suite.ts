// Self-test of the portable lane: proves the harness and assertions behave the same on Node and XS
// before the codec suites arrive. Each assertion is checked both passing and failing.
import { bytesEqual, deepEqual, equal, ok, throws } from "./assert.js";
import { runTests, type PortableTest } from "./harness.js";

/** Asserts that fn fails with a message containing `part`. */
function failsWith(fn: () => void, part: string): void {
  throws(fn, (e) => e instanceof Error && e.message.includes(part), `message should contain ${JSON.stringify(part)}`);
}

export const tests: PortableTest[] = [
  {
    name: "ok and equal",
    fn() {
      ok(1);
      equal("a", "a");
      failsWith(() => ok(0, "zero"), "zero");
      failsWith(() => equal<unknown>(1, "1"), '1 !== "1"');
    },
  },
  {
    name: "deepEqual on nested structures",
    fn() {
      deepEqual({ a: [1, { b: NaN }], c: new Uint8Array([1, 2]) }, { a: [1, { b: NaN }], c: new Uint8Array([1, 2]) });
      failsWith(() => deepEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] }), "at .a[1].b: 2 vs 3");
      failsWith(() => deepEqual({ a: undefined }, {}), "at .a: unexpected undefined");
      failsWith(() => deepEqual({}, { a: undefined }), "at .a: missing");
      failsWith(() => deepEqual([1, 2], { 0: 1, 1: 2 }), "Array vs Object");
      failsWith(() => deepEqual(new Uint8Array([1]), new Uint16Array([1])), "Uint8Array vs Uint16Array");
      failsWith(() => deepEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])), "at [1]: 2 vs 3");
      failsWith(() => deepEqual(new Map(), new Map()), "does not compare Map");
    },
  },
  {
    name: "bytesEqual reports a hex excerpt",
    fn() {
      bytesEqual(new Uint8Array([0x30, 0x02, 0x00, 0x01]), Uint8Array.of(0x30, 0x02, 0x00, 0x01));
      failsWith(() => bytesEqual(Uint8Array.of(0x30, 0x02, 0xff), Uint8Array.of(0x30, 0x02, 0x0a)), "30 02 [ff]");
      failsWith(() => bytesEqual(Uint8Array.of(1), Uint8Array.of(1, 2)), "actual:   01 [end]");
    },
  },
  {
    name: "throws returns the error and checks it",
    fn() {
      const e = throws(() => {
        throw new RangeError("bad length");
      }, (x) => x instanceof RangeError);
      ok(e instanceof RangeError);
      failsWith(() => throws(() => undefined), "none happened");
      failsWith(() => throws(() => { throw new TypeError("x"); }, (x) => x instanceof RangeError), "TypeError: x");
    },
  },
  {
    name: "runTests collects failures and runs one test by name",
    fn() {
      const inner: PortableTest[] = [
        { name: "good", fn() {} },
        { name: "bad", fn() { throw new TypeError("nope"); } },
      ];
      deepEqual(runTests(inner), { passed: 1, failed: [{ name: "bad", message: "TypeError: nope" }] });
      deepEqual(runTests(inner, "good"), { passed: 1, failed: [] });
      deepEqual(runTests(inner, "missing"), { passed: 0, failed: [{ name: "missing", message: "no such test" }] });
    },
  },
];
