/**
 * Registers the in-process RPC transport for a page request before Astro renders it.
 *
 * @module
 */
import type { ExecutionContextLike } from "../types.ts";
import type { CompiledOptions } from "./compile_options.ts";

/** Makes `/_lunora/rpc` reachable from the page rendering for `request`, without HTTP. */
export function registerInProcess<Env>(
  _request: Request,
  _ctx: ExecutionContextLike,
  _env: Env,
  _compiled: CompiledOptions<Env>,
): void {
  // Filled in with the RPC core.
}
