/**
 * MQTT 5 properties (section 2.2.2.2), table-driven: each identifier has a name (the spec's name in
 * camelCase, as shared/API.md lists them), a wire type, the packets it may appear in, and whether it may
 * repeat. Decoding happens in two steps so the hot path allocates nothing: scanProperties validates a
 * property block where it lies and notes the few values the engine needs (Topic Alias), and
 * readProperties turns the block into a plain object only when someone asks for it.
 */
import { AUTH, CONNACK, CONNECT, DISCONNECT, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE } from "./constants.js";
import { Cursor } from "./cursor.js";
import { malformed, protocolError } from "./errors.js";
import { topicNameSyntaxProblem } from "./topics.js";
import { type PropertyScanner, type PropertyWriter, WILL_PROPERTIES } from "./property-codec.js";
import { StringFieldCache, stringFieldLength, varintLength, writeBinary, writeMeasuredString, writeU16, writeU32, writeVarint } from "./write.js";

export interface Properties {
  payloadFormatIndicator?: number;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Uint8Array;
  /** One number; on a received PUBLISH that matched several subscriptions, a number[]. */
  subscriptionIdentifier?: number | number[];
  sessionExpiryInterval?: number;
  assignedClientIdentifier?: string;
  serverKeepAlive?: number;
  authenticationMethod?: string;
  authenticationData?: Uint8Array;
  requestProblemInformation?: number;
  willDelayInterval?: number;
  requestResponseInformation?: number;
  responseInformation?: string;
  serverReference?: string;
  reasonString?: string;
  receiveMaximum?: number;
  topicAliasMaximum?: number;
  topicAlias?: number;
  maximumQos?: number;
  retainAvailable?: number;
  /** Key/value pairs in wire order; repeats kept, as the spec allows. */
  userProperties?: Array<[string, string]>;
  maximumPacketSize?: number;
  wildcardSubscriptionAvailable?: number;
  subscriptionIdentifiersAvailable?: number;
  sharedSubscriptionAvailable?: number;
}

export type PropertyName = keyof Properties;

const BYTE = 1, U16 = 2, U32 = 3, VARINT = 4, STRING = 5, BINARY = 6, PAIR = 7;

export { WILL_PROPERTIES, propertyBlockLength } from "./property-codec.js";

const k = (...types: number[]): number => types.reduce((mask, t) => mask | (1 << t), 0);
const ACKS = k(PUBACK, PUBREC, PUBREL, PUBCOMP);
const ALL = k(CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK,
  DISCONNECT, AUTH, WILL_PROPERTIES);

interface PropertySpec {
  id: number;
  name: PropertyName;
  type: number;
  kinds: number;
  /** Byte properties are all 0/1 flags; these bound the others' valid values. */
  min: number;
  max: number;
}

// The specs and both indexes are frozen, so that a Moddable build keeps them in flash rather than RAM.
const spec = (id: number, name: PropertyName, type: number, kinds: number, min = 0, max = 0xffffffff): PropertySpec =>
  Object.freeze({ id, name, type, kinds, min, max: type === BYTE ? 1 : type === U16 ? 0xffff : type === VARINT ? 268435455 : max });

