/**
 * The worker the soak test runs on bare workerd (no wrangler, no dev proxy, no inspector
 * client but its own): `withLunora` from this repository's sources around a host that renders a
 * page or throws, and a Durable Object shard that answers RPCs. It isolates the package's own
 * memory behaviour from the dev tooling's. Bundled with `deno bundle` by `bare.ts`.
 *
 * @module
 */
import { withLunora } from "../../../src/worker/with_lunora.ts";
import type { DurableObjectNamespaceLike } from "../../../src/types.ts";

/** A shard that counts its calls and echoes the function path. */
export class Shard {
  #calls = 0;

  /** Answers `POST /rpc` like a Lunora shard: `{"result"}`. */
  async fetch(request: Request): Promise<Response> {
    const { functionPath } = await request.json() as { functionPath: string };
    this.#calls++;
    return Response.json({ result: { calls: this.#calls, functionPath } });
  }
}

function host(request: Request): Response {
  if (request.url.endsWith("/boom")) throw new Error("boom (bare soak host)");
  return new Response("<!doctype html><h1>page</h1>", {
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}

/** The composed worker. */
export default withLunora(
  host,
  (env: { SHARD: DurableObjectNamespaceLike }) => ({
    shardDO: env.SHARD,
    allowUnauthenticatedShardAccess: true,
  }),
);
