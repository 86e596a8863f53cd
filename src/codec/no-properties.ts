/**
 * The codec without MQTT 5: what the Encoder and Decoder use unless handed MQTT5_PROPERTIES (./mqtt5.ts). MQTT
 * 3.1 and 3.1.1 never carry a property block; one met anyway (an MQTT 5 packet, or properties asked of an
 * MQTT 5 encoder) is refused with MQTT5_NOT_BUILT, a protocol error when decoding, a RangeError when encoding.
 */
import { protocolError } from "./errors.js";
import { AckView } from "./packets/ack.js";
import { PublishView } from "./packets/publish-packet.js";
import type { Properties } from "./properties.js";
import { MQTT5_NOT_BUILT, type PropertyCodec, type PropertyScanner, type PropertyWriter } from "./property-codec.js";
import { writeVarint } from "./write.js";

/** The scanner and writer of a codec without MQTT 5: nothing to keep, so one frozen object of each. */
const NO_SCANNER: PropertyScanner = Object.freeze({
  start: 0,
  end: 0,
  topicAlias: 0,
  scan(): void {
    throw protocolError(MQTT5_NOT_BUILT);
  },
  read(): undefined {
    return undefined;
  },
});

const NO_WRITER: PropertyWriter = Object.freeze({
  measure(props: Properties | undefined): number {
    if (props !== undefined) throw new RangeError(MQTT5_NOT_BUILT);
    return 0;
  },
  write(out: Uint8Array, o: number): number {
    return writeVarint(out, o, 0);
  },
  another: (): PropertyWriter => NO_WRITER,
});

/** A codec for MQTT 3.1 and 3.1.1 only: an MQTT 5 packet or property block is refused with a clear error. */
export const NO_PROPERTIES: PropertyCodec = Object.freeze({
  scanner: (): PropertyScanner => NO_SCANNER,
  writer: (): PropertyWriter => NO_WRITER,
  publishView: (): PublishView => new PublishView(),
  ackView: (): AckView => new AckView(),
});
