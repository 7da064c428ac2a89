/**
 * Typed references to Lunora functions: `{ __lunoraRef: "<module>:<name>" }` at runtime, with
 * the function's kind, arguments and result carried as phantom types. The shape matches the
 * references Lunora's codegen emits, so generated `api.<module>.<name>` objects work too.
 *
 * @module
 */

/** The kinds of registered Lunora functions. `stream` is a query that yields several frames. */
export type FunctionKind = "query" | "mutation" | "action" | "stream";

/**
 * A reference to a registered Lunora function. At runtime only `__lunoraRef` exists; the type
 * parameters let callers infer the arguments and result of each call.
 *
 * @typeParam Kind Which kind of function it names.
 * @typeParam Args The arguments object the function takes.
 * @typeParam Return What the function resolves to.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { FunctionReference } from "./function_reference.ts";
 *
 * const ref: FunctionReference<"query", { id: string }, number> = { __lunoraRef: "counters:get" };
 * assert.equal(ref.__lunoraRef, "counters:get");
 * ```
 */
export interface FunctionReference<
  Kind extends FunctionKind = FunctionKind,
  Args = unknown,
  Return = unknown,
> {
  /** The function's path, `"<module>:<name>"`, e.g. `"messages:list"`. */
  readonly __lunoraRef: string;
  /** Phantom carrier of the type parameters; never present at runtime. */
  readonly __lunoraPhantom?: { args: Args; kind: Kind; returns: Return };
}

/**
 * The arguments type of a {@linkcode FunctionReference}.
 *
 * @typeParam Ref The reference type.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ArgsOf, query } from "./function_reference.ts";
 *
 * const get = query<{ id: string }, number>("counters:get");
 * const args: ArgsOf<typeof get> = { id: "a" };
 * assert.equal(args.id, "a");
 * ```
 */
export type ArgsOf<Ref> = Ref extends FunctionReference<infer _Kind, infer Args, infer _Return>
  ? Args
  : never;

/**
 * The result type of a {@linkcode FunctionReference}.
 *
 * @typeParam Ref The reference type.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { query, type ReturnOf } from "./function_reference.ts";
 *
 * const get = query<{ id: string }, number>("counters:get");
 * const value: ReturnOf<typeof get> = 3;
 * assert.equal(value, 3);
 * ```
 */
export type ReturnOf<Ref> = Ref extends FunctionReference<infer _Kind, infer _Args, infer Return>
  ? Return
  : never;

/**
 * What a function path must look like: module segments (letters, digits, `_`, `-`) joined by
 * `/` or `.`, then `:` and the function name. No `..`, no leading or doubled separators.
 */
export const FUNCTION_PATH_PATTERN: RegExp =
  /^[A-Za-z0-9_-]+(?:[/.][A-Za-z0-9_-]+)*:[A-Za-z0-9_]+$/;

/** Throws a `TypeError` unless `path` is a valid function path; returns it otherwise. */
export function assertFunctionPath(path: unknown, what: string): string {
  if (typeof path !== "string" || !FUNCTION_PATH_PATTERN.test(path)) {
    const shown = typeof path === "string" ? JSON.stringify(path) : String(path);
    throw new TypeError(
      `Invalid ${what}: ${shown} is not a function path like "messages:list"`,
    );
  }
  return path;
}

function reference<Kind extends FunctionKind, Args, Return>(
  path: string,
): FunctionReference<Kind, Args, Return> {
  return Object.freeze({ __lunoraRef: assertFunctionPath(path, "function reference") });
}

/**
 * A typed reference to a Lunora query, without codegen.
 *
 * @typeParam Args The query's arguments object.
 * @typeParam Return What the query resolves to.
 * @param path The function path, `"<module>:<name>"`.
 * @returns A frozen `{ __lunoraRef: path }` typed as a query reference.
 * @throws {TypeError} When `path` is not a valid function path.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { query } from "./function_reference.ts";
 *
 * const list = query<{ channelId: string }, { text: string }[]>("messages:list");
 * assert.deepEqual(list, { __lunoraRef: "messages:list" });
 * ```
 */
export function query<Args = Record<string, never>, Return = unknown>(
  path: string,
): FunctionReference<"query", Args, Return> {
  return reference<"query", Args, Return>(path);
}

/**
 * A typed reference to a Lunora mutation, without codegen. Run it from the server with
 * `ServerClient.mutation` (an Astro Action, a form POST, an endpoint) or from an island client.
 *
 * @typeParam Args The mutation's arguments object.
 * @typeParam Return What the mutation resolves to.
 * @param path The function path, `"<module>:<name>"`.
 * @returns A frozen `{ __lunoraRef: path }` typed as a mutation reference.
 * @throws {TypeError} When `path` is not a valid function path.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { mutation } from "./function_reference.ts";
 *
 * const send = mutation<{ text: string }, string>("messages:send");
 * assert.equal(send.__lunoraRef, "messages:send");
 * ```
 */
export function mutation<Args = Record<string, never>, Return = unknown>(
  path: string,
): FunctionReference<"mutation", Args, Return> {
  return reference<"mutation", Args, Return>(path);
}

/**
 * A typed reference to a Lunora action, without codegen. Run it from the server with
 * `ServerClient.action`. An action may reach outside the shard (send mail, call an API), so it
 * is never retried and takes no idempotency key.
 *
 * @typeParam Args The action's arguments object.
 * @typeParam Return What the action resolves to.
 * @param path The function path, `"<module>:<name>"`.
 * @returns A frozen `{ __lunoraRef: path }` typed as an action reference.
 * @throws {TypeError} When `path` is not a valid function path.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { action } from "./function_reference.ts";
 *
 * const notify = action<{ userId: string }, { sent: boolean }>("mail:notify");
 * assert.deepEqual(notify, { __lunoraRef: "mail:notify" });
 * ```
 */
export function action<Args = Record<string, never>, Return = unknown>(
  path: string,
): FunctionReference<"action", Args, Return> {
  return reference<"action", Args, Return>(path);
}

/**
 * The parameters after the reference: the arguments object, optional when the function takes
 * no required argument, then the per-call options.
 *
 * @typeParam Ref The function reference type.
 * @typeParam Options The per-call options type.
 */
export type CallArgs<Ref, Options> = Record<never, never> extends ArgsOf<Ref>
  ? [args?: ArgsOf<Ref>, options?: Options]
  : [args: ArgsOf<Ref>, options?: Options];
