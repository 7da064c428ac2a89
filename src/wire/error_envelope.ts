/**
 * Turning an RPC response into a result or a {@linkcode LunoraServerError}: the error
 * envelope `{"error":{"code","message","data"?,"hint"?,"docsUrl"?}}`, the HTTP status when
 * there is no envelope, and `Retry-After`.
 *
 * @module
 */
import { decodeWire } from "./codec.ts";

/** Options of {@linkcode LunoraServerError}, besides its code and message. */
export interface LunoraServerErrorOptions {
  /** The HTTP status of the response, when there was one. */
  status?: number;
  /** Structured detail from the server (already wire-decoded). */
  data?: unknown;
  /** An actionable hint (Markdown) from the server's error catalog. */
  hint?: string | readonly string[];
  /** A link to documentation about the error. */
  docsUrl?: string;
  /** The underlying failure, e.g. a network error. */
  cause?: unknown;
}

/**
 * The error a server client throws when a Lunora RPC fails: the server's error envelope
 * (even on HTTP 200), or a failed response without one, mapped from its status.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { LunoraServerError } from "./error_envelope.ts";
 *
 * const error = new LunoraServerError("TOO_MANY_REQUESTS", "Slow down", {
 *   status: 429,
 *   data: { retryAfterMs: 3000 },
 * });
 * assert.ok(error instanceof Error);
 * assert.equal(error.code, "TOO_MANY_REQUESTS");
 * assert.deepEqual(error.data, { retryAfterMs: 3000 });
 * ```
 */
export class LunoraServerError extends Error {
  /** The machine-readable code, e.g. `"UNAUTHORIZED"`, `"INTERNAL"` or an app's own code. */
  readonly code: string;
  /** The HTTP status of the response, `undefined` when no response arrived. */
  readonly status: number | undefined;
  /** Structured detail from the server, wire-decoded; carries `retryAfterMs` when known. */
  readonly data: unknown;
  /** An actionable hint (Markdown) from the server, when it sent one. */
  readonly hint: string | readonly string[] | undefined;
  /** A documentation link from the server, when it sent one. */
  readonly docsUrl: string | undefined;

  /**
   * Creates the error.
   *
   * @param code The machine-readable code.
   * @param message The human-readable message.
   * @param options Status, data, hint, docs link and cause.
   */
  constructor(code: string, message: string, options: LunoraServerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.data = options.data;
    this.hint = options.hint;
    this.docsUrl = options.docsUrl;
  }
}

Object.defineProperty(LunoraServerError.prototype, "name", {
  value: "LunoraServerError",
  writable: true,
  configurable: true,
});

/** The code for a failed response that carries no error envelope. */
export function codeForStatus(status: number): string {
  switch (status) {
    case 401:
      return "UNAUTHORIZED";
    case 403:
      return "FORBIDDEN";
    case 404:
      return "NOT_FOUND";
    case 409:
      return "CONFLICT";
    case 413:
      return "PAYLOAD_TOO_LARGE";
    case 429:
      return "TOO_MANY_REQUESTS";
    case 408:
      return "INTERNAL";
    default:
      return status >= 400 && status < 500 ? "BAD_REQUEST" : "INTERNAL";
  }
}

/** `Retry-After` (delta seconds or an HTTP date) in milliseconds, if present and valid. */
export function retryAfterMs(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^[0-9]+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isHint(value: unknown): value is string | string[] {
  return typeof value === "string" ||
    (Array.isArray(value) && value.every((line) => typeof line === "string"));
}

/** `data` with `retryAfterMs` folded in, unless it already has one or is not an object. */
function withRetryAfter(data: unknown, waitMs: number | undefined): unknown {
  if (waitMs === undefined) return data;
  if (data === undefined) return { retryAfterMs: waitMs };
  if (!isRecord(data) || data.retryAfterMs !== undefined) return data;
  return { ...data, retryAfterMs: waitMs };
}

/**
 * Reads an RPC response: the decoded `result`, or a thrown {@linkcode LunoraServerError}.
 * Never throws anything else.
 */
export async function readRpcResponse(response: Response): Promise<unknown> {
  const { status } = response;
  let body: unknown;
  try {
    body = JSON.parse(await response.text());
  } catch {
    body = undefined;
  }
  const waitMs = retryAfterMs(response.headers.get("retry-after"));
  const envelope = isRecord(body) ? body.error : undefined;
  if (isRecord(envelope)) {
    let data: unknown;
    try {
      data = envelope.data === undefined ? undefined : decodeWire(envelope.data);
    } catch {
      data = undefined; // A payload the codec refuses is dropped; the coded verdict stands.
    }
    throw new LunoraServerError(
      typeof envelope.code === "string" && envelope.code !== ""
        ? envelope.code
        : codeForStatus(status),
      typeof envelope.message === "string"
        ? envelope.message
        : `Lunora RPC failed with HTTP ${status}`,
      {
        status,
        data: withRetryAfter(data, waitMs),
        hint: isHint(envelope.hint) ? envelope.hint : undefined,
        docsUrl: typeof envelope.docsUrl === "string" ? envelope.docsUrl : undefined,
      },
    );
  }
  const ok = status >= 200 && status < 300;
  if (ok && isRecord(body) && Object.hasOwn(body, "result")) {
    try {
      return decodeWire(body.result);
    } catch (error) {
      throw new LunoraServerError(
        "INTERNAL",
        `Lunora RPC answered a result that cannot be decoded: ${(error as Error).message}`,
        { status, cause: error },
      );
    }
  }
  const detail = ok
    ? body === undefined ? "the body is not JSON" : "the body has neither result nor error"
    : "no error envelope";
  throw new LunoraServerError(
    ok ? "INTERNAL" : codeForStatus(status),
    `Lunora RPC failed with HTTP ${status}: ${detail}`,
    { status, data: withRetryAfter(undefined, waitMs) },
  );
}

/**
 * The error for a request that got no answer (`fetch` rejected, or the answer broke off):
 * code `INTERNAL`. (The server client builds the same error inline: `./server` is held to
 * its size budget.)
 */
export function requestFailed(error: unknown): LunoraServerError {
  return new LunoraServerError(
    "INTERNAL",
    `Lunora RPC request failed: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
}
