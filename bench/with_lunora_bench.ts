/**
 * What the composition costs in-process, each against its bare baseline in the same run:
 *
 * - `fall-through`: a GET page request through `withLunora(host, opts).fetch` vs `host` called
 *   directly (same request object, same host), with the smallest hand-rolled router beside them
 *   (`handRolledRouter` in `_fixtures.ts`), the factory form also with CORS settings built per
 *   call; and again with a new request and execution context per call, as workerd invokes a
 *   worker.
 * - `rpc`: a full `POST /_lunora/rpc` through the composed worker vs a minimal hand-rolled
 *   forward (`handRolledForward`: the body read by the same capped reader, the envelope parsed, the
 *   body posted to the stub), with the fake shard stub called directly beside them. Only the
 *   dispatch is timed (explicit timers): the client request is built before the clock starts,
 *   as the runtime hands it over ready-made. The ratio to the forward is what validation,
 *   identity, the tenant gate and the headers cost beyond the least a user could write.
 *
 *   deno bench --unstable-unsafe-proto bench/with_lunora_bench.ts
 *
 * @module
 */
import { withLunora } from "../mod.ts";
import {
  ctx,
  handRolledForward,
  handRolledRouter,
  jsonAnswer,
  messageList,
  quietNamespace,
} from "./_fixtures.ts";

// ---------------------------------------------------------------------------------------------
// Fall-through

const page = new Response("<html>page</html>");
const host = (_request: Request) => page;
const shardAnswer = jsonAnswer(JSON.stringify({ result: messageList(20) }));
const { ns: shardDO, stub } = quietNamespace(shardAnswer);
const env = { SHARD: shardDO };

// The example app's shape: a factory (bindings come from `env`) with identity and a tenant gate.
const worker = withLunora(host, (e: typeof env) => ({
  shardDO: e.SHARD,
  resolveIdentity: (request) => {
    const user = /(?:^|;\s*)demo_user=([A-Za-z0-9_-]+)/.exec(request.headers.get("cookie") ?? "");
    return user ? { userId: user[1]!, via: "demo-cookie" } : null;
  },
  authorizeShard: ({ shardKey }) => /^[a-z0-9-]{1,32}$/.test(shardKey),
}));
const objectWorker = withLunora(host, { shardDO });
// The example app's current shape: CORS settings built per call from a variable, equal each time.
const corsEnv = { SHARD: shardDO, ALLOWED_ORIGINS: "https://web.test,https://admin.test" };
const corsWorker = withLunora(host, (e: typeof corsEnv) => ({
  shardDO: e.SHARD,
  authorizeShard: ({ shardKey }) => /^[a-z0-9-]{1,32}$/.test(shardKey),
  security: { cors: { allowedOrigins: e.ALLOWED_ORIGINS.split(","), allowCredentials: true } },
}));
const router = handRolledRouter(
  host,
  (request, e: typeof env) => handRolledForward(request, e.SHARD),
);

const pageRequest = new Request("https://app.test/channels/general?tab=latest", {
  headers: { cookie: "demo_user=ada", accept: "text/html" },
});

Deno.bench("host called directly", {
  group: "fall-through",
  baseline: true,
  n: 200_000,
  warmup: 20_000,
}, async () => {
  await host(pageRequest);
});
Deno.bench("hand-rolled router → host", {
  group: "fall-through",
  n: 200_000,
  warmup: 20_000,
}, async () => {
  await router.fetch(pageRequest, env, ctx);
});
Deno.bench("withLunora (factory form) → host", {
  group: "fall-through",
  n: 200_000,
  warmup: 20_000,
}, async () => {
  await worker.fetch(pageRequest, env, ctx);
});
Deno.bench("withLunora (object form) → host", {
  group: "fall-through",
  n: 200_000,
  warmup: 20_000,
}, async () => {
  await objectWorker.fetch(pageRequest, env, ctx);
});
Deno.bench("withLunora (factory form, security built per call) → host", {
  group: "fall-through",
  n: 200_000,
  warmup: 20_000,
}, async () => {
  await corsWorker.fetch(pageRequest, corsEnv, ctx);
});

