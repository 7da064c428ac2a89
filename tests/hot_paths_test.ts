/**
 * Behaviour the performance work (see BENCHMARKS.md) must not change: the codec's `for...in`
 * walk, the memoized identity header, the CSRF fast path for an exact same-origin `Origin`, the
 * lazily parsed URL of the reserved plane, and in-process transports held by their key objects
 * where neither reflection nor a copy can reach them.
 */
import assert from "node:assert/strict";
import { getRequestScope, REGISTRY_KEY, setRequestScope } from "../src/in_process_registry.ts";
import { decodeWire, encodeWire } from "../src/wire/codec.ts";
import { harness, jsonPost, ORIGIN, scopeOf } from "./_fakes.ts";

const TAG = "$lunora.wire$";

/** Runs `fn` while `Object.prototype` carries an enumerable key, then removes it. */
function withPollutedPrototype(fn: () => void): void {
  Object.defineProperty(Object.prototype, "injected", {
    value: "from the prototype",
    enumerable: true,
    configurable: true,
    writable: true,
  });
  try {
    fn();
  } finally {
    delete (Object.prototype as Record<string, unknown>).injected;
  }
}

Deno.test("encodeWire() and decodeWire() ignore enumerable keys added to Object.prototype", () => {
  withPollutedPrototype(() => {
    const pure = { a: 1, nested: { b: "x" } };
    assert.equal(encodeWire(pure), pure);
    const encoded = encodeWire({ a: 1, at: new Date(0) }) as Record<string, unknown>;
    assert.deepEqual(Object.keys(encoded), ["a", "at"]);
    const decoded = decodeWire({ a: 1, n: [TAG, "bigint", "2"] }) as Record<string, unknown>;
    assert.deepEqual(Object.keys(decoded), ["a", "n"]);
    assert.equal(decoded.n, 2n);
  });
});

Deno.test("encodeWire() copies an object with a tagged field in its key order, dropping undefined", () => {
  const value = { first: 1, skipped: undefined, at: new Date(5), last: "z" };
  const encoded = encodeWire(value) as Record<string, unknown>;
  assert.deepEqual(Object.entries(encoded), [
    ["first", 1],
    ["at", [TAG, "date", 5]],
    ["last", "z"],
  ]);
  assert.ok("skipped" in value, "the input is not modified");
});

Deno.test("decodeWire() keeps a __proto__ field before a tagged one as an own data property", () => {
  const input = JSON.parse(`{"__proto__":{"isAdmin":true},"n":["${TAG}","bigint","7"]}`);
  const decoded = decodeWire(input) as Record<string, unknown>;
  assert.deepEqual(Object.keys(decoded), ["__proto__", "n"]);
  assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
  assert.equal((decoded as { isAdmin?: unknown }).isAdmin, undefined);
  assert.equal(decoded.n, 7n);
});

Deno.test("withLunora() sends each request's own claims when two identities alternate", async () => {
  const { fetch, ns } = harness({
    resolveIdentity: (request) => ({
      userId: request.headers.get("authorization") ?? "none",
      role: request.headers.get("authorization") === "a" ? "admin" : "reader",
    }),
  });
  for (const user of ["a", "b", "a", "b"]) {
    const response = await fetch(
      jsonPost("/_lunora/rpc", { functionPath: "m:f" }, { authorization: user }),
    );
    assert.equal(response.status, 200);
  }
  const sent = ns.calls.map((call) => call.request.headers.get("x-lunora-identity"));
  const claims = sent.map((value) => JSON.parse(atob(value!.replaceAll("-", "+"))));
  assert.deepEqual(claims.map((c) => c.role), ["admin", "reader", "admin", "reader"]);
});

Deno.test("withLunora() accepts a cookie-bearing RPC whose Origin is exactly its own origin", async () => {
  const { fetch, ns } = harness();
  const response = await fetch(
    jsonPost("/_lunora/rpc", { functionPath: "m:f" }, { cookie: "s=1", origin: ORIGIN }),
  );
  assert.equal(response.status, 200);
  assert.equal(ns.calls.length, 1);
});

Deno.test("withLunora() refuses a cookie-bearing RPC whose Origin only starts like its own", async () => {
  const { fetch, ns } = harness();
  for (const origin of [`${ORIGIN}.evil.test`, `${ORIGIN}:8443`, "http://app.test"]) {
    const response = await fetch(
      jsonPost("/_lunora/rpc", { functionPath: "m:f" }, { cookie: "s=1", origin }),
    );
    assert.equal(response.status, 403, origin);
  }
  assert.equal(ns.calls.length, 0);
});

Deno.test("withLunora() still reads the WebSocket shard from the query string", async () => {
  const { fetch, ns } = harness({ allowUnauthenticatedShardAccess: true });
  await fetch(
    new Request(`${ORIGIN}/_lunora/ws?shard=room-1`, { headers: { upgrade: "websocket" } }),
  );
  assert.deepEqual(ns.stubs, ["room-1"]);
});

Deno.test("setRequestScope() leaves no enumerable key on the objects it registers under", () => {
  const ctx = { waitUntil() {} };
  const request = new Request(`${ORIGIN}/page`);
  setRequestScope([request, ctx], scopeOf(() => Promise.resolve(new Response("ok"))));
  assert.deepEqual(Object.keys(ctx), ["waitUntil"]);
  assert.deepEqual(Object.keys({ ...ctx }), ["waitUntil"]);
  assert.equal(getRequestScope({ ...ctx }), undefined, "a copy does not carry it");
  assert.equal(typeof getRequestScope(request), "object");
});

Deno.test("setRequestScope() leaves not even a symbol key for reflection to find", () => {
  const ctx = { waitUntil() {} };
  const request = new Request(`${ORIGIN}/page`);
  const requestKeys = Reflect.ownKeys(request);
  setRequestScope([request, ctx], scopeOf(() => Promise.resolve(new Response("ok"))));
  assert.deepEqual(Reflect.ownKeys(ctx), ["waitUntil"]);
  assert.deepEqual(Reflect.ownKeys(request), requestKeys);
  assert.equal(
    getRequestScope(Object.assign({}, ctx)),
    undefined,
    "a copy does not carry it",
  );
});

Deno.test("registering again under the same key replaces its transport", async () => {
  const ctx = { waitUntil() {} };
  setRequestScope([ctx], scopeOf(() => Promise.resolve(new Response("first"))));
  setRequestScope([ctx], scopeOf(() => Promise.resolve(new Response("second"))));
  assert.equal(await (await getRequestScope(ctx)!.run("{}", { kind: "query" })).text(), "second");
});

Deno.test("setRequestScope() still registers under a frozen context", async () => {
  const ctx = Object.freeze({ waitUntil() {} });
  setRequestScope([ctx], scopeOf(() => Promise.resolve(new Response("frozen"))));
  assert.equal(await (await getRequestScope(ctx)!.run("{}", { kind: "query" })).text(), "frozen");
});

Deno.test("getRequestScope() finds nothing through a prototype that holds a transport", () => {
  const parent = { waitUntil() {} };
  setRequestScope([parent], scopeOf(() => Promise.resolve(new Response("parent"))));
  assert.equal(typeof getRequestScope(parent), "object");
  assert.equal(getRequestScope(Object.create(parent)), undefined);
});

Deno.test("the shared registry's key names the version of the transport contract", () => {
  assert.equal(REGISTRY_KEY, Symbol.for("@lunora/astro/in-process-rpc/registry@3"));
});
