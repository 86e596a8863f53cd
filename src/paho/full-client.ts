/**
 * The Paho client with every optional part (./features.ts): MQTT 5 (enhanced authentication included) and
 * failover. This is the `Client` of the public API (shared/API.md), on Node and in the Moddable profiles
 * "tinymqtt" and "tinymqtt/moddable".
 */
import { MQTT5 } from "../engine/mqtt5.js";
import { Client as CoreClient } from "./client.js";
import { PAHO_ENHANCED_AUTH } from "./enhanced-auth.js";
import type { ClientFeatures } from "./features.js";
import { failoverServers } from "./failover.js";

const EVERY_FEATURE: ClientFeatures = Object.freeze({ mqtt5: MQTT5, enhancedAuth: PAHO_ENHANCED_AUTH, failover: failoverServers });

export class Client extends CoreClient {
  /** @internal */
  override get features(): ClientFeatures {
    return EVERY_FEATURE;
  }
}
