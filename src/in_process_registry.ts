/**
 * The hand-off between `withLunora` and the `/server` helpers: in-process RPC and the record
 * of a page's server calls.
 *
 * Before the composed worker calls Astro for a page, it registers a request scope under that
 * invocation's `Request` and execution context objects. A server client rendering the page
 * looks the scope up by `Astro.request` or `Astro.locals.cfContext` (the very objects the
 * worker handed to Astro), calls the shard through it directly, as the page's caller, without
 * an HTTP round trip, and records every call it makes there (in process or over HTTP), which
 * the worker turns into the page's `Server-Timing`. The scope is held by those per-invocation
 * objects themselves, so one request's identity and calls can never be found from another
 * request. The registry is kept on `globalThis` under a registered symbol, so two copies of
 * this module in one bundle still find each other's scopes.
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

/** How a recorded call travelled: straight to the shard, or as `POST /_lunora/rpc`. */
export type ServerCallVia = "in-process" | "http";

/** One finished call of a server client, as the page's request scope records it. */
export interface ServerCallRecord {
  /** The function's path, e.g. `"messages:list"`. */
  readonly functionPath: string;
  /** The call's kind. */
  readonly kind: InProcessCallKind;
  /** The shard key the caller named; `undefined` for the worker's default shard. */
  readonly shardKey: string | undefined;
  /** Milliseconds from sending the call to reading its answer. */
  readonly durationMs: number;
  /** How the call travelled. */
  readonly via: ServerCallVia;
  /** `"ok"`, or the error code the call failed with (e.g. `"NOT_FOUND"`). */
  readonly outcome: string;
}

/**
 * What the composed worker registers for one page invocation: the in-process transport and
 * the record of the page's server calls.
 */
export interface RequestScope {
  /**
   * Runs one `/_lunora/rpc` envelope (JSON text) for the registered page request and returns
   * the same response `/_lunora/rpc` would.
   */
  run(envelope: string, call: InProcessCall): Promise<Response>;
  /**
   * Times a call a server client made for this page (`inProcess`, or over HTTP), from now until
   * `result` settles, and records it then (`outcome` is `"ok"`, or the rejection's `code`).
   * Resolves or rejects as `result` does.
   */
  track<T>(result: Promise<T>, ...call: TrackedCall): Promise<T>;
}

/** What {@linkcode RequestScope.track} learns about a call besides its result. */
export type TrackedCall = [
  functionPath: string,
  kind: InProcessCallKind,
  shardKey: string | undefined,
  inProcess: boolean,
];

interface Registry {
  set(key: object, scope: RequestScope): void;
  get(key: object): RequestScope | undefined;
}

/**
 * Where the first copy of this module leaves its registry for every other copy. The key names
 * the contract's version: a copy that speaks another contract (version 1 took no call
 * descriptor and treated every call as a query; version 2 registered a bare transport function
 * and recorded no calls) never finds this copy's scopes, so its server clients fall back to
 * HTTP instead of sending a call the scope misreads.
 */
export const REGISTRY_KEY: unique symbol = Symbol.for(
  "@lunora/astro/in-process-rpc/registry@3",
) as never;

/**
 * A registry that holds each scope in a private field of its key object. A class whose
 * constructor returns `key` lets a subclass add its private field to `key` itself. Such a field
 * is invisible to reflection, is not copied by spread or `Object.assign`, is never inherited
 * (so nothing on a prototype can pose as a scope), and lives and dies with the key. It is
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
    #scope: RequestScope;
    constructor(key: object, scope: RequestScope) {
      super(key);
      this.#scope = scope;
    }
    static set(key: object, scope: RequestScope): void {
      if (#scope in key) (key as Stamped).#scope = scope;
      else new Stamped(key, scope);
    }
    static get(key: object): RequestScope | undefined {
      return #scope in key ? (key as Stamped).#scope : undefined;
    }
  }
  const table = new WeakMap<object, RequestScope>();
  return {
    set(key, scope) {
      try {
        Stamped.set(key, scope);
      } catch {
        table.set(key, scope);
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

/** Registers `scope` under every key object (request, execution context). */
export function setRequestScope(keys: readonly object[], scope: RequestScope): void {
  const { set } = registry();
  for (let i = 0; i < keys.length; i++) set(keys[i]!, scope);
}

/** The scope registered under `key`, if any. */
export function getRequestScope(key: unknown): RequestScope | undefined {
  if ((typeof key !== "object" && typeof key !== "function") || key === null) return undefined;
  return registry().get(key);
}
