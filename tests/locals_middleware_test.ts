/**
 * `@lunora/astro/middleware` (spec §11; threat-matrix row 60): `Astro.locals.lunora` is a lazy,
 * per-request server client; an app's own value is kept; a prerendered route gets a clear
 * `TypeError`.
 */
import assert from "node:assert/strict";
import { onRequest } from "../middleware.ts";
import type { ServerClient } from "../server.ts";
import { mutation, query } from "../server.ts";
import {
  fakeFetch,
  fakePageContext,
  fakePrerenderedContext,
  harness,
  hostSpy,
  ORIGIN,
} from "./_fakes.ts";

const send = mutation<{ text: string }, unknown>("messages:send");
const list = query<Record<string, never>, unknown>("messages:list");

type Locals = { lunora: ServerClient; cfContext?: unknown };

function next(): () => Promise<Response> {
  const response = Promise.resolve(new Response("page"));
  const fn = () => response;
  return fn;
}

/** A page context that counts reads of `context.request` (a client reads it when made). */
function countingContext(isPrerendered?: boolean) {
  const page = fakePageContext();
  const context = {
    reads: 0,
    locals: page.locals as object,
    get request(): Request {
      context.reads++;
      return page.request;
    },
    ...(isPrerendered === undefined ? {} : { isPrerendered }),
  };
  return context;
}

Deno.test("onRequest() returns what next() returns, having called it once", async () => {
  let calls = 0;
  const response = Promise.resolve(new Response("page"));
  const result = onRequest(fakePageContext(), () => {
    calls++;
    return response;
  });
  assert.equal(result, response);
  assert.equal(calls, 1);
  assert.equal(await (await result).text(), "page");
});

Deno.test("onRequest() makes no server client until locals.lunora is read", async () => {
  const context = countingContext();
  await onRequest(context, next());
  assert.equal(context.reads, 0, "nothing read from the request");
  assert.equal(typeof (context.locals as Locals).lunora.query, "function");
  assert.ok(context.reads > 0, "the first read made the client");
});

Deno.test("locals.lunora is the same client on every read within one request", async () => {
  const context = countingContext();
  await onRequest(context, next());
  const locals = context.locals as Locals;
  const first = locals.lunora;
  const reads = context.reads;
  assert.equal(locals.lunora, first);
  assert.equal(locals.lunora, first);
  assert.equal(context.reads, reads, "no second client was made");
});

Deno.test("each request gets its own client, running as its own visitor", async () => {
  const fetch = fakeFetch();
  const contexts = ["sid=a", "sid=b"].map((cookie) => fakePageContext({ cookie }));
  for (const context of contexts) await onRequest(context, next());
  const [a, b] = contexts.map((context) => (context.locals as unknown as Locals).lunora);
  assert.notEqual(a, b);
  // Without a transport the clients fall back to HTTP with each page's own cookie; the
  // global fetch is swapped for a recording one while they run.
  const original = globalThis.fetch;
  globalThis.fetch = fetch;
  try {
    await b!.mutation(send, { text: "b" });
    await a!.mutation(send, { text: "a" });
  } finally {
    globalThis.fetch = original;
  }
  assert.deepEqual(fetch.calls.map((call) => call.headers.get("cookie")), ["sid=b", "sid=a"]);
  const clientIds = fetch.calls.map((call) => call.headers.get("x-lunora-client-id"));
  assert.notEqual(clientIds[0], clientIds[1]);
});

Deno.test("a locals.lunora set before the middleware runs is kept", async () => {
  const own = { mine: true };
  const context = { ...fakePageContext(), locals: { lunora: own } };
  await onRequest(context, next());
  assert.equal(context.locals.lunora, own);
});

Deno.test("assigning locals.lunora after the middleware replaces the lazy client", async () => {
  const context = countingContext();
  await onRequest(context, next());
  const own = { mine: true };
  (context.locals as Record<string, unknown>).lunora = own;
  assert.equal((context.locals as Record<string, unknown>).lunora, own);
  assert.equal(context.reads, 0, "no client was made");
});

