/**
 * The slice of the Durable Object runtime the ShardDO uses, declared by shape so the example
 * needs no `@cloudflare/workers-types`. workerd's real objects fit these interfaces.
 */

/** A cursor over the rows of one `sql.exec` call. */
export interface SqlCursor<Row> extends Iterable<Row> {
  toArray(): Row[];
  one(): Row;
}

/** `ctx.storage.sql`: SQLite inside the Durable Object. */
export interface SqlStorage {
  exec<Row = Record<string, string | number | null>>(
    query: string,
    ...bindings: unknown[]
  ): SqlCursor<Row>;
}

/** A server-side WebSocket accepted through the Hibernation API. */
export interface HibernatingWebSocket {
  send(message: string): void;
  close(code?: number, reason?: string): void;
  serializeAttachment(value: unknown): void;
  deserializeAttachment(): unknown;
}

/** The part of `DurableObjectState` the ShardDO uses. */
export interface ShardState {
  storage: {
    sql: SqlStorage;
    transactionSync<T>(run: () => T): T;
  };
  acceptWebSocket(socket: HibernatingWebSocket): void;
  getWebSockets(): HibernatingWebSocket[];
  setWebSocketAutoResponse(pair: unknown): void;
}

interface WorkerdGlobals {
  WebSocketPair: new () => Record<0 | 1, HibernatingWebSocket>;
  WebSocketRequestResponsePair: new (request: string, response: string) => unknown;
}

const workerd = globalThis as unknown as WorkerdGlobals;

/** Creates a WebSocket pair: `[client, server]`. */
export function webSocketPair(): [HibernatingWebSocket, HibernatingWebSocket] {
  const pair = new workerd.WebSocketPair();
  return [pair[0], pair[1]];
}

/** Makes the runtime answer `request` with `response` without waking the object. */
export function autoResponse(request: string, response: string): unknown {
  return new workerd.WebSocketRequestResponsePair(request, response);
}

/** A 101 response handing `client` to the caller (workerd's `ResponseInit.webSocket`). */
export function upgradeResponse(client: HibernatingWebSocket): Response {
  return new Response(null, { status: 101, webSocket: client } as ResponseInit);
}
