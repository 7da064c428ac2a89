/**
 * Live stores over a scripted socket and fake timers: what an island sees (§12, threat rows
 * 62, 64, 65, 67, 68).
 */
import assert from "node:assert/strict";
import { serializePreloaded } from "../src/wire/preloaded_token.ts";
import type { FunctionReference } from "../src/wire/function_reference.ts";
import { loadEngine } from "../src/client/lunora_client.ts";
import { type FakeClock, liveClient, preloadedToken, watch, withFakeClock } from "./_fakes.ts";

await loadEngine(); // stores attach synchronously from here on, as in a page after the first

const list = { __lunoraRef: "messages:list" } as FunctionReference<
  "query",
  { channelId: string },
  { _id: string; _creationTime?: number; text: string }[] | null
>;
const seed = [{ _id: "m1", _creationTime: 1, text: "hello" }];

/** The shard drops the socket; the client's next one opens (after the first backoff step). */
async function reconnect(
  clock: FakeClock,
  sockets: { last(): { drop(): void; open(): void } },
): Promise<void> {
  sockets.last().drop();
  await clock.tickAsync(300);
  sockets.last().open();
}

function subscribes(frames: Record<string, unknown>[]) {
  return frames.filter((f) => f.type === "subscribe");
}

Deno.test("a hydrated store holds the token's value at once and opens nothing until a listener comes", async () => {
  await withFakeClock(async (clock) => {
    const { client, sockets } = liveClient();
    const store = client.hydratePreloaded(
      preloadedToken("messages:list", { channelId: "g" }, seed),
    );
    assert.deepEqual(store.value, seed);
    await clock.tickAsync(5_000);
    assert.equal(sockets.all.length, 0);
    const seen = watch(store);
    assert.deepEqual(seen.values, [seed]);
    assert.equal(sockets.all.length, 1);
    seen.stop();
    client.close();
  });
});

Deno.test("a store hydrates from the serializePreloaded text of a script tag", async () => {
  await withFakeClock(() => {
    const { client } = liveClient();
    const text = serializePreloaded(preloadedToken("messages:list", {}, [{ _id: "<b>" }], "g"));
    const store = client.hydratePreloaded<{ _id: string }[]>(text);
    assert.equal(store.value?.[0]?._id, "<b>");
    client.close();
  });
});

Deno.test("a malformed token is a TypeError before anything opens", () => {
  const { client, sockets } = liveClient();
  assert.throws(() => client.hydratePreloaded({ value: 1 } as never), TypeError);
  assert.throws(() => client.hydratePreloaded('{"__lunoraPreloaded":false}'), TypeError);
  assert.equal(sockets.all.length, 0);
  client.close();
});

Deno.test("the first listener opens the shard's socket: connect first, then the subscribe", async () => {
  await withFakeClock(() => {
    const { client, sockets } = liveClient();
    const store = client.hydratePreloaded(
      preloadedToken("messages:list", { channelId: "g" }, seed, "g"),
    );
    const seen = watch(store);
    const socket = sockets.last();
    assert.equal(socket.url, "wss://app.test/_lunora/ws?shard=g");
    socket.open();
    assert.deepEqual(socket.frames(), [
      { type: "connect", id: "connect", clientId: client.clientId, caps: ["pageDelta"] },
      {
        type: "subscribe",
        id: "sub_1",
        query: { functionPath: "messages:list", args: { channelId: "g" }, table: "messages:list" },
      },
    ]);
    seen.stop();
    client.close();
  });
});