/** In identifier order, which is also the order the encoder writes them. */
export const PROPERTY_SPECS: readonly PropertySpec[] = Object.freeze([
  spec(0x01, "payloadFormatIndicator", BYTE, k(PUBLISH, WILL_PROPERTIES)),
  spec(0x02, "messageExpiryInterval", U32, k(PUBLISH, WILL_PROPERTIES)),
  spec(0x03, "contentType", STRING, k(PUBLISH, WILL_PROPERTIES)),
  spec(0x08, "responseTopic", STRING, k(PUBLISH, WILL_PROPERTIES)),
  spec(0x09, "correlationData", BINARY, k(PUBLISH, WILL_PROPERTIES)),
  spec(0x0b, "subscriptionIdentifier", VARINT, k(PUBLISH, SUBSCRIBE), 1),
  spec(0x11, "sessionExpiryInterval", U32, k(CONNECT, CONNACK, DISCONNECT)),
  spec(0x12, "assignedClientIdentifier", STRING, k(CONNACK)),
  spec(0x13, "serverKeepAlive", U16, k(CONNACK)),
  spec(0x15, "authenticationMethod", STRING, k(CONNECT, CONNACK, AUTH)),
  spec(0x16, "authenticationData", BINARY, k(CONNECT, CONNACK, AUTH)),
  spec(0x17, "requestProblemInformation", BYTE, k(CONNECT)),
  spec(0x18, "willDelayInterval", U32, k(WILL_PROPERTIES)),
  spec(0x19, "requestResponseInformation", BYTE, k(CONNECT)),
  spec(0x1a, "responseInformation", STRING, k(CONNACK)),
  spec(0x1c, "serverReference", STRING, k(CONNACK, DISCONNECT)),
  spec(0x1f, "reasonString", STRING, k(CONNACK, SUBACK, UNSUBACK, DISCONNECT, AUTH) | ACKS),
  spec(0x21, "receiveMaximum", U16, k(CONNECT, CONNACK), 1),
  spec(0x22, "topicAliasMaximum", U16, k(CONNECT, CONNACK)),
  spec(0x23, "topicAlias", U16, k(PUBLISH), 1),
  spec(0x24, "maximumQos", BYTE, k(CONNACK)),
  spec(0x25, "retainAvailable", BYTE, k(CONNACK)),
  spec(0x26, "userProperties", PAIR, ALL),
  spec(0x27, "maximumPacketSize", U32, k(CONNECT, CONNACK), 1),
  spec(0x28, "wildcardSubscriptionAvailable", BYTE, k(CONNACK)),
  spec(0x29, "subscriptionIdentifiersAvailable", BYTE, k(CONNACK)),
  spec(0x2a, "sharedSubscriptionAvailable", BYTE, k(CONNACK)),
]);

const MAX_ID = 0x2a;
const BY_ID: Array<PropertySpec | undefined> = [];
const BY_NAME: Record<string, PropertySpec> = Object.create(null) as Record<string, PropertySpec>;
for (const s of PROPERTY_SPECS) {
  BY_ID[s.id] = s;
  BY_NAME[s.name] = s;
}
Object.freeze(BY_ID);
Object.freeze(BY_NAME);
const USER_PROPERTY = 0x26;
const SUBSCRIPTION_IDENTIFIER = 0x0b;
const TOPIC_ALIAS = 0x23;
/** The Response Topic is a Topic Name: no wildcards [MQTT-3.3.2-14]. */
const RESPONSE_TOPIC = 0x08;

const kindName = (kind: number): string => (kind === WILL_PROPERTIES ? "will properties" : `packet type ${kind}`);

/** What a property scan learned; the decoder owns one and reuses it. */
export class PropertyScan implements PropertyScanner {
  start = 0;
  end = 0;
  /** 0 when the block has no Topic Alias. */
  topicAlias = 0;

  /** scanProperties(), the decoder's way in. */
  scan(c: Cursor, kind: number): void {
    const scan = this;
    const length = c.varint("property length");
    if (length > c.remaining) throw malformed(`property length ${length} runs past the end of the packet`);
    const end = c.pos + length;
    scan.start = c.pos;
    scan.end = end;
    scan.topicAlias = 0;
    const outer = c.end;
    c.end = end;
    let seenLow = 0;
    let seenHigh = 0;
    while (c.pos < end) {
      const id = c.varint("property identifier");
      const s = id <= MAX_ID ? BY_ID[id] : undefined;
      if (s === undefined) throw malformed(`unknown property identifier 0x${id.toString(16)}`);
      if ((s.kinds & (1 << kind)) === 0) throw malformed(`property ${s.name} is not allowed in ${kindName(kind)}`);
      const bit = 1 << (id & 31);
      const seen = id < 32 ? seenLow & bit : seenHigh & bit;
      const repeatable = id === USER_PROPERTY || (id === SUBSCRIPTION_IDENTIFIER && kind === PUBLISH);
      if (seen !== 0 && !repeatable) throw protocolError(`property ${s.name} appears more than once`);
      if (id < 32) seenLow |= bit;
      else seenHigh |= bit;
      let value = 0;
      switch (s.type) {
        case BYTE: value = c.u8(s.name); break;
        case U16: value = c.u16(s.name); break;
        case U32: value = c.u32(s.name); break;
        case VARINT: value = c.varint(s.name); break;
        case STRING: {
          const from = c.pos + 2;
          c.skipUtf8(s.name);
          // UTF-8 never puts an ASCII byte inside a multi-byte character, so the bytes say it exactly.
          if (id === RESPONSE_TOPIC && hasWildcard(c.bytes, from, c.pos)) throw protocolError("the Response Topic contains a wildcard [MQTT-3.3.2-14]");
          continue;
        }
        case BINARY: c.skipBinary(s.name); continue;
        default: c.skipUtf8("user property name"); c.skipUtf8("user property value"); continue;
      }
      if (value < s.min || value > s.max) throw protocolError(`property ${s.name} has invalid value ${value}`);
      if (id === TOPIC_ALIAS) scan.topicAlias = value;
    }
    c.end = outer;
  }

