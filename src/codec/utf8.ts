/**
 * UTF-8 by hand. XS on a device may have no TextEncoder/TextDecoder, and MQTT needs more than they do:
 * a string is validated where it lies in the receive buffer (no copy, no string made) and only decoded
 * into a JS string when someone asks for it. MQTT strings are well-formed UTF-8 without U+0000
 * (section 1.5.4, [MQTT-1.5.4-1], [MQTT-1.5.4-2]).
 */

export const UTF8_OK = 0;
export const UTF8_INVALID = 1;
export const UTF8_NULL = 2;
/** From validateTopicName only: a + or # in a topic name [MQTT-3.3.2-2]. */
export const UTF8_WILDCARD = 3;

/** 1 for the bytes most MQTT strings are made of: ASCII except NUL. */
const ASCII = new Uint8Array(256);
ASCII.fill(1, 1, 0x80);
/** The same less + and #, for topic names. */
const PLAIN = ASCII.slice();
PLAIN[0x2b] = PLAIN[0x23] = 0;

/**
 * validateUtf8 plus the wildcard check, in one pass that takes plain ASCII four bytes at a time: the
 * PUBLISH topic is the one string every received message carries.
 */
export function validateTopicName(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  const last4 = end - 4;
  while (i <= last4 && (PLAIN[bytes[i]!]! & PLAIN[bytes[i + 1]!]! & PLAIN[bytes[i + 2]!]! & PLAIN[bytes[i + 3]!]!) === 1) i += 4;
  // One to three bytes left: the four that end the topic cover them, cheaper than a loop over them.
  if (i > last4 && i < end && last4 >= start &&
    (PLAIN[bytes[last4]!]! & PLAIN[bytes[last4 + 1]!]! & PLAIN[bytes[last4 + 2]!]! & PLAIN[bytes[last4 + 3]!]!) === 1) return UTF8_OK;
  while (i < end && PLAIN[bytes[i]!] === 1) i++;
  if (i === end) return UTF8_OK;
  for (let j = i; j < end; j++) {
    const b = bytes[j];
    if (b === 0x2b || b === 0x23) return UTF8_WILDCARD;
  }
  return validateUtf8(bytes, i, end);
}

/**
 * Checks bytes[start, end) in place; returns UTF8_OK, UTF8_INVALID or UTF8_NULL. Allocates nothing.
 * Plain ASCII goes four bytes at a time through a table (the last one to three bytes as the four that
 * end the string) up to the first other byte, NUL included; from there every sequence is decoded.
 */
export function validateUtf8(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  const last4 = end - 4;
  while (i <= last4 && (ASCII[bytes[i]!]! & ASCII[bytes[i + 1]!]! & ASCII[bytes[i + 2]!]! & ASCII[bytes[i + 3]!]!) === 1) i += 4;
  if (i > last4 && i < end && last4 >= start &&
    (ASCII[bytes[last4]!]! & ASCII[bytes[last4 + 1]!]! & ASCII[bytes[last4 + 2]!]! & ASCII[bytes[last4 + 3]!]!) === 1) return UTF8_OK;
  while (i < end) {
    const c = bytes[i]!;
    if (c < 0x80) {
      if (c === 0) return UTF8_NULL;
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let cp: number;
    if (c >= 0xc2 && c <= 0xdf) { need = 1; min = 0x80; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { need = 2; min = 0x800; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { need = 3; min = 0x10000; cp = c & 0x07; }
    else return UTF8_INVALID;
    if (i + need >= end) return UTF8_INVALID; // a sequence cut short by the end of the string
    for (let k = 1; k <= need; k++) {
      const cc = bytes[i + k]!;
      if ((cc & 0xc0) !== 0x80) return UTF8_INVALID;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return UTF8_INVALID;
    i += need + 1;
  }
  return UTF8_OK;
}

/** Decodes bytes[start, end), which validateUtf8 has accepted. */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  let s = "";
  let i = start;
  while (i < end) {
    const c = bytes[i]!;
    if (c < 0x80) {
      s += String.fromCharCode(c);
      i++;
    } else if (c < 0xe0) {
      s += String.fromCharCode(((c & 0x1f) << 6) | (bytes[i + 1]! & 0x3f));
      i += 2;
    } else if (c < 0xf0) {
      s += String.fromCharCode(((c & 0x0f) << 12) | ((bytes[i + 1]! & 0x3f) << 6) | (bytes[i + 2]! & 0x3f));
      i += 3;
    } else {
      const cp = (((c & 0x07) << 18) | ((bytes[i + 1]! & 0x3f) << 12) | ((bytes[i + 2]! & 0x3f) << 6) |
        (bytes[i + 3]! & 0x3f)) - 0x10000;
      s += String.fromCharCode(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
      i += 4;
    }
  }
  return s;
}

/**
 * Why `s` cannot be an MQTT string (section 1.5.3): a lone UTF-16 surrogate (no UTF-8 form), more than 65535
 * bytes of UTF-8, or U+0000 [MQTT-1.5.4-2]; undefined when it can. `what` names it in the text.
 */
export function stringProblem(s: string, what: string): string | undefined {
  const n = utf8Length(s);
  if (n < 0) return `the ${what} contains a lone UTF-16 surrogate`;
  if (n > 65535) return `the ${what} is ${n} bytes of UTF-8; at most 65535`;
  if (s.indexOf("\u0000") >= 0) return `the ${what} contains U+0000`;
  return undefined;
}

/** UTF-8 length of s, or -1 when s holds a lone surrogate (which has no UTF-8 form). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return -1;
      n += 4;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return -1;
    else n += 3;
  }
  return n;
}

/** Writes s (already measured by utf8Length) at out[offset]; returns the offset after it. */
export function writeUtf8(s: string, out: Uint8Array, offset: number): number {
  let o = offset;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[o++] = c;
    } else if (c < 0x800) {
      out[o++] = 0xc0 | (c >> 6);
      out[o++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdbff) {
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      out[o++] = 0xf0 | (c >> 18);
      out[o++] = 0x80 | ((c >> 12) & 0x3f);
      out[o++] = 0x80 | ((c >> 6) & 0x3f);
      out[o++] = 0x80 | (c & 0x3f);
    } else {
      out[o++] = 0xe0 | (c >> 12);
      out[o++] = 0x80 | ((c >> 6) & 0x3f);
      out[o++] = 0x80 | (c & 0x3f);
    }
  }
  return o;
}
