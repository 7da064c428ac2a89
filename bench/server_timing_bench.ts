/**
 * What recording a page's Lunora calls for `Server-Timing` costs, each against the same page
 * path with `serverTiming: false` in the same run (that path registers the request scope and
 * calls the host, as before `Server-Timing` existed, and never looks at the record):
 *
 * - `no calls`: a page that makes no Lunora call (the common case: an about page, assets Astro
 *   answers). The default must cost nothing measurable here (ratio ≈ 1.00).
 * - `two calls`: a page whose frontmatter runs two in-process queries; the difference is what
 *   timing, recording and writing the header cost per page.
 *
 * A new request and execution context per call, as workerd invokes a worker.
 *
 *   deno bench --unstable-unsafe-proto bench/server_timing_bench.ts
 *
 * With `LUNORA_BENCH_BASE` set to a checkout of the code before `Server-Timing` (e.g.
 * `git archive main | tar -x -C /tmp/lunora-base`), the `no calls` group also runs that
 * checkout's `withLunora` on the same host, and makes it the baseline:
 *
 *   LUNORA_BENCH_BASE=/tmp/lunora-base deno bench -A --unstable-unsafe-proto \
 *     bench/server_timing_bench.ts
 *
 * @module
 */
import { withLunora } from "../mod.ts";
import { createServerClient, query } from "../server.ts";
import { jsonAnswer, messageList, quietNamespace } from "./_fixtures.ts";

const { ns: shardDO } = quietNamespace(jsonAnswer(JSON.stringify({ result: messageList(20) })));
const env = { SHARD: shardDO };
const list = query<{ channel: string }, unknown>("messages:list");

const staticPage = new Response("<html>page</html>");
const quietHost = (_request: Request) => staticPage;

/** A page that preloads two queries in its frontmatter, as the example's channel page does. */
const busyHost = async (request: Request, _env: unknown, ctx: object) => {
  const client = createServerClient({ context: { request, locals: { cfContext: ctx } } });
  await client.query(list, { channel: "general" });
  await client.query(list, { channel: "random" });
  return new Response("<html>page</html>");
};

const factory = (off: boolean) => (e: typeof env) =>
  off ? { shardDO: e.SHARD, serverTiming: false as const } : { shardDO: e.SHARD };

const quietOff = withLunora(quietHost, factory(true));
const quietOn = withLunora(quietHost, factory(false));
const busyOff = withLunora(busyHost, factory(true));
const busyOn = withLunora(busyHost, factory(false));

const newPage = () =>
  new Request("https://app.test/channels/general", { headers: { accept: "text/html" } });

/** `LUNORA_BENCH_BASE`, when it is set and readable. */
function basePath(): string | undefined {
  try {
    return Deno.env.get("LUNORA_BENCH_BASE") || undefined;
  } catch {
    return undefined; // no --allow-env: no base
  }
}

const base = basePath();
const baseWorker = base === undefined ? undefined : (await import(
  new URL("mod.ts", `file://${base.replace(/\/?$/, "/")}`).href
) as { withLunora: typeof withLunora }).withLunora(quietHost, factory(false));

const noCalls = { group: "page, no calls: Server-Timing vs off", n: 200_000, warmup: 20_000 };
if (baseWorker !== undefined) {
  Deno.bench("base checkout (before Server-Timing)", { ...noCalls, baseline: true }, async () => {
    await baseWorker.fetch(newPage(), env, { waitUntil() {} });
  });
}
Deno.bench("serverTiming: false (no record read)", {
  ...noCalls,
  baseline: baseWorker === undefined,
}, async () => {
  await quietOff.fetch(newPage(), env, { waitUntil() {} });
});
Deno.bench("default (Server-Timing when calls were made)", noCalls, async () => {
  await quietOn.fetch(newPage(), env, { waitUntil() {} });
});

const twoCalls = { group: "page, two in-process calls: Server-Timing vs off", n: 50_000 };
Deno.bench("serverTiming: false (two calls)", { ...twoCalls, baseline: true }, async () => {
  await busyOff.fetch(newPage(), env, { waitUntil() {} });
});
Deno.bench("default (two calls, one header)", twoCalls, async () => {
  await busyOn.fetch(newPage(), env, { waitUntil() {} });
});

// The benches must measure what they say: the default adds the header only where calls were made.
const quiet = await quietOn.fetch(newPage(), env, { waitUntil() {} });
const busy = await busyOn.fetch(newPage(), env, { waitUntil() {} });
const busyWithout = await busyOff.fetch(newPage(), env, { waitUntil() {} });
if (quiet.headers.has("server-timing") || busyWithout.headers.has("server-timing")) {
  throw new Error("bench setup: a page without calls (or with serverTiming: false) got a header");
}
if (!/desc="2 calls"/.test(busy.headers.get("server-timing") ?? "")) {
  throw new Error(`bench setup: the busy page answered ${busy.headers.get("server-timing")}`);
}
