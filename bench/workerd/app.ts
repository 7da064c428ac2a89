/**
 * The two builds `deno task bench:workerd` compares, made from `examples/chat` in a scratch
 * directory (the example's committed files are never touched):
 *
 * - `composed`: the app with a `src/worker.ts` that is `withLunora(handle, options)` and nothing
 *   else (the example's auth routes and CORS setting are left out, so only the composition
 *   is measured);
 * - `bare`: the same app with a hand-rolled entry: Astro's `handle`, plus the smallest router a
 *   user would write for `/_lunora/rpc` (parse the envelope, forward it to the shard) and
 *   `/_lunora/status`, without validation, identity, tenant gate or security headers.
 *
 * Both get three extra pages for the SSR preload comparison: `/bench/in-process` and
 * `/bench/over-http` preload the same query with the server client in process
 * (`context: Astro`) or over HTTP to the worker's own origin; `/bench/no-preload` renders the
 * same HTML from fixed data, so `page − no-preload` is what the preload itself costs.
 *
 * @module
 */
import { join } from "node:path";
import { run } from "../../tests/workerd/process.ts";
import { ROOT, TARBALL } from "../../tests/workerd/example_app.ts";

/** The example the builds are made from. */
export const EXAMPLE: string = join(ROOT, "examples", "chat");

/** What is copied from the example (build output and dependencies are not). */
const COPIED = ["src", "astro.config.mjs", "wrangler.jsonc", "tsconfig.json", "package.json"];

/** The query both bench pages and the RPC load preload: `messages:list` on channel `general`. */
export const RPC_ENVELOPE: string = JSON.stringify({
  functionPath: "messages:list",
  args: { channel: "general" },
  shardKey: "general",
});

const SHARD_KEY = /^[a-z0-9-]{1,32}$/.source;

const COMPOSED_ENTRY = `// bench:workerd: the composed worker, withLunora and nothing else.
import { handle } from "@astrojs/cloudflare/handler";
import { withLunora } from "@lunora/astro";

export { ShardDO } from "./shard/shard_do.ts";

const CHANNEL = /${SHARD_KEY}/;

export default withLunora(
  (request, env, ctx) => handle(request, env, ctx),
  (env) => ({
    shardDO: env.SHARD,
    authorizeShard: ({ shardKey }) => CHANNEL.test(shardKey),
  }),
);
`;

const BARE_ENTRY =
  `// bench:workerd: the same app without withLunora: Astro's handle plus a hand-rolled
// forward of /_lunora/rpc to the shard (no validation, identity, tenant gate or headers).
import { handle } from "@astrojs/cloudflare/handler";

export { ShardDO } from "./shard/shard_do.ts";

async function rpc(request, env) {
  const { functionPath, args, shardKey } = await request.json();
  const stub = env.SHARD.getByName(shardKey ?? "__root__");
  return await stub.fetch("https://shard.internal/rpc", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ args: args ?? {}, functionPath }),
  });
}

export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (pathname === "/_lunora/rpc" && request.method === "POST") return await rpc(request, env);
    if (pathname === "/_lunora/status") return Response.json({ ok: true });
    return handle(request, env, ctx);
  },
};
`;

/**
 * A page preloading `messages:list` for #general with `client`; without one, the page renders
 * the same 20 rows from fixed data.
 */
function benchPage(client: string | undefined): string {
  const preload = client === undefined
    ? `const messages = Array.from({ length: 20 }, (_, i) => ({
  id: i + 1,
  author: "anonymous",
  body: \`bench message \${i}: the quick brown fox jumps\`,
}));
const preloaded = {
  __lunoraPreloaded: true as const,
  functionPath: "messages:list",
  args: { channel: "general" },
  shardKey: "general",
  value: { viewer: null, messages },
};`
    : `const client = ${client};
const preloaded = await preloadQuery(client, list, { channel: "general" }, { shardKey: "general" });`;
  return `---
// bench:workerd: preload messages:list for #general and render it.
import { createServerClient, preloadQuery, query, serializePreloaded } from "@lunora/astro/server";

const list = query<{ channel: string }, { messages: { id: number; author: string; body: string }[] }>(
  "messages:list",
);
${preload}
---
<html><body>
<ol>{preloaded.value.messages.map((m) => <li>{m.author}: {m.body}</li>)}</ol>
<script type="application/json" id="preloaded" set:html={serializePreloaded(preloaded)} />
</body></html>
`;
}

const IN_PROCESS_PAGE = benchPage("createServerClient({ context: Astro })");
const OVER_HTTP_PAGE = benchPage("createServerClient({ url: new URL(Astro.request.url).origin })");
const NO_PRELOAD_PAGE = benchPage(undefined);

/** The two app directories. */
export interface BenchApps {
  composed: string;
  bare: string;
}

/**
 * Copies the example into `workDir/composed` and `workDir/bare` (fresh), points their
 * `@lunora/astro` dependency at the packed tarball by absolute path, and writes each build's
 * worker entry and the bench pages.
 */
export async function prepareApps(workDir: string): Promise<BenchApps> {
  await Deno.remove(workDir, { recursive: true }).catch(() => {});
  const apps: BenchApps = { composed: join(workDir, "composed"), bare: join(workDir, "bare") };
  for (const [kind, dir] of Object.entries(apps) as Array<[keyof BenchApps, string]>) {
    Deno.mkdirSync(dir, { recursive: true });
    for (const name of COPIED) await run(["cp", "-R", join(EXAMPLE, name), join(dir, name)]);
    // The lock names the tarball relative to the example; here it is given by absolute path.
    const lock = Deno.readTextFileSync(join(EXAMPLE, "package-lock.json"));
    for (const name of ["package.json", "package-lock.json"]) {
      const text = name === "package.json" ? Deno.readTextFileSync(join(dir, name)) : lock;
      Deno.writeTextFileSync(
        join(dir, name),
        text.replaceAll("file:../../.out/lunora-astro.tgz", `file:${TARBALL}`),
      );
    }
    Deno.writeTextFileSync(
      join(dir, "src", "worker.ts"),
      kind === "composed" ? COMPOSED_ENTRY : BARE_ENTRY,
    );
    Deno.mkdirSync(join(dir, "src", "pages", "bench"), { recursive: true });
    Deno.writeTextFileSync(join(dir, "src", "pages", "bench", "in-process.astro"), IN_PROCESS_PAGE);
    Deno.writeTextFileSync(join(dir, "src", "pages", "bench", "over-http.astro"), OVER_HTTP_PAGE);
    Deno.writeTextFileSync(join(dir, "src", "pages", "bench", "no-preload.astro"), NO_PRELOAD_PAGE);
  }
  return apps;
}
