import assert from "node:assert/strict";
import { withLunora } from "../mod.ts";
import { fakeCtx, fakeNamespace, harness, hostSpy, jsonPost, ORIGIN } from "./_fakes.ts";

const TOKEN = "s3cret-admin-token";
const envelope = { functionPath: "ops:compact", args: {}, shardKey: "tenant-b" };

function adminRpc(headers: Record<string, string> = {}, path = "/_lunora/admin/rpc"): Request {
  return jsonPost(path, envelope, headers);
}

async function denial(response: Response): Promise<string> {
  assert.equal(response.status, 403);
  return await response.text();
}

Deno.test("row 24: admin answers a missing, wrong or different-length token with identical 403 ADMIN_FORBIDDEN bodies", async () => {
  const h = harness({ adminToken: TOKEN });
  const bodies = [
    await denial(await h.fetch(adminRpc())),
    await denial(await h.fetch(adminRpc({ authorization: "Bearer x" }))),
    await denial(await h.fetch(adminRpc({ authorization: `Bearer ${TOKEN}-longer` }))),
    await denial(await h.fetch(adminRpc({ authorization: TOKEN }))),
  ];
  assert.equal(JSON.parse(bodies[0]!).error.code, "ADMIN_FORBIDDEN");
  assert.equal(new Set(bodies).size, 1);
  assert.equal(h.ns.calls.length, 0);
});

Deno.test("row 25: admin denies every request when no token is configured", async () => {
  const h = harness();
  for (const authorization of ["Bearer ", "Bearer undefined", "Bearer null"]) {
    await denial(await h.fetch(adminRpc({ authorization })));
  }
  await denial(await h.fetch(adminRpc()));
  assert.equal(h.ns.calls.length, 0);
});

Deno.test("row 26: admin ignores a right token in the query string", async () => {
  const h = harness({ adminToken: TOKEN });
  await denial(await h.fetch(adminRpc({}, `/_lunora/admin/rpc?token=${TOKEN}`)));
  await denial(await h.fetch(adminRpc({}, `/_lunora/admin/rpc?authorization=Bearer%20${TOKEN}`)));
});

Deno.test("admin rpc runs a function on any shard as the system with the right bearer token", async () => {
  const h = harness({ adminToken: TOKEN });
  const response = await h.fetch(
    adminRpc({ authorization: `Bearer ${TOKEN}`, "x-lunora-system": "forged" }),
  );
  assert.equal(response.status, 200);
  const call = h.ns.calls[0]!;
  assert.equal(call.shardKey, "tenant-b");
  assert.equal(call.request.headers.get("x-lunora-system"), "1");
  assert.equal(call.body, '{"args":{},"functionPath":"ops:compact"}');
});

Deno.test("admin reads the token from env.LUNORA_ADMIN_TOKEN when adminToken is not set", async () => {
  const ns = fakeNamespace();
  const worker = withLunora(hostSpy(), (env: { SHARD: typeof ns }) => ({ shardDO: env.SHARD }));
  const env = { SHARD: ns, LUNORA_ADMIN_TOKEN: TOKEN };
  const ok = await worker.fetch(adminRpc({ authorization: `Bearer ${TOKEN}` }), env, fakeCtx());
  assert.equal(ok.status, 200);
  const denied = await worker.fetch(adminRpc({ authorization: "Bearer nope" }), env, fakeCtx());
  assert.equal(denied.status, 403);
});

Deno.test("admin strips client x-lunora-system from ordinary RPCs", async () => {
  const h = harness({ adminToken: TOKEN });
  await h.fetch(jsonPost("/_lunora/rpc", { functionPath: "a:b" }, { "x-lunora-system": "1" }));
  assert.equal(h.ns.calls[0]!.request.headers.get("x-lunora-system"), null);
});

Deno.test("admin grants access when adminGate resolves to exactly true", async () => {
  const answers: unknown[] = [Promise.resolve(true), "true", 1];
  const h = harness({ adminGate: () => answers.shift() as boolean });
  assert.equal((await h.fetch(adminRpc())).status, 200);
  assert.equal((await h.fetch(adminRpc())).status, 403);
  assert.equal((await h.fetch(adminRpc())).status, 403);
});

Deno.test("admin denies access when adminGate throws", async () => {
  const h = harness({
    adminGate: () => {
      throw new Error("gate down");
    },
  });
  assert.equal((await h.fetch(adminRpc())).status, 403);
});

Deno.test("admin serves adminRoutes behind the gate with METHOD keys taking precedence", async () => {
  const h = harness({
    adminToken: TOKEN,
    adminRoutes: {
      "/_lunora/admin/stats": () => new Response("any"),
      "GET /_lunora/admin/stats": (_request, env) => new Response(`get:${env === h.env}`),
    },
  });
  const auth = { authorization: `Bearer ${TOKEN}` };
  const get = await h.fetch(new Request(`${ORIGIN}/_lunora/admin/stats`, { headers: auth }));
  const del = await h.fetch(
    new Request(`${ORIGIN}/_lunora/admin/stats`, { method: "DELETE", headers: auth }),
  );
  assert.equal(await get.text(), "get:true");
  assert.equal(await del.text(), "any");
  const denied = await h.fetch(new Request(`${ORIGIN}/_lunora/admin/stats`));
  assert.equal(denied.status, 403);
});

Deno.test("admin answers 404 for an admin path with no route once access is granted", async () => {
  const h = harness({ adminToken: TOKEN });
  const response = await h.fetch(
    new Request(`${ORIGIN}/_lunora/admin/missing`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    }),
  );
  assert.equal(response.status, 404);
});

Deno.test("admin answers 403, not 404, for an unknown admin path without access", async () => {
  const h = harness({ adminToken: TOKEN });
  const response = await h.fetch(new Request(`${ORIGIN}/_lunora/admin/missing`));
  assert.equal(response.status, 403);
});
