/**
 * A deliberately leaking build of `bare_worker.ts`, for proving that the bare-workerd memory
 * check catches a leak: the composed worker, with every `Request` it is handed kept forever.
 * Never published; `bare.ts` bundles it instead of the composed worker only when asked
 * (`deno task soak --bare-only --leaking-build`, or `LUNORA_SOAK_LEAKING_BUILD=1`).
 *
 * @module
 */
import composed from "./bare_worker.ts";

export { Shard } from "./bare_app.ts";

/** Every request the worker was handed. */
const kept: Request[] = [];

/** The composed worker, leaking every request. */
export default {
  fetch(
    request: Request,
    env: Parameters<typeof composed.fetch>[1],
    ctx: Parameters<typeof composed.fetch>[2],
  ): Promise<Response> {
    kept.push(request);
    return composed.fetch(request, env, ctx);
  },
};