Deno.test("liveQuery() without a seed is undefined until the first value, with wire-encoded args", async () => {
  await withFakeClock(() => {
    const { client, sockets } = liveClient({ url: "http://localhost:4321/" });
    const store = client.liveQuery({ __lunoraRef: "stats:since" }, { since: 5n });
    const seen = watch(store);
    const socket = sockets.last();
    assert.equal(socket.url, "ws://localhost:4321/_lunora/ws");
    socket.open();
    assert.deepEqual(subscribes(socket.frames())[0]!.query, {
      functionPath: "stats:since",
      args: { since: ["$lunora.wire$", "bigint", "5"] },
      table: "stats:since",
    });
    socket.push({ type: "data", id: "sub_1", data: { count: ["$lunora.wire$", "bigint", "7"] } });
    assert.deepEqual(seen.values, [undefined, { count: 7n }]);
    seen.stop();
    client.close();
  });
});

Deno.test("the subscription stays through the 1 s grace period and ends after it", async () => {
  await withFakeClock((clock) => {
    const { client, sockets } = liveClient();
    const store = client.liveQuery(list, { channelId: "g" });
    const first = watch(store);
    const socket = sockets.last();
    socket.open();
    first.stop();
    clock.tick(900);
    assert.equal(socket.frames().filter((f) => f.type === "unsubscribe").length, 0);
    const second = watch(store); // an island re-mounted by a View Transition
    clock.tick(5_000);
    assert.equal(socket.frames().filter((f) => f.type === "unsubscribe").length, 0);
    assert.equal(subscribes(socket.frames()).length, 1);
    second.stop();
    clock.tick(1_000);
    assert.deepEqual(socket.frames().at(-1), { type: "unsubscribe", id: "sub_1" });
    assert.equal(socket.closedByClient, undefined, "the socket stays open");
    client.close();
  });
});

Deno.test("a live null replaces the value", async () => {
  await withFakeClock(() => {
    const { client, sockets } = liveClient();
    const store = client.hydratePreloaded(preloadedToken("messages:list", {}, seed));
    const seen = watch(store);
    sockets.last().open();
    sockets.last().push({ type: "data", id: "sub_1", data: null });
    assert.deepEqual(seen.values, [seed, null]);
    seen.stop();
    client.close();
  });
});

Deno.test("a cold snapshot equal to the seed notifies no listener; a different one does", async () => {
  await withFakeClock(() => {
    const { client, sockets } = liveClient();
    const token = preloadedToken("messages:list", {}, [{ _id: "m1", at: new Date(5) }]);
    const store = client.hydratePreloaded(token);
    const seen = watch(store);
    const socket = sockets.last();
    socket.open();
    socket.push({
      type: "data",
      id: "sub_1",
      data: [{ _id: "m1", at: ["$lunora.wire$", "date", 5] }],
    });
    assert.equal(seen.values.length, 1);
    assert.equal(store.get(), token.value);
    socket.push({
      type: "data",
      id: "sub_1",
      data: [{ _id: "m1", at: ["$lunora.wire$", "date", 6] }],
    });
    assert.equal(seen.values.length, 2);
    seen.stop();
    client.close();
  });
});

Deno.test("errors and drops go to the status store and never clear the last good value", async () => {
  await withFakeClock(() => {
    const { client, sockets } = liveClient();
    const store = client.hydratePreloaded(preloadedToken("messages:list", {}, seed));
    const seen = watch(store);
    const status = watch(store.status);
    assert.equal(status.values.at(-1)!.state, "connecting");
    const socket = sockets.last();
    socket.open();
    assert.deepEqual(status.values.at(-1), { state: "live" });
    socket.push({ type: "error", id: "sub_1", error: { code: "FORBIDDEN", message: "No" } });
    assert.deepEqual(status.values.at(-1), {
      state: "live",
      error: { code: "FORBIDDEN", message: "No" },
    });
    socket.drop();
    assert.equal(status.values.at(-1)!.state, "reconnecting");
    assert.deepEqual(seen.values, [seed]);
    assert.deepEqual(store.get(), seed);
    seen.stop();
    status.stop();
    client.close();
  });
});

