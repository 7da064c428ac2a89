/**
 * Standard, padded base64 for the wire codec's `bytes` tag. Decoding is strict: only the
 * canonical encoding of some bytes is accepted (no whitespace, no missing padding, no
 * non-zero bits in a short final quantum), so a corrupted payload is an error, never
 * plausible-looking short bytes.
 *
 * @module
 */

interface NativeBase64 {
  fromBase64?: (text: string, options: { lastChunkHandling: "strict" }) => Uint8Array;
}

interface NativeBytes {
  toBase64?: () => string;
}

const native = Uint8Array as unknown as NativeBase64;
const hasToBase64 = typeof (Uint8Array.prototype as NativeBytes).toBase64 === "function";
const SHAPE = /^[A-Za-z0-9+/]*={0,2}$/;
const CHUNK = 0x8000;

/** Encodes `bytes` as standard padded base64. */
export function bytesToBase64(bytes: Uint8Array): string {
  if (hasToBase64) return (bytes as NativeBytes).toBase64!();
  let binary = "";
  for (let start = 0; start < bytes.length; start += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(start, start + CHUNK));
  }
  return btoa(binary);
}

/** Decodes canonical base64 into fresh bytes, or returns `undefined` when `text` is not. */
export function base64ToBytes(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0 || !SHAPE.test(text)) return undefined;
  if (native.fromBase64) {
    try {
      return native.fromBase64(text, { lastChunkHandling: "strict" });
    } catch {
      return undefined;
    }
  }
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  // Reject non-zero trailing bits: only the canonical spelling of these bytes is accepted.
  return bytesToBase64(bytes) === text ? bytes : undefined;
}
