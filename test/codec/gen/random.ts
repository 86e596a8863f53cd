/**
 * Seeded random MQTT packets for round-trip and fuzz tests. Host-neutral: no Node or Moddable APIs, so the
 * same generator runs under node:test and inside XS.
 *
 * Every packet is valid for its version and canonical: it has exactly the fields, and only the fields, the
 * decoder gives back (3.x acks and DISCONNECT carry reasonCode 0, v3 subscriptions carry no v5 options, an
 * empty property set is left out, one Subscription Identifier is a number and several are an array), so
 * encode -> decode -> toPlain deep-equals it. The property table below is written from the MQTT 5 spec
 * (section 2.2.2.2) rather than taken from src/codec/properties.ts, so it checks that table too.
 */
import { AUTH, CONNACK, CONNECT, DISCONNECT, PINGREQ, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE } from "../../../src/codec/constants.js";
import type { AckType, PacketType, ProtocolVersion } from "../../../src/codec/constants.js";
import type { AuthPacket, DisconnectPacket, Packet, QoS, Subscription, Will } from "../../../src/codec/packet-types.js";
import type { Properties } from "../../../src/codec/properties.js";

/** mulberry32: small, fast, and the same sequence on every engine. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  u32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** 0 <= n < below. */
  below(below: number): number {
    return Math.floor((this.u32() / 4294967296) * below);
  }

  /** lo <= n <= hi. */
  between(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() < p * 4294967296;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      let x = this.u32();
      for (let j = i; j < i + 4 && j < n; j++, x >>>= 8) out[j] = x & 0xff;
    }
    return out;
  }
}

/** A seed for one case derived from a suite seed and an index, so a failing case replays on its own. */
export function caseSeed(seed: number, index: number): number {
  let h = Math.imul((seed ^ 0x9e3779b9) >>> 0, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  return (h ^ (h >>> 15)) >>> 0;
}

export const hex32 = (n: number): string => "0x" + (n >>> 0).toString(16).padStart(8, "0");

// ---------------------------------------------------------------------------------------------------------
// Strings

const WILDCARD_PLUS = 0x2b;
const WILDCARD_HASH = 0x23;
const SLASH = 0x2f;
/** Code points at the edges of UTF-8's byte lengths and other places decoders get wrong. */
const EDGE_CODE_POINTS = [0x01, 0x1f, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfeff, 0xfffd, 0xffff, 0x10000, 0x10ffff];

function randomCodePoint(r: Rng, inTopic: boolean): number {
  const roll = r.below(100);
  if (roll < 55) {
    for (;;) {
      const c = r.between(0x20, 0x7e);
      if (!inTopic || (c !== WILDCARD_PLUS && c !== WILDCARD_HASH && c !== SLASH)) return c;
    }
  }
  if (roll < 68) return r.between(0x80, 0x7ff);
  if (roll < 81) {
    const c = r.between(0x800, 0xffff - 0x800);
    return c >= 0xd800 ? c + 0x800 : c; // skip the surrogates, which have no UTF-8 form
  }
  if (roll < 95) return r.between(0x10000, 0x10ffff);
  return r.pick(EDGE_CODE_POINTS);
}

/** A well-formed string of up to maxChars code points: mixed 1- to 4-byte UTF-8, never U+0000. */
export function randomString(r: Rng, maxChars: number, inTopic = false): string {
  const n = r.between(0, maxChars);
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCodePoint(randomCodePoint(r, inTopic));
  return s;
}

function randomLevels(r: Rng, wildcards: boolean): string {
  const levels: string[] = [];
  const n = r.between(1, 5);
  for (let i = 0; i < n; i++) {
    if (wildcards && r.chance(0.2)) levels.push("+");
    else levels.push(randomString(r, r.chance(0.05) ? 60 : 8, true));
  }
  if (wildcards && r.chance(0.25)) levels.push("#");
  return levels.join("/");
}

/** A Topic Name: never empty, no wildcards [MQTT-3.3.2-2], sometimes with empty levels or a $ prefix. */
export function randomTopic(r: Rng): string {
  const topic = (r.chance(0.05) ? "$SYS/" : "") + randomLevels(r, false);
  return topic === "" ? "t" : topic;
}

/** A Topic Filter with well-placed wildcards, sometimes a shared subscription. */
export function randomFilter(r: Rng): string {
  if (r.chance(0.03)) return "#";
  const filter = randomLevels(r, true);
  if (r.chance(0.1)) return `$share/${randomString(r, 6, true) || "g"}/${filter || "f"}`;
  return filter === "" ? "f" : filter;
}

// ---------------------------------------------------------------------------------------------------------
// Properties (MQTT 5 section 2.2.2.2)

/** The will properties travel in CONNECT but have their own allowed set. */
export const WILL = 16;

type Gen = (r: Rng) => unknown;

const U16_EDGES = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff];
const U32_EDGES = [0, 1, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const VARINT_EDGES = [1, 0x7f, 0x80, 0x3fff, 0x4000, 0x1fffff, 0x200000, 268435455];

const flag: Gen = (r) => r.below(2);
const u16From = (min: number): Gen => (r) => (r.chance(0.5) ? Math.max(min, r.pick(U16_EDGES)) : r.between(min, 0xffff));
const u32From = (min: number): Gen => (r) => (r.chance(0.5) ? Math.max(min, r.pick(U32_EDGES)) : min + r.below(0x100000000 - min));
const text: Gen = (r) => randomString(r, r.chance(0.05) ? 200 : 12);
const binary: Gen = (r) => r.bytes(r.chance(0.05) ? r.between(0, 600) : r.between(0, 24));
const subscriptionId = (r: Rng): number => (r.chance(0.5) ? r.pick(VARINT_EDGES) : r.between(1, 268435455));

function userProperties(r: Rng): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const n = r.chance(0.1) ? r.between(5, 12) : r.between(1, 3);
  for (let i = 0; i < n; i++) {
    if (i > 0 && r.chance(0.25)) {
      // The spec lets a name repeat, with the same or another value, and the order must survive.
      const earlier = pairs[r.below(pairs.length)]!;
      pairs.push([earlier[0], r.chance(0.5) ? earlier[1] : randomString(r, 8)]);
    } else {
      pairs.push([randomString(r, 10), randomString(r, 16)]);
    }
  }
  return pairs;
}

