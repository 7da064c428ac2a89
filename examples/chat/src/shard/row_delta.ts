/**
 * Row deltas (spec §12): when a list a subscriber holds changed by a few rows, the shard sends
 * those rows (`{key, op, row?, table}`, keyed by `_id`) instead of the whole list. A client
 * merges them the way Lunora's does: an update or a delete finds its row by `_id`; an insert
 * goes where its `_creationTime` orders it (the list oldest-first), else at the end. The shard
 * sends a delta only when that merge rebuilds the new list exactly, and only when it is
 * smaller than the list; otherwise the subscriber gets the whole value.
 *
 * Both values are wire-encoded (`wire.ts`): plain JSON, compared as text.
 */

/** One row change, as a `delta` frame carries it. */
export interface RowOp {
  /** The row's `_id`. */
  key: string;
  op: "insert" | "update" | "delete";
  /** The row as it is now (absent on a delete). */
  row?: Row;
  /** The table the row belongs to (the subscription's `query.table`). */
  table: string;
}

type Row = Record<string, unknown> & { _id: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The list as rows with distinct string `_id`s, or `null`. */
function rowsOf(list: unknown[]): Row[] | null {
  const ids = new Set<string>();
  for (const row of list) {
    if (!isObject(row) || typeof row._id !== "string" || ids.has(row._id)) {
      return null;
    }
    ids.add(row._id);
  }
  return list as Row[];
}

/**
 * The two lists to compare: the values themselves when both are arrays, or, for a client
 * with the `pageDelta` capability, their `page` arrays when nothing else in them differs.
 */
function listsOf(
  before: unknown,
  after: unknown,
  pageDelta: boolean,
): [unknown[], unknown[]] | null {
  if (Array.isArray(before) && Array.isArray(after)) return [before, after];
  if (!pageDelta || !isObject(before) || !isObject(after)) return null;
  const { page: pageBefore, ...restBefore } = before;
  const { page: pageAfter, ...restAfter } = after;
  if (!Array.isArray(pageBefore) || !Array.isArray(pageAfter)) return null;
  return JSON.stringify(restBefore) === JSON.stringify(restAfter) ? [pageBefore, pageAfter] : null;
}

/** Applies `ops` to `rows` as a Lunora client merges them. */
export function mergeRows(rows: readonly Row[], ops: readonly RowOp[]): Row[] {
  const merged = [...rows];
  for (const { key, op, row } of ops) {
    const index = merged.findIndex((existing) => existing._id === key);
    if (op === "delete") {
      if (index !== -1) merged.splice(index, 1);
    } else if (row !== undefined && index !== -1) {
      merged[index] = row;
    } else if (row !== undefined) {
      const time = row._creationTime;
      const at = typeof time !== "number"
        ? -1
        : merged.findIndex((existing) =>
          typeof existing._creationTime === "number" &&
          existing._creationTime > time
        );
      merged.splice(at === -1 ? merged.length : at, 0, row);
    }
  }
  return merged;
}

/**
 * The row ops that turn `before` into `after` (both wire-encoded), or `null` when the values
 * are not lists of rows with `_id`, when merging the ops would not give `after` exactly
 * (e.g. rows moved), or when the ops are not smaller than `after` itself.
 *
 * @param before The value the subscriber holds.
 * @param after The value it should hold now.
 * @param table The `table` each op names.
 * @param pageDelta Whether the client merges into an object's `page` array too.
 */
export function rowDelta(
  before: unknown,
  after: unknown,
  table: string,
  pageDelta: boolean,
): RowOp[] | null {
  const lists = listsOf(before, after, pageDelta);
  if (lists === null) return null;
  const [rowsBefore, rowsAfter] = [rowsOf(lists[0]), rowsOf(lists[1])];
  if (rowsBefore === null || rowsAfter === null) return null;
  const held = new Map(rowsBefore.map((row) => [row._id, JSON.stringify(row)]));
  const kept = new Set(rowsAfter.map((row) => row._id));
  const ops: RowOp[] = [];
  for (const row of rowsBefore) {
    if (!kept.has(row._id)) ops.push({ key: row._id, op: "delete", table });
  }
  for (const row of rowsAfter) {
    const text = held.get(row._id);
    if (text === undefined) {
      ops.push({ key: row._id, op: "insert", row, table });
    } else if (text !== JSON.stringify(row)) {
      ops.push({ key: row._id, op: "update", row, table });
    }
  }
  const target = JSON.stringify(rowsAfter);
  if (JSON.stringify(mergeRows(rowsBefore, ops)) !== target) return null;
  return JSON.stringify(ops).length < target.length ? ops : null;
}