Deno.test("stores of one query share one subscription, and a late one gets the last value at once", async () => {
  await withFakeClock(() => {
    const { client, sockets } = liveClient();
    const a = watch(client.liveQuery({ __lunoraRef: "q:x" }, { b: 1, a: 2 }, { shardKey: "s" }));
    const socket = sockets.last();
    socket.open();
    socket.push({ type: "data", id: "sub_1", data: [1] });
    const b = watch(client.liveQuery({ __lunoraRef: "q:x" }, { a: 2, b: 1 }, { shardKey: "s" }));
    assert.deepEqual(b.values, [[1]]);
    assert.equal(subscribes(socket.frames()).length, 1);
    assert.equal(sockets.all.length, 1);
    socket.push({ type: "data", id: "sub_1", data: [2] });
    assert.deepEqual(a.values.at(-1), [2]);
    assert.deepEqual(b.values.at(-1), [2]);
    a.stop();
    b.stop();
    client.close();
  });
});

Deno.test("a reconnect re-sends every subscription with its same id, resuming only with cursor and value", async () => {
  await withFakeClock(async (clock) => {
    const { client, sockets } = liveClient();
    const one = watch(client.liveQuery({ __lunoraRef: "q:one" }));
    const two = watch(client.liveQuery({ __lunoraRef: "q:two" }));
    const first = sockets.last();
    first.open();
    first.push({ type: "data", id: "sub_1", data: 1, cursor: 7, epoch: "e1" });
    first.push({ type: "data", id: "sub_2", data: 2 }); // a value, no cursor
    first.drop();
    await clock.tickAsync(300);
    const second = sockets.last();
    assert.notEqual(second, first);
    second.open();
    const frames = second.frames();
    assert.equal(frames[0]!.type, "connect");
    assert.equal(frames[0]!.clientId, first.frames()[0]!.clientId);
    assert.deepEqual(subscribes(frames).map((f) => [f.id, f.query]), [
      ["sub_1", {
        functionPath: "q:one",
        args: {},
        table: "q:one",
        sinceSeq: 7,
        sinceEpoch: "e1",
      }],
      ["sub_2", { functionPath: "q:two", args: {}, table: "q:two" }],
    ]);
    one.stop();
    two.stop();
    client.close();
  });
});

Deno.test("resume and settled keep the value and advance the cursor the next resume sends", async () => {
  await withFakeClock(async (clock) => {
    const { client, sockets } = liveClient();
    const seen = watch(client.liveQuery({ __lunoraRef: "q:one" }));
    sockets.last().open();
    sockets.last().push({ type: "data", id: "sub_1", data: "v", cursor: 1, epoch: "e" });
    sockets.last().push({ type: "settled", id: "sub_1", cursor: 4 });
    sockets.last().push({ type: "resume", id: "sub_1", cursor: 9, epoch: "e2" });
    assert.deepEqual(seen.values, [undefined, "v"]);
    await reconnect(clock, sockets);
    const query = subscribes(sockets.last().frames())[0]!.query as Record<string, unknown>;
    assert.equal(query.sinceSeq, 9);
    assert.equal(query.sinceEpoch, "e2");
    seen.stop();
    client.close();
  });
});

Deno.test("an unsubscribe while the socket is down is queued and sent after the re-subscribes", async () => {
  await withFakeClock(async (clock) => {
    const { client, sockets } = liveClient();
    const kept = watch(client.liveQuery({ __lunoraRef: "q:kept" }));
    const left = watch(client.liveQuery({ __lunoraRef: "q:left" }));
    sockets.last().open();
    sockets.last().drop();
    left.stop();
    clock.tick(1_000);
    await clock.tickAsync(300);
    sockets.last().open();
    assert.deepEqual(sockets.last().frames().map((f) => [f.type, f.id]), [
      ["connect", "connect"],
      ["subscribe", "sub_1"],
      ["unsubscribe", "sub_2"],
    ]);
    kept.stop();
    client.close();
  });
});

