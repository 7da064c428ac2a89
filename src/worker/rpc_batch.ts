/**
 * `POST /_lunora/rpc-batch`: up to 500 calls; calls to one shard run in order, different shards
 * in parallel; each call gets its own `{ id, status, body }` slot, in the order of `calls`.
 *
 * @module
 */
import { readTextCapped } from "./body.ts";
import { PlaneError, toErrorResponse } from "./errors.ts";
import { resolveCaller } from "./identity.ts";
import type { PlaneContext } from "./plane_context.ts";
import { assertJsonPost, forwardCall, parseCall, parseJsonBody, type RpcCall } from "./rpc.ts";
import { assertSameOrigin } from "./security.ts";

/** The most calls one batch may carry. */
export const MAX_BATCH_CALLS = 500;

interface Slot {
  id: unknown;
  status: number;
  body: unknown;
}

async function bodyOf(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return { error: { code: "INTERNAL", message: "Shard answered with a body that is not JSON" } };
  }
}

async function slotFrom(id: unknown, response: Response): Promise<Slot> {
  return { id, status: response.status, body: await bodyOf(response) };
}

/** Answers `POST /_lunora/rpc-batch`. */
export async function handleRpcBatch(plane: PlaneContext): Promise<Response> {
  const { request, compiled, env } = plane;
  assertJsonPost(request);
  assertSameOrigin(request, compiled, false);
  const parsed = parseJsonBody(await readTextCapped(request, compiled.maxBodyBytes));
  const calls = typeof parsed === "object" && parsed !== null
    ? (parsed as Record<string, unknown>).calls
    : undefined;
  if (!Array.isArray(calls)) throw new PlaneError(400, "BAD_REQUEST", '"calls" must be an array');
  if (calls.length > MAX_BATCH_CALLS) {
    throw new PlaneError(400, "BATCH_TOO_LARGE", `A batch holds at most ${MAX_BATCH_CALLS} calls`);
  }

  const identity = await resolveCaller(compiled, request, env);
  const slots: Array<Slot | Promise<Slot>> = new Array(calls.length);
  const byShard = new Map<string, Array<{ index: number; id: unknown; call: RpcCall }>>();
  calls.forEach((raw, index) => {
    const id = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>).id : null;
    try {
      const call = parseCall(raw, compiled.defaultShardKey);
      const queue = byShard.get(call.shardKey) ?? [];
      queue.push({ index, id: id ?? null, call });
      byShard.set(call.shardKey, queue);
    } catch (error) {
      slots[index] = slotFrom(id ?? null, toErrorResponse(error));
    }
  });

  // A batch shares one idempotency key at most, so its calls are never retried.
  const mode = { idempotent: false, system: false };
  await Promise.all([...byShard.values()].map(async (queue) => {
    for (const { index, id, call } of queue) {
      let response: Response;
      try {
        response = await forwardCall(compiled, env, request, call, mode, identity);
      } catch (error) {
        response = toErrorResponse(error);
      }
      slots[index] = await slotFrom(id, response);
    }
  }));
  const results = await Promise.all(slots);
  return new Response(JSON.stringify({ results }), {
    status: 200,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}
