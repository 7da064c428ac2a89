import assert from "node:assert/strict";
import { withLunora } from "../mod.ts";
import {
  captureConsole,
  fakeCtx,
  fakeNamespace,
  harness,
  hostSpy,
  jsonPost,
  ORIGIN,
} from "./_fakes.ts";

const rpcBody = { functionPath: "messages:list", args: {} };

// --- Building the worker -------------------------------------------------------------------

Deno.test("withLunora() accepts a bare fetch function as the host", async () => {
  const h = harness();
  const response = await h.fetch(new Request(`${ORIGIN}/about`));
  assert.equal(await response.text(), "astro");
});

Deno.test("withLunora() accepts an object with fetch and keeps its this binding", async () => {
  const host = {
    greeting: "hello",
    fetch(this: { greeting: string }) {
      return new Response(this.greeting);
    },
  };
  const worker = withLunora(host, { shardDO: fakeNamespace() });
  const response = await worker.fetch(new Request(`${ORIGIN}/`), {}, fakeCtx());
  assert.equal(await response.text(), "hello");
});

Deno.test("withLunora() throws a TypeError when the host has no fetch function", () => {
  assert.throws(
    () => withLunora({} as never, { shardDO: fakeNamespace() }),
    (error: unknown) =>
      error instanceof TypeError && /"host" must be a fetch function/.test(error.message),
  );
});

Deno.test("withLunora() throws a TypeError naming shardDO when the object form lacks it", () => {
  assert.throws(
    () => withLunora(hostSpy(), {} as never),
    (error: unknown) => error instanceof TypeError && /"shardDO"/.test(error.message),
  );
});

Deno.test("withLunora() rejects a route key under /_lunora/ as reserved when built", () => {
  assert.throws(
    () =>
      withLunora(hostSpy(), {
        shardDO: fakeNamespace(),
        routes: { "GET /_lunora/x": () => new Response() },
      }),
    (error: unknown) => error instanceof TypeError && /reserved/.test(error.message),
  );
});

Deno.test("withLunora() rejects an adminRoutes key outside /_lunora/admin/ when built", () => {
  assert.throws(
    () =>
      withLunora(hostSpy(), {
        shardDO: fakeNamespace(),
        adminRoutes: { "/stats": () => new Response() },
      }),
    (error: unknown) => error instanceof TypeError && /\/_lunora\/admin\//.test(error.message),
  );
});

// --- Fall-through (row 2) and the original ctx (row 37) ------------------------------------

Deno.test("row 2: withLunora() hands GET /about to the host once with the same request, env and ctx", async () => {
  const h = harness();
  const request = new Request(`${ORIGIN}/about`);
  await h.fetch(request);
  assert.equal(h.host.calls.length, 1);
  assert.equal(h.host.calls[0]!.request, request);
  assert.equal(h.host.calls[0]!.env, h.env);
  assert.equal(h.host.calls[0]!.ctx, h.ctx);
  assert.equal(h.ns.calls.length, 0);
});

Deno.test("row 37: withLunora() lets the host call ctx.waitUntil with its binding intact", async () => {
  const work = Promise.resolve("done");
  const host = hostSpy(({ ctx }) => {
    (ctx as { waitUntil(p: Promise<unknown>): void }).waitUntil(work);
    return new Response("ok");
  });
  const h = harness({}, { host });
  const response = await h.fetch(new Request(`${ORIGIN}/`));
  assert.equal(response.status, 200);
  assert.deepEqual(h.ctx.waited, [work]);
});

Deno.test("withLunora() never calls passThroughOnException", async () => {
  const h = harness({}, { host: hostSpy(() => Promise.reject(new Error("x"))) });
  await captureConsole(() => h.fetch(new Request(`${ORIGIN}/`)));
  assert.equal(h.ctx.passThroughCalls, 0);
});

Deno.test("withLunora() passes host responses through untouched by default", async () => {
  const original = new Response("page", { headers: { "x-astro": "1" } });
  const h = harness({}, { host: hostSpy(() => original) });
  const response = await h.fetch(new Request(`${ORIGIN}/`));
  assert.equal(response, original);
  assert.equal(response.headers.get("x-content-type-options"), null);
});

