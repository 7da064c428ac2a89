/**
 * Writing from the server, end to end: the channel page's send form posts to the example's
 * `messages.send` Astro Action, which calls the shard through `Astro.locals.lunora` with the
 * form's hidden key as the idempotency key. Checked over raw HTTP (Astro 7 and 6) and in
 * Chromium with JavaScript disabled (Astro 7).
 *
 * @module
 */
import type { Browser } from "playwright-core";
import { browserHeaders, page, rpc, Subscriber, wsUrl } from "../client.ts";
import { assert, check } from "../report.ts";
import { rpcStats, type UsersContext } from "./checks.ts";
import { EVENTUALLY_MS } from "../waits.ts";

/** The form fields the channel page renders, as a browser would post them. */
interface SendForm {
  channel: string;
  body: string;
  key: string;
}

/** One answer to a form post: its status and where it redirects. */
interface FormAnswer {
  status: number;
  location: string | null;
  text: string;
}

/** The `messages.send` Action's form URL on the channel page (`action={actions.messages.send}`). */
function actionUrl(origin: string, channel: string): string {
  return `${origin}/channels/${channel}?_action=messages.send`;
}

/** Posts the send form as a same-origin browser with `cookie` would, without following the 303. */
async function postForm(
  origin: string,
  form: SendForm,
  cookie?: string,
  headers: Record<string, string> = {},
): Promise<FormAnswer> {
  const body = new URLSearchParams({ channel: form.channel, body: form.body, key: form.key });
  const response = await fetch(actionUrl(origin, form.channel), {
    method: "POST",
    headers: { ...browserHeaders(origin, cookie), ...headers },
    body,
    redirect: "manual",
  });
  return {
    status: response.status,
    location: response.headers.get("location"),
    text: await response.text(),
  };
}

/** The stored message id a successful post's `Location` names (`/channels/<c>#message-<id>`). */
function redirectedId(answer: FormAnswer, channel: string): number {
  const match = new RegExp(`^/channels/${channel}#message-(\\d+)$`).exec(answer.location ?? "");
  assert(
    answer.status === 303 && match,
    `the form post answered ${answer.status} ${answer.location ?? answer.text.slice(0, 200)}`,
  );
  return Number(match[1]);
}

interface StoredRow {
  id: number;
  author: string;
  body: string;
}

async function storedWith(origin: string, channel: string, body: string): Promise<StoredRow[]> {
  const answer = await rpc(origin, {
    functionPath: "probes:rows",
    args: { channel },
    shardKey: channel,
  });
  assert(answer.status === 200, `probes:rows answered ${answer.status}`);
  return (answer.body.result.rows as StoredRow[]).filter((row) => row.body === body);
}

/** The rendered `<li id="message-<id>">`: its author's name and user id, and its body. */
function renderedMessage(
  html: string,
  id: number,
): { name: string; userId: string; body: string } | null {
  const match = new RegExp(
    `<li id="message-${id}"[^>]*>\\s*<strong class="author" data-user-id="([^"]*)"[^>]*>([^<]*)</strong>\\s*<span class="body">([^<]*)</span>`,
  ).exec(html);
  return match ? { userId: match[1]!, name: match[2]!, body: match[3]! } : null;
}

/**
 * Over HTTP: a signed-in form post is stored as that user (shown by name) without an HTTP RPC,
 * a repeated and a concurrent post of the same form store it once with the same answer, a
 * subscribed socket gets the push, a bad post keeps its key, and another site cannot post.
 */
