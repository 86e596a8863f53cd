/**
 * "tinymqtt" on Moddable: the Moddable host, which each `Client` makes for itself unless given `host`, and
 * the whole client API with it. "tinymqtt/moddable" (index.ts) adds the flash session store.
 * `Client` here defaults to ESP32_BUDGET (about 13 KiB of buffers) instead of the core's Node-sized
 * DEFAULT_BUDGET; a partial `budget` is completed from ESP32_BUDGET too; and it hands callbacks zero-copy
 * messages (zeroCopyMessages) unless told otherwise, as allocation matters most there. The ECMA-419 client class is
 * its own module, "embedded:network/mqtt/client" (ecma419-client.ts), so neither API carries the other.
 */
import { Client as CoreClient, type ClientOptions } from "../../src/paho/client.js";
import { ESP32_BUDGET } from "../../src/engine/budget.js";
import { ModdableHost } from "./host.js";

function onDevice(options: ClientOptions): ClientOptions {
  return {
    ...options,
    host: options.host ?? new ModdableHost(),
    budget: { ...ESP32_BUDGET, ...options.budget },
    zeroCopyMessages: options.zeroCopyMessages ?? true,
  };
}

export class Client extends CoreClient {
  constructor(options: ClientOptions = {}) {
    super(onDevice(options));
  }

  override reinitialise(options: ClientOptions = {}): void {
    super.reinitialise(onDevice(options));
  }
}

export { ModdableHost, TickClock } from "./host.js";
export * from "../../src/index.js";
