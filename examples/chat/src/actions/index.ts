/**
 * The app's Astro Actions. `messages.send` writes a message from a plain HTML form, so the chat
 * works with JavaScript disabled: the channel page posts the form here
 * (`<form method="POST" action={actions.messages.send}>`), the action calls the shard through
 * `context.locals.lunora` (in process, as the signed-in visitor), and the page redirects.
 *
 * The form carries a hidden `key` rendered with the page (`crypto.randomUUID()`). It becomes
 * the mutation's idempotency key, so posting the same form twice (a double click, a resubmit
 * after a lost answer) stores the message once: the shard answers the repeat with the first
 * result. With JavaScript on, the island sends through `/_lunora/rpc` instead.
 */
import { ActionError, defineAction } from "astro:actions";
import { z } from "astro/zod";
import { LunoraServerError } from "@lunora/astro/server";
import { api } from "../lunora/api.ts";
import { CHANNEL } from "../shard/functions.ts";

/** What `@lunora/astro` accepts as an idempotency key: 1-255 printable ASCII, no space. */
const KEY = /^[\x21-\x7e]{1,255}$/;

/** A failed shard call as the action's error: the same HTTP status, the shard's message. */
function actionError(error: unknown): ActionError {
  if (!(error instanceof LunoraServerError)) throw error;
  return new ActionError({
    code: ActionError.statusToCode(error.status ?? 500),
    message: error.message,
  });
}

export const server = {
  messages: {
    send: defineAction({
      accept: "form",
      input: z.object({
        channel: z.string().regex(CHANNEL),
        body: z.string().trim().min(1).max(2000),
        key: z.string().regex(KEY),
      }),
      handler: async ({ channel, body, key }, context) => {
        try {
          return await context.locals.lunora.mutation(api.messages.send, { channel, body }, {
            shardKey: channel,
            idempotencyKey: key,
          });
        } catch (error) {
          throw actionError(error);
        }
      },
    }),
  },
};
