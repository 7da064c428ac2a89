/**
 * Merging one `delta` frame (a RowOp) into the list a live query holds.
 *
 * The held value is a list of rows, or, under the `pageDelta` capability, an object whose
 * `page` array is that list. Rows are found by `_id`. An insert goes where its
 * `_creationTime` orders it when the rows carry one (ascending or descending, as the list
 * already is), else at the end. Anything that cannot be merged exactly (no list, an update of a
 * row the list does not hold, an insert without a row) answers {@linkcode UNMERGEABLE}: the
 * caller asks the shard for a snapshot instead of guessing. The held value is never mutated.
 *
 * @module
 */
import { decodeWire } from "../wire/codec.ts";

/** One row operation of a `delta` frame. */
export interface RowOp {
  /** The row's `_id`. */
  key: string;
  /** What happened to the row. */
  op: "insert" | "update" | "delete";
  /** The row after the change (wire-encoded); absent on delete. */
  row?: unknown;
  /** The table the row belongs to. */
  table?: string;
}

/** The answer of {@linkcode applyRowOp} when the delta cannot be merged. */
export const UNMERGEABLE: unique symbol = Symbol("unmergeable");

type Row = Record<string, unknown>;

function isRow(value: unknown): value is Row {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function indexOfId(rows: readonly unknown[], id: unknown): number {
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (isRow(row) && row._id === id) return i;
  }
  return -1;
}

function insertAt(rows: readonly unknown[], row: Row): number {
  const time = row._creationTime;
  if (typeof time !== "number" || rows.length === 0) return rows.length;
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (!isRow(first) || !isRow(last)) return rows.length;
  const a = first._creationTime;
  const b = last._creationTime;
  if (typeof a !== "number" || typeof b !== "number") return rows.length;
  const descending = a > b;
  // Binary search for the first row that the new one goes before (stable: after equals).
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const other = rows[mid];
    const t = isRow(other) ? other._creationTime : undefined;
    if (typeof t !== "number") return rows.length;
    if (descending ? t >= time : t <= time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function mergeList(rows: readonly unknown[], op: RowOp): unknown[] | typeof UNMERGEABLE {
  if (op.op === "delete") {
    const at = indexOfId(rows, op.key);
    if (at === -1) return rows.slice();
    const next = rows.slice();
    next.splice(at, 1);
    return next;
  }
  if (op.row === undefined) return UNMERGEABLE;
  const row = decodeWire(op.row);
  if (!isRow(row)) return UNMERGEABLE;
  const id = row._id ?? op.key;
  const at = indexOfId(rows, id);
  const next = rows.slice();
  if (at !== -1) {
    next[at] = row;
    return next;
  }
  if (op.op === "update") return UNMERGEABLE;
  next.splice(insertAt(rows, row), 0, row);
  return next;
}

/**
 * Applies one row operation to a held value.
 *
 * @param held The value the query holds: a list, or an object with a `page` list.
 * @param op The operation, as the frame carried it (its row still wire-encoded).
 * @returns The new value, or {@linkcode UNMERGEABLE}.
 * @throws {TypeError | RangeError} When the row fails to decode (the caller reports
 * `WIRE_DECODE_FAILED`).
 */
export function applyRowOp(held: unknown, op: unknown): unknown {
  if (!isRow(op) || typeof op.key !== "string") return UNMERGEABLE;
  if (op.op !== "insert" && op.op !== "update" && op.op !== "delete") return UNMERGEABLE;
  const rowOp = op as unknown as RowOp;
  if (Array.isArray(held)) return mergeList(held, rowOp);
  if (isRow(held) && Array.isArray(held.page)) {
    const page = mergeList(held.page, rowOp);
    return page === UNMERGEABLE ? page : { ...held, page };
  }
  return UNMERGEABLE;
}
