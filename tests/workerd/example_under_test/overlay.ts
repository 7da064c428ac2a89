/**
 * The app the end-to-end, soak and `astro dev` runs serve: a copy of an installed example with
 * the test machinery laid over it, so the example itself carries none.
 *
 * - `entry/` goes to the copy's `src/under_test/`. `worker.ts` is the test entry, which
 *   wrangler's `main` points to in the copy: the example's `withLunora` composition plus the RPC
 *   counter (`rpc_counter.ts`) at `GET /_lunora/admin/stats`, and the example's shard extended
 *   with the fault functions and probes (`shard_do.ts`, `faults.ts`), exported as `ShardDO`.
 * - `pages/` goes to the copy's `src/pages/`: `/boom` (a page that always throws) and
 *   `/faults/server-calls` (server writes whose shard calls fail).
 *
 * These files import the example by its path in this repository (`examples/chat/src/...`), so
 * the shard parts are type-checked and unit-tested here; the copy rewrites those imports to the
 * copy's own `src/`. The entry and the pages need the app's packages: the entry is type-checked
 * in the copy (`typeCheckApp`), not by this repository's `deno check`; the pages, like the
 * example's own pages and actions, are not (their `Astro.locals.lunora` type comes from the
 * build).
 *
 * @module
 */
import { dirname, join, relative } from "node:path";
import { listFiles, ROOT } from "../example_app.ts";
import { assert } from "../report.ts";
import { run } from "../process.ts";

const HERE: string = new URL(".", import.meta.url).pathname;
/** Where the overlay's files come from and go to in the app. */
const LAYOUT: ReadonlyArray<readonly [string, string]> = [
  ["entry", "src/under_test"],
  ["pages", "src/pages"],
];
/** The example's sources, as the overlay's files import them. */
const EXAMPLE_SRC: string = join(ROOT, "examples", "chat", "src");

/** The test entry, relative to the app. */
export const TEST_ENTRY = "src/under_test/worker.ts";

/** The overlay's TypeScript checked with the example's own: the entry and what it imports. */
export const OVERLAY_SOURCES: readonly string[] = [TEST_ENTRY];

/** What a copy of the app needs besides `node_modules`. */
const APP_FILES = [
  "src",
  "astro.config.mjs",
  "wrangler.jsonc",
  "tsconfig.json",
  "package.json",
  "package-lock.json",
];

/**
 * Copies the installed app from `from` to a fresh `to`: its sources and config, and its
 * `node_modules` as hard links (fast, no extra space; Vite's caches are left out).
 */
export async function copyApp(from: string, to: string): Promise<string> {
  await Deno.remove(to, { recursive: true }).catch(() => {});
  Deno.mkdirSync(to, { recursive: true });
  for (const name of APP_FILES) await run(["cp", "-R", join(from, name), join(to, name)]);
  await run(["cp", "-al", join(from, "node_modules"), join(to, "node_modules")]);
  for (const cache of [".vite", ".astro"]) {
    await Deno.remove(join(to, "node_modules", cache), { recursive: true }).catch(() => {});
  }
  return `${to} (node_modules hard-linked)`;
}

/**
 * Makes the app under test in `to` (fresh): a copy of the installed example `from`
 * ({@linkcode copyApp}) with the overlay added to its files (none of them replaced), and both
 * wrangler.jsonc's `main` and `lunora()`'s `serverEntry` in astro.config.mjs pointed at the test
 * entry.
 */
export async function makeAppUnderTest(from: string, to: string): Promise<string> {
  await copyApp(from, to);
  let added = 0;
  for (const [source, destination] of LAYOUT) {
    for (const file of listFiles(join(HERE, source))) {
      const origin = join(HERE, source, file);
      const target = join(to, destination, file);
      const exists = await Deno.lstat(target).then(() => true, () => false);
      assert(
        !exists,
        `the example already has ${relative(to, target)}, which the overlay replaces`,
      );
      Deno.mkdirSync(dirname(target), { recursive: true });
      const inRepo = `"${relative(dirname(origin), EXAMPLE_SRC)}/`;
      const inCopy = `"${relative(dirname(target), join(to, "src"))}/`;
      Deno.writeTextFileSync(target, Deno.readTextFileSync(origin).replaceAll(inRepo, inCopy));
      added++;
    }
  }
  rewrite(
    join(to, "wrangler.jsonc"),
    /^(\s*"main"\s*:\s*)"src\/worker\.ts"/m,
    `$1"${TEST_ENTRY}"`,
  );
  rewrite(join(to, "astro.config.mjs"), /\blunora\(\)/, `lunora({ serverEntry: "${TEST_ENTRY}" })`);
  return `${to}: the example, ${added} test files, wrangler main and lunora() on ${TEST_ENTRY}`;
}

/** Replaces the one match of `pattern` in `file`; fails when there is none. */
function rewrite(file: string, pattern: RegExp, replacement: string): void {
  const text = Deno.readTextFileSync(file);
  assert(pattern.test(text), `${file} has no ${pattern} to point at the test entry`);
  Deno.writeTextFileSync(file, text.replace(pattern, replacement));
}
