/**
 * MQTT 5 enhanced authentication (section 4.12), the Paho client's side: what authenticatorSet() checks,
 * and the answer to the broker's AUTH. An optional part (./features.ts): the public Client
 * (./full-client.ts) has it; the 3.1.1-only Moddable profile tinymqtt/mqtt311 never loads it.
 */
import type { AuthEvent } from "../engine/engine.js";
import type { Properties } from "../codec/properties.js";
import type { Authenticator } from "./client-types.js";
import { MQTT_LOG_INFO } from "./constants.js";
import type { EventLoop } from "./event-loop.js";

export interface PahoEnhancedAuth {
  /** Throws what is wrong with an authenticator (the protocol is the caller's check). */
  check(authenticator: Authenticator): void;
  /** The broker's challenge answered (AUTH 0x18), or a re-authentication's success reported. */
  answer(loop: EventLoop, authenticator: Authenticator, e: AuthEvent, props: Properties): void;
}

export const PAHO_ENHANCED_AUTH: PahoEnhancedAuth = Object.freeze({
  check(authenticator: Authenticator): void {
    if (typeof authenticator.method !== "string" || authenticator.method === "") throw new TypeError("an authenticator needs a method name");
    if (typeof authenticator.challenge !== "function") throw new TypeError("an authenticator needs a challenge() function");
  },
  answer(loop: EventLoop, authenticator: Authenticator, e: AuthEvent, props: Properties): void {
    if (e.reasonCode === 0) {
      loop.log(MQTT_LOG_INFO, "Re-authentication succeeded");
      loop.call("authenticator.done", () => authenticator.done?.(props));
      return;
    }
    let response: Uint8Array | undefined;
    loop.call("authenticator.challenge", () => {
      response = authenticator.challenge(e.properties?.authenticationData?.slice(), props);
    });
    loop.engine.sendAuth(0x18, response, loop.now);
  },
});
