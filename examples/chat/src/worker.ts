/**
 * The app's one worker: Lunora's real-time plane (`/_lunora/*`) and Astro's pages, composed by
 * `withLunora`. wrangler's `main` points here; `astro build` bundles it with the adapter.
 */
import { handle } from "@astrojs/cloudflare/handler";
import { type DurableObjectNamespaceLike, withLunora } from "@lunora/astro";
import { demoIdentity, isChannel } from "./lunora/identity.ts";
import { countRpcRequests, rpcStats } from "./lunora/rpc_counter.ts";

// wrangler binds `SHARD` to this class (see wrangler.jsonc).
export { ShardDO } from "./shard/shard_do.ts";

interface Env {
  SHARD: DurableObjectNamespaceLike;
  /** Enables `/_lunora/admin/*`; unset means every admin request is refused. */
  LUNORA_ADMIN_TOKEN?: string;
}

const worker = withLunora<Env>(
  (request, env, ctx) => handle(request, env, ctx),
  // A factory: bindings live on `env`, which exists only per invocation.
  (env) => ({
    shardDO: env.SHARD,
    resolveIdentity: (request) => demoIdentity(request),
    authorizeShard: ({ shardKey }) => isChannel(shardKey),
    adminRoutes: { "GET /_lunora/admin/stats": () => rpcStats() },
  }),
);

export default countRpcRequests(worker);
