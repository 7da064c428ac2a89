/**
 * Shared test fakes: a Durable Object namespace that records every call, an execution context
 * whose `waitUntil` breaks if called unbound, host spies and a recording fetch; for the
 * example's ShardDO, a Durable Object state on real SQLite (`node:sqlite`) with hibernating
 * WebSockets, and workerd's globals.
 */
import type {
  HibernatingWebSocket,
  ShardState,
  SqlCursor,
} from "../examples/chat/src/shard/runtime.ts";
import type { InProcessCall, RequestScope, ServerCallRecord } from "../src/in_process_registry.ts";
import { withLunora } from "../src/worker/with_lunora.ts";
import type { LunoraOptions } from "../src/worker/options.ts";
import type {
  ComposedWorker,
  DurableObjectIdLike,
  DurableObjectNamespaceLike,
  DurableObjectStubLike,
  ExecutionContextLike,
} from "../src/types.ts";
// The browser client's fakes: a scripted WebSocket and fake timers.
import { type Clock, install as installFakeTimers } from "@sinonjs/fake-timers";
import type { WebSocketConstructorLike, WebSocketLike } from "../src/client/connection.ts";
import {
  createLunoraClient,
  type LunoraClient,
  type LunoraClientOptions,
} from "../src/client/lunora_client.ts";
import type { Preloaded } from "../src/wire/preloaded_token.ts";

/** One request a fake shard stub received, with its body already read. */
export interface ShardCall {
  shardKey: string;
  request: Request;
  body: string;
  /** Which stub instance answered (a new stub per `get`/`getByName`). */
  stub: number;
}

/** What a fake shard answers: a response, or a function of the call. */
export type ShardBehaviour = (call: ShardCall) => Response | Promise<Response>;

/** A fake `DurableObjectNamespace` recording calls. */
export interface FakeNamespace extends DurableObjectNamespaceLike {
  calls: ShardCall[];
  /** Stubs handed out, in order. */
  stubs: string[];
  behaviour: ShardBehaviour;
}

class FakeId implements DurableObjectIdLike {
  constructor(readonly name: string) {}
  toString(): string {
    return `id:${this.name}`;
  }
}

/** The default shard answer: `{"result": <the envelope it received>}` with status 200. */
export const echoShard: ShardBehaviour = (call) =>
  Response.json({ result: call.body === "" ? null : JSON.parse(call.body) });

/**
 * A fake namespace. `getByName` is present unless `withGetByName` is false, to cover both
 * stub resolution paths.
 */
export function fakeNamespace(
  behaviour: ShardBehaviour = echoShard,
  { withGetByName = true }: { withGetByName?: boolean } = {},
): FakeNamespace {
  const ns: FakeNamespace = {
    calls: [],
    stubs: [],
    behaviour,
    idFromName(name: string) {
      return new FakeId(name);
    },
    get(id: DurableObjectIdLike): DurableObjectStubLike {
      return makeStub((id as FakeId).name);
    },
  };
  function makeStub(shardKey: string): DurableObjectStubLike {
    const stub = ns.stubs.push(shardKey) - 1;
    return {
      async fetch(request: Request) {
        const body = request.body === null ? "" : await request.text();
        const call = { shardKey, request, body, stub };
        ns.calls.push(call);
        return await ns.behaviour(call);
      },
    };
  }
  if (withGetByName) ns.getByName = (name: string) => makeStub(name);
  return ns;
}

/** A fake `ExecutionContext`; `waitUntil` throws when called without its `this`. */
export interface FakeCtx extends ExecutionContextLike {
  waited: Promise<unknown>[];
  passThroughCalls: number;
}

/** Makes a fake execution context. */
export function fakeCtx(): FakeCtx {
  const ctx: FakeCtx = {
    waited: [],
    passThroughCalls: 0,
    waitUntil(this: FakeCtx | undefined, promise: Promise<unknown>) {
      if (this !== ctx) {
        throw new TypeError("Illegal invocation: waitUntil called unbound");
      }
      ctx.waited.push(promise);
    },
    passThroughOnException(this: FakeCtx | undefined) {
      ctx.passThroughCalls++;
    },
  };
  return ctx;
}

/** One recorded host call. */
export interface HostCall {
  request: Request;
  env: unknown;
  ctx: unknown;
}

/** A host `fetch` spy. */
export interface HostSpy {
  (request: Request, env: unknown, ctx: unknown): Promise<Response>;
  calls: HostCall[];
}

