/**
 * The example's live islands in Chromium, on `@lunora/astro/client`: the channel page's React
 * island (`ChannelView.tsx`, through `@nanostores/react`), its Svelte 5 island
 * (`ChannelPeople.svelte`) and its plain script (`announcer.ts`) all read `messages:latest`.
 * What the browser's sockets did is read from the page's WebSocket events (every frame sent and
 * received); on the build, upgrades are also counted where the worker answered them (wrangler's
 * request log).
 *
 * @module
 */
import { EVENTUALLY_MS } from "../waits.ts";
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Page,
  type WebSocket as PageSocket,
} from "playwright-core";
import { rpc, send } from "../client.ts";
import type { Server } from "../example_app.ts";
import { waitFor } from "../process.ts";
import { assert, check } from "../report.ts";
import { CHROMIUM, FLAGS } from "./browser.ts";
import type { UsersContext } from "./checks.ts";

/** What the islands checks need besides the users. */
export interface IslandsContext extends UsersContext {
  /**
   * Whether the server logs each request (wrangler does; `astro dev` does not list
   * `/_lunora/*`): then socket upgrades are also counted at the worker.
   */
  requestLog: boolean;
}

/** One frame as the page sent or received it: JSON parsed, or the text as it is. */
// deno-lint-ignore no-explicit-any
type Frame = any;

/** One `/_lunora/ws` socket the page opened. */
interface SocketRecord {
  url: URL;
  sent: Frame[];
  received: Frame[];
  closed: boolean;
}

function parseFrame(payload: string | Buffer): Frame {
  const text = typeof payload === "string" ? payload : new TextDecoder().decode(payload);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Every `/_lunora/ws` socket of a page and its frames, in order. */
class SocketWatch {
  readonly sockets: SocketRecord[] = [];

  constructor(page: Page) {
    page.on("websocket", (socket: PageSocket) => {
      const url = new URL(socket.url());
      if (url.pathname !== "/_lunora/ws") return;
      const record: SocketRecord = { url, sent: [], received: [], closed: false };
      this.sockets.push(record);
      socket.on("framesent", ({ payload }) => record.sent.push(parseFrame(payload)));
      socket.on("framereceived", ({ payload }) => record.received.push(parseFrame(payload)));
      socket.on("close", () => record.closed = true);
    });
  }

  /** The sockets to one shard. */
  to(shard: string): SocketRecord[] {
    return this.sockets.filter((socket) => socket.url.searchParams.get("shard") === shard);
  }

  /** Every frame of `type` sent on the sockets to `shard`, with `functionPath` when given. */
  sent(shard: string, type: string, functionPath?: string): Frame[] {
    return this.to(shard).flatMap((socket) =>
      socket.sent.filter((frame) =>
        frame?.type === type &&
        (functionPath === undefined || frame.query?.functionPath === functionPath)
      )
    );
  }

  /** Every frame received on the sockets to `shard` for subscription `id`. */
  received(shard: string, id: string): Frame[] {
    return this.to(shard).flatMap((socket) => socket.received.filter((f) => f?.id === id));
  }
}

const WS_UPGRADE_LINE = /GET \/_lunora\/ws\S* 101\b/;

/** The `/_lunora/ws` upgrades the worker answered so far (wrangler's request log). */
function upgradesLogged(server: Server): number {
  return server.process.log().split("\n").filter((line) => WS_UPGRADE_LINE.test(line)).length;
}

/** Page errors and console errors and warnings of a page, as text. */
function collectProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") {
      problems.push(`console.${message.type()}: ${message.text()}`);
    }
  });
  return problems;
}

/** What each of the three readers of `messages:latest` shows. */
interface Shown {
  /** React: the ids of the listed messages. */
  react: string[];
  /** Svelte: the id of the newest message and how many it counts. */
  svelte: { latest: string; count: number };
  /** The plain script: the newest id and what it announced. */
  script: { latest: string; text: string };
}

