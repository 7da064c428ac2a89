/**
 * `createServerClient`: a request-scoped client that runs Lunora queries, mutations and
 * actions from the server (frontmatter, endpoints, Astro Actions), in process when the page is
 * rendered by the composed worker, over HTTP otherwise.
 *
 * @module
 */
import {
  getRequestScope,
  type InProcessCall,
  type InProcessCallKind,
  type RequestScope,
} from "../in_process_registry.ts";
import { LunoraServerError, readRpcResponse } from "../wire/error_envelope.ts";
import { checkCallId, codePoint, encodeRpcEnvelope, UNSENDABLE } from "../wire/rpc_request.ts";
import {
  assertFunctionPath,
  type CallArgs,
  type FunctionReference,
  type ReturnOf,
} from "../wire/function_reference.ts";

/**
 * The part of Astro's render context the server client reads: `Astro` in `.astro`
 * frontmatter, or the `APIContext` of an endpoint or middleware. Declared structurally, so
 * neither `astro` nor `@astrojs/cloudflare` is needed to type-check.
 */
export interface AstroContextLike {
  /** The page request (`Astro.request`): its URL, `cookie` and `authorization`. */
  readonly request: Request;
  /**
   * `Astro.locals`. With `@astrojs/cloudflare`, `locals.cfContext` is the execution context
   * the worker passed to Astro, which identifies the invocation even when Astro replaced the
   * request object.
   */
  readonly locals?: object;
  /**
   * `Astro.isPrerendered`: `true` while a prerendered page is built. Such a page has no
   * visitor request to run as, so a client made from it is a `TypeError`. Reading it never
   * touches the request's headers.
   */
  readonly isPrerendered?: boolean;
}

/** The `fetch` a server client uses for HTTP calls. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Options of {@linkcode createServerClient}. */
export interface ServerClientOptions {
  /**
   * Base URL of the Lunora worker, absolute `http:` or `https:` without query or fragment;
   * calls go to `<url without one trailing slash>/_lunora/rpc`. Defaults to the origin of
   * `context.request` when `context` is given; required otherwise.
   */
  url?: string | URL;
  /**
   * The `fetch` for HTTP calls (e.g. an instrumented one). Default: the global `fetch`. Not
   * used for in-process calls.
   */
  fetch?: FetchLike;
  /**
   * Bearer token sent as `authorization: Bearer <token>` (an empty string sends none). For a
   * Lunora worker on another origin, e.g. the session token from `getServerSession`. Cannot
   * be combined with `context`, which already carries the page request's identity.
   */
  token?: string;
  /**
   * The Astro render context (`context: Astro` in frontmatter). Lets the query run as the
   * page's visitor: in process when the composed worker is rendering this page and `url` is
   * its own origin, otherwise over HTTP forwarding the page request's `cookie` and
   * `authorization` (only to the page's own origin).
   */
  context?: AstroContextLike;
}

/** Per-call options of {@linkcode ServerClient.query}. */
export interface QueryOptions {
  /** The shard to run on; the worker's default shard when absent. */
  shardKey?: string;
}

/** Per-call options of {@linkcode ServerClient.mutation}. */
export interface MutationOptions {
  /** The shard to run on; the worker's default shard when absent. */
  shardKey?: string;
  /**
   * The mutation's idempotency key, sent as `x-lunora-mutation-id`: 1 to 255 characters from
   * `!` to `~` (printable ASCII without space). A Lunora shard answers a second mutation with
   * the same key from the same caller with the first result and writes nothing, so a form
   * that is submitted twice, or a call the worker retries, is stored once. Default: a fresh
   * random id per call (the worker's retries of that call still share it).
   */
  idempotencyKey?: string;
}

/**
 * Per-call options of {@linkcode ServerClient.action}. An action is never retried, so it takes
 * no idempotency key.
 */
export interface ActionOptions {
  /** The shard to run on; the worker's default shard when absent. */
  shardKey?: string;
}

export type { CallArgs } from "../wire/function_reference.ts";

/**
 * A request-scoped Lunora client for the server, made by {@linkcode createServerClient}. Each
 * method takes only references of its own kind (a query reference passed to `mutation` is a
 * type error), and its methods work detached (`const { mutation } = client`).
 */