interface PropertyRule {
  name: keyof Properties;
  kinds: readonly number[];
  gen: Gen;
}

const ACKS = [PUBACK, PUBREC, PUBREL, PUBCOMP];

const RULES: readonly PropertyRule[] = [
  { name: "payloadFormatIndicator", kinds: [PUBLISH, WILL], gen: flag },
  { name: "messageExpiryInterval", kinds: [PUBLISH, WILL], gen: u32From(0) },
  { name: "contentType", kinds: [PUBLISH, WILL], gen: text },
  { name: "responseTopic", kinds: [PUBLISH, WILL], gen: randomTopic },
  { name: "correlationData", kinds: [PUBLISH, WILL], gen: binary },
  { name: "subscriptionIdentifier", kinds: [PUBLISH, SUBSCRIBE], gen: subscriptionId },
  { name: "sessionExpiryInterval", kinds: [CONNECT, CONNACK, DISCONNECT], gen: u32From(0) },
  { name: "assignedClientIdentifier", kinds: [CONNACK], gen: text },
  { name: "serverKeepAlive", kinds: [CONNACK], gen: u16From(0) },
  { name: "authenticationMethod", kinds: [CONNECT, CONNACK, AUTH], gen: text },
  { name: "authenticationData", kinds: [CONNECT, CONNACK, AUTH], gen: binary },
  { name: "requestProblemInformation", kinds: [CONNECT], gen: flag },
  { name: "willDelayInterval", kinds: [WILL], gen: u32From(0) },
  { name: "requestResponseInformation", kinds: [CONNECT], gen: flag },
  { name: "responseInformation", kinds: [CONNACK], gen: text },
  { name: "serverReference", kinds: [CONNACK, DISCONNECT], gen: text },
  { name: "reasonString", kinds: [CONNACK, SUBACK, UNSUBACK, DISCONNECT, AUTH, ...ACKS], gen: text },
  { name: "receiveMaximum", kinds: [CONNECT, CONNACK], gen: u16From(1) },
  { name: "topicAliasMaximum", kinds: [CONNECT, CONNACK], gen: u16From(0) },
  { name: "topicAlias", kinds: [PUBLISH], gen: u16From(1) },
  { name: "maximumQos", kinds: [CONNACK], gen: flag },
  { name: "retainAvailable", kinds: [CONNACK], gen: flag },
  { name: "userProperties", kinds: [CONNECT, CONNACK, PUBLISH, WILL, SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, DISCONNECT, AUTH, ...ACKS], gen: userProperties },
  { name: "maximumPacketSize", kinds: [CONNECT, CONNACK], gen: u32From(1) },
  { name: "wildcardSubscriptionAvailable", kinds: [CONNACK], gen: flag },
  { name: "subscriptionIdentifiersAvailable", kinds: [CONNACK], gen: flag },
  { name: "sharedSubscriptionAvailable", kinds: [CONNACK], gen: flag },
];

