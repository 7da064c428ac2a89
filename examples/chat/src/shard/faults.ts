/**
 * Functions the soak test (`deno task soak`) injects faults with, and read-only probes it checks
 * the stored rows with. They show, on workerd, what a caller sees when a function fails; a real
 * app would not register them.
 *
 * - `faults:throw` throws a plain `Error`; its message must never reach the caller.
 * - `faults:unencodable` returns a cyclic object, which no JSON encoder can write.
 * - `faults:slow` does a bounded amount of SQLite work before answering (time does not advance
 *   inside a synchronous call on workerd, so it is slow by work, not by a clock).
 * - `faults:tripwire` fails only while a channel's newest message is `tripwire`, so a live
 *   subscription to it fails, then recovers, during pushes.
 * - `faults:writeThenThrow` inserts a row and then throws: the transaction must roll it back.
 * - `probes:rows` / `probes:count`: every stored row of a channel / their count and newest id.
 * - `probes:prototype`: what `Object.prototype` looks like in the shard's isolate.
 */
import { mutation, query, ShardError, type ShardFunction, stringArg } from "./registry.ts";

// functions.ts imports this file, so its CHANNEL pattern is repeated rather than imported.
const CHANNEL = /^[a-z0-9][a-z0-9-]{0,31}$/;
const CHANNEL_TEXT = "1-32 lowercase letters, digits or dashes";
const MAX_SLOW_STEPS = 20_000_000;
const MAX_ROWS = 10_000;

function channelArg(raw: Record<string, unknown>): { channel: string } {
  return { channel: stringArg(raw, "channel", CHANNEL, CHANNEL_TEXT) };
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
