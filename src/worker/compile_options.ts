/**
 * Validates `LunoraOptions` once and turns them into the lookup-friendly form the dispatcher
 * uses. Every misconfiguration that can never work is a `TypeError` here, so the object form
 * fails when the worker is built rather than on the first request.
 *
 * @module
 */
import type { DurableObjectNamespaceLike } from "../types.ts";
import { DEFAULT_MAX_BODY_BYTES } from "./body.ts";
import type { LunoraOptions, RouteHandler, SecurityHeadersOptions } from "./options.ts";
import type { ServerTimingMode } from "./server_timing.ts";
import { ADMIN_PREFIX, isReservedPrefix } from "./reserved_path.ts";

/** Default CSP for JSON responses of the reserved plane. */
export const DEFAULT_JSON_CSP = "default-src 'none'; frame-ancestors 'none'";
/** Default HSTS value on https. */
export const DEFAULT_HSTS = "max-age=31536000; includeSubDomains";

/** CORS settings after validation; `null` when CORS is off. */
export interface CompiledCors {
  anyOrigin: boolean;
  origins: ReadonlySet<string>;
  credentials: boolean;
  allowedHeaders: string;
  maxAge: string;
}

/** Header settings after validation; `null` when headers are off. */
export interface CompiledHeaders {
  applyToHost: boolean;
  csp: string | false;
  hsts: string | false;
}

/** Routes keyed `"METHOD /path"` (method upper-cased) or `"/path"`. */
export type RouteTable = ReadonlyMap<string, RouteHandler>;

/** Options after validation. */
// deno-lint-ignore no-explicit-any
export interface CompiledOptions<Env = any> {
  options: LunoraOptions<Env>;
  shardDO: DurableObjectNamespaceLike;
  defaultShardKey: string;
  maxBodyBytes: number;
  authBasePath: string;
  routes: RouteTable;
  adminRoutes: RouteTable;
  trustedOrigins: ReadonlySet<string>;
  cors: CompiledCors | null;
  headers: CompiledHeaders | null;
  /** The `serverTiming` option; `undefined` decides per page (dev or not). */
  serverTiming: ServerTimingMode | undefined;
  /** The fields of `options` as `[key, value, …]`, each function replaced by one marker. */
  data: readonly unknown[];
}

/**
 * The request headers a CORS preflight may ask for unless `security.cors.allowedHeaders` says
 * otherwise: the ones a Lunora client sends (a mutation's ids, a D1 bookmark).
 */
const DEFAULT_CORS_HEADERS: readonly string[] = [
  "content-type",
  "authorization",
  "x-lunora-mutation-id",
  "x-lunora-client-id",
  "x-lunora-client-seq",
  "x-d1-bookmark",
];

const ROUTE_KEY = /^(?:([A-Za-z]+) +)?(\/\S*)$/;

function fail(detail: string): never {
  throw new TypeError(`Cannot compose worker: ${detail}`);
}

