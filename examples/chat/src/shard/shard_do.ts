/**
 * `ShardDO`: one Durable Object per shard key, speaking Lunora's shard protocol for real.
 *
 * - RPC (`POST /rpc`) runs a registered query, mutation or action against the object's SQLite.
 *   A mutation with `x-lunora-mutation-id` is deduplicated per caller (`dedup.ts`): a repeat
 *   gets the first answer and writes nothing.
 * - WebSockets use the Hibernation API: the object may be evicted between frames, so each
 *   socket's identity and subscriptions live in its attachment, never only in memory.
 * - After every mutation, each subscription is re-run. A socket that sent `connect` (Lunora's
 *   client) gets, per subscription, `settled` when the result is byte-identical, `delta` frames
 *   when a list changed by a few rows (`row_delta.ts`), else `data`; every frame carries the
 *   shard's cursor and epoch (`cursor.ts`), and a mutation's answer its `commitCursor`. A
 *   subscribe that says it holds a value still current gets `resume` instead of the value.
 *   A socket that never sent `connect` gets `data` when its result changed, as before.
 * - Arguments arrive and results leave wire-encoded (`wire.ts`): a `Date`, `bigint` or `Map`
 *   in a result reaches `@lunora/astro/server` and the islands as itself.
 */
import { migrateCursor, ShardCursor } from "./cursor.ts";
import { callerKey, migrateDedup, recall, remember } from "./dedup.ts";
import { functions, migrate } from "./functions.ts";
import {
  type Capability,
  type ClientFrame,
  errorBody,
  errorStatus,
  fingerprint,
  FrameError,
  json,
  jsonText,
  parseCall,
  parseFrame,
  readIdentity,
  readIds,
} from "./protocol.ts";
import {
  type CallIds,
  type FunctionContext,
  type Identity,
  ShardError,
  type ShardFunction,
} from "./registry.ts";
import {
  autoResponse,
  type HibernatingWebSocket,
  type ShardState,
  upgradeResponse,
  webSocketPair,
} from "./runtime.ts";
import { rowDelta } from "./row_delta.ts";
import { decodeWire, encodeWire } from "./wire.ts";

/** One live subscription; `seen` fingerprints the last result sent. */
interface Subscription {
  functionPath: string;
  args: Record<string, unknown>;
  seen: string;
  /** The `table` its deltas name, when it is not `functionPath`. */
  table?: string;
}

/** What a socket carries across hibernation (must stay under workerd's 2 KiB limit). */
interface Attachment {
  identity: Identity | null;
  subs: Record<string, Subscription>;
  /** Set by `connect`: the client's id and capabilities, and this socket's own id. */
  client?: { id: string; caps: Capability[]; socket: string };
}

/** A query's result as a push found it: its fingerprint, and its value or its error. */
interface Outcome {
  seen: string;
  data?: unknown;
  error?: { code: string; message: string };
}

const MAX_SUBSCRIPTIONS = 8;
const NO_IDS: CallIds = Object.freeze({ mutationId: null, clientId: null });

/** A shard's functions by `module:name` path (`functions.ts` holds the app's). */
export type FunctionTable = Record<string, ShardFunction>;

function lookup(table: FunctionTable, functionPath: string, system: boolean): ShardFunction {
  const fn = Object.hasOwn(table, functionPath) ? table[functionPath] : undefined;
  if (!fn || (fn.internal && !system)) {
    throw new ShardError(
      "NOT_FOUND",
      `Unknown function "${functionPath}"`,
      404,
    );
  }
  return fn as ShardFunction;
}

/** The key a query's result history is kept under: its path, arguments and caller. */
function queryKey(
  functionPath: string,
  args: Record<string, unknown>,
  identity: Identity | null,
): string {
  return fingerprint(JSON.stringify([functionPath, args, identity]));
}

function send(socket: HibernatingWebSocket, frame: unknown): void {
  try {
    socket.send(JSON.stringify(frame));
  } catch {
    // The socket closed meanwhile; its close handler cleans up.
  }
}

export class ShardDO {
  readonly #state: ShardState;
  readonly #cursor: ShardCursor;
  /**
   * The last value sent to each subscription of each connected socket (by the socket id in
   * its attachment), to compute deltas from. Memory only: after hibernation a changed result
   * is sent whole.
   */
  readonly #sent = new Map<string, Map<string, unknown>>();
  readonly #functions: FunctionTable;

  /**
   * workerd passes `state` and `env`. `table` is what the shard serves: the app's `functions`,
   * unless a subclass passes a larger table (one with extra functions for its own tests, say).
   */
  constructor(state: ShardState, _env: unknown, table: FunctionTable = functions) {
    this.#state = state;
    this.#functions = table;
    migrate(state.storage.sql);
    migrateDedup(state.storage.sql);
    migrateCursor(state.storage.sql);
    this.#cursor = new ShardCursor(state.storage.sql);
    // Keep-alive pings are answered by the runtime without waking the object.
    state.setWebSocketAutoResponse(autoResponse("lunora-ping", "lunora-pong"));
  }

