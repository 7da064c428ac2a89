/**
 * What both workers of the bare-workerd memory check share (`bare_worker.ts`, the composed one,
 * and `baseline_worker.ts`, its hand-written reference): the host that renders a page or throws,
 * and the Durable Object shard that answers RPCs. Only the router in front differs.
 *
 * @module
 */

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

/** The app's pages: `/boom` throws, everything else is a small HTML page. */
export function host(request: Request): Response {
  if (request.url.endsWith("/boom")) throw new Error("boom (bare soak host)");
  return new Response("<!doctype html><h1>page</h1>", {
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}
