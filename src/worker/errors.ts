/**
 * JSON error responses of the reserved plane: `{"error":{"code","message"}}`.
 *
 * @module
 */

/** An error the reserved plane answers with a fixed status, code and safe message. */
export class PlaneError extends Error {
  /** The HTTP status to answer with. */
  readonly status: number;
  /** The stable machine-readable code. */
  readonly code: string;
  /** Extra response headers, e.g. `Allow` or `Retry-After`. */
  readonly headers: Record<string, string> | undefined;

  constructor(status: number, code: string, message: string, headers?: Record<string, string>) {
    super(message);
    this.name = "PlaneError";
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/** Builds a JSON error response; the message must be a fixed, safe text. */
export function errorResponse(
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): Response {
  const response = new Response(JSON.stringify({ error: { code, message } }), {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
  if (headers) {
    for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  }
  return response;
}

/**
 * Turns anything thrown inside the reserved plane into a response: a `PlaneError` keeps its
 * status and code, anything else becomes a generic 500 `INTERNAL` (never the raw text).
 */
export function toErrorResponse(error: unknown): Response {
  if (error instanceof PlaneError) {
    return errorResponse(error.status, error.code, error.message, error.headers);
  }
  return errorResponse(500, "INTERNAL", "Internal error");
}
