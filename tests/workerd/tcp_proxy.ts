/**
 * A TCP relay between loopback ports: a second origin for one running server.
 *
 * @module
 */
import { freePort } from "./process.ts";

/**
 * A TCP relay on a loopback port to another loopback port: a second origin for the same server
 * (HTTP and WebSocket alike), as a second hostname routed to one worker would be. Counts the
 * connections it relayed.
 */
export class TcpProxy {
  readonly port: number;
  readonly #listener: Deno.Listener;
  readonly #open = new Set<Deno.Conn>();
  readonly #done: Promise<void>;
  connections = 0;

  constructor(targetPort: number, port = freePort()) {
    this.port = port;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port });
    this.#done = this.#accept(targetPort);
  }

  async #accept(targetPort: number): Promise<void> {
    const relays: Promise<void>[] = [];
    try {
      for await (const client of this.#listener) {
        this.connections++;
        relays.push(this.#relay(client, targetPort));
      }
    } catch {
      // The listener was closed.
    }
    await Promise.allSettled(relays);
  }

  async #relay(client: Deno.Conn, targetPort: number): Promise<void> {
    this.#open.add(client);
    let upstream: Deno.Conn | undefined;
    try {
      upstream = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
      this.#open.add(upstream);
      await Promise.allSettled([
        client.readable.pipeTo(upstream.writable),
        upstream.readable.pipeTo(client.writable),
      ]);
    } finally {
      for (const conn of [client, upstream]) {
        if (!conn) continue;
        this.#open.delete(conn);
        try {
          conn.close();
        } catch {
          // Already closed by pipeTo.
        }
      }
    }
  }

  /** Stops listening, cuts every relayed connection and waits for the relays to end. */
  async close(): Promise<void> {
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    for (const conn of this.#open) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
    await this.#done;
  }
}
