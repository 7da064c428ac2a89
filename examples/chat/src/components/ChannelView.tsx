/**
 * The channel as a React island. The page passes the preloaded token as a prop
 * (`<ChannelView client:load preloaded={preloaded} />`); Astro serializes it, `Date`s and
 * `bigint`s included, so the first client render equals the server's HTML and needs no fetch.
 * Then `usePreloadedQuery` goes live over `/_lunora/ws` and the form sends through
 * `/_lunora/rpc` with `x-lunora-mutation-id` (new per send) and `x-lunora-client-id` (one per
 * page), as Lunora's client does. Without JavaScript the same form posts to the page's
 * `messages.send` Astro Action, carrying the idempotency key the page rendered.
 */
import type { Preloaded } from "@lunora/astro/server";
import { type FormEvent, useEffect, useState } from "react";
import { clock } from "../client/clock.ts";
import { usePreloadedQuery } from "../client/use_preloaded_query.ts";
import { api } from "../lunora/api.ts";
import type { MessageList } from "../shard/functions.ts";

interface Props {
  channel: string;
  preloaded: Preloaded<MessageList>;
  /** The Lunora API's origin; default: the page's. */
  apiUrl?: string;
  /**
   * Where the send form posts without JavaScript (the `messages.send` Action), the idempotency
   * key it carries, and the error of the last post.
   */
  form?: { action: string; key: string; error?: string | undefined };
}

// Made on the first send: workerd allows no random values while a module loads.
let clientId: string | undefined;

export default function ChannelView({ channel, preloaded, apiUrl, form }: Props) {
  const { value, live, status, pushes } = usePreloadedQuery(preloaded, {
    apiUrl,
  });
  const [sendError, setSendError] = useState("");
  const { viewer, messages, total } = value;

  // The end-to-end test and the status colour read this.
  useEffect(() => {
    document.body.dataset.live = String(live);
  }, [live]);

  async function send(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const input = form.elements.namedItem("body") as HTMLInputElement;
    const response = await fetch(`${apiUrl || location.origin}/_lunora/rpc`, {
      method: "POST",
      credentials: "include",
      headers: {
        "content-type": "application/json",
        "x-lunora-mutation-id": crypto.randomUUID(),
        "x-lunora-client-id": clientId ??= crypto.randomUUID(),
      },
      body: JSON.stringify({
        functionPath: api.messages.send.__lunoraRef,
        args: { channel, body: input.value },
        shardKey: preloaded.shardKey,
      }),
    });
    const envelope = await response.json().catch(() => ({}));
    if (envelope.error) setSendError(`error: ${envelope.error.message}`);
    else {
      setSendError("");
      input.value = "";
    }
  }

  return (
    <section id="chat" data-api-url={apiUrl}>
      <header>
        <h1>#{channel}</h1>
        <span
          className="muted"
          id="viewer"
          data-user-id={preloaded.value.viewer?.userId ?? ""}
          data-live-user-id={pushes > 0 ? viewer?.userId ?? "" : undefined}
        >
          {viewer ? `signed in as ${String(viewer.name ?? "")} (${viewer.userId})` : "anonymous"}
        </span>
      </header>
      <ol id="messages">
        {messages.map((message) => (
          <li key={message.id} id={`message-${message.id}`} data-id={message.id}>
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
      <p className="muted" id="total" data-total={total.toString()}>
        {total.toString()} {total === 1n ? "message" : "messages"} in #{channel}
      </p>
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
        <span id="status">{sendError || status}</span> · <a href="/">all channels</a>
      </p>
    </section>
  );
}