/** A host spy answering with `answer` (default: 200 "astro"). */
export function hostSpy(
  answer: (call: HostCall) => unknown = () => new Response("astro", { status: 200 }),
): HostSpy {
  const calls: HostCall[] = [];
  const spy = (async (request: Request, env: unknown, ctx: unknown) => {
    const call = { request, env, ctx };
    calls.push(call);
    return await answer(call);
  }) as HostSpy;
  spy.calls = calls;
  return spy;
}

/** One request a fake fetch received. */
export interface FetchCall {
  url: string;
  method: string;
  headers: Headers;
  body: string;
  /** Which cookies the request was to carry (`init.credentials`, default `"same-origin"`). */
  credentials: RequestCredentials;
}

/** A recording `fetch`. */
export interface FakeFetch {
  (input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  calls: FetchCall[];
}

/** A fake fetch answering each call with `answer`. */
export function fakeFetch(
  answer: (call: FetchCall) => Response | Promise<Response> = () => Response.json({ result: null }),
): FakeFetch {
  const calls: FetchCall[] = [];
  const fn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const call = {
      url: request.url,
      method: request.method,
      headers: request.headers,
      body: await request.text(),
      credentials: request.credentials,
    };
    calls.push(call);
    return await answer(call);
  }) as FakeFetch;
  fn.calls = calls;
  return fn;
}

/** One fake browser socket, driven by the test as if it were the shard. */
export interface FakeSocket extends WebSocketLike {
  readonly url: string;
  /** Text frames the client sent, in order. */
  readonly sent: string[];
  /** How the client closed it, when it did. */
  closedByClient?: { code?: number; reason?: string };
  /** The shard accepts the upgrade. */
  open(): void;
  /** The shard sends a frame: a string as is, anything else as JSON. */
  push(frame: unknown): void;
  /** The shard (or the network) closes the socket. */
  drop(code?: number, reason?: string): void;
  /** The frames the client sent, parsed, without `lunora-ping`. */
  frames(): Record<string, unknown>[];
}

/** A scripted `WebSocket` constructor that records every socket it made. */
export interface FakeSockets {
  WebSocket: WebSocketConstructorLike;
  all: FakeSocket[];
  /** The newest socket; fails the test when there is none. */
  last(): FakeSocket;
}

/** Makes a scripted `WebSocket` constructor. */
export function fakeSockets(): FakeSockets {
  const all: FakeSocket[] = [];
  class Socket implements FakeSocket {
    readyState = 0;
    readonly sent: string[] = [];
    closedByClient?: { code?: number; reason?: string };
    onopen: ((event: unknown) => void) | null = null;
    onmessage: ((event: { data: unknown }) => void) | null = null;
    onclose: ((event: { code: number; reason: string }) => void) | null = null;
    onerror: ((event: unknown) => void) | null = null;
    constructor(readonly url: string) {
      all.push(this);
    }
    send(data: string) {
      if (this.readyState !== 1) throw new Error("InvalidStateError: not open");
      this.sent.push(data);
    }
    close(code?: number, reason?: string) {
      this.closedByClient = { code, reason };
      this.readyState = 3;
    }
    open() {
      this.readyState = 1;
      this.onopen?.({});
    }
    push(frame: unknown) {
      this.onmessage?.({
        data: typeof frame === "string" ? frame : JSON.stringify(frame),
      });
    }
    drop(code = 1006, reason = "") {
      this.readyState = 3;
      this.onclose?.({ code, reason });
    }
    frames() {
      return this.sent.filter((text) => text !== "lunora-ping").map((text) => JSON.parse(text));
    }
  }
  return {
    WebSocket: Socket,
    all,
    last() {
      const socket = all.at(-1);
      if (!socket) throw new Error("No socket was opened");
      return socket;
    },
  };
}

/** Fake timers and `Date` (setTimeout/setInterval and friends), installed globally. */
export type FakeClock = Clock;

/**
 * Installs fake timers for the length of `fn`: the client's backoff, pings, watchdog and
 * Nano Stores' unmount delay all run on it.
 */
export async function withFakeClock(
  fn: (clock: FakeClock) => Promise<void> | void,
) {
  const clock = installFakeTimers({
    toFake: [
      "setTimeout",
      "clearTimeout",
      "setInterval",
      "clearInterval",
      "Date",
    ],
    now: 1_000_000,
  });
  try {
    await fn(clock);
  } finally {
    clock.uninstall();
  }
}