/** Every MQTT 5 property, by its name in Properties. */
export const PROPERTY_NAMES: ReadonlyArray<keyof Properties> = RULES.map((rule) => rule.name);

/** The property names a packet kind (a packet type or WILL) may carry. */
export function allowedProperties(kind: number): Array<keyof Properties> {
  return RULES.filter((rule) => rule.kinds.includes(kind)).map((rule) => rule.name);
}

/** A valid value for the property, whatever packet it goes in. */
export function randomPropertyValue(r: Rng, name: keyof Properties): unknown {
  return RULES.find((rule) => rule.name === name)!.gen(r);
}

/**
 * A random valid property set for a packet kind, or undefined (what the decoder returns for none).
 * Sometimes every allowed property at once.
 */
export function randomProperties(r: Rng, kind: number): Properties | undefined {
  if (r.chance(0.3)) return undefined;
  const everything = r.chance(0.1);
  const props: Record<string, unknown> = {};
  let any = false;
  for (const rule of RULES) {
    if (!rule.kinds.includes(kind) || !(everything || r.chance(0.25))) continue;
    // Authentication Data without an Authentication Method is a Protocol Error (section 3.1.2.11.10).
    if (rule.name === "authenticationData" && props.authenticationMethod === undefined) continue;
    props[rule.name] = rule.gen(r);
    any = true;
  }
  if (kind === PUBLISH && props.subscriptionIdentifier !== undefined && r.chance(0.3)) {
    // A PUBLISH that matched several subscriptions carries one identifier per match (section 3.3.2.3.8).
    const ids = [props.subscriptionIdentifier as number];
    for (let n = r.between(1, 4); n > 0; n--) ids.push(subscriptionId(r));
    props.subscriptionIdentifier = ids;
  }
  return any ? (props as Properties) : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Packets

/** Reason codes each packet may carry, from the spec's tables (sections 3.2.2.2 to 3.15.2.1). */
export const REASON_CODES = {
  connackV3: [0, 1, 2, 3, 4, 5],
  connack: [0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f],
  puback: [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99],
  pubrel: [0x00, 0x92],
  subackV3: [0x00, 0x01, 0x02, 0x80],
  suback: [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2],
  unsuback: [0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91],
  disconnect: [0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2],
  auth: [0x00, 0x18, 0x19],
} as const;

/** The codes a packet type may carry on a version; empty where it carries none (3.x acks, UNSUBACK...). */
export function reasonCodesFor(type: PacketType, version: ProtocolVersion): readonly number[] {
  const v5 = version === 5;
  switch (type) {
    case CONNACK: return v5 ? REASON_CODES.connack : REASON_CODES.connackV3;
    case PUBACK: case PUBREC: return v5 ? REASON_CODES.puback : [];
    case PUBREL: case PUBCOMP: return v5 ? REASON_CODES.pubrel : [];
    case SUBACK: return v5 ? REASON_CODES.suback : REASON_CODES.subackV3;
    case UNSUBACK: return v5 ? REASON_CODES.unsuback : [];
    case DISCONNECT: return v5 ? REASON_CODES.disconnect : [];
    case AUTH: return v5 ? REASON_CODES.auth : [];
    default: return [];
  }
}

export interface GenOptions {
  /** Largest PUBLISH payload. Defaults to 2000. */
  maxPayload?: number;
}

const qos = (r: Rng): QoS => r.below(3) as QoS;
const packetId = (r: Rng): number => (r.chance(0.1) ? r.pick([1, 2, 0xff, 0x100, 0xfffe, 0xffff]) : r.between(1, 0xffff));
/** Zero half the time, since it is the default the encoder leaves out. */
const reason = (r: Rng, codes: readonly number[]): number => (r.chance(0.5) ? 0 : r.pick(codes));

/** Payload sizes: mostly small, some up to max, and the edges 0 and max. */
function payloadSize(r: Rng, max: number): number {
  const roll = r.below(100);
  if (roll < 5) return 0;
  if (roll < 7) return max;
  if (roll < 70) return r.between(0, Math.min(64, max));
  if (roll < 90) return r.between(0, Math.min(512, max));
  return r.between(0, max);
}

/** Sets key on o only when value is defined: the decoder leaves absent fields out, never undefined. */
function put<T extends object, K extends keyof T>(o: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) o[key] = value;
}

