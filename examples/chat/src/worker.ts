/**
 * The app's one worker: Lunora's real-time plane (`/_lunora/*`), better-auth (`/api/auth/*`) and
 * Astro's pages, composed by `withLunora`. wrangler's `main` points here; `astro build` bundles
 * it with the adapter.
 */
import { handle } from "@astrojs/cloudflare/handler";
import {
  type DurableObjectNamespaceLike,
  type LunoraOptions,
  type SecurityOptions,
  withLunora,
} from "@lunora/astro";
import { type AuthEnv, authNotConfigured, getAuth } from "./auth/auth.ts";
import { isChannel, sessionIdentity } from "./lunora/identity.ts";

// wrangler binds `SHARD` to this class (see wrangler.jsonc).
export { ShardDO } from "./shard/shard_do.ts";

/** The worker's bindings and variables (wrangler.jsonc, `.dev.vars`). */
export interface Env extends AuthEnv {
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
  return { cors: { allowedOrigins: origins, allowCredentials: true } };
}

/** Lunora's options for one invocation: bindings live on `env`, which exists only per call. */
export function lunoraOptions(env: Env): LunoraOptions<Env> {
  const auth = getAuth(env);
  const security = corsFor(env.LUNORA_ALLOWED_ORIGINS ?? "");
  return {
    shardDO: env.SHARD,
    authHandler: (request) => auth ? auth.handler(request) : authNotConfigured(),
    resolveIdentity: (request) => sessionIdentity(auth, request),
    authorizeShard: ({ shardKey }) => isChannel(shardKey),
    ...(security ? { security } : {}),
  };
}

export default withLunora<Env>((request, env, ctx) => handle(request, env, ctx), lunoraOptions);
