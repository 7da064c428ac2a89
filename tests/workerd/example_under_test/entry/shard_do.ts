/**
 * The example's `ShardDO` with the test functions (`faults.ts`) served next to the app's, and
 * the faults that strike a whole call rather than one function: a planned `retryable` failure
 * of a mutation's first attempt (before its write, or after its commit with the answer lost)
 * and the `retryable` failure of the functions in {@linkcode FAILS_RETRYABLE}; before all that,
 * the socket probes and controls of `socket_control.ts`. The test entry (`worker.ts`) exports
 * it as `ShardDO`, the class wrangler.jsonc binds.
 */
import { functions } from "../../../../examples/chat/src/shard/functions.ts";
import { ShardDO } from "../../../../examples/chat/src/shard/shard_do.ts";
import type { ShardState } from "../../../../examples/chat/src/shard/runtime.ts";
import {
  FAILS_RETRYABLE,
  faultFunctions,
  migrateFaults,
  plannedFault,
  RetryableFault,
} from "./faults.ts";
import { socketControl } from "./socket_control.ts";

const served = { ...functions, ...faultFunctions };

/** The function path of an RPC to the shard (`null` for anything else or an unreadable body). */
async function rpcPath(request: Request): Promise<string | null> {
  if (request.method !== "POST" || new URL(request.url).pathname !== "/rpc") return null;
  try {
    const { functionPath } = await request.clone().json();
    return typeof functionPath === "string" ? functionPath : null;
  } catch {
    return null;
  }
}

/** The example's shard plus the test functions and call-level faults. */
export class ShardUnderTest extends ShardDO {
  readonly #state: ShardState;

  constructor(state: ShardState, env: unknown) {
    super(state, env, served);
    this.#state = state;
    migrateFaults(state.storage.sql);
  }

  override async fetch(request: Request): Promise<Response> {
    const controlled = socketControl(this.#state, request);
    if (controlled !== null) return controlled;
    const path = await rpcPath(request);
    const mutation = path !== null && Object.hasOwn(served, path) &&
      served[path]!.kind === "mutation";
    const fault = mutation
      ? plannedFault(this.#state.storage.sql, request.headers.get("x-lunora-mutation-id"))
      : null;
    // Rejecting the fetch is how workerd reports a `retryable` failure to the worker.
    if (fault === "before-write") throw new RetryableFault("before the write");
    const response = await super.fetch(request);
    if (fault === "after-commit" && response.ok) throw new RetryableFault("after the commit");
    if (path !== null && FAILS_RETRYABLE.has(path) && response.ok) {
      throw new RetryableFault(path);
    }
    return response;
  }
}
