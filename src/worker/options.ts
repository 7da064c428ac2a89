/**
 * The options `withLunora` accepts.
 *
 * @module
 */
import type { ServerTimingMode } from "./server_timing.ts";
import type {
  DurableObjectNamespaceLike,
  ExecutionContextLike,
  QueueHandler,
  ScheduledHandler,
} from "../types.ts";

/**
 * Who the caller is, as resolved by {@linkcode LunoraOptions.resolveIdentity}. `userId` is sent
 * to the shard as `x-lunora-userid`; every other claim travels as `x-lunora-identity`
 * (base64url JSON).
 */
export interface LunoraIdentity {
  /** The signed-in user's id. */
  userId: string;
  /** Further claims the shard may read (roles, tenant, ...). Must be JSON-serializable. */
  [claim: string]: unknown;
}

/** The question {@linkcode LunoraOptions.authorizeShard} answers. */
export interface ShardAccessRequest {
  /** The caller's identity, or `null` for an anonymous caller. */
  identity: LunoraIdentity | null;
  /** The shard the caller wants to reach. */
  shardKey: string;
  /** The incoming request. */
  request: Request;
}

/** A handler for an explicit route or an admin route. */
// deno-lint-ignore no-explicit-any
export type RouteHandler<Env = any, Ctx extends ExecutionContextLike = any> = (
  request: Request,
  env: Env,
  ctx: Ctx,
) => Response | Promise<Response>;

/** Baseline security headers for reserved-plane responses. */
export interface SecurityHeadersOptions {
  /** Also add the baseline headers to Astro's responses (only where absent). Default `false`. */
  applyToHost?: boolean;
  /**
   * The `content-security-policy` for JSON responses, or `false` for none.
   * Default `"default-src 'none'; frame-ancestors 'none'"`.
   */
  contentSecurityPolicy?: string | false;
  /**
   * The `strict-transport-security` value sent on https, or `false` for none.
   * Default `"max-age=31536000; includeSubDomains"`.
   */
  strictTransportSecurity?: string | false;
}

/** Cross-origin request forgery protection for cookie-bearing requests. */
export interface CsrfOptions {
  /**
   * Origins (`scheme://host[:port]`) trusted besides the request's own origin, e.g. the public
   * origin when a proxy rewrites `request.url`. Default none.
   */
  trustedOrigins?: string[];
}

/** Cross-origin resource sharing for the reserved plane. Off unless `allowedOrigins` is set. */
export interface CorsOptions {
  /** Origins allowed to call the reserved plane, or `["*"]` (not with credentials). */
  allowedOrigins?: string[];
  /** Send `access-control-allow-credentials: true`. Default `false`. */
  allowCredentials?: boolean;
  /**
   * Request headers a preflight may ask for. Default: what a Lunora client sends,
   * `["content-type", "authorization", "x-lunora-mutation-id", "x-lunora-client-id",
   * "x-lunora-client-seq", "x-d1-bookmark"]`.
   */
  allowedHeaders?: string[];
  /** Preflight cache lifetime in seconds. Default `600`. */
  maxAge?: number;
}

/** Security settings of the reserved plane. */
export interface SecurityOptions {
  /** Baseline security headers, or `false` to send none. */
  headers?: SecurityHeadersOptions | false;
  /** CSRF protection settings. */
  csrf?: CsrfOptions;
  /** CORS settings. */
  cors?: CorsOptions;
}

/**
 * Lunora's side of the composed worker.
 *
 * @typeParam Env The worker's bindings.
 */
// deno-lint-ignore no-explicit-any
export interface LunoraOptions<Env = any> {
  /** The shard Durable Object namespace binding, e.g. `env.SHARD`. Required. */
  shardDO: DurableObjectNamespaceLike;
  /** The shard used when a call names none. Default `"__root__"`. */
  defaultShardKey?: string;
  /** Largest request body accepted on reserved paths, in bytes. Default `1048576` (1 MiB). */
  maxBodyBytes?: number;
  /** Path prefix whose requests go to `authHandler` first. Default `"/api/auth"`. */
  authBasePath?: string;
  /** Answers auth routes; return `undefined` to fall through to Astro. */
  authHandler?: (request: Request) => Response | undefined | Promise<Response | undefined>;
  /**
   * Explicit routes answered before Astro, keyed `"METHOD /path"` or `"/path"` (any method).
   * Keys under `/_lunora/` are rejected.
   */
  routes?: Record<string, RouteHandler<Env>>;
  /** Resolves the caller's identity from the request; `null`/`undefined` means anonymous. */
  resolveIdentity?: (
    request: Request,
    env: Env,
  ) => LunoraIdentity | null | undefined | Promise<LunoraIdentity | null | undefined>;
  /** Grants access to a non-default shard; only a result of exactly `true` grants. */
  authorizeShard?: (access: ShardAccessRequest) => boolean | Promise<boolean>;
  /** Let any caller reach any shard without `authorizeShard`. Default `false`. */
  allowUnauthenticatedShardAccess?: boolean;
  /** Bearer token for `/_lunora/admin/*`. Default `env.LUNORA_ADMIN_TOKEN`. */
  adminToken?: string;
  /** Alternative admin check; only a result of exactly `true` grants. */
  adminGate?: (request: Request) => boolean | Promise<boolean>;
  /** Admin handlers keyed `"METHOD /_lunora/admin/<name>"` or `"/_lunora/admin/<name>"`. */
  adminRoutes?: Record<string, RouteHandler<Env>>;
  /** Cron handlers keyed by cron expression; when non-empty Lunora owns `scheduled`. */
  crons?: Record<string, ScheduledHandler<Env>>;
  /** Queue consumer; when set it replaces the host's `queue`. */
  queue?: QueueHandler<Env>;
  /** Edge security settings. */
  security?: SecurityOptions;
  /**
   * What a page's `Server-Timing` says about the Lunora calls its rendering finished before
   * Astro answered (a page that made none gets no entry):
   * - `"summary"`: `lunora;dur=<ms>;desc="<n> calls"`, the calls' durations summed;
   * - `"detailed"`: that, then one `lunora-<i>;dur=<ms>;desc="<kind> <functionPath>
   *   [shard=<key>] <in-process|http> <ok|error code>"` entry per call. It names your
   *   functions and shards to anyone who loads the page: keep it for development or an
   *   internal deployment;
   * - `false`: no entry.
   *
   * Default: `"detailed"` under `astro dev` (the `lunora()` integration marks it), `"summary"`
   * everywhere else. Anything else is a `TypeError`.
   */
  serverTiming?: ServerTimingMode;
}

/**
 * `LunoraOptions` or a factory building them from the invocation's `env`. The factory runs on
 * every invocation, so per-request bindings such as `env.SHARD` are always current. Its result
 * is validated again only when a field that is not a function reads differently from last
 * time: plain data (objects and arrays such as `security`) is compared by value, so settings
 * built inside the factory from `env` cost no validation while they stay the same, and a
 * function where there was one is taken as is. A new route table (`routes`, `adminRoutes`,
 * whose handlers may close over `env`) is compiled on its own, without the rest. To change a
 * field, return a new object rather than mutating it.
 *
 * @typeParam Env The worker's bindings.
 */
// deno-lint-ignore no-explicit-any
export type LunoraOptionsInput<Env = any> = LunoraOptions<Env> | ((env: Env) => LunoraOptions<Env>);
