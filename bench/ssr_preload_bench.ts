/**
 * SSR preload: a page rendered by a `withLunora` worker whose host (standing in for Astro
 * frontmatter) runs `preloadQuery` and embeds the token, with the server client reaching the
 * same worker and the same fake shard three ways:
 *
 * - in process: `createServerClient({ context })`, through the transport the worker registered
 *   for this invocation (no request);
 * - over fetch: `createServerClient({ url, fetch })` with
 *   `fetch = (input, init) => worker.fetch(new Request(input, init), env, ctx)`: a full
 *   `/_lunora/rpc` dispatch through the same handler, without any network;
 * - over loopback HTTP: the same worker served by `Deno.serve` on 127.0.0.1 and the global
 *   `fetch`, i.e. what a subrequest to the worker's own URL adds on top.
 *
 * Each bench times a whole page request. A fourth page renders the same HTML from a ready-made
 * token, so `page − that page` is what the preload itself costs on each path.
 *
 *   deno bench --unstable-unsafe-proto --allow-net=127.0.0.1 bench/ssr_preload_bench.ts
 *
 * @module
 */
import { withLunora } from "../mod.ts";
import { createServerClient, preloadQuery, query, serializePreloaded } from "../server.ts";
import type { Preloaded, ServerClient } from "../server.ts";
import type { ComposedWorker, ExecutionContextLike } from "../src/types.ts";
import { jsonAnswer, messageList, type MessageRow, quietNamespace } from "./_fixtures.ts";

type Env = { SHARD: ReturnType<typeof quietNamespace>["ns"] };

const list = query<{ channel: string }, { viewer: null; messages: MessageRow[] }>(
  "messages:list",
);

/** The token a preload would give, made once: the page without the preload renders it. */
const tokens = new Map<number, Preloaded<{ viewer: null; messages: MessageRow[] }>>();
function fixedToken(rows: number): Preloaded<{ viewer: null; messages: MessageRow[] }> {
  let token = tokens.get(rows);
  if (token === undefined) {
    token = {
      __lunoraPreloaded: true,
      functionPath: "messages:list",
      args: { channel: "general" },
      shardKey: "general",
      value: messageList(rows),
    };
    tokens.set(rows, token);
  }
  return token;
}

/**
 * A worker whose host renders a channel page with a client from `makeClient`, or from a
 * ready-made token when there is none (the reference that isolates the preload's cost).
 */
function pageWorker(
  rows: number,
  makeClient: ((request: Request, ctx: ExecutionContextLike) => ServerClient) | undefined,
): { worker: ComposedWorker<Env>; env: Env } {
  const { ns } = quietNamespace(jsonAnswer(JSON.stringify({ result: messageList(rows) })));
  const env: Env = { SHARD: ns };
  const worker = withLunora(async (request: Request, _env: Env, ctx: ExecutionContextLike) => {
    const preloaded = makeClient === undefined
      ? fixedToken(rows)
      : await preloadQuery(makeClient(request, ctx), list, { channel: "general" }, {
        shardKey: "general",
      });
    const items = preloaded.value.messages.map((m) => `<li>${m.author}: ${m.body}</li>`);
    const token = serializePreloaded(preloaded);
    return new Response(`<ol>${items.join("")}</ol><script type="application/json">${token}`, {
      headers: { "content-type": "text/html; charset=utf-8" },
    });
  }, (e: Env) => ({ shardDO: e.SHARD, allowUnauthenticatedShardAccess: true }));
  return { worker, env };
}

type Page = { worker: ComposedWorker<Env>; env: Env };

/** The four pages for one result size. */
function pages(rows: number): Record<"local" | "viaFetch" | "viaHttp" | "noPreload", Page> {
  // With @astrojs/cloudflare, `Astro.locals.cfContext` is the ctx the worker passed to `handle`.
  const local = pageWorker(
    rows,
    (request, cfContext) => createServerClient({ context: { request, locals: { cfContext } } }),
  );
  const viaFetch: Page = pageWorker(rows, (_request, ctx) =>
    createServerClient({
      url: "https://app.test",
      fetch: (input, init) => viaFetch.worker.fetch(new Request(input, init), viaFetch.env, ctx),
    }));
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => viaHttp.worker.fetch(request, viaHttp.env, { waitUntil() {} }),
  );
  // The server lives as long as the bench process; it must not keep it alive.
  server.unref();
  const origin = `http://127.0.0.1:${server.addr.port}`;
  const viaHttp: Page = pageWorker(rows, () => createServerClient({ url: origin }));
  return { local, viaFetch, viaHttp, noPreload: pageWorker(rows, undefined) };
}

const pageUrl = "https://app.test/channels/general";

/** One page request, with a fresh execution context as every invocation gets. */
async function renderPage({ worker, env }: Page): Promise<string> {
  const response = await worker.fetch(new Request(pageUrl), env, { waitUntil() {} });
  const html = await response.text();
  if (response.status !== 200) throw new Error(`bench setup: the page answered ${response.status}`);
  return html;
}

// Bench functions must be `async`: Deno awaits only async functions, not returned promises.
// Each group's baseline renders the page without a preload, so `− baseline` is what each
// preload costs. 20 rows is a page of messages; 1 row leaves mostly the plumbing.
for (const rows of [20, 1]) {
  const { local, viaFetch, viaHttp, noPreload } = pages(rows);
  for (const page of [local, viaFetch, viaHttp]) {
    if (!(await renderPage(page)).includes("__lunoraPreloaded")) {
      throw new Error("bench setup: the page has no preloaded token");
    }
  }
  const group = {
    group: `SSR page (${rows} ${rows === 1 ? "row" : "rows"})`,
    n: 20_000,
    warmup: 2_000,
  };
  const suffix = rows === 20 ? "" : `, ${rows} row`;
  Deno.bench(`page, same HTML from a ready token (no preload)${suffix}`, {
    ...group,
    baseline: true,
  }, async () => {
    await renderPage(noPreload);
  });
  Deno.bench(`page, preload in-process${suffix}`, group, async () => {
    await renderPage(local);
  });
  Deno.bench(`page, preload over fetch to the worker${suffix}`, group, async () => {
    await renderPage(viaFetch);
  });
  if (rows === 20) {
    Deno.bench(
      "page, preload over loopback HTTP",
      { ...group, n: 5_000, warmup: 500 },
      async () => {
        await renderPage(viaHttp);
      },
    );
  }
}
