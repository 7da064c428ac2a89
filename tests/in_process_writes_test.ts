/**
 * Writes from a page, endpoint or Action inside the composed worker (spec §4 "In-process SSR
 * path", §11; threat-matrix rows 55–57): a server client's mutation or action reaches the shard
 * in process as the page's caller, with the call's own ids, and the worker retries a
 * `retryable` shard error for queries and mutations (same mutation id), never for actions.
 */
import assert from "node:assert/strict";
import { getRequestScope } from "../src/in_process_registry.ts";
import { createServerClient, type ServerClient } from "../src/ssr/server_client.ts";
import { LunoraServerError } from "../src/wire/error_envelope.ts";
import { action, mutation, query } from "../src/wire/function_reference.ts";
import type { LunoraOptions } from "../src/worker/options.ts";
import {
  fakeFetch,
  harness,
  hostSpy,
  ORIGIN,
  type ShardBehaviour,
  type ShardCall,
  shardError,
} from "./_fakes.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const list = query<{ channelId: string }, unknown>("messages:list");
const send = mutation<{ text: string }, unknown>("messages:send");
const notify = action<{ to: string }, unknown>("mail:notify");

/** The ids the browser sent with the page request (row 57). */
const BROWSER_IDS = {
  "x-lunora-mutation-id": "browser-mutation",
  "x-lunora-client-id": "browser-client",
  "x-lunora-client-seq": "41",
};

const identityFromCookie = (request: Request) => {
  const user = /user=(\w+)/.exec(request.headers.get("cookie") ?? "")?.[1];
  return user ? { userId: user, role: "member" } : null;
};

/** A shard behaviour failing the first `count` attempts with `flag`, then answering `ok`. */
function failing(count: number, flag: "retryable" | "overloaded"): ShardBehaviour {
  let left = count;
  return () => left-- > 0 ? Promise.reject(shardError(flag)) : Response.json({ result: "ok" });
}

interface PageRun {
  /** What the page's calls resolved to, or the error they rejected with. */
  outcome: unknown;
  shard: ShardCall[];
  /** HTTP requests the server client made (none in process). */
  fetched: number;
}

/**
 * Renders one page through `withLunora` whose frontmatter (the host) makes a server client
 * from the render context, as `createServerClient({ context: Astro })` does, and runs `page`.
 */
async function renderPage(
  page: (client: ServerClient) => Promise<unknown>,
  { headers = {}, options = {}, behaviour }: {
    headers?: Record<string, string>;
    options?: Partial<LunoraOptions>;
    behaviour?: ShardBehaviour;
  } = {},
): Promise<PageRun> {
  let outcome: unknown;
  const fetch = fakeFetch();
  const host = hostSpy(async ({ request, ctx }) => {
    // With @astrojs/cloudflare, `Astro.locals.cfContext` is the ctx the worker passed to Astro.
    const context = { request: request as Request, locals: { cfContext: ctx } };
    const client = createServerClient({ context, fetch });
    outcome = await page(client).catch((error: unknown) => error);
    return new Response("page");
  });
  const h = harness(options, { host, ...(behaviour ? { behaviour } : {}) });
  const response = await h.fetch(new Request(`${ORIGIN}/channels/general`, { headers }));
  assert.equal(response.status, 200);
  return { outcome, shard: h.ns.calls, fetched: fetch.calls.length };
}

function header(call: ShardCall | undefined, name: string): string | null {
  return call!.request.headers.get(name);
}

// ---------------------------------------------------------------------------------------------
// Reaching the shard in process

Deno.test("a page's mutation reaches the shard in process as the page's caller, with its own ids", async () => {
  const run = await renderPage(
    (client) => client.mutation(send, { text: "hi" }, { idempotencyKey: "form-1" }),
    { headers: { cookie: "user=ada" }, options: { resolveIdentity: identityFromCookie } },
  );
  assert.equal(run.fetched, 0);
  assert.equal(run.shard.length, 1);
  const [call] = run.shard;
  assert.equal(call!.body, '{"args":{"text":"hi"},"functionPath":"messages:send"}');
  assert.equal(header(call, "cookie"), "user=ada");
  assert.equal(header(call, "x-lunora-userid"), "ada");
  assert.notEqual(header(call, "x-lunora-identity"), null);
  assert.equal(header(call, "x-lunora-mutation-id"), "form-1");
  assert.match(header(call, "x-lunora-client-id")!, UUID);
});

