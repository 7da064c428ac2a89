/**
 * The page's own client: `hydratePreloaded`, `liveQuery`, `query`, `mutation` and `action`
 * for an API on the page's origin, without making a client. The client is created on first
 * use in a browser page (never at import, never on the server: there a store just keeps its
 * seed).
 *
 * @module
 */
import type { CallArgs, FunctionReference, ReturnOf } from "../wire/function_reference.ts";
import type { Preloaded } from "../wire/preloaded_token.ts";
import { createLiveStore, type LiveStore, type StoreHost } from "./live_store.ts";
import {
  type CallOptions,
  createLunoraClient,
  inBrowserPage,
  type LiveQueryOptions,
  liveSpec,
  type LunoraClient,
  type MutationCallOptions,
  tokenSpec,
} from "./lunora_client.ts";

let pageClient: LunoraClient | undefined;

/** The page's client, made on first use; `undefined` outside a browser page. */
function currentClient(): LunoraClient | undefined {
  if (!pageClient && inBrowserPage()) pageClient = createLunoraClient();
  return pageClient;
}

function requireClient(kind: string): LunoraClient {
  const client = currentClient();
  if (!client) {
    throw new TypeError(
      `Cannot run ${kind} outside a browser page: use createLunoraClient({ url }), or on the server createServerClient`,
    );
  }
  return client;
}

/** Where stores made outside a browser page live: they keep their seed and open nothing. */
const SERVER_HOST: StoreHost = { generation: 0, registry: () => undefined };

/**
 * A live store seeded with a `Preloaded` token's value, on the page's own client. The first
 * render reads the token's value with no fetch; the subscription starts with the store's first
 * listener and stops about 1 s after its last one leaves.
 *
 * @typeParam T The query's result type.
 * @param preloaded The token (from island props) or its `serializePreloaded` text.
 * @returns The store, with its `status` store.
 * @throws {TypeError} When the token is malformed.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { hydratePreloaded } from "@lunora/astro/client";
 *
 * const messages = hydratePreloaded({
 *   __lunoraPreloaded: true,
 *   functionPath: "messages:list",
 *   args: { channelId: "general" },
 *   value: [{ _id: "m1", text: "hello" }],
 * });
 * assert.equal(messages.value?.[0]?.text, "hello"); // the seed, before any fetch
 * ```
 */
export function hydratePreloaded<T = unknown>(
  preloaded: Preloaded<T> | string,
): LiveStore<T | undefined> {
  const client = currentClient();
  if (client) return client.hydratePreloaded(preloaded);
  const { spec, seed } = tokenSpec(preloaded);
  return createLiveStore(SERVER_HOST, spec, seed as { value: T });
}

/**
 * A live store of a query on the page's own client, without a seed: `undefined` until the
 * first value.
 *
 * @typeParam Ref The query reference type.
 * @param ref The query, e.g. `query("messages:list")` from `@lunora/astro/server`.
 * @param rest Its arguments object, then `{ shardKey? }`.
 * @returns The store, with its `status` store.
 * @throws {TypeError} For an invalid reference, arguments or shard key.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { liveQuery } from "@lunora/astro/client";
 *
 * const online = liveQuery({ __lunoraRef: "presence:count" });
 * assert.equal(online.value, undefined);
 * assert.equal(online.status.value?.state, "connecting");
 * ```
 */
export function liveQuery<Ref extends FunctionReference<"query">>(
  ref: Ref,
  ...rest: CallArgs<Ref, LiveQueryOptions>
): LiveStore<ReturnOf<Ref> | undefined> {
  const client = currentClient();
  if (client) return client.liveQuery(ref, ...rest);
  return createLiveStore(SERVER_HOST, liveSpec(ref, rest[0], rest[1]));
}

/**
 * Runs a query once on the page's own client (`POST /_lunora/rpc`).
 *
 * @typeParam Ref The query reference type.
 * @param ref The query.
 * @param rest Its arguments, then `{ shardKey? }`.
 * @returns The query's result.
 * @throws {TypeError} Outside a browser page, or for invalid arguments.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { query } from "@lunora/astro/client";
 *
 * // Outside a browser page there is no page client.
 * await assert.rejects(() => query({ __lunoraRef: "messages:list" }), TypeError);
 * ```
 */
export async function query<Ref extends FunctionReference<"query">>(
  ref: Ref,
  ...rest: CallArgs<Ref, CallOptions>
): Promise<ReturnOf<Ref>> {
  return await requireClient("query").query(ref, ...rest);
}

/**
 * Runs a mutation on the page's own client: `x-lunora-mutation-id` (the `idempotencyKey`, else
 * a fresh id) stays the same across the call's retries, so a lost answer never stores twice.
 *
 * @typeParam Ref The mutation reference type.
 * @param ref The mutation.
 * @param rest Its arguments, then `{ shardKey?, idempotencyKey? }`.
 * @returns The mutation's result.
 * @throws {TypeError} Outside a browser page, or for invalid arguments.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { mutation } from "@lunora/astro/client";
 *
 * await assert.rejects(
 *   () => mutation({ __lunoraRef: "messages:send" }, { text: "hi" }, { shardKey: "general" }),
 *   TypeError,
 * );
 * ```
 */
export async function mutation<Ref extends FunctionReference<"mutation">>(
  ref: Ref,
  ...rest: CallArgs<Ref, MutationCallOptions>
): Promise<ReturnOf<Ref>> {
  return await requireClient("mutation").mutation(ref, ...rest);
}

/**
 * Runs an action on the page's own client; never retried.
 *
 * @typeParam Ref The action reference type.
 * @param ref The action.
 * @param rest Its arguments, then `{ shardKey? }`.
 * @returns The action's result.
 * @throws {TypeError} Outside a browser page, or for invalid arguments.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { action } from "@lunora/astro/client";
 *
 * await assert.rejects(() => action({ __lunoraRef: "mail:notify" }), TypeError);
 * ```
 */
export async function action<Ref extends FunctionReference<"action">>(
  ref: Ref,
  ...rest: CallArgs<Ref, CallOptions>
): Promise<ReturnOf<Ref>> {
  return await requireClient("action").action(ref, ...rest);
}

/**
 * Tells the page's client that the signed-in identity changed (call it right after sign-out or
 * sign-in): no store keeps showing the previous identity's seed or value, and the sockets
 * reopen with the new cookie. Does nothing before the page client exists.
 *
 * @example Usage
 * ```ts
 * import { resetIdentity } from "@lunora/astro/client";
 *
 * resetIdentity(); // e.g. after `await authClient.signOut()`
 * ```
 */
export function resetIdentity(): void {
  pageClient?.resetIdentity();
}
