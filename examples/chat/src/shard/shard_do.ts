/**
 * `ShardDO`: one Durable Object per shard key, speaking Lunora's shard protocol for real.
 *
 * - RPC (`POST /rpc`) runs a registered query, mutation or action against the object's SQLite.
 *   A mutation with `x-lunora-mutation-id` is deduplicated per caller (`dedup.ts`): a repeat
 *   gets the first answer and writes nothing.
 * - WebSockets use the Hibernation API: the object may be evicted between frames, so each
 *   socket's identity and subscriptions live in its attachment, never only in memory.
 * - After every mutation, each subscription is re-run and pushed when its result changed.
 * - Arguments arrive and results leave wire-encoded (`wire.ts`): a `Date`, `bigint` or `Map`
 *   in a result reaches `@lunora/astro/server` and the islands as itself.
 */
import { callerKey, migrateDedup, recall, remember } from "./dedup.ts";
import { functions, migrate } from "./functions.ts";
import {
  type ClientFrame,
  errorBody,
  errorStatus,
  fingerprint,
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
import { decodeWire, encodeWire } from "./wire.ts";

/** One live subscription; `seen` fingerprints the last result sent. */
interface Subscription {
  functionPath: string;
  args: Record<string, unknown>;
  seen: string;
}

/** What a socket carries across hibernation (must stay under workerd's 2 KiB limit). */
interface Attachment {
  identity: Identity | null;
  subs: Record<string, Subscription>;
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

function send(socket: HibernatingWebSocket, frame: unknown): void {
  try {
    socket.send(JSON.stringify(frame));
  } catch {
    // The socket closed meanwhile; its close handler cleans up.
  }
}

export class ShardDO {
  readonly #state: ShardState;
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
   * Runs a mutation in one transaction with its dedup record and returns the answer's JSON
   * (wire-encoded): the recorded one for a repeat (nothing runs, nothing is pushed), else the
   * new one.
   */
  #mutate(fn: ShardFunction, ctx: FunctionContext, raw: Record<string, unknown>): string {
    const { sql, ids: { mutationId } } = ctx;
    const caller = callerKey(ctx.identity, ctx.ids);
    const { envelope, ran } = this.#state.storage.transactionSync(() => {
      const recorded = caller === null ? null : recall(sql, caller, mutationId!);
      if (recorded !== null) return { envelope: recorded, ran: false };
      const args = fn.args(decodeWire(raw) as Record<string, unknown>);
      const envelope = JSON.stringify({ result: encodeWire(fn.handler(ctx, args)) });
      if (caller !== null) remember(sql, caller, mutationId!, envelope, Date.now());
      return { envelope, ran: true };
    });
    if (ran) this.#pushChanges();
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

  webSocketMessage(
    socket: HibernatingWebSocket,
    message: string | ArrayBuffer,
  ): void {
    let frame: ClientFrame;
    try {
      frame = parseFrame(message);
    } catch (error) {
      send(socket, { type: "error", ...errorBody(error) });
      return;
    }
    const attachment = socket.deserializeAttachment() as Attachment;
    if (frame.type === "unsubscribe") {
      delete attachment.subs[frame.id];
      socket.serializeAttachment(attachment);
      return;
    }
    try {
      const fn = lookup(this.#functions, frame.functionPath, false);
      if (fn.kind !== "query") {
        throw new ShardError(
          "BAD_REQUEST",
          `"${frame.functionPath}" is not a query`,
        );
      }
      const replacing = Object.hasOwn(attachment.subs, frame.id);
      if (
        !replacing && Object.keys(attachment.subs).length >= MAX_SUBSCRIPTIONS
      ) {
        throw new ShardError(
          "TOO_MANY_SUBSCRIPTIONS",
          "Too many subscriptions on one socket",
        );
      }
      const data = encodeWire(
        this.#run(fn, this.#context(attachment.identity, false), frame.args),
      );
      const text = JSON.stringify(data);
      attachment.subs[frame.id] = {
        functionPath: frame.functionPath,
        args: frame.args,
        seen: fingerprint(text),
      };
      socket.serializeAttachment(attachment);
      send(socket, { type: "ack", id: frame.id });
      send(socket, { type: "data", id: frame.id, data });
    } catch (error) {
      send(socket, { type: "error", id: frame.id, ...errorBody(error) });
    }
  }

  webSocketClose(
    socket: HibernatingWebSocket,
    code: number,
    reason: string,
  ): void {
    // Complete the closing handshake. 1005/1006/1015 only describe a close and cannot be
    // sent back (a client that closed without a code would otherwise wait for its timeout).
    const reply = code === 1005 || code === 1006 || code === 1015 ? 1000 : code;
    try {
      socket.close(reply, reason);
    } catch {
      // Already closed by the runtime.
    }
  }

  webSocketError(): void {
    // Nothing to release: subscriptions die with the socket's attachment.
  }

  /** Re-runs every subscription of every socket; pushes the ones whose result changed. */
  #pushChanges(): void {
    // Sockets that share a query, its arguments and a caller share one run.
    const outcomes = new Map<
      string,
      { text: string; frame: Record<string, unknown> }
    >();
    for (const socket of this.#state.getWebSockets()) {
      const attachment = socket.deserializeAttachment() as Attachment | null;
      if (!attachment) continue;
      let changed = false;
      for (const [id, sub] of Object.entries(attachment.subs)) {
        const key = JSON.stringify([
          sub.functionPath,
          sub.args,
          attachment.identity,
        ]);
        let outcome = outcomes.get(key);
        if (!outcome) {
          try {
            const fn = lookup(this.#functions, sub.functionPath, false);
            const data = encodeWire(
              this.#run(
                fn,
                this.#context(attachment.identity, false),
                sub.args,
              ),
            );
            outcome = {
              text: JSON.stringify(data),
              frame: { type: "data", data },
            };
          } catch (error) {
            const body = errorBody(error);
            outcome = {
              text: `error:${JSON.stringify(body)}`,
              frame: { type: "error", ...body },
            };
          }
          outcomes.set(key, outcome);
        }
        const seen = fingerprint(outcome.text);
        if (seen === sub.seen) continue;
        sub.seen = seen;
        changed = true;
        send(socket, { ...outcome.frame, id });
      }
      if (changed) socket.serializeAttachment(attachment);
    }
  }
}
