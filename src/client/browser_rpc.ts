/**
 * Placeholder for the browser RPC call (replaced by the `shardproto` branch's file): one
 * `POST <url>/_lunora/rpc` with the §11 envelope and headers, no retries.
 *
 * @module
 */
import { encodeWire } from "../wire/codec.ts";
import { readRpcResponse } from "../wire/error_envelope.ts";

/** One browser call. */
export interface BrowserRpcCall {
  url: string;
  kind: "query" | "mutation" | "action";
  functionPath: string;
  args: Record<string, unknown>;
  shardKey?: string;
  clientId: string;
  idempotencyKey?: string;
  authorization?: string;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

/** Its answer: the decoded value and, where the shard gives one, the commit cursor. */
export interface BrowserRpcResult {
  value: unknown;
  commitCursor?: number;
}

/** Makes the call. */
export async function callRpc(call: BrowserRpcCall): Promise<BrowserRpcResult> {
  const headers = new Headers({ "content-type": "application/json" });
  if (call.authorization !== undefined) headers.set("authorization", call.authorization);
  if (call.kind === "mutation") {
    headers.set("x-lunora-mutation-id", call.idempotencyKey ?? crypto.randomUUID());
    headers.set("x-lunora-client-id", call.clientId);
  }
  const body = { args: encodeWire(call.args), functionPath: call.functionPath };
  const response = await (call.fetch ?? fetch)(`${call.url.replace(/\/$/, "")}/_lunora/rpc`, {
    method: "POST",
    headers,
    credentials: "include",
    body: JSON.stringify(call.shardKey === undefined ? body : { ...body, shardKey: call.shardKey }),
  });
  return { value: await readRpcResponse(response) };
}
