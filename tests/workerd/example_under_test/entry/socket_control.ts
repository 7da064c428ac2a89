/**
 * What the soak's live-islands section needs of the shard's sockets, and nothing the example
 * has: a count of the upgrades each shard accepted, the sockets open now by the client id their
 * `connect` frame gave, closing every socket at once (a shard restart as the browser sees it),
 * and a WebSocket token the shard refuses as expired (close code 4001).
 *
 * - Shard side, {@linkcode socketControl}: `ShardUnderTest` asks it first about every request.
 *   It answers `GET /under-test/sockets` and `POST /under-test/close-sockets`, paths only the
 *   admin routes below reach (the worker forwards nothing else there), and an upgrade whose
 *   `?token=` starts with `expired-`, which is accepted and closed at once with 4001. Every
 *   other upgrade is counted and left to the example's shard.
 * - Worker side, {@linkcode socketAdminRoutes}: `GET /_lunora/admin/sockets?shard=a&shard=b`
 *   and `POST /_lunora/admin/close-sockets?shard=...`, behind the admin token like every admin
 *   route; each answers the shards' reports by shard key.
 */
import type {
  HibernatingWebSocket,
  ShardState,
} from "../../../../examples/chat/src/shard/runtime.ts";
import { upgradeResponse, webSocketPair } from "../../../../examples/chat/src/shard/runtime.ts";

/** The close code the shard sends for an expired WebSocket token (spec §12). */
export const TOKEN_EXPIRED_CLOSE = 4001;
/** The close code every socket gets from `close-sockets` (1012: service restart). */
export const RESTART_CLOSE = 1012;
/** A `?token=` the shard under test refuses as expired. */
export const EXPIRED_TOKEN_PREFIX = "expired-";

/** One shard's report of its sockets. */
export interface SocketReport {
  /** Upgrades the shard accepted since its storage was made (expired tokens included). */
  upgrades: number;
  /** Of those, upgrades refused with 4001 for an expired token. */
  expired: number;
  /** Open sockets by the `clientId` of their `connect` frame (`""` before it arrived). */
  open: Record<string, { sockets: number; subscriptions: number }>;
}

const SOCKETS_PATH = "/under-test/sockets";
const CLOSE_PATH = "/under-test/close-sockets";

function migrate(state: ShardState): void {
  state.storage.sql.exec(`CREATE TABLE IF NOT EXISTS under_test_upgrades (
    kind TEXT PRIMARY KEY,
    count INTEGER NOT NULL
  ) WITHOUT ROWID`);
}

function bump(state: ShardState, kind: "upgrades" | "expired"): void {
  migrate(state);
  state.storage.sql.exec(
    `INSERT INTO under_test_upgrades (kind, count) VALUES (?, 1)
     ON CONFLICT (kind) DO UPDATE SET count = count + 1`,
    kind,
  );
}

function counted(state: ShardState, kind: "upgrades" | "expired"): number {
  migrate(state);
  return state.storage.sql.exec<{ count: number }>(
    "SELECT count FROM under_test_upgrades WHERE kind = ?",
    kind,
  ).toArray()[0]?.count ?? 0;
}

/** The sockets the runtime still holds open (a closing one reports `readyState` 2 or 3). */
function openSockets(state: ShardState): HibernatingWebSocket[] {
  return state.getWebSockets().filter((socket) =>
    ((socket as unknown as { readyState?: number }).readyState ?? 1) === 1
  );
}

function report(state: ShardState): SocketReport {
  const open: SocketReport["open"] = {};
  for (const socket of openSockets(state)) {
    const attachment = socket.deserializeAttachment() as {
      client?: { id?: string };
      subs?: Record<string, unknown>;
    } | null;
    const id = attachment?.client?.id ?? "";
    const entry = open[id] ??= { sockets: 0, subscriptions: 0 };
    entry.sockets++;
    entry.subscriptions += Object.keys(attachment?.subs ?? {}).length;
  }
  return { upgrades: counted(state, "upgrades"), expired: counted(state, "expired"), open };
}

/**
 * Answers the requests only the test asks a shard (see the module docs); `null` hands the
 * request to the example's shard, after counting it when it is an upgrade.
 */
export function socketControl(state: ShardState, request: Request): Response | null {
  const url = new URL(request.url);
  if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
    bump(state, "upgrades");
    if (!(url.searchParams.get("token") ?? "").startsWith(EXPIRED_TOKEN_PREFIX)) return null;
    bump(state, "expired");
    const [client, server] = webSocketPair();
    state.acceptWebSocket(server);
    // The shape the example's shard expects of every socket's attachment, for frames the
    // client sends before it sees the close.
    server.serializeAttachment({ identity: null, subs: {} });
    server.close(TOKEN_EXPIRED_CLOSE, "TOKEN_EXPIRED");
    return upgradeResponse(client);
  }
  if (url.pathname === SOCKETS_PATH && request.method === "GET") {
    return Response.json(report(state));
  }
  if (url.pathname === CLOSE_PATH && request.method === "POST") {
    const sockets = openSockets(state);
    for (const socket of sockets) {
      try {
        socket.close(RESTART_CLOSE, "closed by the test");
      } catch {
        // Closed meanwhile.
      }
    }
    return Response.json({ closed: sockets.length });
  }
  return null;
}

/** The part of a Durable Object namespace the admin routes use. */
interface Namespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}

/** Asks every `?shard=` of the admin request `path` on its shard; answers the reports by key. */
async function askShards(request: Request, shards: Namespace, path: string): Promise<Response> {
  const keys = new URL(request.url).searchParams.getAll("shard");
  if (keys.length === 0) {
    return Response.json({ error: { code: "BAD_REQUEST", message: "No ?shard=" } }, {
      status: 400,
    });
  }
  const answers = await Promise.all(keys.map(async (key) => {
    const stub = shards.get(shards.idFromName(key));
    const response = await stub.fetch(
      new Request(`https://shard.internal${path}`, { method: request.method }),
    );
    return [key, await response.json()] as const;
  }));
  return Response.json(Object.fromEntries(answers), { headers: { "cache-control": "no-store" } });
}

/** The admin routes that reach {@linkcode socketControl} on the shards named by `?shard=`. */
export function socketAdminRoutes<Env extends { SHARD: unknown }>(): Record<
  string,
  (request: Request, env: Env) => Promise<Response>
> {
  return {
    "GET /_lunora/admin/sockets": (request, env) =>
      askShards(request, env.SHARD as Namespace, SOCKETS_PATH),
    "POST /_lunora/admin/close-sockets": (request, env) =>
      askShards(request, env.SHARD as Namespace, CLOSE_PATH),
  };
}
