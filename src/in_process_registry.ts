/**
 * The hand-off between `withLunora` and the `/server` helpers for in-process RPC.
 *
 * Before the composed worker calls Astro for a page, it registers a transport under that
 * invocation's `Request` and execution context objects. A server client rendering the page
 * looks the transport up by `Astro.request` or `Astro.locals.cfContext` (the very objects the
 * worker handed to Astro) and calls the shard directly, as the page's caller, without an HTTP
 * round trip. Keys are per-invocation objects held weakly, so one request's identity can never
 * be found from another request. The table lives on `globalThis` under a registered symbol so
 * that two copies of this module in one bundle still share it.
 *
 * @module
 */

/**
 * Runs one `/_lunora/rpc` envelope (JSON text) for the registered page request and returns the
 * same response `/_lunora/rpc` would.
 */
export type InProcessTransport = (envelope: string) => Promise<Response>;

const KEY: unique symbol = Symbol.for("@lunora/astro/in-process-rpc") as never;

function table(): WeakMap<object, InProcessTransport> {
  const holder = globalThis as unknown as { [KEY]?: WeakMap<object, InProcessTransport> };
  return holder[KEY] ??= new WeakMap();
}

/** Registers `transport` under every key object (request, execution context). */
export function setInProcessTransport(
  keys: readonly object[],
  transport: InProcessTransport,
): void {
  const map = table();
  for (const key of keys) map.set(key, transport);
}

/** The transport registered under `key`, if any. */
export function getInProcessTransport(key: unknown): InProcessTransport | undefined {
  if ((typeof key !== "object" && typeof key !== "function") || key === null) return undefined;
  return table().get(key);
}
