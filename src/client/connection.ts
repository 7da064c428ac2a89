/**
 * One live socket to one shard: opening, liveness and reconnecting. It owns no application
 * state (subscriptions, values and cursors live in the registry), so a reconnect cannot lose
 * any; on every open it hands the registry a `send` to replay what the shard must know.
 *
 * - Opened by {@linkcode Connection.start}, at the first subscription on the shard; closed only
 *   by {@linkcode Connection.close}.
 * - Connect timeout 10 s; text `lunora-ping` every 30 s; a socket silent for 75 s (2.5 pings)
 *   is force-closed as half-open.
 * - Reconnects after the policy's delay; the policy is reset after 5 s open or at the first
 *   parsed non-error frame, never on a bare `open`.
 * - Close code 4001 (or an `error` frame `TOKEN_EXPIRED` without an id) reports
 *   `TOKEN_EXPIRED` and reconnects; the token provider runs again before every attempt.
 * - The browser's `online` event cuts a pending backoff short.
 *
 * @module
 */
import { RECONNECT_STABLE_MS, type ReconnectPolicy, reconnectPolicy } from "./reconnect_policy.ts";

/** How long an attempt may take to open. */
export const CONNECT_TIMEOUT_MS = 10_000;
/** How often an open socket sends `lunora-ping`. */
export const PING_INTERVAL_MS = 30_000;
/** How long an open socket may stay silent before it is force-closed. */
export const SILENCE_LIMIT_MS = PING_INTERVAL_MS * 2.5;
/** The close code a shard uses for an expired credential. */
export const TOKEN_EXPIRED_CLOSE = 4001;

/** The part of a `WebSocket` the connection uses. */
export interface WebSocketLike {
  /** `WebSocket.readyState` (1 is open). */
  readonly readyState: number;
  /** Sends a text frame. */
  send(data: string): void;
  /** Closes the socket. */
  close(code?: number, reason?: string): void;
  /** Called once the upgrade succeeded. */
  onopen: ((event: unknown) => void) | null;
  /** Called with each frame (text frames carry a string). */
  onmessage: ((event: { data: unknown }) => void) | null;
  /** Called when the socket closed, with the close code and reason. */
  onclose: ((event: { code: number; reason: string }) => void) | null;
  /** Called on a socket error (a close follows). */
  onerror: ((event: unknown) => void) | null;
}

/** A `WebSocket` constructor (the browser's, or a test's). */
export type WebSocketConstructorLike = new (url: string) => WebSocketLike;

/** Where a connection is. */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

/** A socket-level problem, reported to every subscription on the shard. */
export interface ConnectionError {
  code: string;
  message: string;
}

/** What a connection needs. */
export interface ConnectionOptions {
  /** The socket URL without the token. */
  url: string;
  /** Run before every attempt; a string adds `?token=`. */
  token?: () => string | undefined | Promise<string | undefined>;
  WebSocket: WebSocketConstructorLike;
  /** Called on every open, before anything else is sent. */
  onOpen(send: (text: string) => void): void;
  /**
   * Called with each parsed frame (an object with a string `type`); answers whether it was a
   * non-error frame (which proves the socket and resets the backoff).
   */
  onFrame(frame: Record<string, unknown>): boolean;
  /** Called when the state or the socket-level error changes. */
  onChange(): void;
  random?: () => number;
}

/** One shard's socket. */
export interface Connection {
  readonly state: ConnectionState;
  readonly error: ConnectionError | undefined;
  /** Frames received since the client started. */
  readonly pushes: number;
  /** `Date.now()` of the last frame, or 0. */
  readonly lastPushAt: number;
  /** Opens the socket unless it is open or opening. */
  start(): void;
  /** Sends a text frame; false when the socket is not open (the caller queues). */
  send(text: string): boolean;
  /** Drops the socket and opens a new one at once (identity switch). */
  restart(): void;
  /** Closes for good. */
  close(): void;
}

