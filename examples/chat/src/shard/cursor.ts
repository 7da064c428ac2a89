/**
 * The shard's cursor and epoch (spec §12), kept in its SQLite so they survive restarts:
 *
 * - the cursor (`seq`) counts the mutations the shard has committed; every frame carries the
 *   cursor it was computed at, and a mutation's answer its `commitCursor`;
 * - the epoch names this storage's history. It is made once, with the storage: wiped storage
 *   means a new epoch, and a client's cursor from another epoch is never resumed.
 *
 * For `resume`, the shard also remembers, per query (its path, arguments and caller), the
 * fingerprint of its last seen result and the cursor since which it has been that. A client
 * that held the result at cursor `c` may keep it when the result today has the same
 * fingerprint and has not been seen to change since `c`.
 */
import type { SqlStorage } from "./runtime.ts";

/** Results whose last change is older than this many mutations are forgotten (no resume). */
const KEEP_RESULTS = 10_000;

/** Creates the cursor tables once per Durable Object (and the epoch with them); idempotent. */
export function migrateCursor(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS lunora_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    epoch TEXT NOT NULL
  )`);
  sql.exec(
    "INSERT OR IGNORE INTO lunora_cursor (id, seq, epoch) VALUES (1, 0, ?)",
    crypto.randomUUID(),
  );
  sql.exec(`CREATE TABLE IF NOT EXISTS lunora_results (
    query TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    since INTEGER NOT NULL
  ) WITHOUT ROWID`);
  sql.exec(
    "CREATE INDEX IF NOT EXISTS lunora_results_by_age ON lunora_results (since)",
  );
}

/** The shard's cursor, epoch and result history, over its SQLite. */
export class ShardCursor {
  readonly #sql: SqlStorage;
  readonly #results = new Map<string, { fingerprint: string; since: number }>();
  #seq: number;
  /** This storage's epoch. */
  readonly epoch: string;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    const row = sql.exec<{ seq: number; epoch: string }>(
      "SELECT seq, epoch FROM lunora_cursor WHERE id = 1",
    ).one();
    this.#seq = row.seq;
    this.epoch = row.epoch;
  }

  /** The cursor of the last committed mutation (0 before the first). */
  get seq(): number {
    return this.#seq;
  }

  /**
   * Advances the cursor for a mutation; call inside its transaction, then
   * {@linkcode committed} with the result once the transaction has committed.
   */
  advance(): number {
    const { seq } = this.#sql.exec<{ seq: number }>(
      "UPDATE lunora_cursor SET seq = seq + 1 WHERE id = 1 RETURNING seq",
    ).one();
    this.#sql.exec(
      "DELETE FROM lunora_results WHERE since < ?",
      seq - KEEP_RESULTS,
    );
    return seq;
  }

  /** Records that the mutation that advanced the cursor to `seq` has committed. */
  committed(seq: number): void {
    this.#seq = seq;
    for (const [query, seen] of this.#results) {
      if (seen.since < seq - KEEP_RESULTS) this.#results.delete(query); // pruned in SQLite too
    }
  }

  /**
   * Whether `query`'s result, whose fingerprint is now `fingerprint`, is what a client held
   * at cursor `since` in epoch `epoch`.
   */
  unchangedSince(
    query: string,
    fingerprint: string,
    since: number,
    epoch: string,
  ): boolean {
    if (epoch !== this.epoch || since > this.#seq) return false;
    const seen = this.#seen(query);
    return seen !== undefined && seen.fingerprint === fingerprint &&
      seen.since <= since;
  }

  /** Records `query`'s result fingerprint as seen at the current cursor. */
  observe(query: string, fingerprint: string): void {
    const seen = this.#seen(query);
    if (seen?.fingerprint === fingerprint) return;
    const next = { fingerprint, since: this.#seq };
    this.#sql.exec(
      `INSERT INTO lunora_results (query, fingerprint, since) VALUES (?, ?, ?)
       ON CONFLICT (query) DO UPDATE SET fingerprint = excluded.fingerprint, since = excluded.since`,
      query,
      next.fingerprint,
      next.since,
    );
    this.#results.set(query, next);
  }

  #seen(query: string): { fingerprint: string; since: number } | undefined {
    let seen = this.#results.get(query);
    if (seen === undefined) {
      seen = this.#sql.exec<{ fingerprint: string; since: number }>(
        "SELECT fingerprint, since FROM lunora_results WHERE query = ?",
        query,
      ).toArray()[0];
      if (seen !== undefined) this.#results.set(query, seen);
    }
    return seen;
  }
}