  fetch(request: Request): Promise<Response> | Response {
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      return this.#accept(request);
    }
    const { pathname } = new URL(request.url);
    if (pathname !== "/rpc") {
      return json({ error: { code: "NOT_FOUND", message: "Not found" } }, 404);
    }
    if (request.method !== "POST") {
      return json({
        error: { code: "METHOD_NOT_ALLOWED", message: "Method not allowed" },
      }, 405);
    }
    return this.#rpc(request);
  }

  async #rpc(request: Request): Promise<Response> {
    try {
      const { functionPath, args } = parseCall(await request.text());
      const system = request.headers.get("x-lunora-system") === "1";
      const fn = lookup(this.#functions, functionPath, system);
      const ids = readIds(request.headers);
      const ctx = this.#context(readIdentity(request.headers), system, ids);
      if (fn.kind === "mutation") return jsonText(this.#mutate(fn, ctx, args));
      return json({ result: encodeWire(this.#run(fn, ctx, args)) });
    } catch (error) {
      return json(errorBody(error), errorStatus(error));
    }
  }

  #context(identity: Identity | null, system: boolean, ids = NO_IDS): FunctionContext {
    return { sql: this.#state.storage.sql, identity, system, ids };
  }

  /**
   * Runs a query or an action (outside a transaction, never deduplicated) on wire-encoded `raw`
   * arguments; returns its result as the function made it.
   */
  #run(fn: ShardFunction, ctx: FunctionContext, raw: Record<string, unknown>): unknown {
    return fn.handler(ctx, fn.args(decodeWire(raw) as Record<string, unknown>));
  }

  /**
   * Runs a mutation in one transaction with its dedup record and the cursor's advance, and
   * returns the answer's JSON `{"result","commitCursor"}` (wire-encoded): the recorded one for
   * a repeat (nothing runs, nothing is pushed), else the new one.
   */
  #mutate(fn: ShardFunction, ctx: FunctionContext, raw: Record<string, unknown>): string {
    const { sql, ids: { mutationId } } = ctx;
    const caller = callerKey(ctx.identity, ctx.ids);
    const { envelope, commitCursor } = this.#state.storage.transactionSync(() => {
      const recorded = caller === null ? null : recall(sql, caller, mutationId!);
      if (recorded !== null) return { envelope: recorded, commitCursor: null };
      const args = fn.args(decodeWire(raw) as Record<string, unknown>);
      const result = encodeWire(fn.handler(ctx, args));
      const commitCursor = this.#cursor.advance();
      const envelope = JSON.stringify({ result, commitCursor });
      if (caller !== null) remember(sql, caller, mutationId!, envelope, Date.now());
      return { envelope, commitCursor };
    });
    if (commitCursor !== null) {
      this.#cursor.committed(commitCursor);
      this.#pushChanges();
    }
    return envelope;
  }

  #accept(request: Request): Response {
    let identity: Identity | null;
    try {
      identity = readIdentity(request.headers);
    } catch (error) {
      return json(errorBody(error), errorStatus(error));
    }
    const [client, server] = webSocketPair();
    this.#state.acceptWebSocket(server);
    const attachment: Attachment = { identity, subs: {} };
    server.serializeAttachment(attachment);
    return upgradeResponse(client);
  }

  webSocketMessage(socket: HibernatingWebSocket, message: string | ArrayBuffer): void {
    let frame: ClientFrame;
    try {
      frame = parseFrame(message);
    } catch (error) {
      const id = error instanceof FrameError ? { id: error.id } : {};
      send(socket, { type: "error", ...id, ...errorBody(error) });
      return;
    }
    const attachment = socket.deserializeAttachment() as Attachment;
    if (frame.type === "connect") {
      const { clientId: id, caps } = frame;
      attachment.client = { id, caps, socket: attachment.client?.socket ?? crypto.randomUUID() };
      socket.serializeAttachment(attachment);
      return;
    }
    if (frame.type === "unsubscribe") {
      delete attachment.subs[frame.id];
      this.#sentTo(attachment)?.delete(frame.id);
      socket.serializeAttachment(attachment);
      return;
    }
    try {
      this.#subscribe(socket, attachment, frame);
    } catch (error) {
      send(socket, { type: "error", id: frame.id, ...errorBody(error) });
    }
  }

  /**
   * Registers a subscription and answers `ack`, then its value: `data`, or `resume` when the
   * client holds the value at a cursor since which the result has not changed.
   */
  #subscribe(
    socket: HibernatingWebSocket,
    attachment: Attachment,
    frame: Extract<ClientFrame, { type: "subscribe" }>,
  ): void {
    const { id, functionPath, args, table, since } = frame;
    const fn = lookup(this.#functions, functionPath, false);
    if (fn.kind !== "query") {
      throw new ShardError("BAD_REQUEST", `"${functionPath}" is not a query`);
    }
    const replacing = Object.hasOwn(attachment.subs, id);
    if (!replacing && Object.keys(attachment.subs).length >= MAX_SUBSCRIPTIONS) {
      throw new ShardError("TOO_MANY_SUBSCRIPTIONS", "Too many subscriptions on one socket");
    }
    const data = encodeWire(this.#run(fn, this.#context(attachment.identity, false), args));
    const seen = fingerprint(JSON.stringify(data));
    const key = queryKey(functionPath, args, attachment.identity);
    const { seq: cursor, epoch } = this.#cursor;
    const resume = attachment.client !== undefined && since !== undefined &&
      this.#cursor.unchangedSince(key, seen, since.seq, since.epoch);
    this.#cursor.observe(key, seen);
    attachment.subs[id] = table === functionPath
      ? { functionPath, args, seen }
      : { functionPath, args, seen, table };
    socket.serializeAttachment(attachment);
    send(socket, { type: "ack", id });
    const sent = this.#sentTo(attachment, true);
    if (sent === undefined) {
      send(socket, { type: "data", id, data });
      return;
    }
    sent.set(id, data);
    send(
      socket,
      resume ? { type: "resume", id, cursor, epoch } : { type: "data", id, data, cursor, epoch },
    );
  }

  /** The values last sent to a connected socket's subscriptions; none for an older client. */
  #sentTo(attachment: Attachment, create = false): Map<string, unknown> | undefined {
    const socket = attachment.client?.socket;
    if (socket === undefined) return undefined;
    let sent = this.#sent.get(socket);
    if (sent === undefined && create) this.#sent.set(socket, sent = new Map());
    return sent;
  }

  webSocketClose(
    socket: HibernatingWebSocket,
    code: number,
    reason: string,
  ): void {
    // Complete the closing handshake. 1005/1006/1015 only describe a close and cannot be
    // sent back (a client that closed without a code would otherwise wait for its timeout).
    this.#forget(socket);
    const reply = code === 1005 || code === 1006 || code === 1015 ? 1000 : code;
    try {
      socket.close(reply, reason);
    } catch {
      // Already closed by the runtime.
    }
  }

  webSocketError(socket: HibernatingWebSocket): void {
    this.#forget(socket);
  }

  /** Drops what was kept in memory for a socket that is gone. */
  #forget(socket: HibernatingWebSocket): void {
    const attachment = socket.deserializeAttachment() as Attachment | null;
    const id = attachment?.client?.socket;
    if (id !== undefined) this.#sent.delete(id);
  }

  /**
   * Re-runs every subscription of every socket after a mutation. A connected socket gets
   * `settled`, `delta` frames or `data` for each, at the new cursor; an older client gets
   * `data` for the results that changed.
   */
  #pushChanges(): void {
    const { seq: cursor, epoch } = this.#cursor;
    // Sockets that share a query, its arguments and a caller share one run.
    const outcomes = new Map<string, Outcome>();
    for (const socket of this.#state.getWebSockets()) {
      const attachment = socket.deserializeAttachment() as Attachment | null;
      if (!attachment) continue;
      const sent = this.#sentTo(attachment, true);
      const pageDelta = attachment.client?.caps.includes("pageDelta") ?? false;
      let changed = false;
      for (const [id, sub] of Object.entries(attachment.subs)) {
        const key = queryKey(sub.functionPath, sub.args, attachment.identity);
        let outcome = outcomes.get(key);
        if (!outcome) {
          outcome = this.#evaluate(sub, attachment.identity);
          if (outcome.error === undefined) this.#cursor.observe(key, outcome.seen);
          outcomes.set(key, outcome);
        }
        if (outcome.seen === sub.seen) {
          if (sent !== undefined) send(socket, { type: "settled", id, cursor, epoch });
          continue;
        }
        sub.seen = outcome.seen;
        changed = true;
        if (outcome.error !== undefined) {
          sent?.delete(id);
          send(socket, { type: "error", id, error: outcome.error });
        } else if (sent === undefined) {
          send(socket, { type: "data", id, data: outcome.data });
        } else {
          const before = sent.get(id);
          sent.set(id, outcome.data);
          const table = sub.table ?? sub.functionPath;
          const ops = before === undefined
            ? null
            : rowDelta(before, outcome.data, table, pageDelta);
          if (ops === null || ops.length === 0) {
            send(socket, { type: "data", id, data: outcome.data, cursor, epoch });
            continue;
          }
          // One frame per row; the cursor rides only on the last frame of the run.
          ops.forEach((delta, index) => {
            const last = index === ops.length - 1;
            send(socket, { type: "delta", id, delta, epoch, ...(last ? { cursor } : {}) });
          });
        }
      }
      if (changed) socket.serializeAttachment(attachment);
    }
  }

  /** Runs a subscription's query for a push: its wire-encoded result, or its error. */
  #evaluate(sub: Subscription, identity: Identity | null): Outcome {
    try {
      const fn = lookup(this.#functions, sub.functionPath, false);
      const data = encodeWire(this.#run(fn, this.#context(identity, false), sub.args));
      return { seen: fingerprint(JSON.stringify(data)), data };
    } catch (error) {
      const { error: body } = errorBody(error);
      return { seen: fingerprint(`error:${JSON.stringify(body)}`), error: body };
    }
  }
}
