/**
 * Edge security for the reserved plane: baseline response headers, CSRF checks for
 * cookie-bearing requests, and CORS.
 *
 * @module
 */
import type { CompiledCors, CompiledHeaders, CompiledOptions } from "./compile_options.ts";
import { errorResponse, PlaneError } from "./errors.ts";

/**
 * Returns `response` with `headers` applied. Responses whose headers are immutable (such as
 * those a Durable Object stub returns on workerd) are copied first.
 */
export function setHeaders(
  response: Response,
  headers: ReadonlyArray<readonly [string, string]>,
  onlyIfAbsent: boolean,
): Response {
  let target = response;
  for (const [name, value] of headers) {
    if (onlyIfAbsent && target.headers.has(name)) continue;
    try {
      target.headers.set(name, value);
    } catch {
      target = new Response(target.body, target);
      target.headers.set(name, value);
    }
  }
  return target;
}

/** Adds the baseline security headers where absent; a 101 response is returned untouched. */
export function withBaselineHeaders(
  response: Response,
  request: Request,
  headers: CompiledHeaders | null,
): Response {
  if (response.status === 101 || headers === null) return response;
  const list: Array<readonly [string, string]> = [
    ["x-content-type-options", "nosniff"],
    ["referrer-policy", "strict-origin-when-cross-origin"],
    ["x-frame-options", "SAMEORIGIN"],
    ["cross-origin-opener-policy", "same-origin"],
  ];
  if (headers.csp && response.headers.get("content-type")?.includes("json")) {
    list.push(["content-security-policy", headers.csp]);
  }
  if (headers.hsts && request.url.startsWith("https:")) {
    list.push(["strict-transport-security", headers.hsts]);
  }
  return setHeaders(response, list, true);
}

function originOf(value: string | null): string | null {
  if (value === null) return null;
  try {
    return new URL(value).origin;
  } catch {
    return "null";
  }
}

/**
 * The origin prefix of an absolute, normalized URL string (`scheme://host[:port]`), or `""`
 * when it carries credentials (then only a full parse gives the origin).
 */
function ownOrigin(url: string): string {
  const authority = url.indexOf("//") + 2;
  let end = url.indexOf("/", authority);
  if (end === -1) end = url.length;
  const origin = url.slice(0, end);
  return origin.includes("@") ? "" : origin;
}

function corsAllows(cors: CompiledCors | null, origin: string): boolean {
  return cors !== null && (cors.anyOrigin || cors.origins.has(origin));
}

/**
 * Throws 403 `FORBIDDEN_ORIGIN` for a cookie-bearing request that another site may have
 * forged. `always` checks safe methods too (WebSocket upgrades are GETs).
 */
export function assertSameOrigin(
  request: Request,
  compiled: CompiledOptions,
  always: boolean,
): void {
  const method = request.method;
  if (!always && (method === "GET" || method === "HEAD" || method === "OPTIONS")) return;
  if (!request.headers.has("cookie")) return;
  const header = request.headers.get("origin");
  // Fast path: an `Origin` spelled exactly as the request's own origin needs no parsing.
  if (header !== null && header === ownOrigin(request.url)) return;
  const origin = originOf(header) ?? originOf(request.headers.get("referer"));
  if (origin !== null) {
    const trusted = origin === new URL(request.url).origin ||
      compiled.trustedOrigins.has(origin) ||
      (compiled.cors !== null && compiled.cors.origins.has(origin));
    if (trusted) return;
  } else if (request.headers.get("sec-fetch-site") !== "cross-site") {
    // No Origin, no Referer: a server-to-server caller (browsers always send one of them).
    return;
  }
  throw new PlaneError(403, "FORBIDDEN_ORIGIN", "Cross-site request refused");
}

/**
 * Answers a CORS preflight when CORS is on: 204 with the exact origin echoed for an allowed
 * origin, 403 without any `Access-Control-*` header otherwise. Returns `undefined` when the
 * request is not a preflight or CORS is off.
 */
export function preflight(request: Request, cors: CompiledCors | null): Response | undefined {
  if (cors === null || request.method !== "OPTIONS") return undefined;
  const origin = request.headers.get("origin");
  if (origin === null || !request.headers.has("access-control-request-method")) return undefined;
  if (!corsAllows(cors, origin)) {
    return errorResponse(403, "FORBIDDEN_ORIGIN", "Origin not allowed");
  }
  const headers = new Headers({
    "access-control-allow-origin": origin,
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-allow-headers": cors.allowedHeaders,
    "access-control-max-age": cors.maxAge,
    "vary": "Origin",
  });
  if (cors.credentials) headers.set("access-control-allow-credentials", "true");
  return new Response(null, { status: 204, headers });
}

/** Adds CORS headers to an actual response for an allowed origin. */
export function withCors(
  response: Response,
  request: Request,
  cors: CompiledCors | null,
): Response {
  const origin = request.headers.get("origin");
  if (cors === null || origin === null || response.status === 101 || !corsAllows(cors, origin)) {
    return response;
  }
  const list: Array<readonly [string, string]> = [
    ["access-control-allow-origin", origin],
    ["vary", "Origin"],
    ["access-control-expose-headers", "x-lunora-shard-key"],
  ];
  if (cors.credentials) list.push(["access-control-allow-credentials", "true"]);
  return setHeaders(response, list, false);
}