  read(bytes: Uint8Array, start: number, end: number): Properties | undefined {
    return readProperties(bytes, start, end);
  }
}

/**
 * Validates the property block at the cursor (its length, then each property) without making objects:
 * unknown identifiers and properties not allowed in this packet are Malformed Packet; repeats and values
 * out of range are Protocol Errors. Leaves the cursor after the block.
 */
export function scanProperties(c: Cursor, kind: number, scan: PropertyScan): void {
  scan.scan(c, kind);
}

function hasWildcard(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] === 0x2b || bytes[i] === 0x23) return true;
  return false;
}

/** Builds the object for a block that scanProperties accepted; undefined for an empty block. */
export function readProperties(bytes: Uint8Array, start: number, end: number): Properties | undefined {
  if (start === end) return undefined;
  const c = new Cursor();
  c.reset(bytes, start, end);
  const props: Record<string, unknown> = {};
  while (c.pos < end) {
    const s = BY_ID[c.varint("property identifier")]!;
    switch (s.type) {
      case BYTE: props[s.name] = c.u8(s.name); break;
      case U16: props[s.name] = c.u16(s.name); break;
      case U32: props[s.name] = c.u32(s.name); break;
      case VARINT: {
        const v = c.varint(s.name);
        const prior = props[s.name];
        props[s.name] = prior === undefined ? v : Array.isArray(prior) ? (prior.push(v), prior) : [prior, v];
        break;
      }
      case STRING: props[s.name] = c.utf8(s.name); break;
      // Copied: a properties object outlives the receive buffer it was read from (message.copy()).
      case BINARY: props[s.name] = c.binary(s.name).slice(); break;
      default: {
        const pair: [string, string] = [c.utf8("user property name"), c.utf8("user property value")];
        const list = props[s.name] as Array<[string, string]> | undefined;
        if (list === undefined) props[s.name] = [pair];
        else list.push(pair);
      }
    }
  }
  return props as Properties;
}

function checkRange(s: PropertySpec, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < s.min || v > s.max) {
    throw new RangeError(`property ${s.name} must be an integer from ${s.min} to ${s.max}, got ${String(v)}`);
  }
  return v;
}

function asBytes(s: PropertySpec, v: unknown): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`property ${s.name} must be a Uint8Array`);
  if (v.length > 65535) throw new RangeError(`property ${s.name} is ${v.length} bytes; at most 65535`);
  return v;
}

/**
 * A property block as propertiesLength measured it: its length without the length prefix, and the
 * identifiers present as a bit set (id in low for ids below 32, id - 32 in high), so writeProperties
 * puts them in identifier order without a second walk over the object's keys.
 */
export class MeasuredProperties implements PropertyWriter {
  length = 0;
  low = 0;
  high = 0;
  /** The last string property measured: a content type or a reason string, sent again and again. */
  readonly string = new StringFieldCache();

