/**
 * `createServerClient`: a request-scoped client that runs Lunora queries during SSR, in
 * process when the page is rendered by the composed worker, over HTTP otherwise.
 *
 * @module
 */
import { getInProcessTransport, type InProcessTransport } from "../in_process_registry.ts";
import { encodeWire } from "../wire/codec.ts";
import { LunoraServerError, readRpcResponse } from "../wire/error_envelope.ts";
import {
  type ArgsOf,
  assertFunctionPath,
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

/** A request-scoped Lunora client for SSR, made by {@linkcode createServerClient}. */
export interface ServerClient {
  /**
   * Runs a query once and resolves to its decoded result.
   *
   * @typeParam Ref The query reference type.
   * @param ref The query, e.g. `api.messages.list` or `query("messages:list")`.
   * @param args Its arguments object (`undefined` means `{}`).
   * @param options The shard to run on.
   * @returns The query's result.
   * @throws {TypeError} For an invalid reference, arguments or shard key (before any call).
   * @throws {LunoraServerError} When the call fails.
   */
  query<Ref extends FunctionReference<"query">>(
    ref: Ref,
    args: ArgsOf<Ref>,
    options?: QueryOptions,
  ): Promise<ReturnOf<Ref>>;
}

const RPC_PATH = "/_lunora/rpc";
const UNSENDABLE = /[^\x20-\x7e]/;

function fail(detail: string): TypeError {
  return new TypeError(`Cannot create server client: ${detail}`);
}

function codePoint(text: string): string {
  const index = text.search(UNSENDABLE);
  const hex = text.codePointAt(index)!.toString(16).toUpperCase().padStart(4, "0");
  return `U+${hex} at index ${index}`;
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

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
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
 * @param options Where the worker is and whose identity to use.
 * @returns The client.
 * @throws {TypeError} Before any request: a missing or non-http(s) URL, a URL or token with
 * characters a request cannot carry (CR, LF, ...), `token` together with `context`, a
 * `context` without a request, or a `fetch` that is not a function.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { createServerClient } from "./server_client.ts";
 * import { query } from "../wire/function_reference.ts";
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

  function transport(): InProcessTransport | undefined {
    if (!samePage) return undefined;
    const locals = context!.locals as { cfContext?: unknown } | undefined;
    return getInProcessTransport(locals?.cfContext) ?? getInProcessTransport(context!.request);
  }

  function headers(): Headers {
    const out = new Headers({ "content-type": "application/json" });
    if (token !== undefined) out.set("authorization", `Bearer ${token}`);
    if (samePage) {
      const page = context!.request.headers;
      const authorization = page.get("authorization");
      const cookie = page.get("cookie");
      if (authorization !== null) out.set("authorization", authorization);
      if (cookie !== null) out.set("cookie", cookie);
    }
    return out;
  }

  async function send(envelope: string): Promise<Response> {
    const inProcess = transport();
    let response: unknown;
    try {
      response = inProcess !== undefined
        ? await inProcess(envelope)
        : await (customFetch ?? fetch)(endpoint, {
          method: "POST",
          headers: headers(),
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

  return {
    async query<Ref extends FunctionReference<"query">>(
      ref: Ref,
      args: ArgsOf<Ref>,
      queryOptions: QueryOptions = {},
    ): Promise<ReturnOf<Ref>> {
      const functionPath = assertFunctionPath(
        (ref as { __lunoraRef?: unknown } | null)?.__lunoraRef,
        "function reference",
      );
      const envelope = encodeEnvelope(functionPath, args, queryOptions?.shardKey);
      return await readRpcResponse(await send(envelope)) as ReturnOf<Ref>;
    },
  };
}

/** The JSON text of `{"args","functionPath"[,"shardKey"]}`, in that key order. */
function encodeEnvelope(functionPath: string, args: unknown, shardKey: unknown): string {
  const what = `Cannot run query ${JSON.stringify(functionPath)}`;
  if (args !== undefined && args !== null && !isPlainObject(args)) {
    throw new TypeError(`${what}: "args" must be a plain object`);
  }
  if (shardKey !== undefined && typeof shardKey !== "string") {
    throw new TypeError(`${what}: "shardKey" must be a string, got ${typeof shardKey}`);
  }
  let encoded: unknown;
  try {
    encoded = encodeWire(args ?? {});
  } catch (error) {
    const Class = error instanceof RangeError ? RangeError : TypeError;
    throw new Class(`${what}: ${(error as Error).message}`, { cause: error });
  }
  return JSON.stringify(
    shardKey === undefined
      ? { args: encoded, functionPath }
      : { args: encoded, functionPath, shardKey },
  );
}
