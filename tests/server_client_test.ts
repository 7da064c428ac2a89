/**
 * `createServerClient` (spec §8, §10 "Server client"; threat-matrix rows 42–46), including the
 * in-process path through the registry `withLunora` fills.
 */
import type { APIContext, AstroGlobal } from "astro";
import assert from "node:assert/strict";
import { setRequestScope } from "../src/in_process_registry.ts";
import { createServerClient } from "../src/ssr/server_client.ts";
import { WIRE_TAG } from "../src/wire/codec.ts";
import { LunoraServerError } from "../src/wire/error_envelope.ts";
import { type FunctionReference, query } from "../src/wire/function_reference.ts";
import { fakeFetch, fakePageContext, ORIGIN, recordingTransport, scopeOf } from "./_fakes.ts";

const T = WIRE_TAG;
const get = query<{ id?: string; n?: bigint }, unknown>("counters:get");

/** Runs one query against a fetch that answers `response`, returns the rejection. */
async function failureFor(response: Response): Promise<LunoraServerError> {
  const client = createServerClient({ url: ORIGIN, fetch: fakeFetch(() => response) });
  const error = await client.query(get, {}).then(
    () => assert.fail("the query should have failed"),
    (error: unknown) => error,
  );
  assert.ok(error instanceof LunoraServerError, String(error));
  return error;
}

function html(status: number, headers: Record<string, string> = {}): Response {
  return new Response("<html><body>Bad gateway</body></html>", {
    status,
    headers: { "content-type": "text/html", ...headers },
  });
}

function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
}

// ---------------------------------------------------------------------------------------------
// The request

Deno.test("createServerClient() POSTs JSON to <url>/_lunora/rpc", async () => {
  const fetch = fakeFetch(() => Response.json({ result: 1 }));
  await createServerClient({ url: "https://app.test", fetch }).query(get, { id: "a" });
  assert.equal(fetch.calls.length, 1);
  const [call] = fetch.calls;
  assert.equal(call!.url, "https://app.test/_lunora/rpc");
  assert.equal(call!.method, "POST");
  assert.equal(call!.headers.get("content-type"), "application/json");
  assert.equal(call!.headers.get("authorization"), null);
  assert.equal(call!.headers.get("cookie"), null);
});

Deno.test("createServerClient() drops exactly one trailing slash of the URL", async () => {
  const fetch = fakeFetch();
  await createServerClient({ url: "https://app.test/base/", fetch }).query(get, {});
  await createServerClient({ url: new URL("https://app.test/base"), fetch }).query(get, {});
  assert.deepEqual(fetch.calls.map((call) => call.url), [
    "https://app.test/base/_lunora/rpc",
    "https://app.test/base/_lunora/rpc",
  ]);
});

Deno.test("the body is {args, functionPath, shardKey} in that order, args wire-encoded", async () => {
  const fetch = fakeFetch();
  const client = createServerClient({ url: ORIGIN, fetch });
  await client.query(get, { n: 5n }, { shardKey: "tenant-a" });
  await client.query(get, undefined as never);
  assert.equal(
    fetch.calls[0]!.body,
    `{"args":{"n":["${T}","bigint","5"]},"functionPath":"counters:get","shardKey":"tenant-a"}`,
  );
  assert.equal(fetch.calls[1]!.body, '{"args":{},"functionPath":"counters:get"}');
});

Deno.test("createServerClient() sends authorization only for a non-empty token", async () => {
  const fetch = fakeFetch();
  await createServerClient({ url: ORIGIN, fetch, token: "tok-1" }).query(get, {});
  await createServerClient({ url: ORIGIN, fetch, token: "" }).query(get, {});
  assert.deepEqual(fetch.calls.map((call) => call.headers.get("authorization")), [
    "Bearer tok-1",
    null,
  ]);
});

Deno.test("two clients with tokens A and B used in parallel each send only their own (row 42)", async () => {
  const fetch = fakeFetch(async (call) => {
    await tick();
    return Response.json({ result: call.headers.get("authorization") });
  });
  const clientA = createServerClient({ url: ORIGIN, fetch, token: "token-A" });
  const clientB = createServerClient({ url: ORIGIN, fetch, token: "token-B" });
  const calls = Array.from({ length: 100 }, (_, index) => {
    const [client, expected] = index % 2 === 0
      ? [clientA, "Bearer token-A"]
      : [clientB, "Bearer token-B"];
    return client.query(get, { id: String(index) }).then((seen) => [seen, expected]);
  });
  for (const [seen, expected] of await Promise.all(calls)) assert.equal(seen, expected);
  assert.equal(fetch.calls.length, 100);
  for (const call of fetch.calls) {
    const id = Number(JSON.parse(call.body).args.id);
    assert.equal(
      call.headers.get("authorization"),
      id % 2 === 0 ? "Bearer token-A" : "Bearer token-B",
    );
  }
});

