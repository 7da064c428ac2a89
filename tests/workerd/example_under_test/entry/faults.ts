/**
 * Functions the soak and end-to-end tests inject faults with, and read-only probes they check
 * the stored rows with. They show, on workerd, what a caller sees when a function fails; the
 * example does not have them: `shard_do.ts` here serves them next to the example's own.
 *
 * - `faults:throw` throws a plain `Error`; its message must never reach the caller.
 * - `faults:unencodable` returns a cyclic object, which no JSON encoder can write.
 * - `faults:slow` does a bounded amount of SQLite work before answering (time does not advance
 *   inside a synchronous call on workerd, so it is slow by work, not by a clock).
 * - `faults:tripwire` fails only while a channel's newest message is `tripwire`, so a live
 *   subscription to it fails, then recovers, during pushes.
 * - `faults:writeThenThrow` inserts a row and then throws: the transaction must roll it back.
 * - `faults:unavailableAction` (an action) records its call; the shard then fails the call
 *   `retryable` ({@linkcode FAILS_RETRYABLE}): the worker must not retry it, and the caller gets
 *   `UNAVAILABLE`.
 * - `faults:idsMutation` records its call and returns the ids it carried.
 * - A mutation whose `x-lunora-mutation-id` starts with `fault-retry-before-write-` fails its
 *   first attempt `retryable` before writing; with `fault-retry-after-commit-`, after its write
 *   is committed (the answer is lost). The worker retries with the same id; either way the
 *   write must be stored once ({@linkcode plannedFault}).
 * - `probes:rows` / `probes:count`: every stored row of a channel / their count and newest id.
 * - `probes:mutation`: a mutation id's attempts and dedup records; `probes:calls`: the calls
 *   the recording functions saw.
 * - `probes:prototype`: what `Object.prototype` looks like in the shard's isolate.
 */
import {
  action,
  type CallIds,
  type FunctionContext,
  mutation,
  query,
  ShardError,
  type ShardFunction,
  stringArg,
} from "../../../../examples/chat/src/shard/registry.ts";
import type { SqlStorage } from "../../../../examples/chat/src/shard/runtime.ts";
import { CHANNEL } from "../../../../examples/chat/src/shard/functions.ts";

const CHANNEL_TEXT = "1-32 lowercase letters, digits or dashes";
const MAX_SLOW_STEPS = 20_000_000;
const MAX_ROWS = 10_000;

const PROBE = /^[A-Za-z0-9_-]{1,64}$/;
const MUTATION_ID = /^[\x21-\x7e]{1,255}$/;

function channelArg(raw: Record<string, unknown>): { channel: string } {
  return { channel: stringArg(raw, "channel", CHANNEL, CHANNEL_TEXT) };
}

function probeArgs(raw: Record<string, unknown>): { channel: string; probe: string } {
  const probe = stringArg(raw, "probe", PROBE, "1-64 letters, digits, _ or -");
  return { ...channelArg(raw), probe };
}

/**
 * Thrown out of the shard's `fetch` instead of answered: workerd hands the worker an error with
 * `retryable: true`, as it does when a Durable Object is briefly unreachable.
 */
export class RetryableFault extends Error {
  readonly retryable = true;
  constructor(message: string) {
    super(`fault injected: ${message}`);
    this.name = "RetryableFault";
  }
}

/** Where a planned fault strikes a mutation's first attempt. */
export type PlannedFault = "before-write" | "after-commit";

const PLANNED: [string, PlannedFault][] = [
  ["fault-retry-before-write-", "before-write"],
  ["fault-retry-after-commit-", "after-commit"],
];

