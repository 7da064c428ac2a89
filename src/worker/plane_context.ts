/**
 * What every reserved-plane handler receives.
 *
 * @module
 */
import type { ExecutionContextLike } from "../types.ts";
import type { CompiledOptions } from "./compile_options.ts";

/** One invocation of a reserved-plane endpoint. */
// deno-lint-ignore no-explicit-any
export interface PlaneContext<Env = any> {
  /** The incoming request, unread. */
  request: Request;
  /** `request.url`, parsed once. */
  url: URL;
  /** This invocation's bindings. */
  env: Env;
  /** This invocation's execution context. */
  ctx: ExecutionContextLike;
  /** The validated options in force for this invocation. */
  compiled: CompiledOptions<Env>;
}
