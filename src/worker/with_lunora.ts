/**
 * `withLunora`: one worker, two planes. Lunora answers its reserved paths; everything else goes
 * to Astro's handler, whose failures are contained at this seam.
 *
 * @module
 */
import type {
  AstroWorkerHandler,
  ComposedWorker,
  EmailHandler,
  ExecutionContextLike,
  FetchHandler,
  QueueHandler,
  ScheduledControllerLike,
  ScheduledHandler,
} from "../types.ts";
import { declaresTooLarge, payloadTooLarge } from "./body.ts";
import {
  type CompiledHeaders,
  type CompiledOptions,
  compileOptions,
  DEFAULT_HEADERS,
  isNamespace,
  recompileOptions,
} from "./compile_options.ts";
import { errorResponse, toErrorResponse } from "./errors.ts";
import type { LunoraOptions, LunoraOptionsInput, RouteHandler } from "./options.ts";
import { answerReserved } from "./reserved_plane.ts";
import { canonicalEndpoint, isReservedPrefix, isUnder, pathnameOf } from "./reserved_path.ts";
import { withBaselineHeaders, withCors } from "./security.ts";
import { type PageScope, registerInProcess } from "./in_process_rpc.ts";
import { withServerTiming } from "./server_timing.ts";

/** The options compiled for one invocation, or the answer when they cannot be. */
type Resolved<Env> = CompiledOptions<Env> | (() => Response);

const LOG_PREFIX = "[@lunora/astro]";

function notConfigured(): Response {
  return errorResponse(503, "NOT_CONFIGURED", "Lunora is not configured: shardDO binding missing");
}

function internal(): Response {
  return errorResponse(500, "INTERNAL", "Internal error");
}

