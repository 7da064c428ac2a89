/**
 * The hand-off between `withLunora` and the `/server` helpers for in-process RPC.
 *
 * Before the composed worker calls Astro for a page, it registers a transport under that
 * invocation's `Request` and execution context objects. A server client rendering the page
 * looks the transport up by `Astro.request` or `Astro.locals.cfContext` (the very objects the
 * worker handed to Astro) and calls the shard directly, as the page's caller, without an HTTP
 * round trip. The transport is held by those per-invocation objects themselves, so one
 * request's identity can never be found from another request. The registry is kept on
 * `globalThis` under a registered symbol, so two copies of this module in one bundle still
 * find each other's transports.
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

interface Registry {
  set(key: object, transport: InProcessTransport): void;
  get(key: object): InProcessTransport | undefined;
}

/**
 * Where the first copy of this module leaves its registry for every other copy. The key names
 * the contract's version: a copy that speaks another contract (version 1 took no call
 * descriptor and treated every call as a query) never finds this copy's transports, so its
 * server clients fall back to HTTP instead of sending a call the transport misreads.
 */
export const REGISTRY_KEY: unique symbol = Symbol.for(
  "@lunora/astro/in-process-rpc/registry@2",
) as never;

/**
 * A registry that holds each transport in a private field of its key object. A class whose
 * constructor returns `key` lets a subclass add its private field to `key` itself. Such a field
 * is invisible to reflection, is not copied by spread or `Object.assign`, is never inherited
 * (so nothing on a prototype can pose as a transport), and lives and dies with the key. It is
 * also as cheap to add as a plain property, where `Object.defineProperty` takes V8's slow path
 * on workerd's `Request` and execution context objects. A key that cannot take a field (a frozen
 * object, once non-extensibility applies to private fields) falls back to a `WeakMap`; fresh
 * `WeakMap` keys on every request would cost garbage collection several microseconds each.
 */
function createRegistry(): Registry {
  class Key {
    constructor(key: object) {
      return key;
    }
  }
  class Stamped extends Key {
    #transport: InProcessTransport;
    constructor(key: object, transport: InProcessTransport) {
      super(key);
      this.#transport = transport;
    }
    static set(key: object, transport: InProcessTransport): void {
      if (#transport in key) (key as Stamped).#transport = transport;
      else new Stamped(key, transport);
    }
    static get(key: object): InProcessTransport | undefined {
      return #transport in key ? (key as Stamped).#transport : undefined;
    }
  }
  const table = new WeakMap<object, InProcessTransport>();
  return {
    set(key, transport) {
      try {
        Stamped.set(key, transport);
      } catch {
        table.set(key, transport);
      }
    },
    get: (key) => Stamped.get(key) ?? table.get(key),
  };
}

let shared: Registry | undefined;

function registry(): Registry {
  const holder = globalThis as unknown as { [REGISTRY_KEY]?: Registry };
  return shared ??= holder[REGISTRY_KEY] ??= createRegistry();
}

/** Registers `transport` under every key object (request, execution context). */
export function setInProcessTransport(
  keys: readonly object[],
  transport: InProcessTransport,
): void {
  const { set } = registry();
  for (let i = 0; i < keys.length; i++) set(keys[i]!, transport);
}

/** The transport registered under `key`, if any. */
export function getInProcessTransport(key: unknown): InProcessTransport | undefined {
  if ((typeof key !== "object" && typeof key !== "function") || key === null) return undefined;
  return registry().get(key);
}
