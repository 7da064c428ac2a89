/**
 * Request bodies read under a byte cap, for declared and streamed lengths alike.
 *
 * @module
 */
import { PlaneError } from "./errors.ts";

/** The default `maxBodyBytes`: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1_048_576;

/** The 413 every over-cap body gets. */
export function payloadTooLarge(): PlaneError {
  return new PlaneError(413, "PAYLOAD_TOO_LARGE", "Request body is too large");
}

/** Whether the request declares a `Content-Length` above `max`. */
export function declaresTooLarge(request: Request, max: number): boolean {
  const declared = request.headers.get("content-length");
  if (declared === null) return false;
  const length = Number(declared);
  return !Number.isFinite(length) || length > max;
}

/**
 * Reads the whole body as text, stopping with a 413 `PlaneError` as soon as more than `max`
 * bytes have arrived (whatever `Content-Length` claimed). The stream is cancelled at that point.
 */
export async function readTextCapped(request: Request, max: number): Promise<string> {
  if (declaresTooLarge(request, max)) throw payloadTooLarge();
  if (request.body === null) return "";
  // The runtime holds a body to its declared length, so a declared length within the cap
  // can be read in one go; only bodies without a length are counted while they stream.
  if (request.headers.has("content-length")) return await request.text();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw payloadTooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder("utf-8", { fatal: false }).decode(bytes);
}
