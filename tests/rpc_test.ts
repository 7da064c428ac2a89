import assert from "node:assert/strict";
import { withLunora } from "../mod.ts";
import { fakeCtx, fakeNamespace, harness, hostSpy, jsonPost, ORIGIN } from "./_fakes.ts";

const envelope = { functionPath: "messages:list", args: { channel: "general" } };

function retryableError(kind: "retryable" | "overloaded"): Error {
  return Object.assign(new Error("Durable Object reset because its code was updated"), {
    [kind]: true,
  });
}

Deno.test("row 1: /_lunora/rpc makes one shard call and passes its status and body through", async () => {
  const h = harness({}, {
    behaviour: () => new Response('{"result":[1,2]}', { status: 201, headers: { "x-shard": "1" } }),
  });
  const response = await h.fetch(jsonPost("/_lunora/rpc", envelope));
  assert.equal(response.status, 201);
  assert.equal(await response.text(), '{"result":[1,2]}');
  assert.equal(response.headers.get("x-shard"), "1");
  assert.equal(response.headers.get("x-lunora-shard-key"), "__root__");
  assert.equal(h.ns.calls.length, 1);
  assert.equal(h.host.calls.length, 0);
});

Deno.test("row 40: /_lunora/rpc forwards exactly {args, functionPath} as a POST to https://shard.internal/rpc", async () => {
  const h = harness();
  await h.fetch(jsonPost("/_lunora/rpc", { ...envelope, shardKey: "__root__" }));
  const [call] = h.ns.calls;
  assert.equal(call!.request.method, "POST");
  assert.equal(call!.request.url, "https://shard.internal/rpc");
  assert.equal(call!.request.headers.get("content-type"), "application/json");
  assert.equal(call!.body, '{"args":{"channel":"general"},"functionPath":"messages:list"}');
});

Deno.test("/_lunora/rpc sends {} as args when the envelope has none", async () => {
  const h = harness();
  await h.fetch(jsonPost("/_lunora/rpc", { functionPath: "messages:list" }));
  assert.equal(h.ns.calls[0]!.body, '{"args":{},"functionPath":"messages:list"}');
});

Deno.test("/_lunora/rpc resolves the stub with getByName when the namespace has it", async () => {
  const h = harness();
  await h.fetch(jsonPost("/_lunora/rpc", envelope));
  assert.deepEqual(h.ns.stubs, ["__root__"]);
});

Deno.test("/_lunora/rpc resolves the stub with get(idFromName) when getByName is absent", async () => {
  const ns = fakeNamespace(undefined, { withGetByName: false });
  const worker = withLunora(hostSpy(), { shardDO: ns, defaultShardKey: "main" });
  const response = await worker.fetch(jsonPost("/_lunora/rpc", envelope), {}, fakeCtx());
  assert.equal(response.status, 200);
  assert.equal(ns.calls[0]!.shardKey, "main");
});

Deno.test("row 3: /_lunora/rpc answers malformed JSON with 400 BAD_REQUEST without echoing it", async () => {
  const h = harness();
  const response = await h.fetch(jsonPost("/_lunora/rpc", '{"functionPath":'));
  assert.equal(response.status, 400);
  const text = await response.text();
  assert.equal(JSON.parse(text).error.code, "BAD_REQUEST");
  assert.ok(!text.includes('functionPath":'));
  assert.equal(h.ns.calls.length, 0);
});

Deno.test("row 3: /_lunora/rpc answers an empty body with 400 BAD_REQUEST", async () => {
  const h = harness();
  const response = await h.fetch(jsonPost("/_lunora/rpc", ""));
  assert.equal(response.status, 400);
  assert.equal(h.ns.calls.length, 0);
});

