/**
 * `createLunoraClient`: the browser client of one API origin. It holds one socket per shard
 * key (opened at the first subscription on that shard) and one subscription per distinct
 * query, whatever framework reads the stores, and runs browser writes over
 * `POST /_lunora/rpc`.
 *
 * @module
 */
import {
  assertFunctionPath,
  type CallArgs,
  type FunctionReference,
  type ReturnOf,
} from "../wire/function_reference.ts";
import { checkPreloaded, deserializePreloaded, type Preloaded } from "../wire/preloaded_token.ts";
import type { WebSocketConstructorLike } from "./connection.ts";
import { registerDevtools } from "./devtools.ts";
import type { CallKind } from "./browser_writes.ts";
import { createLiveStore, type LiveStore, type StoreHost } from "./live_store.ts";
import type { LiveQuerySpec, Registry } from "./subscription_registry.ts";

/** A token, or a function run before each use that answers one (sync or async). */
export type TokenSource = string | (() => string | undefined | Promise<string | undefined>);

/** Options of {@linkcode createLunoraClient}. */
export interface LunoraClientOptions {
  /**
   * The API's origin (optionally with a path prefix), e.g. `"https://api.example.com"`.
   * Default: the page's own origin (`location.origin`), where the page's cookie rides the
   * socket's upgrade and every write.
   */
  url?: string;
  /**
   * A credential for the socket, sent as `?token=` on the upgrade: for an API on another
   * origin, where the page's cookie does not travel. A function is run again before every
   * connect attempt, so a token the shard expired (close code 4001) is replaced by a fresh one.
   * Default: none.
   */
  wsToken?: TokenSource;
  /**
   * A credential for browser writes and one-shot queries, sent as `authorization: Bearer`.
   * A function is run before every call. Default: none (the page's cookie is the identity).
   */
  authToken?: TokenSource;
  /**
   * The `WebSocket` constructor. Default: the browser's. A client opens sockets only in a
   * browser page (where `document` exists) or when this is given, so stores read during SSR
   * keep their seed and open nothing.
   */
  WebSocket?: WebSocketConstructorLike;
  /** The `fetch` used by writes and one-shot queries. Default: the global `fetch`. */
  fetch?: typeof fetch;
}

/** Options of a live query. */
export interface LiveQueryOptions {
  /** The shard the query runs on; the worker's default shard when absent. */
  shardKey?: string;
}

/** Options of a browser query or action. */
export interface CallOptions {
  /** The shard to run on; the worker's default shard when absent. */
  shardKey?: string;
}

/**
 * An optimistic change to one store while a mutation runs, made by {@linkcode optimistic}.
 */
export interface OptimisticUpdate {
  /** The store to change (a store from `hydratePreloaded` or `liveQuery`). */
  readonly store: object;
  /** The change, from the value the store would show without it. */
  readonly update: (current: never) => unknown;
}

/**
 * An optimistic change for `mutation(..., { optimistic })`: every store of the same query shows
 * `update(value)` at once; the change is dropped when the write is visible on the socket (a frame
 * at or past the write's commit cursor, or without one the next value after the answer), and
 * rolled back if the write fails. A store that is not mounted shows nothing extra.
 *
 * @typeParam T The store's value type.
 * @param store The store to change.
 * @param update The change; it gets the value without the change (`undefined` before any).
 * @returns The update, for the `optimistic` option.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { liveQuery, optimistic } from "@lunora/astro/client";
 *
 * const $messages = liveQuery({ __lunoraRef: "messages:list" });
 * const update = optimistic($messages, (list) => [...(list as string[] ?? []), "draft"]);
 * assert.equal(update.store, $messages);
 * ```
 */
export function optimistic<T>(store: LiveStore<T>, update: (current: T) => T): OptimisticUpdate {
  return { store, update };
}

