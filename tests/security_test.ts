import assert from "node:assert/strict";
import { withLunora } from "../mod.ts";
import { fakeNamespace, harness, hostSpy, jsonPost, ORIGIN } from "./_fakes.ts";

const envelope = { functionPath: "messages:send", args: { text: "hi" } };

Deno.test("row 14: a cookie-bearing POST from https://evil.test gets 403 FORBIDDEN_ORIGIN and no shard call", async () => {
  const h = harness();
  const response = await h.fetch(
    jsonPost("/_lunora/rpc", envelope, { cookie: "session=1", origin: "https://evil.test" }),
  );
  assert.equal(response.status, 403);
  assert.equal((await response.json()).error.code, "FORBIDDEN_ORIGIN");
  assert.equal(h.ns.calls.length, 0);
});

Deno.test("row 14: a cookie-bearing POST whose Referer is cross-site gets 403", async () => {
  const h = harness();
  const response = await h.fetch(
    jsonPost("/_lunora/rpc", envelope, { cookie: "s=1", referer: "https://evil.test/page" }),
  );
  assert.equal(response.status, 403);
});

Deno.test("row 14: a cookie-bearing POST with Origin: null gets 403", async () => {
  const h = harness();
  const response = await h.fetch(
    jsonPost("/_lunora/rpc", envelope, { cookie: "s=1", origin: "null" }),
  );
  assert.equal(response.status, 403);
});

Deno.test("row 15: a cookie-bearing POST with Sec-Fetch-Site: cross-site and no Origin gets 403", async () => {
  const h = harness();
  const response = await h.fetch(
    jsonPost("/_lunora/rpc", envelope, { cookie: "s=1", "sec-fetch-site": "cross-site" }),
  );
  assert.equal(response.status, 403);
  assert.equal(h.ns.calls.length, 0);
});

Deno.test("a same-origin cookie-bearing POST is allowed", async () => {
  const h = harness();
  const response = await h.fetch(
    jsonPost("/_lunora/rpc", envelope, { cookie: "s=1", origin: ORIGIN }),
  );
  assert.equal(response.status, 200);
});

Deno.test("a cross-site POST without a cookie is not a CSRF risk and is allowed", async () => {
  const h = harness();
  const response = await h.fetch(
    jsonPost("/_lunora/rpc", envelope, { origin: "https://other.test" }),
  );
  assert.equal(response.status, 200);
});

Deno.test("a cookie-bearing POST with no Origin, Referer or Sec-Fetch-Site is allowed (server-to-server)", async () => {
  const h = harness();
  const response = await h.fetch(jsonPost("/_lunora/rpc", envelope, { cookie: "s=1" }));
  assert.equal(response.status, 200);
});

Deno.test("row 16: an Origin listed in trustedOrigins is allowed although request.url is http://localhost", async () => {
  const h = harness({ security: { csrf: { trustedOrigins: ["https://app.example.com/"] } } });
  const response = await h.fetch(
    new Request("http://localhost:8787/_lunora/rpc", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        cookie: "s=1",
        origin: "https://app.example.com",
      },
      body: JSON.stringify(envelope),
    }),
  );
  assert.equal(response.status, 200);
});

Deno.test("withLunora() rejects a trustedOrigins entry that is not an origin when built", () => {
  assert.throws(
    () =>
      withLunora(hostSpy(), {
        shardDO: fakeNamespace(),
        security: { csrf: { trustedOrigins: ["not a url"] } },
      }),
    (error: unknown) => error instanceof TypeError && /"not a url"/.test(error.message),
  );
});

const cors = {
  security: { cors: { allowedOrigins: ["https://web.test"], allowCredentials: true } },
};

function preflight(origin: string): Request {
  return new Request(`${ORIGIN}/_lunora/rpc`, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type",
    },
  });
}

Deno.test("row 17: a CORS preflight from an allowed origin gets 204 with the exact origin and Vary: Origin", async () => {
  const h = harness(cors);
  const response = await h.fetch(preflight("https://web.test"));
  assert.equal(response.status, 204);
  assert.equal(response.headers.get("access-control-allow-origin"), "https://web.test");
  assert.equal(response.headers.get("vary"), "Origin");
  assert.equal(response.headers.get("access-control-allow-credentials"), "true");
  assert.match(response.headers.get("access-control-allow-methods") ?? "", /POST/);
  assert.equal(h.ns.calls.length, 0);
});

