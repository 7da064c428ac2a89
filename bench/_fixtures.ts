/**
 * Shared bench fixtures: a realistic query result, a fake shard namespace that answers without
 * recording anything (so memory stays flat over millions of iterations), and the objects every
 * invocation of a module worker receives.
 *
 * @module
 */
import type { DurableObjectNamespaceLike, DurableObjectStubLike } from "../src/types.ts";
import { DEFAULT_MAX_BODY_BYTES, readTextCapped } from "../src/worker/body.ts";

/** One chat message, the shape of the example app's rows. */
export interface MessageRow {
  id: string;
  channel: string;
  author: string;
  body: string;
  createdAt: number;
  edited: boolean;
  likes: number;
  replyTo: string | null;
  tags: string[];
}

const WORDS = ["lunora", "astro", "worker", "shard", "socket", "preload", "island", "edge"];

/** `count` deterministic message rows, like a page of `messages:list`. */
export function messageRows(count: number): MessageRow[] {
  const rows: MessageRow[] = [];
  for (let i = 0; i < count; i++) {
    rows.push({
      id: `msg_${String(i).padStart(6, "0")}`,
      channel: "general",
      author: `user_${i % 17}`,
      body: `Message ${i}: ${WORDS[i % 8]} ${WORDS[(i * 3) % 8]} ${WORDS[(i * 5) % 8]} and more`,
      createdAt: 1_763_720_000_000 + i * 1_000,
      edited: i % 5 === 0,
      likes: i % 7,
      replyTo: i % 4 === 0 ? null : `msg_${String(i - 1).padStart(6, "0")}`,
      tags: i % 3 === 0 ? ["pinned", "release"] : [],
    });
  }
  return rows;
}

/** The result `messages:list` answers: the viewer plus the latest `count` messages. */
export function messageList(count: number): { viewer: null; messages: MessageRow[] } {
  return { viewer: null, messages: messageRows(count) };
}

/** A fake namespace whose every stub answers `answer()`; nothing is recorded. */
export function quietNamespace(
  answer: (request: Request) => Response | Promise<Response>,
): { ns: DurableObjectNamespaceLike; stub: DurableObjectStubLike } {
  const stub: DurableObjectStubLike = { fetch: (request) => Promise.resolve(answer(request)) };
  const ns: DurableObjectNamespaceLike = {
    idFromName: (name) => ({ toString: () => name }),
    get: () => stub,
    getByName: () => stub,
  };
  return { ns, stub };
}

/** A JSON response with a fixed body, as a shard answers. */
export function jsonAnswer(body: string): () => Response {
  return () => new Response(body, { headers: { "content-type": "application/json" } });
}

/** An execution context; `waitUntil` does nothing. */
export const ctx: { waitUntil(promise: Promise<unknown>): void } = { waitUntil() {} };

/** A row as a Lunora list query returns it: `_id` and `_creationTime` first. */
export type ListRow = MessageRow & { _id: string; _creationTime: number };

/** `count` message rows with `_id` and ascending `_creationTime`, a `messages:list` page. */
export function listRows(count: number): ListRow[] {
  return messageRows(count).map((row) => ({ _id: row.id, _creationTime: row.createdAt, ...row }));
}

/**
 * The minimal `/_lunora/rpc` forward a user could write instead of `withLunora`: the body read
 * under the 1 MiB cap, the envelope parsed for its `shardKey`, and the same body posted to that
 * shard's stub. No validation, identity, tenant gate, origin check or headers: the reference the
 * composed worker's RPC dispatch is measured against. The body is read with the package's own
 * capped reader (`src/worker/body.ts`, the fastest way found to read a body under a cap), so both
 * sides pay the same read and the ratio shows what the composition adds.
 */
export async function handRolledForward(
  request: Request,
  shards: DurableObjectNamespaceLike,
): Promise<Response> {
  let text: string;
  try {
    text = await readTextCapped(request, DEFAULT_MAX_BODY_BYTES);
  } catch {
    return new Response("too large", { status: 413 });
  }
  const { shardKey } = JSON.parse(text) as { shardKey?: string };
  const stub = shards.get(shards.idFromName(shardKey ?? "default"));
  return await stub.fetch(
    new Request("https://shard.internal/rpc", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: text,
    }),
  );
}

/**
 * The smallest router a user could write in front of a host: the path read from `request.url`
 * without parsing the URL, `/_lunora/` sent to `plane`, everything else to `host`. The reference
 * for the composed worker's fall-through.
 */
export function handRolledRouter<Env, Ctx>(
  host: (request: Request, env: Env, ctx: Ctx) => Response | Promise<Response>,
  plane: (request: Request, env: Env) => Promise<Response>,
): { fetch(request: Request, env: Env, ctx: Ctx): Promise<Response> } {
  return {
    async fetch(request, env, ctx) {
      const url = request.url;
      const path = url.slice(url.indexOf("/", url.indexOf("//") + 2));
      if (path.startsWith("/_lunora/")) return await plane(request, env);
      return await host(request, env, ctx);
    },
  };
}