Deno.test("row 4: /_lunora/rpc answers a text/plain JSON body with 415 and no shard call", async () => {
  const h = harness();
  const response = await h.fetch(
    jsonPost("/_lunora/rpc", envelope, { "content-type": "text/plain" }),
  );
  assert.equal(response.status, 415);
  assert.equal((await response.json()).error.code, "UNSUPPORTED_MEDIA_TYPE");
  assert.equal(h.ns.calls.length, 0);
});

Deno.test("row 5: /_lunora/rpc answers form-urlencoded and missing content types with 415", async () => {
  const h = harness();
  const form = await h.fetch(
    jsonPost("/_lunora/rpc", envelope, { "content-type": "application/x-www-form-urlencoded" }),
  );
  const none = await h.fetch(
    new Request(`${ORIGIN}/_lunora/rpc`, {
      method: "POST",
      body: new TextEncoder().encode(JSON.stringify(envelope)),
    }),
  );
  assert.equal(form.status, 415);
  assert.equal(none.status, 415);
});

Deno.test("row 5: /_lunora/rpc accepts application/json; charset=utf-8", async () => {
  const h = harness();
  const response = await h.fetch(
    jsonPost("/_lunora/rpc", envelope, { "content-type": "Application/JSON; charset=utf-8" }),
  );
  assert.equal(response.status, 200);
});

Deno.test("row 7: /_lunora/rpc answers a 2 MiB streamed body with 413 and stops reading just past the cap", async () => {
  const h = harness();
  const chunk = new Uint8Array(64 * 1024).fill(32);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= 2 * 1024 * 1024) return controller.close();
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
  const response = await h.fetch(
    new Request(`${ORIGIN}/_lunora/rpc`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit),
  );
  assert.equal(response.status, 413);
  assert.ok(sent <= 1024 * 1024 + 2 * chunk.byteLength, `read ${sent} bytes`);
  assert.equal(h.ns.calls.length, 0);
});

for (const method of ["GET", "PUT", "DELETE"]) {
  Deno.test(`row 8: /_lunora/rpc answers ${method} with 405 and Allow: POST`, async () => {
    const h = harness();
    const response = await h.fetch(new Request(`${ORIGIN}/_lunora/rpc`, { method }));
    assert.equal(response.status, 405);
    assert.equal(response.headers.get("allow"), "POST");
    assert.equal((await response.json()).error.code, "METHOD_NOT_ALLOWED");
  });
}

for (
  const [label, body] of [
    ["a missing functionPath", { args: {} }],
    ["functionPath 42", { functionPath: 42 }],
    ["functionPath null", { functionPath: null }],
    ['functionPath "noColon"', { functionPath: "noColon" }],
    ['functionPath "../admin:x"', { functionPath: "../admin:x" }],
    ['functionPath "a//b:x"', { functionPath: "a//b:x" }],
    ['functionPath "/a:x"', { functionPath: "/a:x" }],
    ["a JSON array body", [1]],
    ["a JSON string body", "x"],
  ] as const
) {
  Deno.test(`row 9: /_lunora/rpc answers ${label} with 400 and no shard call`, async () => {
    const h = harness();
    const response = await h.fetch(jsonPost("/_lunora/rpc", JSON.stringify(body)));
    assert.equal(response.status, 400);
    assert.equal((await response.json()).error.code, "BAD_REQUEST");
    assert.equal(h.ns.calls.length, 0);
  });
}

Deno.test("/_lunora/rpc accepts nested module paths like chat/rooms.v2:list", async () => {
  const h = harness();
  const response = await h.fetch(jsonPost("/_lunora/rpc", { functionPath: "chat/rooms.v2:list" }));
  assert.equal(response.status, 200);
});

for (
  const [label, body] of [
    ['args "nope"', { functionPath: "a:b", args: "nope" }],
    ["args []", { functionPath: "a:b", args: [] }],
    ["args null", { functionPath: "a:b", args: null }],
    ["shardKey 123", { functionPath: "a:b", shardKey: 123 }],
    ['shardKey ""', { functionPath: "a:b", shardKey: "" }],
  ] as const
) {
  Deno.test(`row 11: /_lunora/rpc answers ${label} with 400 and no shard call`, async () => {
    const h = harness({ allowUnauthenticatedShardAccess: true });
    const response = await h.fetch(jsonPost("/_lunora/rpc", body));
    assert.equal(response.status, 400);
    assert.equal(h.ns.calls.length, 0);
  });
}

