/**
 * The example's ShardDO speaks the rest of Lunora's browser protocol (spec §12): `connect`,
 * a cursor and an epoch on every frame (kept in SQLite), `resume` for a value still current,
 * `settled` for a result a write left byte-identical, row `delta` frames for a list that
 * changed by a few rows, `data` otherwise, and a mutation's `commitCursor`. A socket that never
 * sent `connect` (the example's own island client) gets `ack`/`data`/`error` as before.
 * Run against real SQLite (`node:sqlite`) standing in for the Durable Object's storage.
 */
import assert from "node:assert/strict";
import { ShardDO } from "../examples/chat/src/shard/shard_do.ts";
import { decodeWire } from "../examples/chat/src/shard/wire.ts";
import {
  type FakeHibernatingSocket,
  shardCall,
  type ShardCaller,
  shardHeadersOf,
  sqliteDatabase,
  type SqliteShardState,
  sqliteShardState,
  withWorkerdGlobals,
} from "./_fakes.ts";

const LATEST = { functionPath: "messages:latest", args: { channelId: "general" } };
const LIST = { functionPath: "messages:list", args: { channel: "general" } };

interface Shard {
  object: ShardDO;
  state: SqliteShardState;
}

/** A ShardDO on `state` (a fresh database by default); a second one on the same state is the
 * same object woken from hibernation, on the same database a restart. */
function shard(state: SqliteShardState = sqliteShardState()): Shard {
  return { object: withWorkerdGlobals(() => new ShardDO(state, {})), state };
}

/** A socket accepted by the shard, as the worker's upgrade hands it over. */
function open({ object, state }: Shard, caller: ShardCaller = {}): FakeHibernatingSocket {
  const response = withWorkerdGlobals(() =>
    object.fetch(
      new Request("https://shard.internal/ws", {
        headers: { ...shardHeadersOf(caller), upgrade: "websocket" },
      }),
    )
  ) as Response;
  assert.equal(response.status, 101);
  return state.sockets.at(-1)!;
}

function frame({ object }: Shard, socket: FakeHibernatingSocket, value: unknown): void {
  object.webSocketMessage(socket, JSON.stringify(value));
}

/** A socket that sent `connect`, as Lunora's client does first on every open. */
function connected(target: Shard, caps: string[] = ["pageDelta"]): FakeHibernatingSocket {
  const socket = open(target);
  frame(target, socket, { type: "connect", id: "connect", clientId: "client-1", caps });
  return socket;
}

function subscribe(
  target: Shard,
  socket: FakeHibernatingSocket,
  id: string,
  query: Record<string, unknown>,
): void {
  frame(target, socket, { type: "subscribe", id, query });
}

async function post(
  { object }: Shard,
  body: string,
  caller: ShardCaller = {},
  channel = "general",
): Promise<{ id: number; commitCursor: number }> {
  const answer = await shardCall(object, "messages:send", { channel, body }, caller);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return { id: answer.body.result.id, commitCursor: answer.body.commitCursor };
}

/** What `messages:latest` answers over RPC now, still wire-encoded. */
async function latestNow({ object }: Shard): Promise<unknown[]> {
  return (await shardCall(object, LATEST.functionPath, LATEST.args)).body.result;
}

/** A connected socket holding `messages:latest`, then gone: where its value stood. */
function holdThenLeave(target: Shard): { cursor: number; epoch: string } {
  const socket = connected(target);
  subscribe(target, socket, "sub_1", LATEST);
  const { cursor, epoch } = socket.take()[1];
  socket.close(1006);
  return { cursor, epoch };
}

/** A new connected socket subscribing to `messages:latest` from `held`: the frames it gets. */
// deno-lint-ignore no-explicit-any
function resubscribe(target: Shard, held: { cursor: number; epoch: string }): any[] {
  const socket = connected(target);
  subscribe(target, socket, "sub_1", { ...LATEST, sinceSeq: held.cursor, sinceEpoch: held.epoch });
  return socket.take();
}

