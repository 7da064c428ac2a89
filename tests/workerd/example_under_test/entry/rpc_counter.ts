/**
 * Counts HTTP requests that reach the worker at `/_lunora/rpc`, so the end-to-end test can
 * prove a page's preload takes the in-process path (rendering a page adds no such request).
 * The count lives in the isolate; `isolate` tells the reader whether it is still the same one.
 * The test entry (`worker.ts`) answers it at `GET /_lunora/admin/stats`, behind the admin token.
 */
import type { ComposedWorker } from "@lunora/astro";

// Random values are not allowed at module scope in workerd: made on first use.
let isolate: string | undefined;
let rpcRequests = 0;

/** Wraps the composed worker's `fetch` with the counter; every other member is kept. */
export function countRpcRequests<W extends ComposedWorker>(worker: W): W {
  return {
    ...worker,
    fetch(request, env, ctx) {
      isolate ??= crypto.randomUUID();
      if (new URL(request.url).pathname === "/_lunora/rpc") rpcRequests++;
      return worker.fetch(request, env, ctx);
    },
  };
}

/** The admin route answering the counter. */
export function rpcStats(): Response {
  return Response.json({ isolate, rpcRequests }, {
    headers: { "cache-control": "no-store" },
  });
}
