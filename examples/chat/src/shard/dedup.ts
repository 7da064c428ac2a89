/**
 * Mutation deduplication, as a Lunora shard does it: a mutation that carries
 * `x-lunora-mutation-id` is recorded with its result under (the caller, that id). The caller is
 * the server-minted `x-lunora-userid` when the call is signed in, else its `x-lunora-client-id`.
 * A second mutation with the same caller and id gets the first result back, and its function
 * does not run again. A mutation id with neither a user id nor a client id is not deduplicated.
 *
 * `ShardDO` writes the record in the same SQLite transaction as the mutation's own writes, so
 * either both are stored or neither: a retry after a crash or a lost answer cannot write twice.
 */
import type { CallIds, Identity } from "./registry.ts";
import type { SqlStorage } from "./runtime.ts";

/** How long a recorded result answers a repeat: a day, far beyond any retry or resubmit. */
export const KEEP_MS = 24 * 60 * 60 * 1000;

/** Creates the record table once per Durable Object; idempotent. */
export function migrateDedup(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS mutation_results (
    caller TEXT NOT NULL,
    mutation_id TEXT NOT NULL,
    envelope TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    replays INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (caller, mutation_id)
  ) WITHOUT ROWID`);
  sql.exec(
    "CREATE INDEX IF NOT EXISTS mutation_results_by_age ON mutation_results (created_at)",
  );
}

/**
 * Whose mutation ids these are: `user:<id>` for a signed-in caller, `client:<id>` for an
 * anonymous one with a client id, `null` when the call cannot be deduplicated.
 */
export function callerKey(identity: Identity | null, ids: CallIds): string | null {
  if (ids.mutationId === null) return null;
  if (identity !== null) return `user:${identity.userId}`;
  return ids.clientId === null ? null : `client:${ids.clientId}`;
}

/**
 * The envelope recorded for (`caller`, `mutationId`), counting the replay; `null` when there is
 * none. Call inside the mutation's transaction.
 */
export function recall(sql: SqlStorage, caller: string, mutationId: string): string | null {
  const row = sql.exec<{ envelope: string }>(
    `UPDATE mutation_results SET replays = replays + 1
     WHERE caller = ? AND mutation_id = ? RETURNING envelope`,
    caller,
    mutationId,
  ).toArray()[0];
  return row?.envelope ?? null;
}

/**
 * Records the answer of a mutation that ran, and drops records older than {@linkcode KEEP_MS}.
 * Call inside the mutation's transaction.
 */
export function remember(
  sql: SqlStorage,
  caller: string,
  mutationId: string,
  envelope: string,
  now: number,
): void {
  sql.exec("DELETE FROM mutation_results WHERE created_at < ?", now - KEEP_MS);
  sql.exec(
    "INSERT INTO mutation_results (caller, mutation_id, envelope, created_at) VALUES (?, ?, ?, ?)",
    caller,
    mutationId,
    envelope,
    now,
  );
}