/** A list with `ops` merged the way Lunora's client merges rows (§12). */
// deno-lint-ignore no-explicit-any
function merged(rows: any[], ops: any[]): unknown[] {
  const list = [...rows];
  for (const { key, op, row } of ops) {
    const at = list.findIndex((existing) => existing._id === key);
    if (op === "delete") list.splice(at, 1);
    else if (at !== -1) list[at] = row;
    else list.push(row);
  }
  return list;
}

Deno.test("connect is never answered; a connected subscribe gets ack, then data with cursor and epoch", () => {
  const target = shard();
  const socket = connected(target);
  assert.deepEqual(socket.take(), []);
  subscribe(target, socket, "sub_1", LATEST);
  const [ack, data] = socket.take();
  assert.deepEqual(ack, { type: "ack", id: "sub_1" });
  assert.deepEqual(data, { type: "data", id: "sub_1", data: [], cursor: 0, epoch: data.epoch });
  assert.match(data.epoch, /^[0-9a-f-]{36}$/);
});

Deno.test("a mutation's answer carries the commitCursor its pushed frame carries", async () => {
  const target = shard();
  const socket = connected(target);
  subscribe(target, socket, "sub_1", LIST);
  socket.take();
  const first = await post(target, "one");
  const [pushed] = socket.take();
  assert.equal(first.commitCursor, 1);
  assert.equal(pushed.type, "data");
  assert.equal(pushed.cursor, 1);
  assert.equal((await post(target, "two")).commitCursor, 2);
  assert.equal(socket.take()[0].cursor, 2);
});

Deno.test("a repeated mutation id answers the first commitCursor and pushes nothing", async () => {
  const target = shard();
  const socket = connected(target);
  subscribe(target, socket, "sub_1", LIST);
  const alice = { userId: "u-alice", mutationId: "m-1" };
  const first = await post(target, "once", alice);
  socket.take();
  await post(target, "other", {}); // cursor 2
  socket.take();
  const again = await post(target, "once", alice);
  assert.deepEqual(again, first);
  assert.equal(again.commitCursor, 1);
  assert.deepEqual(socket.take(), []);
});

Deno.test("the cursor and epoch survive a restart; new storage has a new epoch", async () => {
  const db = sqliteDatabase();
  const before = shard(sqliteShardState(db));
  const early = connected(before);
  subscribe(before, early, "sub_1", LIST);
  const epoch = early.take()[1].epoch;
  await post(before, "one");
  await post(before, "two");
  const after = shard(sqliteShardState(db)); // the same storage, a new object
  assert.equal((await post(after, "three")).commitCursor, 3);
  const socket = connected(after);
  subscribe(after, socket, "sub_1", LIST);
  assert.deepEqual([socket.take()[1].cursor, socket.take().length], [3, 0]);
  const fresh = shard();
  const other = connected(fresh);
  subscribe(fresh, other, "sub_1", LIST);
  const [, data] = other.take();
  assert.notEqual(data.epoch, epoch);
  assert.equal(data.cursor, 0);
  const resumed = connected(after);
  subscribe(after, resumed, "sub_1", LIST);
  assert.equal(resumed.take()[1].epoch, epoch);
});

Deno.test("a write that leaves a subscription's result byte-identical answers settled", async () => {
  const target = shard();
  const socket = connected(target);
  subscribe(target, socket, "sub_1", { ...LIST, args: { channel: "quiet" } });
  const epoch = socket.take()[1].epoch;
  await post(target, "elsewhere");
  assert.deepEqual(socket.take(), [{ type: "settled", id: "sub_1", cursor: 1, epoch }]);
});

Deno.test("a message appended to a connected list arrives as one insert delta", async () => {
  const target = shard();
  await post(target, "first");
  await post(target, "second");
  const socket = connected(target);
  subscribe(target, socket, "sub_1", { ...LATEST, table: "messages" });
  const held = socket.take()[1].data;
  const { id } = await post(target, "third", { userId: "u-alice", name: "Alice" });
  const frames = socket.take();
  assert.equal(frames.length, 1);
  const [delta] = frames;
  assert.deepEqual(Object.keys(delta), ["type", "id", "delta", "epoch", "cursor"]);
  assert.equal(delta.type, "delta");
  assert.equal(delta.cursor, 3);
  assert.deepEqual(delta.delta.key, String(id));
  assert.equal(delta.delta.op, "insert");
  assert.equal(delta.delta.table, "messages");
  const row = decodeWire(delta.delta.row) as Record<string, unknown>;
  assert.equal(row._id, String(id));
  assert.equal(row.body, "third");
  assert.equal(row.authorName, "Alice");
  assert.ok(row.createdAt instanceof Date);
  assert.equal(row._creationTime, (row.createdAt as Date).getTime());
  assert.deepEqual(merged(held, [delta.delta]), await latestNow(target));
});