Deno.test("createServerClient() does not follow redirects: a 302 is an INTERNAL error", async () => {
  let init: RequestInit | undefined;
  const client = createServerClient({
    url: ORIGIN,
    fetch: (_input, requestInit) => {
      init = requestInit;
      return Promise.resolve(new Response(null, { status: 302, headers: { location: "/x" } }));
    },
  });
  await assert.rejects(client.query(get, {}), { code: "INTERNAL", status: 302 });
  assert.equal(init?.redirect, "manual");
});

// ---------------------------------------------------------------------------------------------
// Row 43: unsendable token or URL → TypeError before any request

Deno.test("a token with CR/LF is a TypeError before any request, never echoing it (row 43)", () => {
  const fetch = fakeFetch();
  for (const token of ["abc\r\nx-evil: 1", "abc\n", "a\u0000b", "caf\u00e9"]) {
    assert.throws(() => createServerClient({ url: ORIGIN, fetch, token }), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /^Cannot create server client: "token" cannot be sent/);
      assert.ok(!error.message.includes("abc"), "the token is a secret");
      return true;
    });
  }
  assert.equal(fetch.calls.length, 0);
});

Deno.test("a relative, javascript: or non-http URL is a TypeError before any request (row 43)", () => {
  const fetch = fakeFetch();
  for (
    const url of [
      "/relative",
      "app.test",
      "javascript:alert(1)",
      "ftp://app.test/",
      "file:///etc/passwd",
      "https://app.test/\r\n",
      "https://user:pass@app.test/",
      "https://app.test/?x=1",
      "https://app.test/#frag",
      "",
    ]
  ) {
    assert.throws(
      () => createServerClient({ url, fetch }),
      { name: "TypeError", message: /^Cannot create server client: "url"/ },
      url,
    );
  }
  assert.equal(fetch.calls.length, 0);
});

Deno.test("createServerClient() without url or context is a TypeError", () => {
  assert.throws(() => createServerClient({}), {
    name: "TypeError",
    message: 'Cannot create server client: "url" is required unless "context" is given',
  });
  assert.throws(() => createServerClient(null as never), TypeError);
  assert.throws(() => createServerClient({ url: 42 as never }), TypeError);
  assert.throws(() => createServerClient({ url: ORIGIN, token: 1 as never }), TypeError);
  assert.throws(() => createServerClient({ url: ORIGIN, fetch: "no" as never }), TypeError);
});

Deno.test("query() rejects bad references, args and shard keys before any request", async () => {
  const fetch = fakeFetch();
  const client = createServerClient({ url: ORIGIN, fetch });
  const bad = { __lunoraRef: "../admin:x" } as FunctionReference<"query">;
  await assert.rejects(client.query(bad, {}), {
    name: "TypeError",
    message: 'Invalid function reference: "../admin:x" is not a function path like "messages:list"',
  });
  await assert.rejects(client.query(null as never, {} as never), TypeError);
  await assert.rejects(client.query(get, [] as never), {
    name: "TypeError",
    message: 'Cannot run query "counters:get": "args" must be a plain object',
  });
  await assert.rejects(client.query(get, {}, { shardKey: 7 as never }), TypeError);
  class Money {}
  await assert.rejects(client.query(get, { id: new Money() } as never), {
    name: "TypeError",
    message: /^Cannot run query "counters:get": Cannot encode wire value: an instance of "Money"/,
  });
  assert.equal(fetch.calls.length, 0);
});

// ---------------------------------------------------------------------------------------------
// Responses

Deno.test("query() resolves to the wire-decoded result", async () => {
  const fetch = fakeFetch(() =>
    Response.json({ result: { n: [T, "bigint", "9007199254740993"], at: [T, "date", 0] } })
  );
  const value = await createServerClient({ url: ORIGIN, fetch }).query(get, {});
  assert.deepEqual(value, { n: 9007199254740993n, at: new Date(0) });
});

Deno.test("an error envelope on HTTP 200 rejects with its code (row 44)", async () => {
  const error = await failureFor(Response.json({ error: { code: "BOOM", message: "fail" } }));
  assert.equal(error.code, "BOOM");
  assert.equal(error.message, "fail");
  assert.equal(error.status, 200);
  assert.equal(error.name, "LunoraServerError");
});

