/**
 * `Server-Timing` on pages: what a page's Lunora calls add to Astro's answer, when, and what
 * it names.
 */
import assert from "node:assert/strict";
import { createServerClient, type ServerClient } from "../src/ssr/server_client.ts";
import { action, mutation, query } from "../src/wire/function_reference.ts";
import { DEV_MARKER_KEY, serverTimingValue } from "../src/worker/server_timing.ts";
import type { LunoraOptions } from "../src/worker/options.ts";
import { withLunora } from "../src/worker/with_lunora.ts";
import {
  echoShard,
  fakeFetch,
  fakeNamespace,
  harness,
  type HostCall,
  hostSpy,
  ORIGIN,
  type ShardBehaviour,
  UpgradeResponse,
} from "./_fakes.ts";

const list = query<{ channel: string }, unknown>("messages:list");
const send = mutation<{ text: string }, unknown>("messages:send");
const notify = action("mail:notify");
const SUMMARY = /^lunora;dur=\d+(?:\.\d)?;desc="(\d+) calls?"$/;

/** The server client a page makes from its render context (`context: Astro`). */
function clientFor({ request, ctx }: HostCall, url?: string): ServerClient {
  return createServerClient({
    context: { request, locals: { cfContext: ctx } },
    ...(url === undefined ? {} : { url, fetch: fakeFetch(() => Response.json({ result: 1 })) }),
  });
}

/** A composed worker whose page runs `render` with its server client, then answers `page`. */
function pageWith(
  render: (client: ServerClient, call: HostCall) => Promise<unknown>,
  options: Partial<LunoraOptions> = {},
  { page = () => new Response("<html></html>"), behaviour = echoShard as ShardBehaviour } = {},
) {
  const host = hostSpy(async (call) => {
    await render(clientFor(call), call);
    return page();
  });
  return harness({ allowUnauthenticatedShardAccess: true, ...options }, { host, behaviour });
}

async function withDevMarker<T>(run: () => Promise<T>): Promise<T> {
  const global = globalThis as Record<symbol, unknown>;
  global[Symbol.for(DEV_MARKER_KEY)] = true;
  try {
    return await run();
  } finally {
    delete global[Symbol.for(DEV_MARKER_KEY)];
  }
}

Deno.test("a page whose rendering made two Lunora calls answers with their count and time", async () => {
  const h = pageWith(async (client) => {
    await client.query(list, { channel: "general" });
    await client.mutation(send, { text: "hi" });
  });
  const response = await h.fetch(new Request(`${ORIGIN}/channels/general`));
  const value = response.headers.get("server-timing") ?? "";
  assert.match(value, SUMMARY);
  assert.equal(SUMMARY.exec(value)![1], "2");
  assert.equal(await response.text(), "<html></html>");
});

Deno.test("one call is counted as 1 call", () => {
  const value = serverTimingValue([{
    functionPath: "a:b",
    kind: "query",
    shardKey: undefined,
    durationMs: 2.25,
    via: "in-process",
    outcome: "ok",
  }], false);
  assert.equal(value, 'lunora;dur=2.3;desc="1 call"');
});

Deno.test("a page that made no Lunora calls gets no Server-Timing header", async () => {
  const h = pageWith(() => Promise.resolve());
  const response = await h.fetch(new Request(`${ORIGIN}/about`));
  assert.equal(response.headers.get("server-timing"), null);
});

Deno.test("the Lunora entry is appended after the page's own Server-Timing", async () => {
  const h = pageWith((client) => client.query(list, { channel: "general" }), {}, {
    page: () => new Response("page", { headers: { "server-timing": 'astro;dur=4;desc="render"' } }),
  });
  const value = (await h.fetch(new Request(`${ORIGIN}/`))).headers.get("server-timing")!;
  const [astro, lunora] = value.split(", ");
  assert.equal(astro, 'astro;dur=4;desc="render"');
  assert.match(lunora!, SUMMARY);
});

Deno.test("by default the header names no function or shard outside astro dev", async () => {
  const h = pageWith((client) => client.query(list, { channel: "general" }, { shardKey: "room" }));
  const value = (await h.fetch(new Request(`${ORIGIN}/`))).headers.get("server-timing")!;
  assert.match(value, SUMMARY);
  assert.doesNotMatch(value, /messages|room/);
});

Deno.test('serverTiming: "detailed" adds one entry per call: kind, function, shard, transport, outcome', async () => {
  const h = pageWith(
    async (client) => {
      await client.query(list, { channel: "general" }, { shardKey: "room 1" });
      await client.action(notify).catch(() => {});
    },
    { serverTiming: "detailed" },
    {
      behaviour: (call) =>
        call.body.includes("mail:notify")
          ? Response.json({ error: { code: "NOT_FOUND", message: "No such function" } }, {
            status: 404,
          })
          : Response.json({ result: [] }),
    },
  );
  const value = (await h.fetch(new Request(`${ORIGIN}/`))).headers.get("server-timing")!;
  const entries = value.split(", ");
  assert.equal(entries.length, 3);
  assert.match(entries[0]!, /^lunora;dur=[\d.]+;desc="2 calls"$/);
  assert.match(
    entries[1]!,
    /^lunora-1;dur=[\d.]+;desc="query messages:list shard=room%201 in-process ok"$/,
  );
  assert.match(entries[2]!, /^lunora-2;dur=[\d.]+;desc="action mail:notify in-process NOT_FOUND"$/);
});

