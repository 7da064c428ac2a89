/**
 * `GET /_lunora/ws?shard=<key>`: checks the upgrade, the origin and the tenant gate before any
 * shard is woken, then hands the upgrade to the shard and returns its 101 untouched.
 *
 * @module
 */
import { PlaneError } from "./errors.ts";
import {
  assertShardAccess,
  resolveCaller,
  setIdentityHeaders,
  stripLunoraHeaders,
} from "./identity.ts";
import type { PlaneContext } from "./plane_context.ts";
import { assertSameOrigin } from "./security.ts";
import { callShard } from "./shard.ts";

/** Answers `GET /_lunora/ws`. */
export async function handleWebSocket(plane: PlaneContext): Promise<Response> {
  const { request, compiled, env, url } = plane;
  if (request.method !== "GET") {
    throw new PlaneError(405, "METHOD_NOT_ALLOWED", "Method not allowed", { allow: "GET" });
  }
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    throw new PlaneError(426, "UPGRADE_REQUIRED", "Expected a WebSocket upgrade", {
      upgrade: "websocket",
    });
  }
  assertSameOrigin(request, compiled, true);
  const requested = url.searchParams.get("shard");
  if (requested !== null && (requested === "" || requested.length > 512)) {
    throw new PlaneError(400, "BAD_REQUEST", '"shard" must be 1 to 512 characters');
  }
  const shardKey = requested ?? compiled.defaultShardKey;
  const identity = await resolveCaller(compiled, request, env);
  await assertShardAccess(compiled, identity, shardKey, request);

  const headers = new Headers(request.headers);
  stripLunoraHeaders(headers);
  setIdentityHeaders(headers, identity);
  return await callShard(
    compiled.shardDO,
    shardKey,
    (stub) => stub.fetch(new Request(request, { headers })),
    false,
  );
}
