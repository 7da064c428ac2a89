/**
 * Structural Cloudflare Workers types used by the worker composer.
 *
 * They are declared here, shape only, so that neither `@lunora/astro` nor its users need
 * `@cloudflare/workers-types` or `astro` to type-check. The real runtime objects (workerd's
 * `ExecutionContext`, `DurableObjectNamespace`, ...) are assignable to them.
 *
 * @module
 */

/** The part of Cloudflare's `ExecutionContext` the composer relies on. */
export interface ExecutionContextLike {
  /** Extends the invocation until `promise` settles. */
  waitUntil(promise: Promise<unknown>): void;
  /** Lets the runtime fall through to the origin on an uncaught exception (never called here). */
  passThroughOnException?(): void;
}

/** The part of Cloudflare's `ScheduledController` a cron handler sees. */
export interface ScheduledControllerLike {
  /** The cron expression that fired, e.g. `"*\/5 * * * *"`. */
  readonly cron: string;
  /** When the event was scheduled, in epoch milliseconds. */
  readonly scheduledTime: number;
}

/** An opaque Durable Object id, as returned by `idFromName`. */
export interface DurableObjectIdLike {
  /** The hex form of the id. */
  toString(): string;
}

/** A Durable Object stub: the object a namespace hands out to talk to one instance. */
export interface DurableObjectStubLike {
  /** Sends a request to the Durable Object instance. */
  fetch(request: Request): Promise<Response>;
}

/** The part of Cloudflare's `DurableObjectNamespace` used to reach a shard. */
export interface DurableObjectNamespaceLike {
  /** Derives the id of the instance named `name`. */
  idFromName(name: string): DurableObjectIdLike;
  /** Returns a stub for the instance with `id`. */
  get(id: DurableObjectIdLike): DurableObjectStubLike;
  /** Returns a stub for the instance named `name` (newer runtimes); preferred when present. */
  getByName?(name: string): DurableObjectStubLike;
}

/** A Workers `fetch` handler. */
// deno-lint-ignore no-explicit-any
export type FetchHandler<Env = any, Ctx extends ExecutionContextLike = any> = (
  request: Request,
  env: Env,
  ctx: Ctx,
) => Response | Promise<Response>;

/** A Workers `scheduled` (cron trigger) handler. */
// deno-lint-ignore no-explicit-any
export type ScheduledHandler<Env = any, Ctx extends ExecutionContextLike = any> = (
  controller: ScheduledControllerLike,
  env: Env,
  ctx: Ctx,
) => void | Promise<void>;

/** A Workers `queue` consumer handler; the batch is passed through untouched. */
// deno-lint-ignore no-explicit-any
export type QueueHandler<Env = any, Ctx extends ExecutionContextLike = any> = (
  batch: unknown,
  env: Env,
  ctx: Ctx,
) => void | Promise<void>;

/** A Workers `email` handler; the message is passed through untouched. */
// deno-lint-ignore no-explicit-any
export type EmailHandler<Env = any, Ctx extends ExecutionContextLike = any> = (
  message: unknown,
  env: Env,
  ctx: Ctx,
) => void | Promise<void>;

/**
 * The handler Astro's Cloudflare adapter gives you: a bare `fetch` function (usually
 * `(request, env, ctx) => handle(request, env, ctx)` with `handle` from
 * `@astrojs/cloudflare/handler`), or a module-worker object with `fetch` and optionally
 * `scheduled`, `queue` and `email`.
 *
 * @typeParam Env The worker's bindings.
 * @typeParam Ctx The execution context type the host expects.
 */
// deno-lint-ignore no-explicit-any
export type AstroWorkerHandler<Env = any, Ctx extends ExecutionContextLike = any> =
  | FetchHandler<Env, Ctx>
  | {
    /** Serves every request Lunora does not answer. */
    fetch: FetchHandler<Env, Ctx>;
    /** Cron trigger handler, kept unless Lunora `crons` are configured. */
    scheduled?: ScheduledHandler<Env, Ctx>;
    /** Queue consumer, kept unless Lunora options define `queue`. */
    queue?: QueueHandler<Env, Ctx>;
    /** Email handler, always kept. */
    email?: EmailHandler<Env, Ctx>;
  };

/**
 * The module worker `withLunora` returns, ready for `export default`.
 *
 * @typeParam Env The worker's bindings.
 * @typeParam Ctx The execution context type.
 */
// deno-lint-ignore no-explicit-any
export interface ComposedWorker<Env = any, Ctx extends ExecutionContextLike = any> {
  /** Answers Lunora's reserved plane and hands everything else to Astro. */
  fetch(request: Request, env: Env, ctx: Ctx): Promise<Response>;
  /** Lunora's cron dispatcher, or the host's own `scheduled`. */
  scheduled?: ScheduledHandler<Env, Ctx>;
  /** Lunora's queue consumer, or the host's own `queue`. */
  queue?: QueueHandler<Env, Ctx>;
  /** The host's `email` handler, when it has one. */
  email?: EmailHandler<Env, Ctx>;
}
