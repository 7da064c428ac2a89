/**
 * Writes (and one-shot reads) from the browser: one Lunora RPC over
 * `POST <url>/_lunora/rpc`, never over the socket (spec §12). The envelope, its headers, the
 * answer and the error are the ones `@lunora/astro/server` uses (`src/wire/`); what is added
 * here is the browser's own retry of a lost answer.
 *
 * @module
 */
import { readRpcResponse, requestFailed, retryAfterMs } from "../wire/error_envelope.ts";
import { assertFunctionPath } from "../wire/function_reference.ts";
import { checkCallId, codePoint, encodeRpcEnvelope, UNSENDABLE } from "../wire/rpc_request.ts";

/** One logical RPC from the browser, as {@linkcode callRpc} takes it. */
export interface BrowserRpcCall {
  /**
   * The API's origin or base URL (one trailing slash tolerated), e.g. `location.origin` or
   * `"https://api.example"`; the call goes to `<url>/_lunora/rpc`. A relative URL is resolved
   * against the page.
   */
  url: string;
  /**
   * What the function is. A query or a mutation is retried after a lost answer; an action
   * never is (it may have effects outside the shard).
   */
  kind: "query" | "mutation" | "action";
  /** The function, e.g. `"messages:send"`. */
  functionPath: string;
  /** Its arguments; wire-encoded, so `Date`, `bigint`, `Map` and the like travel as themselves. */
  args: Record<string, unknown>;
  /** The shard to run on; the worker's default shard when absent. */
  shardKey?: string;
  /**
   * The client's id, sent as `x-lunora-client-id` on a mutation (the shard matches an
   * anonymous caller's mutation ids under it). The same value as the client's socket
   * `connect` frame carries. Not sent on a query or an action.
   */
  clientId: string;
  /**
   * A mutation's `x-lunora-mutation-id`: 1 to 255 characters from `!` to `~`. Default: one
   * `crypto.randomUUID()` per call. Either way every retry of the call carries the same id,
   * so the shard stores the write once. Only a mutation takes one.
   */
  idempotencyKey?: string;
  /**
   * The whole `authorization` header value, e.g. `"Bearer <token>"`, for an API that
   * identifies the caller by token; sent as it is (never quoted in errors). Empty or absent:
   * no header.
   */
  authorization?: string;
  /** The `fetch` to use. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** How to wait between attempts. Default: `setTimeout`. */
  sleep?: (ms: number) => Promise<void>;
}

/** What {@linkcode callRpc} resolves to. */
export interface BrowserRpcResult {
  /** The function's result, wire-decoded. */
  value: unknown;
  /**
   * The shard's cursor at which this write is visible on its socket (`commitCursor` beside
   * `result` in the answer), when the shard gives one.
   */
  commitCursor?: number;
}

/** Attempts in all for a call that may be retried (the first one included). */
const MAX_RPC_ATTEMPTS = 3;

/** The backoff before the second attempt; it doubles for each further one. */
const BASE_DELAY_MS = 250;

/**
 * The longest `Retry-After` a call waits for. A server that asks for more gets its answer
 * passed on (its `data.retryAfterMs` says how long) rather than a page stuck on a write.
 */
const MAX_RETRY_AFTER_MS = 10_000;

const RPC_PATH = "/_lunora/rpc";
const KINDS: ReadonlySet<string> = new Set(["query", "mutation", "action"]);

const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An answer read once: the response, its text and its JSON body (`undefined` if not JSON). */
interface Answer {
  response: Response;
  text: string;
  body: unknown;
}

/** Sends one attempt and reads its whole answer; rejects when none arrives, or only part. */
async function attempt(
  doFetch: typeof fetch,
  endpoint: string,
  init: RequestInit,
): Promise<Answer> {
  const response = await doFetch(endpoint, init);
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { response, text, body };
}

/**
 * Whether an answer is the worker's "try again later": a 503 whose error envelope has the code
 * `UNAVAILABLE` or is marked `"retryable": true`. `OVERLOADED` and every other answer are not.
 */
function isRetryable({ response, body }: Answer): boolean {
  const envelope = isRecord(body) ? body.error : undefined;
  return response.status === 503 && isRecord(envelope) && envelope.code !== "OVERLOADED" &&
    (envelope.code === "UNAVAILABLE" || envelope.retryable === true);
}

/**
 * The `commitCursor` an answer carries beside its `result` (where Lunora's shard puts the
 * cursor at which a mutation is visible on the socket), when it is a non-negative integer.
 */