Deno.test("row 10: /_lunora/rpc never answers 500 for prototype keys and pollutes nothing", async () => {
  const h = harness();
  const bodies = [
    '{"functionPath":"__proto__:x"}',
    '{"functionPath":"constructor:y"}',
    '{"functionPath":"a:b","args":{"__proto__":{"isAdmin":true}}}',
    '{"__proto__":{"isAdmin":true},"functionPath":"a:b"}',
  ];
  for (const body of bodies) {
    const response = await h.fetch(jsonPost("/_lunora/rpc", body));
    assert.ok(response.status < 500, `${body} gave ${response.status}`);
  }
  assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
  assert.equal(
    h.ns.calls[2]!.body,
    '{"args":{"__proto__":{"isAdmin":true}},"functionPath":"a:b"}',
  );
});

Deno.test("row 23: /_lunora/rpc answers 403 FORBIDDEN_SHARD for another shard without authorizeShard", async () => {
  const h = harness();
  const response = await h.fetch(jsonPost("/_lunora/rpc", { ...envelope, shardKey: "tenant-b" }));
  assert.equal(response.status, 403);
  assert.equal((await response.json()).error.code, "FORBIDDEN_SHARD");
  assert.equal(h.ns.calls.length, 0);
});

Deno.test("/_lunora/rpc lets authorizeShard grant a shard only with exactly true", async () => {
  const answers: unknown[] = [true, "yes", 1, Promise.resolve(true)];
  const seen: unknown[] = [];
  const h = harness({
    resolveIdentity: () => ({ userId: "u1", role: "member" }),
    authorizeShard: (access) => {
      seen.push({ identity: access.identity, shardKey: access.shardKey });
      return answers.shift() as boolean;
    },
  });
  const statuses = [];
  for (let i = 0; i < 4; i++) {
    const response = await h.fetch(jsonPost("/_lunora/rpc", { ...envelope, shardKey: "t1" }));
    statuses.push(response.status);
  }
  assert.deepEqual(statuses, [200, 403, 403, 200]);
  assert.deepEqual(seen[0], { identity: { userId: "u1", role: "member" }, shardKey: "t1" });
});

Deno.test("/_lunora/rpc denies the shard when authorizeShard throws", async () => {
  const h = harness({
    authorizeShard: () => {
      throw new Error("db down");
    },
  });
  const response = await h.fetch(jsonPost("/_lunora/rpc", { ...envelope, shardKey: "t1" }));
  assert.equal(response.status, 403);
  assert.equal(h.ns.calls.length, 0);
});

Deno.test("/_lunora/rpc reaches any shard with allowUnauthenticatedShardAccess", async () => {
  const h = harness({ allowUnauthenticatedShardAccess: true });
  const response = await h.fetch(jsonPost("/_lunora/rpc", { ...envelope, shardKey: "t9" }));
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("x-lunora-shard-key"), "t9");
  assert.equal(h.ns.calls[0]!.shardKey, "t9");
});

Deno.test("row 22: /_lunora/rpc strips forged identity headers and sets the resolved identity", async () => {
  const h = harness({
    resolveIdentity: () => ({ userId: "real-user", role: "admin", plan: "pro" }),
  });
  await h.fetch(
    jsonPost("/_lunora/rpc", envelope, {
      "x-lunora-userid": "forged",
      "x-lunora-identity": "forged",
      "x-lunora-system": "1",
    }),
  );
  const headers = h.ns.calls[0]!.request.headers;
  assert.equal(headers.get("x-lunora-userid"), "real-user");
  assert.equal(headers.get("x-lunora-system"), null);
  const claims = JSON.parse(
    atob(headers.get("x-lunora-identity")!.replaceAll("-", "+").replaceAll("_", "/")),
  );
  assert.deepEqual(claims, { role: "admin", plan: "pro" });
});

