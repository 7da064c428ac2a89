/**
 * The chat's backend functions. One shard (one Durable Object) holds one channel; the shard key
 * is the channel name. Results carry values JSON cannot (`Date`, `bigint`, `Map`): the ShardDO
 * wire-encodes them (`wire.ts`), `@lunora/astro/server` decodes them for the page, Astro's prop
 * serializer hands them to the island, and the island decodes each push.
 */
import {
  type Identity,
  mutation,
  query,
  ShardError,
  type ShardFunction,
  stringArg,
} from "./registry.ts";
import type { SqlStorage } from "./runtime.ts";

/** A channel name: also the shard key, so it is kept short and URL-safe. */
export const CHANNEL = /^[a-z0-9][a-z0-9-]{0,31}$/;
const CHANNEL_TEXT = "1-32 lowercase letters, digits or dashes";
const BODY = /^[\s\S]{1,2000}$/;
const MAX_MESSAGES = 50;

/** One chat message as the page and the island render it. */
export interface Message {
  id: number;
  /** The writer's user id (`x-lunora-userid`), or `anonymous`. */
  author: string;
  /** The writer's display name when the message was written (the identity's `name` claim). */
  authorName: string;
  body: string;
  createdAt: Date;
}

/**
 * One row of `messages:latest`: a message with the two fields every Lunora document row has,
 * which let a live list take row deltas (spec §12).
 */
export interface MessageRow extends Message {
  /** The row's id as a string. */
  _id: string;
  /** When the row was written, in milliseconds since the epoch. */
  _creationTime: number;
}

/** Who is asking, as the shard saw it (`x-lunora-userid` plus the `name` claim). */
export type Viewer = { userId: string; [claim: string]: unknown } | null;

/** The result of `messages:list`: the viewer, the latest messages and the channel's total. */
export interface MessageList {
  viewer: Viewer;
  messages: Message[];
  /** Every message ever stored in the channel (SQLite counts it; a `bigint` on the wire). */
  total: bigint;
}

/** The result of `messages:stats`, which the page's server island shows. */
export interface ChannelStats {
  viewer: Viewer;
  total: bigint;
  /**
   * Per author id: their latest display name and how many messages they sent, most active
   * first.
   */
  authors: Map<string, { name: string; count: number }>;
  /** When the first and the latest message were sent (`null` in an empty channel). */
  first: Date | null;
  latest: Date | null;
}

/** Creates the tables once per Durable Object; idempotent. */
export function migrate(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
  )`);
  sql.exec("CREATE INDEX IF NOT EXISTS messages_by_channel ON messages (channel, id)");
  // Added after the first release: tables made before it get the column, older rows no name.
  const columns = sql.exec<{ name: string }>("PRAGMA table_info(messages)").toArray();
  if (!columns.some((column) => column.name === "author_name")) {
    sql.exec("ALTER TABLE messages ADD COLUMN author_name TEXT");
  }
}

const ANONYMOUS = "anonymous";

/** The name to show for the caller: the `name` claim, else the user id, else `anonymous`. */
function displayName(identity: Identity | null): string {
  if (identity === null) return ANONYMOUS;
  const name = typeof identity.name === "string" ? identity.name.trim() : "";
  return name === "" ? identity.userId : name.slice(0, 64);
}

/** The latest messages of a channel, oldest first. */
function latestMessages(sql: SqlStorage, channel: string): Message[] {
  const rows = sql.exec<Omit<Message, "createdAt"> & { createdAt: number }>(
    `SELECT id, author, coalesce(author_name, author) AS authorName, body,
       created_at AS createdAt FROM
       (SELECT * FROM messages WHERE channel = ? ORDER BY id DESC LIMIT ?)
     ORDER BY id`,
    channel,
    MAX_MESSAGES,
  ).toArray();
  return rows.map((row) => ({ ...row, createdAt: new Date(row.createdAt) }));
}

function countMessages(sql: SqlStorage, channel: string): bigint {
  const { count } = sql.exec<{ count: number }>(
    "SELECT COUNT(*) AS count FROM messages WHERE channel = ?",
    channel,
  ).one();
  return BigInt(count);
}

/** Every function this shard serves, by `module:name` path. */
export const functions: Record<string, ShardFunction> = {
  "messages:list": query({
    args: (raw) => ({
      channel: stringArg(raw, "channel", CHANNEL, CHANNEL_TEXT),
    }),
    handler: ({ sql, identity }, { channel }): MessageList => ({
      viewer: identity,
      messages: latestMessages(sql, channel),
      total: countMessages(sql, channel),
    }),
  }),

  // The same latest messages as a plain list of rows: a live list of it gets row deltas.
  "messages:latest": query({
    args: (raw) => ({
      channelId: stringArg(raw, "channelId", CHANNEL, CHANNEL_TEXT),
    }),
    handler: ({ sql }, { channelId }): MessageRow[] =>
      latestMessages(sql, channelId).map((message) => ({
        _id: String(message.id),
        _creationTime: message.createdAt.getTime(),
        ...message,
      })),
  }),

  "messages:stats": query({
    args: (raw) => ({
      channel: stringArg(raw, "channel", CHANNEL, CHANNEL_TEXT),
    }),
    handler: ({ sql, identity }, { channel }): ChannelStats => {
      // With max(id), SQLite takes the bare `name` from each author's newest row.
      const authors = sql.exec<{ author: string; name: string; count: number }>(
        `SELECT author, coalesce(author_name, author) AS name, max(id) AS newest,
           COUNT(*) AS count FROM messages WHERE channel = ?
         GROUP BY author ORDER BY count DESC, author LIMIT 5`,
        channel,
      ).toArray();
      const span = sql.exec<{ first: number | null; latest: number | null }>(
        "SELECT MIN(created_at) AS first, MAX(created_at) AS latest FROM messages WHERE channel = ?",
        channel,
      ).one();
      return {
        viewer: identity,
        total: countMessages(sql, channel),
        authors: new Map(authors.map(({ author, name, count }) => [author, { name, count }])),
        first: span.first === null ? null : new Date(span.first),
        latest: span.latest === null ? null : new Date(span.latest),
      };
    },
  }),

  "messages:send": mutation({
    args: (raw) => {
      const channel = stringArg(raw, "channel", CHANNEL, CHANNEL_TEXT);
      const body = stringArg(raw, "body", BODY, "a text of 1-2000 characters")
        .trim();
      if (body === "") {
        throw new ShardError(
          "BAD_REQUEST",
          'Argument "body" must not be blank',
        );
      }
      return { channel, body };
    },
    handler: ({ sql, identity }, { channel, body }) => {
      const { id } = sql.exec<{ id: number }>(
        `INSERT INTO messages (channel, author, author_name, body, created_at)
         VALUES (?, ?, ?, ?, ?) RETURNING id`,
        channel,
        identity?.userId ?? ANONYMOUS,
        displayName(identity),
        body,
        Date.now(),
      ).one();
      return { id };
    },
  }),

  // Admin only: reachable through `POST /_lunora/admin/rpc` with the admin token.
  "messages:clear": mutation({
    internal: true,
    args: (raw) => ({
      channel: stringArg(raw, "channel", CHANNEL, CHANNEL_TEXT),
    }),
    handler: ({ sql }, { channel }) => {
      sql.exec("DELETE FROM messages WHERE channel = ?", channel);
      return { cleared: true };
    },
  }),
};
