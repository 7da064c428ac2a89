/**
 * Embedding a {@linkcode Preloaded} token in HTML and reading it back: wire-encoded JSON with
 * `<`, `>`, `&`, U+2028 and U+2029 escaped, safe inside `<script type="application/json">`.
 *
 * @module
 */
import { decodeWire, encodeWire } from "./codec.ts";
import { FUNCTION_PATH_PATTERN } from "./function_reference.ts";

/**
 * A query result captured during SSR, with what a client needs to resume it live: the
 * function path, its arguments and shard. Embed it in the page (see `serializePreloaded`)
 * and hand it to `hydratePreloaded` from `@lunora/astro/client` in the island.
 *
 * @typeParam T The query's result type.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Preloaded } from "./preloaded_token.ts";
 *
 * const token: Preloaded<number> = {
 *   __lunoraPreloaded: true,
 *   functionPath: "counters:get",
 *   args: { id: "a" },
 *   value: 3,
 * };
 * assert.equal(token.value, 3);
 * ```
 */
export interface Preloaded<T = unknown> {
  /** Marks the object as a preloaded-query token. */
  readonly __lunoraPreloaded: true;
  /** The query's path, `"<module>:<name>"`. */
  readonly functionPath: string;
  /** The arguments the query ran with (`{}` when none were given), not wire-encoded. */
  readonly args: Record<string, unknown>;
  /** The shard it ran on; absent for the default shard. */
  readonly shardKey?: string;
  /** The query's result, decoded. */
  readonly value: T;
}

const UNSAFE = /[<>&\u2028\u2029]/g;

function escape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The token's fields, checked; throws a `TypeError` naming the first problem. */
export function checkPreloaded(value: unknown, action: string): Preloaded {
  const fail = (detail: string) => new TypeError(`Cannot ${action} preloaded token: ${detail}`);
  if (!isRecord(value)) throw fail("expected an object");
  if (value.__lunoraPreloaded !== true) throw fail('"__lunoraPreloaded" must be true');
  const { functionPath, args, shardKey } = value;
  if (typeof functionPath !== "string" || !FUNCTION_PATH_PATTERN.test(functionPath)) {
    throw fail('"functionPath" must be a function path like "messages:list"');
  }
  if (!isRecord(args)) throw fail('"args" must be an object');
  if (shardKey !== undefined && typeof shardKey !== "string") {
    throw fail('"shardKey" must be a string when present');
  }
  const base = { __lunoraPreloaded: true as const, functionPath, args };
  return shardKey === undefined
    ? { ...base, value: value.value }
    : { ...base, shardKey, value: value.value };
}

/**
 * Serializes a {@linkcode Preloaded} token for embedding in HTML: wire-encoded (so `bigint`,
 * `Date`, `Map`, bytes, ... survive), `JSON.stringify`, then `<`, `>`, `&`, U+2028 and U+2029
 * written as `\uXXXX`. The text cannot close a `<script>` element and `JSON.parse` still
 * reads it.
 *
 * @typeParam T The query's result type.
 * @param token A token from `preloadQuery`.
 * @returns JSON text safe inside `<script type="application/json">`.
 * @throws {TypeError} When `token` is not a preloaded token or holds a value the wire cannot
 * carry (a class instance, a cycle).
 * @throws {RangeError} When the value nests deeper than 64 levels.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { serializePreloaded } from "./preloaded_token.ts";
 *
 * const text = serializePreloaded({
 *   __lunoraPreloaded: true,
 *   functionPath: "messages:list",
 *   args: {},
 *   value: "</script>",
 * });
 * assert.ok(!text.includes("<"));
 * assert.equal(JSON.parse(text).value, "</script>");
 * ```
 */
export function serializePreloaded<T>(token: Preloaded<T>): string {
  return JSON.stringify(encodeWire(checkPreloaded(token, "serialize"))).replace(UNSAFE, escape);
}

/**
 * Reads a token written by {@linkcode serializePreloaded}: parses, wire-decodes and checks its
 * shape. Safe for untrusted text: `__proto__` keys stay own data properties.
 *
 * @param text The serialized token.
 * @returns A fresh token with the decoded `value`.
 * @throws {SyntaxError} When `text` is not JSON.
 * @throws {TypeError} When it is not a preloaded token (`__lunoraPreloaded` not `true`,
 * `functionPath` not a function path, `args` not an object) or a wire tag is malformed.
 * @throws {RangeError} When it nests deeper than 64 levels or a `bigint` is too long.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { deserializePreloaded, serializePreloaded } from "./preloaded_token.ts";
 *
 * const text = serializePreloaded({
 *   __lunoraPreloaded: true,
 *   functionPath: "counters:get",
 *   args: {},
 *   value: 12n,
 * });
 * assert.equal(deserializePreloaded(text).value, 12n);
 * ```
 */
export function deserializePreloaded(text: string): Preloaded {
  if (typeof text !== "string") {
    throw new TypeError(`Cannot read preloaded token: expected a string, got ${typeof text}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(
      `Cannot read preloaded token: not JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return checkPreloaded(decodeWire(json), "read");
}
