/**
 * The example as a real Astro app, over HTTP: the React island fed by props (rich values through
 * Astro's prop serializer), the prerendered `/about`, the server island, and what `astro build`
 * wrote. Used on the build (Astro 7 and 6) and under `astro dev`.
 *
 * @module
 */
import { join } from "node:path";
import { page, readIsland, readToken, rpc, unescapeHtml } from "../client.ts";
import { assert, check } from "../report.ts";
import { rpcStats, SEEDED, type UsersContext } from "./checks.ts";

/** The number of messages stored in the checks' channel, over a real HTTP RPC. */
async function storedTotal(ctx: UsersContext): Promise<{ total: string; count: number }> {
  const answer = await rpc(ctx.server.origin, {
    functionPath: "messages:list",
    args: { channel: ctx.channel },
    shardKey: ctx.channel,
  });
  assert(answer.status === 200, `messages:list answered ${answer.status}`);
  const total = answer.body.result.total;
  assert(
    Array.isArray(total) && total[0] === "$lunora.wire$" && total[1] === "bigint",
    `total is not wire-encoded as a bigint: ${JSON.stringify(total)}`,
  );
  return { total: total[2], count: answer.body.result.messages.length };
}

/**
 * The channel page hands the token to the React island as a prop: Astro's serializer carries
 * the `Date`s and the `bigint` the shard returned, and the island's server HTML shows them.
 */
export async function checkIslandProps(ctx: UsersContext): Promise<void> {
  await check(ctx, "island props: the token reaches ChannelView with Date and bigint", async () => {
    const { status, text } = await page(ctx.server.origin, `/channels/${ctx.channel}`);
    assert(status === 200, `GET /channels/${ctx.channel} answered ${status}`);
    assert(!text.includes('id="lunora-preloaded"'), "the page also embeds the token in a script");
    const island = readIsland(text, "ChannelView");
    assert(/\bclient="load"/.test(text), "the island is not client:load");
    const token = readToken(text);
    const seeded = token.value.messages.find((message) => message.body === SEEDED);
    assert(seeded, "the island's token lacks the seeded message");
    assert(
      seeded.createdAt instanceof Date && !Number.isNaN(seeded.createdAt.getTime()),
      `createdAt is ${Object.prototype.toString.call(seeded.createdAt)}, not a valid Date`,
    );
    assert(typeof token.value.total === "bigint", `total is a ${typeof token.value.total}`);
    const stored = await storedTotal(ctx);
    assert(
      token.value.total === BigInt(stored.total),
      `the island's total ${token.value.total} differs from the shard's ${stored.total}`,
    );
    const iso = seeded.createdAt.toISOString();
    assert(island.html.includes(`dateTime="${iso}"`), `the island's HTML has no <time> for ${iso}`);
    assert(
      unescapeHtml(island.html.replaceAll("<!-- -->", "")).includes(
        `${token.value.total} ${
          token.value.total === 1n ? "message" : "messages"
        } in #${ctx.channel}`,
      ),
      "the island's HTML does not show the total",
    );
    return `messages: ${token.value.messages.length}, createdAt Date (${iso}), total ${token.value.total}n`;
  });
}

/** The server island's URL on a rendered channel page. */
function serverIslandUrl(html: string): string {
  const match = /['"](\/_server-islands\/ChannelStats\?[^'"]*)['"]/.exec(html);
  assert(match, "the page has no /_server-islands/ChannelStats request");
  return unescapeHtml(match[1]!);
}

/**
 * The server island: the page carries the fallback and the island's URL; the island, fetched
 * with the visitor's cookie, queries in process (no HTTP request to `/_lunora/rpc`) as that
 * visitor.
 */
