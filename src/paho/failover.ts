/**
 * failoverSet()'s part: the brokers of a cluster a client moves on to when a connection attempt fails.
 * Handed to the Paho client as an optional part (./features.ts), so a build without failover (the
 * Moddable profile tinymqtt/mqtt311) does not load it.
 */
import { checkPort } from "./arguments.js";

/** failoverSet()'s brokers, checked, with Paho's default port. */
export function failoverServers(servers: Array<{ host: string; port?: number }>): ReadonlyArray<{ host: string; port: number }> {
  if (!Array.isArray(servers)) throw new TypeError("failoverSet takes a list of { host, port }");
  return servers.map(({ host, port = 1883 }) => {
    if (typeof host !== "string" || host === "") throw new RangeError("every failover server needs a host");
    checkPort(port, "failover port");
    return { host, port };
  });
}