Deno.test("row 22: /_lunora/rpc forwards no identity headers for an anonymous caller", async () => {
  const h = harness();
  await h.fetch(jsonPost("/_lunora/rpc", envelope, { "x-lunora-userid": "forged" }));
  const headers = h.ns.calls[0]!.request.headers;
  assert.equal(headers.get("x-lunora-userid"), null);
  assert.equal(headers.get("x-lunora-identity"), null);
});

Deno.test("/_lunora/rpc omits x-lunora-identity when the identity has only a userId", async () => {
  const h = harness({ resolveIdentity: () => ({ userId: "u1" }) });
  await h.fetch(jsonPost("/_lunora/rpc", envelope));
  assert.equal(h.ns.calls[0]!.request.headers.get("x-lunora-identity"), null);
});

Deno.test("/_lunora/rpc encodes non-ASCII claims as base64url of UTF-8 JSON", async () => {
  const h = harness({ resolveIdentity: () => ({ userId: "u1", name: "Zoë 🚀" }) });
  await h.fetch(jsonPost("/_lunora/rpc", envelope));
  const value = h.ns.calls[0]!.request.headers.get("x-lunora-identity")!;
  assert.match(value, /^[A-Za-z0-9_-]+$/);
  const binary = atob(value.replaceAll("-", "+").replaceAll("_", "/"));
  const text = new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  assert.deepEqual(JSON.parse(text), { name: "Zoë 🚀" });
});

Deno.test("/_lunora/rpc treats a throwing resolveIdentity as anonymous", async () => {
  const h = harness({
    resolveIdentity: () => {
      throw new Error("bad cookie");
    },
  });
  const response = await h.fetch(jsonPost("/_lunora/rpc", envelope));
  assert.equal(response.status, 200);
  assert.equal(h.ns.calls[0]!.request.headers.get("x-lunora-userid"), null);
});

Deno.test("/_lunora/rpc forwards only the allowlisted caller headers", async () => {
  const h = harness();
  await h.fetch(
    jsonPost("/_lunora/rpc", envelope, {
      authorization: "Bearer t",
      cookie: "s=1",
      "x-lunora-mutation-id": "m1",
      "x-lunora-client-id": "c1",
      "x-lunora-client-seq": "7",
      "x-d1-bookmark": "b1",
      "x-forwarded-for": "1.2.3.4",
      "user-agent": "test",
    }),
  );
  const names = [...h.ns.calls[0]!.request.headers.keys()].sort();
  assert.deepEqual(names, [
    "authorization",
    "content-type",
    "cookie",
    "x-d1-bookmark",
    "x-lunora-client-id",
    "x-lunora-client-seq",
    "x-lunora-mutation-id",
  ]);
});

Deno.test("row 30: /_lunora/rpc answers a throwing shard with 500 INTERNAL and a generic message", async () => {
  const h = harness({}, {
    behaviour: () => Promise.reject(new Error("SQLITE_ERROR near /srv/secret")),
  });
  const response = await h.fetch(jsonPost("/_lunora/rpc", envelope));
  assert.equal(response.status, 500);
  assert.deepEqual(await response.json(), {
    error: { code: "INTERNAL", message: "Internal error" },
  });
});

Deno.test("row 31: /_lunora/rpc answers an overloaded shard with 503 and Retry-After after one call", async () => {
  const h = harness({}, { behaviour: () => Promise.reject(retryableError("overloaded")) });
  const response = await h.fetch(
    jsonPost("/_lunora/rpc", envelope, { "x-lunora-mutation-id": "m1" }),
  );
  assert.equal(response.status, 503);
  assert.ok(Number(response.headers.get("retry-after")) > 0);
  assert.equal((await response.json()).error.code, "OVERLOADED");
  assert.equal(h.ns.stubs.length, 1);
});

