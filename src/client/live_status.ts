/**
 * What a live store's `status` store holds.
 *
 * @module
 */

/** A stable error code and a message for people. */
export interface LiveError {
  /** A stable code, e.g. `WIRE_DECODE_FAILED`, `TOKEN_EXPIRED`, `SUBSCRIPTION_CANCELLED`. */
  code: string;
  /** What happened, in a sentence. */
  message: string;
}

/**
 * The connection state of one live query, with its latest error. The query's value store never
 * drops its last good value because of either: it keeps showing it until a new value arrives.
 *
 * - `connecting`: the first socket to the shard is not open yet.
 * - `live`: the socket is open; pushes arrive as the shard sends them.
 * - `reconnecting`: the socket dropped and a new one is on its way (backoff with jitter).
 * - `offline`: the browser reports no network, or the client was closed.
 */
export interface LiveStatus {
  /** Where the query's socket is. */
  state: "connecting" | "live" | "reconnecting" | "offline";
  /** The latest error of the query or its socket; absent once a good frame arrives. */
  error?: LiveError;
}
