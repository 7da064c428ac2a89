import assert from "node:assert/strict";
import { applyRowOp, UNMERGEABLE } from "../src/client/delta_merge.ts";

const rows = [
  { _id: "a", _creationTime: 10, text: "a" },
  { _id: "b", _creationTime: 20, text: "b" },
  { _id: "c", _creationTime: 30, text: "c" },
];

Deno.test("an insert goes where its _creationTime orders it in an ascending list", () => {
  const row = { _id: "x", _creationTime: 25, text: "x" };
  const next = applyRowOp(rows, { key: "x", op: "insert", row, table: "messages" });
  assert.deepEqual((next as typeof rows).map((r) => r._id), ["a", "b", "x", "c"]);
});

Deno.test("an insert goes where its _creationTime orders it in a descending list", () => {
  const row = { _id: "x", _creationTime: 25, text: "x" };
  const next = applyRowOp([...rows].reverse(), { key: "x", op: "insert", row });
  assert.deepEqual((next as typeof rows).map((r) => r._id), ["c", "x", "b", "a"]);
});

Deno.test("an insert of a row without _creationTime goes at the end", () => {
  const next = applyRowOp([{ _id: "a" }, { _id: "b" }], {
    key: "x",
    op: "insert",
    row: { _id: "x" },
  });
  assert.deepEqual((next as { _id: string }[]).map((r) => r._id), ["a", "b", "x"]);
});

Deno.test("an update replaces the row with the same _id and leaves the held list untouched", () => {
  const held = rows.slice();
  const row = { _id: "b", _creationTime: 20, text: "B" };
  const next = applyRowOp(held, { key: "b", op: "update", row }) as typeof rows;
  assert.deepEqual(next[1], row);
  assert.equal(held[1]!.text, "b");
});

Deno.test("a delete removes the row with that _id", () => {
  const next = applyRowOp(rows, { key: "b", op: "delete" }) as typeof rows;
  assert.deepEqual(next.map((r) => r._id), ["a", "c"]);
});

Deno.test("under pageDelta the row operation merges into the value's page array", () => {
  const held = { page: rows, isDone: false, continueCursor: "k" };
  const next = applyRowOp(held, {
    key: "x",
    op: "insert",
    row: { _id: "x", _creationTime: 40 },
  }) as typeof held;
  assert.deepEqual(next.page.map((r) => r._id), ["a", "b", "c", "x"]);
  assert.equal(next.continueCursor, "k");
});

Deno.test("a row is wire-decoded before it is merged", () => {
  const next = applyRowOp([], {
    key: "x",
    op: "insert",
    row: { _id: "x", n: ["$lunora.wire$", "bigint", "12"] },
  }) as { n: bigint }[];
  assert.equal(next[0]!.n, 12n);
});

Deno.test("what cannot be merged exactly answers UNMERGEABLE", () => {
  assert.equal(applyRowOp(rows, { key: "zz", op: "update", row: { _id: "zz" } }), UNMERGEABLE);
  assert.equal(applyRowOp(rows, { key: "x", op: "insert" }), UNMERGEABLE);
  assert.equal(
    applyRowOp({ count: 3 }, { key: "x", op: "insert", row: { _id: "x" } }),
    UNMERGEABLE,
  );
  assert.equal(applyRowOp(undefined, { key: "x", op: "delete" }), UNMERGEABLE);
  assert.equal(applyRowOp(rows, { key: "x", op: "upsert", row: {} }), UNMERGEABLE);
  assert.equal(applyRowOp(rows, "garbage"), UNMERGEABLE);
});

Deno.test("a row with a __proto__ key merges as data and touches no prototype", () => {
  const row = JSON.parse('{"_id":"x","__proto__":{"polluted":true}}');
  const next = applyRowOp([], { key: "x", op: "insert", row }) as Record<string, unknown>[];
  assert.ok(Object.hasOwn(next[0]!, "__proto__"));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(next[0]), Object.prototype);
});