// As workerd calls a worker: a new request and a new execution context every time. The composed
// worker registers its in-process transport under both, so this is where that registration (two
// `WeakMap` entries per request, collected with the objects) shows.
const fresh = { group: "fall-through, new request and ctx per call", n: 200_000, warmup: 20_000 };
const newPageRequest = () =>
  new Request("https://app.test/channels/general?tab=latest", {
    headers: { cookie: "demo_user=ada", accept: "text/html" },
  });
Deno.bench("host called directly (new request)", { ...fresh, baseline: true }, async () => {
  await host(newPageRequest());
});
Deno.bench("hand-rolled router → host (new request and ctx)", fresh, async () => {
  await router.fetch(newPageRequest(), env, { waitUntil() {} });
});
Deno.bench("withLunora (factory form) → host (new request and ctx)", fresh, async () => {
  await worker.fetch(newPageRequest(), env, { waitUntil() {} });
});
Deno.bench("withLunora (object form) → host (new request and ctx)", fresh, async () => {
  await objectWorker.fetch(newPageRequest(), env, { waitUntil() {} });
});

// ---------------------------------------------------------------------------------------------
// RPC dispatch

const envelope = JSON.stringify({
  functionPath: "messages:list",
  args: { channel: "general", limit: 20 },
  shardKey: "general",
});
const defaultShardEnvelope = JSON.stringify({
  functionPath: "messages:list",
  args: { channel: "general", limit: 20 },
});
const clientHeaders = {
  "content-type": "application/json",
  cookie: "demo_user=ada",
  origin: "https://app.test",
  "x-lunora-client-id": "c_1",
};

function clientRequest(body: string): Request {
  return new Request("https://app.test/_lunora/rpc", {
    method: "POST",
    headers: clientHeaders,
    body,
  });
}

const builtShardRequest = () =>
  new Request("https://shard.internal/rpc", {
    method: "POST",
    headers: { "content-type": "application/json", cookie: "demo_user=ada" },
    body: envelope,
  });

/** Times one call of `send` on a request built before the clock starts, body read included. */
function rpcBench(
  name: string,
  build: () => Request,
  send: (request: Request) => Promise<Response>,
  baseline = false,
): void {
  Deno.bench(name, { group: "rpc", baseline, n: 50_000, warmup: 5_000 }, async (b) => {
    const request = build();
    b.start();
    const response = await send(request);
    await response.text();
    b.end();
  });
}

rpcBench("shard stub called directly", builtShardRequest, (r) => stub.fetch(r));
rpcBench(
  "POST /_lunora/rpc, hand-rolled forward (capped body → stub)",
  () => clientRequest(envelope),
  (r) => router.fetch(r, env, ctx),
  true,
);
rpcBench(
  "POST /_lunora/rpc, default shard (object form)",
  () => clientRequest(defaultShardEnvelope),
  (r) => objectWorker.fetch(r, env, ctx),
);
rpcBench(
  "POST /_lunora/rpc, identity + tenant gate (factory form)",
  () => clientRequest(envelope),
  (r) => worker.fetch(r, env, ctx),
);

// The benches above must measure successful calls, not fast refusals.
for (
  const [name, response] of [
    ["page", await worker.fetch(pageRequest, env, ctx)],
    ["page (security built per call)", await corsWorker.fetch(pageRequest, corsEnv, ctx)],
    ["rpc (object form)", await objectWorker.fetch(clientRequest(defaultShardEnvelope), env, ctx)],
    ["rpc (factory form)", await worker.fetch(clientRequest(envelope), env, ctx)],
    ["rpc (hand-rolled forward)", await router.fetch(clientRequest(envelope), env, ctx)],
  ] as const
) {
  if (response.status !== 200) throw new Error(`bench setup: ${name} answered ${response.status}`);
}
