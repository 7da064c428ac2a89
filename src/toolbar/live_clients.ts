/**
 * The page's live stores and sockets, read from what `@lunora/astro/client` publishes for dev
 * tools: `globalThis[Symbol.for("@lunora/astro/client.devtools@1")]`, a `Set` of clients, each
 * with `snapshot()`. Read structurally, and defensively: a client that throws or answers
 * something else is skipped.
 *
 * @module
 */

/** The registered symbol's key under which `@lunora/astro/client` lists its clients. */
export const DEVTOOLS_KEY = "@lunora/astro/client.devtools@1";

/** One subscription of a live client. */
export interface LiveSubscriptionRow {
  /** The query's function path. */
  readonly functionPath: string;
  /** Its state, as the client names it (`"live"`, …). */
  readonly state: string;
  /** How many pushes it received. */
  readonly pushes: number;
  /** When the last push arrived (epoch milliseconds), if any. */
  readonly lastPushAt: number | undefined;
  /** The error code (or message) it failed with, if any. */
  readonly error: string | undefined;
}

/** One socket (one per client and shard), with the subscriptions it carries. */
export interface LiveSocketRow {
  /** The API origin's URL of the client. */
  readonly url: string;
  /** The socket's shard key; `undefined` for the default shard. */
  readonly shardKey: string | undefined;
  /** Its state, as the client names it (`"connecting"`, `"live"`, `"reconnecting"`, …). */
  readonly state: string;
  /** How many pushes it received. */
  readonly pushes: number;
  /** When the last push arrived (epoch milliseconds), if any. */
  readonly lastPushAt: number | undefined;
  /** Whether the socket is down (any state but connecting, live or open). */
  readonly down: boolean;
  /** The subscriptions on this socket. */
  readonly subscriptions: readonly LiveSubscriptionRow[];
}

const UP = new Set(["connecting", "live", "open"]);

type Loose = Record<string, unknown> | undefined;

function text(value: unknown, fallback = ""): string {
  return typeof value === "string" ? value : fallback;
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

function time(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function shardOf(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function errorOf(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  const { code, message } = value as { code?: unknown; message?: unknown };
  return text(code) || text(message) || "error";
}

function list(value: unknown): Loose[] {
  return Array.isArray(value) ? value as Loose[] : [];
}

/**
 * One row per socket of every live client on the page, or `undefined` when
 * `@lunora/astro/client` published nothing (the page has no live stores).
 */
export function readLiveClients(global: object = globalThis): LiveSocketRow[] | undefined {
  const clients = (global as Record<symbol, unknown>)[Symbol.for(DEVTOOLS_KEY)];
  if (clients === null || typeof clients !== "object" || !(Symbol.iterator in clients)) {
    return undefined;
  }
  const rows: LiveSocketRow[] = [];
  for (const client of clients as Iterable<{ snapshot?: () => unknown }>) {
    let snapshot: Loose;
    try {
      snapshot = client?.snapshot?.() as Loose;
    } catch {
      continue;
    }
    if (snapshot === null || typeof snapshot !== "object") continue;
    const subscriptions = list(snapshot.subscriptions);
    for (const socket of list(snapshot.sockets)) {
      const shardKey = shardOf(socket?.shardKey);
      const state = text(socket?.state, "unknown");
      rows.push({
        url: text(snapshot.url),
        shardKey,
        state,
        pushes: count(socket?.pushes),
        lastPushAt: time(socket?.lastPushAt),
        down: !UP.has(state),
        subscriptions: subscriptions
          .filter((sub) => shardOf(sub?.shardKey) === shardKey)
          .map((sub) => ({
            functionPath: text(sub?.functionPath, "?"),
            state: text(sub?.state, "unknown"),
            pushes: count(sub?.pushes),
            lastPushAt: time(sub?.lastPushAt),
            error: errorOf(sub?.error),
          })),
      });
    }
  }
  return rows;
}