Deno.test("an error envelope carries decoded data, hint and docsUrl", async () => {
  const error = await failureFor(Response.json({
    error: {
      code: "LIMIT",
      message: "Too big",
      data: { max: [T, "bigint", "10"] },
      hint: ["Split it", "Or ask"],
      docsUrl: "https://docs.example/limit",
    },
  }, { status: 400 }));
  assert.deepEqual(error.data, { max: 10n });
  assert.deepEqual(error.hint, ["Split it", "Or ask"]);
  assert.equal(error.docsUrl, "https://docs.example/limit");
});

Deno.test("an envelope whose data cannot be decoded keeps its code and drops the data", async () => {
  const error = await failureFor(Response.json({
    error: { code: "X", message: "m", data: [T, "bigint", "9".repeat(2000)] },
  }, { status: 409 }));
  assert.equal(error.code, "X");
  assert.equal(error.data, undefined);
});

Deno.test("a gateway HTML 502 rejects with INTERNAL and the status in the message (row 45)", async () => {
  const error = await failureFor(html(502));
  assert.equal(error.code, "INTERNAL");
  assert.match(error.message, /502/);
  assert.equal(error.status, 502);
});

Deno.test("failed responses without an envelope map their status to a code", async () => {
  const expected: [number, string][] = [
    [400, "BAD_REQUEST"],
    [401, "UNAUTHORIZED"],
    [403, "FORBIDDEN"],
    [404, "NOT_FOUND"],
    [405, "BAD_REQUEST"],
    [408, "INTERNAL"],
    [409, "CONFLICT"],
    [413, "PAYLOAD_TOO_LARGE"],
    [418, "BAD_REQUEST"],
    [429, "TOO_MANY_REQUESTS"],
    [500, "INTERNAL"],
    [503, "INTERNAL"],
  ];
  for (const [status, code] of expected) {
    const error = await failureFor(new Response("nope", { status }));
    assert.equal(error.code, code, `HTTP ${status}`);
    assert.match(error.message, new RegExp(`HTTP ${status}`));
  }
});

Deno.test("an error slot that is not an object is no envelope: the status decides", async () => {
  const error = await failureFor(Response.json({ error: "bad gateway" }, { status: 502 }));
  assert.equal(error.code, "INTERNAL");
});

Deno.test("429 with Retry-After: 3 gives TOO_MANY_REQUESTS and data.retryAfterMs 3000 (row 46)", async () => {
  const error = await failureFor(
    new Response("slow down", {
      status: 429,
      headers: { "retry-after": "3" },
    }),
  );
  assert.equal(error.code, "TOO_MANY_REQUESTS");
  assert.deepEqual(error.data, { retryAfterMs: 3000 });
});

Deno.test("Retry-After fills an envelope's data.retryAfterMs unless it has one", async () => {
  const headers = { "retry-after": "2" };
  const filled = await failureFor(Response.json(
    { error: { code: "RATE", message: "m", data: { bucket: "b" } } },
    { status: 429, headers },
  ));
  assert.deepEqual(filled.data, { bucket: "b", retryAfterMs: 2000 });
  const kept = await failureFor(Response.json(
    { error: { code: "RATE", message: "m", data: { retryAfterMs: 1500 } } },
    { status: 429, headers },
  ));
  assert.deepEqual(kept.data, { retryAfterMs: 1500 });
  const none = await failureFor(Response.json(
    { error: { code: "RATE", message: "m" } },
    { status: 503, headers },
  ));
  assert.deepEqual(none.data, { retryAfterMs: 2000 });
  const other = await failureFor(Response.json(
    { error: { code: "RATE", message: "m", data: "text" } },
    { status: 503, headers },
  ));
  assert.equal(other.data, "text");
});

Deno.test("Retry-After as an HTTP date becomes the wait until then", async () => {
  const at = new Date(Date.now() + 60_000).toUTCString();
  const before = Date.now();
  const error = await failureFor(new Response("", { status: 503, headers: { "retry-after": at } }));
  const after = Date.now();
  const wait = (error.data as { retryAfterMs: number }).retryAfterMs;
  // The wait is measured from a moment between `before` and `after`, however slow the machine.
  const until = Date.parse(at);
  assert.ok(wait >= until - after && wait <= until - before, `${wait} ms until ${at}`);
});

