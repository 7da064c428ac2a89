/**
 * The browser half of the end-to-end test: Debian's Chromium, driven by `playwright-core`,
 * which never downloads a browser of its own.
 *
 * @module
 */
import { chromium } from "playwright-core";
import { join } from "node:path";
import { readIsland } from "../client.ts";
import { assert, check } from "../report.ts";
import { SEEDED, type UsersContext } from "./checks.ts";
import { checkFormInBrowser } from "./writes.ts";
import { run, waitFor } from "../process.ts";
import { EVENTUALLY_MS } from "../waits.ts";

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

/** Chromium's flags; Playwright adds a fresh --user-data-dir (a new profile) to every launch. */
export const FLAGS: string[] = [
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
 * a second page signs up through the page's form (better-auth), its server render and its live
 * socket run as that user, and its message appears in the first page without a reload. With
 * `apiOrigin`, the signed-in page's `/cross-origin/` twin goes live against the API origin as
 * the same user. Then the send form without JavaScript (`writes.ts`).
 */
export async function checkBrowser(
  ctx: UsersContext,
  outDir: string,
  apiOrigin?: string,
): Promise<void> {
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

    await check(
      ctx,
      "browser: the React island's first render equals the server HTML, with no fetch",
      () => checkFirstRender(browser, url),
    );

    await check(ctx, "browser: a message sent from a second page appears live", async () => {
      const reader = await browser.newContext();
      const writer = await browser.newContext();
      const errors: string[] = [];
      try {
        const first = await reader.newPage();
        first.on("pageerror", (error) => errors.push(String(error)));
        first.on("console", (message) => {
          if (message.type() === "error") errors.push(`console: ${message.text()}`);
        });
        await first.goto(url);
        await first.locator('body[data-live="true"]').waitFor({ timeout: EVENTUALLY_MS });
        // A marker that a reload would wipe out.
        await first.evaluate(() => (globalThis as Record<string, unknown>).__e2eMarker = 42);

        const second = await writer.newPage();
        second.on("pageerror", (error) => errors.push(String(error)));
        second.on("console", (message) => {
          if (message.type() === "error") errors.push(`console: ${message.text()}`);
        });
        await second.goto(url);
        // Sign up through the page's own form; the page is rendered again signed in, without
        // a page load, and its socket reopens with the new session cookie.
        await second.fill("#sign-up input[name=name]", "erin");
        await second.fill("#sign-up input[name=email]", `erin-${crypto.randomUUID()}@e2e.test`);
        await second.fill("#sign-up input[name=password]", `pw-${crypto.randomUUID()}`);
        await second.click("#sign-up button");
        await second.locator("#sign-out").waitFor({ timeout: EVENTUALLY_MS });
        await second.locator('body[data-live="true"]').waitFor({ timeout: EVENTUALLY_MS });
        const viewer = second.locator("#viewer");
        const erin = await viewer.getAttribute("data-user-id");
        assert(erin, "the signed-up page does not show a user id");
        const text = `from the browser ${crypto.randomUUID().slice(0, 8)}`;
        const started = performance.now();
        await second.fill("#send input[name=body]", text);
        await second.press("#send input[name=body]", "Enter");

        const item = first.locator("#messages li", { hasText: text });
        await item.waitFor({ timeout: EVENTUALLY_MS });
        const ms = performance.now() - started;
        // The push of that message tells the island who its socket runs as.
        const live = await waitFor(
          "the socket's push to the signed-up page",
          async () => (await viewer.getAttribute("data-live-user-id")) ?? undefined,
          EVENTUALLY_MS,
        );
        assert(live === erin, `SSR ran as ${erin}, the socket as ${live || "anonymous"}`);
        const author = item.locator(".author");
        const shownName = await author.textContent();
        const shownId = await author.getAttribute("data-user-id");
        assert(
          shownName === "erin" && shownId === erin,
          `author shown ${shownName} (${shownId}), erin is ${erin}`,
        );
        const marker = await first.evaluate(() =>
          (globalThis as Record<string, unknown>).__e2eMarker
        );
        assert(marker === 42, "the first page was reloaded");
        const pwned = await first.evaluate(() => (globalThis as Record<string, unknown>).__pwned);
        assert(pwned === undefined, "the seeded message's script ran");
        assert(errors.length === 0, `page errors: ${errors.join("; ")}`);
        await first.screenshot({ path: join(outDir, "chat.png"), fullPage: true });
        let crossOrigin = "";
        if (apiOrigin) {
          // The same signed-in browser on /cross-origin/: preloaded through the API origin with
          // a bearer token, live over the API origin's socket with the browser's cookie.
          await second.goto(`${server.origin}/cross-origin/${channel}`);
          await second.locator('body[data-live="true"]').waitFor({ timeout: EVENTUALLY_MS });
          const shown = await viewer.getAttribute("data-user-id");
          // Its island sends to the API origin with Lunora's mutation and client ids: the CORS
          // preflight must allow those headers, and the message reaches the first page live.
          const crossText = `from the API origin ${crypto.randomUUID().slice(0, 8)}`;
          await second.fill("#send input[name=body]", crossText);
          await second.press("#send input[name=body]", "Enter");
          const crossItem = first.locator("#messages li", { hasText: crossText });
          await crossItem.waitFor({ timeout: EVENTUALLY_MS });
          const crossAuthor = await crossItem.locator(".author").getAttribute("data-user-id");
          assert(crossAuthor === erin, `the cross-origin send was stored as ${crossAuthor}`);
          const liveThere = await waitFor(
            "the cross-origin socket's push",
            async () => (await viewer.getAttribute("data-live-user-id")) || undefined,
            EVENTUALLY_MS,
          );
          assert(
            shown === erin && liveThere === erin,
            `cross-origin page: SSR ${shown}, socket ${liveThere}, erin ${erin}`,
          );
          crossOrigin = `; /cross-origin/ (API ${apiOrigin}): SSR ${shown}, socket ${liveThere}, ` +
            "a send with Lunora's ids through CORS appeared live";
        }
        assert(errors.length === 0, `page errors: ${errors.join("; ")}`);
        return `erin signed up in the page as ${erin}: SSR ${erin}, socket ${live}${crossOrigin}; ` +
          `message appeared in ${ms.toFixed(0)} ms without a reload; screenshot .out/e2e/chat.png`;
      } finally {
        await reader.close();
        await writer.close();
      }
    });
    await checkFormInBrowser(ctx, browser);
  } finally {
    await browser.close();
  }
}