  /** propertiesLength(), the encoder's way in. */
  measure(props: Properties | undefined, kind: number): number {
    const m = this;
    m.length = m.low = m.high = 0;
    if (props === undefined) return 0;
    let n = 0;
    let low = 0;
    let high = 0;
    // Only the properties present are visited (a packet carries a few of the 27): by name, in the
    // object's key order, noting each identifier for the write. (for-in allocates on XS; Object.keys()
    // allocates less there, but costs V8 three times as much and allocates there too.)
    for (const name in props) {
      const v = props[name as PropertyName];
      if (v === undefined) continue;
      const s = BY_NAME[name];
      if (s === undefined) throw new RangeError(`unknown property ${JSON.stringify(name)}`);
      if ((s.kinds & (1 << kind)) === 0) throw new RangeError(`property ${s.name} is not allowed in ${kindName(kind)}`);
      if (s.id < 32) low |= 1 << s.id;
      else high |= 1 << (s.id - 32);
      switch (s.type) {
        case BYTE: checkRange(s, v); n += 2; break;
        case U16: checkRange(s, v); n += 3; break;
        case U32: checkRange(s, v); n += 5; break;
        case VARINT: {
          const list = Array.isArray(v) ? v : [v];
          if (list.length > 1 && kind !== PUBLISH) throw new RangeError(`property ${s.name} may appear only once here`);
          for (const x of list) n += 1 + varintLength(checkRange(s, x));
          break;
        }
        case STRING:
          if (typeof v !== "string") throw new TypeError(`property ${s.name} must be a string`);
          if (s.id === RESPONSE_TOPIC && topicNameSyntaxProblem(v) !== undefined) throw new RangeError(`responseTopic: ${topicNameSyntaxProblem(v)!} [MQTT-3.3.2-14]`);
          if (v === m.string.value) n += 1 + m.string.field.length;
          else {
            const length = stringFieldLength(v, s.name);
            m.string.keep(v, length);
            n += 3 + length;
          }
          break;
        case BINARY: n += 3 + asBytes(s, v).length; break;
        default:
          if (!Array.isArray(v)) throw new TypeError("property userProperties must be an array of [key, value] pairs");
          for (const pair of v as unknown[]) {
            if (!Array.isArray(pair) || typeof pair[0] !== "string" || typeof pair[1] !== "string") {
              throw new TypeError("property userProperties must be an array of [key, value] string pairs");
            }
            n += 5 + stringFieldLength(pair[0], "user property name") + stringFieldLength(pair[1], "user property value");
          }
      }
    }
    m.length = n;
    m.low = low;
    m.high = high;
    return n;
  }

  /** writeProperties(), the encoder's way in. */
  write(out: Uint8Array, o: number, props: Properties | undefined): number {
    const m = this;
    o = writeVarint(out, o, m.length);
    if (props === undefined) return o;
    // Identifier order, whatever the object's key order: the set bits of m, lowest first.
    for (let word = 0; word < 2; word++) {
      let bits = word === 0 ? m.low : m.high;
      while (bits !== 0) {
        const bit = bits & -bits;
        bits ^= bit;
        const s = BY_ID[32 * word + 31 - Math.clz32(bit)]!;
        const v = props[s.name]!;
        switch (s.type) {
          case BYTE: out[o++] = s.id; out[o++] = v as number; break;
          case U16: out[o++] = s.id; o = writeU16(out, o, v as number); break;
          case U32: out[o++] = s.id; o = writeU32(out, o, v as number); break;
          case VARINT:
            for (const x of (Array.isArray(v) ? v : [v]) as number[]) {
              out[o++] = s.id;
              o = writeVarint(out, o, x);
            }
            break;
          case STRING: out[o++] = s.id; o = v === m.string.value ? m.string.write(out, o) : writeMeasuredString(out, o, v as string); break;
          case BINARY: out[o++] = s.id; o = writeBinary(out, o, v as Uint8Array); break;
          default:
            for (const [key, value] of v as Array<[string, string]>) {
              out[o++] = s.id;
              o = writeMeasuredString(out, o, key);
              o = writeMeasuredString(out, o, value);
            }
        }
      }
    }
    return o;
  }

  another(): MeasuredProperties {
    return new MeasuredProperties();
  }
}

/**
 * Measures the block into m and returns its length without the length prefix. Throws RangeError/TypeError
 * for a property this packet may not carry or a value it cannot hold, before a byte is written.
 */
export function propertiesLength(props: Properties | undefined, kind: number, m: MeasuredProperties): number {
  return m.measure(props, kind);
}


/** Writes the block propertiesLength measured into m (and validated) from the same object. */
export function writeProperties(out: Uint8Array, o: number, props: Properties | undefined, m: MeasuredProperties): number {
  return m.write(out, o, props);
}
