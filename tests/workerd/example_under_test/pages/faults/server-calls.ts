/**
 * A probe for `deno task soak` (like the shard's `faults:*` functions, the example does not have
 * it): the page request's server client calls an action whose shard call fails
 * `retryable`, then a mutation that reports the ids it carried. The soak sends the request
 * with browser-made `x-lunora-mutation-id` / `x-lunora-client-id` headers and then reads, with
 * `probes:calls`, what the shard saw: the action once and without ids (never retried), the
 * mutation with the server client's own ids, not the browser's.
 */
import type { APIRoute } from "astro";
import { action, LunoraServerError, mutation } from "@lunora/astro/server";
import type { CallIds } from "../../../../../examples/chat/src/shard/registry.ts";

interface ProbeArgs {
  channel: string;
  probe: string;
}

const unavailable = action<ProbeArgs, never>("faults:unavailableAction");
const ids = mutation<ProbeArgs, CallIds>("faults:idsMutation");

export const POST: APIRoute = async ({ locals, request }) => {
  const body: unknown = await request.json().catch(() => null);
  const { channel, probe } = (body ?? {}) as Partial<ProbeArgs>;
  if (typeof channel !== "string" || typeof probe !== "string") {
    return Response.json({ error: 'Send {"channel","probe"} as JSON' }, { status: 400 });
  }
  const args = { channel, probe };
  let actionError: { code: string; status: number | undefined } | null = null;
  try {
    await locals.lunora.action(unavailable, args, { shardKey: channel });
  } catch (error) {
    if (!(error instanceof LunoraServerError)) throw error;
    actionError = { code: error.code, status: error.status };
  }
  const sent = await locals.lunora.mutation(ids, args, { shardKey: channel });
  return Response.json({ action: actionError, mutation: sent });
};
