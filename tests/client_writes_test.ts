/** Browser writes and one-shot queries through a client (§12 "Writes from the browser"). */
import assert from "node:assert/strict";
import { createLunoraClient, loadEngine } from "../src/client/lunora_client.ts";
import type { FunctionReference } from "../src/wire/function_reference.ts";
import { fakeFetch, liveClient, watch, withFakeClock } from "./_fakes.ts";

await loadEngine();

const send = { __lunoraRef: "messages:send" } as FunctionReference<
  "mutation",
  { text: string },
  { id: string }
>;

Deno.test("a mutation posts the envelope to /_lunora/rpc with its idempotency key and the client id", async () => {
  const fetch = fakeFetch(() => Response.json({ result: { id: "m9" } }));
  const client = createLunoraClient({ url: "https://api.test/base/", fetch });
  const result = await client.mutation(send, { text: "hi" }, {
    shardKey: "general",
    idempotencyKey: "form-1",
  });
  assert.deepEqual(result, { id: "m9" });
  const [call] = fetch.calls;
  assert.equal(call!.url, "https://api.test/base/_lunora/rpc");
  assert.equal(call!.method, "POST");
  assert.deepEqual(JSON.parse(call!.body), {
    args: { text: "hi" },
    functionPath: "messages:send",
    shardKey: "general",
  });
  assert.equal(call!.headers.get("x-lunora-mutation-id"), "form-1");
  assert.equal(call!.headers.get("x-lunora-client-id"), client.clientId);
  client.close();
});

Deno.test("a mutation without a key gets a fresh id per call", async () => {
  const fetch = fakeFetch(() => Response.json({ result: null }));
  const client = createLunoraClient({ url: "https://api.test", fetch });
  await client.mutation(send, { text: "a" });
  await client.mutation(send, { text: "b" });
  const ids = fetch.calls.map((c) => c.headers.get("x-lunora-mutation-id"));
  assert.match(ids[0]!, /^[0-9a-f-]{36}$/);
  assert.notEqual(ids[0], ids[1]);
  client.close();
});

Deno.test("the client id of writes is the one the client's sockets send in connect", async () => {
  await withFakeClock(async (clock) => {
    const fetch = fakeFetch(() => Response.json({ result: null }));
    const { client, sockets } = liveClient({ fetch });
    const seen = watch(client.liveQuery({ __lunoraRef: "messages:list" }));
    sockets.last().open();
    const write = client.mutation(send, { text: "x" });
    await clock.tickAsync(0);
    await write;
    assert.equal(
      fetch.calls[0]!.headers.get("x-lunora-client-id"),
      sockets.last().frames()[0]!.clientId,
    );
    seen.stop();
    client.close();
  });
});

Deno.test("queries and actions carry no mutation or client id", async () => {
  const fetch = fakeFetch(() => Response.json({ result: 1 }));
  const client = createLunoraClient({ url: "https://api.test", fetch });
  assert.equal(await client.query({ __lunoraRef: "stats:count" }), 1);
  assert.equal(await client.action({ __lunoraRef: "mail:notify" }, { to: "a" }), 1);
  for (const call of fetch.calls) {
    assert.equal(call.headers.get("x-lunora-mutation-id"), null);
    assert.equal(call.headers.get("x-lunora-client-id"), null);
  }
  client.close();
});

Deno.test("an error envelope rejects with its code, even on HTTP 200", async () => {
  const fetch = fakeFetch(() => Response.json({ error: { code: "CONFLICT", message: "Taken" } }));
  const client = createLunoraClient({ url: "https://api.test", fetch });
  await assert.rejects(() => client.mutation(send, { text: "x" }), { code: "CONFLICT" });
  client.close();
});

Deno.test("authToken is sent as a bearer token, asked for on every call", async () => {
  const fetch = fakeFetch(() => Response.json({ result: null }));
  let n = 0;
  const client = createLunoraClient({ url: "https://api.test", fetch, authToken: () => `k${++n}` });
  await client.query({ __lunoraRef: "a:b" });
  await client.query({ __lunoraRef: "a:b" });
  assert.deepEqual(fetch.calls.map((c) => c.headers.get("authorization")), [
    "Bearer k1",
    "Bearer k2",
  ]);
  client.close();
});

Deno.test("bad calls are TypeErrors before any request", async () => {
  const fetch = fakeFetch();
  const client = createLunoraClient({ url: "https://api.test", fetch });
  await assert.rejects(
    () => client.mutation({ __lunoraRef: "../x" } as typeof send, { text: "x" }),
    TypeError,
  );
  await assert.rejects(
    () => client.action({ __lunoraRef: "mail:notify" }, {}, { idempotencyKey: "k" } as never),
    /only a mutation takes "idempotencyKey"/,
  );
  await assert.rejects(() => client.query({ __lunoraRef: "a:b" }, [] as never), /plain object/);
  assert.equal(fetch.calls.length, 0);
  client.close();
});

Deno.test("createLunoraClient() refuses a URL or token it cannot use", () => {
  assert.throws(() => createLunoraClient({ url: "ftp://x.test" }), /absolute http\(s\) URL/);
  assert.throws(() => createLunoraClient({ url: "https://u:p@x.test" }), /credentials/);
  assert.throws(() => createLunoraClient({ url: "https://x.test/?a=1" }), /query or fragment/);
  assert.throws(
    () => createLunoraClient({ url: "https://x.test", wsToken: 5 as never }),
    TypeError,
  );
  assert.throws(() => createLunoraClient(), /"url" is required outside a browser page/);
});

Deno.test("liveQuery() refuses a bad reference, arguments or shard key", () => {
  const client = createLunoraClient({ url: "https://api.test" });
  assert.throws(() => client.liveQuery({ __lunoraRef: "nope" }), TypeError);
  assert.throws(() => client.liveQuery({ __lunoraRef: "a:b" }, new Map() as never), /plain object/);
  assert.throws(
    () => client.liveQuery({ __lunoraRef: "a:b" }, {}, { shardKey: 1 as never }),
    /shardKey/,
  );
  client.close();
});
