/**
 * The request half of a Lunora RPC, shared by the server client and the browser: the envelope
 * `{"args","functionPath"[,"shardKey"]}` with wire-encoded arguments, and the rules an
 * idempotency key (`x-lunora-mutation-id`) follows.
 *
 * @module
 */
import { encodeWire } from "./codec.ts";

/** A character a header value or a URL cannot carry as it is (outside space to `~`). */
export const UNSENDABLE: RegExp = /[^\x20-\x7e]/;
const KEY_CHARACTER = /[^\x21-\x7e]/;
const MAX_KEY_LENGTH = 255;

/** Where the first character matching `pattern` is, as `U+000A at index 3`. */
export function codePoint(text: string, pattern: RegExp = UNSENDABLE): string {
  const index = text.search(pattern);
  const hex = text.codePointAt(index)!.toString(16).toUpperCase().padStart(4, "0");
  return `U+${hex} at index ${index}`;
}

/**
 * Returns `id` when it can ride as a Lunora call id (`x-lunora-mutation-id`,
 * `x-lunora-client-id`): 1 to 255 characters from `!` to `~`. Otherwise throws a `TypeError`
 * that starts with `what`, names the option `name` and never quotes the id whole.
 */
export function checkCallId(what: string, name: string, id: unknown): string {
  const problem = typeof id !== "string"
    ? `got ${typeof id}`
    : id.length === 0 || id.length > MAX_KEY_LENGTH
    ? `got ${id.length} characters`
    : KEY_CHARACTER.test(id)
    ? `it contains ${codePoint(id, KEY_CHARACTER)}`
    : undefined;
  if (problem !== undefined) {
    throw new TypeError(
      `${what}: "${name}" must be a string of 1 to 255 characters from ! to ~ ` +
        `(printable ASCII without space), ${problem}`,
    );
  }
  return id as string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The JSON text of `{"args","functionPath"[,"shardKey"]}`, in that key order, with `args`
 * (`undefined` or `null` meaning `{}`) wire-encoded. Throws a `TypeError` (a `RangeError` for
 * too deep a value) that starts with `what` when `args` is not a plain object or cannot be
 * encoded.
 */
export function encodeRpcEnvelope(
  what: string,
  functionPath: string,
  args: unknown,
  shardKey: string | undefined,
): string {
  if (args !== undefined && args !== null && !isPlainObject(args)) {
    throw new TypeError(`${what}: "args" must be a plain object`);
  }
  let encoded: unknown;
  try {
    encoded = encodeWire(args ?? {});
  } catch (error) {
    const Class = error instanceof RangeError ? RangeError : TypeError;
    throw new Class(`${what}: ${(error as Error).message}`, { cause: error });
  }
  return JSON.stringify(
    shardKey === undefined
      ? { args: encoded, functionPath }
      : { args: encoded, functionPath, shardKey },
  );
}
