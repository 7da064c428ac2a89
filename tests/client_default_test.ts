/**
 * The page's own client behind the top-level functions, the dev inspection hook, and the
 * types a framework adapter sees.
 */
import assert from "node:assert/strict";
import type { ReadableAtom as NanoReadableAtom } from "nanostores";
import * as entry from "../client.ts";
import type { LiveStore, ReadableAtom } from "../client.ts";
import { DEVTOOLS_KEY, type DevtoolsEntry } from "../src/client/devtools.ts";
import { loadEngine } from "../src/client/lunora_client.ts";
import type { FunctionReference } from "../src/wire/function_reference.ts";
import {
  assertType,
  type Equal,
  fakeSockets,
  liveClient,
  preloadedToken,
  watch,
  withFakeClock,
} from "./_fakes.ts";

await loadEngine();

const seed = [{ _id: "m1", text: "hello" }];

function devtools(): Set<DevtoolsEntry> {
  return (globalThis as unknown as Record<symbol, Set<DevtoolsEntry>>)[DEVTOOLS_KEY] ?? new Set();
}

Deno.test("importing the entry makes no client and opens nothing", async () => {
  const before = devtools().size;
  await import("../client.ts");
  assert.equal(devtools().size, before);
});

Deno.test("outside a browser page a store keeps its seed and opens nothing, even with listeners", async () => {
  await withFakeClock((clock) => {
    const store = entry.hydratePreloaded(preloadedToken("messages:list", {}, seed));
    const before = devtools().size;
    const seen = watch(store);
    clock.tick(60_000);
    assert.deepEqual(seen.values, [seed]);
    assert.equal(store.status.get().state, "connecting");
    assert.equal(devtools().size, before, "no page client was made");
    seen.stop();
    clock.tick(1_000);
  });
});

Deno.test("outside a browser page a write is a TypeError that names createLunoraClient", async () => {
  await assert.rejects(
    () => entry.mutation({ __lunoraRef: "messages:send" }, {}),
    /createLunoraClient\(\{ url \}\)/,
  );
});

Deno.test("each client registers in the page-global devtools set with a snapshot, and leaves it on close", async () => {
  await withFakeClock((clock) => {
    const { client, sockets } = liveClient();
    const mine = [...devtools()].at(-1)!;
    assert.deepEqual(mine.snapshot(), { url: "https://app.test", sockets: [], subscriptions: [] });
    const seen = watch(
      client.liveQuery({ __lunoraRef: "messages:list" }, { c: 1 }, { shardKey: "g" }),
    );
    sockets.last().open();
    sockets.last().push({ type: "data", id: "sub_1", data: [] });
    const snapshot = mine.snapshot();
    assert.deepEqual(snapshot.sockets, [{
      shardKey: "g",
      state: "open",
      pushes: 1,
      lastPushAt: clock.now,
    }]);
    assert.deepEqual(snapshot.subscriptions, [{
      functionPath: "messages:list",
      args: { c: 1 },
      shardKey: "g",
      state: "live",
      pushes: 1,
      lastPushAt: clock.now,
    }]);
    client.close();
    assert.ok(!devtools().has(mine));
    seen.stop();
  });
});

Deno.test("a store is a Nano Stores ReadableAtom and its value type follows the reference", () => {
  assertType<Equal<ReadableAtom<number>, NanoReadableAtom<number>>>();
  assertType<
    Equal<ReadableAtom<{ a: string[] } | undefined>, NanoReadableAtom<{ a: string[] } | undefined>>
  >();
  const list = { __lunoraRef: "messages:list" } as FunctionReference<
    "query",
    { channelId: string },
    { text: string }[]
  >;
  const client = liveClient().client;
  const store = client.liveQuery(list, { channelId: "g" });
  assertType<Equal<typeof store, LiveStore<{ text: string }[] | undefined>>>();
  const seeded = client.hydratePreloaded(preloadedToken("messages:list", {}, 5));
  assertType<Equal<typeof seeded, LiveStore<number | undefined>>>();
  // @ts-expect-error: the arguments are checked against the reference
  client.liveQuery(list, { channel: "g" });
  // @ts-expect-error: a mutation reference is not a query
  client.liveQuery({ __lunoraRef: "a:b" } as FunctionReference<"mutation">);
  const nano: NanoReadableAtom<{ text: string }[] | undefined> = store;
  assert.equal(nano, store);
  client.close();
});

Deno.test("in a browser page the page client is made on first use for location.origin", async () => {
  const sockets = fakeSockets();
  const scope = globalThis as Record<string, unknown>;
  const saved = { document: scope.document, location: scope.location, WebSocket: scope.WebSocket };
  Object.assign(scope, {
    document: {},
    location: { origin: "https://page.test" },
    WebSocket: sockets.WebSocket,
  });
  try {
    await withFakeClock(async (clock) => {
      const before = devtools().size;
      const store = entry.hydratePreloaded(preloadedToken("messages:list", {}, seed));
      assert.equal(devtools().size, before + 1);
      assert.equal([...devtools()].at(-1)!.snapshot().url, "https://page.test");
      await clock.tickAsync(0);
      const seen = watch(store);
      const again = watch(entry.liveQuery({ __lunoraRef: "messages:list" }));
      assert.equal(devtools().size, before + 1, "one page client");
      assert.equal(sockets.all.length, 1);
      assert.equal(sockets.last().url, "wss://page.test/_lunora/ws");
      sockets.last().open();
      entry.resetIdentity();
      assert.equal(seen.values.at(-1), undefined);
      seen.stop();
      again.stop();
      clock.tick(1_000);
    });
  } finally {
    Object.assign(scope, saved);
    if (saved.document === undefined) delete scope.document;
    if (saved.location === undefined) delete scope.location;
  }
});