Deno.test("withLunora() adds baseline headers to host responses when security.headers.applyToHost is set", async () => {
  const h = harness({ security: { headers: { applyToHost: true } } });
  const response = await h.fetch(new Request(`${ORIGIN}/`));
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
});

// --- /_lunora/status ----------------------------------------------------------------------

Deno.test("withLunora() answers GET /_lunora/status with 200 {ok:true} and no-store", async () => {
  const h = harness();
  const response = await h.fetch(new Request(`${ORIGIN}/_lunora/status`));
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { ok: true });
  assert.equal(response.headers.get("cache-control"), "no-store");
  assert.equal(h.host.calls.length, 0);
});

Deno.test("withLunora() answers HEAD /_lunora/status with 200 and no body", async () => {
  const h = harness();
  const response = await h.fetch(new Request(`${ORIGIN}/_lunora/status`, { method: "HEAD" }));
  assert.equal(response.status, 200);
  assert.equal(response.body, null);
});

Deno.test("withLunora() answers POST /_lunora/status with 405 and Allow: GET, HEAD", async () => {
  const h = harness();
  const response = await h.fetch(new Request(`${ORIGIN}/_lunora/status`, { method: "POST" }));
  assert.equal(response.status, 405);
  assert.equal(response.headers.get("allow"), "GET, HEAD");
});

Deno.test("withLunora() answers /_lunora/status with 200 even when the options factory throws", async () => {
  let calls = 0;
  const worker = withLunora(hostSpy(), () => {
    calls++;
    throw new Error("broken");
  });
  const response = await worker.fetch(new Request(`${ORIGIN}/_lunora/status`), {}, fakeCtx());
  assert.equal(response.status, 200);
  assert.equal(calls, 0);
});

Deno.test("withLunora() puts baseline security headers on reserved-plane responses", async () => {
  const h = harness();
  const response = await h.fetch(new Request(`${ORIGIN}/_lunora/status`));
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  assert.equal(response.headers.get("referrer-policy"), "strict-origin-when-cross-origin");
  assert.equal(response.headers.get("x-frame-options"), "SAMEORIGIN");
  assert.equal(response.headers.get("cross-origin-opener-policy"), "same-origin");
  assert.match(response.headers.get("content-security-policy") ?? "", /default-src 'none'/);
  assert.match(response.headers.get("strict-transport-security") ?? "", /max-age=/);
});

Deno.test("withLunora() sends no HSTS header on plain http", async () => {
  const h = harness();
  const response = await h.fetch(new Request("http://localhost/_lunora/status"));
  assert.equal(response.headers.get("strict-transport-security"), null);
});

Deno.test("withLunora() sends no baseline headers when security.headers is false", async () => {
  const h = harness({ security: { headers: false } });
  const response = await h.fetch(jsonPost("/_lunora/rpc", rpcBody));
  assert.equal(response.headers.get("x-content-type-options"), null);
});

// --- Non-canonical reserved paths (rows 12, 13) --------------------------------------------

for (
  const path of [
    "/_lunora/rpc/",
    "//_lunora/rpc",
    "/_LUNORA/rpc",
    "/_lunora%2Frpc",
    "/%5Flunora/rpc",
    "/_lunora/%61dmin/x",
    "/_lunora/%2561dmin/x",
    "/_lunora/nope",
    "/_lunora",
    "/_lunorax",
    "/_lunora/admin",
    "/_lunora/admin/",
  ]
) {
  Deno.test(`row 12: withLunora() answers ${path} with 404 without calling the host or a shard`, async () => {
    const h = harness();
    const response = await h.fetch(jsonPost(path, rpcBody));
    assert.equal(response.status, 404);
    assert.equal((await response.json()).error.code, "NOT_FOUND");
    assert.equal(h.host.calls.length, 0);
    assert.equal(h.ns.calls.length, 0);
  });
}

