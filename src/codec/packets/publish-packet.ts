/**
 * PUBLISH (section 3.3), the hot path. Decoding fills a reused PublishView whose topic and payload stay
 * where they lie in the receive buffer; the topic string and the properties object are made only when
 * asked for. Encoding writes the topic and payload straight into the caller's output.
 */
import { PUBLISH, type ProtocolVersion } from "../constants.js";
import type { Cursor } from "../cursor.js";
import { malformed, protocolError } from "../errors.js";
import { type Sizes, checkPacketIdIn, checkPacketIdOut, writeFixedHeader } from "../frame.js";
import type { PublishPacket, QoS } from "../packet-types.js";
import type { Properties } from "../properties.js";
import { type PropertyScanner, propertyBlockLength } from "../property-codec.js";
import { topicNameSyntaxProblem } from "../topics.js";
import { UTF8_NULL, UTF8_OK, UTF8_WILDCARD, decodeUtf8, validateTopicName } from "../utf8.js";
import { copyBytes, stringFieldLength, writeString, writeU16 } from "../write.js";

const EMPTY = new Uint8Array(0);
const SMALL_PAYLOAD = 8;

/**
 * A decoded PUBLISH as a view into the bytes it arrived in. The decoder reuses one instance: it and every
 * view it hands out (payload, topicBytes, correlationData...) are valid until the decoder's next
 * next() or feed() call. Keep data past that with payload.slice() and a copy of topic.
 */
export class PublishView implements PublishPacket {
  readonly type = PUBLISH;
  qos: QoS = 0;
  retain = false;
  dup = false;
  packetId = 0;
  /** The Topic Alias property, 0 when absent (MQTT 5). */
  topicAlias = 0;
  /** The buffer the packet lies in, and the ranges of its parts within it. */
  bytes: Uint8Array = EMPTY;
  topicStart = 0;
  topicEnd = 0;
  propertiesStart = 0;
  propertiesEnd = 0;
  payloadStart = 0;
  payloadEnd = 0;
  /**
   * 0, or the size of a PUBLISH too large to keep that the decoder reads past (Decoder.skipOversized):
   * the view then holds its topic and packet id only, and an empty payload.
   */
  oversize = 0;
  private topicCache: string | undefined = undefined;

  /** Gives the view the topic a v5 topic alias stands for (the packet itself carries none). */
  setTopic(topic: string): void {
    this.topicCache = topic;
  }

  /** Decodes the topic on first use; allocates a string. */
  get topic(): string {
    if (this.topicCache === undefined) this.topicCache = decodeUtf8(this.bytes, this.topicStart, this.topicEnd);
    return this.topicCache;
  }

  get topicBytes(): Uint8Array {
    return this.bytes.subarray(this.topicStart, this.topicEnd);
  }

  get payload(): Uint8Array {
    return this.bytes.subarray(this.payloadStart, this.payloadEnd);
  }

  get payloadLength(): number {
    return this.payloadEnd - this.payloadStart;
  }

  /** Builds the properties object on each call; undefined when there are none (and on 3.x). */
  get properties(): Properties | undefined {
    return this.readProperties(this.bytes, this.propertiesStart, this.propertiesEnd);
  }

  /**
   * Builds a properties object from a block this view's decoder scanned: none without MQTT 5, whose codec
   * part (../mqtt5.ts) makes views that read them. A method, not a field: no slot in every view. It reads
   * only its arguments (MQTTMessage keeps it, unbound, to read the properties of a message it copied).
   */
  readProperties(_bytes: Uint8Array, _start: number, _end: number): Properties | undefined {
    return undefined;
  }

