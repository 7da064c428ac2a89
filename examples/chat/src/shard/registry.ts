/**
 * How the app declares its shard functions: `query(...)` reads, `mutation(...)` writes,
 * `action(...)` runs outside a transaction and is never retried (Lunora's actions may have
 * effects beyond the shard). Each validates its own arguments and runs synchronously against
 * the shard's SQLite, so a call runs start to finish without interleaving with another.
 */
import type { SqlStorage } from "./runtime.ts";

/** The caller as the worker identified it (`x-lunora-userid` + `x-lunora-identity` claims). */
export interface Identity {
  userId: string;
  [claim: string]: unknown;
}

/** What a function sees besides its arguments. */
export interface FunctionContext {
  sql: SqlStorage;
  /** The signed-in caller, or `null` for an anonymous one. */
  identity: Identity | null;
  /** True for admin calls (`x-lunora-system: 1`), which the worker only sends after its gate. */
  system: boolean;
  /** The call's `x-lunora-mutation-id` and `x-lunora-client-id` (`null` when absent). */
  ids: CallIds;
}

/** The Lunora ids an RPC carried; a WebSocket query has neither. */
export interface CallIds {
  mutationId: string | null;
  clientId: string | null;
}

/**
 * A registered function. Arguments arrive decoded from the wire; a result may hold any wire
 * value (`Date`, `bigint`, `Map`, `Set`, ...), which the ShardDO encodes.
 */
export interface ShardFunction<Args = unknown, Result = unknown> {
  kind: "query" | "mutation" | "action";
  /** Only callable through the admin plane. */
  internal: boolean;
  /** Validates raw JSON arguments; throws a `ShardError` with code `BAD_REQUEST` otherwise. */
  args(raw: Record<string, unknown>): Args;
  handler(ctx: FunctionContext, args: Args): Result;
}

interface Definition<Args, Result> {
  args(raw: Record<string, unknown>): Args;
  handler(ctx: FunctionContext, args: Args): Result;
  internal?: boolean;
}

/** An error a function or the protocol reports to the caller as `{ code, message }`. */
export class ShardError extends Error {
  constructor(readonly code: string, message: string, readonly status = 400) {
    super(message);
    this.name = "ShardError";
  }
}

/** Declares a read-only function; subscriptions re-run it after every mutation. */
export function query<Args, Result>(
  definition: Definition<Args, Result>,
): ShardFunction<Args, Result> {
  return {
    kind: "query",
    internal: definition.internal ?? false,
    ...definition,
  };
}

/** Declares a function that writes; it runs inside one SQLite transaction. */
export function mutation<Args, Result>(
  definition: Definition<Args, Result>,
): ShardFunction<Args, Result> {
  return {
    kind: "mutation",
    internal: definition.internal ?? false,
    ...definition,
  };
}

/** Declares an action: it runs once per call, outside a transaction, and is never deduplicated. */
export function action<Args, Result>(
  definition: Definition<Args, Result>,
): ShardFunction<Args, Result> {
  return {
    kind: "action",
    internal: definition.internal ?? false,
    ...definition,
  };
}

/** Reads a string argument of bounded length, trimmed; throws `BAD_REQUEST` otherwise. */
export function stringArg(
  raw: Record<string, unknown>,
  name: string,
  pattern: RegExp,
  describe: string,
): string {
  const value = raw[name];
  if (typeof value !== "string" || !pattern.test(value)) {
    throw new ShardError(
      "BAD_REQUEST",
      `Argument "${name}" must be ${describe}`,
    );
  }
  return value;
}