function commitCursorOf({ body }: Answer): number | undefined {
  const cursor = isRecord(body) ? body.commitCursor : undefined;
  return Number.isSafeInteger(cursor) && (cursor as number) >= 0 ? cursor as number : undefined;
}

/** The page's origin, `undefined` outside a page (or an opaque one). */
function pageLocation(): { origin: string; href: string } | undefined {
  const location = (globalThis as { location?: { origin?: unknown; href?: unknown } }).location;
  const origin = location?.origin;
  const href = location?.href;
  return typeof origin === "string" && origin !== "null" && typeof href === "string"
    ? { origin, href }
    : undefined;
}

function endpointOf(what: string, url: unknown, page: { href: string } | undefined): URL {
  if (typeof url !== "string") throw new TypeError(`${what}: "url" must be a string`);
  if (UNSENDABLE.test(url)) {
    throw new TypeError(`${what}: "url" contains ${codePoint(url)}`);
  }
  let base: URL;
  try {
    base = new URL(url, page?.href);
  } catch {
    throw new TypeError(`${what}: "url" must be an http(s) URL, got ${JSON.stringify(url)}`);
  }
  if (base.protocol !== "https:" && base.protocol !== "http:") {
    throw new TypeError(`${what}: "url" must be an http(s) URL, got ${JSON.stringify(url)}`);
  }
  if (base.username !== "" || base.password !== "") {
    throw new TypeError(`${what}: "url" must not carry credentials`); // never quoted: a secret
  }
  if (base.search !== "" || base.hash !== "") {
    throw new TypeError(
      `${what}: "url" must not have a query or fragment, got ${JSON.stringify(url)}`,
    );
  }
  return new URL(base.href.replace(/\/$/, "") + RPC_PATH);
}

/**
 * Which cookies ride the call. Same origin: the page's own (`"same-origin"`, the default).
 * Another origin without an `authorization`: the cookie is the only identity there is, the
 * same one the shard's socket carries, so it rides too (`"include"`; the worker must allow it
 * with `security.cors.allowCredentials`). Another origin with an `authorization`: that header
 * is the identity, and no cookie is sent.
 */
function credentialsFor(
  endpoint: URL,
  page: { origin: string } | undefined,
  authorization: string | undefined,
): RequestCredentials {
  const crossOrigin = page !== undefined && endpoint.origin !== page.origin;
  return crossOrigin && authorization === undefined ? "include" : "same-origin";
}

