/**
 * Classifies request paths: Lunora's canonical reserved endpoints, the rest of the reserved
 * `/_lunora` prefix (always 404), and everything else (Astro's).
 *
 * @module
 */

/** Which reserved endpoint a canonical path names. */
export type ReservedEndpoint = "status" | "rpc" | "rpc-batch" | "ws" | "admin";

const CANONICAL: ReadonlyMap<string, ReservedEndpoint> = new Map([
  ["/_lunora/status", "status"],
  ["/_lunora/rpc", "rpc"],
  ["/_lunora/rpc-batch", "rpc-batch"],
  ["/_lunora/ws", "ws"],
]);

/** The admin prefix; admin sub-paths are plain segments (no encoding, no dot segments). */
export const ADMIN_PREFIX = "/_lunora/admin/";
const ADMIN_PATH = /^\/_lunora\/admin(?:\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)+$/;

function decodeOnce(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

/**
 * Whether `pathname` falls under the reserved `/_lunora` prefix in any spelling: decoded once,
 * lowercased, with repeated leading slashes and `./` segments folded.
 */
export function isReservedPrefix(pathname: string): boolean {
  // Fast path for the common page request: a second character that can start no spelling of
  // "/_lunora" ("_", "%" for encodings, "/" or "." for folded segments).
  const second = pathname.charCodeAt(1);
  if (second !== 95 && second !== 37 && second !== 47 && second !== 46) return false;
  let path = decodeOnce(pathname).toLowerCase();
  let previous;
  do {
    previous = path;
    path = path.replace(/^\/(?:\/|\.\/)+/, "/");
  } while (path !== previous);
  return path.startsWith("/_lunora");
}

/**
 * The endpoint a reserved pathname names when it is spelled exactly canonically, else
 * `undefined` (which, under the reserved prefix, means 404).
 */
export function canonicalEndpoint(pathname: string): ReservedEndpoint | undefined {
  const endpoint = CANONICAL.get(pathname);
  if (endpoint) return endpoint;
  return ADMIN_PATH.test(pathname) ? "admin" : undefined;
}

/** Whether `pathname` is `base` itself or below it. */
export function isUnder(pathname: string, base: string): boolean {
  // No `${base}/` per call: most paths (every page) fail `startsWith(base)` outright.
  return pathname.startsWith(base) &&
    (pathname.length === base.length || base.endsWith("/") ||
      pathname.charCodeAt(base.length) === 47);
}

/**
 * The pathname of an absolute, already-normalized URL string (as `request.url` always is),
 * without building a `URL` object on the hot path.
 */
export function pathnameOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  let end = url.length;
  const query = url.indexOf("?", start);
  if (query !== -1) end = query;
  const hash = url.indexOf("#", start);
  if (hash !== -1 && hash < end) end = hash;
  return url.slice(start, end);
}
