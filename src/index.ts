/**
 * tinymqtt's platform-neutral core. Nothing here touches a socket, a timer or a clock: hosts
 * (hosts/node, hosts/moddable) bring those, and `tinymqtt` on Node registers the Node host by default.
 */
export * from "./paho/constants.js";
export { Client } from "./paho/full-client.js";
export { MqttConnectionError, toPayload, type Authenticator, type ClientOptions, type ConnectFlags, type DisconnectFlags, type Logger, type MessageCallback, type Payload, type SubscribeOptions } from "./paho/client.js";
export { MQTTMessage, MessageInfo, type ReceivedMessage } from "./paho/message.js";
export { topicMatchesSub } from "./paho/topic-rules.js";
export { connackString, errorString, reasonCodeString } from "./paho/strings.js";
export { DEFAULT_BUDGET, ESP32_BUDGET, type Budget } from "./engine/budget.js";
export { MemoryStore, type SessionStore, type StoredPublish, type StoredSession } from "./session/store.js";
export { setDefaultHost, type Host, type Link, type LinkEvents, type LinkError, type LinkParams, type TlsOptions } from "./connection/host.js";
export { MQTTv31, MQTTv311, MQTTv5, type ProtocolVersion } from "./codec/constants.js";
export type { Properties } from "./codec/properties.js";
export type { QoS, Will } from "./codec/packet-types.js";
export * as codec from "./codec/index.js";
export * as buffers from "./buffers/index.js";
