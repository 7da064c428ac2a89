/**
 * Typed references to the shard's functions, for `preloadQuery` in frontmatter and for the
 * island. At runtime a reference is just `{ __lunoraRef: "module:name" }`.
 */
import { mutation, query } from "@lunora/astro/server";
import type { ChannelStats, MessageList, MessageRow } from "../shard/functions.ts";

export const api = {
  messages: {
    list: query<{ channel: string }, MessageList>("messages:list"),
    latest: query<{ channelId: string }, MessageRow[]>("messages:latest"),
    stats: query<{ channel: string }, ChannelStats>("messages:stats"),
    send: mutation<{ channel: string; body: string }, { id: number }>(
      "messages:send",
    ),
  },
};
