/**
 * The hand-off between `withLunora` and the `/server` helpers for in-process RPC.
 *
 * Before the composed worker calls Astro for a page, it registers a transport under that
 * invocation's `Request` and execution context objects. A server client rendering the page
 * looks the transport up by `Astro.request` or `Astro.locals.cfContext` (the very objects the
 * worker handed to Astro) and calls the shard directly, as the page's caller, without an HTTP
 * round trip. The transport is held by those per-invocation objects themselves, so one
 * request's identity can never be found from another request. The keys are registered symbols,
 * so two copies of this module in one bundle still find each other's transports.
 *
 * @module
 */

/** The kinds of call a server client makes. */
export type InProcessCallKind = "query" | "mutation" | "action";

/**
 * What the transport learns about a call besides its envelope: its kind (which decides whether
 * a `retryable` shard error is retried) and, for a mutation, the ids the server client minted
 * for it. These are the only Lunora ids the shard sees for the call: ids the browser sent on
 * the page request never ride on it.
 */
export interface InProcessCall {
  /** The call's kind. */
  readonly kind: InProcessCallKind;
  /** A mutation's `x-lunora-mutation-id` (its idempotency key, or a fresh random id). */
  readonly mutationId?: string;
  /** A mutation's `x-lunora-client-id` (one random id per server client). */
  readonly clientId?: string;
}

/**
 * Runs one `/_lunora/rpc` envelope (JSON text) for the registered page request and returns the
 * same response `/_lunora/rpc` would.
 */
export type InProcessTransport = (envelope: string, call: InProcessCall) => Promise<Response>;

/**
 * The hidden property a key object carries its transport in. The key names the contract's
 * version: a copy of this module that speaks another contract (version 1 took no call
 * descriptor and treated every call as a query) never finds this copy's transports, so its
 * server clients fall back to HTTP instead of sending a call the transport misreads.
 */
export const TRANSPORT_KEY: unique symbol = Symbol.for(
  "@lunora/astro/in-process-rpc/transport@2",
) as never;
/** The fallback table, on `globalThis`, for key objects that cannot take a property. */
const TABLE: unique symbol = Symbol.for("@lunora/astro/in-process-rpc@2") as never;

function table(): WeakMap<object, InProcessTransport> {
  const holder = globalThis as unknown as { [TABLE]?: WeakMap<object, InProcessTransport> };
  return holder[TABLE] ??= new WeakMap();
}

/**
 * Registers `transport` under every key object (request, execution context), as a
 * non-enumerable symbol-keyed property of the object itself: it lives and dies with the
 * invocation's objects. (A `WeakMap` entry per key does the same, but fresh keys on every
 * request make garbage collection trace them as ephemerons, several microseconds per page
 * request.) A frozen or sealed key falls back to a `WeakMap`.
 */
export function setInProcessTransport(
  keys: readonly object[],
  transport: InProcessTransport,
): void {
  for (const key of keys) {
    try {
      // Assigning keeps an existing property's attributes and is much cheaper than redefining.
      if (Object.hasOwn(key, TRANSPORT_KEY)) {
        (key as Record<symbol, unknown>)[TRANSPORT_KEY] = transport;
      } else {
        Object.defineProperty(key, TRANSPORT_KEY, {
          value: transport,
          configurable: true,
          writable: true,
        });
      }
    } catch {
      table().set(key, transport);
    }
  }
}

/**
 * The transport registered under `key`, if any. Only an own property counts, so nothing on a
 * prototype can pose as a transport.
 */
export function getInProcessTransport(key: unknown): InProcessTransport | undefined {
  if ((typeof key !== "object" && typeof key !== "function") || key === null) return undefined;
  const own = Object.getOwnPropertyDescriptor(key, TRANSPORT_KEY)?.value;
  return typeof own === "function" ? own as InProcessTransport : table().get(key);
}
