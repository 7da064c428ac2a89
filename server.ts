/**
 * `@lunora/astro/server`: helpers for `.astro` frontmatter, Astro endpoints and Actions.
 *
 * - {@linkcode createServerClient} makes a client for one request. Given `context: Astro`, it
 *   runs queries, mutations and actions as the page's visitor: in process when the worker
 *   `withLunora` composed is rendering the page (no HTTP round trip), otherwise over HTTP to
 *   the page's own origin with the visitor's `cookie` and `authorization`. A mutation carries
 *   its own `x-lunora-mutation-id` (an idempotency key, or a random id) and
 *   `x-lunora-client-id`; the worker retries a `retryable` shard error for queries and
 *   mutations, never for actions. On a prerendered page `context` is a `TypeError`: pass
 *   `url` there. (`Astro.locals.lunora`, from `@lunora/astro/middleware`, is the same client,
 *   made on first use.)
 * - {@linkcode preloadQuery} runs a query once and returns a {@linkcode Preloaded} token an
 *   island hydrates from before going live; {@linkcode serializePreloaded} /
 *   {@linkcode deserializePreloaded} carry it through the HTML safely.
 * - {@linkcode getServerSession} resolves the signed-in session with an auth instance.
 * - {@linkcode query} / {@linkcode mutation} / {@linkcode action} make typed function
 *   references without codegen; each client method takes only its own kind.
 *
 * Web-standard APIs only: no WebSocket, no browser globals, no `node:` modules, and nothing
 * from the build-time integration, so it is safe inside workerd and during SSR.
 *
 * @example Preloading a query in frontmatter
 * ```ts ignore
 * // src/pages/channels/[channelId].astro (frontmatter)
 * import {
 *   createServerClient,
 *   preloadQuery,
 *   query,
 *   serializePreloaded,
 * } from "@lunora/astro/server";
 *
 * const list = query<{ channelId: string }, { id: string; text: string }[]>("messages:list");
 * const { channelId = "general" } = Astro.params;
 * const client = createServerClient({ context: Astro });
 * const preloaded = await preloadQuery(client, list, { channelId }, { shardKey: channelId });
 * const embedded = serializePreloaded(preloaded); // for <script type="application/json">
 * ```
 *
 * @example Writing from a form POST with an idempotency key
 * ```ts ignore
 * // src/pages/channels/[channelId].astro (frontmatter)
 * import { createServerClient, mutation } from "@lunora/astro/server";
 *
 * const send = mutation<{ channelId: string; text: string }, { id: string }>("messages:send");
 * if (Astro.request.method === "POST") {
 *   const form = await Astro.request.formData();
 *   const client = createServerClient({ context: Astro });
 *   await client.mutation(
 *     send,
 *     { channelId: Astro.params.channelId!, text: String(form.get("text")) },
 *     { shardKey: Astro.params.channelId, idempotencyKey: String(form.get("key")) },
 *   );
 *   return Astro.redirect(Astro.url.pathname, 303);
 * }
 * ```
 *
 * @module
 */
export {
  type ActionOptions,
  type AstroContextLike,
  type CallArgs,
  createServerClient,
  type FetchLike,
  type MutationOptions,
  type QueryOptions,
  type ServerClient,
  type ServerClientOptions,
} from "./src/ssr/server_client.ts";
export {
  type Preloaded,
  preloadedQueryResult,
  preloadQuery,
  type PreloadQueryOptions,
} from "./src/ssr/preload.ts";
export { deserializePreloaded, serializePreloaded } from "./src/wire/preloaded_token.ts";
export {
  type AuthLike,
  getServerSession,
  type HeadersSource,
  type ServerSession,
} from "./src/ssr/session.ts";
export {
  action,
  type ArgsOf,
  type FunctionKind,
  type FunctionReference,
  mutation,
  query,
  type ReturnOf,
} from "./src/wire/function_reference.ts";
export { LunoraServerError, type LunoraServerErrorOptions } from "./src/wire/error_envelope.ts";
