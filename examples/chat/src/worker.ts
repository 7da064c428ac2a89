/**
 * The app's one worker: Lunora's real-time plane (`/_lunora/*`), better-auth (`/api/auth/*`) and
 * Astro's pages, composed by `withLunora`. wrangler's `main` points here; `astro build` bundles
 * it with the adapter.
 */
import { handle } from "@astrojs/cloudflare/handler";
import { type DurableObjectNamespaceLike, withLunora } from "@lunora/astro";
import { type AuthEnv, authNotConfigured, getAuth } from "./auth/auth.ts";
import { isChannel, sessionIdentity } from "./lunora/identity.ts";
import { countRpcRequests, rpcStats } from "./lunora/rpc_counter.ts";

// wrangler binds `SHARD` to this class (see wrangler.jsonc).
export { ShardDO } from "./shard/shard_do.ts";

interface Env extends AuthEnv {
  SHARD: DurableObjectNamespaceLike;
  /** Enables `/_lunora/admin/*`; unset means every admin request is refused. */
  LUNORA_ADMIN_TOKEN?: string;
  /**
   * Comma-separated origins whose pages may call this worker's Lunora API from the browser
   * with the user's cookie (an app served on another origin, see `/cross-origin/*`).
   */
  LUNORA_ALLOWED_ORIGINS?: string;
}

function allowedOrigins(env: Env): string[] {
  return (env.LUNORA_ALLOWED_ORIGINS ?? "").split(",").map((origin) => origin.trim())
    .filter((origin) => origin !== "");
}

const worker = withLunora<Env>(
  (request, env, ctx) => handle(request, env, ctx),
  // A factory: bindings live on `env`, which exists only per invocation.
  (env) => {
    const auth = getAuth(env);
    const origins = allowedOrigins(env);
    return {
      shardDO: env.SHARD,
      authHandler: (request) => auth ? auth.handler(request) : authNotConfigured(),
      resolveIdentity: (request) => sessionIdentity(auth, request),
      authorizeShard: ({ shardKey }) => isChannel(shardKey),
      adminRoutes: { "GET /_lunora/admin/stats": () => rpcStats() },
      ...(origins.length > 0
        ? {
          security: {
            cors: {
              allowedOrigins: origins,
              allowCredentials: true,
              // The island's sends carry Lunora's mutation and client ids.
              allowedHeaders: [
                "content-type",
                "authorization",
                "x-lunora-mutation-id",
                "x-lunora-client-id",
              ],
            },
          },
        }
        : {}),
    };
  },
);

export default countRpcRequests(worker);
