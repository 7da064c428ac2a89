/**
 * The channel as a React island. The page passes two preloaded tokens as props
 * (`<ChannelView client:load preloaded={...} latest={...} />`): `messages:list` for who the shard
 * sees and the channel's total, `messages:latest` for the messages themselves. Astro serializes
 * them, `Date`s and `bigint`s included; `hydratePreloaded` turns each into a live store that
 * starts with the token's value, so the first client render equals the server's HTML and needs
 * no fetch. `useStore` keeps the island in step with the shard over the page's one socket for
 * this channel, which the page's Svelte island and plain script share.
 *
 * The send form works without JavaScript: it posts to the page's `messages.send` Astro Action
 * with the idempotency key the page rendered. With JavaScript the island sends through
 * `mutation()` instead, which keeps one `x-lunora-mutation-id` across its retries.
 */
import { hydratePreloaded, mutation } from "@lunora/astro/client";
import type { Preloaded } from "@lunora/astro/server";
import { useStore } from "@nanostores/react";
import { type FormEvent, useEffect, useState } from "react";
import { clock } from "../client/clock.ts";
import { api } from "../lunora/api.ts";
import type { MessageList, MessageRow } from "../shard/functions.ts";

interface Props {
  channel: string;
  /** `messages:list`: the viewer the shard saw and the channel's total. */
  preloaded: Preloaded<MessageList>;
  /** `messages:latest`: the latest messages, oldest first. */
  latest: Preloaded<MessageRow[]>;
  /**
   * Where the send form posts without JavaScript (the `messages.send` Action), the idempotency
   * key it carries, and the error of the last post.
   */
  form?: { action: string; key: string; error?: string | undefined };
}

export default function ChannelView({ channel, preloaded, latest, form }: Props) {
  // Made once per island: when the island is kept across a navigation (transition:persist,
  // one per channel) its stores stay live, and after a sign-in or sign-out `resetIdentity()`
  // refills them for the new identity.
  const [listStore] = useState(() => hydratePreloaded(preloaded));
  const [seed] = useState(() => preloaded.value);
  const [latestStore] = useState(() => hydratePreloaded(latest));
  const list = useStore(listStore);
  const messages = useStore(latestStore);
  const status = useStore(latestStore.status);
  const [sendError, setSendError] = useState("");
  // After a soft navigation the socket is already open when the island hydrates: the first
  // render shows the server's "connecting" all the same, so it matches the server's HTML.
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  const state = hydrated ? status.state : "connecting";
  const live = state === "live";

  // The end-to-end test and the status colour read this. <ClientRouter /> swaps in a new
  // <body> on every navigation, and this island may be kept across it (transition:persist).
  useEffect(() => {
    const mark = () => document.body.dataset.live = String(live);
    mark();
    document.addEventListener("astro:after-swap", mark);
    return () => document.removeEventListener("astro:after-swap", mark);
  }, [live]);

  async function send(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const input = event.currentTarget.elements.namedItem("body") as HTMLInputElement;
    try {
      await mutation(api.messages.send, { channel, body: input.value }, { shardKey: channel });
      setSendError("");
      input.value = "";
    } catch (error) {
      setSendError(`error: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  // After a sign-out the stores hold nothing until the new identity's first value.
  const viewer = list?.viewer ?? null;
  const total = list?.total;
  return (
    <section id="chat" data-channel={channel}>
      <header>
        <h1>
          <a href={`/channels/${channel}`}>#{channel}</a>
        </h1>
        <span
          className="muted"
          id="viewer"
          data-user-id={preloaded.value.viewer?.userId ?? ""}
          data-live-user-id={list === undefined || list === seed ? undefined : viewer?.userId ?? ""}
        >
          {viewer ? `signed in as ${String(viewer.name ?? "")} (${viewer.userId})` : "anonymous"}
        </span>
      </header>
      <ol id="messages">
        {(messages ?? []).map((message) => (
          <li key={message._id} id={`message-${message._id}`} data-id={message._id}>
            <strong className="author" data-user-id={message.author}>
              {message.authorName}
            </strong>{" "}
            <span className="body">{message.body}</span>{" "}
            <time className="muted" dateTime={message.createdAt.toISOString()}>
              {clock(message.createdAt)}
            </time>
          </li>
        ))}
      </ol>
      {total !== undefined && (
        <p className="muted" id="total" data-total={total.toString()}>
          {total.toString()} {total === 1n ? "message" : "messages"} in #{channel}
        </p>
      )}
      {/* A plain form with named fields that works without JavaScript; the island enhances it. */}
      <form id="send" method="POST" action={form?.action} onSubmit={send}>
        <input type="hidden" name="channel" value={channel} />
        {form && <input type="hidden" name="key" value={form.key} />}
        <input
          name="body"
          maxLength={2000}
          required
          autoComplete="off"
          placeholder="Say something"
        />
        <button>Send</button>
      </form>
      {form?.error && <p className="muted" id="send-error" role="alert">{form.error}</p>}
      <p className="muted">
        <span id="status">{sendError || status.error?.message || state}</span> ·{" "}
        <a href="/">all channels</a> · <a href="/about">about</a>
      </p>
    </section>
  );
}
