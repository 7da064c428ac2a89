/**
 * Writing from the server (spec §11; threat-matrix rows 57–60): `ServerClient.mutation` and
 * `ServerClient.action` over HTTP and through an in-process transport, the ids each call
 * carries, idempotency-key validation, kind-checked references and the prerender guard. The
 * worker's side (retries per kind, the page request's ids) is in `in_process_writes_test.ts`.
 */
import assert from "node:assert/strict";
import { setRequestScope } from "../src/in_process_registry.ts";
import { createServerClient } from "../src/ssr/server_client.ts";
import { WIRE_TAG } from "../src/wire/codec.ts";
import { LunoraServerError } from "../src/wire/error_envelope.ts";
import { action, mutation, query } from "../src/wire/function_reference.ts";
import {
  assertType,
  type Equal,
  fakeFetch,
  fakePageContext,
  fakePrerenderedContext,
  ORIGIN,
  recordingTransport,
  scopeOf,
} from "./_fakes.ts";

const T = WIRE_TAG;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const list = query<{ channelId: string }, string[]>("messages:list");
const send = mutation<{ text: string }, { id: string }>("messages:send");
const clear = mutation<Record<string, never>, number>("messages:clear");
const notify = action<{ to: string }, { sent: boolean }>("mail:notify");

function client(answer: () => Response = () => Response.json({ result: null })) {
  const fetch = fakeFetch(answer);
  return { fetch, client: createServerClient({ url: ORIGIN, fetch }) };
}

function ids(headers: Headers): [string | null, string | null] {
  return [headers.get("x-lunora-mutation-id"), headers.get("x-lunora-client-id")];
}

// ---------------------------------------------------------------------------------------------
// Over HTTP

Deno.test("mutation() and action() POST the query envelope to <url>/_lunora/rpc", async () => {
  const { fetch, client: c } = client();
  await c.mutation(send, { text: "hi" }, { shardKey: "room-1" });
  await c.action(notify, { to: "ada" });
  assert.deepEqual(fetch.calls.map((call) => [call.method, call.url, call.body]), [
    [
      "POST",
      `${ORIGIN}/_lunora/rpc`,
      '{"args":{"text":"hi"},"functionPath":"messages:send","shardKey":"room-1"}',
    ],
    ["POST", `${ORIGIN}/_lunora/rpc`, '{"args":{"to":"ada"},"functionPath":"mail:notify"}'],
  ]);
  assert.equal(fetch.calls[0]!.headers.get("content-type"), "application/json");
});

Deno.test("mutation() and action() resolve to the decoded result", async () => {
  const { client: c } = client(() => Response.json({ result: { n: [T, "bigint", "12"] } }));
  assert.deepEqual(await c.mutation(send, { text: "x" }), { n: 12n });
  assert.deepEqual(await c.action(notify, { to: "x" }), { n: 12n });
});

Deno.test("a mutation sends its idempotencyKey as x-lunora-mutation-id", async () => {
  const { fetch, client: c } = client();
  await c.mutation(send, { text: "hi" }, { idempotencyKey: "form:7f3a-01" });
  assert.equal(fetch.calls[0]!.headers.get("x-lunora-mutation-id"), "form:7f3a-01");
});

Deno.test("a mutation without idempotencyKey gets a fresh random mutation id on every call", async () => {
  const { fetch, client: c } = client();
  await c.mutation(send, { text: "a" });
  await c.mutation(send, { text: "a" });
  const [first, second] = fetch.calls.map((call) => call.headers.get("x-lunora-mutation-id"));
  assert.match(first!, UUID);
  assert.match(second!, UUID);
  assert.notEqual(first, second);
});