Deno.test("at the 50-row window an insert also deletes the oldest row; the cursor rides the last frame", async () => {
  const target = shard();
  for (let index = 1; index <= 50; index++) await post(target, `message ${index}`);
  const socket = connected(target);
  subscribe(target, socket, "sub_1", LATEST);
  const held = socket.take()[1].data;
  assert.equal(held.length, 50);
  await post(target, "message 51");
  const frames = socket.take();
  assert.deepEqual(frames.map((f) => [f.type, f.delta.op, f.cursor]), [
    ["delta", "delete", undefined],
    ["delta", "insert", 51],
  ]);
  assert.equal(frames[0].delta.key, held[0]._id);
  assert.equal(frames[0].delta.table, "messages:latest");
  assert.equal("row" in frames[0].delta, false);
  assert.deepEqual(merged(held, frames.map((f) => f.delta)), await latestNow(target));
});

Deno.test("a connected subscription whose result is not a list of rows gets data when it changes", async () => {
  const target = shard();
  const socket = connected(target);
  subscribe(target, socket, "sub_1", LIST);
  const epoch = socket.take()[1].epoch;
  await post(target, "hello");
  const [data] = socket.take();
  assert.deepEqual(Object.keys(data), ["type", "id", "data", "cursor", "epoch"]);
  assert.equal(data.cursor, 1);
  assert.equal(data.epoch, epoch);
  assert.equal(data.data.messages[0].body, "hello");
});

Deno.test("a list that starts empty gets its first row as data (a delta would be larger)", async () => {
  const target = shard();
  const socket = connected(target);
  subscribe(target, socket, "sub_1", LATEST);
  socket.take();
  await post(target, "hello");
  const [data] = socket.take();
  assert.equal(data.type, "data");
  assert.deepEqual(data.data, await latestNow(target));
});

Deno.test("a socket without connect gets plain data, no settled and no deltas", async () => {
  const target = shard();
  await post(target, "first");
  await post(target, "second");
  const socket = open(target);
  subscribe(target, socket, "sub_1", LATEST);
  subscribe(target, socket, "sub_2", { ...LIST, args: { channel: "quiet" } });
  const frames = socket.take();
  assert.deepEqual(frames.map((f) => Object.keys(f)), [
    ["type", "id"],
    ["type", "id", "data"],
    ["type", "id"],
    ["type", "id", "data"],
  ]);
  await post(target, "third");
  const [pushed, ...rest] = socket.take();
  assert.deepEqual(rest, []);
  assert.deepEqual(pushed, { type: "data", id: "sub_1", data: await latestNow(target) });
});

Deno.test("a subscribe holding the current value at its cursor and epoch gets resume", async () => {
  const target = shard();
  await post(target, "first");
  const held = holdThenLeave(target);
  assert.deepEqual(resubscribe(target, held), [
    { type: "ack", id: "sub_1" },
    { type: "resume", id: "sub_1", cursor: 1, epoch: held.epoch },
  ]);
});

Deno.test("a write since the held cursor that left the result unchanged still resumes", async () => {
  const target = shard();
  const held = holdThenLeave(target);
  await post(target, "elsewhere", {}, "other-channel");
  assert.deepEqual(resubscribe(target, held)[1], {
    type: "resume",
    id: "sub_1",
    cursor: 1,
    epoch: held.epoch,
  });
});

Deno.test("a write since the held cursor that changed the result means data, not resume", async () => {
  const target = shard();
  const held = holdThenLeave(target);
  await post(target, "while away");
  const [, data] = resubscribe(target, held);
  assert.equal(data.type, "data");
  assert.equal(data.cursor, 1);
  assert.equal(data.data[0].body, "while away");
});