export async function checkFormWrites(ctx: UsersContext): Promise<void> {
  const { server, users } = ctx;
  const origin = server.origin;
  const channel = `${ctx.channel}-form`;

  await check(
    ctx,
    "a form post to the messages.send Action is stored as the signed-in user, shown by name, with +0 HTTP RPCs",
    async () => {
      const subscriber = new Subscriber(
        wsUrl(origin, channel),
        browserHeaders(origin, users.carol.cookie),
      );
      try {
        await subscriber.opened;
        subscriber.subscribe("sub_1", "messages:list", { channel });
        await subscriber.next((f) => f.type === "data" && f.id === "sub_1");
        const mark = subscriber.frames.length;
        const before = await rpcStats(ctx);
        const form = { channel, body: `by form ${crypto.randomUUID()}`, key: crypto.randomUUID() };
        const answer = await postForm(origin, form, users.alice.cookie);
        const after = await rpcStats(ctx);
        const id = redirectedId(answer, channel);
        assert(after.isolate === before.isolate, "the worker isolate changed during the check");
        assert(
          after.rpcRequests === before.rpcRequests,
          `the Action's mutation made ${after.rpcRequests - before.rpcRequests} HTTP RPCs`,
        );
        const shown = renderedMessage(
          (await page(origin, `/channels/${channel}`, users.bob.cookie)).text,
          id,
        );
        assert(shown, `the page after the redirect has no message ${id}`);
        assert(
          shown.name === "alice" && shown.userId === users.alice.id && shown.body === form.body,
          `message ${id} rendered as ${JSON.stringify(shown)}, alice is ${users.alice.id}`,
        );
        const pushed = await subscriber.next(
          (f) =>
            f.type === "data" &&
            f.data.messages.some((m: { id: number }) => m.id === id),
          EVENTUALLY_MS,
          mark,
        );
        const message = pushed.data.messages.find((m: { id: number }) => m.id === id);
        assert(message.authorName === "alice", `pushed ${JSON.stringify(message)}`);
        return `303 -> ${answer.location}; rendered as "alice" (${users.alice.id}); pushed to a subscribed socket; /_lunora/rpc counter +0`;
      } finally {
        await subscriber.close();
      }
    },
  );

  await check(
    ctx,
    "the same form (same hidden key) posted twice, then twice at once, is stored once and every answer names the same message",
    async () => {
      const form = { channel, body: `double ${crypto.randomUUID()}`, key: crypto.randomUUID() };
      const first = await postForm(origin, form, users.alice.cookie);
      const again = await postForm(origin, form, users.alice.cookie);
      const together = await Promise.all([
        postForm(origin, form, users.alice.cookie),
        postForm(origin, form, users.alice.cookie),
      ]);
      const ids = [first, again, ...together].map((answer) => redirectedId(answer, channel));
      assert(new Set(ids).size === 1, `the four posts named messages ${ids.join(", ")}`);
      const rows = await storedWith(origin, channel, form.body);
      assert(rows.length === 1, `${rows.length} rows stored for one form`);
      assert(rows[0]!.id === ids[0], `stored id ${rows[0]!.id}, answered ${ids[0]}`);
      const record = await rpc(origin, {
        functionPath: "probes:mutation",
        args: { channel, mutationId: form.key },
        shardKey: channel,
      });
      const records = record.body?.result?.records ?? [];
      assert(
        records.length === 1 && records[0].caller === `user:${users.alice.id}` &&
          records[0].replays === 3,
        `dedup records ${JSON.stringify(records)}`,
      );
      return `4 posts -> 4 x 303 #message-${
        ids[0]
      }; 1 row; the shard replayed the first result 3 times (caller user:${users.alice.id})`;
    },
  );

  await check(
    ctx,
    "a rejected form post re-renders with the error and keeps its key; another site's post is refused",
    async () => {
      const key = crypto.randomUUID();
      const blank = await postForm(origin, { channel, body: "   ", key }, users.alice.cookie);
      assert(blank.location === null, `a blank body redirected to ${blank.location}`);
      assert(/id="send-error"/.test(blank.text), "the re-rendered page shows no error");
      assert(
        blank.text.includes(`name="key" value="${key}"`),
        "the re-rendered form lost the key it was posted with",
      );
      const evil = await postForm(
        origin,
        { channel, body: "cross-site", key: crypto.randomUUID() },
        users.alice.cookie,
        { origin: "https://evil.test" },
      );
      assert(evil.status === 403, `a cross-site post answered ${evil.status}`);
      const stored = await storedWith(origin, channel, "cross-site");
      assert(stored.length === 0, "the cross-site post was stored");
      return `blank body: ${blank.status}, error shown, same key; cross-site: ${evil.status}, nothing stored`;
    },
  );
}

