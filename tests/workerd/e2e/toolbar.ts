/**
 * `Server-Timing` and the Lunora dev toolbar app, end to end:
 *
 * - on the built worker, a page that made Lunora calls answers with the summary entry and names
 *   no function (the dev marker is not set), and nothing of the toolbar app is in `dist/`;
 * - under `astro dev`, the header names each call, and in Chromium the app opens from Astro's
 *   toolbar, lists the plane, the page's calls and its live stores, and a page with a failing
 *   call raises an error notification on its icon (screenshots in `.out/toolbar-live.png`, the
 *   channel page, and `.out/toolbar.png`, the failing call).
 *
 * The failing call comes from a probe page the harness adds to the `astro dev` copy of the app
 * (never to `examples/`).
 *
 * @module
 */
import { EVENTUALLY_MS } from "../waits.ts";
import { join } from "node:path";
import { chromium, type Page } from "playwright-core";
import { CHROMIUM } from "./browser.ts";
import { assert, check, type CheckContext } from "../report.ts";
import { ROOT } from "../example_app.ts";
import { waitFor } from "../process.ts";

/**
 * Strings only the toolbar app carries (`src/toolbar/`). The dev marker's key is not one: the
 * worker reads it, so it is in every build; that the marker is never set there is what
 * {@linkcode checkServerTimingInBuild} shows (no call is named).
 */
const DEV_ONLY_MARKERS = ["lunora:toolbar:ready", "lunora:toolbar:plane", "data-lunora-toolbar"];

const SUMMARY = /(?:^|, )lunora;dur=[\d.]+;desc="(\d+) calls?"/;

/** The probe page's path in the `astro dev` copy. */
export const PROBE_PATH = "/lunora-toolbar-probe";

const PROBE_PAGE = `---
// Added by the e2e harness to its astro dev copy: one call that works, one that fails.
import { query } from "@lunora/astro/server";

const list = query<{ channel: string }, unknown>("messages:list");
const missing = query("toolbar:missing");
await Astro.locals.lunora.query(list, { channel: "toolbar" }, { shardKey: "toolbar" });
let failed = "";
try {
  await Astro.locals.lunora.query(missing);
} catch (error) {
  failed = String((error as { code?: unknown }).code);
}
---

<html lang="en">
  <head><meta charset="utf-8" /><title>Toolbar probe</title></head>
  <body><p id="failed">{failed}</p></body>
</html>
`;

/** Adds the probe page to a copy of the app (before `astro dev` starts). */
export async function addToolbarProbe(appDir: string): Promise<string> {
  const file = join(appDir, "src", "pages", `${PROBE_PATH.slice(1)}.astro`);
  await Deno.writeTextFile(file, PROBE_PAGE);
  return file;
}

function* files(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* files(path);
    else if (entry.isFile) yield path;
  }
}

/**
 * The built app (`astro build`) holds none of the toolbar app's strings, while the installed
 * package's toolbar entry does (so the search would find them if they had been bundled).
 */
export async function checkNoToolbarInBuild(ctx: CheckContext, appDir: string): Promise<void> {
  await check(ctx, "the production build holds nothing of the dev toolbar app", () => {
    const entry = join(appDir, "node_modules", "@lunora", "astro", "esm", "src", "toolbar");
    const shipped = [...files(entry)].map((file) => Deno.readTextFileSync(file)).join("\n");
    for (const marker of DEV_ONLY_MARKERS) {
      assert(shipped.includes(marker), `the package's toolbar entry lacks ${marker}`);
    }
    let scanned = 0;
    for (const file of files(join(appDir, "dist"))) {
      if (!/\.(?:m?js|html|json|css|map)$/.test(file)) continue;
      scanned++;
      const text = Deno.readTextFileSync(file);
      for (const marker of DEV_ONLY_MARKERS) {
        assert(!text.includes(marker), `${file} contains ${JSON.stringify(marker)}`);
      }
    }
    assert(scanned > 0, "dist/ has no file to scan");
    return `${scanned} files in dist/ scanned for ${DEV_ONLY_MARKERS.length} markers, none found`;
  });
}

/** On the built worker: the summary entry, no function or shard names. */
export async function checkServerTimingInBuild(ctx: CheckContext): Promise<void> {
  await check(ctx, "a page's Server-Timing counts its Lunora calls and names none", async () => {
    const response = await fetch(`${ctx.server.origin}/channels/${ctx.channel}`);
    await response.body?.cancel();
    const value = response.headers.get("server-timing") ?? "";
    const count = SUMMARY.exec(value)?.[1];
    assert(count !== undefined && Number(count) >= 1, `Server-Timing: ${JSON.stringify(value)}`);
    assert(!/messages|lunora-1/.test(value), `names calls in production: ${value}`);
    const about = await fetch(`${ctx.server.origin}/about`);
    await about.body?.cancel();
    assert(!/lunora/.test(about.headers.get("server-timing") ?? ""), "/about has a Lunora entry");
    return `${value}; /about (no calls) has none`;
  });
}

/** Under `astro dev`: the header names each call, kind, shard, transport and outcome. */
export async function checkServerTimingInDev(ctx: CheckContext): Promise<void> {
  await check(ctx, "Server-Timing names each call under astro dev", async () => {
    const response = await fetch(`${ctx.server.origin}/channels/${ctx.channel}`);
    await response.body?.cancel();
    const value = response.headers.get("server-timing") ?? "";
    assert(SUMMARY.test(value), `Server-Timing: ${JSON.stringify(value)}`);
    const detail = `desc="query messages:list shard=${ctx.channel} in-process ok"`;
    assert(value.includes(detail), `no ${detail} in ${JSON.stringify(value)}`);
    return value;
  });
}

