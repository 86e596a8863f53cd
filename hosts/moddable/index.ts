/**
 * tinymqtt/moddable: the Moddable host, registered as the default host, and the whole client API with it.
 * `Client` here defaults to ESP32_BUDGET (about 13 KiB of buffers) instead of the core's Node-sized
 * DEFAULT_BUDGET; a partial `budget` is completed from ESP32_BUDGET too; and it hands callbacks zero-copy
 * messages (zeroCopyMessages) unless told otherwise, as allocation matters most there. The ECMA-419 client class is
 * its own module, "embedded:network/mqtt/client" (ecma419-client.ts), so neither API carries the other.
 */
import { Client as CoreClient, type ClientOptions } from "../../src/paho/client.js";
import { ESP32_BUDGET } from "../../src/engine/budget.js";
import { setDefaultHost } from "../../src/connection/host.js";
import { moddableHost } from "./host.js";

setDefaultHost(moddableHost);

function onDevice(options: ClientOptions): ClientOptions {
  return { ...options, budget: { ...ESP32_BUDGET, ...options.budget }, zeroCopyMessages: options.zeroCopyMessages ?? true };
}

export class Client extends CoreClient {
  constructor(options: ClientOptions = {}) {
    super(onDevice(options));
  }

  override reinitialise(options: ClientOptions = {}): void {
    super.reinitialise(onDevice(options));
  }
}

export { ModdableHost, TickClock, moddableHost } from "./host.js";
export { FlashStore, type FlashLike, type FlashRecovery, type FlashStoreOptions } from "./flash-store.js";
export * from "../../src/index.js";