Deno.test("a CORS preflight allows by default the headers a Lunora client sends with a mutation", async () => {
  const h = harness(cors);
  const response = await h.fetch(preflight("https://web.test"));
  const allowed = (response.headers.get("access-control-allow-headers") ?? "").split(/,\s*/);
  for (
    const name of ["content-type", "authorization", "x-lunora-mutation-id", "x-lunora-client-id"]
  ) {
    assert.ok(allowed.includes(name), `${name} in ${JSON.stringify(allowed)}`);
  }
  assert.ok(!allowed.includes("cookie"));
});

Deno.test("security.cors.allowedHeaders replaces the default preflight headers", async () => {
  const h = harness({
    security: { cors: { allowedOrigins: ["https://web.test"], allowedHeaders: ["x-custom"] } },
  });
  const response = await h.fetch(preflight("https://web.test"));
  assert.equal(response.headers.get("access-control-allow-headers"), "x-custom");
});

Deno.test("row 17: a CORS preflight from a denied origin gets 403 without any Access-Control header", async () => {
  const h = harness(cors);
  const response = await h.fetch(preflight("https://evil.test"));
  assert.equal(response.status, 403);
  const names = [...response.headers.keys()].filter((name) => name.startsWith("access-control-"));
  assert.deepEqual(names, []);
});

Deno.test('row 17: CORS allowedOrigins "*" with allowCredentials is rejected when the worker is built', () => {
  assert.throws(
    () =>
      withLunora(hostSpy(), {
        shardDO: fakeNamespace(),
        security: { cors: { allowedOrigins: ["*"], allowCredentials: true } },
      }),
    (error: unknown) => error instanceof TypeError && /"\*"/.test(error.message),
  );
});

Deno.test("CORS is off by default: no Access-Control headers on any reserved response", async () => {
  const h = harness();
  const response = await h.fetch(
    jsonPost("/_lunora/rpc", envelope, { origin: "https://web.test" }),
  );
  const names = [...response.headers.keys()].filter((name) => name.startsWith("access-control-"));
  assert.deepEqual(names, []);
  const options = await h.fetch(preflight("https://web.test"));
  assert.equal(options.status, 405);
});

Deno.test("an actual response to an allowed origin carries CORS headers exposing x-lunora-shard-key", async () => {
  const h = harness(cors);
  const response = await h.fetch(
    jsonPost("/_lunora/rpc", envelope, { origin: "https://web.test", cookie: "s=1" }),
  );
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("access-control-allow-origin"), "https://web.test");
  assert.equal(response.headers.get("vary"), "Origin");
  assert.equal(response.headers.get("access-control-expose-headers"), "x-lunora-shard-key");
  assert.equal(response.headers.get("access-control-allow-credentials"), "true");
});

Deno.test("CORS allowedOrigins does not make a wildcard trusted for cookie-bearing requests", async () => {
  const h = harness({ security: { cors: { allowedOrigins: ["*"] } } });
  const response = await h.fetch(
    jsonPost("/_lunora/rpc", envelope, { origin: "https://evil.test", cookie: "s=1" }),
  );
  assert.equal(response.status, 403);
});

Deno.test("reserved-plane headers are only added where absent", async () => {
  const h = harness({}, {
    behaviour: () =>
      new Response('{"result":1}', {
        headers: { "content-type": "application/json", "x-frame-options": "DENY" },
      }),
  });
  const response = await h.fetch(jsonPost("/_lunora/rpc", envelope));
  assert.equal(response.headers.get("x-frame-options"), "DENY");
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
});

Deno.test("security.headers can replace the CSP and drop HSTS", async () => {
  const h = harness({
    security: {
      headers: { contentSecurityPolicy: "default-src 'self'", strictTransportSecurity: false },
    },
  });
  const response = await h.fetch(jsonPost("/_lunora/rpc", envelope));
  assert.equal(response.headers.get("content-security-policy"), "default-src 'self'");
  assert.equal(response.headers.get("strict-transport-security"), null);
});
