import assert from "node:assert/strict";
import { harness, ORIGIN, UpgradeResponse } from "./_fakes.ts";

function upgrade(path = "/_lunora/ws", headers: Record<string, string> = {}): Request {
  return new Request(`${ORIGIN}${path}`, { headers: { upgrade: "websocket", ...headers } });
}

const upgraded = () => new UpgradeResponse(null);

Deno.test("row 19: /_lunora/ws answers a request without Upgrade: websocket with 426", async () => {
  const h = harness({}, { behaviour: upgraded });
  const response = await h.fetch(new Request(`${ORIGIN}/_lunora/ws`));
  assert.equal(response.status, 426);
  assert.equal((await response.json()).error.code, "UPGRADE_REQUIRED");
  assert.equal(h.ns.calls.length, 0);
});

Deno.test("row 20: /_lunora/ws forwards an upgrade spelled Upgrade: WebSocket", async () => {
  const h = harness({}, { behaviour: upgraded });
  const response = await h.fetch(upgrade("/_lunora/ws", { upgrade: "WebSocket" }));
  assert.equal(response.status, 101);
  assert.equal(h.ns.calls.length, 1);
});

Deno.test("row 21: /_lunora/ws returns the very Response object the shard returned for a 101", async () => {
  const answer = new UpgradeResponse(null);
  const h = harness({}, { behaviour: () => answer });
  const response = await h.fetch(upgrade());
  assert.equal(response, answer);
  assert.equal(response.headers.get("x-content-type-options"), null);
});

Deno.test("row 18: /_lunora/ws refuses a cross-site cookie upgrade with 403 and never wakes the shard", async () => {
  const h = harness({}, { behaviour: upgraded });
  const response = await h.fetch(
    upgrade("/_lunora/ws", { cookie: "session=1", origin: "https://evil.test" }),
  );
  assert.equal(response.status, 403);
  assert.equal((await response.json()).error.code, "FORBIDDEN_ORIGIN");
  assert.equal(h.ns.calls.length, 0);
  assert.equal(h.ns.stubs.length, 0);
});

Deno.test("/_lunora/ws accepts a same-origin cookie upgrade", async () => {
  const h = harness({}, { behaviour: upgraded });
  const response = await h.fetch(upgrade("/_lunora/ws", { cookie: "session=1", origin: ORIGIN }));
  assert.equal(response.status, 101);
});

Deno.test("/_lunora/ws connects to the default shard when ?shard is absent", async () => {
  const h = harness({}, { behaviour: upgraded });
  await h.fetch(upgrade());
  assert.equal(h.ns.calls[0]!.shardKey, "__root__");
});

Deno.test("/_lunora/ws applies the tenant gate to ?shard", async () => {
  const h = harness({}, { behaviour: upgraded });
  const response = await h.fetch(upgrade("/_lunora/ws?shard=tenant-b"));
  assert.equal(response.status, 403);
  assert.equal((await response.json()).error.code, "FORBIDDEN_SHARD");
  assert.equal(h.ns.stubs.length, 0);
});

Deno.test("/_lunora/ws connects to ?shard when authorizeShard grants it", async () => {
  const h = harness({ authorizeShard: ({ shardKey }) => shardKey === "general" }, {
    behaviour: upgraded,
  });
  const response = await h.fetch(upgrade("/_lunora/ws?shard=general"));
  assert.equal(response.status, 101);
  assert.equal(h.ns.calls[0]!.shardKey, "general");
});

Deno.test("/_lunora/ws strips every client x-lunora-* header and sets the server identity", async () => {
  const h = harness({ resolveIdentity: () => ({ userId: "u1", role: "r" }) }, {
    behaviour: upgraded,
  });
  await h.fetch(
    upgrade("/_lunora/ws", {
      "x-lunora-userid": "forged",
      "x-lunora-system": "1",
      "x-lunora-anything": "x",
      "sec-websocket-key": "k",
    }),
  );
  const headers = h.ns.calls[0]!.request.headers;
  assert.equal(headers.get("x-lunora-userid"), "u1");
  assert.ok(headers.get("x-lunora-identity"));
  assert.equal(headers.get("x-lunora-system"), null);
  assert.equal(headers.get("x-lunora-anything"), null);
  assert.equal(headers.get("sec-websocket-key"), "k");
  assert.equal(headers.get("upgrade"), "websocket");
  assert.equal(h.ns.calls[0]!.request.url, `${ORIGIN}/_lunora/ws`);
});

Deno.test("/_lunora/ws answers a POST with 405", async () => {
  const h = harness({}, { behaviour: upgraded });
  const response = await h.fetch(
    new Request(`${ORIGIN}/_lunora/ws`, { method: "POST", headers: { upgrade: "websocket" } }),
  );
  assert.equal(response.status, 405);
});

Deno.test("/_lunora/ws answers a throwing shard with 500 INTERNAL", async () => {
  const h = harness({}, { behaviour: () => Promise.reject(new Error("boom")) });
  const response = await h.fetch(upgrade());
  assert.equal(response.status, 500);
  assert.equal((await response.json()).error.code, "INTERNAL");
});
