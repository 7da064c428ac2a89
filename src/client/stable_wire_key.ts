/**
 * The dedup key of a live query: two stores of the same function, arguments and shard share
 * one subscription. Arguments are wire-encoded, then written as JSON with object keys sorted
 * by UTF-16 code unit, so `{a, b}` and `{b, a}` are one query and `1n` is not `"1"`.
 *
 * @module
 */
import { encodeWire } from "../wire/codec.ts";

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    Object.defineProperty(out, key, {
      value: sorted((value as Record<string, unknown>)[key]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** The wire encoding of `value` as JSON text with object keys sorted. */
export function stableWireKey(value: unknown): string {
  return JSON.stringify(sorted(encodeWire(value)));
}

/** `functionPath::stableWireKey(args)::shardKey` (the shard key empty for the default shard). */
export function dedupKey(
  functionPath: string,
  args: Record<string, unknown>,
  shardKey: string | undefined,
): string {
  return `${functionPath}::${stableWireKey(args)}::${shardKey ?? ""}`;
}
