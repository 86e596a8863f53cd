/**
 * `-D command identifier value` (and `-D command user-property key value`): MQTT 5 properties as
 * mosquitto_pub and mosquitto_sub take them, with mosquitto's property names, its rules for which command
 * takes which property, and its error texts, word for word, so a script sees the same failures.
 */
import { PROPERTY_SPECS, type Properties, type PropertyName } from "../../src/codec/index.js";

/** The commands whose properties the tools send. */
export type PropertyCommand = "connect" | "publish" | "subscribe" | "unsubscribe" | "disconnect" | "will";

export type CommandProperties = Partial<Record<PropertyCommand, Properties>>;

/**
 * mosquitto's -D errors. `text` is what is printed before the pointer to --help (mosquitto's own blank
 * lines included); `quietable`: --quiet silences it, as it does mosquitto's.
 */
export class PropertyError extends Error {
  constructor(readonly text: string, readonly quietable = false) {
    super(text.trim());
  }
}

/** Every command mosquitto's parser knows; only those above carry properties, the others are refused. */
const COMMANDS = ["connect", "connack", "publish", "puback", "pubrec", "pubrel", "pubcomp", "subscribe", "unsubscribe", "disconnect", "auth", "will"];

/** Wire types, as src/codec/properties.ts numbers them. */
const BYTE = 1, U16 = 2, U32 = 3, VARINT = 4, STRING = 5, BINARY = 6, PAIR = 7;

/** mosquitto's names are the spec's in kebab case, but for these two. */
const NAMES = new Map<string, { name: PropertyName; type: number }>(PROPERTY_SPECS.map((s) => [
  s.name === "userProperties" ? "user-property" : s.name === "subscriptionIdentifiersAvailable" ? "subscription-identifier-available"
    : s.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), { name: s.name, type: s.type }]));

/**
 * Which command may carry which property, by mosquitto's rules (libmosquitto's property check): the spec's,
 * but for the Reason String, which mosquitto lets every command carry except connect, publish, subscribe
 * and unsubscribe.
 */
function allowed(command: string, name: PropertyName): boolean {
  switch (name) {
    case "payloadFormatIndicator": case "messageExpiryInterval": case "contentType": case "responseTopic": case "correlationData":
      return command === "publish" || command === "will";
    case "subscriptionIdentifier": return command === "publish" || command === "subscribe";
    case "sessionExpiryInterval": return command === "connect" || command === "connack" || command === "disconnect";
    case "authenticationMethod": case "authenticationData": return command === "connect" || command === "connack" || command === "auth";
    case "willDelayInterval": return command === "will";
    case "requestProblemInformation": case "requestResponseInformation": return command === "connect";
    case "serverReference": return command === "connack" || command === "disconnect";
    case "reasonString": return !["connect", "publish", "subscribe", "unsubscribe"].includes(command);
    case "receiveMaximum": case "topicAliasMaximum": case "maximumPacketSize": return command === "connect" || command === "connack";
    case "topicAlias": return command === "publish";
    case "userProperties": return true;
    default: return command === "connack";
  }
}

/** C's atol: leading blanks, a sign, digits; whatever follows is ignored, and no digits read as 0. */
function atol(value: string): number {
  const m = /^\s*([+-]?\d+)/.exec(value);
  return m === null ? 0 : Number(m[1]);
}

const notEnough = (): PropertyError => new PropertyError("Error: --property argument given but not enough arguments specified.\n\n");

/** The parsed -D flags, in the order given (mosquitto checks them in that order). */
export interface PropertyFlag {
  command: PropertyCommand;
  name: PropertyName;
  value: number | string | Uint8Array | [string, string];
}

/**
 * Reads one -D at args[at] (the command); returns it and how many arguments it took. Throws mosquitto's
 * error for a flag it would refuse.
 */