Deno.test("a 2xx JSON body with neither result nor error rejects with INTERNAL", async () => {
  for (const body of ['{"ok":true}', "[1]", "null", "not json"]) {
    const error = await failureFor(new Response(body, { status: 200 }));
    assert.equal(error.code, "INTERNAL", body);
  }
});

Deno.test("a result that cannot be decoded rejects with INTERNAL", async () => {
  const error = await failureFor(Response.json({ result: [T, "url", "nope"] }));
  assert.equal(error.code, "INTERNAL");
  assert.ok(error.cause instanceof TypeError);
});

Deno.test("a network failure rejects with a LunoraServerError carrying the cause", async () => {
  const cause = new TypeError("connection refused");
  const client = createServerClient({ url: ORIGIN, fetch: () => Promise.reject(cause) });
  const error = await client.query(get, {}).catch((error: unknown) => error);
  assert.ok(error instanceof LunoraServerError);
  assert.equal(error.code, "INTERNAL");
  assert.equal(error.status, undefined);
  assert.equal(error.cause, cause);
  assert.match(error.message, /connection refused/);
});

// ---------------------------------------------------------------------------------------------
// context: in process, or HTTP with the page's identity

Deno.test("with context, a registered transport runs the call in process with no fetch", async () => {
  const page = fakePageContext({ cookie: "sid=1" });
  const transport = recordingTransport(() => Response.json({ result: [T, "bigint", "4"] }));
  setRequestScope([page.request, page.locals.cfContext], scopeOf(transport));
  const fetch = fakeFetch();
  const client = createServerClient({ context: page, fetch });
  assert.equal(await client.query(get, { id: "a" }, { shardKey: "s1" }), 4n);
  assert.equal(fetch.calls.length, 0);
  assert.deepEqual(transport.envelopes, [
    '{"args":{"id":"a"},"functionPath":"counters:get","shardKey":"s1"}',
  ]);
});

Deno.test("the transport is found through locals.cfContext when Astro replaced the request", async () => {
  const page = fakePageContext({ cookie: "sid=1" });
  const transport = recordingTransport();
  setRequestScope([page.locals.cfContext], scopeOf(transport)); // the worker's original request
  const replaced = { ...page, request: new Request(page.request) };
  const fetch = fakeFetch();
  await createServerClient({ context: replaced, fetch }).query(get, {});
  assert.equal(transport.envelopes.length, 1);
  assert.equal(fetch.calls.length, 0);
});

Deno.test("the transport is found through the request when locals has no cfContext", async () => {
  const page = fakePageContext();
  const transport = recordingTransport();
  setRequestScope([page.request], scopeOf(transport));
  await createServerClient({ context: { request: page.request, locals: {} }, fetch: fakeFetch() })
    .query(get, {});
  assert.equal(transport.envelopes.length, 1);
});

Deno.test("in-process responses are read like HTTP ones: an envelope rejects with its code", async () => {
  const page = fakePageContext();
  setRequestScope(
    [page.request],
    scopeOf(
      recordingTransport(() =>
        Response.json({ error: { code: "FORBIDDEN_SHARD", message: "No access" } }, { status: 403 })
      ),
    ),
  );
  await assert.rejects(createServerClient({ context: page }).query(get, {}), {
    name: "LunoraServerError",
    code: "FORBIDDEN_SHARD",
    status: 403,
  });
});

Deno.test("a transport that throws rejects with an INTERNAL LunoraServerError", async () => {
  const page = fakePageContext();
  setRequestScope([page.request], scopeOf(() => Promise.reject(new Error("shard gone"))));
  await assert.rejects(createServerClient({ context: page }).query(get, {}), {
    code: "INTERNAL",
    message: "Lunora RPC request failed: shard gone",
  });
});

Deno.test("without a transport, context falls back to HTTP on the page origin with its cookie and authorization", async () => {
  const page = fakePageContext({ cookie: "sid=abc", authorization: "Bearer page-token" });
  const fetch = fakeFetch();
  await createServerClient({ context: page, fetch }).query(get, {});
  assert.equal(fetch.calls.length, 1);
  const [call] = fetch.calls;
  assert.equal(call!.url, `${ORIGIN}/_lunora/rpc`);
  assert.equal(call!.headers.get("cookie"), "sid=abc");
  assert.equal(call!.headers.get("authorization"), "Bearer page-token");
});