Deno.test("a page's action reaches the shard in process with no mutation id or client id", async () => {
  const run = await renderPage((client) => client.action(notify, { to: "ada" }), {
    headers: { authorization: "Bearer page-token" },
  });
  assert.equal(run.fetched, 0);
  assert.equal(run.shard.length, 1);
  assert.equal(run.shard[0]!.body, '{"args":{"to":"ada"},"functionPath":"mail:notify"}');
  assert.equal(header(run.shard[0], "authorization"), "Bearer page-token");
  assert.equal(header(run.shard[0], "x-lunora-mutation-id"), null);
  assert.equal(header(run.shard[0], "x-lunora-client-id"), null);
});

Deno.test("a page's mutation passes the tenant gate of the page's caller", async () => {
  const denied = await renderPage((client) =>
    client.mutation(send, { text: "x" }, { shardKey: "tenant-b" })
  );
  assert.equal((denied.outcome as LunoraServerError).code, "FORBIDDEN_SHARD");
  assert.equal(denied.shard.length, 0);
  const granted = await renderPage(
    (client) => client.mutation(send, { text: "x" }, { shardKey: "tenant-b" }),
    {
      headers: { cookie: "user=bob" },
      options: {
        resolveIdentity: identityFromCookie,
        authorizeShard: ({ identity, shardKey }) =>
          identity?.userId === "bob" && shardKey === "tenant-b",
      },
    },
  );
  assert.deepEqual(granted.shard.map((call) => call.shardKey), ["tenant-b"]);
});

Deno.test("a page's mutation over the body cap is PAYLOAD_TOO_LARGE with no shard call", async () => {
  const run = await renderPage(
    (client) => client.mutation(send, { text: "x".repeat(2000) }),
    { options: { maxBodyBytes: 1024 } },
  );
  assert.equal((run.outcome as LunoraServerError).code, "PAYLOAD_TOO_LARGE");
  assert.equal(run.shard.length, 0);
});

// ---------------------------------------------------------------------------------------------
// Retries per kind (rows 55, 56)

Deno.test("a mutation whose shard attempt fails retryable is retried with the same mutation id (row 55)", async () => {
  const run = await renderPage(
    (client) => client.mutation(send, { text: "hi" }, { idempotencyKey: "form-1" }),
    { behaviour: failing(2, "retryable") },
  );
  assert.equal(run.outcome, "ok");
  assert.equal(run.shard.length, 3);
  assert.deepEqual(run.shard.map((call) => call.stub), [0, 1, 2], "a new stub per attempt");
  const mutationIds = run.shard.map((call) => header(call, "x-lunora-mutation-id"));
  assert.deepEqual(mutationIds, ["form-1", "form-1", "form-1"]);
  const clientIds = new Set(run.shard.map((call) => header(call, "x-lunora-client-id")));
  assert.equal(clientIds.size, 1);
});

Deno.test("a mutation without a key is retried with the one random id it was given", async () => {
  const run = await renderPage((client) => client.mutation(send, { text: "hi" }), {
    behaviour: failing(1, "retryable"),
  });
  assert.equal(run.outcome, "ok");
  const [first, second] = run.shard.map((call) => header(call, "x-lunora-mutation-id"));
  assert.match(first!, UUID);
  assert.equal(second, first);
});

Deno.test("an action whose shard call fails retryable is one shard call and rejects UNAVAILABLE (row 56)", async () => {
  const run = await renderPage((client) => client.action(notify, { to: "ada" }), {
    behaviour: failing(1, "retryable"),
  });
  assert.equal(run.shard.length, 1);
  assert.ok(run.outcome instanceof LunoraServerError);
  assert.equal(run.outcome.code, "UNAVAILABLE");
  assert.equal(run.outcome.status, 503);
});

Deno.test("a page's query is retried on a retryable shard error", async () => {
  const run = await renderPage((client) => client.query(list, { channelId: "c" }), {
    behaviour: failing(1, "retryable"),
  });
  assert.equal(run.outcome, "ok");
  assert.equal(run.shard.length, 2);
});

Deno.test("an overloaded shard is never retried, whatever the call's kind", async () => {
  const calls: [string, (client: ServerClient) => Promise<unknown>][] = [
    ["query", (client) => client.query(list, { channelId: "c" })],
    ["mutation", (client) => client.mutation(send, { text: "a" }, { idempotencyKey: "k" })],
    ["action", (client) => client.action(notify, { to: "a" })],
  ];
  for (const [kind, page] of calls) {
    const run = await renderPage(page, { behaviour: failing(1, "overloaded") });
    assert.equal(run.shard.length, 1, kind);
    assert.equal((run.outcome as LunoraServerError).code, "OVERLOADED", kind);
  }
});

// ---------------------------------------------------------------------------------------------
// Ids the browser sent with the page request (row 57)

