// The module an application imports as "tinymqtt/session-partition" on a device (manifests/moddable.json, every
// platform but lin): the flash partition FlashStore keeps the session in. The app's partition table names it.
// Bare specifiers only, as in tinymqtt.ts beside it.
import Flash from "flash";
import type { FlashLike } from "tinymqtt/hosts/moddable/flash-store";

/** The flash partition `name`, as Moddable's Flash opens it. */
export function sessionPartition(name: string): FlashLike {
  return new Flash(name) as FlashLike;
}
