/**
 * The optional parts a Paho client is built with. The client itself (./client.ts) speaks MQTT 3.1 and
 * 3.1.1 with QoS 0/1/2, will, keepalive, sessions and reconnect; these add the rest. The public Client
 * (./full-client.ts, what "tinymqtt" and "tinymqtt/moddable" export) has every part; the Moddable profile
 * tinymqtt/mqtt311 hands in none, so it never loads them, and a call that needs a missing part throws.
 */
import type { Mqtt5Support } from "../engine/mqtt5.js";
import type { PahoEnhancedAuth } from "./enhanced-auth.js";

export interface ClientFeatures {
  /** MQTT 5 (properties, topic aliases, enhanced authentication): MQTT5 from ../engine/mqtt5.ts. */
  readonly mqtt5?: Mqtt5Support;
  /** authenticatorSet() and the answers to the broker's AUTH: PAHO_ENHANCED_AUTH from ./enhanced-auth.ts. */
  readonly enhancedAuth?: PahoEnhancedAuth;
  /** failoverSet(): failoverServers from ./failover.ts. */
  readonly failover?: (servers: Array<{ host: string; port?: number }>) => ReadonlyArray<{ host: string; port: number }>;
}

/** MQTT 3.1 and 3.1.1 alone. */
export const NO_FEATURES: ClientFeatures = Object.freeze({});

export const FAILOVER_NOT_BUILT = "failoverSet: failover is not part of this build (a 3.1.1-only profile, such as tinymqtt/mqtt311)";
