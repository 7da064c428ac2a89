/**
 * `preloadQuery`: run a query once during SSR and capture it in a serializable
 * {@linkcode Preloaded} token an island hydrates from before going live.
 *
 * @module
 */
import type { ArgsOf, FunctionReference, ReturnOf } from "../wire/function_reference.ts";
import type { Preloaded } from "../wire/preloaded_token.ts";

export type { Preloaded } from "../wire/preloaded_token.ts";
import type { ServerClient } from "./server_client.ts";

/** Options of {@linkcode preloadQuery}. */
export interface PreloadQueryOptions {
  /**
   * The shard to run on; absent means the worker's default shard. Pass the same key the
   * island subscribes with, so the live subscription resumes on the same shard.
   */
  shardKey?: string;
}

/**
 * Runs a query once on the server and returns its result as a {@linkcode Preloaded} token.
 * The request body is `{"args","functionPath"[,"shardKey"]}` (arguments wire-encoded).
 *
 * @typeParam Ref The query reference type; `args` and the token's value are inferred from it.
 * @param client A client from `createServerClient` for this request.
 * @param ref The query, e.g. `api.messages.list` or `query("messages:list")`.
 * @param args Its arguments object (`undefined` means `{}`).
 * @param options The shard to run on.
 * @returns The token `{ __lunoraPreloaded: true, functionPath, args, shardKey?, value }`.
 * @throws {TypeError} For an invalid reference, arguments or shard key (before any call).
 * @throws {LunoraServerError} When the call fails.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { preloadQuery } from "./preload.ts";
 * import { createServerClient } from "./server_client.ts";
 * import { query } from "../wire/function_reference.ts";
 *
 * const client = createServerClient({
 *   url: "https://app.example",
 *   fetch: async () => Response.json({ result: ["hi"] }),
 * });
 * const list = query<{ channelId: string }, string[]>("messages:list");
 * const token = await preloadQuery(client, list, { channelId: "c1" }, { shardKey: "c1" });
 * assert.deepEqual(token, {
 *   __lunoraPreloaded: true,
 *   functionPath: "messages:list",
 *   args: { channelId: "c1" },
 *   shardKey: "c1",
 *   value: ["hi"],
 * });
 * ```
 */
export async function preloadQuery<Ref extends FunctionReference<"query">>(
  client: ServerClient,
  ref: Ref,
  args: ArgsOf<Ref>,
  options: PreloadQueryOptions = {},
): Promise<Preloaded<ReturnOf<Ref>>> {
  const shardKey = options?.shardKey;
  const value = await client.query(ref, args, shardKey === undefined ? {} : { shardKey });
  const base = {
    __lunoraPreloaded: true as const,
    functionPath: ref.__lunoraRef,
    args: (args ?? {}) as Record<string, unknown>,
  };
  return shardKey === undefined ? { ...base, value } : { ...base, shardKey, value };
}

/**
 * The value a {@linkcode Preloaded} token captured, without subscribing.
 *
 * @typeParam T The query's result type.
 * @param token A token from {@linkcode preloadQuery} or `deserializePreloaded`.
 * @returns `token.value`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { preloadedQueryResult } from "./preload.ts";
 *
 * const token = { __lunoraPreloaded: true as const, functionPath: "a:b", args: {}, value: 7 };
 * assert.equal(preloadedQueryResult(token), 7);
 * ```
 */
export function preloadedQueryResult<T>(token: Preloaded<T>): T {
  return token.value;
}
