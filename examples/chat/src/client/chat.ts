/**
 * The plain-TypeScript island of `/cross-origin/*` (no UI framework): it reads the token the
 * page embedded with `serializePreloaded` in `<script type="application/json">`, renders from
 * it (no flash, no second fetch), goes live over `<api>/_lunora/ws` (`live_query.ts`) and sends
 * messages through `<api>/_lunora/rpc`, where `<api>` is the page's `data-api-url`, with
 * `x-lunora-mutation-id` and `x-lunora-client-id` like Lunora's client. The browser's
 * better-auth session cookie rides along, so the socket runs as the same user as the server
 * render.
 */
import { deserializePreloaded, type Preloaded } from "@lunora/astro/server";
import { api } from "../lunora/api.ts";
import type { MessageList } from "../shard/functions.ts";
import { clock } from "./clock.ts";
import { subscribeLive } from "./live_query.ts";

const CLIENT_ID = crypto.randomUUID();

const tokenText = document.getElementById("lunora-preloaded")?.textContent ??
  "";
const preloaded = deserializePreloaded(tokenText) as Preloaded<MessageList>;
const args = preloaded.args as { channel: string };

const apiUrl = document.getElementById("chat")?.dataset.apiUrl ||
  location.origin;
const list = document.getElementById("messages") as HTMLOListElement;
const status = document.getElementById("status") as HTMLElement;
const total = document.getElementById("total") as HTMLElement;
const viewerLabel = document.getElementById("viewer") as HTMLElement;

function render(value: MessageList): void {
  // Who the shard saw on this socket: the same user the server render ran as.
  viewerLabel.dataset.liveUserId = value.viewer?.userId ?? "";
  list.replaceChildren(
    ...value.messages.map((message) => {
      const item = document.createElement("li");
      item.dataset.id = String(message.id);
      const author = document.createElement("strong");
      author.className = "author";
      author.dataset.userId = message.author;
      author.textContent = message.authorName;
      const body = document.createElement("span");
      body.className = "body";
      body.textContent = message.body;
      const time = document.createElement("time");
      time.className = "muted";
      time.dateTime = message.createdAt.toISOString();
      time.textContent = clock(message.createdAt);
      item.append(author, " ", body, " ", time);
      return item;
    }),
  );
  total.dataset.total = value.total.toString();
  total.textContent = `${value.total} ${
    value.total === 1n ? "message" : "messages"
  } in #${args.channel}`;
}

subscribeLive(preloaded, (state) => {
  if (state.pushes > 0) render(state.value);
  status.textContent = state.status;
  document.body.dataset.live = String(state.live);
}, { apiUrl });

document.getElementById("send")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget as HTMLFormElement;
  const input = form.elements.namedItem("body") as HTMLInputElement;
  const response = await fetch(`${apiUrl}/_lunora/rpc`, {
    method: "POST",
    // The session cookie also goes to an API on another origin of the same site (CORS).
    credentials: "include",
    // As Lunora's client does: a fresh mutation id per send, one client id per page, so the
    // shard stores a send once however often it is retried.
    headers: {
      "content-type": "application/json",
      "x-lunora-mutation-id": crypto.randomUUID(),
      "x-lunora-client-id": CLIENT_ID,
    },
    body: JSON.stringify({
      functionPath: api.messages.send.__lunoraRef,
      args: { channel: args.channel, body: input.value },
      shardKey: preloaded.shardKey,
    }),
  });
  const envelope = await response.json();
  if (envelope.error) status.textContent = `error: ${envelope.error.message}`;
  else input.value = "";
});
