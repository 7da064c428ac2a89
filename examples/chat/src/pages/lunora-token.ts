/**
 * `GET /lunora-token`: a short-lived WebSocket token for the signed-in visitor (`401` when signed
 * out). `/cross-origin/*`'s island asks for one before every connect to the API origin's socket
 * (`src/lunora/ws_token.ts`); `LUNORA_WS_TOKEN_TTL` sets its lifetime in seconds (default 600).
 */
import { env } from "cloudflare:workers";
import { getServerSession } from "@lunora/astro/server";
import type { APIRoute } from "astro";
import { type AuthEnv, getAuth } from "../auth/auth.ts";
import { issueWsToken } from "../lunora/ws_token.ts";

const appEnv = env as unknown as AuthEnv & { LUNORA_WS_TOKEN_TTL?: string };

export const GET: APIRoute = async ({ request }) => {
  const auth = getAuth(appEnv);
  const session = auth ? await getServerSession(request, auth) : null;
  if (!session || !appEnv.BETTER_AUTH_SECRET) {
    return Response.json(
      { error: { code: "UNAUTHENTICATED", message: "Sign in first" } },
      { status: 401, headers: { "cache-control": "no-store" } },
    );
  }
  const ttl = Number(appEnv.LUNORA_WS_TOKEN_TTL) || 600;
  const token = await issueWsToken(
    appEnv.BETTER_AUTH_SECRET,
    { userId: session.user.id, name: session.user.name },
    ttl,
  );
  return Response.json({ token }, { headers: { "cache-control": "no-store" } });
};