Deno.test("delta frames merge into the held list by _id, and into the seed before any snapshot", async () => {
  await withFakeClock(() => {
    const { client, sockets } = liveClient();
    const seen = watch(client.hydratePreloaded(preloadedToken("messages:list", {}, seed)));
    const socket = sockets.last();
    socket.open();
    socket.push({
      type: "delta",
      id: "sub_1",
      delta: {
        key: "m0",
        op: "insert",
        row: { _id: "m0", _creationTime: 0, text: "first" },
        table: "messages",
      },
    });
    socket.push({
      type: "delta",
      id: "sub_1",
      delta: { key: "m1", op: "update", row: { _id: "m1", _creationTime: 1, text: "edited" } },
      cursor: 3,
    });
    assert.deepEqual(seen.values.at(-1), [
      { _id: "m0", _creationTime: 0, text: "first" },
      { _id: "m1", _creationTime: 1, text: "edited" },
    ]);
    socket.push({
      type: "delta",
      id: "sub_1",
      delta: { key: "m0", op: "delete", table: "messages" },
      cursor: 4,
    });
    assert.deepEqual(seen.values.at(-1), [{ _id: "m1", _creationTime: 1, text: "edited" }]);
    seen.stop();
    client.close();
  });
});

Deno.test("a run of delta frames shows only the list at its last frame, the one with the cursor", async () => {
  await withFakeClock(() => {
    const { client, sockets } = liveClient();
    const seen = watch(client.liveQuery({ __lunoraRef: "messages:list" }));
    const socket = sockets.last();
    socket.open();
    const rows = [{ _id: "a", _creationTime: 1 }, { _id: "b", _creationTime: 2 }];
    socket.push({ type: "data", id: "sub_1", data: rows, cursor: 2 });
    // A capped list: the newest row comes in, the oldest goes, in one run of two frames.
    socket.push({ type: "delta", id: "sub_1", delta: { key: "a", op: "delete" } });
    assert.deepEqual(seen.values.at(-1), rows, "the half-applied run is not shown");
    socket.push({
      type: "delta",
      id: "sub_1",
      delta: { key: "c", op: "insert", row: { _id: "c", _creationTime: 3 } },
      cursor: 3,
    });
    assert.deepEqual(seen.values.slice(1), [rows, [rows[1], { _id: "c", _creationTime: 3 }]]);
    seen.stop();
    client.close();
  });
});

Deno.test("a run of deltas cut by a reconnect is dropped; the re-sent subscribe resumes from the last whole run", async () => {
  await withFakeClock(async (clock) => {
    const { client, sockets } = liveClient();
    const seen = watch(client.liveQuery({ __lunoraRef: "messages:list" }));
    const first = sockets.last();
    first.open();
    const rows = [{ _id: "a", _creationTime: 1 }];
    first.push({ type: "data", id: "sub_1", data: rows, cursor: 2 });
    first.push({ type: "delta", id: "sub_1", delta: { key: "a", op: "delete" } });
    first.drop();
    await clock.tickAsync(1_000);
    const second = sockets.last();
    second.open();
    assert.equal((second.frames()[1]!.query as { sinceSeq?: number }).sinceSeq, 2);
    second.push({
      type: "delta",
      id: "sub_1",
      delta: { key: "b", op: "insert", row: { _id: "b", _creationTime: 2 } },
      cursor: 3,
    });
    assert.deepEqual(seen.values.at(-1), [...rows, { _id: "b", _creationTime: 2 }]);
    seen.stop();
    client.close();
  });
});

Deno.test("a delta that cannot merge re-subscribes the same id for a snapshot, without a cursor", async () => {
  await withFakeClock(() => {
    const { client, sockets } = liveClient();
    const seen = watch(client.liveQuery({ __lunoraRef: "messages:list" }));
    const socket = sockets.last();
    socket.open();
    socket.push({ type: "data", id: "sub_1", data: [{ _id: "a" }], cursor: 2 });
    socket.push({
      type: "delta",
      id: "sub_1",
      delta: { key: "zz", op: "update", row: { _id: "zz" } },
    });
    assert.deepEqual(seen.values.at(-1), [{ _id: "a" }], "the shown value is kept");
    assert.deepEqual(socket.frames().slice(-2), [
      { type: "unsubscribe", id: "sub_1" },
      {
        type: "subscribe",
        id: "sub_1",
        query: { functionPath: "messages:list", args: {}, table: "messages:list" },
      },
    ]);
    seen.stop();
    client.close();
  });
});