function hostFailure(): Response {
  return new Response("Internal Server Error", {
    status: 500,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

function statusResponse(method: string): Response {
  if (method !== "GET" && method !== "HEAD") {
    return errorResponse(405, "METHOD_NOT_ALLOWED", "Method not allowed", { allow: "GET, HEAD" });
  }
  return new Response(method === "HEAD" ? null : '{"ok":true}', {
    status: 200,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
}

function isFunction(value: unknown): value is (...args: never[]) => unknown {
  return typeof value === "function";
}

function describe(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
}

function lookupRoute(
  routes: ReadonlyMap<string, RouteHandler>,
  request: Request,
  pathname: string,
): RouteHandler | undefined {
  if (routes.size === 0) return undefined;
  return routes.get(`${request.method} ${pathname}`) ?? routes.get(pathname);
}

async function runOwned(
  handler: () => Response | undefined | Promise<Response | undefined>,
): Promise<Response | undefined> {
  try {
    const response = await handler();
    if (response === undefined || response instanceof Response) return response;
    console.error(`${LOG_PREFIX} A Lunora route handler returned a non-Response value`);
  } catch (error) {
    console.error(`${LOG_PREFIX} A Lunora route handler failed:`, error);
  }
  return internal();
}

/**
 * Composes Astro's Cloudflare handler with Lunora's reserved plane into one module worker.
 *
 * Lunora answers `/_lunora/status`, `/_lunora/rpc`, `/_lunora/rpc-batch`, `/_lunora/ws`,
 * `/_lunora/admin/*`, auth routes under `authBasePath` and explicit `routes`; any other
 * `/_lunora` spelling is a 404. Every other request reaches `host` with the original request
 * and execution context; if the host throws, rejects or returns something that is not a
 * `Response`, the error is logged and the client gets a plain 500. The host's `scheduled`,
 * `queue` and `email` handlers are kept unless Lunora owns that trigger.
 *
 * @typeParam Env The worker's bindings.
 * @typeParam Ctx The execution context type.
 * @param host Astro's handler: a `fetch` function or an object with `fetch` (and optionally
 * `scheduled`, `queue`, `email`).
 * @param options Lunora's options, or an `(env) => options` factory called on every invocation.
 * @returns The composed module worker, for `export default`.
 * @throws {TypeError} When `host` has no `fetch` function or the options cannot work.
 *
 * @example Composing Astro's handler with Lunora
 * ```ts
 * import { withLunora } from "@lunora/astro";
 * import assert from "node:assert/strict";
 *
 * const astro = (_request: Request) => new Response("<h1>Astro</h1>");
 * const worker = withLunora(astro, (env) => ({ shardDO: env.SHARD }));
 *
 * const ctx = { waitUntil() {} };
 * const env = { SHARD: undefined }; // no binding: only the reserved plane notices
 * const status = await worker.fetch(new Request("https://app.test/_lunora/status"), env, ctx);
 * assert.deepEqual(await status.json(), { ok: true });
 * const page = await worker.fetch(new Request("https://app.test/about"), env, ctx);
 * assert.equal(await page.text(), "<h1>Astro</h1>");
 * ```
 */
// deno-lint-ignore no-explicit-any
export function withLunora<Env = any, Ctx extends ExecutionContextLike = any>(
  host: AstroWorkerHandler<Env, Ctx>,
  options: LunoraOptionsInput<Env>,
): ComposedWorker<Env, Ctx> {
  const hostObject = isFunction(host)
    ? { fetch: host as FetchHandler<Env, Ctx> }
    : (typeof host === "object" && host !== null ? host : undefined);
  if (!hostObject || !isFunction(hostObject.fetch)) {
    throw new TypeError(
      `Cannot compose worker: "host" must be a fetch function or an object with a "fetch" function, got ${
        describe(host)
      }`,
    );
  }
  const hostFetch = hostObject.fetch.bind(hostObject) as FetchHandler<Env, Ctx>;
  // Trigger handlers are exported as the very functions the host gave.
  const hostScheduled = isFunction(hostObject.scheduled)
    ? hostObject.scheduled as ScheduledHandler<Env, Ctx>
    : undefined;
  const hostQueue = isFunction(hostObject.queue)
    ? hostObject.queue as QueueHandler<Env, Ctx>
    : undefined;
  const hostEmail = isFunction(hostObject.email)
    ? hostObject.email as EmailHandler<Env, Ctx>
    : undefined;

  let resolve: (env: Env) => Resolved<Env>;
  let staticHeaders: CompiledHeaders | null = DEFAULT_HEADERS;
  if (isFunction(options)) {
    const factory = options as (env: Env) => LunoraOptions<Env>;
    let previous: CompiledOptions<Env> | undefined;
    resolve = (env) => {
      let made: LunoraOptions<Env>;
      try {
        made = factory(env);
      } catch (error) {
        console.error(`${LOG_PREFIX} The withLunora options factory threw:`, error);
        return internal;
      }
      // The binding compiled last time is a namespace: only another one is looked at.
      if (
        typeof made === "object" && made !== null &&
        (previous === undefined || made.shardDO !== previous.shardDO) && !isNamespace(made.shardDO)
      ) return notConfigured;
      try {
        return previous = recompileOptions(made, previous);
      } catch (error) {
        console.error(`${LOG_PREFIX} The withLunora options are invalid:`, error);
        return internal;
      }
    };
  } else {
    const compiled = compileOptions(options);
    resolve = () => compiled;
    staticHeaders = compiled.headers;
  }

  function hostAnswered(response: unknown): Response {
    if (response instanceof Response) return response;
    console.error(`${LOG_PREFIX} The Astro handler returned a non-Response value:`, response);
    return hostFailure();
  }

  function hostFailed(error: unknown): Response {
    console.error(`${LOG_PREFIX} The Astro handler failed:`, error);
    return hostFailure();
  }

  /**
   * Astro's answer, checked, with the page's `Server-Timing` when `scope` recorded calls and
   * the baseline headers when `headers.applyToHost`. Not `async`: a page request goes through
   * one promise reaction here, not two `async` frames.
   */
  function callHost(
    request: Request,
    env: Env,
    ctx: Ctx,
    headers: CompiledHeaders | null,
    scope?: PageScope<Env>,
    compiled?: CompiledOptions<Env>,
  ): Promise<Response> {
    let answer: unknown;
    try {
      answer = hostFetch(request, env, ctx);
    } catch (error) {
      answer = Promise.reject(error);
    }
    const response = Promise.resolve(answer).then(
      scope === undefined ? hostAnswered : (value) => {
        const checked = hostAnswered(value);
        // Read once Astro answered: calls that finish later (a streamed body) are not in it.
        const calls = scope.calls;
        return calls === undefined
          ? checked
          : withServerTiming(checked, calls, compiled!.serverTiming);
      },
      hostFailed,
    );
    if (!headers?.applyToHost) return response;
    return response.then((checked) => withBaselineHeaders(checked, request, headers));
  }

  /**
   * A page: registers its request scope (the in-process transport and the record of its server
   * calls), then hands the request to Astro.
   */
  function servePage(
    request: Request,
    env: Env,
    ctx: Ctx,
    compiled: CompiledOptions<Env>,
  ): Promise<Response> {
    const scope = registerInProcess(request, ctx, env, compiled);
    if (compiled.serverTiming === false) return callHost(request, env, ctx, compiled.headers);
    return callHost(request, env, ctx, compiled.headers, scope, compiled);
  }

  /** What Lunora answers itself, and pages that explicit routes or the auth handler declined. */
  async function answerLunora(
    request: Request,
    env: Env,
    ctx: Ctx,
    pathname: string,
    reserved: boolean,
    compiled: CompiledOptions<Env>,
  ): Promise<Response> {
    const underAuth = isUnder(pathname, compiled.authBasePath);
    if (reserved || underAuth) {
      const method = request.method;
      if (
        (method === "POST" || method === "PUT") && declaresTooLarge(request, compiled.maxBodyBytes)
      ) {
        return withBaselineHeaders(toErrorResponse(payloadTooLarge()), request, compiled.headers);
      }
    }

    const { authHandler } = compiled.options;
    if (underAuth && authHandler) {
      const answered = await runOwned(() => authHandler(request));
      if (answered) return answered;
    }

    const route = lookupRoute(compiled.routes, request, pathname);
    if (route) return (await runOwned(() => route(request, env, ctx)))!;

    if (reserved) {
      const endpoint = canonicalEndpoint(pathname);
      if (endpoint === undefined) {
        const notFound = errorResponse(404, "NOT_FOUND", "Not found");
        return withBaselineHeaders(
          withCors(notFound, request, compiled.cors),
          request,
          compiled.headers,
        );
      }
      // `status` was answered before configuration was resolved. The URL is parsed only by
      // the endpoints that read it (WebSocket, admin), not on the RPC hot path.
      let url: URL | undefined;
      const plane = {
        request,
        env,
        ctx,
        compiled,
        get url(): URL {
          return url ??= new URL(request.url);
        },
      };
      return answerReserved(plane, endpoint as Exclude<typeof endpoint, "status">);
    }

    return servePage(request, env, ctx, compiled);
  }

  function dispatch(request: Request, env: Env, ctx: Ctx): Response | Promise<Response> {
    // `request.url` and `request.method` are native getters on workerd, each making a new
    // string: the URL is read once, the method only where it decides something.
    const pathname = pathnameOf(request.url);
    const reserved = isReservedPrefix(pathname);

    if (reserved && pathname === "/_lunora/status") {
      // Liveness only: never runs the options factory.
      return withBaselineHeaders(statusResponse(request.method), request, staticHeaders);
    }

    const compiled = resolve(env);
    if (typeof compiled === "function") {
      if (reserved) return withBaselineHeaders(compiled(), request, DEFAULT_HEADERS);
      return callHost(request, env, ctx, null);
    }

    if (reserved || compiled.routes.size > 0 || isUnder(pathname, compiled.authBasePath)) {
      return answerLunora(request, env, ctx, pathname, reserved, compiled);
    }
    return servePage(request, env, ctx, compiled);
  }

  /** Never throws: a synchronous failure is a rejected promise, as from an `async` function. */
  function fetch(request: Request, env: Env, ctx: Ctx): Promise<Response> {
    try {
      return Promise.resolve(dispatch(request, env, ctx));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  const worker: ComposedWorker<Env, Ctx> = { fetch };

  const factoryForm = isFunction(options);
  const staticOptions = factoryForm ? undefined : options as LunoraOptions<Env>;
  const staticCrons = staticOptions?.crons && Object.keys(staticOptions.crons).length > 0;

  async function runCrons(
    crons: Record<string, ScheduledHandler<Env>>,
    controller: ScheduledControllerLike,
    env: Env,
    ctx: Ctx,
  ): Promise<void> {
    const handler = Object.hasOwn(crons, controller.cron) ? crons[controller.cron] : undefined;
    if (!handler) {
      console.warn(`${LOG_PREFIX} No Lunora cron handler for "${controller.cron}"`);
      return;
    }
    await handler(controller, env, ctx);
  }

  if (factoryForm) {
    worker.scheduled = async (controller, env, ctx) => {
      const crons = (options as (env: Env) => LunoraOptions<Env>)(env).crons;
      if (crons && Object.keys(crons).length > 0) return runCrons(crons, controller, env, ctx);
      if (hostScheduled) return await hostScheduled.call(hostObject, controller, env, ctx);
      console.warn(`${LOG_PREFIX} No scheduled handler for "${controller.cron}"`);
    };
    worker.queue = async (batch, env, ctx) => {
      const queue = (options as (env: Env) => LunoraOptions<Env>)(env).queue;
      if (isFunction(queue)) return await queue(batch, env, ctx);
      if (hostQueue) return await hostQueue.call(hostObject, batch, env, ctx);
      throw new TypeError("Cannot consume queue batch: no queue handler is configured");
    };
  } else {
    if (staticCrons) {
      const crons = staticOptions!.crons!;
      worker.scheduled = (controller, env, ctx) => runCrons(crons, controller, env, ctx);
    } else if (hostScheduled) {
      worker.scheduled = hostScheduled;
    }
    if (isFunction(staticOptions?.queue)) worker.queue = staticOptions!.queue!;
    else if (hostQueue) worker.queue = hostQueue;
  }
  if (hostEmail) worker.email = hostEmail;
  return worker;
}