Deno.test("withLunora() leaves host paths that merely contain _lunora to the host", async () => {
  const h = harness();
  const response = await h.fetch(new Request(`${ORIGIN}/blog/_lunora-release`));
  assert.equal(await response.text(), "astro");
});

Deno.test("row 13: withLunora() treats /_lunora/rpc?x=1 as /_lunora/rpc", async () => {
  const h = harness();
  const response = await h.fetch(jsonPost("/_lunora/rpc?x=1", rpcBody));
  assert.equal(response.status, 200);
  assert.equal(h.ns.calls.length, 1);
});

// --- Host containment (rows 27, 28, 29) ------------------------------------------------------

Deno.test("row 27: withLunora() turns a sync host throw into a plain 500 without the error text", async () => {
  let calls = 0;
  const worker = withLunora(() => {
    calls++;
    throw new Error("boom /secret");
  }, { shardDO: fakeNamespace() });
  const { result: response, errors } = await captureConsole(() =>
    worker.fetch(new Request(`${ORIGIN}/`), {}, fakeCtx())
  );
  assert.equal(calls, 1);
  assert.equal(response.status, 500);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
  const text = await response.text();
  assert.equal(text, "Internal Server Error");
  assert.ok(!text.includes("boom"));
  assert.equal(errors.length, 1);
});

Deno.test("row 27: withLunora() contains an async host rejection and still answers the next RPC", async () => {
  const h = harness({}, { host: hostSpy(() => Promise.reject(new Error("boom /secret"))) });
  const { result: failed } = await captureConsole(() => h.fetch(new Request(`${ORIGIN}/`)));
  assert.equal(failed.status, 500);
  assert.ok(!(await failed.text()).includes("boom"));
  const rpc = await h.fetch(jsonPost("/_lunora/rpc", rpcBody));
  assert.equal(rpc.status, 200);
});

Deno.test("withLunora().fetch() returns a rejected promise, never a synchronous throw, for a request it cannot read", async () => {
  const worker = withLunora(hostSpy(), (env: { SHARD: never }) => ({ shardDO: env.SHARD }));
  const unreadable = {
    get url(): string {
      throw new Error("no url");
    },
  } as unknown as Request;
  let pending: Promise<Response> | undefined;
  assert.doesNotThrow(() => {
    pending = worker.fetch(unreadable, { SHARD: fakeNamespace() as never }, fakeCtx());
  });
  await assert.rejects(pending!, { message: "no url" });
});

for (const [label, value] of [["undefined", undefined], ['"html"', "html"], ["{}", {}]] as const) {
  Deno.test(`row 28: withLunora() answers 500 and logs when the host returns ${label}`, async () => {
    const h = harness({}, { host: hostSpy(() => value) });
    const { result: response, errors } = await captureConsole(() =>
      h.fetch(new Request(`${ORIGIN}/`))
    );
    assert.equal(response.status, 500);
    assert.equal(await response.text(), "Internal Server Error");
    assert.equal(errors.length, 1);
  });
}

Deno.test("row 29: withLunora() keeps every RPC at 200 while 50 interleaved host requests throw", async () => {
  const h = harness({}, { host: hostSpy(() => Promise.reject(new Error("boom"))) });
  const { result } = await captureConsole(() =>
    Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        i % 2 === 0
          ? h.fetch(new Request(`${ORIGIN}/page/${i}`)).then((r) =>
            ["host", r.status] as const
          )
          : h.fetch(jsonPost("/_lunora/rpc", rpcBody)).then((r) => ["rpc", r.status] as const)),
    )
  );
  assert.deepEqual(
    result.filter(([kind]) => kind === "rpc").map(([, s]) => s),
    Array(50).fill(200),
  );
  assert.deepEqual(
    result.filter(([kind]) => kind === "host").map(([, s]) => s),
    Array(50).fill(500),
  );
});

// --- Factory form (rows 34, 35, 36) ------------------------------------------------------------

