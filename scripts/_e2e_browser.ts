/**
 * The browser half of the end-to-end test: Debian's Chromium, driven by `playwright-core`,
 * which never downloads a browser of its own.
 *
 * @module
 */
import { chromium } from "playwright-core";
import { join } from "node:path";
import { check, SEEDED } from "./_e2e_checks.ts";
import type { CheckContext } from "./_e2e_checks.ts";
import { assert, run } from "./_e2e_harness.ts";

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM = "/usr/bin/chromium";

/** Installs Debian's `chromium` when it is missing (needs root, as on CI). */
export async function ensureChromium(): Promise<string> {
  try {
    Deno.statSync(CHROMIUM);
    return "already installed";
  } catch {
    // Install below.
  }
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  await run(["apt-get", "update", "-qq"], { env });
  await run(["apt-get", "install", "-y", "-qq", "chromium"], { env });
  Deno.statSync(CHROMIUM);
  return "installed with apt-get";
}

// Playwright adds a fresh --user-data-dir (a new temporary profile) to every launch.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Opens a channel page: the server-rendered messages are there with JavaScript off; with it on,
 * a message sent from a second page (another user) appears in the first without a reload.
 */
export async function checkBrowser(ctx: CheckContext, outDir: string): Promise<void> {
  const { server, channel } = ctx;
  const url = `${server.origin}/channels/${channel}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  try {
    await check(
      ctx,
      "browser: server-rendered messages show with JavaScript disabled",
      async () => {
        const context = await browser.newContext({ javaScriptEnabled: false });
        try {
          const tab = await context.newPage();
          const response = await tab.goto(url);
          assert(response?.status() === 200, `status ${response?.status()}`);
          const bodies = await tab.locator("#messages li .body").allTextContents();
          assert(bodies.includes(SEEDED), `rendered bodies: ${JSON.stringify(bodies.slice(-3))}`);
          const live = await tab.locator("body").getAttribute("data-live");
          assert(live === null, "a script ran although JavaScript is disabled");
          return `${bodies.length} messages rendered without scripts`;
        } finally {
          await context.close();
        }
      },
    );

    await check(ctx, "browser: a message sent from a second page appears live", async () => {
      const reader = await browser.newContext();
      const writer = await browser.newContext();
      const errors: string[] = [];
      try {
        const url0 = new URL(url);
        await writer.addCookies([{ name: "demo_user", value: "erin", url: url0.origin }]);
        const first = await reader.newPage();
        first.on("pageerror", (error) => errors.push(String(error)));
        await first.goto(url);
        await first.locator('body[data-live="true"]').waitFor({ timeout: 15_000 });
        // A marker that a reload would wipe out.
        await first.evaluate(() => (globalThis as Record<string, unknown>).__e2eMarker = 42);

        const second = await writer.newPage();
        second.on("pageerror", (error) => errors.push(String(error)));
        await second.goto(url);
        await second.locator('body[data-live="true"]').waitFor({ timeout: 15_000 });
        const text = `from the browser ${crypto.randomUUID().slice(0, 8)}`;
        const started = performance.now();
        await second.fill("#send input[name=body]", text);
        await second.press("#send input[name=body]", "Enter");

        const item = first.locator("#messages li", { hasText: text });
        await item.waitFor({ timeout: 10_000 });
        const ms = performance.now() - started;
        assert((await item.locator(".author").textContent()) === "erin", "wrong author shown");
        const marker = await first.evaluate(() =>
          (globalThis as Record<string, unknown>).__e2eMarker
        );
        assert(marker === 42, "the first page was reloaded");
        const pwned = await first.evaluate(() => (globalThis as Record<string, unknown>).__pwned);
        assert(pwned === undefined, "the seeded message's script ran");
        assert(errors.length === 0, `page errors: ${errors.join("; ")}`);
        await first.screenshot({ path: join(outDir, "chat.png"), fullPage: true });
        return `appeared in ${ms.toFixed(0)} ms without a reload; screenshot .out/e2e/chat.png`;
      } finally {
        await reader.close();
        await writer.close();
      }
    });
  } finally {
    await browser.close();
  }
}