Deno.test("context with a URL on another origin uses HTTP and forwards no identity", async () => {
  const page = fakePageContext({ cookie: "sid=abc", authorization: "Bearer page-token" });
  const transport = recordingTransport();
  setRequestScope([page.request, page.locals.cfContext], scopeOf(transport));
  const fetch = fakeFetch();
  await createServerClient({ context: page, url: "https://other.test", fetch }).query(get, {});
  assert.equal(transport.envelopes.length, 0);
  assert.equal(fetch.calls.length, 1);
  assert.equal(fetch.calls[0]!.url, "https://other.test/_lunora/rpc");
  assert.equal(fetch.calls[0]!.headers.get("cookie"), null);
  assert.equal(fetch.calls[0]!.headers.get("authorization"), null);
});

Deno.test("token together with context is a TypeError", () => {
  assert.throws(() => createServerClient({ context: fakePageContext(), token: "t" }), {
    name: "TypeError",
    message:
      'Cannot create server client: pass "token" or "context", not both: "context" already carries the page request\'s identity',
  });
  // An empty token (e.g. no session) is no token.
  createServerClient({ context: fakePageContext(), token: "" });
});

Deno.test("a context without a request is a TypeError", () => {
  for (const context of [{}, { request: "https://app.test" }, null]) {
    assert.throws(() => createServerClient({ context: context as never }), {
      name: "TypeError",
      message:
        'Cannot create server client: "context" must be the Astro render context with a request (pass context: Astro)',
    });
  }
});

Deno.test("two concurrent page requests each run in process as their own visitor", async () => {
  const pages = ["alice", "bob"].map((user) => {
    const page = fakePageContext({ cookie: `sid=${user}` });
    // What the worker registers: a transport bound to this page request's identity.
    setRequestScope(
      [page.request, page.locals.cfContext],
      scopeOf(async () => {
        await tick();
        return Response.json({ result: page.request.headers.get("cookie") });
      }),
    );
    return page;
  });
  const fetch = fakeFetch();
  const runs = Array.from({ length: 60 }, (_, index) => {
    const page = pages[index % 2]!;
    return createServerClient({ context: page, fetch }).query(get, {}).then((seen) => ({
      seen,
      expected: page.request.headers.get("cookie"),
    }));
  });
  for (const { seen, expected } of await Promise.all(runs)) assert.equal(seen, expected);
  assert.equal(fetch.calls.length, 0);
});

Deno.test("two concurrent page requests over HTTP each forward only their own cookie", async () => {
  const fetch = fakeFetch(async (call) => {
    await tick();
    return Response.json({ result: call.headers.get("cookie") });
  });
  const runs = Array.from({ length: 60 }, (_, index) => {
    const cookie = `sid=user-${index % 2}`;
    return createServerClient({ context: fakePageContext({ cookie }), fetch }).query(get, {})
      .then((seen) => assert.equal(seen, cookie));
  });
  await Promise.all(runs);
  assert.equal(fetch.calls.length, 60);
});

Deno.test("context defaults url to the page origin; a non-http page needs an explicit url", async () => {
  const fetch = fakeFetch();
  const page = fakePageContext({}, "https://app.test:8443/deep/page?x=1");
  await createServerClient({ context: page, fetch }).query(get, {});
  assert.equal(fetch.calls[0]!.url, "https://app.test:8443/_lunora/rpc");
  const odd = { request: new Request("https://app.test/") };
  Object.defineProperty(odd.request, "url", { value: "file:///page" });
  assert.throws(() => createServerClient({ context: odd }), {
    name: "TypeError",
    message: /"url" must be an absolute http\(s\) URL/,
  });
});

Deno.test("createServerClient() reads no page header until a call needs HTTP", async () => {
  let reads = 0;
  const request = new Request(`${ORIGIN}/page`, { headers: { cookie: "sid=1" } });
  const headers = request.headers;
  Object.defineProperty(request, "headers", {
    get: () => {
      reads++; // Astro warns when a prerendered page reads request headers.
      return headers;
    },
  });
  const page = { request, locals: {} };
  setRequestScope([request], scopeOf(() => Promise.resolve(Response.json({ result: 1 }))));
  await createServerClient({ context: page }).query(get, {});
  assert.equal(reads, 0);
});

Deno.test("createServerClient() accepts Astro's own render context types", () => {
  // Type-level: `Astro` in frontmatter and an endpoint's APIContext are valid contexts.
  const fromFrontmatter = (Astro: AstroGlobal) => createServerClient({ context: Astro });
  const fromEndpoint = (context: APIContext) => createServerClient({ context });
  assert.equal(typeof fromFrontmatter, "function");
  assert.equal(typeof fromEndpoint, "function");
});
