/**
 * The chat's backend functions. One shard (one Durable Object) holds one channel; the shard key
 * is the channel name. Results are plain JSON (strings, numbers, null), which Lunora's wire
 * encoding carries byte for byte, so no codec is needed on either side.
 */
import {
  type Identity,
  mutation,
  query,
  ShardError,
  type ShardFunction,
  stringArg,
} from "./registry.ts";
import { faultFunctions } from "./faults.ts";
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
  createdAt: number;
}

/** The result of `messages:list`: who is asking (as the shard saw it) and the latest messages. */
export interface MessageList {
  viewer: { userId: string; [claim: string]: unknown } | null;
  messages: Message[];
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

/** Every function this shard serves, by `module:name` path. */
export const functions: Record<string, ShardFunction> = {
  "messages:list": query({
    args: (raw) => ({
      channel: stringArg(raw, "channel", CHANNEL, CHANNEL_TEXT),
    }),
    handler: ({ sql, identity }, { channel }): MessageList => {
      const rows = sql.exec<Message>(
        `SELECT id, author, coalesce(author_name, author) AS authorName, body,
           created_at AS createdAt FROM
           (SELECT * FROM messages WHERE channel = ? ORDER BY id DESC LIMIT ?)
         ORDER BY id`,
        channel,
        MAX_MESSAGES,
      ).toArray();
      return { viewer: identity, messages: rows.map((row) => ({ ...row })) };
    },
  }),

  "messages:send": mutation({
    args: (raw) => {
      const channel = stringArg(raw, "channel", CHANNEL, CHANNEL_TEXT);
      const body = stringArg(raw, "body", BODY, "a text of 1-2000 characters")
        .trim();
      if (body === "") {
        throw new ShardError("BAD_REQUEST", 'Argument "body" must not be blank');
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

  // Fault injection and probes for `deno task soak` (see faults.ts).
  ...faultFunctions,
};