export interface ServerClient {
  /**
   * Runs a query once and resolves to its decoded result. In process, a `retryable` shard
   * error is retried by the worker (a query has no effects).
   *
   * @typeParam Ref The query reference type.
   * @param ref The query, e.g. `api.messages.list` or `query("messages:list")`.
   * @param rest Its arguments object (`undefined` means `{}`), then `{ shardKey? }`.
   * @returns The query's result.
   * @throws {TypeError} For an invalid reference, arguments or shard key (before any call).
   * @throws {LunoraServerError} When the call fails.
   */
  query<Ref extends FunctionReference<"query">>(
    ref: Ref,
    ...rest: CallArgs<Ref, QueryOptions>
  ): Promise<ReturnOf<Ref>>;
  /**
   * Runs a mutation once and resolves to its decoded result. The call carries
   * `x-lunora-mutation-id` (the `idempotencyKey`, else a fresh random id) and
   * `x-lunora-client-id` (one random id per client), and no id the browser sent on the page
   * request. The client never retries; the worker retries a `retryable` shard error with the
   * same mutation id, which a Lunora shard answers with the first result.
   *
   * @typeParam Ref The mutation reference type.
   * @param ref The mutation, e.g. `api.messages.send` or `mutation("messages:send")`.
   * @param rest Its arguments object (`undefined` means `{}`), then
   * `{ shardKey?, idempotencyKey? }`.
   * @returns The mutation's result.
   * @throws {TypeError} For an invalid reference, arguments, shard key or idempotency key
   * (before any call).
   * @throws {LunoraServerError} When the call fails.
   */
  mutation<Ref extends FunctionReference<"mutation">>(
    ref: Ref,
    ...rest: CallArgs<Ref, MutationOptions>
  ): Promise<ReturnOf<Ref>>;
  /**
   * Runs an action once and resolves to its decoded result. An action may have effects
   * outside the shard, so it is never retried, by the client or the worker; it carries no
   * mutation id or client id.
   *
   * @typeParam Ref The action reference type.
   * @param ref The action, e.g. `api.mail.notify` or `action("mail:notify")`.
   * @param rest Its arguments object (`undefined` means `{}`), then `{ shardKey? }`.
   * @returns The action's result.
   * @throws {TypeError} For an invalid reference, arguments or shard key (before any call).
   * @throws {LunoraServerError} When the call fails.
   */
  action<Ref extends FunctionReference<"action">>(
    ref: Ref,
    ...rest: CallArgs<Ref, ActionOptions>
  ): Promise<ReturnOf<Ref>>;
}

const RPC_PATH = "/_lunora/rpc";
const QUERY_CALL: InProcessCall = Object.freeze({ kind: "query" });
const ACTION_CALL: InProcessCall = Object.freeze({ kind: "action" });

function fail(detail: string): TypeError {
  return new TypeError(`Cannot create server client: ${detail}`);
}

/**
 * The `TypeError` for a server client wanted on a prerendered page; `prefix` says what could
 * not be done (`"Cannot create server client"`, `"Cannot use Astro.locals.lunora"`).
 */
export function prerenderedError(prefix: string): TypeError {
  return new TypeError(
    `${prefix}: the page is prerendered and has no visitor; use createServerClient({ url }) ` +
      "at build time, or export const prerender = false",
  );
}

function checkContext(context: unknown): AstroContextLike {
  // Only `url` is read here: Astro warns when a prerendered page touches request headers.
  const request = (context as { request?: { url?: unknown } } | null)?.request;
  if (
    typeof context !== "object" || context === null || typeof request !== "object" ||
    request === null || typeof request.url !== "string"
  ) {
    throw fail('"context" must be the Astro render context with a request (pass context: Astro)');
  }
  if ((context as AstroContextLike).isPrerendered === true) {
    throw prerenderedError("Cannot create server client");
  }
  return context as AstroContextLike;
}

function parseUrl(url: unknown, pageOrigin: string | undefined): URL {
  if (url === undefined && pageOrigin === undefined) {
    throw fail('"url" is required unless "context" is given');
  }
  const text = url === undefined ? pageOrigin : url instanceof URL ? url.href : url;
  if (typeof text !== "string") throw fail(`"url" must be a string, got ${typeof url}`);
  if (UNSENDABLE.test(text)) throw fail(`"url" contains ${codePoint(text)}`);
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw fail(`"url" must be an absolute http(s) URL, got ${JSON.stringify(text)}`);
  }
  if (parsed.username !== "" || parsed.password !== "") {
    throw fail('"url" must not carry credentials (use "token")'); // never quoted: a secret
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw fail(`"url" must be an absolute http(s) URL, got ${JSON.stringify(text)}`);
  }
  if (parsed.search !== "" || parsed.hash !== "") {
    throw fail(`"url" must not have a query or fragment, got ${JSON.stringify(text)}`);
  }
  return parsed;
}