Deno.test("row 34: withLunora() answers 503 NOT_CONFIGURED on /_lunora/rpc when the binding is missing and still serves /about", async () => {
  const host = hostSpy();
  const worker = withLunora(host, (env: { SHARD?: never }) => ({ shardDO: env.SHARD! }));
  const rpc = await worker.fetch(jsonPost("/_lunora/rpc", rpcBody), {}, fakeCtx());
  assert.equal(rpc.status, 503);
  assert.match(rpc.headers.get("content-type") ?? "", /json/);
  assert.equal((await rpc.json()).error.code, "NOT_CONFIGURED");
  const page = await worker.fetch(new Request(`${ORIGIN}/about`), {}, fakeCtx());
  assert.equal(await page.text(), "astro");
});

Deno.test("row 34: a factory whose binding goes missing after working requests answers 503 NOT_CONFIGURED", async () => {
  const env: { SHARD?: ReturnType<typeof fakeNamespace> } = { SHARD: fakeNamespace() };
  const worker = withLunora(hostSpy(), (e: typeof env) => ({ shardDO: e.SHARD! }));
  assert.equal((await worker.fetch(jsonPost("/_lunora/rpc", rpcBody), env, fakeCtx())).status, 200);
  env.SHARD = undefined;
  const rpc = await worker.fetch(jsonPost("/_lunora/rpc", rpcBody), env, fakeCtx());
  assert.equal(rpc.status, 503);
  assert.equal((await rpc.json()).error.code, "NOT_CONFIGURED");
});

Deno.test("row 35: withLunora() answers 500 INTERNAL on reserved paths when the factory throws, serves host paths, and retries the factory next request", async () => {
  let calls = 0;
  const worker = withLunora(hostSpy(), () => {
    calls++;
    throw new Error("factory exploded");
  });
  const { result: rpc } = await captureConsole(() =>
    worker.fetch(jsonPost("/_lunora/rpc", rpcBody), {}, fakeCtx())
  );
  assert.equal(rpc.status, 500);
  const body = await rpc.json();
  assert.deepEqual(body, { error: { code: "INTERNAL", message: "Internal error" } });
  const { result: page } = await captureConsole(() =>
    worker.fetch(new Request(`${ORIGIN}/about`), {}, fakeCtx())
  );
  assert.equal(await page.text(), "astro");
  assert.equal(calls, 2);
});

Deno.test("row 36: withLunora() calls the factory per request so each uses its own env binding", async () => {
  const first = fakeNamespace();
  const second = fakeNamespace();
  const worker = withLunora(hostSpy(), (env: { SHARD: typeof first }) => ({ shardDO: env.SHARD }));
  await worker.fetch(jsonPost("/_lunora/rpc", rpcBody), { SHARD: first }, fakeCtx());
  await worker.fetch(jsonPost("/_lunora/rpc", rpcBody), { SHARD: second }, fakeCtx());
  assert.equal(first.calls.length, 1);
  assert.equal(second.calls.length, 1);
});

// --- Body cap, auth routes, explicit routes ----------------------------------------------------

Deno.test("row 6: withLunora() answers 413 to a declared 2 MiB body on /_lunora/rpc before reading it", async () => {
  const h = harness();
  let pulled = false;
  const body = new ReadableStream({
    pull() {
      pulled = true;
    },
  }, { highWaterMark: 0 });
  const request = new Request(`${ORIGIN}/_lunora/rpc`, {
    method: "POST",
    headers: { "content-type": "application/json", "content-length": String(2 * 1024 * 1024) },
    body,
    duplex: "half",
  } as RequestInit);
  const response = await h.fetch(request);
  assert.equal(response.status, 413);
  assert.equal((await response.json()).error.code, "PAYLOAD_TOO_LARGE");
  assert.equal(pulled, false);
  assert.equal(h.ns.calls.length, 0);
});