Deno.test("a page request's browser ids never ride on its action, which is not retried (row 57)", async () => {
  const run = await renderPage((client) => client.action(notify, { to: "ada" }), {
    headers: { cookie: "user=ada", ...BROWSER_IDS },
    behaviour: failing(1, "retryable"),
  });
  assert.equal(run.shard.length, 1);
  assert.equal((run.outcome as LunoraServerError).code, "UNAVAILABLE");
  for (const name of Object.keys(BROWSER_IDS)) assert.equal(header(run.shard[0], name), null);
  assert.equal(header(run.shard[0], "cookie"), "user=ada");
});

Deno.test("a page request's browser ids never ride on its mutation, which carries its own (row 57)", async () => {
  const run = await renderPage(
    (client) => client.mutation(send, { text: "a" }, { idempotencyKey: "form-9" }),
    { headers: BROWSER_IDS, behaviour: failing(1, "retryable") },
  );
  assert.equal(run.outcome, "ok");
  for (const call of run.shard) {
    assert.equal(header(call, "x-lunora-mutation-id"), "form-9");
    assert.match(header(call, "x-lunora-client-id")!, UUID);
    assert.equal(header(call, "x-lunora-client-seq"), null);
  }
});

Deno.test("a page request's browser ids never ride on its query either", async () => {
  const run = await renderPage((client) => client.query(list, { channelId: "c" }), {
    headers: BROWSER_IDS,
  });
  for (const name of Object.keys(BROWSER_IDS)) assert.equal(header(run.shard[0], name), null);
});

Deno.test("a page request's x-d1-bookmark still rides on its server calls", async () => {
  const run = await renderPage((client) => client.mutation(send, { text: "a" }), {
    headers: { "x-d1-bookmark": "bm-1" },
  });
  assert.equal(header(run.shard[0], "x-d1-bookmark"), "bm-1");
});

// ---------------------------------------------------------------------------------------------
// Over HTTP through the worker (no transport: another client, or `url` given)

Deno.test("a mutation over HTTP to the worker carries its ids to the shard and is retried with them", async () => {
  const h = harness({}, { behaviour: failing(1, "retryable") });
  const client = createServerClient({
    url: ORIGIN,
    fetch: (input, init) => h.fetch(new Request(input, init)),
  });
  assert.equal(await client.mutation(send, { text: "a" }, { idempotencyKey: "k-7" }), "ok");
  assert.equal(h.ns.calls.length, 2);
  for (const call of h.ns.calls) {
    assert.equal(header(call, "x-lunora-mutation-id"), "k-7");
    assert.match(header(call, "x-lunora-client-id")!, UUID);
  }
});

Deno.test("an action over HTTP to the worker is not retried", async () => {
  const h = harness({}, { behaviour: failing(1, "retryable") });
  const client = createServerClient({
    url: ORIGIN,
    fetch: (input, init) => h.fetch(new Request(input, init)),
  });
  await assert.rejects(client.action(notify, { to: "a" }), { code: "UNAVAILABLE" });
  assert.equal(h.ns.calls.length, 1);
});

// ---------------------------------------------------------------------------------------------
// The transport contract

async function transportAnswer(call: unknown): Promise<{ status: number; shard: ShardCall[] }> {
  let status = 0;
  const host = hostSpy(async ({ request }) => {
    const envelope = JSON.stringify({ functionPath: "messages:send", args: {} });
    status = (await getRequestScope(request)!.run(envelope, call as never)).status;
    return new Response("page");
  });
  const h = harness({}, { host, behaviour: failing(1, "retryable") });
  await h.fetch(new Request(`${ORIGIN}/page`, { headers: BROWSER_IDS }));
  return { status, shard: h.ns.calls };
}

Deno.test("a transport call of no known kind is forwarded like an action: no retry, no ids", async () => {
  for (const call of [undefined, {}, { kind: "stream" }, { kind: "Query" }]) {
    const { status, shard } = await transportAnswer(call);
    assert.equal(status, 503, JSON.stringify(call));
    assert.equal(shard.length, 1);
    assert.equal(header(shard[0], "x-lunora-mutation-id"), null);
  }
});

Deno.test("a transport mutation whose ids cannot be sent is a 400 with no shard call", async () => {
  const bad = [
    { kind: "mutation" },
    { kind: "mutation", mutationId: "" },
    { kind: "mutation", mutationId: "a\r\nb" },
    { kind: "mutation", mutationId: "ok", clientId: "x".repeat(256) },
  ];
  for (const call of bad) {
    const { status, shard } = await transportAnswer(call);
    assert.equal(status, 400, JSON.stringify(call));
    assert.equal(shard.length, 0);
  }
});