function originOf(request: Request): string {
  try {
    return new URL(request.url).origin;
  } catch {
    return request.url;
  }
}

function checkToken(token: unknown): string | undefined {
  if (token === undefined || token === "") return undefined;
  if (typeof token !== "string") throw fail(`"token" must be a string, got ${typeof token}`);
  // The token itself is never quoted: it is a secret.
  if (UNSENDABLE.test(token)) {
    throw fail(`"token" cannot be sent in a header: it contains ${codePoint(token)}`);
  }
  return token;
}

function isResponse(value: unknown): value is Response {
  return typeof value === "object" && value !== null &&
    typeof (value as Response).status === "number" &&
    typeof (value as Response).text === "function" &&
    typeof (value as Response).headers?.get === "function";
}

/**
 * Creates a server client for one request. Create one per request, never a module-level
 * one: identity (the token, or the page request's cookie) is per visitor.
 *
 * How a call travels:
 * - **In process** when `context` is given, `url` is the page's own origin (the default),
 *   and the page is being rendered by the worker `withLunora` composed: the envelope goes
 *   straight to the worker's RPC handler as the page request (its `cookie`, `authorization`
 *   and resolved identity), with no HTTP round trip and no `fetch`. The response is the
 *   very one `/_lunora/rpc` would give.
 * - **Over HTTP** otherwise: `POST <url>/_lunora/rpc` with `content-type: application/json`,
 *   `authorization: Bearer <token>` for a non-empty `token`, and, when `context` is given
 *   and `url` is the page's own origin, the page request's `cookie` and `authorization`
 *   (e.g. `astro dev` without the composed worker). Nothing is forwarded to another origin.
 *
 * Either way a mutation carries `x-lunora-mutation-id` and `x-lunora-client-id` of its own,
 * and a query or an action neither; the `x-lunora-*` ids a browser sent with the page request
 * are never passed on. The client itself never retries.
 *
 * @param options Where the worker is and whose identity to use.
 * @returns The client.
 * @throws {TypeError} Before any request: a missing or non-http(s) URL, a URL or token with
 * characters a request cannot carry (CR, LF, ...), `token` together with `context`, a
 * `context` without a request, a `context` of a prerendered page (`isPrerendered`; pass `url`
 * instead), or a `fetch` that is not a function.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { createServerClient } from "./server_client.ts";
 * import { mutation, query } from "../wire/function_reference.ts";
 *
 * const sent: Request[] = [];
 * const client = createServerClient({
 *   url: "https://app.example/",
 *   token: "secret",
 *   fetch: async (input, init) => {
 *     sent.push(new Request(input, init));
 *     return Response.json({ result: 3 });
 *   },
 * });
 * assert.equal(await client.query(query<{ id: string }, number>("counters:get"), { id: "a" }), 3);
 * assert.equal(sent[0]!.url, "https://app.example/_lunora/rpc");
 * assert.equal(sent[0]!.headers.get("authorization"), "Bearer secret");
 *
 * const send = mutation<{ text: string }, number>("messages:send");
 * await client.mutation(send, { text: "hi" }, { idempotencyKey: "form-7f3a" });
 * assert.equal(sent[1]!.headers.get("x-lunora-mutation-id"), "form-7f3a");
 * ```
 */