function connect(r: Rng, version: ProtocolVersion): Packet {
  const p: Packet = {
    type: CONNECT,
    protocolVersion: version,
    clientId: r.chance(0.1) ? "" : randomString(r, r.chance(0.05) ? 100 : 23),
    cleanStart: r.chance(0.5),
    keepAlive: r.chance(0.3) ? r.pick([0, 1, 60, 0xffff]) : r.between(0, 0xffff),
  };
  if (r.chance(0.4)) {
    const will: Will = { topic: randomTopic(r), payload: r.bytes(r.chance(0.1) ? r.between(0, 1000) : r.between(0, 40)), qos: qos(r), retain: r.chance(0.5) };
    if (version === 5) put(will, "properties", randomProperties(r, WILL));
    p.will = will;
  }
  if (r.chance(0.5)) p.username = randomString(r, 16);
  // 3.x sends a password only with a user name [MQTT-3.1.2-22]; MQTT 5 lifted that rule.
  if (r.chance(0.4) && (version === 5 || p.username !== undefined)) p.password = r.bytes(r.between(0, 40));
  if (version === 5) put(p, "properties", randomProperties(r, CONNECT));
  return p;
}

function connack(r: Rng, version: ProtocolVersion): Packet {
  const reasonCode = reason(r, reasonCodesFor(CONNACK, version));
  // A refused connection never has a session [MQTT-3.2.2-4], and 3.1 has no Session Present at all.
  const p: Packet = { type: CONNACK, sessionPresent: version !== 3 && reasonCode === 0 && r.chance(0.5), reasonCode };
  if (version === 5) put(p, "properties", randomProperties(r, CONNACK));
  return p;
}

function publish(r: Rng, version: ProtocolVersion, maxPayload: number): Packet {
  const q = qos(r);
  let properties = version === 5 ? randomProperties(r, PUBLISH) : undefined;
  let topic = randomTopic(r);
  if (version === 5 && r.chance(0.1)) {
    // An empty topic is valid when a Topic Alias stands in for it (section 3.3.2.3.4).
    topic = "";
    properties = { ...properties, topicAlias: r.between(1, 0xffff) };
  }
  const p: Packet = {
    type: PUBLISH,
    topic,
    payload: r.bytes(payloadSize(r, maxPayload)),
    qos: q,
    retain: r.chance(0.5),
    dup: q > 0 && r.chance(0.3), // DUP is 0 at QoS 0 [MQTT-3.3.1-2]
    packetId: q > 0 ? packetId(r) : 0,
  };
  put(p, "properties", properties);
  return p;
}

function ack(r: Rng, version: ProtocolVersion, type: AckType): Packet {
  const p: Packet = { type, packetId: packetId(r), reasonCode: 0 };
  if (version === 5) {
    p.reasonCode = reason(r, reasonCodesFor(type, version));
    put(p, "properties", randomProperties(r, type));
  }
  return p;
}