async function shown(page: Page): Promise<Shown> {
  return await page.evaluate(() => {
    // Runs in the page; Deno's type check has no DOM types.
    // deno-lint-ignore no-explicit-any
    const doc = (globalThis as any).document;
    const people = doc.getElementById("people");
    const announcer = doc.getElementById("announcer");
    return {
      react: [...doc.querySelectorAll("#messages li")].map((li: { dataset: { id: string } }) =>
        li.dataset.id
      ),
      svelte: {
        latest: String(people?.dataset.latestId ?? ""),
        count: Number(people?.dataset.count ?? -1),
      },
      script: {
        latest: String(announcer?.dataset.latestId ?? ""),
        text: String(announcer?.textContent ?? ""),
      },
    };
  });
}

/** The ids `messages:latest` answers over a real HTTP RPC: what the shard stored. */
async function storedIds(origin: string, channel: string): Promise<string[]> {
  const answer = await rpc(origin, {
    functionPath: "messages:latest",
    args: { channelId: channel },
    shardKey: channel,
  });
  assert(answer.status === 200, `messages:latest answered ${answer.status}`);
  return (answer.body.result as { _id: string }[]).map((row) => row._id);
}

/** Waits until all three readers show exactly `ids` (oldest first). */
async function waitForAll(page: Page, ids: string[], timeoutMs = EVENTUALLY_MS): Promise<Shown> {
  const want = ids.join();
  const last = ids.at(-1) ?? "";
  let seen: Shown | undefined;
  try {
    return await waitFor(
      "every island to show the stored messages",
      async () => {
        seen = await shown(page);
        const ok = seen.react.join() === want && seen.svelte.latest === last &&
          seen.svelte.count === ids.length && seen.script.latest === last;
        return ok ? seen : undefined;
      },
      timeoutMs,
      100,
    );
  } catch (error) {
    throw new Error(
      `${(error as Error).message}; stored ${want.slice(-80)}, shown ${JSON.stringify(seen)}`,
    );
  }
}

/** Opens the channel page in a fresh context and waits until its socket is live. */
async function openChannel(
  browser: Browser,
  url: string,
  options: { cookie?: string; origin?: string } = {},
): Promise<{ context: BrowserContext; page: Page; watch: SocketWatch; problems: string[] }> {
  const context = await browser.newContext();
  if (options.cookie && options.origin) {
    const [name, value] = options.cookie.split(/=(.*)/s) as [string, string];
    await context.addCookies([{ name, value, url: options.origin }]);
  }
  const page = await context.newPage();
  const watch = new SocketWatch(page);
  const problems = collectProblems(page);
  await page.goto(url);
  await page.locator('body[data-live="true"]').waitFor({ timeout: EVENTUALLY_MS });
  return { context, page, watch, problems };
}

/** A channel for one check, so its stored rows are exactly what the check wrote. */
function channelFor(ctx: UsersContext, name: string): string {
  return `${ctx.channel}-${name}`.slice(0, 32);
}

/**
 * React, Svelte and a plain script on one page: one socket to the shard (counted in the
 * browser and, on the build, at the worker), one `subscribe` for `messages:latest`; a message
 * sent from a second page reaches all three, as a row `delta`.
 */