/**
 * In Chromium with JavaScript disabled: a signed-in user posts the channel form and the page
 * after the redirect shows the message as that user; a JavaScript page on the channel gets it
 * pushed; the same form's key posted again stores nothing new and names the same message.
 */
export async function checkFormInBrowser(ctx: UsersContext, browser: Browser): Promise<void> {
  const { server, users } = ctx;
  const origin = server.origin;
  const channel = `${ctx.channel}-nojs`;
  const url = `${origin}/channels/${channel}`;
  await check(
    ctx,
    "browser: with JavaScript disabled, a signed-in user's form post shows the message by name after the redirect; a JavaScript page gets the push",
    async () => {
      const noScript = await browser.newContext({ javaScriptEnabled: false });
      const live = await browser.newContext();
      try {
        const [name, value] = users.bob.cookie.split(/=(.*)/s) as [string, string];
        await noScript.addCookies([{ name, value, url: origin }]);
        const reader = await live.newPage();
        await reader.goto(url);
        await reader.locator('body[data-live="true"]').waitFor({ timeout: EVENTUALLY_MS });

        const tab = await noScript.newPage();
        await tab.goto(url);
        const key = await tab.locator('#send input[name="key"]').getAttribute("value");
        assert(key, "the no-JS form has no hidden key");
        const text = `no script ${crypto.randomUUID().slice(0, 8)}`;
        await tab.fill('#send input[name="body"]', text);
        const started = performance.now();
        const [response] = await Promise.all([
          tab.waitForNavigation({ timeout: EVENTUALLY_MS }),
          tab.click("#send button"),
        ]);
        const ms = performance.now() - started;
        assert(
          response?.status() === 200,
          `the page after the post answered ${response?.status()}`,
        );
        const post = response.request().redirectedFrom();
        const postStatus = (await post?.response())?.status();
        assert(
          post?.method() === "POST" && postStatus === 303,
          `the form post answered ${post?.method()} ${postStatus}, not POST 303`,
        );
        const landed = new URL(tab.url());
        assert(landed.search === "", `the page after the post is ${tab.url()}, not a GET of it`);
        const id = Number(/^#message-(\d+)$/.exec(landed.hash)?.[1]);
        assert(id > 0, `the redirect does not name the message: ${tab.url()}`);
        const item = tab.locator(`#message-${id}`);
        assert(
          (await item.locator(".body").textContent()) === text,
          "the message is not on the page",
        );
        const author = item.locator(".author");
        const shownName = await author.textContent();
        const shownId = await author.getAttribute("data-user-id");
        assert(
          shownName === "bob" && shownId === users.bob.id,
          `shown as ${shownName} (${shownId}), bob is ${users.bob.id}`,
        );
        const scripted = await tab.locator("body").getAttribute("data-live");
        assert(scripted === null, "a script ran although JavaScript is disabled");

        const pushed = reader.locator(`#messages li[data-id="${id}"] .author`);
        await pushed.waitFor({ timeout: EVENTUALLY_MS });
        assert((await pushed.textContent()) === "bob", "the live page shows another author");

        // The same form again (same key), as a resubmit would send it.
        const again = await postForm(origin, { channel, body: text, key }, users.bob.cookie);
        assert(redirectedId(again, channel) === id, `the repeat answered ${again.location}`);
        const rows = await storedWith(origin, channel, text);
        assert(rows.length === 1, `${rows.length} rows after the repeat`);
        return `posted -> 303 -> GET ${landed.pathname}${landed.hash} in ${
          ms.toFixed(0)
        } ms, shown as "bob" (${users.bob.id}); pushed to the live page; the same key again -> #message-${id}, 1 row`;
      } finally {
        await noScript.close();
        await live.close();
      }
    },
  );
}