  /** Fills the view from the cursor, which spans exactly this packet's variable header and payload. */
  decode(c: Cursor, flags: number, version: ProtocolVersion, scan: PropertyScanner): this {
    const qos = (flags >> 1) & 3;
    // QoS 3 was rejected with the fixed header.
    this.qos = qos as QoS;
    this.dup = (flags & 8) !== 0;
    this.retain = (flags & 1) !== 0;
    if (qos === 0 && this.dup) throw malformed("PUBLISH at QoS 0 has DUP set [MQTT-3.3.1-2]");
    this.topicCache = undefined;
    this.oversize = 0;
    this.bytes = c.bytes;
    c.skipBinary("topic name");
    const start = (this.topicStart = c.fieldStart);
    const end = (this.topicEnd = c.fieldEnd);
    const check = validateTopicName(c.bytes, start, end);
    if (check !== UTF8_OK) {
      throw malformed(`PUBLISH topic name ${check === UTF8_WILDCARD ? "contains a wildcard [MQTT-3.3.2-2]" : check === UTF8_NULL ? "contains U+0000" : "is not valid UTF-8"}`);
    }
    this.packetId = 0;
    if (qos > 0) {
      this.packetId = c.u16("packet identifier");
      checkPacketIdIn(this.packetId, "PUBLISH");
    }
    this.topicAlias = 0;
    if (version === 5) {
      scan.scan(c, PUBLISH);
      this.propertiesStart = scan.start;
      this.propertiesEnd = scan.end;
      this.topicAlias = scan.topicAlias;
    } else {
      this.propertiesStart = this.propertiesEnd = c.pos;
    }
    if (start === end && this.topicAlias === 0) {
      throw protocolError("PUBLISH has an empty topic name and no topic alias [MQTT-4.7.3-1]");
    }
    this.payloadStart = c.pos;
    this.payloadEnd = c.end;
    return this;
  }
}

/** Sizes kept: topicLength, props, and the topic cache. */
export function measurePublish(p: PublishPacket, version: ProtocolVersion, s: Sizes): number {
  const qos = p.qos;
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new RangeError(`PUBLISH QoS must be 0, 1 or 2, got ${String(qos)}`);
  if (qos === 0 && p.dup) throw new RangeError("PUBLISH at QoS 0 must not set DUP [MQTT-3.3.1-2]");
  const topic = p.topic;
  // Not topic.length: on XS reading a property of a primitive string allocates a wrapper object.
  if (topic === "" && (version < 5 || p.properties?.topicAlias === undefined)) {
    throw new RangeError("PUBLISH needs a topic name, or on MQTT 5 a topic alias [MQTT-4.7.3-1]");
  }
  if (topic === s.topic.value) s.topicLength = s.topic.field.length - 2;
  else cacheTopic(topic, s);
  let n = 2 + s.topicLength;
  if (qos > 0) {
    checkPacketIdOut(p.packetId, "PUBLISH");
    n += 2;
  }
  if (version === 5) n += propertyBlockLength(s.props.measure(p.properties, PUBLISH));
  else if (p.properties !== undefined) throw new RangeError("PUBLISH properties need MQTT 5");
  return n + p.payload.length;
}

/** Validates and measures a new topic (s.topicLength = its byte length) and makes it the cached one. */
function cacheTopic(topic: string, s: Sizes): void {
  const wildcard = topicNameSyntaxProblem(topic);
  if (wildcard !== undefined) throw new RangeError(wildcard);
  s.topicLength = stringFieldLength(topic, "topic");
  s.topic.keep(topic, s.topicLength);
}

/** Writes everything but the payload, for callers that send the payload from where it already lies. */
export function writePublishHeader(out: Uint8Array, o: number, p: PublishPacket, version: ProtocolVersion, s: Sizes): number {
  const first = (PUBLISH << 4) | (p.dup ? 8 : 0) | (p.qos << 1) | (p.retain ? 1 : 0);
  o = writeFixedHeader(out, o, first, s.remaining);
  o = p.topic === s.topic.value ? s.topic.write(out, o) : writeString(out, o, p.topic, s.topicLength);
  if (p.qos > 0) o = writeU16(out, o, p.packetId);
  return version === 5 ? s.props.write(out, o, p.properties) : o;
}

export function writePublish(out: Uint8Array, o: number, p: PublishPacket, version: ProtocolVersion, s: Sizes): number {
  o = writePublishHeader(out, o, p, version, s);
  const payload = p.payload;
  const n = payload.length;
  // A copy through set() costs, on V8, about what a loop over 10 bytes does.
  if (n > SMALL_PAYLOAD) return copyBytes(out, o, payload);
  for (let i = 0; i < n; i++) out[o + i] = payload[i]!;
  return o + n;
}