export function readPropertyFlag(args: readonly string[], at: number): { flag: PropertyFlag | undefined; taken: number } {
  if (at + 2 >= args.length) throw notEnough();
  const commandName = args[at]!;
  const propertyName = args[at + 1]!;
  const command = commandName.toLowerCase();
  if (!COMMANDS.includes(command)) throw new PropertyError("Error: Invalid command given in --property argument.\n\n");
  const property = NAMES.get(propertyName.toLowerCase());
  if (property === undefined) throw new PropertyError("Error: Invalid property name given in --property argument.\n\n");
  if (!allowed(command, property.name)) throw new PropertyError(`Error: ${propertyName} property not allowed for ${commandName} in --property argument.\n\n`);
  const pair = property.type === PAIR;
  if (pair && at + 3 >= args.length) throw notEnough();
  const taken = pair ? 4 : 3;
  const notSupported = (): PropertyError => new PropertyError(`Error: ${propertyName} property not supported for ${commandName} in --property argument.\n\n`);
  switch (command) {
    case "publish":
      if (property.name === "subscriptionIdentifier") throw notSupported();
      break;
    case "subscribe":
      if (property.name !== "subscriptionIdentifier" && property.name !== "userProperties") throw notSupported();
      break;
    case "connect": case "unsubscribe": case "disconnect": case "will":
      break;
    // mosquitto refuses connack without a word.
    case "connack": throw new PropertyError("");
    default: throw notSupported();
  }
  const text = args[at + 2]!;
  let value: PropertyFlag["value"];
  switch (property.type) {
    case BYTE: case U16: case U32: case VARINT: {
      const n = atol(text);
      const max = property.type === BYTE ? 0xff : property.type === U16 ? 0xffff : 0xffffffff;
      if (n < 0 || n > max) throw new PropertyError(`Error: Property value (${n}) out of range for property ${propertyName}.\n\n`);
      value = n;
      break;
    }
    case BINARY: {
      const bytes = Buffer.from(text, "utf8");
      if (bytes.length > 0xffff) throw new PropertyError(`Error: Property value too long for property ${propertyName}.\n\n`);
      value = new Uint8Array(bytes);
      break;
    }
    case PAIR: value = [text, args[at + 3]!]; break;
    default: value = text;
  }
  return { flag: { command: command as PropertyCommand, name: property.name, value }, taken };
}

const FLAGS_0_1: readonly PropertyName[] = ["requestProblemInformation", "requestResponseInformation", "maximumQos", "retainAvailable",
  "wildcardSubscriptionAvailable", "subscriptionIdentifiersAvailable", "sharedSubscriptionAvailable"];
const LIST_NAMES: ReadonlyArray<[PropertyCommand, string]> = [["connect", "CONNECT"], ["publish", "PUBLISH"], ["subscribe", "SUBSCRIBE"],
  ["unsubscribe", "UNSUBSCRIBE"], ["disconnect", "DISCONNECT"], ["will", "Will"]];
const PROTOCOL_ERROR = "A network protocol error occurred when communicating with the broker.";

/**
 * The flags' properties per command, after mosquitto's last checks on each list (in its order): values a
 * property cannot take, and a property given twice (only user properties repeat).
 */
export function propertiesOf(flags: readonly PropertyFlag[]): CommandProperties {
  const out: CommandProperties = {};
  for (const [command, label] of LIST_NAMES) {
    const list = flags.filter((f) => f.command === command);
    if (list.length === 0) continue;
    const props: Properties = {};
    for (let i = 0; i < list.length; i++) {
      const { name, value } = list[i]!;
      const n = typeof value === "number" ? value : -1;
      const invalid = (FLAGS_0_1.includes(name) && n > 1) || (name === "maximumPacketSize" && n === 0) || ((name === "receiveMaximum" || name === "topicAlias") && n === 0);
      const problem = invalid ? PROTOCOL_ERROR : name !== "userProperties" && list.slice(i + 1).some((f) => f.name === name) ? "Duplicate property in property list" : undefined;
      if (problem !== undefined) throw new PropertyError(`Error in ${label} properties: ${problem}\n`, true);
      if (name === "userProperties") (props.userProperties ??= []).push(value as [string, string]);
      else (props as Record<string, unknown>)[name] = value;
    }
    out[command] = props;
  }
  return out;
}