export async function checkOneSocket(ctx: IslandsContext, browser: Browser): Promise<void> {
  const channel = channelFor(ctx, "islands");
  const origin = ctx.server.origin;
  await check(
    ctx,
    "islands: React, Svelte and a plain script share one socket and one subscription; a write from a second page updates all three",
    async () => {
      await send(origin, channel, "before the page", ctx.users.alice.cookie);
      const upgradesBefore = upgradesLogged(ctx.server);
      const reader = await openChannel(browser, `${origin}/channels/${channel}`);
      const writer = await browser.newContext();
      try {
        const { page, watch } = reader;
        await waitForAll(page, await storedIds(origin, channel));
        // Every reader has mounted; give a late second subscribe the time to show up.
        await page.waitForTimeout(1000);
        const sockets = watch.to(channel);
        assert(sockets.length === 1, `${sockets.length} sockets to shard ${channel}`);
        const latest = watch.sent(channel, "subscribe", "messages:latest");
        assert(latest.length === 1, `${latest.length} subscribes for messages:latest`);
        const list = watch.sent(channel, "subscribe", "messages:list");
        assert(list.length === 1, `${list.length} subscribes for messages:list`);
        const connect = sockets[0]!.sent[0];
        assert(
          connect?.type === "connect",
          `the socket's first frame is ${JSON.stringify(connect)}`,
        );
        const upgrades = upgradesLogged(ctx.server) - upgradesBefore;
        if (ctx.requestLog) assert(upgrades === 1, `the worker answered ${upgrades} upgrades`);

        const second = await writer.newPage();
        await second.goto(`${origin}/channels/${channel}`);
        await second.locator('body[data-live="true"]').waitFor({ timeout: EVENTUALLY_MS });
        const text = `to all three ${crypto.randomUUID().slice(0, 8)}`;
        await second.fill("#send input[name=body]", text);
        await second.press("#send input[name=body]", "Enter");
        const ids = await waitFor("the message to be stored", async () => {
          const stored = await storedIds(origin, channel);
          return stored.length === 2 ? stored : undefined;
        }, EVENTUALLY_MS);
        const after = await waitForAll(page, ids);
        assert(
          after.script.text.endsWith(`: ${text}`),
          `the plain script announced ${JSON.stringify(after.script.text)}`,
        );
        const pushed = watch.received(channel, latest[0].id).map((frame) => frame.type);
        assert(pushed.includes("delta"), `messages:latest received ${pushed.join(", ")}`);
        assert(reader.problems.length === 0, reader.problems.join("; "));
        return `1 socket (${ctx.requestLog ? "1 upgrade at the worker" : "browser count"}), ` +
          `1 subscribe per query (${latest[0].id} messages:latest, ${list[0].id} messages:list); ` +
          `the second page's message reached React, Svelte and the script (frames: ${
            pushed.join(", ")
          })`;
      } finally {
        await reader.context.close();
        await writer.close();
      }
    },
  );
}

/**
 * Hydration with the socket held back: both islands' DOM equals the server HTML, with no fetch
 * and no console error or warning; then the shard's cold snapshot (equal to the seed) is let
 * through and changes nothing in the DOM but the connection status.
 */
