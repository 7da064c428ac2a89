/**
 * The app's one worker: Lunora's real-time plane (`/_lunora/*`), better-auth (`/api/auth/*`) and
 * Astro's pages, composed by `withLunora`. wrangler's `main` points here; `astro build` bundles
 * it with the adapter.
 */
import { handle } from "@astrojs/cloudflare/handler";
import { type DurableObjectNamespaceLike, type SecurityOptions, withLunora } from "@lunora/astro";
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

/** The CORS setting for one `LUNORA_ALLOWED_ORIGINS` value (none without origins). */
function corsFor(list: string): SecurityOptions | undefined {
  const origins = list.split(",").map((origin) => origin.trim()).filter((origin) => origin !== "");
  if (origins.length === 0) return undefined;
  return {
    cors: {
      allowedOrigins: origins,
      allowCredentials: true,
    },
  };
}

// Made once per value, so the factory returns the same object on every call and withLunora
// keeps its compiled options instead of compiling them again for each request.
let security: { list: string; options: SecurityOptions | undefined } | undefined;

function securityFor(env: Env): SecurityOptions | undefined {
  const list = env.LUNORA_ALLOWED_ORIGINS ?? "";
  if (security?.list !== list) security = { list, options: corsFor(list) };
  return security.options;
}

const worker = withLunora<Env>(
  (request, env, ctx) => handle(request, env, ctx),
  // A factory: bindings live on `env`, which exists only per invocation.
  (env) => {
    const auth = getAuth(env);
    const cors = securityFor(env);
    return {
      shardDO: env.SHARD,
      authHandler: (request) => auth ? auth.handler(request) : authNotConfigured(),
      resolveIdentity: (request) => sessionIdentity(auth, request, env.BETTER_AUTH_SECRET),
      authorizeShard: ({ shardKey }) => isChannel(shardKey),
      adminRoutes: { "GET /_lunora/admin/stats": () => rpcStats() },
      ...(cors ? { security: cors } : {}),
    };
  },
);

export default countRpcRequests(worker);
