/**
 * Keeps a preloaded query live in the browser, with no UI framework: opens
 * `<api>/_lunora/ws?shard=<key>`, subscribes to the token's query, decodes every pushed result
 * (`../shard/wire.ts`), answers keep-alives and reconnects with backoff. Both islands use it:
 * the React one through `usePreloadedQuery`, the plain one (`chat.ts`) directly.
 */
import { decodeWire, encodeWire } from "../shard/wire.ts";

/** The part of a `Preloaded` token (`@lunora/astro/server`) a live query needs. */
export interface LiveToken<T> {
  functionPath: string;
  args: Record<string, unknown>;
  shardKey?: string;
  value: T;
}

/** What an island renders: the latest value and where the connection stands. */
export interface LiveState<T> {
  /** The server's value until the first push, then every pushed value as it is (even `null`). */
  value: T;
  /** True from the subscription's `ack` until the socket closes. */
  live: boolean;
  /** `"server-rendered"`, `"connecting…"`, `"live"`, `"reconnecting…"` or `"error: …"`. */
  status: string;
  /** How many values the socket has pushed so far (0: `value` is still the server's). */
  pushes: number;
}

/** The state an island renders first, on the server and in its first client render alike. */
export function initialState<T>(preloaded: LiveToken<T>): LiveState<T> {
  return {
    value: preloaded.value,
    live: false,
    status: "server-rendered",
    pushes: 0,
  };
}

/** The next state after one socket frame (already parsed from JSON). */
export function applyFrame<T>(
  state: LiveState<T>,
  frame: unknown,
  id: string,
): LiveState<T> {
  if (typeof frame !== "object" || frame === null) return state;
  const { type, id: frameId, data, error } = frame as Record<string, unknown>;
  if (frameId !== undefined && frameId !== id) return state;
  if (type === "ack") return { ...state, live: true, status: "live" };
  // A pushed value replaces the shown one whatever it is: a live `null` stays `null`.
  if (type === "data" && "data" in (frame as object)) {
    return { ...state, value: decodeWire(data) as T, pushes: state.pushes + 1 };
  }
  if (type === "error") {
    const message = (error as { message?: unknown } | undefined)?.message;
    return {
      ...state,
      live: false,
      status: `error: ${String(message ?? "unknown")}`,
    };
  }
  return state;
}

/** Options of {@linkcode subscribeLive}. */
export interface LiveOptions {
  /** The Lunora API's origin (default: this page's). */
  apiUrl?: string;
  /** The WebSocket constructor (a test passes a fake). */
  WebSocket?: typeof WebSocket;
  /** Keep-alive interval in ms. */
  pingMs?: number;
}

const SUBSCRIPTION = "sub_1";

/**
 * Subscribes to `preloaded`'s query and calls `onState` with each new state, starting from
 * {@linkcode initialState}. Returns a function that closes the socket for good.
 */
export function subscribeLive<T>(
  preloaded: LiveToken<T>,
  onState: (state: LiveState<T>) => void,
  options: LiveOptions = {},
): () => void {
  const Socket = options.WebSocket ?? WebSocket;
  const origin = options.apiUrl || location.origin;
  const url = `${origin.replace(/^http/, "ws")}/_lunora/ws?shard=${
    encodeURIComponent(preloaded.shardKey ?? "")
  }`;
  let state = initialState(preloaded);
  let socket: WebSocket | undefined;
  let ping: ReturnType<typeof setInterval> | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let retryMs = 500;
  let stopped = false;
  const update = (next: LiveState<T>) => {
    if (next === state) return;
    state = next;
    onState(state);
  };

  const connect = () => {
    update({
      ...state,
      status: state.status === "server-rendered" ? "connecting…" : state.status,
    });
    const current = new Socket(url);
    socket = current;
    current.addEventListener("open", () => {
      retryMs = 500;
      current.send(JSON.stringify({
        type: "subscribe",
        id: SUBSCRIPTION,
        query: {
          functionPath: preloaded.functionPath,
          args: encodeWire(preloaded.args),
        },
      }));
      ping = setInterval(
        () => current.send("lunora-ping"),
        options.pingMs ?? 25_000,
      );
    });
    current.addEventListener("message", (event: MessageEvent) => {
      if (event.data === "lunora-pong") return;
      let frame: unknown;
      try {
        frame = JSON.parse(String(event.data));
      } catch {
        return;
      }
      update(applyFrame(state, frame, SUBSCRIPTION));
    });
    current.addEventListener("close", () => {
      clearInterval(ping);
      if (stopped) return;
      update({ ...state, live: false, status: "reconnecting…" });
      retry = setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10_000);
    });
  };
  connect();

  return () => {
    stopped = true;
    clearInterval(ping);
    clearTimeout(retry);
    socket?.close();
  };
}
