/**
 * `embedded:network/mqtt/client` for Moddable: the ECMA-419 MQTT client class (src/ecma419/client.ts) on the
 * Moddable host. The manifest maps the standard specifier here, so an application written to the
 * standard switches by including tinymqtt's manifest. The `socket` and `dns` options of the standard are
 * accepted and not used: the host makes its sockets, and they resolve names themselves.
 */
import { Ecma419Client, type Ecma419Options } from "../../src/ecma419/client.js";
import { moddableHost } from "./host.js";

export default class MQTTClient extends Ecma419Client {
  constructor(options: Ecma419Options) {
    super({ platform: moddableHost, ...options });
  }
}
