/**
 * The worker the end-to-end, soak and `astro dev` runs serve (wrangler's `main` in the app under
 * test): the example's own composition (`withLunora` with its `lunoraOptions`) plus what only
 * the tests need. Those are the RPC counter (`rpc_counter.ts`), answered at the admin route
 * `GET /_lunora/admin/stats`; the socket probes of `socket_control.ts`, at the admin routes
 * `/_lunora/admin/sockets` and `/_lunora/admin/close-sockets`; and the example's shard with
 * the fault functions and probes (`shard_do.ts`), exported under the name wrangler.jsonc binds.
 */
import { handle } from "@astrojs/cloudflare/handler";
import { withLunora } from "@lunora/astro";
import { type Env, lunoraOptions } from "../../../../examples/chat/src/worker.ts";
import { countRpcRequests, rpcStats } from "./rpc_counter.ts";
import { socketAdminRoutes } from "./socket_control.ts";

export { ShardUnderTest as ShardDO } from "./shard_do.ts";

// One table for every call, so withLunora keeps the options it compiled.
const adminRoutes = {
  "GET /_lunora/admin/stats": () => rpcStats(),
  ...socketAdminRoutes<Env>(),
};

// `shardDO` is named here too, as the example's own entry names it: `lunora()` reads this file
// (its `serverEntry`) for the shard binding it checks and the dev toolbar shows.
const worker = withLunora<Env>(
  (request, env, ctx) => handle(request, env, ctx),
  (env) => ({ ...lunoraOptions(env), shardDO: env.SHARD, adminRoutes }),
);

export default countRpcRequests(worker);