/** The Lunora button in Astro's toolbar (Playwright's CSS pierces the open shadow roots). */
function lunoraButton(tab: Page) {
  return tab.locator('astro-dev-toolbar #dev-bar .item[data-app-id="lunora"]');
}

async function openApp(tab: Page, url: string): Promise<void> {
  await tab.goto(url);
  await lunoraButton(tab).waitFor({ timeout: EVENTUALLY_MS });
  await lunoraButton(tab).click();
  await tab.locator("[data-lunora-toolbar]").waitFor({ state: "visible", timeout: EVENTUALLY_MS });
  // /_lunora/status and the integration's report arrive after the first render.
  await tab.locator('[data-lunora-status]:has-text("200")').waitFor({ timeout: EVENTUALLY_MS });
  await tab.locator('[data-lunora-binding]:has-text("env.")').waitFor({ timeout: EVENTUALLY_MS });
}

async function cells(tab: Page, rows: string): Promise<string[][]> {
  return await tab.locator(rows).evaluateAll((trs) =>
    trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent?.trim() ?? ""))
  );
}

/** Whether the Lunora icon shows a notification, and at which level. */
async function notification(tab: Page): Promise<string | null> {
  const dot = lunoraButton(tab).locator(".notification");
  return await dot.evaluate((el) =>
    el.hasAttribute("data-active") ? el.getAttribute("data-level") ?? "error" : null
  );
}

/**
 * In Chromium under `astro dev`: the app opens and shows its rows; a page with a failing call
 * raises an error notification without the app being opened.
 */
export async function checkToolbarApp(ctx: CheckContext): Promise<void> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    const tab = await context.newPage();
    const errors: string[] = [];
    tab.on("pageerror", (error) => errors.push(String(error)));

    await check(
      ctx,
      "toolbar: the Lunora app shows the plane, the page's calls and live stores",
      async () => {
        await openApp(tab, `${ctx.server.origin}/channels/${ctx.channel}`);
        const status = (await tab.locator("[data-lunora-status]").textContent())?.trim();
        const binding = (await tab.locator("[data-lunora-binding]").textContent())?.trim();
        const wiring = (await tab.locator("[data-lunora-wiring]").textContent())?.trim();
        assert(status === '200 {"ok":true}', `status: ${status}`);
        assert(binding?.startsWith("env.SHARD"), `binding: ${binding}`);
        const calls = await cells(tab, "tr[data-lunora-call]");
        const list = calls.find((row) => row[0] === "messages:list");
        assert(list, `no messages:list row in ${JSON.stringify(calls)}`);
        assert(
          list[1] === "query" && list[2] === ctx.channel && /ms$/.test(list[3]!) &&
            list[4] === "in-process" && list[5] === "ok",
          `row: ${JSON.stringify(list)}`,
        );
        // The channel page's islands read live stores from @lunora/astro/client: one socket for
        // the channel's shard, holding its two queries (the app redraws every second).
        // The socket may still be connecting when the app first draws: wait for it to open.
        const sockets = await waitFor("an open socket row for the channel", async () => {
          const rows = await cells(tab, "tr[data-lunora-socket]");
          return rows.some((row) => row[0]?.startsWith(ctx.channel) && row[1] === "open")
            ? rows
            : undefined;
        }, EVENTUALLY_MS);
        const socket = sockets.find((row) => row[0]?.startsWith(ctx.channel))!;
        assert(sockets.length === 1, `socket rows: ${JSON.stringify(sockets)}`);
        assert(
          /messages:latest/.test(socket[4]!) && /messages:list/.test(socket[4]!),
          `the socket's queries: ${socket[4]}`,
        );
        const level = await notification(tab);
        assert(level === null, `notification ${level} on a page whose calls all succeeded`);
        assert(errors.length === 0, errors.join("\n"));
        await tab.screenshot({ path: join(ROOT, ".out", "toolbar-live.png") });
        return `status ${status}; binding ${binding}; wiring: ${wiring}; ${calls.length} call row(s), ` +
          `messages:list ${list[3]} in process; live: ${socket.join(" | ")}; no notification`;
      },
    );

    await check(ctx, "toolbar: a failing server call raises an error notification", async () => {
      await tab.goto(`${ctx.server.origin}${PROBE_PATH}`);
      const failed = (await tab.locator("#failed").textContent())?.trim();
      assert(failed === "NOT_FOUND", `the probe's failing call answered ${failed}`);
      await lunoraButton(tab).waitFor({ timeout: EVENTUALLY_MS });
      await lunoraButton(tab).locator(".notification[data-active]").waitFor({
        state: "attached",
        timeout: EVENTUALLY_MS,
      });
      const level = await notification(tab);
      assert(level === "error", `notification level ${level}`);
      await lunoraButton(tab).click();
      await tab.locator("[data-lunora-toolbar]").waitFor({
        state: "visible",
        timeout: EVENTUALLY_MS,
      });
      await tab.locator('[data-lunora-status]:has-text("200")').waitFor({ timeout: EVENTUALLY_MS });
      const calls = await cells(tab, "tr[data-lunora-call]");
      const missing = calls.find((row) => row[0] === "toolbar:missing");
      assert(missing?.[5] === "NOT_FOUND", `rows: ${JSON.stringify(calls)}`);
      const shot = join(ROOT, ".out", "toolbar.png");
      await tab.screenshot({ path: shot });
      return `icon notification "${level}"; row ${JSON.stringify(missing)}; screenshot ${shot}`;
    });
    await context.close();
  } finally {
    await browser.close();
  }
}
