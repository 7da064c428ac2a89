/**
 * `/_lunora/admin/*`: a bearer token compared in constant time, or `adminGate`; fail closed.
 * `POST /_lunora/admin/rpc` runs a function on any shard as the system; `adminRoutes` mount
 * user handlers behind the same gate.
 *
 * @module
 */
import type { CompiledOptions } from "./compile_options.ts";
import { PlaneError } from "./errors.ts";
import type { PlaneContext } from "./plane_context.ts";
import { forwardCall, readCall } from "./rpc.ts";

const encoder = new TextEncoder();

interface SubtleWithTimingSafeEqual {
  timingSafeEqual?(a: ArrayBuffer | ArrayBufferView, b: ArrayBuffer | ArrayBufferView): boolean;
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/**
 * Compares two secrets without leaking where they differ: both are hashed to 32 bytes first, so
 * neither length nor content shapes the comparison time.
 */
export async function secretsEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256(given), sha256(expected)]);
  const subtle = crypto.subtle as unknown as SubtleWithTimingSafeEqual;
  if (typeof subtle.timingSafeEqual === "function") return subtle.timingSafeEqual(a, b);
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

function adminToken<Env>(compiled: CompiledOptions<Env>, env: Env): string | undefined {
  const own = compiled.options.adminToken;
  if (own !== undefined) return own === "" ? undefined : own;
  const fromEnv = typeof env === "object" && env !== null
    ? (env as Record<string, unknown>).LUNORA_ADMIN_TOKEN
    : undefined;
  return typeof fromEnv === "string" && fromEnv !== "" ? fromEnv : undefined;
}

async function granted(plane: PlaneContext): Promise<boolean> {
  const { request, compiled, env } = plane;
  const token = adminToken(compiled, env);
  const authorization = request.headers.get("authorization");
  if (token !== undefined && authorization !== null) {
    const match = /^Bearer +(\S+)\s*$/i.exec(authorization);
    if (match && await secretsEqual(match[1]!, token)) return true;
  }
  const gate = compiled.options.adminGate;
  if (gate) {
    try {
      return (await gate(request)) === true;
    } catch {
      return false;
    }
  }
  return false;
}

/** Answers `/_lunora/admin/*`. */
export async function handleAdmin(plane: PlaneContext): Promise<Response> {
  if (!await granted(plane)) {
    throw new PlaneError(403, "ADMIN_FORBIDDEN", "Admin access denied");
  }
  const { request, url, compiled, env, ctx } = plane;
  if (url.pathname === "/_lunora/admin/rpc") {
    const call = await readCall(plane);
    return await forwardCall(compiled, env, request, call, { idempotent: false, system: true });
  }
  const route = compiled.adminRoutes.get(`${request.method} ${url.pathname}`) ??
    compiled.adminRoutes.get(url.pathname);
  if (!route) throw new PlaneError(404, "NOT_FOUND", "Not found");
  const response = await route(request, env, ctx);
  if (!(response instanceof Response)) throw new Error("Admin route returned a non-Response value");
  return response;
}
