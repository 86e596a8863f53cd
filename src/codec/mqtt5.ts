/**
 * The codec's MQTT 5 part, and the codec as its public API (./index.ts) gives it. MQTT5_PROPERTIES is what an
 * Encoder and a Decoder are handed to read and write property blocks (./property-codec.ts); the Encoder and
 * Decoder here have it built in. The classes in ./encoder.ts and ./decoder.ts take it as an argument instead,
 * so that a 3.1.1-only build (an engine handed no MQTT 5 part) never loads ./properties.ts.
 */
import type { ProtocolVersion } from "./constants.js";
import { Decoder as CoreDecoder, type DecoderOptions } from "./decoder.js";
import { Encoder as CoreEncoder } from "./encoder.js";
import { AckView } from "./packets/ack.js";
import { PublishView } from "./packets/publish-packet.js";
import { MeasuredProperties, type Properties, PropertyScan, readProperties } from "./properties.js";
import type { PropertyCodec, PropertyScanner, PropertyWriter } from "./property-codec.js";

/** A PUBLISH view whose properties are read from the block it lies over. */
class PublishView5 extends PublishView {
  override readProperties(bytes: Uint8Array, start: number, end: number): Properties | undefined {
    return readProperties(bytes, start, end);
  }
}

class AckView5 extends AckView {
  override readProperties(bytes: Uint8Array, start: number, end: number): Properties | undefined {
    return readProperties(bytes, start, end);
  }
}

export const MQTT5_PROPERTIES: PropertyCodec = Object.freeze({
  scanner: (): PropertyScanner => new PropertyScan(),
  writer: (): PropertyWriter => new MeasuredProperties(),
  publishView: (): PublishView => new PublishView5(),
  ackView: (): AckView => new AckView5(),
});

export class Encoder extends CoreEncoder {
  constructor(version: ProtocolVersion = 4) {
    super(version, MQTT5_PROPERTIES);
  }
}

export class Decoder extends CoreDecoder {
  constructor(options: DecoderOptions) {
    super({ properties: MQTT5_PROPERTIES, ...options });
  }
}
