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
  return pathname === base || pathname.startsWith(base.endsWith("/") ? base : `${base}/`);
}
