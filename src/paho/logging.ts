/**
 * Where a Paho client's log lines go besides onLog: a console-like Logger (enableLogger), each MQTT_LOG_*
 * level to the logger method Paho maps it to.
 */
import type { Logger } from "./client-types.js";
import { MQTT_LOG_DEBUG, MQTT_LOG_INFO, MQTT_LOG_NOTICE, MQTT_LOG_WARNING } from "./constants.js";

/** The logger enableLogger() uses when given none: the host's console. */
export function defaultLogger(): Logger {
  const c = (globalThis as { console?: Logger }).console;
  if (c === undefined) throw new Error("enableLogger() needs a logger on a host without console");
  return c;
}

/** Writes one line at `level`; a logger that throws is ignored (it has nowhere else to report to). */
export function writeLog(logger: Logger, level: number, message: string): void {
  try {
    if (level === MQTT_LOG_DEBUG) logger.debug(message);
    else if (level === MQTT_LOG_INFO || level === MQTT_LOG_NOTICE) logger.info(message);
    else if (level === MQTT_LOG_WARNING) logger.warn(message);
    else logger.error(message);
  } catch {
    // A failing logger must not take the client down.
  }
}
