/**
 * The plain-TypeScript island of `/cross-origin/*` (no UI framework). The Lunora API lives on
 * another origin, the page's `data-api-url`, so the island makes its own client for it with
 * `createLunoraClient({ url })`. It reads the token the page embedded with `serializePreloaded`
 * in `<script type="application/json">`, renders from it (no flash, no second fetch), keeps it
 * live over that origin's socket and sends messages through its `/_lunora/rpc`. The socket
 * carries a short-lived WebSocket token this page's origin issues for the signed-in user
 * (`wsToken`); the browser's better-auth session cookie rides along with the writes (same site),
 * so both run as the same user as the server render.
 */
import { createLunoraClient } from "@lunora/astro/client";
import { api } from "../lunora/api.ts";
import type { MessageList } from "../shard/functions.ts";
import { clock } from "./clock.ts";

const section = document.getElementById("chat") as HTMLElement;
const list = document.getElementById("messages") as HTMLOListElement;
const status = document.getElementById("status") as HTMLElement;
const total = document.getElementById("total") as HTMLElement;
const viewerLabel = document.getElementById("viewer") as HTMLElement;
const channel = section.dataset.channel ?? "";

/**
 * A short-lived token for the API origin's socket, from this page's origin (`GET /lunora-token`,
 * with the session cookie); none when signed out. Asked again before every connect, so a token
 * the shard expired (close code 4001) is replaced by a fresh one.
 */
async function wsToken(): Promise<string | undefined> {
  const response = await fetch("/lunora-token", { cache: "no-store" });
  if (!response.ok) return undefined;
  const { token } = await response.json() as { token?: string };
  return token;
}

const client = createLunoraClient({ url: section.dataset.apiUrl || location.origin, wsToken });
const tokenText = document.getElementById("lunora-preloaded")?.textContent ?? "";
const preloaded = client.hydratePreloaded<MessageList>(tokenText);

function render(value: MessageList): void {
  // Who the shard saw on this socket: the same user the server render ran as.
  viewerLabel.dataset.liveUserId = value.viewer?.userId ?? "";
  list.replaceChildren(
    ...value.messages.map((message) => {
      const item = document.createElement("li");
      item.id = `message-${message.id}`;
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
  } in #${channel}`;
}

// The first value is the token's, which the server already rendered: leave the DOM alone.
let first = true;
preloaded.subscribe((value) => {
  if (!first && value !== undefined) render(value);
  first = false;
});
preloaded.status.subscribe(({ state, error }) => {
  status.textContent = error ? `error: ${error.message}` : state;
  document.body.dataset.live = String(state === "live");
});

document.getElementById("send")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = (event.currentTarget as HTMLFormElement).elements.namedItem(
    "body",
  ) as HTMLInputElement;
  try {
    await client.mutation(api.messages.send, { channel, body: input.value }, {
      shardKey: channel,
    });
    input.value = "";
  } catch (error) {
    status.textContent = `error: ${error instanceof Error ? error.message : String(error)}`;
  }
});
