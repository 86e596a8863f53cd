/**
 * The CONNECT a Paho client sends: its settings and connect()'s arguments, and on MQTT 5 the limits of
 * the client's budget advertised as properties, so that a conforming broker never sends more than the
 * client holds (section 3.1.2.11).
 */
import { MQTTv5, type ProtocolVersion } from "../codec/constants.js";
import type { ConnectPacket, Will } from "../codec/packet-types.js";
import type { Properties } from "../codec/properties.js";
import type { Budget } from "../engine/budget.js";
import type { ConnectArgs } from "./arguments.js";
import type { Authenticator } from "./client-types.js";

/** What the client's options and option functions set, as CONNECT carries it. */
export interface ConnectSettings {
  clientId: string;
  cleanSession: boolean;
  username: string | undefined;
  password: Uint8Array | undefined;
  will: Will | undefined;
  authenticator: Authenticator | undefined;
}

/** `warn`: told when connect()'s properties ask for more than the budget holds (the budget's limit is sent). */
export function connectPacket(protocol: ProtocolVersion, s: ConnectSettings, args: ConnectArgs, budget: Budget, warn: (message: string) => void): ConnectPacket {
  const packet: ConnectPacket = {
    type: 1, protocolVersion: protocol, clientId: s.clientId,
    cleanStart: protocol === MQTTv5 ? args.cleanStart ?? s.cleanSession : s.cleanSession,
    keepAlive: args.keepalive, username: s.username, password: s.password, will: s.will,
  };
  if (protocol === MQTTv5) packet.properties = connectProperties(s.authenticator, args.properties ?? {}, budget, warn);
  return packet;
}

function connectProperties(auth: Authenticator | undefined, asked: Properties, budget: Budget, warn: (message: string) => void): Properties {
  const own: Properties = { receiveMaximum: budget.maxIncomingQos2, maximumPacketSize: budget.maxPacketSize };
  if (budget.maxTopicAliases > 0) own.topicAliasMaximum = budget.maxTopicAliases;
  if (auth !== undefined) {
    own.authenticationMethod = auth.method;
    const data = auth.initialData?.();
    if (data !== undefined) own.authenticationData = data;
  }
  // The user may ask for less than the budget holds, never for more.
  const properties = { ...own, ...asked };
  for (const key of ["receiveMaximum", "maximumPacketSize", "topicAliasMaximum"] as const) {
    const limit = own[key] ?? 0;
    if (asked[key] !== undefined && asked[key]! > limit) {
      warn(`connect property ${key} ${asked[key]} is more than the budget holds: ${limit} advertised`);
      properties[key] = limit;
    }
  }
  return properties;
}

/** The debug line Paho logs for a CONNECT. */
export function describeConnect(p: ConnectPacket): string {
  return `Sending CONNECT (u${p.username === undefined ? 0 : 1}, p${p.password === undefined ? 0 : 1}, wr${p.will?.retain ? 1 : 0}, ` +
    `wq${p.will?.qos ?? 0}, wf${p.will ? 1 : 0}, c${p.cleanStart ? 1 : 0}, k${p.keepAlive}) client_id=${p.clientId}`;
}
