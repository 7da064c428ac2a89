/**
 * The worker the soak test runs on bare workerd (no wrangler, no dev proxy, no inspector
 * client but its own): `withLunora` from this repository's sources around the host and shard of
 * `bare_app.ts`. It isolates the package's own memory behaviour from the dev tooling's; it is
 * judged against `baseline_worker.ts`, the same host and shard behind a hand-written router.
 * Bundled with `deno bundle` by `bare.ts`.
 *
 * @module
 */
import { withLunora } from "../../../src/worker/with_lunora.ts";
import type { DurableObjectNamespaceLike } from "../../../src/types.ts";
import { host } from "./bare_app.ts";

export { Shard } from "./bare_app.ts";

/** The composed worker. */
export default withLunora(
  host,
  (env: { SHARD: DurableObjectNamespaceLike }) => ({
    shardDO: env.SHARD,
    allowUnauthenticatedShardAccess: true,
  }),
);
