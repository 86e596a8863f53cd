/**
 * MQTT 5 enhanced authentication (section 4.12), the engine's side: which AUTH the broker may send, and the
 * AUTH we send. Part of the engine's MQTT 5 part (./mqtt5.ts), so that a 3.1.1-only build (the Moddable
 * profile tinymqtt/mqtt311) carries none of it: there the decoder refuses AUTH before the engine sees one.
 */
import { AUTH } from "../codec/constants.js";
import type { AuthPacket } from "../codec/packet-types.js";
import type { Properties } from "../codec/properties.js";

/** Our AUTH: the answer to a challenge, or a re-authentication (section 3.15.2.1). */
export const CONTINUE_AUTHENTICATION = 0x18;
export const REAUTHENTICATE = 0x19;

export interface EnhancedAuth {
  /**
   * What makes the broker's AUTH a Protocol Error, or undefined when it may send it now. `method`: the
   * Authentication Method of this connection's CONNECT; `connected`: its CONNACK came.
   */
  problem(method: string | undefined, reasonCode: number, properties: Properties | undefined, connected: boolean): string | undefined;
  /** Our AUTH with the connection's method and `data` (none when undefined). */
  packet(method: string, reasonCode: typeof CONTINUE_AUTHENTICATION | typeof REAUTHENTICATE, data: Uint8Array | undefined): AuthPacket;
}

export const ENHANCED_AUTH: EnhancedAuth = Object.freeze({
  problem(method: string | undefined, reasonCode: number, properties: Properties | undefined, connected: boolean): string | undefined {
    if (method === undefined) return "AUTH without an authentication method in CONNECT [MQTT-4.12.0-1]";
    if (properties?.authenticationMethod !== method) return "AUTH names another authentication method than CONNECT [MQTT-4.12.0-5]";
    // 0x19 is the client's to send; 0x00 ends a re-authentication, so it comes only once connected.
    if (reasonCode === REAUTHENTICATE || (reasonCode === 0 && !connected)) return `AUTH with reason 0x${reasonCode.toString(16)} is not the broker's to send now`;
    return undefined;
  },
  packet(method: string, reasonCode: typeof CONTINUE_AUTHENTICATION | typeof REAUTHENTICATE, data: Uint8Array | undefined): AuthPacket {
    const properties: Properties = { authenticationMethod: method };
    if (data !== undefined) properties.authenticationData = data;
    return { type: AUTH, reasonCode, properties };
  },
});