Deno.test("a frame that fails to decode is WIRE_DECODE_FAILED for that store only; value and cursor stay", async () => {
  await withFakeClock(async (clock) => {
    const { client, sockets } = liveClient();
    const bad = client.liveQuery({ __lunoraRef: "q:bad" });
    const good = client.liveQuery({ __lunoraRef: "q:good" });
    const badSeen = watch(bad);
    const goodSeen = watch(good);
    const socket = sockets.last();
    socket.open();
    socket.push({ type: "data", id: "sub_1", data: 1, cursor: 5 });
    socket.push({ type: "data", id: "sub_2", data: 2 });
    socket.push({ type: "data", id: "sub_1", data: ["$lunora.wire$", "bigint", "1x"], cursor: 6 });
    assert.equal(bad.status.get().error?.code, "WIRE_DECODE_FAILED");
    assert.equal(good.status.get().error, undefined);
    assert.deepEqual(badSeen.values, [undefined, 1]);
    await reconnect(clock, sockets);
    const resent = subscribes(sockets.last().frames())[0]!.query as Record<string, unknown>;
    assert.equal(resent.sinceSeq, 5, "the cursor did not move past the bad frame");
    badSeen.stop();
    goodSeen.stop();
    client.close();
  });
});

Deno.test("an error frame goes to its subscription, which stays registered", async () => {
  await withFakeClock(async (clock) => {
    const { client, sockets } = liveClient();
    const store = client.liveQuery({ __lunoraRef: "q:one" });
    const seen = watch(store);
    sockets.last().open();
    sockets.last().push({
      type: "error",
      id: "sub_1",
      error: { code: "ARGS_INVALID", message: "x" },
    });
    assert.equal(store.status.get().error?.code, "ARGS_INVALID");
    await reconnect(clock, sockets);
    assert.equal(subscribes(sockets.last().frames())[0]!.id, "sub_1");
    seen.stop();
    client.close();
  });
});

Deno.test("complete reports SUBSCRIPTION_CANCELLED, keeps the value and the registration", async () => {
  await withFakeClock(async (clock) => {
    const { client, sockets } = liveClient();
    const store = client.liveQuery({ __lunoraRef: "q:one" });
    const seen = watch(store);
    sockets.last().open();
    sockets.last().push({ type: "data", id: "sub_1", data: "v" });
    sockets.last().push({ type: "complete", id: "sub_1" });
    assert.equal(store.status.get().error?.code, "SUBSCRIPTION_CANCELLED");
    assert.equal(store.get(), "v");
    await reconnect(clock, sockets);
    assert.equal(subscribes(sockets.last().frames())[0]!.id, "sub_1");
    seen.stop();
    client.close();
  });
});

Deno.test("hostile frames are ignored and the shown value never becomes garbage (row 62)", async () => {
  await withFakeClock(() => {
    const { client, sockets } = liveClient();
    const store = client.hydratePreloaded(preloadedToken("messages:list", {}, seed));
    const seen = watch(store);
    const socket = sockets.last();
    socket.open();
    socket.push("lunora-pong");
    socket.push("{not json");
    socket.onmessage!({ data: new Uint8Array([1, 2, 3]) });
    socket.push({ type: "data" });
    socket.push({ type: "data", id: "sub_99", data: ["junk"] });
    socket.push({ type: 7, id: "sub_1" });
    socket.push([1, 2]);
    socket.push({ type: "data", id: "sub_1", data: [{ _id: "big", text: "x".repeat(1 << 20) }] });
    socket.push({ type: "data", id: "sub_1" });
    assert.equal(store.status.get().error?.code, "WIRE_DECODE_FAILED");
    socket.push({
      type: "delta",
      id: "sub_1",
      delta: JSON.parse('{"key":"p","op":"insert","row":{"_id":"p","__proto__":{"polluted":1}}}'),
    });
    const rows = store.get() as unknown as Record<string, unknown>[];
    assert.equal(rows.at(-1)!._id, "p");
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf(rows.at(-1)), Object.prototype);
    assert.equal(seen.values.length, 3); // the seed, the 1 MiB value, the merged insert
    seen.stop();
    client.close();
  });
});

