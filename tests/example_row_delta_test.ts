/**
 * The example shard's row deltas (spec §12): the ops that turn the list a subscriber holds into
 * the new one, keyed by `_id`, only when a Lunora client's merge rebuilds the new list exactly
 * and the ops are smaller than the list; a `page` array too, for a `pageDelta` client.
 */
import assert from "node:assert/strict";
import { mergeRows, rowDelta } from "../examples/chat/src/shard/row_delta.ts";

const text = "a message long enough that a row weighs more than the op around it";

function row(id: number, extra: Record<string, unknown> = {}) {
  return { _id: String(id), _creationTime: 1_000 + id, body: `${text} ${id}`, ...extra };
}

const rows = [row(1), row(2), row(3)];

Deno.test("rowDelta() turns an appended row into one insert", () => {
  const after = [...rows, row(4)];
  assert.deepEqual(rowDelta(rows, after, "messages", false), [
    { key: "4", op: "insert", row: row(4), table: "messages" },
  ]);
});

Deno.test("rowDelta() turns a row changed in place into an update", () => {
  const after = [row(1), row(2, { body: "edited" }), row(3)];
  const ops = rowDelta(rows, after, "messages", false);
  assert.deepEqual(ops, [{ key: "2", op: "update", row: after[1], table: "messages" }]);
  assert.deepEqual(mergeRows(rows, ops!), after);
});

Deno.test("rowDelta() turns a sliding window into a delete and an insert", () => {
  const ops = rowDelta(rows, [row(2), row(3), row(4)], "t", false);
  assert.deepEqual(ops?.map((op) => [op.op, op.key]), [["delete", "1"], ["insert", "4"]]);
});

Deno.test("rowDelta() places an insert by _creationTime, as the client does", () => {
  const after = [row(1), row(2), row(3)];
  const ops = rowDelta([row(1), row(3)], after, "t", false);
  assert.deepEqual(ops, [{ key: "2", op: "insert", row: row(2), table: "t" }]);
  assert.deepEqual(mergeRows([row(1), row(3)], ops!), after);
});

Deno.test("rowDelta() gives no delta for rows that moved, which a merge cannot rebuild", () => {
  assert.equal(rowDelta(rows, [row(3), row(1), row(2)], "t", false), null);
});

Deno.test("rowDelta() gives no delta when the ops would be larger than the list", () => {
  assert.equal(rowDelta([], [row(1)], "t", false), null);
  assert.equal(rowDelta(rows, [row(7), row(8), row(9)], "t", false), null);
});

Deno.test("rowDelta() gives no delta for values that are not lists of rows with distinct _id", () => {
  assert.equal(rowDelta({ a: 1 }, { a: 2 }, "t", false), null);
  assert.equal(rowDelta([1, 2], [1, 2, 3], "t", false), null);
  assert.equal(rowDelta([{ id: 1 }], [{ id: 1 }, { id: 2 }], "t", false), null);
  assert.equal(rowDelta(rows, [...rows, row(3)], "t", false), null);
});

Deno.test("with pageDelta, a page array that changed by rows gets deltas", () => {
  const before = { page: rows, isDone: false, continueCursor: "c1" };
  const after = { page: [...rows, row(4)], isDone: false, continueCursor: "c1" };
  assert.deepEqual(rowDelta(before, after, "t", true), [
    { key: "4", op: "insert", row: row(4), table: "t" },
  ]);
});

Deno.test("without pageDelta, or when more than the page changed, an object gets no delta", () => {
  const before = { page: rows, isDone: false };
  assert.equal(rowDelta(before, { page: [...rows, row(4)], isDone: false }, "t", false), null);
  assert.equal(rowDelta(before, { page: [...rows, row(4)], isDone: true }, "t", true), null);
});
