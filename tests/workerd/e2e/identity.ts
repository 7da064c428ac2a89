/**
 * Identity continuity on workerd with better-auth: the page's server render (the preload) and
 * the live WebSocket subscription run as the same user, on the same origin (session cookie,
 * in-process preload) and with the Lunora API on a second loopback origin (bearer token from
 * `getServerSession` for the preload, the browser's cookie on the socket). Signed-out visitors
 * are anonymous in both.
 *
 * The shard itself says who it saw: `messages:list` returns `viewer`, built from the
 * `x-lunora-userid` header and claims the worker minted, both in the SSR token and in every
 * socket `data` frame.
 *
 * @module
 */
import { assert, check } from "../report.ts";
import type { UsersContext } from "./checks.ts";
import {
  authPost,
  browserHeaders,
  page,
  readToken,
  rpc,
  sessionCookie,
  signUp,
  Subscriber,
  type Token,
  type User,
  wsUrl,
} from "../client.ts";
import type { TcpProxy } from "../tcp_proxy.ts";

type Viewer = Token["value"]["viewer"];

/** The identity checks' context: the users, plus the API's second origin. */
export interface IdentityContext extends UsersContext {
  /** A relay on another loopback port to the same server: the "API origin". */
  api: TcpProxy;
  /** `http://127.0.0.1:<api.port>`, the app's `LUNORA_API_URL`. */
  apiOrigin: string;
}

/** What the server render shows and embeds: the `#viewer` label's user id and the token. */
async function rendered(
  origin: string,
  path: string,
  cookie?: string,
): Promise<{ html: string; shown: string; token: Token }> {
  const { status, text } = await page(origin, path, cookie);
  assert(status === 200, `GET ${path} answered ${status}`);
  // Astro writes an empty attribute bare: `data-user-id` for anonymous.
  const attribute = /id="viewer" data-user-id(?:="([^"]*)")?[\s>]/.exec(text);
  const shown = attribute ? attribute[1] ?? "" : undefined;
  assert(shown !== undefined, `GET ${path} has no #viewer[data-user-id]`);
  return { html: text, shown, token: readToken(text) };
}

/** The `viewer` in the first `data` frame of a `messages:list` subscription. */
async function socketViewer(
  url: string,
  headers: Record<string, string>,
  channel: string,
): Promise<Viewer> {
  const subscriber = new Subscriber(url, headers);
  try {
    await subscriber.opened;
    subscriber.subscribe("sub_1", "messages:list", { channel });
    const frame = await subscriber.next((f) => f.type === "data" && f.id === "sub_1");
    return frame.data.viewer;
  } finally {
    await subscriber.close();
  }
}

function idOf(viewer: Viewer): string {
  return viewer === null ? "anonymous" : viewer.userId;
}

/** Same origin: sign-in, SSR and socket agree; signed out and after sign-out: anonymous. */
export async function checkSameOriginIdentity(ctx: UsersContext): Promise<void> {
  const { server, channel, users } = ctx;
  const origin = server.origin;
  const path = `/channels/${channel}`;

  await check(
    ctx,
    "identity: after sign-in, the SSR preload and the live socket run as the same user",
    async () => {
      const { bob } = users;
      const signIn = await authPost(origin, "/sign-in/email", {
        email: bob.email,
        password: bob.password,
      });
      assert(signIn.status === 200, `sign-in answered ${signIn.status}`);
      const cookie = sessionCookie(signIn.headers);
      assert(cookie !== bob.cookie, "sign-in reused the sign-up session");
      const ssr = await rendered(origin, path, cookie);
      assert(typeof signIn.body?.token === "string", "sign-in returned no session token");
      assertNoSecrets(ssr.html, { cookie, token: signIn.body.token });
      const ws = await socketViewer(
        wsUrl(origin, channel),
        browserHeaders(origin, cookie),
        channel,
      );
      assert(
        ssr.token.value.viewer?.userId === bob.id,
        `SSR viewer ${idOf(ssr.token.value.viewer)}`,
      );
      assert(ssr.shown === bob.id, `the page shows user ${ssr.shown}`);
      assert(ws?.userId === bob.id, `socket viewer ${idOf(ws)}`);
      assert(ssr.token.value.viewer?.name === "bob" && ws?.name === "bob", "name claim missing");
      return `signed in as ${bob.id}; SSR viewer ${idOf(ssr.token.value.viewer)}, socket viewer ${
        idOf(ws)
      }`;
    },
  );

  await check(
    ctx,
    "identity: a signed-out visitor is anonymous in SSR and on the socket",
    async () => {
      const ssr = await rendered(origin, path);
      const ws = await socketViewer(wsUrl(origin, channel), browserHeaders(origin), channel);
      assert(ssr.token.value.viewer === null, `SSR viewer ${idOf(ssr.token.value.viewer)}`);
      assert(ssr.shown === "" && ssr.html.includes("anonymous"), "the page does not say anonymous");
      assert(ws === null, `socket viewer ${idOf(ws)}`);
      return "SSR viewer anonymous, socket viewer anonymous";
    },
  );

  await check(ctx, "identity: after sign-out the old cookie is anonymous in both", async () => {
    const gina = await signUp(origin, "gina");
    const before = await rendered(origin, path, gina.cookie);
    assert(before.token.value.viewer?.userId === gina.id, "gina was not signed in");
    const out = await authPost(origin, "/sign-out", {}, gina.cookie);
    assert(out.status === 200, `sign-out answered ${out.status}`);
    const ssr = await rendered(origin, path, gina.cookie);
    const ws = await socketViewer(
      wsUrl(origin, channel),
      browserHeaders(origin, gina.cookie),
      channel,
    );
    assert(ssr.token.value.viewer === null, `SSR viewer ${idOf(ssr.token.value.viewer)}`);
    assert(ws === null, `socket viewer ${idOf(ws)}`);
    return `${gina.id} signed out: the revoked session is anonymous in SSR and on the socket`;
  });

  await check(ctx, "identity: Authorization: Bearer <session token> is the same user", async () => {
    const { bob } = users;
    const envelope = { functionPath: "messages:list", args: { channel }, shardKey: channel };
    const bearer = await rpc(origin, envelope, { authorization: `Bearer ${bob.token}` });
    assert(bearer.status === 200, `bearer RPC answered ${bearer.status}`);
    const seen: Viewer = bearer.body.result.viewer;
    assert(seen?.userId === bob.id, `bearer viewer ${idOf(seen)}`);
    const forged = await rpc(origin, envelope, {
      authorization: `Bearer ${bob.token.slice(0, -2)}xx`,
    });
    assert(forged.status === 200, `forged bearer RPC answered ${forged.status}`);
    assert(forged.body.result.viewer === null, "a wrong token was accepted");
    return `bearer ${idOf(seen)}; a wrong token is anonymous`;
  });
}

