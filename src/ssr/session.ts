/**
 * `getServerSession`: the signed-in session of an SSR request, through a better-auth style
 * `auth.api.getSession({ headers })`.
 *
 * @module
 */

/**
 * The usual shape of a resolved session: `{ user, session }` (better-auth's). A real auth
 * instance's own types take precedence through {@linkcode getServerSession}'s inference.
 *
 * @typeParam User The user record.
 * @typeParam Session The session record.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ServerSession } from "./session.ts";
 *
 * const session: ServerSession<{ id: string }, { token: string }> = {
 *   user: { id: "u1" },
 *   session: { token: "t" },
 * };
 * assert.equal(session.user.id, "u1");
 * ```
 */
export interface ServerSession<
  User = Record<string, unknown>,
  Session = Record<string, unknown>,
> {
  /** The signed-in user. */
  readonly user: User;
  /** The session record, e.g. with its `token` and expiry. */
  readonly session: Session;
}

/**
 * The part of an auth instance `getServerSession` calls: better-auth's `auth.api.getSession`
 * (sync or async). Any object of this shape works, including a test stub.
 *
 * @typeParam Result What `getSession` resolves to, e.g. `ServerSession | null`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { AuthLike } from "./session.ts";
 *
 * const auth: AuthLike<null> = { api: { getSession: () => null } };
 * assert.equal(auth.api.getSession({ headers: new Headers() }), null);
 * ```
 */
export interface AuthLike<Result = ServerSession | null> {
  /** The auth instance's server API. */
  readonly api: {
    /** Resolves the session the request headers (cookie, authorization) carry. */
    getSession(input: { headers: Headers }): Result | Promise<Result>;
  };
}

/** Where request headers come from: a `Request`, a `Headers`, or an object with `headers`. */
export type HeadersSource =
  | Request
  | Headers
  | { readonly headers: Headers | Readonly<Record<string, string>> };

function headersOf(source: HeadersSource): Headers {
  if (source instanceof Headers) return source;
  const headers = (source as { headers?: unknown } | null | undefined)?.headers;
  if (headers instanceof Headers) return headers;
  if (typeof headers === "object" && headers !== null && !Array.isArray(headers)) {
    return new Headers(headers as Record<string, string>);
  }
  throw new TypeError(
    "Cannot read server session: the source must be a Request, a Headers or { headers }",
  );
}

/**
 * Resolves the signed-in session of a request: calls `auth.api.getSession({ headers })` and
 * returns its result, or `null` for none. The session type is inferred from `auth`, so a real
 * better-auth instance keeps its `user`/`session` types.
 *
 * @typeParam Result What `auth.api.getSession` resolves to.
 * @param source `Astro.request`, a `Headers`, or `{ headers }` (a `Headers` or a plain record).
 * @param auth The auth instance (anything with `api.getSession`).
 * @returns The session, or `null` when `getSession` gives `null` or `undefined`.
 * @throws {TypeError} When `source` has no headers or `auth.api.getSession` is not a function.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { getServerSession } from "./session.ts";
 *
 * const auth = {
 *   api: {
 *     getSession: ({ headers }: { headers: Headers }) =>
 *       headers.get("cookie") === "sid=1" ? { user: { id: "u1" }, session: { token: "t1" } } : null,
 *   },
 * };
 * const request = new Request("https://app.example/", { headers: { cookie: "sid=1" } });
 * const session = await getServerSession(request, auth);
 * assert.equal(session?.user.id, "u1");
 * ```
 */
export async function getServerSession<Result>(
  source: HeadersSource,
  auth: AuthLike<Result>,
): Promise<NonNullable<Awaited<Result>> | null> {
  const headers = headersOf(source);
  const api = (auth as { api?: { getSession?: unknown } } | null | undefined)?.api;
  if (typeof api?.getSession !== "function") {
    throw new TypeError('Cannot read server session: "auth.api.getSession" must be a function');
  }
  const result = await (api as AuthLike<Result>["api"]).getSession({ headers });
  return (result ?? null) as NonNullable<Awaited<Result>> | null;
}