/** What a listener of a store saw, and how to stop listening. */
export interface Watched<T> {
  /** Every value the listener was called with, the first one included. */
  values: T[];
  stop(): void;
}

/** Subscribes to a Nano Stores store and records what it sees. */
export function watch<T>(
  store: { subscribe(listener: (value: T) => void): () => void },
): Watched<T> {
  const values: T[] = [];
  const stop = store.subscribe((value) => {
    values.push(value);
  });
  return { values, stop };
}

/** A browser client on `https://app.test` whose sockets are scripted. */
export function liveClient(
  options: Omit<LunoraClientOptions, "WebSocket"> = {},
): { client: LunoraClient; sockets: FakeSockets } {
  const sockets = fakeSockets();
  const client = createLunoraClient({
    url: "https://app.test",
    ...options,
    WebSocket: sockets.WebSocket,
  });
  return { client, sockets };
}

/** A `Preloaded` token for tests. */
export function preloadedToken<T>(
  functionPath: string,
  args: Record<string, unknown>,
  value: T,
  shardKey?: string,
): Preloaded<T> {
  const base = { __lunoraPreloaded: true as const, functionPath, args, value };
  return shardKey === undefined ? base : { ...base, shardKey };
}

/** The origin every test request uses. */
export const ORIGIN = "https://app.test";