Deno.test("one client sends one x-lunora-client-id with all its mutations; another client its own", async () => {
  const { fetch, client: first } = client();
  const second = createServerClient({ url: ORIGIN, fetch });
  await first.mutation(send, { text: "a" });
  await first.mutation(send, { text: "b" }, { idempotencyKey: "k" });
  await second.mutation(send, { text: "c" });
  const clientIds = fetch.calls.map((call) => call.headers.get("x-lunora-client-id"));
  assert.match(clientIds[0]!, UUID);
  assert.equal(clientIds[1], clientIds[0]);
  assert.match(clientIds[2]!, UUID);
  assert.notEqual(clientIds[2], clientIds[0]);
});

Deno.test("a query and an action carry neither x-lunora-mutation-id nor x-lunora-client-id", async () => {
  const { fetch, client: c } = client();
  await c.query(list, { channelId: "c" });
  await c.mutation(send, { text: "a" }); // the client now has a client id
  await c.action(notify, { to: "ada" });
  await c.query(list, { channelId: "c" });
  assert.deepEqual(ids(fetch.calls[0]!.headers), [null, null]);
  assert.deepEqual(ids(fetch.calls[2]!.headers), [null, null]);
  assert.deepEqual(ids(fetch.calls[3]!.headers), [null, null]);
});

Deno.test("with context over HTTP, a call forwards the page's credentials but none of its ids", async () => {
  const page = fakePageContext({
    cookie: "sid=1",
    "x-lunora-mutation-id": "browser-mid",
    "x-lunora-client-id": "browser-cid",
    "x-lunora-client-seq": "7",
  });
  const fetch = fakeFetch();
  const c = createServerClient({ context: page, fetch });
  await c.action(notify, { to: "ada" });
  await c.mutation(send, { text: "a" });
  const [actionCall, mutationCall] = fetch.calls;
  assert.equal(actionCall!.headers.get("cookie"), "sid=1");
  assert.deepEqual(ids(actionCall!.headers), [null, null]);
  const [mutationId, clientId] = ids(mutationCall!.headers);
  assert.match(mutationId!, UUID);
  assert.match(clientId!, UUID);
  for (const call of fetch.calls) assert.equal(call.headers.get("x-lunora-client-seq"), null);
});

Deno.test("the client never retries: a failed mutation is one request that rejects with the code", async () => {
  const { fetch, client: c } = client(() =>
    Response.json(
      { error: { code: "UNAVAILABLE", message: "Shard is temporarily unavailable" } },
      { status: 503, headers: { "retry-after": "1" } },
    )
  );
  const error = await c.mutation(send, { text: "a" }, { idempotencyKey: "k1" }).catch((e) => e);
  assert.ok(error instanceof LunoraServerError);
  assert.equal(error.code, "UNAVAILABLE");
  assert.deepEqual(error.data, { retryAfterMs: 1000 });
  assert.equal(fetch.calls.length, 1);
});

Deno.test("a 409 without an envelope rejects a mutation with CONFLICT", async () => {
  const { client: c } = client(() => new Response("conflict", { status: 409 }));
  await assert.rejects(c.mutation(send, { text: "a" }), { code: "CONFLICT", status: 409 });
});

Deno.test("the methods work detached from the client", async () => {
  const { fetch, client: c } = client(() => Response.json({ result: 2 }));
  const { query: q, mutation: m, action: a } = c;
  assert.equal(await q(list, { channelId: "c" }), 2);
  assert.equal(await m(clear), 2);
  assert.equal(await a(notify, { to: "x" }), 2);
  assert.equal(fetch.calls.length, 3);
});

// ---------------------------------------------------------------------------------------------
// Idempotency keys (row 58) and other bad input

