/** Optimistic changes from browser mutations (§12, the settled detail on optimistic layers). */
import assert from "node:assert/strict";
import { loadEngine, optimistic } from "../src/client/lunora_client.ts";
import { createRegistry, type Sink } from "../src/client/subscription_registry.ts";
import type { FunctionReference } from "../src/wire/function_reference.ts";
import { fakeFetch, fakeSockets, liveClient, watch, withFakeClock } from "./_fakes.ts";

await loadEngine();

const list = { __lunoraRef: "messages:list" } as FunctionReference<
  "query",
  Record<never, never>,
  string[]
>;
const send = { __lunoraRef: "messages:send" } as FunctionReference<
  "mutation",
  { text: string },
  null
>;

Deno.test("an optimistic change shows at once and goes at the next value after the answer", async () => {
  await withFakeClock(async (clock) => {
    const fetch = fakeFetch(() => Response.json({ result: null }));
    const { client, sockets } = liveClient({ fetch });
    const $messages = client.liveQuery(list);
    const other = watch(client.liveQuery(list)); // another island showing the same query
    const seen = watch($messages);
    sockets.last().open();
    sockets.last().push({ type: "data", id: "sub_1", data: ["a"] });
    const write = client.mutation(send, { text: "b" }, {
      optimistic: optimistic($messages, (current) => [...(current ?? []), "b (sending)"]),
    });
    assert.deepEqual(seen.values.at(-1), ["a", "b (sending)"]);
    assert.deepEqual(other.values.at(-1), ["a", "b (sending)"]);
    await clock.tickAsync(0);
    await write;
    assert.deepEqual(seen.values.at(-1), ["a", "b (sending)"], "kept until the socket shows it");
    sockets.last().push({ type: "data", id: "sub_1", data: ["a", "b"] });
    assert.deepEqual(seen.values.at(-1), ["a", "b"]);
    seen.stop();
    other.stop();
    client.close();
  });
});

Deno.test("a failed write rolls its optimistic change back", async () => {
  await withFakeClock(async (clock) => {
    const fetch = fakeFetch(() => Response.json({ error: { code: "CONFLICT", message: "no" } }));
    const { client, sockets } = liveClient({ fetch });
    const $messages = client.liveQuery(list);
    const seen = watch($messages);
    sockets.last().open();
    sockets.last().push({ type: "data", id: "sub_1", data: ["a"] });
    const write = client.mutation(send, { text: "b" }, {
      optimistic: optimistic($messages, (current) => [...(current ?? []), "b"]),
    });
    assert.deepEqual(seen.values.at(-1), ["a", "b"]);
    const rejected = assert.rejects(write, { code: "CONFLICT" });
    await clock.tickAsync(0);
    await rejected;
    assert.deepEqual(seen.values.at(-1), ["a"]);
    seen.stop();
    client.close();
  });
});

Deno.test("an optimistic option that is not from optimistic() is a TypeError before any request", async () => {
  const fetch = fakeFetch();
  const { client } = liveClient({ fetch });
  await assert.rejects(
    () => client.mutation(send, { text: "b" }, { optimistic: { store: {}, update: () => 1 } }),
    /use optimistic\(store, update\)/,
  );
  assert.equal(fetch.calls.length, 0);
  client.close();
});

/** A registry with one listened query, its socket open and holding `value` at `cursor`. */
function registryWith(value: unknown, cursor: number) {
  const sockets = fakeSockets();
  const registry = createRegistry({
    socketUrl: "wss://app.test/_lunora/ws",
    WebSocket: sockets.WebSocket,
    clientId: "c1",
  });
  const shown: unknown[] = [];
  const sink: Sink = { receive: (v) => void shown.push(v), status() {}, reset() {} };
  const spec = { functionPath: "messages:list", args: {} };
  registry.attach(spec, sink);
  sockets.last().open();
  sockets.last().push({ type: "data", id: "sub_1", data: value, cursor });
  return { registry, socket: sockets.last(), shown, spec };
}

Deno.test("with a commit cursor, a layer stays until a frame at or past that cursor", () => {
  const { registry, socket, shown, spec } = registryWith(["a"], 1);
  const layer = registry.addLayer(spec, (v) => [...(v as string[]), "b?"]);
  layer.answered(5);
  socket.push({ type: "data", id: "sub_1", data: ["a", "x"], cursor: 4 });
  assert.deepEqual(shown.at(-1), ["a", "x", "b?"], "cursor 4 is before the write");
  socket.push({ type: "settled", id: "sub_1", cursor: 5 });
  assert.deepEqual(shown.at(-1), ["a", "x"]);
  registry.close();
});

Deno.test("layers roll back last-first and the others stay", () => {
  const { registry, shown, spec } = registryWith(["a"], 1);
  const first = registry.addLayer(spec, (v) => [...(v as string[]), "1"]);
  const second = registry.addLayer(spec, (v) => [...(v as string[]), "2"]);
  assert.deepEqual(shown.at(-1), ["a", "1", "2"]);
  second.failed();
  assert.deepEqual(shown.at(-1), ["a", "1"]);
  first.failed();
  assert.deepEqual(shown.at(-1), ["a"]);
  registry.close();
});
