/**
 * Writing from the server, and what `Astro.locals.lunora` costs a page:
 *
 * - `SSR mutation`: a form POST rendered by a `withLunora` worker whose host (standing in for
 *   an Astro Action or endpoint) runs `client.mutation(...)` with an idempotency key and
 *   answers a 303, the server client reaching the same worker and the same fake shard three
 *   ways, as `ssr_preload_bench.ts` does for preloads: in process (the transport the worker
 *   registered, no request), over `fetch` to the worker (`worker.fetch(new Request(...))`, a
 *   full `/_lunora/rpc` dispatch without a network), and over loopback HTTP (`Deno.serve` on
 *   127.0.0.1 and the global `fetch`). The baseline answers the same 303 without the mutation,
 *   so `− baseline` is what the mutation costs on each path.
 * - `locals middleware`: Astro's side of a page that never reads `locals.lunora`: a fresh
 *   `locals` and context per request and `next()`, bare, through the best hand-rolled
 *   middleware (one shared lazy-getter descriptor, what a user could write instead), and through
 *   `onRequest` (which only defines its lazy getter), plus a page that does read it (the client
 *   is made).
 *
 *   deno bench --unstable-unsafe-proto --allow-net=127.0.0.1 bench/ssr_writes_bench.ts
 *
 * @module
 */
import { onRequest } from "../middleware.ts";
import { withLunora } from "../mod.ts";
import { createServerClient, mutation, type ServerClient } from "../server.ts";
import type { ComposedWorker, ExecutionContextLike } from "../src/types.ts";
import { jsonAnswer, quietNamespace } from "./_fixtures.ts";

type Env = { SHARD: ReturnType<typeof quietNamespace>["ns"] };

const send = mutation<{ channel: string; text: string }, { id: string; at: number }>(
  "messages:send",
);
const SENT = { id: "msg_000042", at: 1_763_720_000_000 };
const formUrl = "https://app.test/_actions/send";

/**
 * A worker whose host handles a form POST with a client from `makeClient`, or without any
 * mutation when there is none (the reference that isolates the mutation's cost).
 */
function formWorker(
  makeClient: ((request: Request, ctx: ExecutionContextLike) => ServerClient) | undefined,
): { worker: ComposedWorker<Env>; env: Env } {
  const { ns } = quietNamespace(jsonAnswer(JSON.stringify({ result: SENT })));
  const env: Env = { SHARD: ns };
  const worker = withLunora(async (request: Request, _env: Env, ctx: ExecutionContextLike) => {
    const sent = makeClient === undefined ? SENT : await makeClient(request, ctx).mutation(
      send,
      { channel: "general", text: "hello from a form" },
      { shardKey: "general", idempotencyKey: "form-7f3a9c" },
    );
    return new Response(null, {
      status: 303,
      headers: { location: `/channels/general#${sent.id}` },
    });
  }, (e: Env) => ({ shardDO: e.SHARD, allowUnauthenticatedShardAccess: true }));
  return { worker, env };
}

type Form = { worker: ComposedWorker<Env>; env: Env };

const local = formWorker((request, cfContext) =>
  createServerClient({ context: { request, locals: { cfContext } } })
);
const viaFetch: Form = formWorker((_request, ctx) =>
  createServerClient({
    url: "https://app.test",
    fetch: (input, init) => viaFetch.worker.fetch(new Request(input, init), viaFetch.env, ctx),
  })
);
const server = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen() {} },
  (request) => viaHttp.worker.fetch(request, viaHttp.env, { waitUntil() {} }),
);
server.unref(); // the server lives as long as the bench process; it must not keep it alive
const viaHttp: Form = formWorker(() =>
  createServerClient({ url: `http://127.0.0.1:${server.addr.port}` })
);
const noMutation = formWorker(undefined);

/** One form POST, with a fresh execution context as every invocation gets. */
async function submit({ worker, env }: Form): Promise<void> {
  const response = await worker.fetch(
    new Request(formUrl, { method: "POST", headers: { cookie: "sid=1" }, body: "text=hello" }),
    env,
    { waitUntil() {} },
  );
  if (response.status !== 303) throw new Error(`bench setup: the form answered ${response.status}`);
  await response.body?.cancel();
}

for (const form of [local, viaFetch, viaHttp, noMutation]) await submit(form);

const group = { group: "SSR mutation (form POST → 303)", n: 20_000, warmup: 2_000 };
Deno.bench("form POST, same 303 without the mutation", { ...group, baseline: true }, async () => {
  await submit(noMutation);
});
Deno.bench("form POST, mutation in-process", group, async () => {
  await submit(local);
});
Deno.bench("form POST, mutation over fetch to the worker", group, async () => {
  await submit(viaFetch);
});
Deno.bench(
  "form POST, mutation over loopback HTTP",
  { ...group, n: 5_000, warmup: 500 },
  async () => {
    await submit(viaHttp);
  },
);

// ---------------------------------------------------------------------------------------------
// The middleware on a page that never reads locals.lunora

const pageRequest = new Request("https://app.test/about", { headers: { cookie: "sid=1" } });
const rendered = Promise.resolve(new Response("<html>about</html>"));
const next = () => rendered;
const cfContext = { waitUntil() {} };
let sink: unknown;

const middleware = { group: "locals middleware (page never reads locals.lunora)", n: 2_000_000 };
Deno.bench("fresh locals + next() (no middleware)", { ...middleware, baseline: true }, () => {
  const context = { request: pageRequest, locals: { cfContext } };
  sink = next();
  sink = context;
});
// The best lazy getter a user could write by hand: one shared descriptor (no closure per request)
// whose getter finds its request's context on `locals` and makes the client once.
const CONTEXT = Symbol("context");
const CLIENT = Symbol("client");
type HandLocals = Record<PropertyKey, unknown>;
const lazyClient: PropertyDescriptor = {
  get(this: HandLocals) {
    return this[CLIENT] ??= createServerClient({
      context: this[CONTEXT] as { request: Request; locals: HandLocals },
    });
  },
  configurable: true,
};
function handRolledMiddleware(
  context: { request: Request; locals: HandLocals },
  next: () => Promise<Response>,
): Promise<Response> {
  context.locals[CONTEXT] = context;
  Object.defineProperty(context.locals, "lunora", lazyClient);
  return next();
}
Deno.bench("fresh locals + hand-rolled lazy getter", middleware, () => {
  const context = { request: pageRequest, locals: { cfContext } };
  sink = handRolledMiddleware(context, next);
  sink = context;
});
Deno.bench("fresh locals + onRequest(context, next)", middleware, () => {
  const context = { request: pageRequest, locals: { cfContext } };
  sink = onRequest(context, next);
  sink = context;
});
Deno.bench(
  "fresh locals + onRequest(context, next), page reads locals.lunora",
  { ...middleware, n: 500_000 },
  () => {
    const context = { request: pageRequest, locals: { cfContext } };
    sink = onRequest(context, next);
    sink = (context.locals as { lunora?: ServerClient }).lunora;
  },
);

export { sink };