export function createServerClient(options: ServerClientOptions): ServerClient {
  if (typeof options !== "object" || options === null) {
    throw fail("options must be an object like { url }");
  }
  const context = options.context === undefined ? undefined : checkContext(options.context);
  const pageOrigin = context === undefined ? undefined : originOf(context.request);
  const base = parseUrl(options.url, pageOrigin);
  const token = checkToken(options.token);
  if (token !== undefined && context !== undefined) {
    throw fail(
      'pass "token" or "context", not both: "context" already carries the page request\'s identity',
    );
  }
  const customFetch = options.fetch;
  if (customFetch !== undefined && typeof customFetch !== "function") {
    throw fail(`"fetch" must be a function, got ${typeof customFetch}`);
  }
  const endpoint = base.href.replace(/\/$/, "") + RPC_PATH;
  const samePage = pageOrigin !== undefined && pageOrigin === base.origin;

  /** The page invocation's scope, when the composed worker is rendering the page. */
  function requestScope(): RequestScope | undefined {
    if (context === undefined) return undefined;
    const locals = context.locals as { cfContext?: unknown } | undefined;
    return getRequestScope(locals?.cfContext) ?? getRequestScope(context.request);
  }

  function headers(call: InProcessCall): Headers {
    const out = new Headers({ "content-type": "application/json" });
    if (token !== undefined) out.set("authorization", `Bearer ${token}`);
    if (samePage) {
      // Only the visitor's credentials: ids the browser sent with the page stay behind.
      const page = context!.request.headers;
      const authorization = page.get("authorization");
      const cookie = page.get("cookie");
      if (authorization !== null) out.set("authorization", authorization);
      if (cookie !== null) out.set("cookie", cookie);
    }
    if (call.mutationId !== undefined) out.set("x-lunora-mutation-id", call.mutationId);
    if (call.clientId !== undefined) out.set("x-lunora-client-id", call.clientId);
    return out;
  }

  async function send(
    envelope: string,
    call: InProcessCall,
    inProcess: RequestScope | undefined,
  ): Promise<Response> {
    let response: unknown;
    try {
      response = inProcess !== undefined
        ? await inProcess.run(envelope, call)
        : await (customFetch ?? fetch)(endpoint, {
          method: "POST",
          headers: headers(call),
          body: envelope,
          redirect: "manual",
        });
    } catch (error) {
      throw new LunoraServerError(
        "INTERNAL",
        `Lunora RPC request failed: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    if (!isResponse(response)) {
      throw new LunoraServerError("INTERNAL", "Lunora RPC request failed: no response");
    }
    return response;
  }

  let clientId: string | undefined; // made on the first mutation, then the same for the client

  async function run(
    kind: InProcessCallKind,
    ref: unknown,
    args: unknown,
    callOptions: unknown,
  ): Promise<unknown> {
    const functionPath = assertFunctionPath(
      (ref as { __lunoraRef?: unknown } | null)?.__lunoraRef,
      "function reference",
    );
    const what = `Cannot run ${kind} ${JSON.stringify(functionPath)}`;
    const { shardKey, idempotencyKey } = readCallOptions(what, kind, callOptions);
    const envelope = encodeRpcEnvelope(what, functionPath, args, shardKey);
    const call: InProcessCall = kind === "query" ? QUERY_CALL : kind === "action" ? ACTION_CALL : {
      kind,
      mutationId: idempotencyKey ?? crypto.randomUUID(),
      clientId: clientId ??= crypto.randomUUID(),
    };
    const scope = requestScope();
    const inProcess = samePage ? scope : undefined;
    const result = send(envelope, call, inProcess).then(readRpcResponse);
    // The page's record (its Server-Timing, the dev toolbar): every call, in process or not.
    return await (scope === undefined
      ? result
      : scope.track(result, functionPath, kind, shardKey, inProcess !== undefined));
  }

  const client = {
    query: (ref: unknown, args?: unknown, callOptions?: unknown) =>
      run("query", ref, args, callOptions),
    mutation: (ref: unknown, args?: unknown, callOptions?: unknown) =>
      run("mutation", ref, args, callOptions),
    action: (ref: unknown, args?: unknown, callOptions?: unknown) =>
      run("action", ref, args, callOptions),
  };
  return client as ServerClient;
}

/** The per-call options, checked for `kind`; throws a `TypeError` naming the problem. */
function readCallOptions(
  what: string,
  kind: InProcessCallKind,
  options: unknown,
): { shardKey?: string; idempotencyKey?: string } {
  if (options === undefined || options === null) return {};
  if (typeof options !== "object") {
    throw new TypeError(`${what}: options must be an object, got ${typeof options}`);
  }
  const { shardKey, idempotencyKey } = options as MutationOptions;
  if (shardKey !== undefined && typeof shardKey !== "string") {
    throw new TypeError(`${what}: "shardKey" must be a string, got ${typeof shardKey}`);
  }
  if (idempotencyKey === undefined) return { shardKey };
  if (kind !== "mutation") {
    const why = kind === "action" ? " (actions are never retried)" : "";
    throw new TypeError(`${what}: only a mutation takes "idempotencyKey"${why}`);
  }
  return { shardKey, idempotencyKey: checkCallId(what, "idempotencyKey", idempotencyKey) };
}
