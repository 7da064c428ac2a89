/**
 * The channel page's plain script (no UI framework): it tells screen readers about each new
 * message, through the page's `aria-live` region `#announcer`. It asks for the same
 * `messages:latest` query as the islands, without a token (`liveQuery`): the page's client
 * already holds that subscription, so this adds no socket and no subscription, and starts from
 * the value the islands show.
 *
 * The layout's `<ClientRouter />` runs this module once; `astro:page-load` fires after every
 * navigation, so the script follows the page it is on.
 */
import { liveQuery } from "@lunora/astro/client";
import { api } from "../lunora/api.ts";
import type { MessageRow } from "../shard/functions.ts";

let stop: (() => void) | undefined;

function announce(region: HTMLElement, channel: string): () => void {
  const messages = liveQuery(api.messages.latest, { channelId: channel }, { shardKey: channel });
  // The first list is what the page already shows; announce only what arrives after it.
  let shown: readonly MessageRow[] | undefined;
  return messages.subscribe((list) => {
    if (list === undefined) return;
    const last = list.at(-1);
    // The page rendered the newest id already: touch the DOM only when it changed.
    if (region.dataset.latestId !== (last?._id ?? "")) region.dataset.latestId = last?._id ?? "";
    if (shown !== undefined && last !== undefined && last._id !== shown.at(-1)?._id) {
      region.textContent = `New message from ${last.authorName}: ${last.body}`;
    }
    shown = list;
  });
}

document.addEventListener("astro:page-load", () => {
  stop?.();
  stop = undefined;
  const region = document.getElementById("announcer");
  const channel = region?.dataset.channel;
  if (region && channel) stop = announce(region, channel);
});
