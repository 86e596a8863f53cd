// Moddable's `time` module as the XS lane's fake: Time.ticks is a signed 32-bit millisecond counter, as on
// most microcontrollers, started 2 s before it wraps (+2147483647 -> -2147483648), so a client's first
// seconds cross the wrap; Time.delta() is the wrap-safe difference Moddable documents.
import { bridge } from "../xs-host.js";

const WRAPS_AFTER_MS = 2000;
let origin: number | undefined;

const Time: { readonly ticks: number; delta(start: number, end?: number): number } = {
  get ticks(): number {
    origin ??= bridge.clock;
    return (2 ** 31 - WRAPS_AFTER_MS + Math.floor(bridge.clock - origin)) | 0;
  },
  delta(start: number, end: number = Time.ticks): number {
    return (end - start) | 0;
  },
};

export default Time;