function quote(value: unknown): string {
  try {
    return typeof value === "string" ? JSON.stringify(value) : String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Whether `value` looks like a Durable Object namespace binding. */
export function isNamespace(value: unknown): value is DurableObjectNamespaceLike {
  if (typeof value !== "object" || value === null) return false;
  const ns = value as Record<string, unknown>;
  return typeof ns.getByName === "function" ||
    (typeof ns.get === "function" && typeof ns.idFromName === "function");
}

/** The options that must be functions when given. */
const FUNCTIONS = [
  "authHandler",
  "resolveIdentity",
  "authorizeShard",
  "adminGate",
  "queue",
] as const;

function optionalFunction(options: LunoraOptions, name: keyof LunoraOptions): void {
  const value = options[name];
  if (value !== undefined && typeof value !== "function") {
    fail(`"${name}" must be a function, got ${quote(value)}`);
  }
}

function compileRoutes(
  table: Record<string, RouteHandler> | undefined,
  name: "routes" | "adminRoutes",
): RouteTable {
  const routes = new Map<string, RouteHandler>();
  if (table === undefined) return routes;
  if (typeof table !== "object" || table === null) fail(`"${name}" must be an object`);
  for (const [key, handler] of Object.entries(table)) {
    const match = ROUTE_KEY.exec(key.trim());
    if (!match) fail(`${name} key ${quote(key)} must be "METHOD /path" or "/path"`);
    const [, method, path] = match as unknown as [string, string | undefined, string];
    if (typeof handler !== "function") fail(`${name} key ${quote(key)} needs a function`);
    if (name === "routes" && isReservedPrefix(path)) {
      fail(`route key ${quote(key)} is reserved: paths under /_lunora/ belong to Lunora`);
    }
    if (name === "adminRoutes" && (!path.startsWith(ADMIN_PREFIX) || path === ADMIN_PREFIX)) {
      fail(`adminRoutes key ${quote(key)} must be under ${ADMIN_PREFIX}`);
    }
    routes.set(method ? `${method.toUpperCase()} ${path}` : path, handler);
  }
  return routes;
}

function compileOrigins(list: unknown, name: string): string[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) fail(`"${name}" must be an array of origins`);
  return list.map((entry) => {
    if (entry === "*" && name === "security.cors.allowedOrigins") return "*";
    let origin: string;
    try {
      origin = new URL(String(entry)).origin;
    } catch {
      fail(`${name} entry ${quote(entry)} is not an origin`);
    }
    if (origin === "null") fail(`${name} entry ${quote(entry)} is not an origin`);
    return origin;
  });
}

function compileHeaders(
  headers: SecurityHeadersOptions | false | undefined,
): CompiledHeaders | null {
  if (headers === false) return null;
  const given = headers ?? {};
  return {
    applyToHost: given.applyToHost === true,
    csp: given.contentSecurityPolicy ?? DEFAULT_JSON_CSP,
    hsts: given.strictTransportSecurity ?? DEFAULT_HSTS,
  };
}

/** The baseline headers with every default, for answers given before options are resolved. */
export const DEFAULT_HEADERS: CompiledHeaders = compileHeaders(undefined)!;

/**
 * Validates `options` and compiles them. Throws `TypeError` for anything that cannot work,
 * including a missing `shardDO`.
 */
// deno-lint-ignore no-explicit-any
export function compileOptions<Env = any>(options: LunoraOptions<Env>): CompiledOptions<Env> {
  if (typeof options !== "object" || options === null) {
    fail(`options must be an object or a function, got ${quote(options)}`);
  }
  if (!isNamespace(options.shardDO)) {
    fail(`"shardDO" must be a Durable Object namespace binding such as env.SHARD`);
  }
  for (const name of FUNCTIONS) optionalFunction(options, name);
  const defaultShardKey = options.defaultShardKey ?? "__root__";
  if (typeof defaultShardKey !== "string" || defaultShardKey === "") {
    fail(`"defaultShardKey" must be a non-empty string, got ${quote(defaultShardKey)}`);
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    fail(`"maxBodyBytes" must be a positive integer, got ${quote(maxBodyBytes)}`);
  }
  const authBasePath = options.authBasePath ?? "/api/auth";
  if (typeof authBasePath !== "string" || !authBasePath.startsWith("/")) {
    fail(`"authBasePath" must start with "/", got ${quote(authBasePath)}`);
  }
  if (isReservedPrefix(authBasePath)) fail(`"authBasePath" ${quote(authBasePath)} is reserved`);
  if (options.adminToken !== undefined && typeof options.adminToken !== "string") {
    fail(`"adminToken" must be a string`);
  }
  if (options.crons !== undefined) {
    if (typeof options.crons !== "object" || options.crons === null) {
      fail(`"crons" must be an object`);
    }
    for (const [cron, handler] of Object.entries(options.crons)) {
      if (typeof handler !== "function") fail(`crons key ${quote(cron)} needs a function`);
    }
  }

  const serverTiming = options.serverTiming;
  if (
    serverTiming !== undefined && serverTiming !== false && serverTiming !== "summary" &&
    serverTiming !== "detailed"
  ) {
    fail(`"serverTiming" must be "summary", "detailed" or false, got ${quote(serverTiming)}`);
  }

  const security = options.security ?? {};
  const trustedOrigins = new Set(
    compileOrigins(security.csrf?.trustedOrigins, "security.csrf.trustedOrigins"),
  );
  let cors: CompiledCors | null = null;
  const corsOptions = security.cors;
  if (corsOptions?.allowedOrigins !== undefined) {
    const origins = compileOrigins(corsOptions.allowedOrigins, "security.cors.allowedOrigins");
    const anyOrigin = origins.includes("*");
    const credentials = corsOptions.allowCredentials === true;
    if (anyOrigin && credentials) {
      fail(`security.cors.allowedOrigins "*" cannot be combined with allowCredentials`);
    }
    const maxAge = corsOptions.maxAge ?? 600;
    if (!Number.isSafeInteger(maxAge) || maxAge < 0) {
      fail(`"security.cors.maxAge" must be a non-negative integer, got ${quote(maxAge)}`);
    }
    cors = {
      anyOrigin,
      origins: new Set(origins.filter((origin) => origin !== "*")),
      credentials,
      allowedHeaders: (corsOptions.allowedHeaders ?? DEFAULT_CORS_HEADERS).join(", "),
      maxAge: String(maxAge),
    };
  }

  return {
    options,
    shardDO: options.shardDO,
    defaultShardKey,
    maxBodyBytes,
    authBasePath,
    routes: compileRoutes(options.routes, "routes"),
    adminRoutes: compileRoutes(options.adminRoutes, "adminRoutes"),
    trustedOrigins,
    cors,
    headers: compileHeaders(security.headers),
    serverTiming,
    data: dataFields(options),
  };
}

/**
 * Compiles the latest result of an options factory, reusing `previous` when the result has the
 * same keys in the same order, every function where `previous` had one, and every other field
 * the value it was: the very value, or plain data (plain objects and arrays, a few levels deep)
 * with equal contents. A factory typically returns the same bindings, new closures and, built
 * per call, nested settings such as `security` that read the same every time; closures are read
 * from `options` when they are called, and a function where one was valid before is valid
 * again. A route table (`routes`, `adminRoutes`) holds closures too: a new one is compiled on
 * its own, and the rest is reused.
 */
// deno-lint-ignore no-explicit-any
export function recompileOptions<Env = any>(
  options: LunoraOptions<Env>,
  previous: CompiledOptions<Env> | undefined,
): CompiledOptions<Env> {
  if (previous === undefined || typeof options !== "object" || options === null) {
    return compileOptions(options);
  }
  if (!hasSameData(options, previous.data)) return compileOptions(options);
  const before = previous.options;
  return {
    ...previous,
    options,
    routes: options.routes === before.routes
      ? previous.routes
      : compileRoutes(options.routes, "routes"),
    adminRoutes: options.adminRoutes === before.adminRoutes
      ? previous.adminRoutes
      : compileRoutes(options.adminRoutes, "adminRoutes"),
  };
}

/** Stands for any function in {@linkcode CompiledOptions.data}. */
const A_FUNCTION: unique symbol = Symbol("a function");

function dataField(value: unknown): unknown {
  return typeof value === "function" ? A_FUNCTION : value;
}

function dataFields(options: object): unknown[] {
  const data: unknown[] = [];
  for (const key of Object.keys(options)) {
    data.push(key, dataField((options as Record<string, unknown>)[key]));
  }
  return data;
}

function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

/**
 * Whether `options` has the data fields recorded in `data`: the same own keys in the same order
 * and the same values (see {@linkcode sameData}), except that a route table may be another
 * object where there was one, and that `shardDO` must be the very binding it was (the
 * compilation keeps it, and two bindings may hold equal data). `for...in` walks the same own
 * keys in the same order as `Object.keys` without allocating them, and then any inherited ones:
 * an inherited key past the recorded ones is a difference, and one that stands in for a recorded
 * key with the same value reads the same (options are read with `[[Get]]`), so no
 * `Object.hasOwn` per key is needed.
 */
function hasSameData(options: object, data: readonly unknown[]): boolean {
  let i = 0;
  for (const key in options) {
    if (key !== data[i]) return false;
    const value = dataField((options as Record<string, unknown>)[key]);
    const recorded = data[i + 1];
    if (value !== recorded) {
      if (key === "routes" || key === "adminRoutes") {
        if (!(isObject(value) && isObject(recorded))) return false;
      } else if (key === "shardDO" || !sameData(value, recorded, DEPTH)) {
        return false;
      }
    }
    i += 2;
  }
  return i === data.length;
}

/**
 * How many levels of plain data {@linkcode sameData} looks into: `security.cors.allowedOrigins`
 * is three. Anything deeper is compared by identity.
 */
const DEPTH = 4;

/** Whether `value` is an array or an object made by a literal (or with a `null` prototype). */
function isPlainData(value: unknown): value is object {
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) return true;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Whether `value` reads as `recorded`: the same value, a function where there was one, or plain
 * data (arrays, plain objects) with the same own keys and, key by key, such values, down to
 * `depth` levels. Class instances (a `Map`, a binding) and anything deeper count only when they
 * are the very same object. Key order inside plain data does not matter: compiling reads keys by
 * name. Nothing is allocated.
 */
function sameData(value: unknown, recorded: unknown, depth: number): boolean {
  if (value === recorded) return true;
  if (typeof value === "function") return typeof recorded === "function";
  if (depth === 0 || !isPlainData(value) || !isPlainData(recorded)) return false;
  if (Array.isArray(value)) {
    if (!Array.isArray(recorded) || value.length !== recorded.length) return false;
    for (let i = 0; i < value.length; i++) {
      if (!sameData(value[i], recorded[i], depth - 1)) return false;
    }
    return true;
  }
  if (Array.isArray(recorded)) return false;
  const fields = value as Record<string, unknown>;
  const before = recorded as Record<string, unknown>;
  let keys = 0;
  for (const key in fields) {
    if (!Object.hasOwn(before, key) || !sameData(fields[key], before[key], depth - 1)) {
      return false;
    }
    keys++;
  }
  for (const _ in before) keys--;
  return keys === 0;
}