/** Options of a browser mutation. */
export interface MutationCallOptions extends CallOptions {
  /**
   * Optimistic changes to show while the mutation runs (see {@linkcode optimistic}).
   * Default: none.
   */
  optimistic?: OptimisticUpdate | readonly OptimisticUpdate[];
  /**
   * The mutation's idempotency key, sent as `x-lunora-mutation-id` on every retry of this one
   * write (1 to 255 characters from `!` to `~`), so an answer lost on the network never
   * stores it twice. Default: a fresh random id per call.
   */
  idempotencyKey?: string;
}

/** A browser client, made by {@linkcode createLunoraClient}. Its methods work detached. */
export interface LunoraClient {
  /** The API URL, without a trailing slash. */
  readonly url: string;
  /** This client's id: sent on every socket's `connect` and as `x-lunora-client-id`. */
  readonly clientId: string;
  /**
   * A live store seeded with a `Preloaded` token's value (no fetch): an island's first render
   * equals the server HTML. The subscription starts when the store gets its first listener.
   *
   * @typeParam T The query's result type.
   * @param preloaded The token (from island props), or its `serializePreloaded` text (from a
   * `<script type="application/json">`).
   * @returns The store; `undefined` only after an identity switch, until the new value.
   * @throws {TypeError} When the token is malformed.
   */
  hydratePreloaded<T = unknown>(preloaded: Preloaded<T> | string): LiveStore<T | undefined>;
  /**
   * A live store of a query without a seed: `undefined` until the first value.
   *
   * @typeParam Ref The query reference type.
   * @param ref The query, e.g. `query("messages:list")` from `@lunora/astro/server`.
   * @param rest Its arguments object (`undefined` means `{}`), then `{ shardKey? }`.
   * @returns The store.
   * @throws {TypeError} For an invalid reference, arguments or shard key.
   */
  liveQuery<Ref extends FunctionReference<"query">>(
    ref: Ref,
    ...rest: CallArgs<Ref, LiveQueryOptions>
  ): LiveStore<ReturnOf<Ref> | undefined>;
  /**
   * Runs a query once over `POST /_lunora/rpc`.
   *
   * @typeParam Ref The query reference type.
   * @param ref The query.
   * @param rest Its arguments, then `{ shardKey? }`.
   * @returns The query's result.
   */
  query<Ref extends FunctionReference<"query">>(
    ref: Ref,
    ...rest: CallArgs<Ref, CallOptions>
  ): Promise<ReturnOf<Ref>>;
  /**
   * Runs a mutation over `POST /_lunora/rpc` with `x-lunora-mutation-id` (kept across its
   * retries) and `x-lunora-client-id`.
   *
   * @typeParam Ref The mutation reference type.
   * @param ref The mutation.
   * @param rest Its arguments, then `{ shardKey?, idempotencyKey? }`.
   * @returns The mutation's result.
   */
  mutation<Ref extends FunctionReference<"mutation">>(
    ref: Ref,
    ...rest: CallArgs<Ref, MutationCallOptions>
  ): Promise<ReturnOf<Ref>>;
  /**
   * Runs an action over `POST /_lunora/rpc`; never retried.
   *
   * @typeParam Ref The action reference type.
   * @param ref The action.
   * @param rest Its arguments, then `{ shardKey? }`.
   * @returns The action's result.
   */
  action<Ref extends FunctionReference<"action">>(
    ref: Ref,
    ...rest: CallArgs<Ref, CallOptions>
  ): Promise<ReturnOf<Ref>>;
  /**
   * Tells the client the signed-in identity changed (sign-out, sign-in, another user): every
   * store drops its seed and value (showing `undefined` until the new identity's first
   * value), cursors are forgotten, and every socket reopens at once, carrying the new cookie
   * or a fresh `wsToken`. Stores made before the call and mounted later start empty too.
   */
  resetIdentity(): void;
  /** Closes every socket for good; stores keep their last value with status `offline`. */
  close(): void;
}

