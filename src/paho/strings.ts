/**
 * Human-readable texts for result and reason codes: Paho's `connack_string` and `error_string`, and names
 * for every MQTT 5 reason code (spec table 2.6). Platform-neutral: no host APIs.
 */

const CONNACK_STRINGS: readonly string[] = [
  "Connection Accepted.",
  "Connection Refused: unacceptable protocol version.",
  "Connection Refused: identifier rejected.",
  "Connection Refused: broker unavailable.",
  "Connection Refused: bad user name or password.",
  "Connection Refused: not authorised.",
];

/**
 * The text for what onConnect reports, whatever the protocol: Paho's text for an MQTT 3.1/3.1.1 CONNACK
 * return code (0-5), and for an MQTT 5 CONNACK reason code (0x80 and up) its name after "Connection Refused:".
 */
export function connackString(code: number): string {
  const v3 = Number.isInteger(code) ? CONNACK_STRINGS[code] : undefined;
  if (v3 !== undefined) return v3;
  const v5 = code >= 0x80 ? REASON_CODE_NAMES.get(code) : undefined;
  return v5 !== undefined ? `Connection Refused: ${v5}.` : "Connection Refused: unknown reason.";
}

/** Indexed by MQTT_ERR_* (src/paho/constants.ts): MQTT_ERR_SUCCESS = 0 through MQTT_ERR_KEEPALIVE = 16. */
const ERROR_STRINGS: readonly string[] = [
  "No error.",
  "Out of memory.",
  "A network protocol error occurred when communicating with the broker.",
  "Invalid function arguments provided.",
  "The client is not currently connected.",
  "The connection was refused.",
  "Message not found (internal error).",
  "The connection was lost.",
  "A TLS error occurred.",
  "Payload too large.",
  "This feature is not supported.",
  "Authorisation failed.",
  "Access denied by ACL.",
  "Unknown error.",
  "Error defined by errno.",
  "Message queue full.",
  "Client or broker did not communicate in the keepalive interval.",
];

/** Paho's text for an MQTT_ERR_* result code. */
export function errorString(err: number): string {
  return (Number.isInteger(err) ? ERROR_STRINGS[err] : undefined) ?? "Unknown error.";
}

/**
 * MQTT 5 reason codes by value, with the spec's names (table 2.6) in sentence case. 0x00 depends on the
 * packet: see reasonCodeString.
 */
const REASON_CODE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x00, "Success"],
  [0x01, "Granted QoS 1"],
  [0x02, "Granted QoS 2"],
  [0x04, "Disconnect with will message"],
  [0x10, "No matching subscribers"],
  [0x11, "No subscription existed"],
  [0x18, "Continue authentication"],
  [0x19, "Re-authenticate"],
  [0x80, "Unspecified error"],
  [0x81, "Malformed packet"],
  [0x82, "Protocol error"],
  [0x83, "Implementation specific error"],
  [0x84, "Unsupported protocol version"],
  [0x85, "Client identifier not valid"],
  [0x86, "Bad user name or password"],
  [0x87, "Not authorized"],
  [0x88, "Server unavailable"],
  [0x89, "Server busy"],
  [0x8a, "Banned"],
  [0x8b, "Server shutting down"],
  [0x8c, "Bad authentication method"],
  [0x8d, "Keep alive timeout"],
  [0x8e, "Session taken over"],
  [0x8f, "Topic filter invalid"],
  [0x90, "Topic name invalid"],
  [0x91, "Packet identifier in use"],
  [0x92, "Packet identifier not found"],
  [0x93, "Receive maximum exceeded"],
  [0x94, "Topic alias invalid"],
  [0x95, "Packet too large"],
  [0x96, "Message rate too high"],
  [0x97, "Quota exceeded"],
  [0x98, "Administrative action"],
  [0x99, "Payload format invalid"],
  [0x9a, "Retain not supported"],
  [0x9b, "QoS not supported"],
  [0x9c, "Use another server"],
  [0x9d, "Server moved"],
  [0x9e, "Shared subscriptions not supported"],
  [0x9f, "Connection rate exceeded"],
  [0xa0, "Maximum connect time"],
  [0xa1, "Subscription identifiers not supported"],
  [0xa2, "Wildcard subscriptions not supported"],
]);

/** Packet types whose 0x00 has its own name (the values of CONNACK, SUBACK and DISCONNECT in src/codec). */
const CONNACK_TYPE = 2;
const SUBACK_TYPE = 9;
const DISCONNECT_TYPE = 14;

/**
 * Names any reason code a callback reports, whatever the protocol, so that one call serves them all.
 * Callbacks pass plain numbers, and 1-5 is also what onConnect reports for a refusing MQTT 3.x CONNACK:
 * 3 and 5 mean nothing else and are named as connackString names them, while 1, 2 and 4 (also Granted
 * QoS 1 and 2, and Disconnect with will message) are given both meanings. The packet type (CONNACK = 2
 * ... AUTH = 15, as in src/codec) picks one where it matters: 0x00 is "Normal disconnection" in a
 * DISCONNECT and "Granted QoS 0" in a SUBACK, and 1-5 in a CONNACK (which no MQTT 5 CONNACK may carry)
 * is a 3.x return code. Codes neither protocol defines come back as "Unknown reason code 0x..".
 */
export function reasonCodeString(code: number, packetType?: number): string {
  if (code === 0x00) {
    if (packetType === DISCONNECT_TYPE) return "Normal disconnection";
    if (packetType === SUBACK_TYPE) return "Granted QoS 0";
  }
  const connackV3 = code >= 1 && code <= 5 && Number.isInteger(code);
  if (connackV3 && packetType === CONNACK_TYPE) return connackString(code);
  const name = REASON_CODE_NAMES.get(code);
  if (connackV3 && packetType === undefined) {
    return name === undefined ? connackString(code) : `${name}; in an MQTT 3.x CONNACK: ${connackString(code)}`;
  }
  if (name !== undefined) return name;
  const hex = Number.isInteger(code) && code >= 0 ? `0x${code.toString(16).padStart(2, "0")}` : String(code);
  return `Unknown reason code ${hex}`;
}
