/**
 * The codec's one error type. Every way a byte stream can be wrong ends here, carrying the MQTT 5 reason
 * code a v5 peer would put in its DISCONNECT, so the engine can close the link with the right reason
 * without knowing which parser failed.
 */

/** 0x81: the bytes do not follow the packet grammar. */
export const MALFORMED_PACKET = 0x81;
/** 0x82: well-formed bytes that break a protocol rule (a packet id of 0, a repeated property...). */
export const PROTOCOL_ERROR = 0x82;
/** 0x84: a CONNECT asking for a protocol name or level this codec does not speak. */
export const UNSUPPORTED_PROTOCOL_VERSION = 0x84;
/** 0x95: a packet larger than the receive buffer (our advertised Maximum Packet Size). */
export const PACKET_TOO_LARGE = 0x95;

export class MqttProtocolError extends Error {
  readonly reasonCode: number;
  constructor(reasonCode: number, message: string) {
    super(message);
    // Defined, not assigned: Moddable freezes Error.prototype, where assigning `name` throws.
    Object.defineProperty(this, "name", { value: "MqttProtocolError", configurable: true, writable: true });
    this.reasonCode = reasonCode;
  }
}

export function malformed(message: string): MqttProtocolError {
  return new MqttProtocolError(MALFORMED_PACKET, message);
}

export function protocolError(message: string): MqttProtocolError {
  return new MqttProtocolError(PROTOCOL_ERROR, message);
}
