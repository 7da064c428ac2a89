/**
 * Routes a canonical reserved path to its endpoint and applies CORS and the baseline security
 * headers to whatever it answers.
 *
 * @module
 */
import { errorResponse, toErrorResponse } from "./errors.ts";
import type { PlaneContext } from "./plane_context.ts";
import type { ReservedEndpoint } from "./reserved_path.ts";
import { preflight, withBaselineHeaders, withCors } from "./security.ts";

function notImplemented(): Promise<Response> {
  return Promise.resolve(errorResponse(501, "NOT_IMPLEMENTED", "Not implemented"));
}

const ENDPOINTS: Record<
  Exclude<ReservedEndpoint, "status">,
  (plane: PlaneContext) => Promise<Response>
> = {
  "rpc": notImplemented,
  "rpc-batch": notImplemented,
  "ws": notImplemented,
  "admin": notImplemented,
};

/** Answers a canonical reserved endpoint other than `status`. */
export async function answerReserved(
  plane: PlaneContext,
  endpoint: Exclude<ReservedEndpoint, "status">,
): Promise<Response> {
  const { request, compiled } = plane;
  let response = preflight(request, compiled.cors);
  if (response === undefined) {
    try {
      response = await ENDPOINTS[endpoint](plane);
    } catch (error) {
      response = toErrorResponse(error);
    }
  }
  if (response.status === 101) return response;
  return withBaselineHeaders(withCors(response, request, compiled.cors), request, compiled.headers);
}