/** Neither the session token nor the cookie's signature appears in the page. */
function assertNoSecrets(html: string, user: Pick<User, "cookie" | "token">): void {
  const signed = decodeURIComponent(user.cookie.slice(user.cookie.indexOf("=") + 1));
  assert(!html.includes(user.token), "the session token is in the HTML");
  assert(!html.includes(signed.split(".")[1]!), "the session cookie's signature is in the HTML");
  assert(!/better-auth\.session_token/.test(html), "the session cookie name is in the HTML");
}

/**
 * Different origin: `/cross-origin/<channel>` resolves the session with `getServerSession`,
 * preloads over HTTP from the API origin with the session token as a bearer token, and never
 * writes the token into the HTML; the island's socket to the API origin carries the browser's
 * cookie from a CORS-trusted origin. Both see the same user; signed out, both are anonymous.
 */
export async function checkCrossOriginIdentity(ctx: IdentityContext): Promise<void> {
  const { server, channel, users, api, apiOrigin } = ctx;
  const origin = server.origin;
  const path = `/cross-origin/${channel}`;
  const stats = async (): Promise<number> => {
    const response = await fetch(`${origin}/_lunora/admin/stats`, {
      headers: { authorization: `Bearer ${ctx.adminToken}` },
    });
    assert(response.status === 200, `admin stats answered ${response.status}`);
    return (await response.json()).rpcRequests;
  };

  await check(
    ctx,
    "identity, other origin: the preload and the socket to the API origin run as the same user",
    async () => {
      const { carol } = users;
      const rpcBefore = await stats();
      const relayedBefore = api.connections;
      const ssr = await rendered(origin, path, carol.cookie);
      const rpcAfter = await stats();
      assert(
        ssr.html.includes(`data-api-url="${apiOrigin}"`),
        `the island is not pointed at ${apiOrigin}`,
      );
      assert(
        rpcAfter === rpcBefore + 1,
        `the render made ${rpcAfter - rpcBefore} HTTP RPCs, not 1`,
      );
      assert(api.connections > relayedBefore, "the preload did not go through the API origin");
      assertNoSecrets(ssr.html, carol);
      const ws = await socketViewer(
        wsUrl(apiOrigin, channel),
        browserHeaders(origin, carol.cookie),
        channel,
      );
      assert(
        ssr.token.value.viewer?.userId === carol.id,
        `SSR viewer ${idOf(ssr.token.value.viewer)}`,
      );
      assert(ssr.shown === carol.id, `the page shows user ${ssr.shown}`);
      assert(ws?.userId === carol.id, `socket viewer ${idOf(ws)}`);
      return `user ${carol.id}: SSR (bearer via ${apiOrigin}) ${
        idOf(ssr.token.value.viewer)
      }, socket (cookie, Origin ${origin}) ${idOf(ws)}; token not in the HTML`;
    },
  );

  await check(ctx, "identity, other origin: CORS lets the app origin call the API", async () => {
    const preflight = await fetch(`${apiOrigin}/_lunora/rpc`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    await preflight.body?.cancel();
    assert(preflight.status === 204, `preflight answered ${preflight.status}`);
    assert(
      preflight.headers.get("access-control-allow-origin") === origin &&
        preflight.headers.get("access-control-allow-credentials") === "true",
      "preflight lacks the app origin or credentials",
    );
    const evil = await fetch(`${apiOrigin}/_lunora/rpc`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.test", "access-control-request-method": "POST" },
    });
    await evil.body?.cancel();
    assert(evil.status === 403, `preflight from another site answered ${evil.status}`);
    return `preflight from ${origin}: 204 with credentials; from evil.test: 403`;
  });

  await check(ctx, "identity, other origin: signed out, anonymous in both", async () => {
    const ssr = await rendered(origin, path);
    const ws = await socketViewer(wsUrl(apiOrigin, channel), browserHeaders(origin), channel);
    assert(ssr.token.value.viewer === null, `SSR viewer ${idOf(ssr.token.value.viewer)}`);
    assert(ws === null, `socket viewer ${idOf(ws)}`);
    return "SSR viewer anonymous, socket viewer anonymous";
  });
}
