/**
 * The Astro middleware behind `Astro.locals.lunora`: a server client for the request, made on
 * first use.
 *
 * @module
 */
import {
  type AstroContextLike,
  createServerClient,
  prerenderedError,
  type ServerClient,
} from "./server_client.ts";

/**
 * The part of Astro's middleware context (`APIContext`) the middleware reads. Declared
 * structurally, so neither `astro` nor `@astrojs/cloudflare` is needed to type-check.
 */
export interface LocalsMiddlewareContext extends AstroContextLike {
  /** `context.locals`, the object `Astro.locals` is in pages and endpoints. */
  readonly locals: object;
}

/** Astro's `next()`: renders the rest of the request and resolves to its response. */
export type MiddlewareNextLike = () => Promise<Response>;

/**
 * Defines `context.locals.lunora` for one request, then calls `next()`.
 *
 * `locals.lunora` is a getter: the first read makes `createServerClient({ context })` (in
 * process under the composed worker, as the page's visitor), later reads in the same request
 * get the same client, and another request gets its own. A page that never reads it costs one
 * property definition and makes no client. A `locals.lunora` already there (set by middleware
 * that ran first) is kept, and assigning one later replaces the getter. On a prerendered route
 * (`context.isPrerendered`), reading it throws a `TypeError` that says so: such a page has no
 * visitor to run as, so it needs `createServerClient({ url })`.
 *
 * `lunora()` registers this middleware by itself (`order: "pre"`) unless its `locals` option
 * is `false`. Non-enumerable, so spreading or serializing `locals` never makes a client.
 *
 * @param context The middleware context Astro passes.
 * @param next Astro's `next`.
 * @returns What `next()` returns.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { onRequest } from "./locals_middleware.ts";
 * import type { ServerClient } from "./server_client.ts";
 *
 * const context = { request: new Request("https://app.example/"), locals: {} };
 * await onRequest(context, () => Promise.resolve(new Response("page")));
 * const locals = context.locals as { lunora: ServerClient };
 * assert.equal(typeof locals.lunora.mutation, "function");
 * assert.equal(locals.lunora, locals.lunora); // one client for the request
 * ```
 */
export function onRequest(
  context: LocalsMiddlewareContext,
  next: MiddlewareNextLike,
): Promise<Response> {
  const locals = context.locals;
  if (!Object.hasOwn(locals, "lunora")) {
    let client: ServerClient | undefined;
    try {
      Object.defineProperty(locals, "lunora", {
        configurable: true,
        enumerable: false,
        get(): ServerClient {
          if (client !== undefined) return client;
          if (context.isPrerendered === true) {
            throw prerenderedError("Cannot use Astro.locals.lunora");
          }
          return client = createServerClient({ context });
        },
        set(value: unknown): void {
          Object.defineProperty(locals, "lunora", {
            value,
            configurable: true,
            enumerable: true,
            writable: true,
          });
        },
      });
    } catch {
      // A frozen `locals` cannot take the getter; the request goes on without it.
    }
  }
  return next();
}