function subscribe(r: Rng, version: ProtocolVersion): Packet {
  const subscriptions: Subscription[] = [];
  for (let n = r.chance(0.1) ? r.between(5, 20) : r.between(1, 3); n > 0; n--) {
    const topicFilter = randomFilter(r);
    const sub: Subscription = { topicFilter, qos: qos(r) };
    if (version === 5) {
      // No Local on a shared subscription is a Protocol Error [MQTT-3.8.3-4].
      sub.noLocal = !topicFilter.startsWith("$share/") && r.chance(0.5);
      sub.retainAsPublished = r.chance(0.5);
      sub.retainHandling = r.below(3) as 0 | 1 | 2;
    }
    subscriptions.push(sub);
  }
  const p: Packet = { type: SUBSCRIBE, packetId: packetId(r), subscriptions };
  if (version === 5) put(p, "properties", randomProperties(r, SUBSCRIBE));
  return p;
}

function codes(r: Rng, from: readonly number[]): number[] {
  const out: number[] = [];
  for (let n = r.chance(0.1) ? r.between(5, 20) : r.between(1, 3); n > 0; n--) out.push(r.pick(from));
  return out;
}

function suback(r: Rng, version: ProtocolVersion): Packet {
  const p: Packet = { type: SUBACK, packetId: packetId(r), reasonCodes: codes(r, reasonCodesFor(SUBACK, version)) };
  if (version === 5) put(p, "properties", randomProperties(r, SUBACK));
  return p;
}

function unsubscribe(r: Rng, version: ProtocolVersion): Packet {
  const topicFilters: string[] = [];
  for (let n = r.chance(0.1) ? r.between(5, 20) : r.between(1, 3); n > 0; n--) topicFilters.push(randomFilter(r));
  const p: Packet = { type: UNSUBSCRIBE, packetId: packetId(r), topicFilters };
  if (version === 5) put(p, "properties", randomProperties(r, UNSUBSCRIBE));
  return p;
}

function unsuback(r: Rng, version: ProtocolVersion): Packet {
  // 3.x UNSUBACK carries no codes at all.
  const p: Packet = { type: UNSUBACK, packetId: packetId(r), reasonCodes: version === 5 ? codes(r, reasonCodesFor(UNSUBACK, version)) : [] };
  if (version === 5) put(p, "properties", randomProperties(r, UNSUBACK));
  return p;
}

function reasonPacket(r: Rng, version: ProtocolVersion, type: typeof DISCONNECT | typeof AUTH): Packet {
  const p: DisconnectPacket | AuthPacket = { type, reasonCode: 0 };
  if (version === 5) {
    p.reasonCode = reason(r, reasonCodesFor(type, version));
    put(p, "properties", randomProperties(r, type));
  }
  return p;
}

/** The packet types a version has: all but AUTH on 3.x. */
export function packetTypes(version: ProtocolVersion): PacketType[] {
  const types: PacketType[] = [];
  for (let t = CONNECT; t <= (version === 5 ? AUTH : DISCONNECT); t++) types.push(t as PacketType);
  return types;
}

/** A random valid, canonical packet of the given type and version. */
export function randomPacketOfType(r: Rng, type: PacketType, version: ProtocolVersion, options: GenOptions = {}): Packet {
  switch (type) {
    case CONNECT: return connect(r, version);
    case CONNACK: return connack(r, version);
    case PUBLISH: return publish(r, version, options.maxPayload ?? 2000);
    case PUBACK: case PUBREC: case PUBREL: case PUBCOMP: return ack(r, version, type);
    case SUBSCRIBE: return subscribe(r, version);
    case SUBACK: return suback(r, version);
    case UNSUBSCRIBE: return unsubscribe(r, version);
    case UNSUBACK: return unsuback(r, version);
    case PINGREQ: return { type: PINGREQ };
    case PINGRESP: return { type: PINGRESP };
    case DISCONNECT: return reasonPacket(r, version, DISCONNECT);
    default:
      if (version !== 5) throw new RangeError("AUTH exists only in MQTT 5");
      return reasonPacket(r, version, AUTH);
  }
}

/** A random valid, canonical packet of any type the version has; PUBLISH a third of the time. */
export function randomPacket(r: Rng, version: ProtocolVersion, options: GenOptions = {}): Packet {
  const type = r.chance(0.33) ? PUBLISH : r.pick(packetTypes(version));
  return randomPacketOfType(r, type, version, options);
}
