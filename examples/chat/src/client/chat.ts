/**
 * The channel island, in plain TypeScript: it renders from the server's preloaded token (no
 * flash, no second fetch), subscribes to the same query over `/_lunora/ws`, and sends messages
 * through `/_lunora/rpc`. Query results are plain JSON here, so frames need no wire decoding.
 */
import { deserializePreloaded } from "@lunora/astro/server";
import { api } from "../lunora/api.ts";
import type { MessageList } from "../shard/functions.ts";

const SUBSCRIPTION = "sub_1";
const PING_MS = 25_000;

const tokenText = document.getElementById("lunora-preloaded")?.textContent ??
  "";
const preloaded = deserializePreloaded(tokenText);
const shardKey = preloaded.shardKey ?? "";
const args = preloaded.args as { channel: string };

const list = document.getElementById("messages") as HTMLOListElement;
const status = document.getElementById("status") as HTMLElement;

function render(value: MessageList): void {
  list.replaceChildren(
    ...value.messages.map((message) => {
      const item = document.createElement("li");
      item.dataset.id = String(message.id);
      const author = document.createElement("strong");
      author.className = "author";
      author.textContent = message.author;
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
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(
    `${scheme}://${location.host}/_lunora/ws?shard=${encodeURIComponent(shardKey)}`,
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
  const response = await fetch("/_lunora/rpc", {
    method: "POST",
    headers: { "content-type": "application/json" },
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

document.getElementById("sign-in")?.addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget as HTMLFormElement;
  const user = (form.elements.namedItem("user") as HTMLInputElement).value
    .trim();
  // Demo only: the worker's resolveIdentity trusts this cookie (see src/lunora/identity.ts).
  document.cookie = user
    ? `demo_user=${encodeURIComponent(user)}; path=/; SameSite=Lax`
    : "demo_user=; path=/; max-age=0; SameSite=Lax";
  location.reload();
});