Deno.test("50 stores over 3 shards, 10 of one query: 3 sockets, one subscription per query, one push for all 10 (row 67)", async () => {
  await withFakeClock(() => {
    const { client, sockets } = liveClient();
    const watched = [];
    for (let i = 0; i < 10; i++) {
      watched.push(watch(client.liveQuery(list, { channelId: "g" }, { shardKey: "a" })));
    }
    for (let i = 0; i < 40; i++) {
      const shardKey = ["a", "b", "c"][i % 3]!;
      watched.push(watch(client.liveQuery(list, { channelId: `c${i}` }, { shardKey })));
    }
    assert.equal(sockets.all.length, 3);
    for (const socket of sockets.all) socket.open();
    const subs = sockets.all.flatMap((s) => subscribes(s.frames()));
    assert.equal(subs.length, 41);
    assert.equal(new Set(subs.map((f) => f.id)).size, 41);
    const shardA = sockets.all.find((s) => s.url.endsWith("shard=a"))!;
    shardA.push({ type: "data", id: "sub_1", data: [{ _id: "x", text: "pushed" }] });
    for (const w of watched.slice(0, 10)) {
      assert.deepEqual(w.values.at(-1), [{ _id: "x", text: "pushed" }]);
    }
    for (const w of watched.slice(10)) assert.equal(w.values.at(-1), undefined);
    for (const w of watched) w.stop();
    client.close();
  });
});

Deno.test("soft navigation keeps the socket and the shared query; the dropped one ends after the grace period (row 68)", async () => {
  await withFakeClock((clock) => {
    const { client, sockets } = liveClient();
    const channel = watch(client.hydratePreloaded(preloadedToken("messages:list", {}, seed)));
    const sidebar = watch(client.liveQuery({ __lunoraRef: "channels:list" }));
    sockets.last().open();
    // The old page's islands unmount, the new page's mount within the same tick.
    channel.stop();
    sidebar.stop();
    const next = watch(client.liveQuery({ __lunoraRef: "channels:list" }));
    clock.tick(1_000);
    assert.equal(sockets.all.length, 1);
    assert.equal(sockets.last().closedByClient, undefined);
    const frames = sockets.last().frames();
    assert.deepEqual(frames.filter((f) => f.type === "unsubscribe"), [{
      type: "unsubscribe",
      id: "sub_1",
    }]);
    assert.equal(subscribes(frames).length, 2);
    next.stop();
    client.close();
  });
});

Deno.test("after a server restart every store reconnects with its ids and ends on the stored state (row 64)", async () => {
  await withFakeClock(async (clock) => {
    const { client, sockets } = liveClient();
    const a = watch(client.hydratePreloaded(preloadedToken("messages:list", {}, seed)));
    const b = watch(client.liveQuery({ __lunoraRef: "messages:list" }));
    sockets.last().open();
    sockets.last().push({ type: "data", id: "sub_1", data: seed, cursor: 1, epoch: "boot1" });
    sockets.last().drop(1012, "service restart");
    await clock.tickAsync(300);
    const after = sockets.last();
    after.open();
    assert.deepEqual(subscribes(after.frames()).map((f) => f.id), ["sub_1"]);
    const stored = [...seed, { _id: "m2", _creationTime: 2, text: "while down" }];
    after.push({ type: "data", id: "sub_1", data: stored, cursor: 1, epoch: "boot2" });
    assert.deepEqual(a.values.at(-1), stored);
    assert.deepEqual(b.values.at(-1), stored);
    a.stop();
    b.stop();
    client.close();
  });
});

