/**
 * Registers the in-process RPC transport for a page request before Astro renders it, so a
 * `/server` client can reach the shard without an HTTP round trip to the worker's own URL.
 *
 * @module
 */
import { setInProcessTransport } from "../in_process_registry.ts";
import type { ExecutionContextLike } from "../types.ts";
import type { CompiledOptions } from "./compile_options.ts";
import { toErrorResponse } from "./errors.ts";
import { forwardCall, parseCall, parseJsonBody } from "./rpc.ts";
import { payloadTooLarge } from "./body.ts";

const encoder = new TextEncoder();

/**
 * Makes `/_lunora/rpc` reachable from the page rendering for `request`. Calls run as that page
 * request's caller (its cookie and authorization, `resolveIdentity`, the tenant gate) and answer
 * exactly what `/_lunora/rpc` would. They are queries issued by the `/server` helpers, so
 * `retryable` shard errors are retried.
 */
export function registerInProcess<Env>(
  request: Request,
  ctx: ExecutionContextLike,
  env: Env,
  compiled: CompiledOptions<Env>,
): void {
  setInProcessTransport([request, ctx], async (envelope: string) => {
    try {
      // A UTF-16 code unit is at most 3 UTF-8 bytes: most envelopes need no byte count.
      if (
        envelope.length * 3 > compiled.maxBodyBytes &&
        encoder.encode(envelope).byteLength > compiled.maxBodyBytes
      ) throw payloadTooLarge();
      const call = parseCall(parseJsonBody(envelope), compiled.defaultShardKey);
      return await forwardCall(compiled, env, request, call, { idempotent: true, system: false });
    } catch (error) {
      return toErrorResponse(error);
    }
  });
}