/** Creates the fault tables once per Durable Object; idempotent. */
export function migrateFaults(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS fault_attempts (
    mutation_id TEXT PRIMARY KEY,
    attempts INTEGER NOT NULL
  ) WITHOUT ROWID`);
  sql.exec(`CREATE TABLE IF NOT EXISTS fault_calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    probe TEXT NOT NULL,
    kind TEXT NOT NULL,
    mutation_id TEXT,
    client_id TEXT
  )`);
}

/**
 * Counts an attempt of a mutation whose id asks for a fault (outside its transaction, so the
 * count stays when the attempt fails) and says whether this attempt, the first, must fail.
 */
export function plannedFault(sql: SqlStorage, mutationId: string | null): PlannedFault | null {
  if (mutationId === null) return null;
  const planned = PLANNED.find(([prefix]) => mutationId.startsWith(prefix))?.[1];
  if (planned === undefined) return null;
  const { attempts } = sql.exec<{ attempts: number }>(
    `INSERT INTO fault_attempts (mutation_id, attempts) VALUES (?, 1)
     ON CONFLICT (mutation_id) DO UPDATE SET attempts = attempts + 1 RETURNING attempts`,
    mutationId,
  ).one();
  return attempts === 1 ? planned : null;
}

/** Functions whose call the shard fails `retryable` once they have run. */
export const FAILS_RETRYABLE: ReadonlySet<string> = new Set(["faults:unavailableAction"]);

/** A call a recording function saw. */
export interface RecordedCall {
  kind: string;
  mutationId: string | null;
  clientId: string | null;
}

function recordCall({ sql, ids }: FunctionContext, probe: string, kind: string): CallIds {
  sql.exec(
    "INSERT INTO fault_calls (probe, kind, mutation_id, client_id) VALUES (?, ?, ?, ?)",
    probe,
    kind,
    ids.mutationId,
    ids.clientId,
  );
  return { mutationId: ids.mutationId, clientId: ids.clientId };
}

/** A stored row as the probes return it. */
export interface Row {
  id: number;
  author: string;
  body: string;
}

/** The fault functions and probes, by `module:name` path. */
export const faultFunctions: Record<string, ShardFunction> = {
  "faults:throw": query({
    args: () => ({}),
    handler: () => {
      throw new Error(
        "fault injected: faults:throw (fault-secret /internal/path)",
      );
    },
  }),

  "faults:unencodable": query({
    args: () => ({}),
    handler: () => {
      const cyclic: Record<string, unknown> = { name: "cycle" };
      cyclic.self = cyclic;
      return cyclic;
    },
  }),

  "faults:slow": query({
    args: (raw) => {
      const steps = raw.steps;
      if (
        typeof steps !== "number" || !Number.isInteger(steps) || steps < 1 ||
        steps > MAX_SLOW_STEPS
      ) {
        throw new ShardError(
          "BAD_REQUEST",
          `Argument "steps" must be an integer from 1 to ${MAX_SLOW_STEPS}`,
        );
      }
      return { steps };
    },
    handler: ({ sql }, { steps }) => {
      const { count } = sql.exec<{ count: number }>(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
         SELECT count(*) AS count FROM n`,
        steps,
      ).one();
      return { steps, count };
    },
  }),

  "faults:tripwire": query({
    args: channelArg,
    handler: ({ sql }, { channel }) => {
      const newest = sql.exec<{ id: number; body: string }>(
        "SELECT id, body FROM messages WHERE channel = ? ORDER BY id DESC LIMIT 1",
        channel,
      ).toArray()[0];
      if (newest?.body === "tripwire") {
        throw new Error("fault injected: tripwire (fault-secret)");
      }
      return { newestId: newest?.id ?? null };
    },
  }),

  "faults:writeThenThrow": mutation({
    args: channelArg,
    handler: ({ sql }, { channel }) => {
      sql.exec(
        "INSERT INTO messages (channel, author, body, created_at) VALUES (?, ?, ?, ?)",
        channel,
        "fault",
        "written by faults:writeThenThrow",
        Date.now(),
      );
      throw new Error("fault injected: after a write (fault-secret)");
    },
  }),

  "faults:unavailableAction": action({
    args: probeArgs,
    handler: (ctx, { probe }) => {
      recordCall(ctx, probe, "action");
      return null;
    },
  }),

  "faults:idsMutation": mutation({
    args: probeArgs,
    handler: (ctx, { probe }): CallIds => recordCall(ctx, probe, "mutation"),
  }),

  "probes:calls": query({
    args: probeArgs,
    handler: ({ sql }, { probe }): { calls: RecordedCall[] } => ({
      calls: sql.exec<RecordedCall>(
        `SELECT kind, mutation_id AS mutationId, client_id AS clientId FROM fault_calls
         WHERE probe = ? ORDER BY id`,
        probe,
      ).toArray().map((call) => ({ ...call })),
    }),
  }),

  "probes:mutation": query({
    args: (raw) => ({
      ...channelArg(raw),
      mutationId: stringArg(raw, "mutationId", MUTATION_ID, "1-255 printable ASCII characters"),
    }),
    handler: ({ sql }, { mutationId }) => ({
      attempts: sql.exec<{ attempts: number }>(
        "SELECT attempts FROM fault_attempts WHERE mutation_id = ?",
        mutationId,
      ).toArray()[0]?.attempts ?? 0,
      records: sql.exec<{ caller: string; replays: number }>(
        "SELECT caller, replays FROM mutation_results WHERE mutation_id = ? ORDER BY caller",
        mutationId,
      ).toArray().map((record) => ({ ...record })),
    }),
  }),

  "probes:rows": query({
    args: channelArg,
    handler: ({ sql }, { channel }): { rows: Row[] } => {
      const rows = sql.exec<Row>(
        "SELECT id, author, body FROM messages WHERE channel = ? ORDER BY id LIMIT ?",
        channel,
        MAX_ROWS,
      ).toArray();
      return { rows: rows.map((row) => ({ ...row })) };
    },
  }),

  "probes:count": query({
    args: channelArg,
    handler: ({ sql }, { channel }) => ({
      ...sql.exec<{ count: number; maxId: number | null }>(
        "SELECT count(*) AS count, max(id) AS maxId FROM messages WHERE channel = ?",
        channel,
      ).one(),
    }),
  }),

  "probes:prototype": query({
    args: () => ({}),
    handler: () => ({
      isAdmin: typeof (Object.prototype as Record<string, unknown>).isAdmin,
      keys: Object.getOwnPropertyNames(Object.prototype).sort(),
    }),
  }),
};
