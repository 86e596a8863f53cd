/** UNSUBSCRIBE (section 3.10): a packet id, v5 properties, then one or more topic filters. */
import { UNSUBSCRIBE, type ProtocolVersion } from "../constants.js";
import type { Cursor } from "../cursor.js";
import { malformed, protocolError } from "../errors.js";
import { type Sizes, checkPacketIdIn, checkPacketIdOut, writeFixedHeader } from "../frame.js";
import type { UnsubscribePacket } from "../packet-types.js";
import { type PropertyScanner, propertyBlockLength } from "../property-codec.js";
import { topicFilterSyntaxProblem } from "../topics.js";
import { stringFieldLength, writeString, writeU16 } from "../write.js";

export function decodeUnsubscribe(c: Cursor, version: ProtocolVersion, scan: PropertyScanner): UnsubscribePacket {
  const packetId = c.u16("packet identifier");
  checkPacketIdIn(packetId, "UNSUBSCRIBE");
  const packet: UnsubscribePacket = { type: UNSUBSCRIBE, packetId, topicFilters: [] };
  if (version === 5) {
    scan.scan(c, UNSUBSCRIBE);
    const properties = scan.read(c.bytes, scan.start, scan.end);
    if (properties !== undefined) packet.properties = properties;
  }
  if (c.remaining === 0) throw protocolError("UNSUBSCRIBE has no topic filters [MQTT-3.10.3-2]");
  while (c.remaining > 0) {
    const filter = c.utf8("topic filter");
    const problem = topicFilterSyntaxProblem(filter, version);
    if (problem !== undefined) throw malformed(`UNSUBSCRIBE: ${problem}`);
    packet.topicFilters.push(filter);
  }
  return packet;
}

/** Sizes kept: props. */
export function measureUnsubscribe(p: UnsubscribePacket, version: ProtocolVersion, s: Sizes): number {
  checkPacketIdOut(p.packetId, "UNSUBSCRIBE");
  if (p.topicFilters.length === 0) throw new RangeError("UNSUBSCRIBE needs at least one topic filter [MQTT-3.10.3-2]");
  let n = 2;
  if (version === 5) n += propertyBlockLength(s.props.measure(p.properties, UNSUBSCRIBE));
  else if (p.properties !== undefined) throw new RangeError("UNSUBSCRIBE properties need MQTT 5");
  for (const filter of p.topicFilters) {
    const problem = topicFilterSyntaxProblem(filter, version);
    if (problem !== undefined) throw new RangeError(problem);
    n += 2 + stringFieldLength(filter, "topic filter");
  }
  return n;
}

export function writeUnsubscribe(out: Uint8Array, o: number, p: UnsubscribePacket, version: ProtocolVersion, s: Sizes): number {
  o = writeFixedHeader(out, o, (UNSUBSCRIBE << 4) | 2, s.remaining);
  o = writeU16(out, o, p.packetId);
  if (version === 5) o = s.props.write(out, o, p.properties);
  for (const filter of p.topicFilters) o = writeString(out, o, filter, stringFieldLength(filter, "topic filter"));
  return o;
}
