/**
 * The reconnect policy of a live socket: how long to wait before the next attempt.
 *
 * Exponential backoff from 250 ms doubling to 30 s, with "equal jitter": each delay is drawn
 * from `[d/2, d]`, so a hundred pages that lost their sockets at once spread their reconnects
 * instead of arriving together. The connection calls {@linkcode ReconnectPolicy.reset} only
 * when a socket has proved itself (open for 5 s, or a parsed non-error frame), never on a bare
 * `open`: a credential the shard refuses right after the upgrade must not become a storm.
 *
 * @module
 */

/** The first reconnect delay, before jitter. */
export const RECONNECT_BASE_MS = 250;
/** The longest reconnect delay, before jitter. */
export const RECONNECT_MAX_MS = 30_000;
/** How long a socket must stay open before the backoff starts over. */
export const RECONNECT_STABLE_MS = 5_000;

/** The backoff state of one connection. */
export interface ReconnectPolicy {
  /** The delay before the next attempt, in ms; each call moves one step up the ladder. */
  nextDelay(): number;
  /** Starts the ladder over at {@linkcode RECONNECT_BASE_MS}. */
  reset(): void;
  /** Attempts since the last reset. */
  readonly attempts: number;
}

/**
 * Makes a reconnect policy.
 *
 * @param random A source of numbers in `[0, 1)` (default `Math.random`); tests pass their own.
 */
export function reconnectPolicy(random: () => number = Math.random): ReconnectPolicy {
  let attempts = 0;
  return {
    get attempts() {
      return attempts;
    },
    nextDelay() {
      const ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** Math.min(attempts, 20));
      attempts++;
      return ceiling / 2 + random() * (ceiling / 2);
    },
    reset() {
      attempts = 0;
    },
  };
}
