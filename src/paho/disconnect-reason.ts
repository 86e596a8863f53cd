/**
 * The reason code onDisconnect reports, Paho's way, from how the connection ended: the reason a packet
 * gave (the broker's DISCONNECT or CONNACK, or the DISCONNECT we sent), else one Paho picks for what
 * happened (0x8D for a keepalive timeout, 0x80 for any other failure, 0x00 for disconnect()).
 */
import type { ClosedEvent } from "../engine/engine.js";
import { MQTT_ERR_KEEPALIVE, MQTT_ERR_SUCCESS } from "./constants.js";

const NORMAL_DISCONNECTION = 0x00;
const UNSPECIFIED_ERROR = 0x80;
const KEEP_ALIVE_TIMEOUT = 0x8d;

/**
 * `closed`: why the engine ended the connection, undefined when the link just went; `normal`: disconnect()
 * ended it; `refused`: a CONNACK refused it (its reason code stands).
 */
export function disconnectReasonCode(closed: ClosedEvent | undefined, normal: boolean, refused: boolean): number {
  if (closed === undefined) return normal ? NORMAL_DISCONNECTION : UNSPECIFIED_ERROR;
  const rc = closed.rc;
  if (rc === MQTT_ERR_KEEPALIVE) return KEEP_ALIVE_TIMEOUT;
  if (rc === MQTT_ERR_SUCCESS || closed.fromServer || refused) return closed.reasonCode;
  return closed.reasonCode === 0 ? UNSPECIFIED_ERROR : closed.reasonCode;
}