Deno.test("withLunora() answers 413 to an oversized declared body under the auth base path", async () => {
  const authHandler = () => new Response("auth");
  const h = harness({ authHandler, maxBodyBytes: 10 });
  const response = await h.fetch(
    new Request(`${ORIGIN}/api/auth/sign-in`, {
      method: "POST",
      headers: { "content-length": "11" },
      body: "x".repeat(11),
    }),
  );
  assert.equal(response.status, 413);
});

Deno.test("withLunora() gives authHandler requests under /api/auth and uses its Response", async () => {
  const seen: string[] = [];
  const h = harness({
    authHandler: (request) => {
      seen.push(new URL(request.url).pathname);
      return new Response("signed in");
    },
  });
  const response = await h.fetch(new Request(`${ORIGIN}/api/auth/sign-in`));
  assert.equal(await response.text(), "signed in");
  assert.deepEqual(seen, ["/api/auth/sign-in"]);
  assert.equal(h.host.calls.length, 0);
});

Deno.test("withLunora() falls through to the host when authHandler returns undefined", async () => {
  const h = harness({ authHandler: () => undefined });
  const response = await h.fetch(new Request(`${ORIGIN}/api/auth/custom`));
  assert.equal(await response.text(), "astro");
});

Deno.test("withLunora() does not give authHandler paths outside authBasePath", async () => {
  let called = false;
  const h = harness({
    authBasePath: "/auth",
    authHandler: () => {
      called = true;
      return new Response("auth");
    },
  });
  await h.fetch(new Request(`${ORIGIN}/authentic`));
  assert.equal(called, false);
});

Deno.test("withLunora() gives authHandler authBasePath itself and the paths below it", async () => {
  for (const authBasePath of ["/auth", "/auth/"]) {
    const seen: string[] = [];
    const h = harness({
      authBasePath,
      authHandler: (request) => {
        seen.push(new URL(request.url).pathname);
        return new Response("auth");
      },
    });
    for (const path of ["/auth", "/auth/", "/auth/session", "/authentic", "/", "/au"]) {
      await h.fetch(new Request(`${ORIGIN}${path}`));
    }
    const expected = authBasePath === "/auth"
      ? ["/auth", "/auth/", "/auth/session"]
      : ["/auth/", "/auth/session"];
    assert.deepEqual(seen, expected, authBasePath);
  }
});

Deno.test("withLunora() answers a throwing authHandler with a JSON 500 and logs it", async () => {
  const h = harness({
    authHandler: () => {
      throw new Error("db down /secret");
    },
  });
  const { result: response, errors } = await captureConsole(() =>
    h.fetch(new Request(`${ORIGIN}/api/auth/session`))
  );
  assert.equal(response.status, 500);
  assert.ok(!(await response.text()).includes("secret"));
  assert.equal(errors.length, 1);
});

Deno.test("withLunora() prefers a METHOD /path route over a /path route", async () => {
  const h = harness({
    routes: {
      "/hook": () => new Response("any"),
      "post /hook": () => new Response("post"),
    },
  });
  const post = await h.fetch(new Request(`${ORIGIN}/hook`, { method: "POST" }));
  const get = await h.fetch(new Request(`${ORIGIN}/hook`));
  assert.equal(await post.text(), "post");
  assert.equal(await get.text(), "any");
  assert.equal(h.host.calls.length, 0);
});

Deno.test("withLunora() passes request, env and ctx to explicit routes", async () => {
  let seen: unknown[] = [];
  const h = harness({
    routes: {
      "GET /hook": (request, env, ctx) => {
        seen = [request, env, ctx];
        return new Response("ok");
      },
    },
  });
  const request = new Request(`${ORIGIN}/hook`);
  await h.fetch(request);
  assert.deepEqual(seen, [request, h.env, h.ctx]);
});

// --- Triggers (rows 38, 39) ---------------------------------------------------------------------

const controller = { cron: "*/5 * * * *", scheduledTime: 0 };

