import assert from "node:assert/strict";
import { harness, jsonPost } from "./_fakes.ts";

const call = (id: unknown, functionPath = "messages:list", extra: object = {}) => ({
  id,
  functionPath,
  args: { id },
  ...extra,
});

Deno.test("rpc-batch answers each call with {id, status, body} in the order of calls", async () => {
  const h = harness({ allowUnauthenticatedShardAccess: true });
  const response = await h.fetch(
    jsonPost("/_lunora/rpc-batch", {
      calls: [call("a"), call("b", "x:y", { shardKey: "s2" }), call("c")],
    }),
  );
  assert.equal(response.status, 200);
  const { results } = await response.json();
  assert.deepEqual(results.map((r: { id: string }) => r.id), ["a", "b", "c"]);
  assert.deepEqual(results[1], {
    id: "b",
    status: 200,
    body: { result: { args: { id: "b" }, functionPath: "x:y" } },
  });
  assert.equal(h.ns.calls.length, 3);
});

Deno.test("rpc-batch gives an invalid call its own 400 slot without failing the others", async () => {
  const h = harness();
  const response = await h.fetch(
    jsonPost("/_lunora/rpc-batch", {
      calls: [call(1), { id: 2, functionPath: "../x:y" }, call(3)],
    }),
  );
  const { results } = await response.json();
  assert.deepEqual(results.map((r: { status: number }) => r.status), [200, 400, 200]);
  assert.equal(results[1].body.error.code, "BAD_REQUEST");
  assert.equal(h.ns.calls.length, 2);
});

Deno.test("rpc-batch applies the tenant gate per call", async () => {
  const h = harness();
  const response = await h.fetch(
    jsonPost("/_lunora/rpc-batch", { calls: [call(1), call(2, "a:b", { shardKey: "t" })] }),
  );
  const { results } = await response.json();
  assert.deepEqual(results.map((r: { status: number }) => r.status), [200, 403]);
  assert.equal(results[1].body.error.code, "FORBIDDEN_SHARD");
});

Deno.test("rpc-batch answers more than 500 calls with 400 BATCH_TOO_LARGE and no shard call", async () => {
  const h = harness();
  const response = await h.fetch(
    jsonPost("/_lunora/rpc-batch", { calls: Array.from({ length: 501 }, (_, i) => call(i)) }),
  );
  assert.equal(response.status, 400);
  assert.equal((await response.json()).error.code, "BATCH_TOO_LARGE");
  assert.equal(h.ns.calls.length, 0);
});

Deno.test("rpc-batch accepts exactly 500 calls", async () => {
  const h = harness();
  const response = await h.fetch(
    jsonPost("/_lunora/rpc-batch", { calls: Array.from({ length: 500 }, (_, i) => call(i)) }),
  );
  assert.equal((await response.json()).results.length, 500);
});

Deno.test("rpc-batch answers a body without a calls array with 400", async () => {
  const h = harness();
  for (const body of [{}, { calls: {} }, [], null]) {
    const response = await h.fetch(jsonPost("/_lunora/rpc-batch", JSON.stringify(body)));
    assert.equal(response.status, 400);
  }
});

Deno.test("rpc-batch runs calls to different shards in parallel and calls to one shard in order", async () => {
  const log: string[] = [];
  const h = harness({ allowUnauthenticatedShardAccess: true }, {
    behaviour: async (c) => {
      const { id } = JSON.parse(c.body).args;
      log.push(`start ${id}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      log.push(`end ${id}`);
      return Response.json({ result: id });
    },
  });
  await h.fetch(
    jsonPost("/_lunora/rpc-batch", {
      calls: [
        call("a1", "m:f", { shardKey: "a" }),
        call("a2", "m:f", { shardKey: "a" }),
        call("b1", "m:f", { shardKey: "b" }),
      ],
    }),
  );
  assert.ok(log.indexOf("start b1") < log.indexOf("end a1"), log.join(","));
  assert.ok(log.indexOf("end a1") < log.indexOf("start a2"), log.join(","));
});

Deno.test("rpc-batch reports a shard error in that call's slot", async () => {
  let n = 0;
  const h = harness({}, {
    behaviour: () => n++ === 0 ? Promise.reject(new Error("secret")) : Response.json({ result: 1 }),
  });
  const response = await h.fetch(jsonPost("/_lunora/rpc-batch", { calls: [call(1), call(2)] }));
  const { results } = await response.json();
  assert.deepEqual(results[0], {
    id: 1,
    status: 500,
    body: { error: { code: "INTERNAL", message: "Internal error" } },
  });
  assert.equal(results[1].status, 200);
});
