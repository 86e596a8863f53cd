/**
 * The seam between the packet modules and MQTT 5 properties (./properties.ts). The packets only touch a
 * property block on MQTT 5, through the scanner and writers of the PropertyCodec the Encoder and Decoder are
 * handed (MQTT5_PROPERTIES, ./mqtt5.ts, or NO_PROPERTIES, ./no-properties.ts): so a 3.1.1-only build (the
 * Moddable profile tinymqtt/mqtt311) never loads the 9 KiB properties module, and one that meets MQTT 5
 * anyway says so instead of failing somewhere later.
 */
import type { Cursor } from "./cursor.js";
import type { AckView } from "./packets/ack.js";
import type { PublishView } from "./packets/publish-packet.js";
import type { Properties } from "./properties.js";
import { varintLength } from "./write.js";

/** The will properties travel in CONNECT but have their own allowed set: a pseudo packet kind. */
export const WILL_PROPERTIES = 16;

/** Reads property blocks: the decoder owns one and reuses it for every packet. */
export interface PropertyScanner {
  /** The last block scanned: its bytes (without the length prefix), and its Topic Alias, 0 when none. */
  start: number;
  end: number;
  topicAlias: number;
  /** Validates the block at the cursor, of packet kind `kind`, without making objects; leaves the cursor after it. */
  scan(c: Cursor, kind: number): void;
  /** Builds the object for a block scan() accepted; undefined for an empty block. */
  read(bytes: Uint8Array, start: number, end: number): Properties | undefined;
}

/** Writes property blocks: measure() checks and sizes a block, write() then puts it in the output. */
export interface PropertyWriter {
  /** Checks `props` for packet kind `kind` and returns the block's length without its length prefix. */
  measure(props: Properties | undefined, kind: number): number;
  /** Writes the block measure() last sized, from the same object, with its length prefix. */
  write(out: Uint8Array, o: number, props: Properties | undefined): number;
  /** Another writer like this one (CONNECT measures its will properties apart from its own). */
  another(): PropertyWriter;
}

/**
 * What a codec is handed to speak MQTT 5: makers of its scanner and writer, and of the decoder's reused views
 * of PUBLISH and acknowledgements, whose `properties` read the block they lie over (the views of a codec
 * without MQTT 5 have none).
 */
export interface PropertyCodec {
  scanner(): PropertyScanner;
  writer(): PropertyWriter;
  publishView(): PublishView;
  ackView(): AckView;
}

/** The error for MQTT 5 asked of a codec, engine or client built without it. */
export const MQTT5_NOT_BUILT = "MQTT 5 is not part of this build (a 3.1.1-only profile, such as tinymqtt/mqtt311): use MQTTv311 or MQTTv31, or a profile with MQTT 5";

/** The length of a whole property block: its Variable Byte Integer prefix plus the properties. */
export function propertyBlockLength(propsLength: number): number {
  return varintLength(propsLength) + propsLength;
}
