/**
 * `@lunora/astro/client`: live islands in any framework. A `Preloaded` token from SSR becomes a
 * Nano Stores store that React, Preact, Svelte, Vue, Solid or a plain `<script>` can read,
 * kept live over one socket per shard key and one subscription per distinct query.
 *
 * - {@linkcode hydratePreloaded} makes a store seeded with the token's value (no fetch), and
 *   {@linkcode liveQuery} one without a seed. Each has a `status` store
 *   ({@linkcode LiveStatus}). A store subscribes when its first listener arrives (never at
 *   import or on the server) and unsubscribes about 1 s after its last one leaves.
 * - {@linkcode query}, {@linkcode mutation} and {@linkcode action} run browser calls over
 *   `POST /_lunora/rpc`; a mutation keeps one `x-lunora-mutation-id` across its retries, and
 *   can show an {@linkcode optimistic} change until the shard's push arrives.
 * - These five use the page's own client (its origin, its cookie), made on first use.
 *   {@linkcode createLunoraClient} makes one for an API on another origin, with a WS token.
 * - {@linkcode resetIdentity} after a sign-out or sign-in: no store keeps another identity's
 *   data, and the sockets reopen under the new one.
 *
 * Function references come from `@lunora/astro/server`'s `query`/`mutation`/`action` helpers
 * (types only reach the browser) or are plain `{ __lunoraRef: "messages:list" }` objects.
 *
 * @example A React island
 * ```tsx ignore
 * import { useStore } from "@nanostores/react";
 * import { hydratePreloaded } from "@lunora/astro/client";
 * import type { Preloaded } from "@lunora/astro/server";
 *
 * export function Messages({ preloaded }: { preloaded: Preloaded<{ _id: string; text: string }[]> }) {
 *   const [store] = useState(() => hydratePreloaded(preloaded));
 *   const messages = useStore(store);
 *   return <ul>{messages?.map((m) => <li key={m._id}>{m.text}</li>)}</ul>;
 * }
 * ```
 *
 * @module
 */
export {
  action,
  hydratePreloaded,
  liveQuery,
  mutation,
  query,
  resetIdentity,
} from "./src/client/default_client.ts";
export {
  type CallOptions,
  createLunoraClient,
  type LiveQueryOptions,
  type LunoraClient,
  type LunoraClientOptions,
  type MutationCallOptions,
  optimistic,
  type OptimisticUpdate,
  type TokenSource,
} from "./src/client/lunora_client.ts";
export type { LiveStore } from "./src/client/live_store.ts";
export type { ReadableAtom, ReadonlyIfObject } from "./src/client/readable_atom.ts";
export type { LiveError, LiveStatus } from "./src/client/live_status.ts";
export type { WebSocketConstructorLike, WebSocketLike } from "./src/client/connection.ts";
export type {
  ArgsOf,
  CallArgs,
  FunctionKind,
  FunctionReference,
  ReturnOf,
} from "./src/wire/function_reference.ts";
export type { Preloaded } from "./src/wire/preloaded_token.ts";