export async function checkServerIsland(ctx: UsersContext): Promise<void> {
  await check(ctx, "server island: rendered in process, as the visitor", async () => {
    const { bob } = ctx.users;
    const rendered = await page(ctx.server.origin, `/channels/${ctx.channel}`, bob.cookie);
    assert(rendered.status === 200, `the page answered ${rendered.status}`);
    assert(rendered.text.includes('id="stats-fallback"'), "the page lacks the island's fallback");
    assert(!rendered.text.includes('id="stats"'), "the island was rendered into the page itself");
    const url = serverIslandUrl(rendered.text);
    const before = await rpcStats(ctx);
    const island = await page(ctx.server.origin, url, bob.cookie);
    const after = await rpcStats(ctx);
    assert(island.status === 200, `GET /_server-islands/ChannelStats answered ${island.status}`);
    const total = /id="stats"[^>]*data-total="(\d+)"/.exec(island.text)?.[1];
    const viewer = /id="stats"[^>]*data-viewer(?:="([^"]*)")?/.exec(island.text);
    assert(total !== undefined && viewer, `no #stats in ${island.text.slice(0, 200)}`);
    const stored = await storedTotal(ctx);
    assert(
      total === stored.total,
      `the island shows ${total} messages, the shard has ${stored.total}`,
    );
    assert(viewer[1] === bob.id, `the island ran as ${viewer[1] || "anonymous"}, bob is ${bob.id}`);
    assert(after.isolate === before.isolate, "the worker isolate changed during the check");
    assert(
      after.rpcRequests === before.rpcRequests,
      `the island made ${after.rpcRequests - before.rpcRequests} HTTP requests to /_lunora/rpc`,
    );
    const anonymous = await page(ctx.server.origin, url);
    assert(
      /data-viewer(?:="")?[\s>]/.test(anonymous.text),
      "the island without a cookie is not anonymous",
    );
    return `${url.split("?")[0]}: total ${total}, viewer bob, +0 HTTP RPCs`;
  });
}

/**
 * `/about` is prerendered. On a build it is the static file `astro build` wrote, served as an
 * asset (byte for byte, the same build time on every request); under `astro dev` it renders.
 */
export async function checkPrerendered(ctx: UsersContext, builtDir?: string): Promise<void> {
  await check(ctx, "the prerendered /about page is served beside the on-demand pages", async () => {
    const first = await page(ctx.server.origin, "/about/");
    assert(first.status === 200, `GET /about/ answered ${first.status}`);
    const built = /id="built" data-built="([^"]+)"/.exec(first.text)?.[1];
    assert(built, "the page has no build stamp");
    if (builtDir === undefined) return `rendered by astro dev (stamp ${built})`;
    const file = Deno.readTextFileSync(join(builtDir, "dist", "client", "about", "index.html"));
    assert(first.text === file, "GET /about/ differs from dist/client/about/index.html");
    const second = await page(ctx.server.origin, "/about/");
    assert(second.text === first.text, "a second request rendered /about again");
    const redirect = await fetch(`${ctx.server.origin}/about`, { redirect: "manual" });
    await redirect.body?.cancel();
    assert(
      redirect.status === 200 || (redirect.status >= 300 && redirect.status < 400),
      `GET /about answered ${redirect.status}`,
    );
    return `static asset, byte-identical to dist/client/about/index.html (built ${built})`;
  });
}

/**
 * What `astro build` wrote: `/about` prerendered to `dist/client/`, and the worker entry still
 * exporting the `ShardDO` class next to the default export (the adapter's prerender step has
 * lost a custom entry's Durable Object exports before: withastro/astro#17913, #17957).
 */
export function checkBuildOutput(ctx: UsersContext, appDir: string): Promise<boolean> {
  return check(ctx, "astro build: /about prerendered, ShardDO still exported", () => {
    const about = join(appDir, "dist", "client", "about", "index.html");
    assert(Deno.statSync(about).isFile, `${about} is missing`);
    const entry = Deno.readTextFileSync(join(appDir, "dist", "server", "entry.mjs"));
    const exported = [...entry.matchAll(/export\s*\{([^}]*)\}/g)].map((m) => m[1]!).join(",");
    assert(/\bShardDO\b/.test(exported), `dist/server/entry.mjs exports only {${exported}}`);
    assert(/\bdefault\b/.test(exported), "dist/server/entry.mjs has no default export");
    const config = JSON.parse(
      Deno.readTextFileSync(join(appDir, "dist", "server", "wrangler.json")),
    );
    const binding = config.durable_objects?.bindings?.find((b: { name: string }) =>
      b.name === "SHARD"
    );
    assert(binding?.class_name === "ShardDO", "dist/server/wrangler.json lost the SHARD binding");
    return "dist/client/about/index.html; entry exports ShardDO + default; SHARD -> ShardDO";
  });
}
