/**
 * Reaching a shard Durable Object: stub resolution, the forwarded request, and what Durable
 * Object errors become (`overloaded` → 503, `retryable` → bounded retries when safe).
 *
 * @module
 */
import type { DurableObjectNamespaceLike, DurableObjectStubLike } from "../types.ts";
import { PlaneError } from "./errors.ts";

/** Where forwarded RPCs go inside the Durable Object. */
export const SHARD_RPC_URL = "https://shard.internal/rpc";

/** Attempts for a retryable error on an idempotent call (first try included). */
export const MAX_ATTEMPTS = 4;
const BASE_DELAY_MS = 10;

/** A stub for the shard named `shardKey`: `getByName` when present, else `get(idFromName)`. */
export function resolveStub(
  ns: DurableObjectNamespaceLike,
  shardKey: string,
): DurableObjectStubLike {
  return typeof ns.getByName === "function"
    ? ns.getByName(shardKey)
    : ns.get(ns.idFromName(shardKey));
}

function flag(error: unknown, name: "overloaded" | "retryable"): boolean {
  return typeof error === "object" && error !== null &&
    (error as Record<string, unknown>)[name] === true;
}

function unavailable(code: string, message: string): PlaneError {
  return new PlaneError(503, code, message, { "retry-after": "1" });
}

/**
 * Sends one request to the shard through `send` (called with a fresh stub each attempt).
 * A plain failure is a 500 `INTERNAL`; `overloaded` is a 503 `OVERLOADED` at once; `retryable`
 * is retried with backoff when `idempotent`, else (or when attempts run out) a 503
 * `UNAVAILABLE`. Responses, whatever their status, are returned as they are.
 */
export async function callShard(
  ns: DurableObjectNamespaceLike,
  shardKey: string,
  send: (stub: DurableObjectStubLike) => Promise<Response>,
  idempotent: boolean,
): Promise<Response> {
  for (let attempt = 1;; attempt++) {
    try {
      return await send(resolveStub(ns, shardKey));
    } catch (error) {
      if (flag(error, "overloaded")) throw unavailable("OVERLOADED", "Shard is overloaded");
      if (!flag(error, "retryable")) throw new PlaneError(500, "INTERNAL", "Internal error");
      if (!idempotent || attempt >= MAX_ATTEMPTS) {
        throw unavailable("UNAVAILABLE", "Shard is temporarily unavailable");
      }
      const delay = BASE_DELAY_MS * 2 ** (attempt - 1);
      await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random() / 2)));
    }
  }
}