Deno.test("locals.lunora is not enumerable: spreading or serializing locals makes no client", async () => {
  const context = countingContext();
  await onRequest(context, next());
  assert.deepEqual(Object.keys(context.locals), ["cfContext"]);
  assert.ok(!("lunora" in { ...context.locals }));
  JSON.stringify(context.locals);
  assert.equal(context.reads, 0);
});

Deno.test("reading locals.lunora on a prerendered route is a TypeError naming url (row 60)", async () => {
  const context = fakePrerenderedContext();
  let rendered = false;
  await onRequest(context, () => {
    rendered = true; // a prerendered page that never reads it renders as usual
    return Promise.resolve(new Response("page"));
  });
  assert.ok(rendered);
  for (let attempt = 0; attempt < 2; attempt++) {
    assert.throws(() => (context.locals as unknown as Locals).lunora, {
      name: "TypeError",
      message:
        /^Cannot use Astro\.locals\.lunora: the page is prerendered\b.*createServerClient\(\{ url \}\)/,
    });
  }
});

Deno.test("on a prerendered route the middleware reads no request header", async () => {
  let reads = 0;
  const context = fakePrerenderedContext();
  const headers = context.request.headers;
  Object.defineProperty(context.request, "headers", {
    get: () => {
      reads++; // Astro warns when a prerendered page reads request headers.
      return headers;
    },
  });
  await onRequest(context, next());
  assert.throws(() => (context.locals as unknown as Locals).lunora, TypeError);
  assert.equal(reads, 0);
});

Deno.test("a locals that is not a plain object gets the same lazy, hidden, per-request client", async () => {
  class Locals {
    cfContext = {};
  }
  const contexts = [0, 1].map(() => ({ ...countingContext(), locals: new Locals() }));
  for (const context of contexts) await onRequest(context, next());
  const [a, b] = contexts.map((context) => context.locals as unknown as { lunora: ServerClient });
  assert.ok(contexts.every((context) => context.locals instanceof Locals), "its prototype kept");
  assert.deepEqual(Object.keys(contexts[0]!.locals), ["cfContext"]);
  assert.equal(typeof a!.lunora.query, "function");
  assert.equal(a!.lunora, a!.lunora);
  assert.notEqual(a!.lunora, b!.lunora);
});

Deno.test("a frozen locals gets no client, and the request still renders", async () => {
  const context = { request: new Request(`${ORIGIN}/page`), locals: Object.freeze({}) };
  assert.equal(await (await onRequest(context, next())).text(), "page");
  assert.equal((context.locals as Partial<Locals>).lunora, undefined);
});

Deno.test("inside the composed worker, locals.lunora runs a page's mutation in process", async () => {
  const fetch = fakeFetch();
  const original = globalThis.fetch;
  const host = hostSpy(async ({ request, ctx }) => {
    // What Astro does: a fresh `locals` holding the worker's ctx, then the middleware chain.
    const context = { request: request as Request, locals: { cfContext: ctx } };
    return await onRequest(context, async () => {
      const lunora = (context.locals as unknown as Locals).lunora;
      await lunora.mutation(send, { text: "hi" }, { idempotencyKey: "k-1" });
      return Response.json(await lunora.query(list));
    });
  });
  const h = harness({}, { host });
  globalThis.fetch = fetch;
  let response: Response;
  try {
    response = await h.fetch(new Request(`${ORIGIN}/channels/general`));
  } finally {
    globalThis.fetch = original;
  }
  assert.equal(response.status, 200);
  assert.equal(fetch.calls.length, 0, "no HTTP request");
  assert.deepEqual(h.ns.calls.map((call) => call.request.headers.get("x-lunora-mutation-id")), [
    "k-1",
    null,
  ]);
});
