/**
 * Checks shared by the server client (`./server`) and the browser client (`./client`): the
 * per-call options of a query, mutation or action, and how an unsendable character is named.
 *
 * @module
 */

/** A character that cannot ride in a header or URL we send. */
export const UNSENDABLE: RegExp = /[^\x20-\x7e]/;
const KEY_CHARACTER = /[^\x21-\x7e]/;
const MAX_KEY_LENGTH = 255;

/** The kind of a call a client makes. */
export type CallKind = "query" | "mutation" | "action";

/** `U+XXXX at index N` for the first character of `text` matching `pattern`. */
export function codePoint(text: string, pattern: RegExp = UNSENDABLE): string {
  const index = text.search(pattern);
  const hex = text.codePointAt(index)!.toString(16).toUpperCase().padStart(4, "0");
  return `U+${hex} at index ${index}`;
}

/** The per-call options, checked for `kind`; throws a `TypeError` naming the problem. */
export function readCallOptions(
  what: string,
  kind: CallKind,
  options: unknown,
): { shardKey?: string; idempotencyKey?: string } {
  if (options === undefined || options === null) return {};
  if (typeof options !== "object") {
    throw new TypeError(`${what}: options must be an object, got ${typeof options}`);
  }
  const { shardKey, idempotencyKey } = options as { shardKey?: unknown; idempotencyKey?: unknown };
  if (shardKey !== undefined && typeof shardKey !== "string") {
    throw new TypeError(`${what}: "shardKey" must be a string, got ${typeof shardKey}`);
  }
  if (idempotencyKey === undefined) return { shardKey };
  if (kind !== "mutation") {
    const why = kind === "action" ? " (actions are never retried)" : "";
    throw new TypeError(`${what}: only a mutation takes "idempotencyKey"${why}`);
  }
  return { shardKey, idempotencyKey: checkIdempotencyKey(what, idempotencyKey) };
}

/** An idempotency key is 1 to 255 characters from `!` to `~`; it is never quoted whole. */
function checkIdempotencyKey(what: string, key: unknown): string {
  const problem = typeof key !== "string"
    ? `got ${typeof key}`
    : key.length === 0 || key.length > MAX_KEY_LENGTH
    ? `got ${key.length} characters`
    : KEY_CHARACTER.test(key)
    ? `it contains ${codePoint(key, KEY_CHARACTER)}`
    : undefined;
  if (problem !== undefined) {
    throw new TypeError(
      `${what}: "idempotencyKey" must be a string of 1 to 255 characters from ! to ~ ` +
        `(printable ASCII without space), ${problem}`,
    );
  }
  return key as string;
}