Deno.test("resetIdentity() clears every store, reopens the sockets and drops the cursors (row 65)", async () => {
  await withFakeClock(async (clock) => {
    const { client, sockets } = liveClient();
    const token = preloadedToken("messages:list", {}, seed);
    const shown = watch(client.hydratePreloaded(token));
    const later = client.hydratePreloaded(token); // made before the switch, mounted after
    const first = sockets.last();
    first.open();
    first.push({ type: "data", id: "sub_1", data: seed, cursor: 4 });
    client.resetIdentity();
    assert.equal(shown.values.at(-1), undefined);
    assert.ok(first.closedByClient, "the old identity's socket is closed");
    await clock.tickAsync(0);
    const second = sockets.last();
    assert.notEqual(second, first);
    second.open();
    assert.deepEqual(subscribes(second.frames())[0]!.query, {
      functionPath: "messages:list",
      args: {},
      table: "messages:list",
    });
    const laterSeen = watch(later);
    assert.deepEqual(laterSeen.values, [undefined]);
    const fresh = watch(client.hydratePreloaded(preloadedToken("messages:list", {}, [])));
    assert.deepEqual(fresh.values, [[]], "a token made after the switch is the new identity's");
    second.push({ type: "data", id: "sub_1", data: [{ _id: "mine" }] });
    assert.deepEqual(shown.values.at(-1), [{ _id: "mine" }]);
    shown.stop();
    laterSeen.stop();
    fresh.stop();
    client.close();
  });
});

Deno.test("close() closes the sockets and stores keep their last value as offline", async () => {
  await withFakeClock(() => {
    const { client, sockets } = liveClient();
    const store = client.hydratePreloaded(preloadedToken("messages:list", {}, seed));
    const seen = watch(store);
    sockets.last().open();
    client.close();
    assert.ok(sockets.last().closedByClient);
    assert.equal(store.status.get().state, "offline");
    assert.deepEqual(store.get(), seed);
    seen.stop();
  });
});

Deno.test("a cursor without a value does not resume: the re-subscribe asks for a snapshot", async () => {
  await withFakeClock(async (clock) => {
    const { client, sockets } = liveClient();
    const seen = watch(client.liveQuery({ __lunoraRef: "q:one" }));
    sockets.last().open();
    sockets.last().push({ type: "settled", id: "sub_1", cursor: 3, epoch: "e" });
    await reconnect(clock, sockets);
    const query = subscribes(sockets.last().frames())[0]!.query as Record<string, unknown>;
    assert.equal("sinceSeq" in query, false);
    assert.equal("sinceEpoch" in query, false);
    seen.stop();
    client.close();
  });
});

Deno.test("a store whose socket is down while the browser reports no network is offline", async () => {
  const scope = globalThis as unknown as { navigator?: object };
  const saved = Object.getOwnPropertyDescriptor(globalThis, "navigator");
  Object.defineProperty(globalThis, "navigator", {
    value: { ...scope.navigator, onLine: false },
    configurable: true,
  });
  try {
    await withFakeClock(() => {
      const { client, sockets } = liveClient();
      const store = client.hydratePreloaded(preloadedToken("messages:list", {}, seed));
      const seen = watch(store);
      sockets.last().open();
      assert.equal(store.status.get().state, "live", "an open socket is live whatever it says");
      sockets.last().drop();
      assert.equal(store.status.get().state, "offline");
      assert.deepEqual(store.get(), seed);
      seen.stop();
      client.close();
    });
  } finally {
    if (saved) Object.defineProperty(globalThis, "navigator", saved);
    else delete scope.navigator;
  }
});
