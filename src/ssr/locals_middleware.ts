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
  const locals = context.locals as Holder;
  if (!Object.hasOwn(locals, "lunora")) {
    try {
      locals[CONTEXT] = context;
      // Measured on workerd: one shared prototype for a plain `locals` instead
      // (`Object.setPrototypeOf`) costs more than this definition (BENCHMARKS.md).
      Object.defineProperty(locals, "lunora", LUNORA);
    } catch {
      // A frozen `locals` cannot take the getter; the request goes on without it.
    }
  }
  return next();
}

type Holder = Record<PropertyKey, unknown>;

/** Where `locals` keeps its request's context and, once made, its client. Module-private. */
const CONTEXT: unique symbol = Symbol("@lunora/astro/middleware context");
const CLIENT: unique symbol = Symbol("@lunora/astro/middleware client");

/**
 * The one descriptor every request's `locals.lunora` shares: its getter and setter are the
 * same functions each time (they find the request through `this`), so defining it costs no
 * closures and V8 reuses the object shape it leads to. Non-enumerable, so spreading or
 * serializing `locals` never makes a client.
 */
const LUNORA: PropertyDescriptor = {
  configurable: true,
  enumerable: false,
  get(this: Holder): ServerClient {
    const made = this[CLIENT] as ServerClient | undefined;
    if (made !== undefined) return made;
    const context = this[CONTEXT] as LocalsMiddlewareContext;
    if (context.isPrerendered === true) throw prerenderedError("Cannot use Astro.locals.lunora");
    return (this[CLIENT] = createServerClient({ context }));
  },
  set(this: Holder, value: unknown): void {
    Object.defineProperty(this, "lunora", {
      value,
      configurable: true,
      enumerable: true,
      writable: true,
    });
  },
};