function withToken(url: string, token: string | undefined): string {
  if (token === undefined || token === "") return url;
  return `${url}${url.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
}

/** Makes the connection of one shard; nothing happens before {@linkcode Connection.start}. */
export function createConnection(options: ConnectionOptions): Connection {
  const policy: ReconnectPolicy = reconnectPolicy(options.random);
  let state: ConnectionState = "closed";
  let started = false;
  let closed = false;
  let socket: WebSocketLike | undefined;
  let error: ConnectionError | undefined;
  let everOpened = false;
  let attempt = 0; // bumps on every attempt, so a stale async token answer is dropped
  let pushes = 0;
  let lastPushAt = 0;
  let lastHeardAt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let connectTimer: ReturnType<typeof setTimeout> | undefined;
  let stableTimer: ReturnType<typeof setTimeout> | undefined;
  let pingTimer: ReturnType<typeof setInterval> | undefined;
  let watchdog: ReturnType<typeof setTimeout> | undefined;

  const setState = (next: ConnectionState, nextError: ConnectionError | undefined = error) => {
    if (next === state && nextError === error) return;
    state = next;
    error = nextError;
    options.onChange();
  };

  const clearTimers = () => {
    clearTimeout(connectTimer);
    clearTimeout(stableTimer);
    clearInterval(pingTimer);
    clearTimeout(watchdog);
    connectTimer =
      stableTimer =
      pingTimer =
      watchdog =
        undefined;
  };

  const drop = () => {
    const old = socket;
    socket = undefined;
    clearTimers();
    if (!old) return;
    old.onopen =
      old.onmessage =
      old.onclose =
      old.onerror =
        null;
    try {
      old.close();
    } catch {
      // Closing a socket that never opened may throw in some runtimes; it is gone either way.
    }
  };

  const scheduleRetry = (nextError?: ConnectionError) => {
    drop();
    if (closed) return;
    setState(everOpened ? "reconnecting" : "connecting", nextError ?? error);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, policy.nextDelay());
  };

  const armWatchdog = (delay: number) => {
    watchdog = setTimeout(() => {
      const silent = Date.now() - lastHeardAt;
      if (silent >= SILENCE_LIMIT_MS) {
        scheduleRetry({ code: "SOCKET_SILENT", message: "The socket went silent" });
      } else armWatchdog(SILENCE_LIMIT_MS - silent);
    }, delay);
  };

  const connect = async () => {
    if (closed) return;
    const mine = ++attempt;
    setState(everOpened ? "reconnecting" : "connecting");
    let token: string | undefined;
    try {
      token = options.token ? await options.token() : undefined;
    } catch {
      if (mine === attempt) {
        scheduleRetry({ code: "WS_TOKEN_FAILED", message: "The WebSocket token provider failed" });
      }
      return;
    }
    if (mine !== attempt || closed) return;
    let ws: WebSocketLike;
    try {
      ws = new options.WebSocket(withToken(options.url, token));
    } catch {
      scheduleRetry({ code: "SOCKET_FAILED", message: "The WebSocket could not be created" });
      return;
    }
    socket = ws;
    connectTimer = setTimeout(
      () => scheduleRetry({ code: "CONNECT_TIMEOUT", message: "The WebSocket did not open" }),
      CONNECT_TIMEOUT_MS,
    );
    ws.onopen = () => {
      clearTimeout(connectTimer);
      everOpened = true;
      lastHeardAt = Date.now();
      stableTimer = setTimeout(() => policy.reset(), RECONNECT_STABLE_MS);
      pingTimer = setInterval(() => send("lunora-ping"), PING_INTERVAL_MS);
      armWatchdog(SILENCE_LIMIT_MS);
      state = "open";
      error = undefined;
      options.onOpen(send);
      options.onChange();
    };
    ws.onmessage = (event) => {
      lastHeardAt = Date.now();
      pushes++;
      lastPushAt = lastHeardAt;
      if (typeof event.data !== "string") return;
      let frame: unknown;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return; // lunora-pong and other non-JSON text
      }
      if (typeof frame !== "object" || frame === null || Array.isArray(frame)) return;
      const record = frame as Record<string, unknown>;
      if (typeof record.type !== "string") return;
      const errorBody = record.error as { code?: unknown } | undefined;
      if (
        record.type === "error" && record.id === undefined && errorBody?.code === "TOKEN_EXPIRED"
      ) {
        scheduleRetry({ code: "TOKEN_EXPIRED", message: "The WebSocket token expired" });
        return;
      }
      if (options.onFrame(record)) policy.reset();
    };
    ws.onclose = (event) => {
      const expired = event.code === TOKEN_EXPIRED_CLOSE || /TOKEN_EXPIRED/.test(event.reason);
      scheduleRetry(
        expired ? { code: "TOKEN_EXPIRED", message: "The WebSocket token expired" } : undefined,
      );
    };
    ws.onerror = () => {};
  };

  // Back online: try now instead of at the end of a backoff that grew while offline.
  const onOnline = () => {
    if (retryTimer === undefined || closed) return;
    clearTimeout(retryTimer);
    retryTimer = undefined;
    policy.reset();
    void connect();
  };
  const scope = globalThis as {
    addEventListener?: (type: string, listener: () => void) => void;
    removeEventListener?: (type: string, listener: () => void) => void;
  };

  const send = (text: string): boolean => {
    if (state !== "open" || !socket) return false;
    try {
      socket.send(text);
      return true;
    } catch {
      return false;
    }
  };

  return {
    get state() {
      return state;
    },
    get error() {
      return error;
    },
    get pushes() {
      return pushes;
    },
    get lastPushAt() {
      return lastPushAt;
    },
    start() {
      if (started || closed) return;
      started = true;
      scope.addEventListener?.("online", onOnline);
      void connect();
    },
    send,
    restart() {
      if (closed || !started) return;
      clearTimeout(retryTimer);
      retryTimer = undefined;
      drop();
      policy.reset();
      error = undefined;
      void connect();
    },
    close() {
      closed = true;
      scope.removeEventListener?.("online", onOnline);
      clearTimeout(retryTimer);
      attempt++;
      drop();
      setState("closed", undefined);
    },
  };
}
