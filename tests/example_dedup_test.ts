/**
 * The example's ShardDO deduplicates mutations the way a Lunora shard does (spec §11): a repeat
 * of `x-lunora-mutation-id` from the same caller (the user id, else the client id) gets the
 * first answer and writes nothing; the record is written in the mutation's own transaction.
 * Run against real SQLite (`node:sqlite`) standing in for the Durable Object's storage.
 */
import assert from "node:assert/strict";
import { ShardDO } from "../examples/chat/src/shard/shard_do.ts";
import { ShardUnderTest } from "./workerd/example_under_test/entry/shard_do.ts";
import {
  shardCall as call,
  type ShardCaller as Caller,
  sqliteShardState,
  withWorkerdGlobals,
} from "./_fakes.ts";

/**
 * A fresh ShardDO on its own database; the test harness's subclass, with its planned faults,
 * when `Class` says so.
 */
function shard(Class: typeof ShardDO = ShardDO): ShardDO {
  return withWorkerdGlobals(() => new Class(sqliteShardState(), {}));
}

function send(object: ShardDO, body: string, caller: Caller) {
  return call(object, "messages:send", { channel: "c", body }, caller);
}

/** The channel's messages, oldest first, as `messages:list` shows them. */
async function rows(object: ShardDO): Promise<{ id: number; author: string; body: string }[]> {
  return (await call(object, "messages:list", { channel: "c" })).body.result.messages;
}

Deno.test("a repeated mutation id from one user gets the first answer, one row stored", async () => {
  const object = shard();
  const alice = { userId: "u-alice", mutationId: "m-1", clientId: "c-1" };
  const first = await send(object, "hello", alice);
  // Another client id of the same user, and another body: still the same mutation.
  const again = await send(object, "something else", { ...alice, clientId: "c-2" });
  assert.equal(first.status, 200);
  assert.deepEqual(again, first);
  assert.deepEqual((await rows(object)).map((row) => row.body), ["hello"]);
});

Deno.test("the same mutation id from two users is two mutations", async () => {
  const object = shard();
  await send(object, "from alice", { userId: "u-alice", mutationId: "m-1" });
  await send(object, "from bob", { userId: "u-bob", mutationId: "m-1" });
  assert.deepEqual((await rows(object)).map((row) => row.author), ["u-alice", "u-bob"]);
});

Deno.test("an anonymous caller's mutation ids are matched under its client id", async () => {
  const object = shard();
  const first = await send(object, "one", { mutationId: "m-1", clientId: "c-1" });
  const repeat = await send(object, "one", { mutationId: "m-1", clientId: "c-1" });
  const otherClient = await send(object, "one", { mutationId: "m-1", clientId: "c-2" });
  assert.deepEqual(repeat, first);
  assert.notDeepEqual(otherClient, first);
  assert.equal((await rows(object)).length, 2);
});

Deno.test("a mutation id with neither a user id nor a client id is not deduplicated", async () => {
  const object = shard();
  await send(object, "one", { mutationId: "m-1" });
  await send(object, "one", { mutationId: "m-1" });
  assert.equal((await rows(object)).length, 2);
});

Deno.test("a mutation that fails is not recorded, so the same id runs again", async () => {
  const object = shard();
  const alice = { userId: "u-alice", mutationId: "m-1" };
  const refused = await send(object, "   ", alice);
  const stored = await send(object, "now with text", alice);
  assert.equal(refused.status, 400);
  assert.equal(stored.status, 200);
  assert.deepEqual((await rows(object)).map((row) => row.body), ["now with text"]);
});

Deno.test("a retryable fault after the commit: the retry gets the stored answer", async () => {
  const object = shard(ShardUnderTest);
  const alice = { userId: "u-alice", mutationId: "fault-retry-after-commit-1" };
  await assert.rejects(send(object, "once", alice), (error: Error & { retryable?: boolean }) => {
    assert.equal(error.retryable, true);
    return true;
  });
  assert.equal((await rows(object)).length, 1, "the first attempt's write was committed");
  const retried = await send(object, "once", alice);
  assert.deepEqual(retried.body, { result: { id: (await rows(object))[0]!.id }, commitCursor: 1 });
  assert.equal((await rows(object)).length, 1);
});

Deno.test("a retryable fault before the write stores nothing until the retry", async () => {
  const object = shard(ShardUnderTest);
  const alice = { userId: "u-alice", mutationId: "fault-retry-before-write-1" };
  await assert.rejects(send(object, "once", alice), (error: Error & { retryable?: boolean }) => {
    assert.equal(error.retryable, true);
    return true;
  });
  assert.equal((await rows(object)).length, 0);
  assert.equal((await send(object, "once", alice)).status, 200);
  assert.equal((await rows(object)).length, 1);
});

Deno.test("a message keeps its author's display name from the identity's name claim", async () => {
  const object = shard();
  await send(object, "hi", { userId: "u-alice", name: "Alice" });
  await send(object, "hey", {});
  const list = await call(object, "messages:list", { channel: "c" });
  const authors = list.body.result.messages.map((m: { author: string; authorName: string }) => [
    m.author,
    m.authorName,
  ]);
  assert.deepEqual(authors, [["u-alice", "Alice"], ["anonymous", "anonymous"]]);
});

Deno.test("the example's own shard has none of the test harness's functions", async () => {
  const answer = await call(shard(), "probes:rows", { channel: "c" });
  assert.equal(answer.status, 404);
  assert.equal(answer.body.error.code, "NOT_FOUND");
});

Deno.test("a subclass's function table serves its functions next to the app's", async () => {
  const object = shard(ShardUnderTest);
  await send(object, "hello", {});
  const probed = await call(object, "probes:rows", { channel: "c" });
  assert.deepEqual(probed.body.result.rows.map((row: { body: string }) => row.body), ["hello"]);
});