/** Whether this runs in a browser page (a `document` and a `location`), not on a server. */
export function inBrowserPage(): boolean {
  const scope = globalThis as { document?: unknown; location?: unknown };
  return typeof scope.document === "object" && typeof scope.location === "object";
}

function fail(detail: string): TypeError {
  return new TypeError(`Cannot create Lunora client: ${detail}`);
}

function checkUrl(url: unknown): string {
  const text = url === undefined
    ? (globalThis as { location?: { origin?: string } }).location?.origin
    : url instanceof URL
    ? url.href
    : url;
  if (text === undefined) {
    throw fail('"url" is required outside a browser page (there is no location.origin)');
  }
  if (typeof text !== "string") throw fail(`"url" must be a string, got ${typeof url}`);
  let parsed: URL | undefined;
  try {
    parsed = new URL(text);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) {
    throw fail(`"url" must be an absolute http(s) URL, got ${JSON.stringify(text)}`);
  }
  if (parsed.username !== "" || parsed.password !== "") {
    throw fail('"url" must not carry credentials (use "wsToken" or "authToken")');
  }
  if (parsed.search !== "" || parsed.hash !== "") {
    throw fail(`"url" must not have a query or fragment, got ${JSON.stringify(text)}`);
  }
  return text.replace(/\/$/, "");
}

function checkTokenSource(name: string, value: unknown): TokenSource | undefined {
  if (value === undefined || typeof value === "string" || typeof value === "function") {
    return value as TokenSource | undefined;
  }
  throw fail(`"${name}" must be a string or a function, got ${typeof value}`);
}

async function readToken(source: TokenSource | undefined): Promise<string | undefined> {
  const token = typeof source === "function" ? await source() : source;
  return token === "" ? undefined : token;
}

/** Whether `value` is a plain object (`{}` or `Object.create(null)`), as call arguments must be. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The spec of a live query, checked; throws a `TypeError` naming the problem. */
export function liveSpec(ref: unknown, args: unknown, options: unknown): LiveQuerySpec {
  const functionPath = assertFunctionPath(
    (ref as { __lunoraRef?: unknown } | null)?.__lunoraRef,
    "function reference",
  );
  const what = `Cannot make live query ${JSON.stringify(functionPath)}`;
  if (args !== undefined && args !== null && !isPlainObject(args)) {
    throw new TypeError(`${what}: "args" must be a plain object`);
  }
  const shardKey = (options as { shardKey?: unknown } | null | undefined)?.shardKey;
  if (shardKey !== undefined && typeof shardKey !== "string") {
    throw new TypeError(`${what}: "shardKey" must be a string, got ${typeof shardKey}`);
  }
  const spec: LiveQuerySpec = { functionPath, args: (args ?? {}) as Record<string, unknown> };
  if (shardKey !== undefined) spec.shardKey = shardKey;
  return spec;
}

/** The spec and seed of a token or its text; throws a `TypeError` when it is malformed. */
export function tokenSpec(preloaded: unknown): { spec: LiveQuerySpec; seed: { value: unknown } } {
  const token = typeof preloaded === "string"
    ? deserializePreloaded(preloaded)
    : checkPreloaded(preloaded, "hydrate");
  const spec: LiveQuerySpec = { functionPath: token.functionPath, args: token.args };
  if (token.shardKey !== undefined) spec.shardKey = token.shardKey;
  return { spec, seed: { value: token.value } };
}

type Engine = typeof import("./subscription_registry.ts");
let engine: Promise<Engine> | undefined;
let loaded: Engine | undefined;

/**
 * Loads the socket engine (registry, connection, delta merge) once per page, on the first store
 * a client makes, so an island's first render never waits for it. Once it is loaded, stores
 * attach synchronously.
 */
export function loadEngine(): Promise<Engine> {
  return engine ??= import("./subscription_registry.ts").then((module) => loaded = module);
}