Deno.test("row 32: /_lunora/rpc retries a retryable shard error with a new stub when the call has a mutation id", async () => {
  let failures = 2;
  const h = harness({}, {
    behaviour: () =>
      failures-- > 0 ? Promise.reject(retryableError("retryable")) : Response.json({ result: 1 }),
  });
  const response = await h.fetch(
    jsonPost("/_lunora/rpc", envelope, { "x-lunora-mutation-id": "m1" }),
  );
  assert.equal(response.status, 200);
  assert.equal(h.ns.stubs.length, 3);
  assert.deepEqual(h.ns.calls.map((call) => call.stub), [0, 1, 2]);
});

Deno.test("row 32: /_lunora/rpc answers 503 with Retry-After after one call for a retryable error without a mutation id", async () => {
  let failures = 2;
  const h = harness({}, {
    behaviour: () =>
      failures-- > 0 ? Promise.reject(retryableError("retryable")) : Response.json({ result: 1 }),
  });
  const response = await h.fetch(jsonPost("/_lunora/rpc", envelope));
  assert.equal(response.status, 503);
  assert.ok(response.headers.has("retry-after"));
  assert.equal(h.ns.calls.length, 1);
});

Deno.test("/_lunora/rpc gives up after a bounded number of retryable failures", async () => {
  const h = harness({}, { behaviour: () => Promise.reject(retryableError("retryable")) });
  const response = await h.fetch(
    jsonPost("/_lunora/rpc", envelope, { "x-lunora-mutation-id": "m1" }),
  );
  assert.equal(response.status, 503);
  assert.equal(h.ns.calls.length, 4);
});

Deno.test("row 33: /_lunora/rpc passes a shard 500 response through without retrying", async () => {
  const h = harness({}, { behaviour: () => new Response("x", { status: 500 }) });
  const response = await h.fetch(
    jsonPost("/_lunora/rpc", envelope, { "x-lunora-mutation-id": "m1" }),
  );
  assert.equal(response.status, 500);
  assert.equal(await response.text(), "x");
  assert.equal(h.ns.calls.length, 1);
});

Deno.test("/_lunora/rpc copies an immutable shard response to add x-lunora-shard-key", async () => {
  const h = harness({}, {
    behaviour: () => {
      const response = Response.json({ result: 1 });
      Object.defineProperty(response, "headers", {
        value: new Proxy(response.headers, {
          get(target, key) {
            if (key === "set") {
              return () => {
                throw new TypeError("Can't modify immutable headers.");
              };
            }
            const value = Reflect.get(target, key);
            return typeof value === "function" ? value.bind(target) : value;
          },
        }),
      });
      return response;
    },
  });
  const response = await h.fetch(jsonPost("/_lunora/rpc", envelope));
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("x-lunora-shard-key"), "__root__");
  assert.deepEqual(await response.json(), { result: 1 });
});

Deno.test("row 41: 200 concurrent RPCs alternating two tokens each reach the shard with their own token", async () => {
  const h = harness({}, {
    behaviour: async (call) => {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
      return Response.json({ result: call.request.headers.get("authorization") });
    },
  });
  const tokens = ["Bearer A", "Bearer B"];
  const results = await Promise.all(
    Array.from({ length: 200 }, async (_, i) => {
      const token = tokens[i % 2]!;
      const response = await h.fetch(
        jsonPost("/_lunora/rpc", { functionPath: "a:b", args: { i } }, { authorization: token }),
      );
      return { token, seen: (await response.json()).result };
    }),
  );
  assert.equal(h.ns.calls.length, 200);
  for (const { token, seen } of results) assert.equal(seen, token);
  for (const call of h.ns.calls) {
    const { i } = JSON.parse(call.body).args;
    assert.equal(call.request.headers.get("authorization"), tokens[i % 2]);
  }
});
