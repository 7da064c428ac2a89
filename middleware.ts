/**
 * `@lunora/astro/middleware`: the Astro middleware that gives every request
 * `Astro.locals.lunora`, a server client made on first use.
 *
 * - {@linkcode onRequest} defines `context.locals.lunora` as a getter: the first read makes
 *   `createServerClient({ context })`, later reads in that request get the same client, and a
 *   page that never reads it makes none. A value set by earlier middleware is kept. On a
 *   prerendered route, reading it is a `TypeError` that names the way out
 *   (`createServerClient({ url })`).
 *
 * The `lunora()` integration registers it by itself (`order: "pre"`) and declares
 * `App.Locals.lunora`; pass `lunora({ locals: false })` to leave both out. Web-standard APIs
 * only, and nothing from the build-time integration.
 *
 * @example Writing from an endpoint through `Astro.locals.lunora`
 * ```ts ignore
 * // src/pages/api/messages.ts
 * import type { APIRoute } from "astro";
 * import { mutation } from "@lunora/astro/server";
 *
 * const send = mutation<{ channelId: string; text: string }, { id: string }>("messages:send");
 *
 * export const POST: APIRoute = async ({ locals, request }) => {
 *   const form = await request.formData();
 *   const sent = await locals.lunora.mutation(
 *     send,
 *     { channelId: "general", text: String(form.get("text")) },
 *     { shardKey: "general", idempotencyKey: String(form.get("key")) },
 *   );
 *   return Response.json(sent);
 * };
 * ```
 *
 * @module
 */
export {
  type LocalsMiddlewareContext,
  type MiddlewareNextLike,
  onRequest,
} from "./src/ssr/locals_middleware.ts";
