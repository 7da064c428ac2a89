/**
 * Browser writes and one-shot queries: the checks before the call, then `callRpc`. Loaded on a
 * client's first call, so islands that only read never download it.
 *
 * @module
 */
import { assertFunctionPath } from "../wire/function_reference.ts";
import { type BrowserRpcResult, callRpc } from "./browser_rpc.ts";
import { isPlainObject } from "./lunora_client.ts";

/** The kind of a browser call. */
export type CallKind = "query" | "mutation" | "action";

/** What a client hands to each call. */
export interface WriteContext {
  url: string;
  clientId: string;
  /** The bearer token for `authorization`, when the client has one. */
  authToken(): Promise<string | undefined>;
  fetch?: typeof fetch;
}

/**
 * Checks one call and runs it; a mutation without an idempotency key gets a fresh one that
 * `callRpc` keeps across its retries.
 */
export async function runCall(
  context: WriteContext,
  kind: CallKind,
  ref: unknown,
  args: unknown,
  callOptions: unknown,
): Promise<BrowserRpcResult> {
  const functionPath = assertFunctionPath(
    (ref as { __lunoraRef?: unknown } | null)?.__lunoraRef,
    "function reference",
  );
  const what = `Cannot run ${kind} ${JSON.stringify(functionPath)}`;
  const { shardKey, idempotencyKey } = (callOptions ?? {}) as {
    shardKey?: unknown;
    idempotencyKey?: unknown;
  };
  if (shardKey !== undefined && typeof shardKey !== "string") {
    throw new TypeError(`${what}: "shardKey" must be a string, got ${typeof shardKey}`);
  }
  if (idempotencyKey !== undefined && kind !== "mutation") {
    throw new TypeError(`${what}: only a mutation takes "idempotencyKey"`);
  }
  if (args !== undefined && args !== null && !isPlainObject(args)) {
    throw new TypeError(`${what}: "args" must be a plain object`);
  }
  const token = await context.authToken();
  const result = await callRpc({
    url: context.url,
    kind,
    functionPath,
    args: (args ?? {}) as Record<string, unknown>,
    clientId: context.clientId,
    ...(shardKey === undefined ? {} : { shardKey }),
    // One id for the logical write: callRpc checks it and keeps it across its retries.
    ...(kind === "mutation"
      ? { idempotencyKey: (idempotencyKey as string | undefined) ?? crypto.randomUUID() }
      : {}),
    ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    ...(context.fetch ? { fetch: context.fetch } : {}),
  });
  return result;
}
