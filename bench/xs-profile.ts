// A method-level profile inside XS for bench/xs-publish.ts: every method and accessor of the classes
// given is wrapped so that the meter's count (xsnap's resetMeter returns the count so far and restarts
// it) is charged to the method running, exclusive of what it calls. The wrappers add their own cost to
// the total, so read the shares, not the sum, and compare runs of one build.
declare function resetMeter(limit: number, index: number): number;
declare function currentMeterLimit(): number;

type Fn = (this: unknown, ...args: unknown[]) => unknown;

const self = new Map<string, number>();
const calls = new Map<string, number>();
const stack: string[] = ["(outside)"];
const limit = currentMeterLimit();

function charge(): void {
  const used = resetMeter(limit, 0);
  const top = stack[stack.length - 1]!;
  self.set(top, (self.get(top) ?? 0) + used);
}

function wrap(name: string, fn: Fn): Fn {
  return function (this: unknown, ...args: unknown[]): unknown {
    charge();
    stack.push(name);
    calls.set(name, (calls.get(name) ?? 0) + 1);
    try {
      return fn.apply(this, args);
    } finally {
      charge();
      stack.pop();
    }
  };
}

/** Wraps every own method and accessor of each class's prototype (and static side left alone). */
export function instrument(classes: Record<string, { prototype: object }>): void {
  for (const [className, cls] of Object.entries(classes)) {
    const proto = cls.prototype as Record<string, unknown>;
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === "constructor") continue;
      const d = Object.getOwnPropertyDescriptor(proto, key)!;
      const label = `${className}.${key}`;
      if (typeof d.value === "function") d.value = wrap(label, d.value as Fn);
      if (d.get !== undefined) d.get = wrap(`${label} (get)`, d.get as Fn);
      if (d.set !== undefined) d.set = wrap(`${label} (set)`, d.set as Fn);
      Object.defineProperty(proto, key, d);
    }
  }
}

export function resetProfile(): void {
  charge();
  self.clear();
  calls.clear();
}

/** The methods by exclusive compute, per `per` (messages), largest first. */
export function profileReport(per: number): Array<{ name: string; compute: number; calls: number }> {
  charge();
  return [...self.entries()]
    .map(([name, compute]) => ({ name, compute: compute / per, calls: (calls.get(name) ?? 0) / per }))
    .sort((a, b) => b.compute - a.compute);
}
