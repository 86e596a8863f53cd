/** Control packet types: the high nibble of the first byte (MQTT 5 section 2.1.2). */
export const CONNECT = 1;
export const CONNACK = 2;
export const PUBLISH = 3;
export const PUBACK = 4;
export const PUBREC = 5;
export const PUBREL = 6;
export const PUBCOMP = 7;
export const SUBSCRIBE = 8;
export const SUBACK = 9;
export const UNSUBSCRIBE = 10;
export const UNSUBACK = 11;
export const PINGREQ = 12;
export const PINGRESP = 13;
export const DISCONNECT = 14;
/** MQTT 5 only. */
export const AUTH = 15;

export type PacketType = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11 | 12 | 13 | 14 | 15;
export type AckType = typeof PUBACK | typeof PUBREC | typeof PUBREL | typeof PUBCOMP;

/** Protocol levels, with Paho's names. 3 is MQTT 3.1 ("MQIsdp"), 4 is 3.1.1, 5 is 5.0. */
export const MQTTv31 = 3;
export const MQTTv311 = 4;
export const MQTTv5 = 5;
export type ProtocolVersion = 3 | 4 | 5;

// Tables are frozen so that, preloaded by Moddable's linker, they stay in flash instead of being copied to RAM.
export const PACKET_NAMES: readonly string[] = Object.freeze([
  "reserved", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
  "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH",
]);

/** The largest Remaining Length a four-byte Variable Byte Integer can carry (section 1.5.5). */
export const MAX_REMAINING_LENGTH = 268435455;
