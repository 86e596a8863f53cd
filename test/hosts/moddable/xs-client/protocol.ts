// The bridge between the Node driver (test/hosts/moddable/xs-client/driver.ts) and the client running inside XS
// (test/hosts/moddable/xs-client/app.ts): opcodes and frame layouts, shared by both sides. No Node or XS imports.
//
// Node -> XS, through handleCommand(ArrayBuffer): [u8 op][f64 now][body]. `now` is the driver's
// performance.now(): the only clock XS sees, so the driver drives time.
//   TICK      ()                      a wake-up the XS side asked for (UP_TIMER) is due
//   OPENED    [u32 link]              the TCP connection is up
//   DATA      [u32 link][bytes]       bytes received from the broker
//   CLOSED    [u32 link][u8 rc][utf8] the connection is gone; rc 0 = closed, else an MQTT_ERR_* code
//   WRITABLE  [u32 link]              the socket drained after UP_WRITE took less than offered
//   CALL      [utf8 JSON {fn, args}]  a remote call into the app; the reply is its JSON result
//   GC        ()                      gc(); the reply's meter then counts live slots only
//
// XS -> Node, through issueCommand(ArrayBuffer): [u8 op][body]; Node answers at once.
//   UP_OPEN    [u16 port][utf8 host]  -> [u32 link]
//   UP_WRITE   [u32 link][bytes]      -> [u32 taken]
//   UP_CLOSE   [u32 link]             end after what was written
//   UP_DESTROY [u32 link]             drop now
//   UP_TIMER   [f64 at]               wake XS with TICK at `at` (replaces the previous wake-up)
//   UP_EVENT   [utf8 JSON]            a callback the tests record
export const TICK = 1;
export const OPENED = 2;
export const DATA = 3;
export const CLOSED = 4;
export const WRITABLE = 5;
export const CALL = 6;
export const GC = 7;

export const UP_OPEN = 1;
export const UP_WRITE = 2;
export const UP_CLOSE = 3;
export const UP_DESTROY = 4;
export const UP_TIMER = 5;
export const UP_EVENT = 6;

/** Bytes before the body of a Node -> XS frame: op and now. */
export const HEADER = 9;

/** The JSON shape of a Uint8Array crossing the bridge inside call arguments and events. */
export interface Bytes {
  $hex: string;
}

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += (bytes[i]! < 16 ? "0" : "") + bytes[i]!.toString(16);
  return s;
}

export function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.substr(i * 2, 2), 16);
  return bytes;
}

/** Replaces every Uint8Array inside value with { $hex } (for JSON.stringify). */
export function encodeBytes(value: unknown): unknown {
  if (value instanceof Uint8Array) return { $hex: toHex(value) };
  if (Array.isArray(value)) return value.map(encodeBytes);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) out[key] = encodeBytes((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/** The inverse of encodeBytes (for values out of JSON.parse). */
export function decodeBytes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeBytes);
  if (typeof value === "object" && value !== null) {
    const hex = (value as Partial<Bytes>).$hex;
    if (typeof hex === "string") return fromHex(hex);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) out[key] = decodeBytes((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}
