/**
 * The example under `astro dev`: the composed worker, the ShardDO and its SQLite state run in
 * workerd through the Cloudflare adapter's Vite plugin, with no build. It runs the app under test
 * (`../example_under_test/`) in a scratch directory, so a check can edit a shard function and
 * watch it answer without a restart.
 *
 * @module
 */
import { join } from "node:path";
import { page, readIsland, rpc, unescapeHtml } from "../client.ts";
import { applyAuthMigrations, serve, type Server } from "../example_app.ts";
import { waitFor } from "../process.ts";
import { assert, check } from "../report.ts";
import { SEEDED, type UsersContext } from "./checks.ts";
import { EVENTUALLY_MS, STARTUP_MS } from "../waits.ts";

/** Options of {@linkcode startDev}. */
export interface DevOptions {
  port: number;
  adminToken: string;
  authSecret: string;
  logPath: string;
}

/**
 * Writes the app's `.dev.vars`, applies its D1 migrations where the Vite plugin keeps state
 * (`.wrangler/state`, wrangler's `--local` default), starts `astro dev` on 127.0.0.1 and waits
 * until `/_lunora/status` answers.
 */
export async function startDev(
  appDir: string,
  env: Record<string, string>,
  options: DevOptions,
): Promise<Server> {
  Deno.writeTextFileSync(
    join(appDir, ".dev.vars"),
    `BETTER_AUTH_SECRET=${options.authSecret}\nLUNORA_ADMIN_TOKEN=${options.adminToken}\n`,
  );
  await applyAuthMigrations(appDir, env, join(appDir, ".wrangler", "state"));
  const cmd = [
    join(appDir, "node_modules", ".bin", "astro"),
    "dev",
    "--host",
    "127.0.0.1",
    "--port",
    String(options.port),
  ];
  return await serve("astro dev", cmd, { cwd: appDir, env, ...options }, STARTUP_MS);
}

/** A channel page that rendered completely: the whole document with the island in it. */
async function completeRender(server: Server, path: string): Promise<string | undefined> {
  const { status, text } = await page(server.origin, path);
  if (status !== 200 || !text.includes("</html>")) return undefined;
  try {
    readIsland(text, "ChannelView");
  } catch {
    return undefined;
  }
  return text;
}

/** Lines Vite logs while it (re-)optimizes dependencies or reloads. */
const BUSY = /optimi[sz]|reload|new dependencies/i;

/**
 * Warms `astro dev` up: the first renders after start can come back incomplete while Vite's
 * dependency optimizer bundles and reloads. Renders the channel page and requests the islands'
 * and scripts' client modules (so the optimizer sees React, Svelte and the client too) until two
 * renders in a row are complete and Vite has logged no optimizer or reload line for 2 s (request
 * lines do not count).
 */
export async function warmUp(server: Server, path: string): Promise<string> {
  const started = performance.now();
  const busyLines = () => server.process.log().split("\n").filter((line) => BUSY.test(line)).length;
  let renders = 0;
  let streak = 0;
  let lastBusy = busyLines();
  let quietSince = performance.now();
  await waitFor(
    "two complete renders in a row and no optimizer activity",
    async () => {
      renders++;
      const text = await completeRender(server, path);
      if (text !== undefined) {
        // Every island's component and renderer, and every module script (the plain script
        // and the layout's router): what the browser will import.
        const urls = new Set(
          [...text.matchAll(/\b(?:component-url|renderer-url|src)="([^"]*)"/g)]
            .map((match) => unescapeHtml(match[1]!))
            .filter((url) => url.startsWith("/") && !url.startsWith("//")),
        );
        // The page its links lead to without a page load (<ClientRouter />), and its modules.
        const about = await page(server.origin, "/about");
        for (const match of about.text.matchAll(/\bsrc="(\/[^/"][^"]*)"/g)) {
          urls.add(unescapeHtml(match[1]!));
        }
        for (const url of urls) {
          const response = await fetch(new URL(url, server.origin));
          await response.body?.cancel();
        }
      }
      streak = text === undefined ? 0 : streak + 1;
      const busy = busyLines();
      if (busy !== lastBusy) {
        lastBusy = busy;
        quietSince = performance.now();
      }
      return streak >= 2 && performance.now() - quietSince > 2000 ? true : undefined;
    },
    STARTUP_MS,
    500,
  );
  const seconds = (performance.now() - started) / 1000;
  return `${renders} renders in ${seconds.toFixed(1)} s until complete and quiet`;
}

/** The function {@linkcode checkHotReload} adds to `functions.ts`. */
const ADDED = `
  // Added by the end-to-end test while astro dev runs.
  "dev:added": query({
    args: () => ({}),
    handler: ({ sql }) => ({
      at: new Date(0),
      stored: BigInt(sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages").one().n),
    }),
  }),
`;

/**
 * Edits a shard function file of the running app (a new query in `src/shard/functions.ts`):
 * the new function answers without a restart (same `astro dev` process), and the rows written
 * before the edit are still there.
 */
export async function checkHotReload(ctx: UsersContext, appDir: string): Promise<void> {
  await check(ctx, "a new shard function answers after an edit, without a restart", async () => {
    const call = () =>
      rpc(ctx.server.origin, { functionPath: "dev:added", args: {}, shardKey: ctx.channel });
    const missing = await call();
    assert(missing.status === 404, `dev:added answered ${missing.status} before the edit`);
    const file = join(appDir, "src", "shard", "functions.ts");
    const source = Deno.readTextFileSync(file);
    const table = /^export const functions\b.*= \{\n/m;
    assert(
      table.test(source),
      `${file} has no "export const functions = {" to add the function to`,
    );
    const logBefore = ctx.server.process.log().length;
    const started = performance.now();
    Deno.writeTextFileSync(file, source.replace(table, (line) => `${line}${ADDED}`));
    const answer = await waitFor(
      "dev:added to answer",
      async () => {
        const response = await call();
        return response.status === 200 ? response : undefined;
      },
      EVENTUALLY_MS,
      250,
    );
    const seconds = (performance.now() - started) / 1000;
    assert(
      JSON.stringify(answer.body.result.at) === '["$lunora.wire$","date",0]',
      `dev:added answered ${JSON.stringify(answer.body)}`,
    );
    const stored = Number(answer.body.result.stored[2]);
    const exited = await Promise.race([
      ctx.server.process.status.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 0)),
    ]);
    assert(!exited, "astro dev exited");
    const reloaded = /program reload|hmr update|page reload/i.test(
      ctx.server.process.log().slice(logBefore),
    );
    const list = await rpc(ctx.server.origin, {
      functionPath: "messages:list",
      args: { channel: ctx.channel },
      shardKey: ctx.channel,
    });
    const bodies = list.body?.result?.messages?.map((m: { body: string }) => m.body) ?? [];
    assert(bodies.includes(SEEDED), "the message written before the edit is gone");
    assert(stored > 0, "the shard's table is empty after the edit");
    return `answered ${seconds.toFixed(1)} s after the edit (same process${
      reloaded ? ", Vite logged a reload" : ""
    }); ${stored} rows in the shard, the seeded message still listed`;
  });
}