Deno.test("row 38: withLunora() exports the host's scheduled unchanged when Lunora has no crons", async () => {
  const seen: unknown[][] = [];
  const scheduled = (...args: unknown[]) => {
    seen.push(args);
    return Promise.reject(new Error("cron failed"));
  };
  const worker = withLunora({ fetch: hostSpy(), scheduled }, { shardDO: fakeNamespace() });
  assert.equal(worker.scheduled, scheduled);
  const env = {};
  const ctx = fakeCtx();
  await assert.rejects(
    () => Promise.resolve(worker.scheduled!(controller, env, ctx)),
    /cron failed/,
  );
  assert.deepEqual(seen, [[controller, env, ctx]]);
});

Deno.test("row 39: withLunora() dispatches scheduled on controller.cron to Lunora crons and skips the host's", async () => {
  const calls: string[] = [];
  const worker = withLunora(
    { fetch: hostSpy(), scheduled: () => void calls.push("host") },
    {
      shardDO: fakeNamespace(),
      crons: {
        "*/5 * * * *": (c, env, ctx) => void calls.push(`five:${c.cron}:${env === e}:${ctx === x}`),
        "0 * * * *": () => void calls.push("hourly"),
      },
    },
  );
  const e = {};
  const x = fakeCtx();
  await worker.scheduled!(controller, e, x);
  assert.deepEqual(calls, ["five:*/5 * * * *:true:true"]);
});

Deno.test("withLunora() warns once and does not throw for a cron that matches no Lunora handler", async () => {
  const worker = withLunora(hostSpy(), {
    shardDO: fakeNamespace(),
    crons: { "0 * * * *": () => {} },
  });
  const { warnings } = await captureConsole(() =>
    worker.scheduled!({ cron: "1 1 1 1 1", scheduledTime: 0 }, {}, fakeCtx())
  );
  assert.equal(warnings.length, 1);
});

Deno.test("withLunora() has no scheduled key when neither the host nor Lunora has one", () => {
  const worker = withLunora(hostSpy(), { shardDO: fakeNamespace() });
  assert.equal("scheduled" in worker, false);
  assert.equal("queue" in worker, false);
  assert.equal("email" in worker, false);
});

Deno.test("withLunora() ignores host trigger members that are not functions", () => {
  const worker = withLunora(
    { fetch: hostSpy(), scheduled: "nope", email: 1 } as never,
    { shardDO: fakeNamespace() },
  );
  assert.equal("scheduled" in worker, false);
  assert.equal("email" in worker, false);
});

Deno.test("withLunora() keeps the host's queue unless Lunora defines one", () => {
  const hostQueue = () => {};
  const lunoraQueue = () => {};
  const kept = withLunora({ fetch: hostSpy(), queue: hostQueue }, { shardDO: fakeNamespace() });
  assert.equal(kept.queue, hostQueue);
  const owned = withLunora(
    { fetch: hostSpy(), queue: hostQueue },
    { shardDO: fakeNamespace(), queue: lunoraQueue },
  );
  assert.equal(owned.queue, lunoraQueue);
});

Deno.test("withLunora() always keeps the host's email handler", () => {
  const email = () => {};
  const worker = withLunora({ fetch: hostSpy(), email }, {
    shardDO: fakeNamespace(),
    crons: { "* * * * *": () => {} },
  });
  assert.equal(worker.email, email);
});

Deno.test("withLunora() factory form exports scheduled and queue and decides per invocation", async () => {
  const calls: string[] = [];
  const worker = withLunora(
    {
      fetch: hostSpy(),
      scheduled: () => void calls.push("host"),
      queue: () => void calls.push("host-queue"),
    },
    (env: { owned: boolean }) => ({
      shardDO: fakeNamespace(),
      crons: env.owned ? { "*/5 * * * *": () => void calls.push("lunora") } : undefined,
    }),
  );
  assert.equal(typeof worker.scheduled, "function");
  assert.equal(typeof worker.queue, "function");
  assert.equal("email" in worker, false);
  await worker.scheduled!(controller, { owned: true }, fakeCtx());
  await worker.scheduled!(controller, { owned: false }, fakeCtx());
  await worker.queue!({}, { owned: false }, fakeCtx());
  assert.deepEqual(calls, ["lunora", "host", "host-queue"]);
});