/**
 * Hydration of the channel page's React island, in a browser whose time zone and locale differ
 * from the server's: the socket is held silent (routed to nothing), so the DOM after hydration
 * is the island's first client render. It must equal the server-rendered HTML (apart from the
 * connection status the island updates right after), with no `/_lunora/rpc` request and no
 * console error (React reports every hydration mismatch there).
 */
async function checkFirstRender(
  browser: Awaited<ReturnType<typeof chromium.launch>>,
  url: string,
): Promise<string> {
  const context = await browser.newContext({ timezoneId: "America/New_York", locale: "de-DE" });
  const problems: string[] = [];
  const rpcs: string[] = [];
  try {
    // Never connected to the server: the island's socket stays silent.
    await context.routeWebSocket(/\/_lunora\/ws/, () => {});
    const tab = await context.newPage();
    tab.on("pageerror", (error) => problems.push(String(error)));
    tab.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning") {
        problems.push(`console.${message.type()}: ${message.text()}`);
      }
    });
    tab.on("request", (request) => {
      if (new URL(request.url()).pathname.startsWith("/_lunora/rpc")) rpcs.push(request.url());
    });
    const response = await tab.goto(url);
    assert(response?.status() === 200, `status ${response?.status()}`);
    // The HTML this very page was served (each render has its own form key). Astro's end
    // marker is removed once the island hydrates.
    const serverHtml = readIsland(await response.text(), "ChannelView").html
      .replace("<!--astro:end-->", "");
    const island = tab.locator('astro-island[component-url*="ChannelView"]');
    // Astro drops the `ssr` attribute once the component has hydrated.
    await tab.locator('astro-island[component-url*="ChannelView"]:not([ssr])').waitFor({
      timeout: EVENTUALLY_MS,
    });
    await tab.waitForTimeout(300);
    const compared = await island.evaluate((element, html) => {
      // Runs in the page; Deno's type check has no DOM types.
      // deno-lint-ignore no-explicit-any
      const node = element as any;
      const template = node.ownerDocument.createElement("template");
      template.innerHTML = html;
      const live = node.cloneNode(true);
      for (const root of [template.content, live]) {
        const status = root.querySelector("#status");
        if (status) status.textContent = "";
      }
      return { server: String(template.innerHTML), client: String(live.innerHTML) };
    }, serverHtml);
    const messages = await island.locator("#messages li").count();
    assert(messages > 0, "the island shows no messages");
    if (compared.client !== compared.server) {
      let at = 0;
      while (compared.client[at] === compared.server[at]) at++;
      throw new Error(
        `the hydrated island differs from the server HTML at ${at}: server ${
          JSON.stringify(compared.server.slice(at, at + 80))
        }, client ${JSON.stringify(compared.client.slice(at, at + 80))}`,
      );
    }
    assert(rpcs.length === 0, `the first render fetched ${rpcs.join(", ")}`);
    assert(problems.length === 0, problems.join("; "));
    return `${messages} messages; DOM after hydration = server HTML (status aside) in ` +
      "America/New_York, de-DE; 0 RPC requests; no console errors or warnings";
  } finally {
    await context.close();
  }
}
