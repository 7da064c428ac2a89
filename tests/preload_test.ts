/**
 * `preloadQuery` and `preloadedQueryResult` (spec §8), over HTTP and in process.
 */
import assert from "node:assert/strict";
import { setRequestScope } from "../src/in_process_registry.ts";
import { preloadedQueryResult, preloadQuery } from "../src/ssr/preload.ts";
import { createServerClient } from "../src/ssr/server_client.ts";
import { WIRE_TAG } from "../src/wire/codec.ts";
import { LunoraServerError } from "../src/wire/error_envelope.ts";
import { query } from "../src/wire/function_reference.ts";
import { fakeFetch, fakePageContext, ORIGIN, scopeOf } from "./_fakes.ts";

const T = WIRE_TAG;
const list = query<{ channelId: string; since?: bigint }, { text: string; at: Date }[]>(
  "messages:list",
);
const ANSWER = JSON.stringify({
  result: [{ text: "hi", at: [T, "date", 1000] }],
});

Deno.test("preloadQuery() returns the token with the decoded value", async () => {
  const fetch = fakeFetch(() => new Response(ANSWER));
  const client = createServerClient({ url: ORIGIN, fetch });
  const token = await preloadQuery(client, list, { channelId: "c1" }, { shardKey: "c1" });
  assert.deepEqual(token, {
    __lunoraPreloaded: true,
    functionPath: "messages:list",
    args: { channelId: "c1" },
    shardKey: "c1",
    value: [{ text: "hi", at: new Date(1000) }],
  });
  assert.deepEqual(Object.keys(token), [
    "__lunoraPreloaded",
    "functionPath",
    "args",
    "shardKey",
    "value",
  ]);
});

Deno.test("preloadQuery() sends {args, functionPath, shardKey} with args wire-encoded", async () => {
  const fetch = fakeFetch(() => new Response(ANSWER));
  const client = createServerClient({ url: ORIGIN, fetch });
  await preloadQuery(client, list, { channelId: "c1", since: 10n }, { shardKey: "c1" });
  assert.equal(
    fetch.calls[0]!.body,
    `{"args":{"channelId":"c1","since":["${T}","bigint","10"]},"functionPath":"messages:list","shardKey":"c1"}`,
  );
});

Deno.test("preloadQuery() leaves shardKey out of the body and the token when not given", async () => {
  const fetch = fakeFetch(() => new Response(ANSWER));
  const token = await preloadQuery(createServerClient({ url: ORIGIN, fetch }), list, {
    channelId: "c1",
  });
  assert.ok(!Object.hasOwn(token, "shardKey"));
  assert.ok(!JSON.stringify(token).includes("shardKey"));
  assert.equal(fetch.calls[0]!.body, '{"args":{"channelId":"c1"},"functionPath":"messages:list"}');
});

Deno.test("preloadQuery() records absent args as {} and keeps given args unencoded", async () => {
  const fetch = fakeFetch(() => new Response(ANSWER));
  const client = createServerClient({ url: ORIGIN, fetch });
  const none = query<Record<string, never>, unknown>("stats:all");
  const empty = await preloadQuery(client, none, undefined as never);
  assert.deepEqual(empty.args, {});
  const given = await preloadQuery(client, list, { channelId: "c", since: 3n });
  assert.equal(given.args.since, 3n);
});

Deno.test("preloadQuery() rejects with the server's error", async () => {
  const fetch = fakeFetch(() =>
    Response.json({ error: { code: "UNAUTHORIZED", message: "Sign in" } }, { status: 401 })
  );
  await assert.rejects(
    preloadQuery(createServerClient({ url: ORIGIN, fetch }), list, { channelId: "c" }),
    (error: unknown) => error instanceof LunoraServerError && error.code === "UNAUTHORIZED",
  );
});

Deno.test("in-process and HTTP preloads of the same answer give identical tokens", async () => {
  const page = fakePageContext({ cookie: "sid=1" });
  const envelopes: string[] = [];
  setRequestScope(
    [page.request, page.locals.cfContext],
    scopeOf((envelope) => {
      envelopes.push(envelope);
      return Promise.resolve(new Response(ANSWER));
    }),
  );
  const inProcessFetch = fakeFetch(() => new Response(ANSWER));
  const httpFetch = fakeFetch(() => new Response(ANSWER));
  const args = { channelId: "c1", since: 5n };

  const inProcess = await preloadQuery(
    createServerClient({ context: page, fetch: inProcessFetch }),
    list,
    args,
    { shardKey: "c1" },
  );
  const overHttp = await preloadQuery(
    createServerClient({ context: fakePageContext({ cookie: "sid=1" }), fetch: httpFetch }),
    list,
    args,
    { shardKey: "c1" },
  );

  assert.deepEqual(inProcess, overHttp);
  assert.equal(inProcessFetch.calls.length, 0, "no HTTP on the in-process path");
  assert.equal(httpFetch.calls.length, 1);
  assert.deepEqual(envelopes, [httpFetch.calls[0]!.body], "the same envelope bytes");
});

Deno.test("preloadedQueryResult() returns the token's value", async () => {
  const fetch = fakeFetch(() => new Response(ANSWER));
  const token = await preloadQuery(createServerClient({ url: ORIGIN, fetch }), list, {
    channelId: "c1",
  });
  assert.equal(preloadedQueryResult(token), token.value);
  assert.deepEqual(preloadedQueryResult(token), [{ text: "hi", at: new Date(1000) }]);
});
