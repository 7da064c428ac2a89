/**
 * A browser page as the soak's live-islands section plays it in Deno: one
 * `createLunoraClient({ url })` of `@lunora/astro/client` with Deno's `WebSocket` (Deno has
 * no `document`, so the client is given the constructor), its stores with every value each
 * one showed, and a log of every socket the client opened: its shard, its token, when it was
 * made, opened and closed (with the close code), and the frames the client sent on it.
 *
 * @module
 */
import {
  createLunoraClient,
  type LiveStatus,
  type LiveStore,
  type LunoraClient,
  type WebSocketConstructorLike,
} from "../../../client.ts";
import { query } from "../../../server.ts";

/** One socket the client opened. */
export interface SocketLog {
  /** The `?shard=` of its URL (`""` for the default shard). */
  shard: string;
  /** The `?token=` of its URL, or `null`. */
  token: string | null;
  /** `performance.now()` when the client made it, opened, and saw it close. */
  madeAt: number;
  openedAt?: number;
  closedAt?: number;
  closeCode?: number;
  /** Every text frame the client sent on it, parsed. */
  sent: Record<string, unknown>[];
  /** How many frames it received. */
  received: number;
  /** The `type` and `id` of every JSON frame it received, in order. */
  frames: { type?: unknown; id?: unknown }[];
}

/** Deno's `WebSocket`, recording each socket into `log` before the client sees any event. */
export function recordingWebSocket(log: SocketLog[]): WebSocketConstructorLike {
  class RecordingWebSocket extends WebSocket {
    readonly #entry: SocketLog;

    constructor(url: string) {
      super(url);
      const parsed = new URL(url);
      const entry: SocketLog = {
        shard: parsed.searchParams.get("shard") ?? "",
        token: parsed.searchParams.get("token"),
        madeAt: performance.now(),
        sent: [],
        received: 0,
        frames: [],
      };
      this.#entry = entry;
      log.push(entry);
      // Added before the client sets its `on*` handlers, so these run first.
      this.addEventListener("open", () => entry.openedAt = performance.now());
      this.addEventListener("message", (event) => {
        entry.received++;
        if (typeof event.data !== "string" || !event.data.startsWith("{")) return;
        const { type, id } = JSON.parse(event.data);
        entry.frames.push({ type, id });
      });
      this.addEventListener("close", (event) => {
        entry.closedAt = performance.now();
        entry.closeCode = event.code;
      });
    }

    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (typeof data === "string" && data.startsWith("{")) this.#entry.sent.push(JSON.parse(data));
      super.send(data);
    }
  }
  return RecordingWebSocket as unknown as WebSocketConstructorLike;
}

/** A live query as a page's store shows it. */
export interface QuerySpec {
  functionPath: string;
  args: Record<string, unknown>;
  shardKey: string;
}

/** One store of a page, with every value it showed and every status it had. */
export interface StoreRecord {
  spec: QuerySpec;
  store: LiveStore<unknown>;
  /** Every value the store showed, in order (the first is its seed, or `undefined`). */
  shown: unknown[];
  statuses: LiveStatus[];
  /** Whether it was made from a `Preloaded` token. */
  seeded: boolean;
}

/** A page: its client, its sockets and its stores (each with a listener, so live). */
export class IslandPage {
  readonly client: LunoraClient;
  readonly sockets: SocketLog[] = [];
  readonly stores: StoreRecord[] = [];
  readonly #stops: (() => void)[] = [];

  constructor(url: string, options: { wsToken?: () => Promise<string>; fetch?: typeof fetch }) {
    this.client = createLunoraClient({
      url,
      WebSocket: recordingWebSocket(this.sockets),
      ...options,
    });
  }

  #listen(spec: QuerySpec, store: LiveStore<unknown>, seeded: boolean): StoreRecord {
    const record: StoreRecord = { spec, store, shown: [], statuses: [], seeded };
    this.#stops.push(store.status.subscribe((status) => record.statuses.push(status)));
    this.#stops.push(store.subscribe((value) => record.shown.push(value)));
    this.stores.push(record);
    return record;
  }

  /** A store seeded from the token text a page embedded with `serializePreloaded`. */
  hydrate(tokenText: string, spec: QuerySpec): StoreRecord {
    return this.#listen(spec, this.client.hydratePreloaded(tokenText), true);
  }

  /** A store of `spec` without a seed. */
  live(spec: QuerySpec): StoreRecord {
    const store = this.client.liveQuery(
      query<Record<string, unknown>>(spec.functionPath),
      spec.args,
      {
        shardKey: spec.shardKey,
      },
    );
    return this.#listen(spec, store, false);
  }

  /** The sockets to `shard`, oldest first. */
  socketsTo(shard: string): SocketLog[] {
    return this.sockets.filter((socket) => socket.shard === shard);
  }

  /** Removes the listeners and closes the client. */
  close(): void {
    for (const stop of this.#stops.splice(0)) stop();
    this.client.close();
  }
}
