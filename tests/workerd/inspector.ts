/**
 * A Chrome DevTools Protocol session on a workerd isolate's inspector: commands sent over its
 * WebSocket, each answered or timed out. Used for heap readings (soak) and CPU profiles
 * (`deno task bench:workerd --profile`).
 *
 * @module
 */

/** A DevTools Protocol session on one inspector target. */
export class Inspector {
  readonly #socket: WebSocket;
  readonly #pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  readonly #listeners = new Map<string, Set<(params: unknown) => void>>();
  #nextId = 1;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      const message = JSON.parse(String(event.data)) as {
        id?: number;
        method?: string;
        params?: unknown;
        result?: unknown;
        error?: { message: string };
      };
      const waiting = message.id === undefined ? undefined : this.#pending.get(message.id);
      if (!waiting) {
        // An event (console, script parsed, context created, ...).
        if (message.method !== undefined) {
          for (const listener of this.#listeners.get(message.method) ?? []) {
            listener(message.params);
          }
        }
        return;
      }
      this.#pending.delete(message.id!);
      if (message.error) waiting.reject(new Error(message.error.message));
      else waiting.resolve(message.result);
    };
    socket.onclose = () => {
      for (const waiting of this.#pending.values()) {
        waiting.reject(new Error("The inspector connection closed"));
      }
      this.#pending.clear();
    };
  }

  /**
   * Opens a session on the inspector WebSocket `url` (e.g. bare workerd's
   * `ws://127.0.0.1:<port>/main`), sending `headers` with the upgrade.
   */
  static async open(url: string, headers: Record<string, string> = {}): Promise<Inspector> {
    const socket = new WebSocket(url, { headers });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        socket.onopen = () => resolve();
        socket.onerror = (event) =>
          reject(new Error(`Cannot connect to ${url}: ${(event as ErrorEvent).message}`));
        timer = setTimeout(() => reject(new Error(`Cannot connect to ${url}: timed out`)), 30_000);
      });
    } catch (error) {
      socket.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return new Inspector(socket);
  }

  /**
   * Connects to the first target `http://127.0.0.1:<port>/json` lists (wrangler's proxy lists
   * the user worker only). The proxy refuses a WebSocket without an allowed `Origin`.
   */
  static async connect(port: number): Promise<Inspector> {
    const response = await fetch(`http://127.0.0.1:${port}/json`);
    const targets = await response.json() as Array<{ webSocketDebuggerUrl?: string }>;
    const url = targets[0]?.webSocketDebuggerUrl;
    if (url === undefined || new URL(url).hostname !== "127.0.0.1") {
      throw new Error(`No loopback inspector target on port ${port}: ${JSON.stringify(targets)}`);
    }
    return await Inspector.open(url, { origin: "http://127.0.0.1" });
  }

  /**
   * Sends one command; resolves with its result, rejects with its error or when no answer
   * came within `timeoutMs`.
   */
  send<T = unknown>(
    method: string,
    params: Record<string, unknown> = {},
    timeoutMs = 30_000,
  ): Promise<T> {
    const id = this.#nextId++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`The inspector did not answer ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#socket.send(JSON.stringify({ id, method, params }));
    }).finally(() => clearTimeout(timer));
  }

  /**
   * Calls `listener` with the parameters of every `method` event (e.g.
   * `Runtime.executionContextCreated`) until the returned function is called.
   */
  on<T = unknown>(method: string, listener: (params: T) => void): () => void {
    let listeners = this.#listeners.get(method);
    if (listeners === undefined) this.#listeners.set(method, listeners = new Set());
    const entry = listener as (params: unknown) => void;
    listeners.add(entry);
    return () => listeners.delete(entry);
  }

  /**
   * Closes the connection. wrangler's proxy does not always finish the closing handshake, so
   * this waits for it one second at most.
   */
  async close(): Promise<void> {
    if (this.#socket.readyState === WebSocket.CLOSED) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const closed = new Promise((resolve) => {
      this.#socket.addEventListener("close", resolve);
      timer = setTimeout(resolve, 1000);
    });
    this.#socket.close();
    await closed;
    clearTimeout(timer);
  }
}
