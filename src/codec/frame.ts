/**
 * Pieces every packet module shares: the fixed header (section 2.1) and the scratch record the encoder
 * fills when it measures a packet, so writing it does not measure strings and properties a second time.
 */
import { MAX_REMAINING_LENGTH } from "./constants.js";
import { protocolError } from "./errors.js";
import type { PropertyWriter } from "./property-codec.js";
import { StringFieldCache, varintLength, writeVarint } from "./write.js";

export class Sizes {
  /** Remaining Length of the measured packet. */
  remaining = 0;
  /**
   * UTF-8 byte lengths of the measured strings, so writing does not measure them again: topicLength is
   * the PUBLISH topic's, or CONNECT's will topic's.
   */
  topicLength = 0;
  clientIdLength = 0;
  usernameLength = 0;
  /** The packet's property block, and CONNECT's will properties (MQTT 5). */
  readonly props: PropertyWriter;
  private willPropsMade: PropertyWriter | undefined = undefined;
  /** The last PUBLISH topic measured. */
  readonly topic = new StringFieldCache();

  /** `props`: the codec's MQTT 5 part's writer (./mqtt5.ts), or NO_PROPERTIES's for 3.1.1 alone. */
  constructor(props: PropertyWriter) {
    this.props = props;
  }

  /** Made on first use, by an MQTT 5 CONNECT with a will: most encoders never need it. */
  get willProps(): PropertyWriter {
    return (this.willPropsMade ??= this.props.another());
  }
}

export function fixedHeaderLength(remaining: number): number {
  if (remaining > MAX_REMAINING_LENGTH) {
    throw new RangeError(`packet needs a Remaining Length of ${remaining}; MQTT allows at most ${MAX_REMAINING_LENGTH}`);
  }
  return 1 + varintLength(remaining);
}

export function writeFixedHeader(out: Uint8Array, o: number, firstByte: number, remaining: number): number {
  out[o] = firstByte;
  return writeVarint(out, o + 1, remaining);
}

/** Packet identifiers are 1..65535 wherever they appear [MQTT-2.2.1-3]. */
export function checkPacketIdIn(packetId: number, packet: string): void {
  if (packetId === 0) throw protocolError(`${packet} has packet identifier 0`);
}

export function checkPacketIdOut(packetId: number, packet: string): void {
  // (x & 0xffff) === x holds exactly for the integers 0..65535: one test instead of Number.isInteger()
  // and two comparisons, on every QoS 1/2 PUBLISH and every acknowledgement.
  if ((packetId & 0xffff) !== packetId || packetId === 0) {
    throw new RangeError(`${packet} packet identifier must be 1..65535, got ${String(packetId)}`);
  }
}

/** The encoder refuses what the decoder would: a reason code outside the packet's set. */
export function checkReasonCodeOut(code: number, packet: string, allowed: Uint8Array): number {
  if (!Number.isInteger(code) || allowed[code] !== 1) {
    throw new RangeError(`${packet} cannot carry reason code ${typeof code === "number" && Number.isInteger(code) ? `0x${code.toString(16)}` : String(code)}`);
  }
  return code;
}