/**
 * A `GET /hello` route table that counts how often its handler is read: once each time a factory
 * result holding it is validated in full (a reused compilation does not read it).
 */
function countedRoutes() {
  let reads = 0;
  const routes = {
    get "GET /hello"() {
      reads++;
      return () => new Response("hello");
    },
  };
  return { routes, reads: () => reads };
}

Deno.test("withLunora() validates a factory's options again only when a top-level field changes", async () => {
  const { routes, reads } = countedRoutes();
  const shard = fakeNamespace();
  const worker = withLunora(hostSpy(), (env: { CAP?: number }) => ({
    shardDO: shard,
    routes,
    ...(env.CAP === undefined ? {} : { maxBodyBytes: env.CAP }),
  }));
  for (let i = 0; i < 3; i++) {
    const response = await worker.fetch(new Request(`${ORIGIN}/hello`), {}, fakeCtx());
    assert.equal(await response.text(), "hello");
  }
  assert.equal(reads(), 1, "the same routes object is compiled once");
  const capped = await worker.fetch(jsonPost("/_lunora/rpc", rpcBody), { CAP: 8 }, fakeCtx());
  assert.equal(capped.status, 413, "a new field value is compiled and used at once");
  assert.equal(reads(), 2);
  const uncapped = await worker.fetch(jsonPost("/_lunora/rpc", rpcBody), {}, fakeCtx());
  assert.equal(uncapped.status, 200);
  assert.equal(shard.calls.length, 1);
});

Deno.test("withLunora() validates a factory's options again only when the security settings it builds change", async () => {
  const { routes, reads } = countedRoutes();
  const shard = fakeNamespace();
  const worker = withLunora(hostSpy(), (env: { ORIGINS: string }) => ({
    shardDO: shard,
    routes,
    security: { cors: { allowedOrigins: env.ORIGINS.split(","), allowCredentials: true } },
  }));
  const preflight = (origin: string) =>
    new Request(`${ORIGIN}/_lunora/rpc`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST" },
    });
  const allowed = async (origin: string, env: { ORIGINS: string }) =>
    (await worker.fetch(preflight(origin), env, fakeCtx())).headers.get(
      "access-control-allow-origin",
    );
  const env = { ORIGINS: "https://web.test" };
  for (let i = 0; i < 3; i++) {
    assert.equal(await allowed("https://web.test", env), "https://web.test");
  }
  assert.equal(reads(), 1, "equal security settings built per call are compiled once");
  const widened = { ORIGINS: "https://web.test,https://other.test" };
  assert.equal(await allowed("https://other.test", widened), "https://other.test");
  assert.equal(reads(), 2, "a changed origin list is compiled and used at once");
});

Deno.test("withLunora() serves the route handlers of each factory result", async () => {
  const shardDO = fakeNamespace();
  const worker = withLunora(hostSpy(), (env: { NAME: string }) => ({
    shardDO,
    routes: { "GET /hello": () => new Response(`hello ${env.NAME}`) },
  }));
  for (const name of ["a", "b"]) {
    const response = await worker.fetch(new Request(`${ORIGIN}/hello`), { NAME: name }, fakeCtx());
    assert.equal(await response.text(), `hello ${name}`);
  }
});

Deno.test("withLunora() calls the closures of each factory result, not the first one's", async () => {
  const ns = fakeNamespace();
  const worker = withLunora(hostSpy(), (env: { ALLOW: boolean }) => ({
    shardDO: ns,
    authorizeShard: () => env.ALLOW,
  }));
  const call = { functionPath: "messages:list", args: {}, shardKey: "tenant-a" };
  const allowed = await worker.fetch(jsonPost("/_lunora/rpc", call), { ALLOW: true }, fakeCtx());
  const denied = await worker.fetch(jsonPost("/_lunora/rpc", call), { ALLOW: false }, fakeCtx());
  assert.equal(allowed.status, 200);
  assert.equal(denied.status, 403);
  assert.equal(ns.calls.length, 1);
});
