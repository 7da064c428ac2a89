/**
 * The reference the bare-workerd memory check measures `withLunora` against: the host and shard
 * of `bare_app.ts` behind the smallest router a user could write by hand for the same traffic.
 * `/_lunora/rpc` reads the body under the same 1 MiB cap, parses the envelope and forwards it to
 * the shard named by `shardKey`; `/_lunora/status` answers a JSON object; other reserved paths
 * answer 404; everything else goes to the host, a throw logged (as Astro's handler and
 * `withLunora` log it) and answered with a plain 500. Bundled with `deno bundle` by `bare.ts`
 * and served by the same workerd binary in the same run.
 *
 * @module
 */
import type { DurableObjectNamespaceLike } from "../../../src/types.ts";
import { host } from "./bare_app.ts";

export { Shard } from "./bare_app.ts";

const MAX_BODY_BYTES = 1_048_576;

async function rpc(request: Request, shards: DurableObjectNamespaceLike): Promise<Response> {
  const length = Number(request.headers.get("content-length") ?? NaN);
  if (!(length <= MAX_BODY_BYTES)) return new Response("too large", { status: 413 });
  const body = await request.text();
  let shardKey: unknown;
  try {
    ({ shardKey } = JSON.parse(body) as { shardKey?: unknown });
  } catch {
    return new Response("bad envelope", { status: 400 });
  }
  const stub = shards.get(shards.idFromName(typeof shardKey === "string" ? shardKey : "default"));
  return await stub.fetch(
    new Request("https://shard.internal/rpc", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    }),
  );
}

/** The hand-written worker. */
export default {
  async fetch(request: Request, env: { SHARD: DurableObjectNamespaceLike }): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === "/_lunora/rpc" && request.method === "POST") {
      return await rpc(request, env.SHARD);
    }
    if (pathname === "/_lunora/status") return Response.json({ ok: true });
    if (pathname.startsWith("/_lunora/")) return new Response("not found", { status: 404 });
    try {
      return host(request);
    } catch (error) {
      console.error("[app] The page failed:", error);
      return new Response("Internal Server Error", { status: 500 });
    }
  },
};
