/**
 * "tinymqtt/mqtt311" on Moddable: the client API of "tinymqtt" for an app that speaks MQTT 3.1.1 (or 3.1):
 * QoS 0/1/2 both ways, will, keepalive, sessions, reconnect, with the device defaults of ./device-options.ts.
 * Built without MQTT 5 (properties, topic aliases, enhanced authentication) and without failover, so the
 * app never loads them (manifests/mqtt311.json preloads none of them): `protocol: MQTTv5` throws a RangeError
 * from the constructor, and failoverSet() an Error, each saying so. Nor does it export the `codec` and
 * `buffers` namespaces of "tinymqtt".
 */
import type { ClientOptions } from "../../src/paho/client-types.js";
import { Client as CoreClient } from "../../src/paho/client.js";
import { onDevice } from "./device-options.js";

export class Client extends CoreClient {
  constructor(options: ClientOptions = {}) {
    super(onDevice(options));
  }

  override reinitialise(options: ClientOptions = {}): void {
    super.reinitialise(onDevice(options));
  }
}

export { ModdableHost, TickClock } from "./host.js";
export * from "../../src/paho/constants.js";
export { MqttConnectionError, toPayload, type Authenticator, type ClientOptions, type ConnectFlags, type DisconnectFlags, type Logger, type MessageCallback, type Payload, type SubscribeOptions } from "../../src/paho/client.js";
export { MQTTMessage, MessageInfo, type ReceivedMessage } from "../../src/paho/message.js";
export { topicMatchesSub } from "../../src/paho/topic-rules.js";
export { connackString, errorString, reasonCodeString } from "../../src/paho/strings.js";
export { DEFAULT_BUDGET, ESP32_BUDGET, type Budget } from "../../src/engine/budget.js";
export { MemoryStore, type SessionStore, type StoredPublish, type StoredSession } from "../../src/session/store.js";
export { setDefaultHost, type Host, type Link, type LinkEvents, type LinkError, type LinkParams, type TlsOptions } from "../../src/connection/host.js";
export { MQTTv31, MQTTv311, MQTTv5, type ProtocolVersion } from "../../src/codec/constants.js";
export type { Properties } from "../../src/codec/properties.js";
export type { QoS, Will } from "../../src/codec/packet-types.js";
