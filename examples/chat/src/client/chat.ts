/**
 * The channel island, in plain TypeScript: it renders from the server's preloaded token (no
 * flash, no second fetch), subscribes to the same query over `<api>/_lunora/ws`, and sends
 * messages through `<api>/_lunora/rpc`, where `<api>` is the page's `data-api-url` (this origin,
 * or the Lunora API's origin on `/cross-origin/*`). The browser's better-auth session cookie
 * rides along, so the socket runs as the same user as the server render. Sends carry
 * `x-lunora-mutation-id` and `x-lunora-client-id` like Lunora's client (the send form also
 * works without JavaScript, through an Astro Action). The auth forms post
 * JSON to better-auth at `/api/auth/*` on this origin. Query results are plain JSON here, so
 * frames need no wire decoding.
 */
import { deserializePreloaded } from "@lunora/astro/server";
import { api } from "../lunora/api.ts";
import type { MessageList } from "../shard/functions.ts";

const SUBSCRIPTION = "sub_1";
const PING_MS = 25_000;
const CLIENT_ID = crypto.randomUUID();

const tokenText = document.getElementById("lunora-preloaded")?.textContent ??
  "";
const preloaded = deserializePreloaded(tokenText);
const shardKey = preloaded.shardKey ?? "";
const args = preloaded.args as { channel: string };

const apiUrl = document.getElementById("chat")?.dataset.apiUrl || location.origin;
const list = document.getElementById("messages") as HTMLOListElement;
const status = document.getElementById("status") as HTMLElement;
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
      item.append(author, " ", body);
      return item;
    }),
  );
}

function setStatus(text: string, live: boolean): void {
  status.textContent = text;
  document.body.dataset.live = String(live);
}

render(preloaded.value as MessageList);

let retryMs = 500;
function connect(): void {
  const socket = new WebSocket(
    `${apiUrl.replace(/^http/, "ws")}/_lunora/ws?shard=${encodeURIComponent(shardKey)}`,
  );
  let ping: ReturnType<typeof setInterval> | undefined;
  socket.addEventListener("open", () => {
    retryMs = 500;
    socket.send(JSON.stringify({
      type: "subscribe",
      id: SUBSCRIPTION,
      query: { functionPath: preloaded.functionPath, args: preloaded.args },
    }));
    ping = setInterval(() => socket.send("lunora-ping"), PING_MS);
  });
  socket.addEventListener("message", (event) => {
    if (event.data === "lunora-pong") return;
    const frame = JSON.parse(String(event.data));
    if (frame.type === "ack" && frame.id === SUBSCRIPTION) {
      setStatus("live", true);
    } else if (frame.type === "data" && frame.id === SUBSCRIPTION) {
      render(frame.data);
    } else if (frame.type === "error") {
      setStatus(`error: ${frame.error?.message}`, false);
    }
  });
  socket.addEventListener("close", () => {
    clearInterval(ping);
    setStatus("reconnecting…", false);
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 10_000);
  });
}
connect();

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
      shardKey,
    }),
  });
  const envelope = await response.json();
  if (envelope.error) setStatus(`error: ${envelope.error.message}`, false);
  else input.value = "";
});

/** Posts a form's fields as JSON to better-auth; reloads on success, shows the error if not. */
function authForm(id: string, path: string, fields: string[]): void {
  document.getElementById(id)?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const body: Record<string, string> = {};
    for (const name of fields) {
      const value = (form.elements.namedItem(name) as HTMLInputElement).value;
      body[name] = name === "password" ? value : value.trim();
    }
    const response = await fetch(`/api/auth${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (response.ok) {
      location.reload();
      return;
    }
    const answer = await response.json().catch(() => ({}));
    const error = document.getElementById("auth-error");
    if (error) {
      error.textContent = answer.message ??
        `${path} failed (${response.status})`;
    }
  });
}

authForm("sign-in", "/sign-in/email", ["email", "password"]);
authForm("sign-up", "/sign-up/email", ["name", "email", "password"]);
authForm("sign-out", "/sign-out", []);
