export * from "./constants.js";
export * from "./errors.js";
export type * from "./packet-types.js";
export { type Properties, type PropertyName, PROPERTY_SPECS } from "./properties.js";
export { type DecodedPacket, type DecoderOptions } from "./decoder.js";
export { Decoder, Encoder } from "./mqtt5.js";
export { PublishView } from "./packets/publish-packet.js";
export { AckView } from "./packets/ack.js";
export { validateUtf8, decodeUtf8, utf8Length, writeUtf8, UTF8_OK, UTF8_INVALID, UTF8_NULL } from "./utf8.js";
