/**
 * What a Client on Moddable defaults to, whichever profile makes it: the Moddable host (each Client makes its
 * own unless given `host`), ESP32_BUDGET (about 13 KiB of buffers) instead of the core's Node-sized
 * DEFAULT_BUDGET, a partial `budget` completed from ESP32_BUDGET too, and zero-copy messages unless told
 * otherwise, as allocation matters most there.
 */
import type { ClientOptions } from "../../src/paho/client-types.js";
import { ESP32_BUDGET } from "../../src/engine/budget.js";
import { ModdableHost } from "./host.js";

export function onDevice(options: ClientOptions): ClientOptions {
  return {
    ...options,
    host: options.host ?? new ModdableHost(),
    budget: { ...ESP32_BUDGET, ...options.budget },
    zeroCopyMessages: options.zeroCopyMessages ?? true,
  };
}