/** The wait before attempt `attempt + 1`: equal jitter in [d/2, d], d doubling from 250 ms. */
function backoffMs(attempt: number): number {
  const ceiling = BASE_DELAY_MS * 2 ** (attempt - 1);
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

function checkCall(call: BrowserRpcCall): {
  what: string;
  endpoint: URL;
  init: RequestInit;
  doFetch: typeof fetch;
  sleep: (ms: number) => Promise<void>;
} {
  if (typeof call !== "object" || call === null) {
    throw new TypeError("Cannot call Lunora: the call must be an object");
  }
  const { kind, shardKey, authorization } = call;
  if (typeof kind !== "string" || !KINDS.has(kind)) {
    throw new TypeError(
      `Cannot call Lunora: "kind" must be "query", "mutation" or "action", got ${
        JSON.stringify(kind) ?? String(kind)
      }`,
    );
  }
  const functionPath = assertFunctionPath(call.functionPath, '"functionPath"');
  const what = `Cannot run ${kind} ${JSON.stringify(functionPath)}`;
  const page = pageLocation();
  const endpoint = endpointOf(what, call.url, page);
  if (shardKey !== undefined && typeof shardKey !== "string") {
    throw new TypeError(`${what}: "shardKey" must be a string, got ${typeof shardKey}`);
  }
  if (authorization !== undefined && typeof authorization !== "string") {
    throw new TypeError(`${what}: "authorization" must be a string, got ${typeof authorization}`);
  }
  if (authorization !== undefined && UNSENDABLE.test(authorization)) {
    // The value itself is never quoted: it is a secret.
    throw new TypeError(
      `${what}: "authorization" cannot be sent in a header: it contains ${
        codePoint(authorization)
      }`,
    );
  }
  for (const name of ["fetch", "sleep"] as const) {
    if (call[name] !== undefined && typeof call[name] !== "function") {
      throw new TypeError(`${what}: "${name}" must be a function, got ${typeof call[name]}`);
    }
  }
  const headers: Record<string, string> = { "content-type": "application/json" };
  const credential = authorization === "" ? undefined : authorization;
  if (credential !== undefined) headers.authorization = credential;
  if (kind === "mutation") {
    headers["x-lunora-mutation-id"] = call.idempotencyKey === undefined
      ? crypto.randomUUID()
      : checkCallId(what, "idempotencyKey", call.idempotencyKey);
    headers["x-lunora-client-id"] = checkCallId(what, "clientId", call.clientId);
  } else if (call.idempotencyKey !== undefined) {
    const why = kind === "action" ? " (actions are never retried)" : "";
    throw new TypeError(`${what}: only a mutation takes "idempotencyKey"${why}`);
  }
  return {
    what,
    endpoint,
    init: {
      method: "POST",
      headers,
      body: encodeRpcEnvelope(what, functionPath, call.args, shardKey),
      credentials: credentialsFor(endpoint, page, credential),
      redirect: "error", // an RPC endpoint never redirects; a write is never sent on elsewhere
    },
    doFetch: call.fetch ?? fetch,
    sleep: call.sleep ?? defaultSleep,
  };
}

/**
 * Runs one query, mutation or action over `POST <url>/_lunora/rpc` with Lunora's envelope
 * `{"args","functionPath"[,"shardKey"]}` (arguments wire-encoded) and resolves to its decoded
 * result and the write's `commitCursor`, when the shard gives one.
 *
 * Headers: `content-type: application/json`; `authorization` when given; on a mutation
 * `x-lunora-mutation-id` (the `idempotencyKey`, else one random id for the call) and
 * `x-lunora-client-id`. A query or an action carries neither id.
 *
 * Retries (a query or a mutation, never an action): a `fetch` that rejects or an answer lost
 * on the way, and a 503 whose error is `UNAVAILABLE` or marked `retryable`, are tried again,
 * at most 3 attempts in all, after a backoff (250 ms, then 500 ms,
 * each with equal jitter) or the answer's `Retry-After` when that is longer. A mutation keeps
 * its one `x-lunora-mutation-id` across its attempts, so a write whose answer was lost is
 * stored once and the caller gets the first result. `OVERLOADED`, any other 4xx or 5xx, and
 * a `Retry-After` over 10 s are never retried.
 *
 * @param call The call: where, what, and with which ids.
 * @returns The decoded result, and the `commitCursor` where the answer has one.
 * @throws {TypeError} Before any request: a bad `kind`, `functionPath`, `url`, `args`,
 * `shardKey`, `clientId` (a mutation's), `idempotencyKey` or `authorization`.
 * @throws {LunoraServerError} When the call fails: the server's code, message and decoded
 * `data` (with `retryAfterMs` when the answer named a wait), or `INTERNAL` when no answer came.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { callRpc } from "./browser_rpc.ts";
 *
 * const sent: Request[] = [];
 * const { value, commitCursor } = await callRpc({
 *   url: "https://app.example/",
 *   kind: "mutation",
 *   functionPath: "messages:send",
 *   args: { channel: "general", body: "hi" },
 *   shardKey: "general",
 *   clientId: "client-1",
 *   idempotencyKey: "form-7f3a",
 *   fetch: async (input, init) => {
 *     sent.push(new Request(input, init));
 *     return Response.json({ result: { id: 1 }, commitCursor: 12 });
 *   },
 * });
 * assert.deepEqual(value, { id: 1 });
 * assert.equal(commitCursor, 12);
 * assert.equal(sent[0]!.url, "https://app.example/_lunora/rpc");
 * assert.equal(sent[0]!.headers.get("x-lunora-mutation-id"), "form-7f3a");
 * ```
 */
export async function callRpc(call: BrowserRpcCall): Promise<BrowserRpcResult> {
  const { endpoint, init, doFetch, sleep } = checkCall(call);
  const retried = call.kind !== "action";
  for (let tries = 1;; tries++) {
    const last = !retried || tries >= MAX_RPC_ATTEMPTS;
    let answer: Answer;
    try {
      answer = await attempt(doFetch, endpoint.href, init);
    } catch (error) {
      // No answer, or one lost on the way: the call may or may not have run.
      if (last) throw requestFailed(error);
      await sleep(backoffMs(tries));
      continue;
    }
    if (!last && isRetryable(answer)) {
      const wait = retryAfterMs(answer.response.headers.get("retry-after")) ?? 0;
      if (wait <= MAX_RETRY_AFTER_MS) {
        await sleep(Math.max(backoffMs(tries), wait));
        continue;
      }
    }
    // The same decoding as the server client's, on the text already read.
    const { status, headers } = answer.response;
    const text = status === 204 || status === 205 || status === 304 ? null : answer.text;
    const value = await readRpcResponse(new Response(text, { status, headers }));
    const commitCursor = commitCursorOf(answer);
    return commitCursor === undefined ? { value } : { value, commitCursor };
  }
}
