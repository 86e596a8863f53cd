/**
 * Payload conversion both facades share: text as UTF-8 bytes, and a view of any ArrayBuffer or view as
 * bytes without a copy. Which types each API takes, and what a number means, stay with the facade.
 */
import { utf8Length, writeUtf8 } from "../codec/utf8.js";

/** No bytes: one shared empty array (a typed array costs some 180 bytes of heap, even an empty one). */
export const NO_BYTES = new Uint8Array(0);

/** `text` as UTF-8; `what` names it in the error for a lone UTF-16 surrogate, which has no UTF-8 form. */
export function utf8Bytes(text: string, what: string): Uint8Array {
  const n = utf8Length(text);
  if (n < 0) throw new RangeError(`${what} contains a lone UTF-16 surrogate`);
  const bytes = new Uint8Array(n);
  writeUtf8(text, bytes, 0);
  return bytes;
}

/** The bytes of an ArrayBuffer or of any view of one, shared, not copied; undefined for anything else. */
export function viewBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}