/**
 * Makes a browser client for one API origin. Nothing opens until a store gets a listener.
 *
 * @param options `{ url?, wsToken?, authToken?, WebSocket?, fetch? }`; see
 * {@linkcode LunoraClientOptions}.
 * @returns The client.
 * @throws {TypeError} When `url` is missing outside a browser page or is not an absolute
 * http(s) URL, or a token is neither a string nor a function.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLunoraClient } from "@lunora/astro/client";
 *
 * const api = createLunoraClient({ url: "https://api.example.com/", wsToken: () => "t0k3n" });
 * assert.equal(api.url, "https://api.example.com");
 * api.close();
 * ```
 */
export function createLunoraClient(options: LunoraClientOptions = {}): LunoraClient {
  if (typeof options !== "object" || options === null) {
    throw fail(`options must be an object, got ${options === null ? "null" : typeof options}`);
  }
  const url = checkUrl(options.url);
  const wsToken = checkTokenSource("wsToken", options.wsToken);
  const authToken = checkTokenSource("authToken", options.authToken);
  const clientId = crypto.randomUUID();
  const WebSocketClass = options.WebSocket ??
    (inBrowserPage() && typeof WebSocket === "function"
      ? WebSocket as unknown as WebSocketConstructorLike
      : undefined);
  let closed = false;
  let generation = 0;
  let live: Registry | undefined; // made when the engine is loaded and a store first mounts
  const make = ({ createRegistry }: Engine): Registry => {
    if (live) return live;
    live = createRegistry({
      socketUrl: `${url.replace(/^http/, "ws")}/_lunora/ws`,
      token: wsToken === undefined ? undefined : () => readToken(wsToken),
      WebSocket: WebSocketClass!,
      clientId,
    });
    if (closed) live.close();
    return live;
  };
  const host: StoreHost = {
    get generation() {
      return generation;
    },
    registry: () =>
      !WebSocketClass ? undefined : live ?? (loaded ? make(loaded) : loadEngine().then(make)),
  };

  const context = {
    url,
    clientId,
    authToken: () => readToken(authToken),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  };
  // Loaded on the first call: islands that only read never download it.
  const run = async (kind: CallKind, ref: unknown, args: unknown, callOptions: unknown) => {
    // Layers only show on mounted stores, so the engine is loaded whenever one can show.
    const layers = kind === "mutation" && loaded ? loaded.addLayers(callOptions) : [];
    try {
      const { runCall } = await import("./browser_writes.ts");
      const result = await runCall(context, kind, ref, args, callOptions);
      for (const layer of layers) layer.answered(result.commitCursor);
      return result.value;
    } catch (error) {
      for (const layer of layers.reverse()) layer.failed();
      throw error;
    }
  };

  const unregister = registerDevtools({
    snapshot: () => ({
      url,
      ...(live?.snapshot() ?? { sockets: [], subscriptions: [] }),
    }),
  });
  const client = {
    url,
    clientId,
    hydratePreloaded(preloaded: unknown) {
      const { spec, seed } = tokenSpec(preloaded);
      if (WebSocketClass) void loadEngine(); // loads while the island renders its seed
      return createLiveStore(host, spec, seed);
    },
    liveQuery(ref: unknown, args?: unknown, callOptions?: unknown) {
      const store = createLiveStore(host, liveSpec(ref, args, callOptions));
      if (WebSocketClass) void loadEngine();
      return store;
    },
    query: (ref: unknown, args?: unknown, callOptions?: unknown) =>
      run("query", ref, args, callOptions),
    mutation: (ref: unknown, args?: unknown, callOptions?: unknown) =>
      run("mutation", ref, args, callOptions),
    action: (ref: unknown, args?: unknown, callOptions?: unknown) =>
      run("action", ref, args, callOptions),
    resetIdentity() {
      generation++;
      live?.resetIdentity();
    },
    close() {
      unregister();
      closed = true;
      live?.close();
    },
  } as unknown as LunoraClient;
  return client;
}
