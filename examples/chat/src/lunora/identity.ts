/**
 * Who is calling: the better-auth session the request carries, as its session cookie (pages,
 * the browser's `/_lunora/rpc` calls and `/_lunora/ws` upgrade) or as
 * `Authorization: Bearer <session token>` (a server on another origin). The worker turns the
 * result into `x-lunora-userid` and `x-lunora-identity` for the shard; identity headers a
 * client sends are always stripped.
 */
import type { LunoraIdentity } from "@lunora/astro";
import type { ChatAuth } from "../auth/auth.ts";
import { CHANNEL } from "../shard/functions.ts";
import { verifyWsToken } from "./ws_token.ts";

const SESSION_COOKIE = /(?:^|;\s*)(?:__Secure-)?better-auth\.session_token=/;

/** True when the request carries something a session could be read from. */
export function carriesCredentials(headers: Headers): boolean {
  const authorization = headers.get("authorization");
  if (authorization !== null && /^bearer\s+\S/i.test(authorization)) {
    return true;
  }
  return SESSION_COOKIE.test(headers.get("cookie") ?? "");
}

/**
 * `resolveIdentity` for `withLunora`: the signed-in user's id, plus their display name as a
 * claim. A socket upgrade with `?token=` is who its WebSocket token names (`ws_token.ts`, with
 * its expiry as the `exp` claim, which the shard enforces), or anonymous. Other requests without
 * a session cookie or bearer token are anonymous without a database read.
 */
export async function sessionIdentity(
  auth: ChatAuth | null,
  request: Request,
  secret?: string,
): Promise<LunoraIdentity | null> {
  const url = new URL(request.url);
  const token = url.pathname === "/_lunora/ws" ? url.searchParams.get("token") : null;
  if (token !== null) return secret ? await verifyWsToken(secret, token) : null;
  if (auth === null || !carriesCredentials(request.headers)) return null;
  const session = await auth.api.getSession({ headers: request.headers });
  if (!session) return null;
  return { userId: session.user.id, name: session.user.name };
}

/** Every channel is public in this demo; other shard keys are refused. */
export function isChannel(shardKey: string): boolean {
  return CHANNEL.test(shardKey);
}