Deno.test("another epoch, a cursor ahead of the shard, or no connect never resumes", () => {
  const target = shard();
  const first = connected(target);
  subscribe(target, first, "sub_1", LATEST);
  const { epoch } = first.take()[1];
  for (
    const since of [{ sinceSeq: 0, sinceEpoch: "old-epoch" }, { sinceSeq: 5, sinceEpoch: epoch }]
  ) {
    const socket = connected(target);
    subscribe(target, socket, "sub_1", { ...LATEST, ...since });
    assert.equal(socket.take()[1].type, "data", JSON.stringify(since));
  }
  const legacy = open(target);
  subscribe(target, legacy, "sub_1", { ...LATEST, sinceSeq: 0, sinceEpoch: epoch });
  assert.deepEqual(legacy.take()[1], { type: "data", id: "sub_1", data: [] });
});

Deno.test("resume works after a restart on the same storage", async () => {
  const db = sqliteDatabase();
  const before = shard(sqliteShardState(db));
  await post(before, "kept");
  const socket = connected(before);
  subscribe(before, socket, "sub_1", LATEST);
  const { cursor, epoch } = socket.take()[1];
  const after = shard(sqliteShardState(db));
  const again = connected(after);
  subscribe(after, again, "sub_1", { ...LATEST, sinceSeq: cursor, sinceEpoch: epoch });
  assert.deepEqual(again.take()[1], { type: "resume", id: "sub_1", cursor, epoch });
});

Deno.test("after hibernation a connected socket gets a changed list whole, an unchanged one settled", async () => {
  const state = sqliteShardState();
  const asleep = shard(state);
  await post(asleep, "first");
  await post(asleep, "second");
  const socket = connected(asleep);
  subscribe(asleep, socket, "sub_1", LATEST);
  subscribe(asleep, socket, "sub_2", { ...LIST, args: { channel: "quiet" } });
  socket.take();
  const awake = shard(state); // evicted and woken: the sockets and attachments remain
  await post(awake, "third");
  const frames = socket.take();
  assert.deepEqual(frames.map((f) => [f.type, f.id, f.cursor]), [
    ["data", "sub_1", 3],
    ["settled", "sub_2", 3],
  ]);
  await post(awake, "fourth"); // memory is back: a delta again
  assert.deepEqual(socket.take().map((f) => f.type), ["delta", "settled"]);
});

Deno.test("a bad connect or half a resume position is refused with BAD_REQUEST", () => {
  const target = shard();
  const socket = open(target);
  frame(target, socket, { type: "connect", clientId: "" });
  frame(target, socket, { type: "connect", clientId: "c", caps: "pageDelta" });
  subscribe(target, socket, "sub_1", { ...LATEST, sinceSeq: 1 });
  subscribe(target, socket, "sub_2", { ...LATEST, sinceSeq: -1, sinceEpoch: "e" });
  const codes = socket.take().map((f) => [f.type, f.id, f.error.code]);
  assert.deepEqual(codes, [
    ["error", undefined, "BAD_REQUEST"],
    ["error", undefined, "BAD_REQUEST"],
    ["error", "sub_1", "BAD_REQUEST"],
    ["error", "sub_2", "BAD_REQUEST"],
  ]);
});

Deno.test("messages:latest returns the latest 50 messages oldest first, as rows with _id and _creationTime", async () => {
  const target = shard();
  for (let index = 1; index <= 52; index++) await post(target, `m${index}`);
  const rows = decodeWire(await latestNow(target)) as Record<string, unknown>[];
  assert.equal(rows.length, 50);
  assert.deepEqual([rows[0]!.body, rows.at(-1)!.body], ["m3", "m52"]);
  for (const row of rows) {
    assert.equal(row._id, String(row.id));
    assert.equal(row._creationTime, (row.createdAt as Date).getTime());
    assert.deepEqual(Object.keys(row).sort(), [
      "_creationTime",
      "_id",
      "author",
      "authorName",
      "body",
      "createdAt",
      "id",
    ]);
  }
});