Deno.test("a bad idempotencyKey is a TypeError before any request (row 58)", async () => {
  const { fetch, client: c } = client();
  const bad: [unknown, RegExp][] = [
    ["", /got 0 characters/],
    ["k".repeat(256), /got 256 characters/],
    ["k".repeat(300), /got 300 characters/],
    ["form\r\nx-admin: 1", /contains U\+000D at index 4/],
    ["line\nfeed", /contains U\+000A at index 4/],
    ["with space", /contains U\+0020 at index 4/],
    ["caf\u00e9", /contains U\+00E9 at index 3/],
    [42, /must be a string .*, got number/],
    [null, /must be a string .*, got object/],
  ];
  for (const [key, message] of bad) {
    await assert.rejects(
      c.mutation(send, { text: "a" }, { idempotencyKey: key as string }),
      (error: Error) => {
        assert.equal(error.name, "TypeError");
        assert.match(error.message, /^Cannot run mutation "messages:send": "idempotencyKey"/);
        assert.match(error.message, message);
        return true;
      },
      JSON.stringify(key),
    );
  }
  assert.equal(fetch.calls.length, 0);
});

Deno.test("an idempotencyKey of 1 to 255 characters from ! to ~ is sent as it is", async () => {
  const { fetch, client: c } = client();
  const keys = ["!", "~", "k".repeat(255), "a:b/c=d+e_f.g~h!i"];
  for (const key of keys) await c.mutation(send, { text: "a" }, { idempotencyKey: key });
  assert.deepEqual(fetch.calls.map((call) => call.headers.get("x-lunora-mutation-id")), keys);
});

Deno.test("a query given an idempotencyKey is a TypeError before any request", async () => {
  const { fetch, client: c } = client();
  await assert.rejects(
    // @ts-expect-error: a query's options have no idempotencyKey
    c.query(list, { channelId: "c" }, { idempotencyKey: "k" }),
    {
      name: "TypeError",
      message: 'Cannot run query "messages:list": only a mutation takes "idempotencyKey"',
    },
  );
  assert.equal(fetch.calls.length, 0);
});

Deno.test("an action given an idempotencyKey is a TypeError before any request", async () => {
  const { fetch, client: c } = client();
  await assert.rejects(
    // @ts-expect-error: an action's options have no idempotencyKey
    c.action(notify, { to: "ada" }, { idempotencyKey: "k" }),
    {
      name: "TypeError",
      message:
        'Cannot run action "mail:notify": only a mutation takes "idempotencyKey" (actions are never retried)',
    },
  );
  assert.equal(fetch.calls.length, 0);
});

Deno.test("mutation() checks its reference, args and shard key like query() does", async () => {
  const { fetch, client: c } = client();
  await assert.rejects(c.mutation({ __lunoraRef: "../x" } as typeof send, { text: "a" }), {
    name: "TypeError",
  });
  await assert.rejects(c.mutation(send, [1] as never), {
    name: "TypeError",
    message: 'Cannot run mutation "messages:send": "args" must be a plain object',
  });
  await assert.rejects(c.mutation(send, { text: "a" }, { shardKey: 7 as never }), {
    name: "TypeError",
    message: 'Cannot run mutation "messages:send": "shardKey" must be a string, got number',
  });
  await assert.rejects(c.action(notify, { to: "a" }, "room" as never), {
    name: "TypeError",
    message: 'Cannot run action "mail:notify": options must be an object, got string',
  });
  assert.equal(fetch.calls.length, 0);
});

// ---------------------------------------------------------------------------------------------
// In process

Deno.test("in process, the transport learns each call's kind and a mutation's own ids", async () => {
  const page = fakePageContext({ "x-lunora-mutation-id": "browser-mid" });
  const transport = recordingTransport();
  setRequestScope([page.request, page.locals.cfContext], scopeOf(transport));
  const fetch = fakeFetch();
  const c = createServerClient({ context: page, fetch });
  await c.query(list, { channelId: "c" });
  await c.action(notify, { to: "ada" });
  await c.mutation(send, { text: "a" }, { idempotencyKey: "k1" });
  await c.mutation(send, { text: "b" });
  assert.equal(fetch.calls.length, 0);
  const [q, a, m1, m2] = transport.calls.map((recorded) => recorded.call);
  assert.deepEqual(q, { kind: "query" });
  assert.deepEqual(a, { kind: "action" });
  assert.equal(m1!.kind, "mutation");
  assert.equal(m1!.mutationId, "k1");
  assert.match(m1!.clientId!, UUID);
  assert.match(m2!.mutationId!, UUID);
  assert.equal(m2!.clientId, m1!.clientId);
  assert.equal(
    transport.envelopes[2],
    '{"args":{"text":"a"},"functionPath":"messages:send"}',
  );
});

