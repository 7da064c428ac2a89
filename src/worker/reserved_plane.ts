/**
 * Routes a canonical reserved path to its endpoint and applies CORS and the baseline security
 * headers to whatever it answers.
 *
 * @module
 */
import { handleAdmin } from "./admin.ts";
import { toErrorResponse } from "./errors.ts";
import type { PlaneContext } from "./plane_context.ts";
import type { ReservedEndpoint } from "./reserved_path.ts";
import { handleRpc } from "./rpc.ts";
import { handleRpcBatch } from "./rpc_batch.ts";
import { preflight, withBaselineHeaders, withCors } from "./security.ts";
import { handleWebSocket } from "./websocket.ts";

/** A reserved endpoint that needs configuration (everything but `status`). */
export type ConfiguredEndpoint = Exclude<ReservedEndpoint, "status">;

const ENDPOINTS: Record<ConfiguredEndpoint, (plane: PlaneContext) => Promise<Response>> = {
  "rpc": handleRpc,
  "rpc-batch": handleRpcBatch,
  "ws": handleWebSocket,
  "admin": handleAdmin,
};

/**
 * Answers a canonical reserved endpoint. Errors become JSON error responses; a 101 is returned
 * as the very object the shard gave.
 */
export async function answerReserved(
  plane: PlaneContext,
  endpoint: ConfiguredEndpoint,
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