/** A JSON POST to `path` on the test origin. */
export function jsonPost(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Request {
  return new Request(`${ORIGIN}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Captures `console.error`/`console.warn` output while `fn` runs. */
export async function captureConsole<T>(
  fn: () => T | Promise<T>,
): Promise<{ result: T; errors: unknown[][]; warnings: unknown[][] }> {
  const errors: unknown[][] = [];
  const warnings: unknown[][] = [];
  const { error, warn } = console;
  console.error = (...args: unknown[]) => void errors.push(args);
  console.warn = (...args: unknown[]) => void warnings.push(args);
  try {
    return { result: await fn(), errors, warnings };
  } finally {
    console.error = error;
    console.warn = warn;
  }
}

/** A Response that reports status 101, as workerd's WebSocket upgrade answers do. */
export class UpgradeResponse extends Response {
  override get status(): number {
    return 101;
  }
}

/** Everything a composed-worker test needs, wired together. */
export interface Harness {
  worker: ComposedWorker;
  ns: FakeNamespace;
  host: HostSpy;
  ctx: FakeCtx;
  env: { SHARD: FakeNamespace; LUNORA_ADMIN_TOKEN?: string };
  /** Calls `worker.fetch` with the harness env and ctx. */
  fetch(request: Request): Promise<Response>;
}

/**
 * Builds `withLunora(host, options)` over a fake namespace and host spy. `options` are merged
 * over `{ shardDO: ns }`.
 */
export function harness(
  options: Partial<LunoraOptions> = {},
  { host = hostSpy(), behaviour }: {
    host?: HostSpy;
    behaviour?: ShardBehaviour;
  } = {},
): Harness {
  const ns = fakeNamespace(behaviour);
  const env = { SHARD: ns };
  const worker = withLunora(host, { shardDO: ns, ...options });
  const ctx = fakeCtx();
  return {
    worker,
    ns,
    host,
    ctx,
    env,
    fetch: (request) => worker.fetch(request, env, ctx),
  };
}

/** A logger shaped like Astro's `AstroIntegrationLogger` that records every message. */
export interface FakeLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** The messages received, by level, in order. */
  calls: { info: string[]; warn: string[]; error: string[] };
}

/** Makes a recording logger. */
export function fakeLogger(): FakeLogger {
  const calls = {
    info: [] as string[],
    warn: [] as string[],
    error: [] as string[],
  };
  return {
    calls,
    info: (message) => void calls.info.push(message),
    warn: (message) => void calls.warn.push(message),
    error: (message) => void calls.error.push(message),
  };
}

/** A fake Astro render context (`Astro` in frontmatter): the page request and `locals.cfContext`. */
export interface FakePageContext {
  request: Request;
  locals: { cfContext: FakeCtx };
}

/** A page request on the test origin (or `url`) with `headers`, and its own execution context. */
export function fakePageContext(
  headers: Record<string, string> = {},
  url = `${ORIGIN}/page`,
): FakePageContext {
  return {
    request: new Request(url, { headers }),
    locals: { cfContext: fakeCtx() },
  };
}

/** A fake page context whose page is prerendered (`isPrerendered: true`). */
export function fakePrerenderedContext(): FakePageContext & {
  isPrerendered: true;
} {
  return { ...fakePageContext(), isPrerendered: true };
}

/** One call an in-process transport received. */
export interface TransportCall {
  envelope: string;
  call: InProcessCall;
}

/** How a request scope runs an envelope in process. */
export type InProcessRun = (
  envelope: string,
  call: InProcessCall,
) => Promise<Response>;

/** A request scope whose record of finished calls a test can read. */
export interface FakeScope extends RequestScope {
  /** The calls the server client recorded, in the order they finished. */
  recorded: ServerCallRecord[];
}

/** A request scope that runs envelopes with `run` and keeps what is recorded (in 0 ms). */
export function scopeOf(run: InProcessRun): FakeScope {
  const recorded: ServerCallRecord[] = [];
  return {
    run,
    recorded,
    track: (result, functionPath, kind, shardKey, inProcess) => {
      const via = inProcess ? "in-process" : "http";
      const record = (outcome: string) =>
        recorded.push({
          functionPath,
          kind,
          shardKey,
          durationMs: 0,
          via,
          outcome,
        });
      return result.then((value) => {
        record("ok");
        return value;
      }, (error) => {
        record(error.code);
        throw error;
      });
    },
  };
}

/** An in-process transport that records every call. */
export interface RecordingTransport extends InProcessRun {
  calls: TransportCall[];
  /** The envelopes received, in order. */
  envelopes: string[];
}

/** A transport answering each call with `answer` (default `{"result":1}`), recording it. */
export function recordingTransport(
  answer: (call: TransportCall) => Response | Promise<Response> = () =>
    Response.json({ result: 1 }),
): RecordingTransport {
  const calls: TransportCall[] = [];
  const envelopes: string[] = [];
  const transport = (async (envelope: string, call: InProcessCall) => {
    const recorded = { envelope, call };
    calls.push(recorded);
    envelopes.push(envelope);
    return await answer(recorded);
  }) as RecordingTransport;
  transport.calls = calls;
  transport.envelopes = envelopes;
  return transport;
}

/** A shard error as a Durable Object stub throws it (`retryable` / `overloaded`). */
export function shardError(flag: "retryable" | "overloaded"): Error {
  return Object.assign(new Error(`shard ${flag}`), { [flag]: true });
}

/** `true` exactly when `A` and `B` are the same type (for type-level tests). */
export type Equal<A, B> = (<V>() => V extends A ? 1 : 2) extends (<V>() => V extends B ? 1 : 2)
  ? true
  : false;

/** Compiles only when its type argument is `true`: `assertType<Equal<typeof x, string>>()`. */
export function assertType<_Check extends true>(): void {}

/** The part of `node:sqlite` used here (this repository's `@types/node` predates the module). */
export interface SqliteDatabase {
  exec(sql: string): void;
  prepare(sql: string): { all(...values: unknown[]): unknown[] };
}

// A specifier in a variable: the type comes from the interface above, not from @types/node.
// Node before 22.5 has no `node:sqlite`: the tests that need it are Deno-only anyway.
const NODE_SQLITE: string = "node:sqlite";
const sqlite = await import(NODE_SQLITE).catch(() => undefined) as
  | { DatabaseSync: new (path: string) => SqliteDatabase }
  | undefined;

/** A Durable Object's storage: a fresh in-memory SQLite database. */
export function sqliteDatabase(): SqliteDatabase {
  if (sqlite === undefined) {
    throw new TypeError("This runtime has no node:sqlite");
  }
  return new sqlite.DatabaseSync(":memory:");
}

/**
 * A server-side WebSocket accepted through the Hibernation API: records what it was sent and
 * keeps its attachment as JSON, as workerd keeps it across hibernation.
 */
export class FakeHibernatingSocket implements HibernatingWebSocket {
  /** Every text frame sent, in order. */
  readonly sent: string[] = [];
  /** The close code and reason, once closed. */
  closed: { code?: number; reason?: string } | undefined;
  #attachment = "null";

  send(message: string): void {
    if (this.closed) throw new TypeError("WebSocket is closed");
    this.sent.push(message);
  }

  close(code?: number, reason?: string): void {
    this.closed = { code, reason };
  }

  serializeAttachment(value: unknown): void {
    this.#attachment = JSON.stringify(value);
  }

  deserializeAttachment(): unknown {
    return JSON.parse(this.#attachment);
  }

  /** The frames sent so far, parsed, and forgets them. */
  // deno-lint-ignore no-explicit-any
  take(): any[] {
    return this.sent.splice(0).map((text) => JSON.parse(text));
  }
}

/** A Durable Object state over `db`, with the sockets it accepted. */
export interface SqliteShardState extends ShardState {
  sockets: FakeHibernatingSocket[];
}

/**
 * A Durable Object state whose `storage.sql` is `db` (a new in-memory database by default):
 * two states over one database are one object before and after a restart.
 */
export function sqliteShardState(
  db: SqliteDatabase = sqliteDatabase(),
): SqliteShardState {
  let depth = 0;
  const sockets: FakeHibernatingSocket[] = [];
  return {
    sockets,
    storage: {
      sql: {
        exec<Row>(query: string, ...bindings: unknown[]): SqlCursor<Row> {
          const rows = db.prepare(query).all(...bindings) as Row[];
          return {
            toArray: () => rows,
            one: () => {
              if (rows.length !== 1) {
                throw new RangeError(`one() on ${rows.length} rows`);
              }
              return rows[0]!;
            },
            [Symbol.iterator]: () => rows[Symbol.iterator](),
          };
        },
      },
      transactionSync<T>(run: () => T): T {
        const name = `tx${depth++}`;
        db.exec(`SAVEPOINT ${name}`);
        try {
          const result = run();
          db.exec(`RELEASE ${name}`);
          return result;
        } catch (error) {
          db.exec(`ROLLBACK TO ${name}`);
          db.exec(`RELEASE ${name}`);
          throw error;
        } finally {
          depth--;
        }
      },
    },
    acceptWebSocket: (socket) => void sockets.push(socket as FakeHibernatingSocket),
    getWebSockets: () => sockets.filter((socket) => !socket.closed),
    setWebSocketAutoResponse: () => {},
  };
}

/**
 * Runs `fn` with workerd's globals a Durable Object uses standing in: `WebSocketPair` (of
 * {@linkcode FakeHibernatingSocket}s), `WebSocketRequestResponsePair`, and a `Response` that
 * accepts status 101.
 */
export function withWorkerdGlobals<T>(fn: () => T): T {
  const globals = globalThis as Record<string, unknown>;
  const { Response: Original } = globalThis;
  globals.WebSocketRequestResponsePair = class {};
  globals.WebSocketPair = class {
    0 = new FakeHibernatingSocket();
    1 = new FakeHibernatingSocket();
  };
  globals.Response = class extends Original {
    constructor(body?: BodyInit | null, init?: ResponseInit) {
      super(body, init?.status === 101 ? { ...init, status: 200 } : init);
      if (init?.status === 101) {
        Object.defineProperty(this, "status", { value: 101 });
      }
    }
  };
  try {
    return fn();
  } finally {
    globals.Response = Original;
    delete globals.WebSocketPair;
    delete globals.WebSocketRequestResponsePair;
  }
}

/** Who calls a shard, as the worker would forward it. */
export interface ShardCaller {
  /** `x-lunora-userid`, with `x-lunora-identity` claims `{ name }`. */
  userId?: string;
  /** The `name` claim (default: the user id). */
  name?: string;
  mutationId?: string;
  clientId?: string;
}

/** The headers the worker puts on a call (or an upgrade) for `caller`. */
export function shardHeadersOf(caller: ShardCaller): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
  };
  if (caller.userId !== undefined) {
    headers["x-lunora-userid"] = caller.userId;
    const claims = btoa(JSON.stringify({ name: caller.name ?? caller.userId }));
    headers["x-lunora-identity"] = claims.replaceAll("+", "-").replaceAll(
      "/",
      "_",
    )
      .replace(/=+$/, "");
  }
  if (caller.mutationId !== undefined) {
    headers["x-lunora-mutation-id"] = caller.mutationId;
  }
  if (caller.clientId !== undefined) {
    headers["x-lunora-client-id"] = caller.clientId;
  }
  return headers;
}

/** One RPC to a shard object as the worker forwards it; the parsed envelope and the status. */
export async function shardCall(
  object: { fetch(request: Request): Promise<Response> | Response },
  functionPath: string,
  args: Record<string, unknown>,
  caller: ShardCaller = {},
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; body: any }> {
  const response = await object.fetch(
    new Request("https://shard.internal/rpc", {
      method: "POST",
      headers: shardHeadersOf(caller),
      body: JSON.stringify({ functionPath, args }),
    }),
  );
  return { status: response.status, body: await response.json() };
}
