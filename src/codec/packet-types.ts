/**
 * The packet shapes: what the encoder takes and what the decoder returns. Decoded PUBLISH and
 * acknowledgement packets are reused views; the others are fresh objects, but a CONNECT's password
 * and will payload are views too. Every view lives as decoder.ts says: until the decoder's next
 * next() or feed() call. Properties objects own their data (correlationData... are copies).
 */
import type { AUTH, AckType, CONNACK, CONNECT, DISCONNECT, PINGREQ, PINGRESP, ProtocolVersion, PUBLISH, SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE } from "./constants.js";
import type { Properties } from "./properties.js";

export type QoS = 0 | 1 | 2;

export interface Will {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  /** MQTT 5 will properties. */
  properties?: Properties | undefined;
}

export interface ConnectPacket {
  type: typeof CONNECT;
  protocolVersion: ProtocolVersion;
  clientId: string;
  /** Clean Session on 3.1/3.1.1, Clean Start on 5. */
  cleanStart: boolean;
  /** Seconds; 0 turns keepalive off. */
  keepAlive: number;
  username?: string | undefined;
  password?: Uint8Array | undefined;
  will?: Will | undefined;
  properties?: Properties | undefined;
}

export interface ConnackPacket {
  type: typeof CONNACK;
  sessionPresent: boolean;
  /** The 3.x return code (0-5) or the v5 reason code. */
  reasonCode: number;
  properties?: Properties | undefined;
}

export interface PublishPacket {
  type: typeof PUBLISH;
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  /** 0 at QoS 0, where there is none. */
  packetId: number;
  properties?: Properties | undefined;
}

/** PUBACK, PUBREC, PUBREL, PUBCOMP: one shape, four types. */
export interface AckPacket {
  type: AckType;
  packetId: number;
  /** Always 0 on 3.x. */
  reasonCode?: number;
  properties?: Properties | undefined;
}

export interface Subscription {
  topicFilter: string;
  qos: QoS;
  noLocal?: boolean;
  retainAsPublished?: boolean;
  /** 0 send retained on subscribe, 1 only for a new subscription, 2 never. */
  retainHandling?: 0 | 1 | 2;
}

export interface SubscribePacket {
  type: typeof SUBSCRIBE;
  packetId: number;
  subscriptions: Subscription[];
  properties?: Properties | undefined;
}

export interface SubackPacket {
  type: typeof SUBACK;
  packetId: number;
  /** One per filter: granted QoS or a failure code. */
  reasonCodes: number[];
  properties?: Properties | undefined;
}

export interface UnsubscribePacket {
  type: typeof UNSUBSCRIBE;
  packetId: number;
  topicFilters: string[];
  properties?: Properties | undefined;
}

export interface UnsubackPacket {
  type: typeof UNSUBACK;
  packetId: number;
  /** One per filter on MQTT 5; empty on 3.x, whose UNSUBACK carries none. */
  reasonCodes: number[];
  properties?: Properties | undefined;
}

export interface PingreqPacket { type: typeof PINGREQ }
export interface PingrespPacket { type: typeof PINGRESP }

export interface DisconnectPacket {
  type: typeof DISCONNECT;
  /** MQTT 5 only; 0 (normal disconnection) when absent. */
  reasonCode?: number;
  properties?: Properties | undefined;
}

export interface AuthPacket {
  type: typeof AUTH;
  reasonCode?: number;
  properties?: Properties | undefined;
}

export type Packet = ConnectPacket | ConnackPacket | PublishPacket | AckPacket | SubscribePacket | SubackPacket |
  UnsubscribePacket | UnsubackPacket | PingreqPacket | PingrespPacket | DisconnectPacket | AuthPacket;
