/**
 * What the composition costs in-process: the fall-through to Astro, and a full `/_lunora/rpc`
 * dispatch, each against its bare baseline in the same run.
 *
 *   deno bench --unstable-unsafe-proto bench/with_lunora_bench.ts
 */
import { withLunora } from "../mod.ts";
import type { DurableObjectNamespaceLike } from "../src/types.ts";

const ctx = { waitUntil() {} };
const page = new Response("<html>page</html>");
const host = (_request: Request) => page;

const shardAnswer = () =>
  new Response('{"result":[]}', { headers: { "content-type": "application/json" } });
const stub = { fetch: (_request: Request) => Promise.resolve(shardAnswer()) };
const shardDO: DurableObjectNamespaceLike = {
  idFromName: (name) => ({ toString: () => name }),
  get: () => stub,
  getByName: () => stub,
};
const env = { SHARD: shardDO };
const worker = withLunora(host, (e: typeof env) => ({ shardDO: e.SHARD }));
const objectWorker = withLunora(host, { shardDO });

const pageRequest = new Request("https://app.test/blog/hello", { headers: { cookie: "s=1" } });

Deno.bench("host called directly", { group: "fall-through", baseline: true }, async () => {
  await host(pageRequest);
});
Deno.bench("withLunora (factory form) → host", { group: "fall-through" }, async () => {
  await worker.fetch(pageRequest, env, ctx);
});
Deno.bench("withLunora (object form) → host", { group: "fall-through" }, async () => {
  await objectWorker.fetch(pageRequest, env, ctx);
});

const envelope = '{"functionPath":"messages:list","args":{"channel":"general","limit":50}}';
const headers = {
  "content-type": "application/json",
  authorization: "Bearer token-a",
  cookie: "s=1",
  origin: "https://app.test",
};
const builtShardRequest = new Request("https://shard.internal/rpc", {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: envelope,
});

Deno.bench("shard stub called directly", { group: "rpc", baseline: true }, async () => {
  await stub.fetch(builtShardRequest);
});
Deno.bench("building the client request only", { group: "rpc" }, () => {
  new Request("https://app.test/_lunora/rpc", { method: "POST", headers, body: envelope });
});
Deno.bench("POST /_lunora/rpc through withLunora", { group: "rpc" }, async () => {
  const response = await worker.fetch(
    new Request("https://app.test/_lunora/rpc", { method: "POST", headers, body: envelope }),
    env,
    ctx,
  );
  await response.arrayBuffer();
});
