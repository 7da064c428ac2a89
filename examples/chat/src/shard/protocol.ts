/**
 * Lunora's shard protocol, as the worker and the browser speak it.
 *
 * RPC: the worker forwards `POST https://shard.internal/rpc` with `{"args","functionPath"}` and
 * the caller's identity in `x-lunora-userid` / `x-lunora-identity` (base64url JSON claims),
 * `x-lunora-system: 1` for admin calls, and for a mutation `x-lunora-mutation-id` and
 * `x-lunora-client-id`; the shard answers `{"result"}` or `{"error":{"code","message"}}`.
 * Arguments and results are wire-encoded (`wire.ts`); these parsers keep arguments in their
 * wire form (plain JSON, safe in a socket attachment), and the ShardDO decodes them when it
 * runs a function.
 *
 * WebSocket frames (Lunora's browser protocol, spec §12): client
 * `{"type":"connect","clientId","caps"?}` (sent first on every open; never answered),
 * `{"type":"subscribe","id","query":{"functionPath","args","table"?,"sinceSeq"?,"sinceEpoch"?}}`
 * and `{"type":"unsubscribe","id"}`; shard `{"type":"ack","id"}`,
 * `{"type":"data","id","data","cursor"?,"epoch"?}`, `{"type":"delta","id","delta","epoch"?,"cursor"?}`,
 * `{"type":"resume"|"settled","id","cursor","epoch"}` and
 * `{"type":"error","id"?,"error":{"code","message"}}`. Text `lunora-ping` gets `lunora-pong`.
 * A socket that never sent `connect` (an older client) gets `ack`, `data` and `error` only.
 */
import { type CallIds, type Identity, ShardError } from "./registry.ts";

/** Capabilities a client may announce in `connect` that this shard knows. */
export type Capability = "pageDelta";

/** A client frame after validation. */
export type ClientFrame =
  | {
    type: "connect";
    clientId: string;
    /** The announced capabilities this shard knows (unknown ones are dropped). */
    caps: Capability[];
  }
  | {
    type: "subscribe";
    id: string;
    functionPath: string;
    args: Record<string, unknown>;
    /** The table a delta's rows belong to (`query.table`), `functionPath` by default. */
    table: string;
    /** Where the client's held value stands, when it holds one: both or neither. */
    since?: { seq: number; epoch: string };
  }
  | { type: "unsubscribe"; id: string };

/** Largest client frame accepted, in characters. */
const MAX_FRAME = 16_384;
const SUBSCRIPTION_ID = /^[A-Za-z0-9_-]{1,64}$/;
const FUNCTION_PATH = /^[A-Za-z0-9_-]+(?:[/.][A-Za-z0-9_-]+)*:[A-Za-z0-9_]+$/;
const TABLE = /^[A-Za-z0-9_:./-]{1,64}$/;
const EPOCH = /^[\x21-\x7e]{1,64}$/;
const CAPABILITIES: readonly Capability[] = ["pageDelta"];
const MAX_CAPS = 16;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A JSON response with the given status. */
export function json(body: unknown, status = 200): Response {
  return jsonText(JSON.stringify(body), status);
}

/** A response carrying JSON text that is already encoded. */
export function jsonText(text: string, status = 200): Response {
  return new Response(text, {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}

/** The error envelope for anything thrown while serving a call. */
export function errorBody(
  error: unknown,
): { error: { code: string; message: string } } {
  if (error instanceof ShardError) {
    return { error: { code: error.code, message: error.message } };
  }
  console.error("[shard] function failed:", error);
  return { error: { code: "INTERNAL", message: "Internal error" } };
}

/** The HTTP status for an error envelope. */
export function errorStatus(error: unknown): number {
  return error instanceof ShardError ? error.status : 500;
}

/** Parses an RPC body `{"args","functionPath"}` (args default `{}`). */
export function parseCall(
  text: string,
): { functionPath: string; args: Record<string, unknown> } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ShardError("BAD_REQUEST", "Request body is not valid JSON");
  }
  if (!isObject(body) || typeof body.functionPath !== "string") {
    throw new ShardError(
      "BAD_REQUEST",
      'Request body needs a string "functionPath"',
    );
  }
  const args = body.args ?? {};
  if (!isObject(args)) {
    throw new ShardError("BAD_REQUEST", '"args" must be an object');
  }
  return { functionPath: body.functionPath, args };
}

