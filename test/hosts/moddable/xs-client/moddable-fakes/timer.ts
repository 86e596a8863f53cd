// Moddable's `timer` module as the XS lane's fake: set (once, or repeating), repeat, clear, on the bridge's
// timers, which the Node driver fires.
import { bridge } from "../xs-host.js";

interface Handle {
  inner: unknown;
}

function arm(handle: Handle, callback: (timer: Handle) => void, ms: number, repeat: number | undefined): void {
  handle.inner = bridge.setTimer(() => {
    if (repeat !== undefined && repeat > 0) arm(handle, callback, repeat, repeat);
    else handle.inner = undefined;
    callback(handle);
  }, ms);
}

const Timer = {
  set(callback: (timer: Handle) => void, ms = 0, repeat?: number): Handle {
    const handle: Handle = { inner: undefined };
    arm(handle, callback, ms, repeat);
    return handle;
  },
  repeat(callback: (timer: Handle) => void, ms: number): Handle {
    return Timer.set(callback, ms, ms);
  },
  clear(handle: Handle | undefined | null): void {
    if (handle?.inner !== undefined) bridge.clearTimer(handle.inner);
    if (handle) handle.inner = undefined;
  },
};

export default Timer;
