/**
 * Caller identity and the tenant gate: who is calling, which shard they may reach, and the
 * identity headers the shard receives (always minted here, never taken from the client).
 *
 * @module
 */
import type { CompiledOptions } from "./compile_options.ts";
import { PlaneError } from "./errors.ts";
import type { LunoraIdentity } from "./options.ts";

const encoder = new TextEncoder();

// The last claims encoded, and their encoding: a caller's claims repeat request after request.
// The value depends on the text alone, so sharing it between requests reveals nothing.
let lastText = "";
let lastEncoded = "";

function base64url(text: string): string {
  if (text === lastText) return lastEncoded;
  const bytes = encoder.encode(text);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  lastEncoded = btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  lastText = text;
  return lastEncoded;
}

/**
 * Runs `resolveIdentity`. Anything but an object with a non-empty string `userId` — including a
 * throw — means anonymous (`null`).
 */
export async function resolveCaller<Env>(
  compiled: CompiledOptions<Env>,
  request: Request,
  env: Env,
): Promise<LunoraIdentity | null> {
  const resolve = compiled.options.resolveIdentity;
  if (!resolve) return null;
  try {
    const identity = await resolve(request, env);
    if (
      typeof identity === "object" && identity !== null && typeof identity.userId === "string" &&
      identity.userId !== ""
    ) {
      return identity;
    }
  } catch {
    // A throwing resolver denies: the caller is treated as anonymous.
  }
  return null;
}

/**
 * Throws 403 `FORBIDDEN_SHARD` unless the caller may reach `shardKey`: the default shard is
 * open; any other needs `allowUnauthenticatedShardAccess` or `authorizeShard` returning exactly
 * `true` (a throw denies).
 */
export async function assertShardAccess<Env>(
  compiled: CompiledOptions<Env>,
  identity: LunoraIdentity | null,
  shardKey: string,
  request: Request,
): Promise<void> {
  if (shardKey === compiled.defaultShardKey) return;
  if (compiled.options.allowUnauthenticatedShardAccess === true) return;
  const authorize = compiled.options.authorizeShard;
  let granted = false;
  if (authorize) {
    try {
      granted = (await authorize({ identity, shardKey, request })) === true;
    } catch {
      granted = false;
    }
  }
  if (!granted) throw new PlaneError(403, "FORBIDDEN_SHARD", "Access to this shard is not allowed");
}

/** Deletes every `x-lunora-*` header a client sent. */
export function stripLunoraHeaders(headers: Headers): void {
  const names: string[] = [];
  headers.forEach((_value, name) => {
    if (name.startsWith("x-lunora-")) names.push(name);
  });
  for (const name of names) headers.delete(name);
}

/**
 * Sets `x-lunora-userid` and `x-lunora-identity` (base64url of the UTF-8 JSON of the claims
 * without `userId`, omitted when there are none) for `identity`.
 */
export function setIdentityHeaders(
  headers: Headers | Record<string, string>,
  identity: LunoraIdentity | null,
): void {
  if (identity === null) return;
  const { userId, ...claims } = identity;
  const encoded = Object.keys(claims).length > 0 ? base64url(JSON.stringify(claims)) : undefined;
  if (headers instanceof Headers) {
    headers.set("x-lunora-userid", userId);
    if (encoded !== undefined) headers.set("x-lunora-identity", encoded);
  } else {
    headers["x-lunora-userid"] = userId;
    if (encoded !== undefined) headers["x-lunora-identity"] = encoded;
  }
}
