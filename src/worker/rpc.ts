/**
 * `POST /_lunora/rpc`: validate the envelope, gate the shard, forward to the shard Durable
 * Object as the caller, pass its answer through.
 *
 * @module
 */
import { FUNCTION_PATH_PATTERN } from "../wire/function_reference.ts";
import { readTextCapped } from "./body.ts";
import type { CompiledOptions } from "./compile_options.ts";
import { PlaneError } from "./errors.ts";
import { assertShardAccess, resolveCaller, setIdentityHeaders } from "./identity.ts";
import type { LunoraIdentity } from "./options.ts";
import type { PlaneContext } from "./plane_context.ts";
import { assertSameOrigin, setHeaders } from "./security.ts";
import { callShard, SHARD_RPC_URL } from "./shard.ts";

/** A validated call. `args` is the parsed JSON object, forwarded as it came. */
export interface RpcCall {
  functionPath: string;
  args: unknown;
  shardKey: string;
}

/** The Lunora ids a server-issued call carries itself (a mutation's; none for others). */
export interface CallIds {
  /** `x-lunora-mutation-id`. */
  mutationId?: string | undefined;
  /** `x-lunora-client-id`. */
  clientId?: string | undefined;
}

/** How a call is forwarded. */
export interface ForwardMode {
  /**
   * Known safe to retry without a mutation id (an in-process query). A call that carries
   * `x-lunora-mutation-id` is retried anyway: the shard answers a repeat with the first result.
   */
  idempotent: boolean;
  /** Admin call: `x-lunora-system: 1`, tenant gate bypassed. */
  system: boolean;
  /**
   * Set for a call the server client issued in process: these ids replace the caller's. The
   * page request's `x-lunora-mutation-id`, `x-lunora-client-id` and `x-lunora-client-seq`
   * came from the browser for some other call and are never copied. Absent (the public
   * paths), the caller's allowlisted headers pass.
   */
  ids?: CallIds;
}

const MAX_SHARD_KEY_LENGTH = 512;

/** Headers copied from the caller to the shard; nothing else from the client passes. */
export const FORWARDED_HEADERS: readonly string[] = [
  "authorization",
  "cookie",
  "x-lunora-mutation-id",
  "x-lunora-client-id",
  "x-lunora-client-seq",
  "x-d1-bookmark",
];

/** What a server-issued call takes from the page request: credentials, the D1 bookmark. */
const PAGE_HEADERS: readonly string[] = ["authorization", "cookie", "x-d1-bookmark"];

function badRequest(message: string): PlaneError {
  return new PlaneError(400, "BAD_REQUEST", message);
}

/** Throws unless the request is a POST with a JSON content type. */
export function assertJsonPost(request: Request): void {
  if (request.method !== "POST") {
    throw new PlaneError(405, "METHOD_NOT_ALLOWED", "Method not allowed", { allow: "POST" });
  }
  const type = request.headers.get("content-type")?.split(";", 1)[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    throw new PlaneError(415, "UNSUPPORTED_MEDIA_TYPE", "Content type must be application/json");
  }
}

/** Parses JSON text, or throws 400 `BAD_REQUEST` (the input is never echoed). */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest("Request body is not valid JSON");
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Validates one RPC envelope; throws 400 `BAD_REQUEST` with a fixed message. */
export function parseCall(value: unknown, defaultShardKey: string): RpcCall {
  if (!isPlainObject(value)) throw badRequest("Request body must be a JSON object");
  const { functionPath, args, shardKey } = value;
  if (typeof functionPath !== "string") throw badRequest('"functionPath" must be a string');
  if (!FUNCTION_PATH_PATTERN.test(functionPath)) {
    throw badRequest('"functionPath" must look like "module:function"');
  }
  if (args !== undefined && !isPlainObject(args)) throw badRequest('"args" must be an object');
  if (shardKey !== undefined) {
    if (typeof shardKey !== "string") throw badRequest('"shardKey" must be a string');
    if (shardKey === "" || shardKey.length > MAX_SHARD_KEY_LENGTH) {
      throw badRequest('"shardKey" must be 1 to 512 characters');
    }
  }
  return { functionPath, args: args ?? {}, shardKey: shardKey ?? defaultShardKey };
}

/**
 * The headers a shard receives: the allowlist from the caller (for a server-issued call, only
 * its credentials and bookmark, plus the call's own ids) and the server-minted identity. A
 * plain record (not a `Headers`), which `new Request` takes without copying a second time.
 */
export function shardHeaders(
  caller: Request,
  identity: LunoraIdentity | null,
  mode: ForwardMode,
): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const from = caller.headers;
  const { ids } = mode;
  const names = ids === undefined ? FORWARDED_HEADERS : PAGE_HEADERS;
  for (let index = 0; index < names.length; index++) {
    const name = names[index]!;
    const value = from.get(name);
    if (value !== null) headers[name] = value;
  }
  if (ids?.mutationId !== undefined) headers["x-lunora-mutation-id"] = ids.mutationId;
  if (ids?.clientId !== undefined) headers["x-lunora-client-id"] = ids.clientId;
  setIdentityHeaders(headers, identity);
  if (mode.system) headers["x-lunora-system"] = "1";
  return headers;
}

/**
 * Gates and forwards a validated call for `caller`, returning the shard's response with
 * `x-lunora-shard-key` added.
 */
export async function forwardCall<Env>(
  compiled: CompiledOptions<Env>,
  env: Env,
  caller: Request,
  call: RpcCall,
  mode: ForwardMode,
  identity?: LunoraIdentity | null,
): Promise<Response> {
  const who = identity !== undefined ? identity : await resolveCaller(compiled, caller, env);
  if (!mode.system) await assertShardAccess(compiled, who, call.shardKey, caller);
  const headers = shardHeaders(caller, who, mode);
  const body = JSON.stringify({ args: call.args, functionPath: call.functionPath });
  const idempotent = mode.idempotent || headers["x-lunora-mutation-id"] !== undefined;
  const response = await callShard(
    compiled.shardDO,
    call.shardKey,
    (stub) => stub.fetch(new Request(SHARD_RPC_URL, { method: "POST", headers, body })),
    idempotent,
  );
  // On workerd a stub's response has immutable headers: copy it up front instead of letting
  // the first header set throw (a TypeError thrown and caught on every call). A 101 cannot be
  // rebuilt with `new Response`, so it keeps the try-and-copy path.
  const copy = response.status >= 200 ? new Response(response.body, response) : response;
  return setHeaders(copy, [["x-lunora-shard-key", call.shardKey]], false);
}

/** Reads and validates the body of an RPC-shaped POST. */
export async function readCall(plane: PlaneContext): Promise<RpcCall> {
  const { request, compiled } = plane;
  assertJsonPost(request);
  assertSameOrigin(request, compiled, false);
  const text = await readTextCapped(request, compiled.maxBodyBytes);
  return parseCall(parseJsonBody(text), compiled.defaultShardKey);
}

/** Answers `POST /_lunora/rpc`. */
export async function handleRpc(plane: PlaneContext): Promise<Response> {
  const call = await readCall(plane);
  return await forwardCall(plane.compiled, plane.env, plane.request, call, {
    idempotent: false,
    system: false,
  });
}