export async function checkColdSnapshot(ctx: IslandsContext, browser: Browser): Promise<void> {
  const channel = channelFor(ctx, "cold");
  const origin = ctx.server.origin;
  await check(
    ctx,
    "islands: the first render equals the server HTML with no fetch and no hydration warning; the cold snapshot changes no DOM",
    async () => {
      await send(origin, channel, "seeded for the cold check", ctx.users.alice.cookie);
      const context = await browser.newContext({ timezoneId: "Asia/Tokyo", locale: "fr-FR" });
      try {
        let release = false;
        const held: (() => void)[] = [];
        let pushes = 0;
        await context.routeWebSocket(/\/_lunora\/ws/, (socket) => {
          const server = socket.connectToServer();
          server.onMessage((message) => {
            const forward = () => {
              const frame = parseFrame(message as string);
              if (frame?.type === "data" || frame?.type === "delta") pushes++;
              socket.send(message);
            };
            if (release) forward();
            else held.push(forward);
          });
        });
        const page = await context.newPage();
        const problems = collectProblems(page);
        const requests: string[] = [];
        page.on("request", (request) => {
          if (new URL(request.url()).pathname.startsWith("/_lunora/rpc")) {
            requests.push(request.url());
          }
        });
        const response = await page.goto(`${origin}/channels/${channel}`);
        assert(response?.status() === 200, `status ${response?.status()}`);
        const html = await response.text();
        for (const name of ["ChannelView", "ChannelPeople"]) {
          await page.locator(`astro-island[component-url*="${name}"]:not([ssr])`).waitFor({
            timeout: EVENTUALLY_MS,
          });
        }
        await page.waitForTimeout(300);
        const compared = await page.evaluate((serverHtml) => {
          // deno-lint-ignore no-explicit-any
          const doc = (globalThis as any).document;
          const served = doc.createElement("template");
          served.innerHTML = serverHtml;
          const out: Record<string, { server: string; client: string }> = {};
          for (const name of ["ChannelView", "ChannelPeople"]) {
            const selector = `astro-island[component-url*="${name}"]`;
            const live = doc.querySelector(selector).cloneNode(true);
            const sent = served.content.querySelector(selector);
            for (const root of [live, sent]) {
              const status = root.querySelector("#status");
              if (status) status.textContent = "";
              // Astro's hydration markers and attributes, gone once the island hydrated.
              for (const comment of [...root.childNodes]) {
                if (comment.nodeType === 8 && /^astro:end$/.test(comment.data)) comment.remove();
              }
            }
            out[name] = { server: String(sent.innerHTML), client: String(live.innerHTML) };
          }
          // Watch every change from now on: every node added or removed, and every attribute
          // or text whose value differs at the end from what it was before its first write
          // (React writes an input's name and type again on every render, even unchanged).
          // deno-lint-ignore no-explicit-any
          const records: any[] = [];
          // deno-lint-ignore no-explicit-any
          (globalThis as any).__e2eRecords = records;
          // deno-lint-ignore no-explicit-any
          const observer = new (globalThis as any).MutationObserver((batch: any[]) => {
            for (const record of batch) {
              const element = record.target.nodeType === 1
                ? record.target
                : record.target.parentNode;
              if (!element?.closest?.("#status")) records.push(record);
            }
          });
          // The three readers of the query: both islands and the plain script's region.
          const readers = [
            ...doc.querySelectorAll("astro-island"),
            doc.getElementById("announcer"),
          ];
          for (const reader of readers) {
            observer.observe(reader, {
              subtree: true,
              childList: true,
              characterData: true,
              characterDataOldValue: true,
              attributes: true,
              attributeOldValue: true,
            });
          }
          return out;
        }, html);
        for (const [name, { server, client }] of Object.entries(compared)) {
          if (server === client) continue;
          let at = 0;
          while (server[at] === client[at]) at++;
          throw new Error(
            `${name} after hydration differs from the server HTML at ${at}: server ${
              JSON.stringify(server.slice(at, at + 80))
            }, client ${JSON.stringify(client.slice(at, at + 80))}`,
          );
        }
        assert(requests.length === 0, `the first render fetched ${requests.join(", ")}`);
        release = true;
        for (const forward of held.splice(0)) forward();
        await waitFor("both cold snapshots", () => pushes >= 2 || undefined, EVENTUALLY_MS);
        await page.locator('body[data-live="true"]').waitFor({ timeout: EVENTUALLY_MS });
        await page.waitForTimeout(500);
        const changes = await page.evaluate(() => {
          // deno-lint-ignore no-explicit-any
          const records = (globalThis as any).__e2eRecords as any[];
          const first = new Map<unknown, unknown>();
          const changed: string[] = [];
          for (const record of records) {
            const element = record.target.nodeType === 1 ? record.target : record.target.parentNode;
            const where = `<${element?.tagName?.toLowerCase()}${
              element?.id ? `#${element.id}` : ""
            }>`;
            if (record.type === "childList") {
              changed.push(`nodes added or removed in ${where}`);
              continue;
            }
            const key = record.type === "attributes" ? `${record.attributeName}` : "text";
            let seen = first.get(record.target) as Map<string, unknown> | undefined;
            if (!seen) first.set(record.target, seen = new Map());
            if (seen.has(key)) continue;
            seen.set(key, record.oldValue);
            const now = record.type === "attributes"
              ? record.target.getAttribute(record.attributeName)
              : record.target.data;
            if (now !== record.oldValue) changed.push(`${key} of ${where}`);
          }
          return changed;
        });
        assert(changes.length === 0, `the cold snapshot changed the DOM: ${changes.join("; ")}`);
        assert(problems.length === 0, problems.join("; "));
        return "React and Svelte DOM after hydration = server HTML (status aside) in Asia/Tokyo, " +
          `fr-FR; 0 RPC requests; no console errors or warnings; ${pushes} cold snapshots, ` +
          "0 DOM changes";
      } finally {
        await context.close();
      }
    },
  );
}

/**
 * Astro View Transitions (`<ClientRouter />`): channel → /about → back keeps the page's socket
 * (no new socket, no new upgrade at the worker); on /about, which shows no query, the channel's
 * subscriptions are unsubscribed after the grace period; back on the channel the islands are
 * live again; a link back to the same channel keeps the `transition:persist` islands (the same
 * DOM nodes) with the value they got live, with no new subscribe.
 */
export async function checkViewTransitions(ctx: IslandsContext, browser: Browser): Promise<void> {
  const channel = channelFor(ctx, "vt");
  const origin = ctx.server.origin;
  await check(
    ctx,
    "islands: View Transitions keep the socket (channel -> about -> channel); persisted islands keep their live value",
    async () => {
      await send(origin, channel, "before the navigation", ctx.users.alice.cookie);
      const upgradesBefore = upgradesLogged(ctx.server);
      const { context, page, watch, problems } = await openChannel(
        browser,
        `${origin}/channels/${channel}`,
      );
      try {
        await page.evaluate(() => (globalThis as Record<string, unknown>).__e2eMarker = 42);
        const subscribed = watch.sent(channel, "subscribe").map((frame) => frame.id).sort();
        await page.click('a[href="/about"]');
        await page.locator("#built").waitFor({ timeout: EVENTUALLY_MS });
        // /about shows no query: after the grace period (about 1 s) both are unsubscribed.
        const released = await waitFor("the unsubscribes after the grace period", () => {
          const ids = watch.sent(channel, "unsubscribe").map((frame) => frame.id).sort();
          return ids.join() === subscribed.join() ? ids : undefined;
        }, EVENTUALLY_MS);
        await page.goBack();
        await page.locator(`#chat[data-channel="${channel}"]`).waitFor({ timeout: EVENTUALLY_MS });
        await page.locator('body[data-live="true"]').waitFor({ timeout: EVENTUALLY_MS });
        const marker = await page.evaluate(() =>
          (globalThis as Record<string, unknown>).__e2eMarker
        );
        assert(marker === 42, "the navigation loaded the page anew");
        const live = await send(origin, channel, "after coming back", ctx.users.dave.cookie);
        await waitForAll(page, await storedIds(origin, channel));
        const sockets = watch.to(channel);
        assert(
          sockets.length === 1 && !sockets[0]!.closed,
          `${sockets.length} sockets after the navigation`,
        );
        const upgrades = upgradesLogged(ctx.server) - upgradesBefore;
        if (ctx.requestLog) assert(upgrades === 1, `the worker answered ${upgrades} upgrades`);

        // The same channel again through its title link: the persisted islands stay.
        await page.evaluate(() => {
          // deno-lint-ignore no-explicit-any
          const doc = (globalThis as any).document;
          doc.getElementById("chat").__e2eKept = true;
          doc.getElementById("people").__e2eKept = true;
        });
        const subscribesBefore = watch.sent(channel, "subscribe").length;
        const unsubscribesBefore = watch.sent(channel, "unsubscribe").length;
        await page.click(`#chat h1 a`);
        await page.waitForURL(`${origin}/channels/${channel}`);
        await page.waitForTimeout(1500);
        const kept = await page.evaluate(() => {
          // deno-lint-ignore no-explicit-any
          const doc = (globalThis as any).document;
          return Boolean(doc.getElementById("chat")?.__e2eKept) &&
            Boolean(doc.getElementById("people")?.__e2eKept);
        });
        assert(kept, "the persisted islands were rendered anew");
        const after = await shown(page);
        assert(
          after.react.includes(String(live)) && after.svelte.latest === String(live),
          `the persisted islands lost the live message ${live}: ${JSON.stringify(after)}`,
        );
        const resubscribed = watch.sent(channel, "subscribe").length - subscribesBefore;
        const unsubscribed = watch.sent(channel, "unsubscribe").length - unsubscribesBefore;
        assert(
          resubscribed === 0 && unsubscribed === 0,
          `the persisted islands sent ${resubscribed} subscribes, ${unsubscribed} unsubscribes`,
        );
        assert(watch.to(channel).length === 1, "a new socket opened");
        assert(problems.length === 0, problems.join("; "));
        return `1 socket across channel -> /about -> back and a persisted re-visit (${
          ctx.requestLog ? "1 upgrade at the worker" : "browser count"
        }); on /about ${released.join(", ")} unsubscribed after the grace period; ` +
          `live message ${live} kept by the persisted islands, +0 subscribes`;
      } finally {
        await context.close();
      }
    },
  );
}

/** Offline (Chromium's network emulation), messages written elsewhere, online: converges. */
export async function checkOffline(ctx: IslandsContext, browser: Browser): Promise<void> {
  const channel = channelFor(ctx, "offline");
  const origin = ctx.server.origin;
  await check(ctx, "islands: offline, writes elsewhere, online: the page converges", async () => {
    await send(origin, channel, "before going offline", ctx.users.alice.cookie);
    const { context, page, problems } = await openChannel(
      browser,
      `${origin}/channels/${channel}`,
    );
    try {
      await waitForAll(page, await storedIds(origin, channel));
      await context.setOffline(true);
      await page.waitForTimeout(500);
      for (let i = 0; i < 3; i++) {
        await send(origin, channel, `while offline ${i}`, ctx.users.dave.cookie);
      }
      await page.waitForTimeout(1000);
      const during = await shown(page);
      await context.setOffline(false);
      const started = performance.now();
      const stored = await storedIds(origin, channel);
      await waitForAll(page, stored, EVENTUALLY_MS);
      const ms = performance.now() - started;
      const unexpected = problems.filter((problem) => !/ERR_INTERNET_DISCONNECTED/.test(problem));
      assert(unexpected.length === 0, unexpected.join("; "));
      return `offline: ${during.react.length} of ${stored.length} shown; online: all ${stored.length} ` +
        `in ${ms.toFixed(0)} ms`;
    } finally {
      await context.close();
    }
  });
}

/**
 * A browser mutation whose answer is lost after the shard committed it (the response is
 * dropped on its way back): the client retries with the same `x-lunora-mutation-id`, the
 * message is stored once and shown once.
 */
export async function checkLostAnswer(ctx: IslandsContext, browser: Browser): Promise<void> {
  const channel = channelFor(ctx, "lost");
  const origin = ctx.server.origin;
  await check(ctx, "islands: a browser mutation whose answer is lost is stored once", async () => {
    const { context, page, problems } = await openChannel(
      browser,
      `${origin}/channels/${channel}`,
    );
    try {
      const ids: string[] = [];
      let dropped = 0;
      await page.route("**/_lunora/rpc", async (route) => {
        const id = route.request().headers()["x-lunora-mutation-id"];
        if (id) ids.push(id);
        if (dropped === 0) {
          // The request reaches the worker and the shard commits; the answer never arrives.
          const answer = await route.fetch();
          assert(answer.status() === 200, `the first attempt answered ${answer.status()}`);
          dropped++;
          await route.abort("failed");
          return;
        }
        await route.continue();
      });
      const text = `answer lost ${crypto.randomUUID().slice(0, 8)}`;
      await page.fill("#send input[name=body]", text);
      await page.press("#send input[name=body]", "Enter");
      await page.locator("#messages li", { hasText: text }).waitFor({ timeout: EVENTUALLY_MS });
      await waitFor("the send to finish", async () => {
        const value = await page.inputValue("#send input[name=body]");
        return value === "" ? true : undefined;
      }, EVENTUALLY_MS);
      const stored = await rpc(origin, {
        functionPath: "messages:latest",
        args: { channelId: channel },
        shardKey: channel,
      });
      const rows = (stored.body.result as { body: string }[]).filter((row) => row.body === text);
      assert(rows.length === 1, `${rows.length} rows stored`);
      assert(ids.length >= 2, `${ids.length} attempts reached the route`);
      assert(new Set(ids).size === 1, `the attempts carried ids ${ids.join(", ")}`);
      const shownTimes = await page.locator("#messages li", { hasText: text }).count();
      assert(shownTimes === 1, `the message is shown ${shownTimes} times`);
      const status = await page.locator("#status").textContent();
      assert(!status?.startsWith("error"), `the island reports ${status}`);
      const unexpected = problems.filter((problem) => !/net::ERR_FAILED/.test(problem));
      assert(unexpected.length === 0, unexpected.join("; "));
      return `${ids.length} attempts with one x-lunora-mutation-id; 1 row stored, shown once`;
    } finally {
      await context.close();
    }
  });
}

/**
 * A signed-in page signs out through its form: the page is rendered again as anonymous without
 * a page load, its socket reopens, and no island shows the signed-in user as the viewer.
 */
export async function checkSignOut(ctx: IslandsContext, browser: Browser): Promise<void> {
  const channel = channelFor(ctx, "signout");
  const origin = ctx.server.origin;
  const { bob } = ctx.users;
  await check(
    ctx,
    "islands: after a sign-out no island shows the signed-in user's data; the socket reopens anonymous",
    async () => {
      await send(origin, channel, "before the sign-out", bob.cookie);
      const { context, page, watch, problems } = await openChannel(
        browser,
        `${origin}/channels/${channel}`,
        { cookie: bob.cookie, origin },
      );
      try {
        const viewer = page.locator("#viewer");
        assert(
          (await viewer.getAttribute("data-user-id")) === bob.id,
          "the page is not signed in as bob",
        );
        await page.evaluate(() => (globalThis as Record<string, unknown>).__e2eMarker = 42);
        await page.click("#sign-out button");
        await page.locator("#sign-in").waitFor({ timeout: EVENTUALLY_MS });
        // A push, so the island shows what the new socket's shard says about the viewer.
        await send(origin, channel, "after the sign-out", ctx.users.dave.cookie);
        await waitFor("the socket's viewer after the sign-out", async () => {
          const live = await viewer.getAttribute("data-live-user-id");
          return live === "" ? true : undefined;
        }, EVENTUALLY_MS);
        const marker = await page.evaluate(() =>
          (globalThis as Record<string, unknown>).__e2eMarker
        );
        assert(marker === 42, "the sign-out reloaded the page");
        const text = await viewer.textContent();
        const shownId = await viewer.getAttribute("data-user-id");
        assert(text === "anonymous" && shownId === "", `the viewer shows ${text} (${shownId})`);
        const sockets = watch.to(channel);
        assert(
          sockets.length === 2 && sockets[0]!.closed && !sockets[1]!.closed,
          `${sockets.length} sockets; the first ${sockets[0]?.closed ? "closed" : "still open"}`,
        );
        assert(problems.length === 0, problems.join("; "));
        return "no reload; viewer anonymous in the server render and on the new socket; " +
          "the signed-in socket closed, a new one opened";
      } finally {
        await context.close();
      }
    },
  );
}

/**
 * The worker stopped and started again (same port, same state) while messages keep being
 * written: the page's socket comes back, re-subscribes with the same subscription ids, and
 * every island ends on the stored rows. Returns the restarted server.
 */
export async function checkRestart(
  ctx: IslandsContext,
  browser: Browser,
  restart: () => Promise<Server>,
): Promise<Server> {
  const channel = channelFor(ctx, "restart");
  const origin = ctx.server.origin;
  let server = ctx.server;
  await check(
    ctx,
    "islands: the worker restarted while writes continue: same subscription ids, every island ends on the stored rows",
    async () => {
      await send(origin, channel, "before the restart", ctx.users.alice.cookie);
      const { context, page, watch } = await openChannel(browser, `${origin}/channels/${channel}`);
      let writing = true;
      let written = 0;
      const writer = (async () => {
        while (writing) {
          try {
            await send(origin, channel, `during the restart ${written}`);
            written++;
          } catch {
            // The worker is down: try again.
          }
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      })();
      try {
        await page.waitForTimeout(1000);
        const before = watch.sent(channel, "subscribe").map((frame) =>
          `${frame.query.functionPath}=${frame.id}`
        ).sort();
        const started = performance.now();
        server = await restart();
        const restartMs = performance.now() - started;
        await waitFor(
          "a second socket",
          () => watch.to(channel).length >= 2 || undefined,
          EVENTUALLY_MS,
        );
        const writtenAfter = written;
        await waitFor(
          "writes after the restart",
          () => written >= writtenAfter + 3 || undefined,
          EVENTUALLY_MS,
        );
        writing = false;
        await writer;
        const stored = await storedIds(origin, channel);
        await waitForAll(page, stored, EVENTUALLY_MS);
        const sockets = watch.to(channel);
        const again = sockets.at(-1)!.sent.filter((frame) => frame?.type === "subscribe").map(
          (frame) => `${frame.query.functionPath}=${frame.id}`,
        ).sort();
        assert(
          again.join() === before.join(),
          `subscribed ${before.join(", ")} before, ${again.join(", ")} after`,
        );
        return `restart in ${(restartMs / 1000).toFixed(1)} s; ${written} writes around it; ` +
          `${sockets.length} sockets; same ids (${again.join(", ")}); ` +
          `${stored.length} stored rows shown by all three`;
      } finally {
        writing = false;
        await writer;
        await context.close();
      }
    },
  );
  return server;
}

/** The lifetime of a WebSocket token on the server the build checks run on (seconds). */
export const WS_TOKEN_TTL = 3;

/**
 * `/cross-origin/*` with its socket on the API origin, authenticated by a WebSocket token the
 * page's origin issues (`GET /lunora-token`, valid {@linkcode WS_TOKEN_TTL} s): once the token
 * expired, the next write makes the shard close the socket (4001 `TOKEN_EXPIRED`); the page
 * fetches a fresh token, reconnects with it and shows the write, without a page load.
 */
export async function checkTokenRefresh(
  ctx: IslandsContext,
  browser: Browser,
  apiOrigin: string,
): Promise<void> {
  const channel = channelFor(ctx, "token");
  const origin = ctx.server.origin;
  const { carol } = ctx.users;
  await check(
    ctx,
    "islands, other origin: a WS token the shard expires (4001) is refreshed and the page stays live",
    async () => {
      await send(origin, channel, "before the token expires", carol.cookie);
      const { context, page, watch, problems } = await openChannel(
        browser,
        `${origin}/cross-origin/${channel}`,
        { cookie: carol.cookie, origin },
      );
      try {
        const first = watch.to(channel)[0];
        const apiHost = new URL(apiOrigin).host;
        assert(
          first?.url.host === apiHost,
          `the socket went to ${first?.url.host}, not ${apiHost}`,
        );
        assert(first.url.searchParams.get("token"), "the socket carries no token");
        await page.evaluate(() => (globalThis as Record<string, unknown>).__e2eMarker = 42);
        await page.waitForTimeout(WS_TOKEN_TTL * 1000 + 500);
        const text = `after the token expired ${crypto.randomUUID().slice(0, 8)}`;
        await send(origin, channel, text, ctx.users.dave.cookie);
        await page.locator("#messages li", { hasText: text }).waitFor({ timeout: EVENTUALLY_MS });
        const sockets = watch.to(channel);
        const tokens = new Set(sockets.map((socket) => socket.url.searchParams.get("token")));
        assert(
          sockets.length >= 2 && first.closed && tokens.size >= 2,
          `${sockets.length} sockets, ${tokens.size} tokens; the first ${
            first.closed ? "closed" : "still open"
          }`,
        );
        const expiredFrames = first.received.filter((frame) =>
          JSON.stringify(frame).includes(text)
        );
        assert(expiredFrames.length === 0, "the expired socket was sent the write");
        await page.locator('body[data-live="true"]').waitFor({ timeout: EVENTUALLY_MS });
        const live = await page.locator("#viewer").getAttribute("data-live-user-id");
        assert(live === carol.id, `the new socket runs as ${live || "anonymous"}`);
        const marker = await page.evaluate(() =>
          (globalThis as Record<string, unknown>).__e2eMarker
        );
        assert(marker === 42, "the page was reloaded");
        assert(problems.length === 0, problems.join("; "));
        return `token expired after ${WS_TOKEN_TTL} s; the write closed the socket instead of ` +
          `reaching it; ${sockets.length} sockets with ${tokens.size} tokens; shown live as carol`;
      } finally {
        await context.close();
      }
    },
  );
}

/** Which islands checks {@linkcode checkIslands} runs. */
export interface IslandsOptions {
  /** Restarts the server (the build): the restart check runs last and its server is returned. */
  restart?: () => Promise<Server>;
  /**
   * The API's second origin, whose server issues WebSocket tokens valid
   * {@linkcode WS_TOKEN_TTL} s: runs the token refresh check.
   */
  apiOrigin?: string;
  /** `"all"`; `"one page"`: only the one-socket and cold-snapshot checks (a smoke run). */
  scope?: "all" | "one page";
}

/** The islands checks in one Chromium; returns the server the next checks use. */
export async function checkIslands(
  ctx: IslandsContext,
  { restart, apiOrigin, scope = "all" }: IslandsOptions = {},
): Promise<Server> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  try {
    await checkOneSocket(ctx, browser);
    await checkColdSnapshot(ctx, browser);
    if (scope === "one page") return ctx.server;
    await checkViewTransitions(ctx, browser);
    await checkOffline(ctx, browser);
    await checkLostAnswer(ctx, browser);
    await checkSignOut(ctx, browser);
    if (apiOrigin) await checkTokenRefresh(ctx, browser, apiOrigin);
    return restart ? await checkRestart(ctx, browser, restart) : ctx.server;
  } finally {
    await browser.close();
  }
}
