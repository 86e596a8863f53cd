/**
 * "tinymqtt" on Moddable: the Moddable host, which each `Client` makes for itself unless given `host`, and
 * the whole client API with it, MQTT 5 and failover included. "tinymqtt/moddable" (index.ts) adds the flash
 * session store; "tinymqtt/mqtt311" (mqtt311.ts) is the same API without MQTT 5 and failover, for apps that
 * speak 3.1.1. `Client` here takes the device defaults of ./device-options.ts. The ECMA-419 client class is
 * its own module, "embedded:network/mqtt/client" (ecma419-client.ts), so neither API carries the other.
 */
import type { ClientOptions } from "../../src/paho/client-types.js";
import { Client as FullClient } from "../../src/paho/full-client.js";
import { onDevice } from "./device-options.js";

export class Client extends FullClient {
  constructor(options: ClientOptions = {}) {
    super(onDevice(options));
  }

  override reinitialise(options: ClientOptions = {}): void {
    super.reinitialise(onDevice(options));
  }
}

export { ModdableHost, TickClock } from "./host.js";
export * from "../../src/index.js";