// ---------------------------------------------------------------------------------------------
// Prerendered pages (row 60)

Deno.test("createServerClient({ context }) on a prerendered page is a TypeError naming url (row 60)", () => {
  assert.throws(() => createServerClient({ context: fakePrerenderedContext() }), {
    name: "TypeError",
    message:
      /^Cannot create server client: the page is prerendered\b.*createServerClient\(\{ url \}\)/,
  });
  const elsewhere = { context: fakePrerenderedContext(), url: "https://api.example" };
  assert.throws(() => createServerClient(elsewhere), { name: "TypeError", message: /prerendered/ });
});

Deno.test("the prerender check reads no request header", () => {
  let reads = 0;
  const page = fakePrerenderedContext();
  const headers = page.request.headers;
  Object.defineProperty(page.request, "headers", {
    get: () => {
      reads++; // Astro warns when a prerendered page reads request headers.
      return headers;
    },
  });
  assert.throws(() => createServerClient({ context: page }), TypeError);
  assert.equal(reads, 0);
});

Deno.test("a page with isPrerendered false gets a client as before", async () => {
  const fetch = fakeFetch();
  const page = { ...fakePageContext({ cookie: "sid=1" }), isPrerendered: false };
  await createServerClient({ context: page, fetch }).mutation(send, { text: "a" });
  assert.equal(fetch.calls[0]!.headers.get("cookie"), "sid=1");
});

Deno.test("a prerendered page can still call Lunora with createServerClient({ url })", async () => {
  const fetch = fakeFetch(() => Response.json({ result: ["hello"] }));
  const c = createServerClient({ url: "https://lunora.example", fetch });
  assert.deepEqual(await c.query(list, { channelId: "c" }), ["hello"]);
});

// ---------------------------------------------------------------------------------------------
// Types (row 59): type-checked by `deno test` / `deno task check`, never run

Deno.test("each method takes only references of its own kind, at compile time (row 59)", async () => {
  const { client: c } = client(() => Response.json({ result: { id: "m1" } }));
  const sent = await c.mutation(send, { text: "a" }, { idempotencyKey: "k" });
  assertType<Equal<typeof sent, { id: string }>>();
  const notified = await c.action(notify, { to: "ada" }, { shardKey: "s" });
  assertType<Equal<typeof notified, { sent: boolean }>>();
  const cleared = await c.mutation(clear); // no required argument: args may be left out
  assertType<Equal<typeof cleared, number>>();
  const rejected = async () => {
    // @ts-expect-error: a query reference is not a mutation
    await c.mutation(list, { channelId: "c" });
    // @ts-expect-error: an action reference is not a mutation
    await c.mutation(notify, { to: "ada" });
    // @ts-expect-error: a mutation reference is not a query
    await c.query(send, { text: "a" });
    // @ts-expect-error: an action reference is not a query
    await c.query(notify, { to: "ada" });
    // @ts-expect-error: a mutation reference is not an action
    await c.action(send, { text: "a" });
    // @ts-expect-error: a query reference is not an action
    await c.action(list, { channelId: "c" });
    // @ts-expect-error: text must be a string
    await c.mutation(send, { text: 1 });
    // @ts-expect-error: text is required, so args cannot be left out
    await c.mutation(send);
    // @ts-expect-error: idempotencyKey is a string
    await c.mutation(send, { text: "a" }, { idempotencyKey: 1 });
    // @ts-expect-error: a query's options have no idempotencyKey
    await c.query(list, { channelId: "c" }, { idempotencyKey: "k" });
  };
  assert.equal(typeof rejected, "function");
});
