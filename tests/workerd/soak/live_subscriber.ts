/**
 * A WebSocket subscriber that reconnects and resubscribes, as the example's island does.
 *
 * @module
 */
import { waitFor } from "../process.ts";

/** A subscription a {@linkcode LiveSubscriber} keeps across reconnects. */
interface Subscription {
  functionPath: string;
  args: Record<string, unknown>;
}

/**
 * A WebSocket subscriber like the example's island: it keeps its subscriptions, and when the
 * connection drops it reconnects with backoff and subscribes again. It keeps the newest data
 * per subscription id, and the first data after each reconnect.
 */
export class LiveSubscriber {
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #subs = new Map<string, Subscription>();
  #socket: WebSocket | undefined;
  #closing = false;
  #reconnecting: Promise<void> | undefined;
  /** Newest `data` per subscription id. */
  readonly latest = new Map<string, unknown>();
  /** The first `data` per subscription id after the latest reconnect. */
  readonly resumed = new Map<string, unknown>();
  /** Every `error` frame received. */
  readonly errors: unknown[] = [];
  /** Frames received, all connections together. */
  frames = 0;
  /** Successful connections after the first. */
  reconnects = 0;
  /** Failed connection attempts while reconnecting. */
  failedAttempts = 0;

  constructor(url: string, headers: Record<string, string>) {
    this.#url = url;
    this.#headers = headers;
  }

  /** Whether the socket is open now. */
  get open(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  /** Opens the first connection. */
  async connect(): Promise<void> {
    this.#socket = await this.#open();
  }

  #open(): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      // Deno's WebSocket takes request headers (browsers send Origin and cookies themselves).
      const socket = new WebSocket(this.#url, { headers: this.#headers } as unknown as string[]);
      let opened = false;
      socket.onopen = () => {
        opened = true;
        for (const [id, sub] of this.#subs) this.#send(socket, id, sub);
        resolve(socket);
      };
      socket.onerror = () => {
        if (!opened) reject(new Error(`WebSocket to ${this.#url} failed`));
      };
      socket.onclose = () => {
        if (opened && !this.#closing && socket === this.#socket) {
          this.#reconnecting = this.#reconnect();
        }
      };
      socket.onmessage = (event) => this.#receive(String(event.data));
    });
  }

  async #reconnect(): Promise<void> {
    let delay = 100;
    while (!this.#closing) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.#closing) return;
      try {
        this.resumed.clear();
        this.#socket = await this.#open();
        this.reconnects++;
        return;
      } catch {
        this.failedAttempts++;
        delay = Math.min(delay * 2, 1000);
      }
    }
  }

  #receive(text: string): void {
    this.frames++;
    let frame: { type?: string; id?: string; data?: unknown };
    try {
      frame = JSON.parse(text);
    } catch {
      return; // lunora-pong
    }
    if (frame.type === "data" && typeof frame.id === "string") {
      this.latest.set(frame.id, frame.data);
      if (!this.resumed.has(frame.id)) this.resumed.set(frame.id, frame.data);
    } else if (frame.type === "error") {
      this.errors.push(frame);
    }
  }

  #send(socket: WebSocket, id: string, sub: Subscription): void {
    socket.send(JSON.stringify({ type: "subscribe", id, query: sub }));
  }

  /** Subscribes `id` to `functionPath(args)`, now and after every reconnect. */
  subscribe(id: string, functionPath: string, args: Record<string, unknown>): void {
    const sub = { functionPath, args };
    this.#subs.set(id, sub);
    if (this.#socket && this.open) this.#send(this.#socket, id, sub);
  }

  /** Waits until `predicate` holds. */
  async until(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
    await waitFor(what, () => predicate() || undefined, timeoutMs, 25);
  }

  /** Closes for good (no reconnect) and waits until the socket is closed. */
  async close(): Promise<void> {
    this.#closing = true;
    await this.#reconnecting;
    const socket = this.#socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((resolve) => socket.addEventListener("close", resolve));
    socket.close();
    await closed;
  }
}