function base64urlJson(text: string): unknown {
  const base64 = text.replaceAll("-", "+").replaceAll("_", "/");
  const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

/**
 * The caller the worker put on the request. Only the worker can reach a Durable Object, and it
 * always replaces these headers, so the shard can trust them.
 */
export function readIdentity(headers: Headers): Identity | null {
  const userId = headers.get("x-lunora-userid");
  if (!userId) return null;
  const encoded = headers.get("x-lunora-identity");
  let claims: unknown = {};
  if (encoded) {
    try {
      claims = base64urlJson(encoded);
    } catch {
      throw new ShardError(
        "BAD_REQUEST",
        "x-lunora-identity is not base64url JSON",
      );
    }
  }
  return { ...(isObject(claims) ? claims : {}), userId };
}

const CALL_ID = /^[\x21-\x7e]{1,255}$/;

/**
 * The call's `x-lunora-mutation-id` and `x-lunora-client-id`, in the shape Lunora's client
 * sends them (1-255 printable ASCII characters, no space); anything else is refused.
 */
export function readIds(headers: Headers): CallIds {
  const mutationId = headers.get("x-lunora-mutation-id");
  const clientId = headers.get("x-lunora-client-id");
  for (const id of [mutationId, clientId]) {
    if (id !== null && !CALL_ID.test(id)) {
      throw new ShardError(
        "BAD_REQUEST",
        "x-lunora-mutation-id or x-lunora-client-id is malformed",
      );
    }
  }
  return { mutationId, clientId };
}

/** Validates one client frame; throws `ShardError` with a message safe to send back. */
export function parseFrame(message: string | ArrayBuffer): ClientFrame {
  if (typeof message !== "string") {
    throw new ShardError("BAD_REQUEST", "Frames must be text");
  }
  if (message.length > MAX_FRAME) {
    throw new ShardError("BAD_REQUEST", "Frame is too large");
  }
  let frame: unknown;
  try {
    frame = JSON.parse(message);
  } catch {
    throw new ShardError("BAD_REQUEST", "Frame is not valid JSON");
  }
  if (!isObject(frame)) {
    throw new ShardError("BAD_REQUEST", "Frame must be a JSON object");
  }
  if (frame.type === "connect") return parseConnect(frame);
  const { type, id } = frame;
  if (typeof id !== "string" || !SUBSCRIPTION_ID.test(id)) {
    throw new ShardError(
      "BAD_REQUEST",
      'Frame needs an "id" of 1-64 letters, digits, _ or -',
    );
  }
  if (type === "unsubscribe") return { type, id };
  if (type !== "subscribe") {
    throw new ShardError("BAD_REQUEST", "Unknown frame type");
  }
  try {
    return parseSubscribe(frame.query, id);
  } catch (error) {
    throw error instanceof ShardError ? new FrameError(id, error) : error;
  }
}

/** A frame refused after its id was read: the error goes to that subscription. */
export class FrameError extends ShardError {
  constructor(readonly id: string, cause: ShardError) {
    super(cause.code, cause.message, cause.status);
  }
}

function parseSubscribe(query: unknown, id: string): ClientFrame {
  const type = "subscribe";
  if (!isObject(query) || typeof query.functionPath !== "string") {
    throw new ShardError("BAD_REQUEST", 'Subscribe needs "query.functionPath"');
  }
  if (!FUNCTION_PATH.test(query.functionPath)) {
    throw new ShardError(
      "BAD_REQUEST",
      '"functionPath" must look like "module:function"',
    );
  }
  const args = query.args ?? {};
  if (!isObject(args)) {
    throw new ShardError("BAD_REQUEST", '"query.args" must be an object');
  }
  const table = query.table ?? query.functionPath;
  if (typeof table !== "string" || !TABLE.test(table)) {
    throw new ShardError(
      "BAD_REQUEST",
      '"query.table" must be 1-64 name characters',
    );
  }
  const { sinceSeq, sinceEpoch } = query;
  const parsed: ClientFrame = {
    type,
    id,
    functionPath: query.functionPath,
    args,
    table,
  };
  if (sinceSeq === undefined && sinceEpoch === undefined) return parsed;
  if (
    !Number.isSafeInteger(sinceSeq) || (sinceSeq as number) < 0 ||
    typeof sinceEpoch !== "string" || !EPOCH.test(sinceEpoch)
  ) {
    throw new ShardError(
      "BAD_REQUEST",
      '"query.sinceSeq" (a cursor) and "query.sinceEpoch" (a string) go together',
    );
  }
  return { ...parsed, since: { seq: sinceSeq as number, epoch: sinceEpoch } };
}

function parseConnect(frame: Record<string, unknown>): ClientFrame {
  const { clientId, caps = [] } = frame;
  if (typeof clientId !== "string" || !CALL_ID.test(clientId)) {
    throw new ShardError(
      "BAD_REQUEST",
      '"clientId" must be 1-255 printable ASCII characters',
    );
  }
  if (!Array.isArray(caps) || caps.length > MAX_CAPS) {
    throw new ShardError("BAD_REQUEST", '"caps" must be a short list of names');
  }
  return {
    type: "connect",
    clientId,
    caps: CAPABILITIES.filter((cap) => caps.includes(cap)),
  };
}

/**
 * A short fingerprint of a result's JSON (53-bit, cyrb53). Kept in the socket attachment so a
 * subscription is pushed only when its result really changed, even after hibernation.
 */
export function fingerprint(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^
    Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^
    Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}
