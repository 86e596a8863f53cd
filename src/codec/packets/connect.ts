/** CONNECT (section 3.1): protocol name and level, flags, keepalive, v5 properties, then the payload. */
import { CONNECT, type ProtocolVersion } from "../constants.js";
import type { Cursor } from "../cursor.js";
import { MqttProtocolError, UNSUPPORTED_PROTOCOL_VERSION, malformed } from "../errors.js";
import { type Sizes, writeFixedHeader } from "../frame.js";
import type { ConnectPacket, QoS, Will } from "../packet-types.js";
import { WILL_PROPERTIES, type PropertyScanner, propertyBlockLength } from "../property-codec.js";
import { topicNameSyntaxProblem } from "../topics.js";
import { stringFieldLength, writeBinary, writeString, writeU16 } from "../write.js";

/** A will topic is a topic name: not empty, no wildcards [MQTT-3.1.3-11]. */
function topicNameProblemOrEmpty(topic: string | undefined): string | undefined {
  if (topic === undefined) return undefined;
  return topic.length === 0 ? "must not be empty" : topicNameSyntaxProblem(topic);
}

const USERNAME = 0x80, PASSWORD = 0x40, WILL_RETAIN = 0x20, WILL_FLAG = 0x04, CLEAN = 0x02, RESERVED = 0x01;

/** Decodes a CONNECT; its protocol level also tells the decoder which version the peer speaks. */
export function decodeConnect(c: Cursor, scan: PropertyScanner): ConnectPacket {
  const name = c.utf8("protocol name");
  const level = c.u8("protocol level");
  if (!((name === "MQTT" && (level === 4 || level === 5)) || (name === "MQIsdp" && level === 3))) {
    throw new MqttProtocolError(UNSUPPORTED_PROTOCOL_VERSION, `unsupported protocol ${JSON.stringify(name)} level ${level}`);
  }
  const version = level as ProtocolVersion;
  const flags = c.u8("connect flags");
  if (flags & RESERVED) throw malformed("CONNECT reserved flag bit is set [MQTT-3.1.2-3]");
  const willQos = (flags >> 3) & 3;
  if (willQos === 3) throw malformed("CONNECT will QoS is 3 [MQTT-3.1.2-14]");
  if (!(flags & WILL_FLAG) && (willQos !== 0 || flags & WILL_RETAIN)) {
    throw malformed("CONNECT will QoS or retain set without a will [MQTT-3.1.2-11]");
  }
  if (version < 5 && flags & PASSWORD && !(flags & USERNAME)) {
    throw malformed("CONNECT has a password without a user name [MQTT-3.1.2-22]");
  }
  const keepAlive = c.u16("keepalive");
  let properties;
  if (version === 5) {
    scan.scan(c, CONNECT);
    properties = scan.read(c.bytes, scan.start, scan.end);
  }
  const packet: ConnectPacket = { type: CONNECT, protocolVersion: version, clientId: c.utf8("client identifier"),
    cleanStart: (flags & CLEAN) !== 0, keepAlive };
  if (flags & WILL_FLAG) {
    let willProperties;
    if (version === 5) {
      scan.scan(c, WILL_PROPERTIES);
      willProperties = scan.read(c.bytes, scan.start, scan.end);
    }
    const will: Will = { topic: c.utf8("will topic"), payload: c.binary("will payload"), qos: willQos as QoS,
      retain: (flags & WILL_RETAIN) !== 0 };
    const problem = topicNameProblemOrEmpty(will.topic);
    if (problem !== undefined) throw malformed(`CONNECT will topic ${problem}`);
    if (willProperties !== undefined) will.properties = willProperties;
    packet.will = will;
  }
  if (flags & USERNAME) packet.username = c.utf8("user name");
  if (flags & PASSWORD) packet.password = c.binary("password");
  if (properties !== undefined) packet.properties = properties;
  c.expectEnd("CONNECT");
  return packet;
}

/**
 * Sizes kept: clientIdLength, topicLength (the will topic's), usernameLength, props, willProps.
 */
export function measureConnect(p: ConnectPacket, s: Sizes): number {
  const v5 = p.protocolVersion === 5;
  if (p.protocolVersion !== 3 && p.protocolVersion !== 4 && !v5) {
    throw new RangeError(`protocolVersion must be 3, 4 or 5, got ${String(p.protocolVersion)}`);
  }
  if (topicNameProblemOrEmpty(p.will?.topic) !== undefined) throw new RangeError(`will topic: ${topicNameProblemOrEmpty(p.will?.topic)}`);
  if (!Number.isInteger(p.keepAlive) || p.keepAlive < 0 || p.keepAlive > 65535) {
    throw new RangeError(`keepalive must be 0..65535 seconds, got ${String(p.keepAlive)}`);
  }
  if (!v5 && p.properties !== undefined) throw new RangeError("CONNECT properties need MQTT 5");
  let n = (p.protocolVersion === 3 ? 8 : 6) + 1 + 1 + 2;
  if (v5) n += propertyBlockLength(s.props.measure(p.properties, CONNECT));
  n += 2 + (s.clientIdLength = stringFieldLength(p.clientId, "client id"));
  const will = p.will;
  if (will !== undefined) {
    if (!v5 && will.properties !== undefined) throw new RangeError("will properties need MQTT 5");
    if (will.qos !== 0 && will.qos !== 1 && will.qos !== 2) throw new RangeError(`will QoS must be 0, 1 or 2, got ${String(will.qos)}`);
    if (v5) n += propertyBlockLength(s.willProps.measure(will.properties, WILL_PROPERTIES));
    n += 2 + (s.topicLength = stringFieldLength(will.topic, "will topic"));
    if (will.payload.length > 65535) throw new RangeError(`will payload is ${will.payload.length} bytes; at most 65535`);
    n += 2 + will.payload.length;
  }
  if (p.username !== undefined) n += 2 + (s.usernameLength = stringFieldLength(p.username, "user name"));
  if (p.password !== undefined) {
    if (p.protocolVersion < 5 && p.username === undefined) {
      throw new RangeError("MQTT 3.x needs a user name to send a password [MQTT-3.1.2-22]");
    }
    if (p.password.length > 65535) throw new RangeError(`password is ${p.password.length} bytes; at most 65535`);
    n += 2 + p.password.length;
  }
  return n;
}

export function writeConnect(out: Uint8Array, o: number, p: ConnectPacket, s: Sizes): number {
  o = writeFixedHeader(out, o, CONNECT << 4, s.remaining);
  o = p.protocolVersion === 3 ? writeString(out, o, "MQIsdp", 6) : writeString(out, o, "MQTT", 4);
  out[o++] = p.protocolVersion;
  const will = p.will;
  let flags = p.cleanStart ? CLEAN : 0;
  if (will !== undefined) flags |= WILL_FLAG | (will.qos << 3) | (will.retain ? WILL_RETAIN : 0);
  if (p.username !== undefined) flags |= USERNAME;
  if (p.password !== undefined) flags |= PASSWORD;
  out[o++] = flags;
  o = writeU16(out, o, p.keepAlive);
  if (p.protocolVersion === 5) o = s.props.write(out, o, p.properties);
  o = writeString(out, o, p.clientId, s.clientIdLength);
  if (will !== undefined) {
    if (p.protocolVersion === 5) o = s.willProps.write(out, o, will.properties);
    o = writeString(out, o, will.topic, s.topicLength);
    o = writeBinary(out, o, will.payload);
  }
  if (p.username !== undefined) o = writeString(out, o, p.username, s.usernameLength);
  if (p.password !== undefined) o = writeBinary(out, o, p.password);
  return o;
}