Deno.test("under astro dev (the integration's marker) the header is detailed by default", async () => {
  const h = pageWith((client) => client.query(list, { channel: "general" }));
  const value = await withDevMarker(async () =>
    (await h.fetch(new Request(`${ORIGIN}/`))).headers.get("server-timing")!
  );
  assert.match(value, /lunora-1;dur=[\d.]+;desc="query messages:list in-process ok"/);
});

Deno.test('serverTiming: "summary" names no function even under astro dev', async () => {
  const h = pageWith((client) => client.query(list, { channel: "general" }), {
    serverTiming: "summary",
  });
  const value = await withDevMarker(async () =>
    (await h.fetch(new Request(`${ORIGIN}/`))).headers.get("server-timing")!
  );
  assert.match(value, SUMMARY);
});

Deno.test("serverTiming: false adds no header", async () => {
  const h = pageWith((client) => client.query(list, { channel: "general" }), {
    serverTiming: false,
  });
  const response = await h.fetch(new Request(`${ORIGIN}/`));
  assert.equal(response.headers.get("server-timing"), null);
});

Deno.test("an invalid serverTiming is a TypeError that quotes it", () => {
  assert.throws(
    () =>
      withLunora(() => new Response(), {
        shardDO: fakeNamespace(),
        serverTiming: "verbose" as never,
      }),
    { name: "TypeError", message: /"serverTiming" must be .* got "verbose"/ },
  );
});

Deno.test("calls made over HTTP by the page's client are recorded too", async () => {
  const host = hostSpy(async (call) => {
    await clientFor(call, "https://api.example").query(list, { channel: "general" });
    return new Response("page");
  });
  const h = harness({ serverTiming: "detailed" }, { host });
  const value = (await h.fetch(new Request(`${ORIGIN}/`))).headers.get("server-timing")!;
  assert.match(value, /desc="query messages:list http ok"/);
  assert.equal(h.ns.calls.length, 0, "the shard behind this worker was not called");
});

Deno.test("a call that finishes after Astro answered is not in the header", async () => {
  let release!: () => void;
  const late = new Promise<void>((resolve) => (release = resolve));
  let lateCall: Promise<unknown> | undefined;
  const h = pageWith(
    async (client) => {
      await client.query(list, { channel: "now" });
      lateCall = client.query(list, { channel: "later" }); // e.g. a component rendered later
    },
    {},
    {
      behaviour: async (call) => {
        if (call.body.includes("later")) await late;
        return Response.json({ result: [] });
      },
    },
  );
  const response = await h.fetch(new Request(`${ORIGIN}/`));
  release();
  await lateCall;
  assert.equal(SUMMARY.exec(response.headers.get("server-timing")!)![1], "1");
});

Deno.test("one page's calls never show on another page's answer", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const host = hostSpy(async (call) => {
    if (new URL(call.request.url).pathname === "/busy") {
      const client = clientFor(call);
      await client.query(list, { channel: "a" });
      await client.query(list, { channel: "b" });
    } else {
      await gate;
    }
    return new Response("page");
  });
  const ns = fakeNamespace();
  const worker = withLunora(host, { shardDO: ns });
  const env = { SHARD: ns };
  // Both in flight at once, each with its own execution context, as workerd runs them.
  const quiet = worker.fetch(new Request(`${ORIGIN}/quiet`), env, { waitUntil() {} });
  const busy = await worker.fetch(new Request(`${ORIGIN}/busy`), env, { waitUntil() {} });
  release();
  assert.equal(SUMMARY.exec(busy.headers.get("server-timing")!)![1], "2");
  assert.equal((await quiet).headers.get("server-timing"), null);
});

Deno.test("a page answer with immutable headers is copied with the entry, status and body kept", async () => {
  const h = pageWith((client) => client.query(list, { channel: "general" }), {}, {
    page: () => Response.redirect(`${ORIGIN}/signed-in`, 303),
  });
  const response = await h.fetch(new Request(`${ORIGIN}/sign-in`));
  assert.equal(response.status, 303);
  assert.equal(response.headers.get("location"), `${ORIGIN}/signed-in`);
  assert.match(response.headers.get("server-timing")!, SUMMARY);
});

Deno.test("a 101 from Astro is returned as the very object, untouched", async () => {
  const upgrade = new UpgradeResponse(null);
  const h = pageWith((client) => client.query(list, { channel: "general" }), {}, {
    page: () => upgrade,
  });
  const response = await h.fetch(new Request(`${ORIGIN}/socket`));
  assert.equal(response, upgrade);
  assert.equal(response.headers.get("server-timing"), null);
});

Deno.test("a shard key or error code cannot add an entry or break out of its desc", async () => {
  const h = pageWith(
    (client) =>
      client.query(list, { channel: "x" }, { shardKey: 'a", evil;dur=1;desc="b' }).catch(() => {}),
    { serverTiming: "detailed" },
    {
      behaviour: () =>
        Response.json({ error: { code: 'E", x;dur=9\\', message: "no" } }, { status: 400 }),
    },
  );
  const value = (await h.fetch(new Request(`${ORIGIN}/`))).headers.get("server-timing")!;
  const entries = value.split(", ");
  assert.equal(entries.length, 2, value);
  assert.match(
    entries[1]!,
    /^lunora-1;dur=[\d.]+;desc="query messages:list shard=a%22%2C%20evil%3Bdur%3D1%3Bdesc%3D%22b in-process E%22%2C%20x%3Bdur%3D9%5C"$/,
  );
});
