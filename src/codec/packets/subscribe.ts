/** SUBSCRIBE (section 3.8): a packet id, v5 properties, then one or more (topic filter, options) pairs. */
import { SUBSCRIBE, type ProtocolVersion } from "../constants.js";
import type { Cursor } from "../cursor.js";
import { malformed, protocolError } from "../errors.js";
import { type Sizes, checkPacketIdIn, checkPacketIdOut, writeFixedHeader } from "../frame.js";
import type { QoS, SubscribePacket, Subscription } from "../packet-types.js";
import { type PropertyScanner, propertyBlockLength } from "../property-codec.js";
import { isSharedFilter, topicFilterSyntaxProblem } from "../topics.js";
import { stringFieldLength, writeString, writeU16 } from "../write.js";

export function decodeSubscribe(c: Cursor, version: ProtocolVersion, scan: PropertyScanner): SubscribePacket {
  const packetId = c.u16("packet identifier");
  checkPacketIdIn(packetId, "SUBSCRIBE");
  const packet: SubscribePacket = { type: SUBSCRIBE, packetId, subscriptions: [] };
  if (version === 5) {
    scan.scan(c, SUBSCRIBE);
    const properties = scan.read(c.bytes, scan.start, scan.end);
    if (properties !== undefined) packet.properties = properties;
  }
  if (c.remaining === 0) throw protocolError("SUBSCRIBE has no topic filters [MQTT-3.8.3-2]");
  while (c.remaining > 0) {
    const topicFilter = c.utf8("topic filter");
    const problem = topicFilterSyntaxProblem(topicFilter, version);
    if (problem !== undefined) throw malformed(`SUBSCRIBE: ${problem}`);
    const options = c.u8("subscription options");
    const qos = options & 3;
    const retainHandling = (options >> 4) & 3;
    // MQTT 5 calls these Protocol Errors (section 3.8.3.1); 3.1.1 called them malformed.
    const invalid = version === 5 ? protocolError : malformed;
    if (qos === 3) throw invalid("SUBSCRIBE asks for QoS 3 [MQTT-3.8.3-4]");
    if (version === 5 && retainHandling === 3) throw invalid("SUBSCRIBE asks for retain handling 3");
    if (version === 5 ? options & 0xc0 : options & 0xfc) {
      throw malformed(`SUBSCRIBE options byte 0x${options.toString(16)} sets reserved bits [MQTT-3.8.3-5]`);
    }
    const sub: Subscription = { topicFilter, qos: qos as QoS };
    if (version === 5) {
      if (options & 4 && isSharedFilter(topicFilter)) throw protocolError("No Local on a shared subscription [MQTT-3.8.3-4]");
      sub.noLocal = (options & 4) !== 0;
      sub.retainAsPublished = (options & 8) !== 0;
      sub.retainHandling = retainHandling as 0 | 1 | 2;
    }
    packet.subscriptions.push(sub);
  }
  return packet;
}

/** Sizes kept: props. */
export function measureSubscribe(p: SubscribePacket, version: ProtocolVersion, s: Sizes): number {
  checkPacketIdOut(p.packetId, "SUBSCRIBE");
  if (p.subscriptions.length === 0) throw new RangeError("SUBSCRIBE needs at least one topic filter [MQTT-3.8.3-2]");
  let n = 2;
  if (version === 5) n += propertyBlockLength(s.props.measure(p.properties, SUBSCRIBE));
  else if (p.properties !== undefined) throw new RangeError("SUBSCRIBE properties need MQTT 5");
  for (const sub of p.subscriptions) {
    if (sub.qos !== 0 && sub.qos !== 1 && sub.qos !== 2) throw new RangeError(`subscription QoS must be 0, 1 or 2, got ${String(sub.qos)}`);
    const rh = sub.retainHandling ?? 0;
    if (rh !== 0 && rh !== 1 && rh !== 2) throw new RangeError(`retainHandling must be 0, 1 or 2, got ${String(rh)}`);
    if (version < 5 && (sub.noLocal || sub.retainAsPublished || rh !== 0)) {
      throw new RangeError("noLocal, retainAsPublished and retainHandling need MQTT 5");
    }
    const problem = topicFilterSyntaxProblem(sub.topicFilter, version);
    if (problem !== undefined) throw new RangeError(problem);
    if (version === 5 && sub.noLocal && isSharedFilter(sub.topicFilter)) throw new RangeError("No Local cannot be set on a shared subscription [MQTT-3.8.3-4]");
    const length = stringFieldLength(sub.topicFilter, "topic filter");
    n += 3 + length;
  }
  return n;
}

export function writeSubscribe(out: Uint8Array, o: number, p: SubscribePacket, version: ProtocolVersion, s: Sizes): number {
  o = writeFixedHeader(out, o, (SUBSCRIBE << 4) | 2, s.remaining);
  o = writeU16(out, o, p.packetId);
  if (version === 5) o = s.props.write(out, o, p.properties);
  for (const sub of p.subscriptions) {
    o = writeString(out, o, sub.topicFilter, stringFieldLength(sub.topicFilter, "topic filter"));
    out[o++] = sub.qos | (sub.noLocal ? 4 : 0) | (sub.retainAsPublished ? 8 : 0) | ((sub.retainHandling ?? 0) << 4);
  }
  return o;
}
