import assert from "node:assert/strict";
import { getRequestScope } from "../src/in_process_registry.ts";
import { harness, hostSpy, jsonPost, ORIGIN } from "./_fakes.ts";

const QUERY = { kind: "query" } as const;
const envelope = JSON.stringify({ functionPath: "messages:list", args: { channel: "general" } });

const identityFromCookie = (request: Request) => {
  const user = /user=(\w+)/.exec(request.headers.get("cookie") ?? "")?.[1];
  return user ? { userId: user } : null;
};

function page(cookie?: string): Request {
  return new Request(`${ORIGIN}/channels/general`, cookie ? { headers: { cookie } } : {});
}

Deno.test("withLunora() registers a request scope under the page request and its ctx", async () => {
  const found: unknown[] = [];
  const host = hostSpy(({ request, ctx }) => {
    found.push(getRequestScope(request), getRequestScope(ctx));
    return new Response("page");
  });
  const h = harness({}, { host });
  await h.fetch(page());
  assert.equal(typeof found[0], "object");
  assert.equal(found[0], found[1]);
  assert.equal(getRequestScope(new Request(`${ORIGIN}/channels/general`)), undefined);
});

Deno.test("the in-process transport answers byte-identically to /_lunora/rpc for the same caller", async () => {
  let inProcess: Response | undefined;
  const host = hostSpy(async ({ request }) => {
    inProcess = await getRequestScope(request)!.run(envelope, QUERY);
    return new Response("page");
  });
  const h = harness({ resolveIdentity: identityFromCookie }, {
    host,
    behaviour: (call) =>
      Response.json({
        result: { user: call.request.headers.get("x-lunora-userid"), body: call.body },
      }),
  });
  await h.fetch(page("user=ada"));
  const viaHttp = await h.fetch(jsonPost("/_lunora/rpc", envelope, { cookie: "user=ada" }));
  assert.equal(inProcess!.status, viaHttp.status);
  assert.equal(inProcess!.headers.get("x-lunora-shard-key"), "__root__");
  assert.equal(await inProcess!.text(), await viaHttp.text());
  assert.equal(h.ns.calls[0]!.request.headers.get("cookie"), "user=ada");
  assert.equal(h.ns.calls[0]!.request.headers.get("x-lunora-userid"), "ada");
});

Deno.test("the in-process transport applies the tenant gate of the page's caller", async () => {
  let status = 0;
  const host = hostSpy(async ({ request }) => {
    const response = await getRequestScope(request)!.run(
      JSON.stringify({ functionPath: "a:b", shardKey: "tenant-b" }),
      QUERY,
    );
    status = response.status;
    return new Response("page");
  });
  const h = harness({}, { host });
  await h.fetch(page());
  assert.equal(status, 403);
  assert.equal(h.ns.calls.length, 0);
});

Deno.test("the in-process transport answers an invalid envelope with 400 and no shard call", async () => {
  let body: unknown;
  const host = hostSpy(async ({ request }) => {
    body = await (await getRequestScope(request)!.run("{", QUERY)).json();
    return new Response("page");
  });
  const h = harness({}, { host });
  await h.fetch(page());
  assert.equal((body as { error: { code: string } }).error.code, "BAD_REQUEST");
  assert.equal(h.ns.calls.length, 0);
});

Deno.test("the in-process transport retries a query's retryable shard errors", async () => {
  let failures = 1;
  let status = 0;
  const host = hostSpy(async ({ request }) => {
    status = (await getRequestScope(request)!.run(envelope, QUERY)).status;
    return new Response("page");
  });
  const h = harness({}, {
    host,
    behaviour: () =>
      failures-- > 0
        ? Promise.reject(Object.assign(new Error("reset"), { retryable: true }))
        : Response.json({ result: 1 }),
  });
  await h.fetch(page());
  assert.equal(status, 200);
  assert.equal(h.ns.stubs.length, 2);
});

Deno.test("two concurrent page requests with different cookies each reach the shard as their own user", async () => {
  const host = hostSpy(async ({ request }) => {
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
    const response = await getRequestScope(request)!.run(envelope, QUERY);
    return new Response(JSON.stringify(await response.json()));
  });
  const h = harness({ resolveIdentity: identityFromCookie }, {
    host,
    behaviour: (call) => Response.json({ result: call.request.headers.get("x-lunora-userid") }),
  });
  const pages = await Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      const user = i % 2 === 0 ? "ada" : "bob";
      const response = await h.fetch(page(`user=${user}`));
      return { user, seen: (await response.json()).result };
    }),
  );
  for (const { user, seen } of pages) assert.equal(seen, user);
});
