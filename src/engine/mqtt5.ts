/**
 * The engine's MQTT 5 part: the property codec, the topic alias tables and enhanced authentication. The
 * engine is handed it by whoever makes it (the Paho client and the ECMA-419 class pass MQTT5 from here); an
 * engine made without it speaks MQTT 3.1 and 3.1.1 only, and refuses MQTT 5 where it is asked for, so that a
 * 3.1.1-only build (the Moddable profile tinymqtt/mqtt311) never loads ../codec/properties.ts,
 * ./topic-aliases.ts or ./enhanced-auth.ts.
 */
import type { PropertyCodec } from "../codec/property-codec.js";
import { MQTT5_PROPERTIES } from "../codec/mqtt5.js";
import { TopicAliases } from "./topic-aliases.js";
import { ENHANCED_AUTH, type EnhancedAuth } from "./enhanced-auth.js";

export interface Mqtt5Support {
  readonly properties: PropertyCodec;
  /** The topic alias tables, both ways, each up to `maximum` aliases. */
  topicAliases(maximum: number): TopicAliases;
  /** AUTH (section 4.12): what the broker may send, and ours. */
  readonly auth: EnhancedAuth;
}

export const MQTT5: Mqtt5Support = Object.freeze({
  properties: MQTT5_PROPERTIES,
  topicAliases: (maximum: number): TopicAliases => new TopicAliases(maximum),
  auth: ENHANCED_AUTH,
});

