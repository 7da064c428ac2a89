/**
 * The subscriptions of one client: one per distinct query (the §12 dedup key), shared by every
 * store that shows it, and one connection per shard key. It turns server frames into values,
 * cursors and statuses, replays what a new socket must know, and fans each push out to the
 * stores attached to the query (a push is decoded once, whatever the number of stores).
 *
 * @module
 */
import { decodeWire, stringifyWire } from "../wire/codec.ts";
import {
  type Connection,
  type ConnectionError,
  createConnection,
  type WebSocketConstructorLike,
} from "./connection.ts";
import { applyRowOp, UNMERGEABLE } from "./delta_merge.ts";
import type { LiveError, LiveStatus } from "./live_status.ts";
import { storeTarget } from "./live_store.ts";
import { dedupKey } from "./stable_wire_key.ts";

/** The query a store shows. */
export interface LiveQuerySpec {
  functionPath: string;
  args: Record<string, unknown>;
  shardKey?: string;
}

/** A store attached to a subscription. */
export interface Sink {
  /**
   * A new value; `sameAs(other)` tells whether `other` is the same value as wire JSON (the
   * value's text is computed at most once, however many stores ask).
   */
  receive(value: unknown, sameAs: (other: unknown) => boolean): void;
  /** The status of the query changed. */
  status(status: LiveStatus): void;
  /** The identity changed: show nothing from before. */
  reset(): void;
}

interface Subscription {
  readonly id: string;
  readonly key: string;
  readonly spec: LiveQuerySpec;
  readonly wireArgs: string;
  readonly sinks: Set<Sink>;
  /** `seed`: a store's SSR value, not yet confirmed by the shard. */
  held: "none" | "seed" | "server";
  value: unknown;
  /**
   * The value a run of `delta` frames has built so far, shown only at the run's last frame
   * (the one with the cursor): the rows in between are a state the shard never stored.
   */
  run: { value: unknown } | undefined;
  raw: unknown;
  text: string | undefined;
  cursor: number | undefined;
  epoch: string | undefined;
  error: LiveError | undefined;
  shown: LiveStatus | undefined;
  pushes: number;
  lastPushAt: number;
  /** Optimistic layers over the held value, oldest first. */
  layers: Layer[];
}

interface Layer {
  update(value: unknown): unknown;
  /** The write answered; `cursor` is its commit cursor when the shard gave one. */
  answered: boolean;
  cursor: number | undefined;
}

/** The handle of one optimistic layer, held by the write that made it. */
export interface LayerHandle {
  /** The write succeeded; the layer goes once the socket shows it. */
  answered(commitCursor: number | undefined): void;
  /** The write failed: the layer is rolled back. */
  failed(): void;
}

/** What a registry needs. */
export interface RegistryOptions {
  /** The socket URL of the API, without the shard or token. */
  socketUrl: string;
  token?: () => string | undefined | Promise<string | undefined>;
  WebSocket: WebSocketConstructorLike;
  clientId: string;
  random?: () => number;
}

/** The registry's view for the dev toolbar. */
export interface RegistrySnapshot {
  /** One per shard key (`undefined`: the default shard). */
  sockets: {
    shardKey: string | undefined;
    state: string;
    pushes: number;
    /** `Date.now()` of the last frame; `undefined` before any. */
    lastPushAt: number | undefined;
  }[];
  subscriptions: {
    functionPath: string;
    args: Record<string, unknown>;
    shardKey: string | undefined;
    state: LiveStatus["state"];
    pushes: number;
    lastPushAt: number | undefined;
    error?: LiveError;
  }[];
}

/** The subscriptions and sockets of one client. */
export interface Registry {
  /**
   * Attaches a store to its query, subscribing when it is the query's first; answers the
   * detach function, which unsubscribes when it was the last.
   */
  attach(spec: LiveQuerySpec, sink: Sink, seed?: { value: unknown }): () => void;
  /**
   * Shows `update(value)` in every store of the query until the write is visible on the socket
   * (a frame at or past its commit cursor, or without one the next value after the answer).
   */
  addLayer(spec: LiveQuerySpec, update: (value: unknown) => unknown): LayerHandle;
  /** Forgets every value, seed and cursor and reopens every socket. */
  resetIdentity(): void;
  close(): void;
  snapshot(): RegistrySnapshot;
}

/**
 * Adds the optimistic layers a mutation's options ask for (`optimistic(store, update)`, one or
 * a list) to the registries of their stores; a store that never mounted shows nothing extra.
 */
export function addLayers(options: unknown): LayerHandle[] {
  const wanted = (options as { optimistic?: unknown } | null | undefined)?.optimistic ?? [];
  return ([] as { store?: unknown; update?: unknown }[]).concat(wanted as never).flatMap((item) => {
    const target = storeTarget(Object(item?.store));
    if (!target || typeof item.update !== "function") {
      throw new TypeError('Cannot run mutation: use optimistic(store, update) for "optimistic"');
    }
    const registry = target.host.registry();
    return registry && !(registry instanceof Promise)
      ? [registry.addLayer(target.spec, item.update as (value: unknown) => unknown)]
      : [];
  });
}

function socketUrlFor(base: string, shardKey: string | undefined): string {
  return shardKey === undefined ? base : `${base}?shard=${encodeURIComponent(shardKey)}`;
}

function readError(value: unknown): LiveError {
  const body = (typeof value === "object" && value !== null ? value : {}) as {
    code?: unknown;
    message?: unknown;
  };
  return {
    code: typeof body.code === "string" && body.code !== "" ? body.code : "INTERNAL",
    message: typeof body.message === "string" ? body.message : "The shard reported an error",
  };
}

const KNOWN_FRAMES = new Set(["ack", "data", "delta", "resume", "settled", "complete"]);

const DECODE_FAILED: LiveError = Object.freeze({
  code: "WIRE_DECODE_FAILED",
  message: "A frame from the shard could not be decoded",
});
const CANCELLED: LiveError = Object.freeze({
  code: "SUBSCRIPTION_CANCELLED",
  message: "The shard ended the subscription",
});

/** Makes the registry of one client. */
export function createRegistry(options: RegistryOptions): Registry {
  const subs = new Map<string, Subscription>();
  const byId = new Map<string, Subscription>();
  const connections = new Map<string, Connection>();
  const unsubscribes = new Map<string, string[]>();
  let counter = 0;
  let closed = false;

  const shardOf = (spec: LiveQuerySpec) => spec.shardKey ?? "";

  const statusOf = (sub: Subscription): LiveStatus => {
    const connection = connections.get(shardOf(sub.spec));
    const socket = connection?.state ?? "connecting";
    const offline = closed || socket === "closed" ||
      (socket !== "open" && (globalThis as { navigator?: { onLine?: boolean } }).navigator
            ?.onLine === false);
    const state = offline ? "offline" : socket === "open" ? "live" : socket;
    const error: LiveError | ConnectionError | undefined = sub.error ?? connection?.error;
    return error ? { state, error } : { state };
  };

  const refresh = (sub: Subscription) => {
    const next = statusOf(sub);
    const last = sub.shown;
    if (
      last && last.state === next.state && last.error?.code === next.error?.code &&
      last.error?.message === next.error?.message
    ) return;
    sub.shown = next;
    for (const sink of sub.sinks) sink.status(next);
  };

  const textOf = (sub: Subscription) => (other: unknown) =>
    (sub.text ??= sub.raw !== undefined ? JSON.stringify(sub.raw) : stringifyWire(sub.value)) ===
      stringifyWire(other);

  /** The held value with the optimistic layers on top (a layer that throws is skipped). */
  const shownValue = (sub: Subscription): unknown =>
    sub.layers.reduce((value, layer) => {
      try {
        return layer.update(value);
      } catch {
        return value;
      }
    }, sub.value);

  const deliver = (sub: Subscription) => {
    const layered = sub.layers.length > 0;
    const value = layered ? shownValue(sub) : sub.value;
    const sameAs = layered ? () => false : textOf(sub);
    for (const sink of sub.sinks) sink.receive(value, sameAs);
  };

  /** Drops the layers the socket now shows; answers whether any went. */
  const settleLayers = (sub: Subscription, newValue: boolean): boolean => {
    const before = sub.layers.length;
    sub.layers = sub.layers.filter((layer) =>
      !layer.answered ||
      (layer.cursor === undefined
        ? !newValue
        : sub.cursor === undefined || sub.cursor < layer.cursor)
    );
    return sub.layers.length !== before;
  };

  const subscribeFrame = (sub: Subscription): string => {
    let query = `{"functionPath":${JSON.stringify(sub.spec.functionPath)},"args":${sub.wireArgs},` +
      `"table":${JSON.stringify(sub.spec.functionPath)}`;
    if (sub.held === "server" && sub.cursor !== undefined) {
      query += `,"sinceSeq":${sub.cursor}`;
      if (sub.epoch !== undefined) query += `,"sinceEpoch":${JSON.stringify(sub.epoch)}`;
    }
    return `{"type":"subscribe","id":${JSON.stringify(sub.id)},"query":${query}}}`;
  };

  const unsubscribeFrame = (id: string) => `{"type":"unsubscribe","id":${JSON.stringify(id)}}`;

  const onOpen = (shard: string, send: (text: string) => void) => {
    send(JSON.stringify({
      type: "connect",
      id: "connect",
      clientId: options.clientId,
      caps: ["pageDelta"],
    }));
    for (const sub of subs.values()) {
      if (shardOf(sub.spec) !== shard) continue;
      sub.run = undefined; // the rest of a run cut by the close never comes
      send(subscribeFrame(sub));
    }
    const queued = unsubscribes.get(shard);
    unsubscribes.delete(shard);
    for (const id of queued ?? []) send(unsubscribeFrame(id));
  };

  const advance = (sub: Subscription, frame: Record<string, unknown>) => {
    if (typeof frame.cursor === "number") sub.cursor = frame.cursor;
    if (typeof frame.epoch === "string") sub.epoch = frame.epoch;
  };

  const resubscribe = (sub: Subscription, connection: Connection) => {
    sub.cursor = sub.epoch = sub.run = undefined;
    if (connection.send(unsubscribeFrame(sub.id))) connection.send(subscribeFrame(sub));
  };

  /** A frame that fails to decode: the subscription's error; value and cursor stay. */
  const failDecode = (sub: Subscription): true => {
    sub.error = DECODE_FAILED;
    refresh(sub);
    return true;
  };

  /** A new value from the shard (`raw` its wire JSON, when the frame carried it whole). */
  const accept = (
    sub: Subscription,
    value: unknown,
    raw: unknown,
    frame: Record<string, unknown>,
  ): true => {
    sub.value = value;
    sub.run = undefined;
    sub.raw = raw;
    sub.text = undefined;
    sub.held = "server";
    sub.error = undefined;
    advance(sub, frame);
    settleLayers(sub, true);
    deliver(sub);
    refresh(sub);
    return true;
  };

  const onFrame = (shard: string, frame: Record<string, unknown>): boolean => {
    const type = frame.type;
    const sub = typeof frame.id === "string" ? byId.get(frame.id) : undefined;
    if (type === "error") {
      const error = readError(frame.error);
      for (const target of sub ? [sub] : subs.values()) {
        if (shardOf(target.spec) !== shard) continue;
        target.error = error;
        refresh(target);
      }
      return false;
    }
    if (!sub || shardOf(sub.spec) !== shard) return KNOWN_FRAMES.has(type as string);
    sub.pushes++;
    sub.lastPushAt = Date.now();
    switch (type) {
      case "ack":
        return true;
      case "data": {
        let value: unknown;
        try {
          if (!("data" in frame)) throw new TypeError("no data");
          value = decodeWire(frame.data);
        } catch {
          return failDecode(sub);
        }
        return accept(sub, value, frame.data, frame);
      }
      case "delta": {
        const connection = connections.get(shard)!;
        if (sub.held === "none") {
          resubscribe(sub, connection);
          return true;
        }
        let value: unknown = sub.run ? sub.run.value : sub.value;
        try {
          for (const op of Array.isArray(frame.delta) ? frame.delta : [frame.delta]) {
            value = applyRowOp(value, op);
            if (value === UNMERGEABLE) break;
          }
        } catch {
          return failDecode(sub);
        }
        if (value === UNMERGEABLE) {
          resubscribe(sub, connection);
          return true;
        }
        // The cursor rides only on a run's last frame; a shard that sends no cursors at all
        // has runs of one frame.
        if (typeof frame.cursor !== "number" && sub.cursor !== undefined) {
          sub.run = { value };
          return true;
        }
        return accept(sub, value, undefined, frame);
      }
      case "resume":
      case "settled":
        advance(sub, frame);
        if (settleLayers(sub, false)) deliver(sub);
        if (sub.error) {
          sub.error = undefined;
          refresh(sub);
        }
        return true;
      case "complete":
        sub.error = CANCELLED;
        refresh(sub);
        return true;
      default:
        return false;
    }
  };

  const connectionFor = (shardKey: string | undefined): Connection => {
    const shard = shardKey ?? "";
    let connection = connections.get(shard);
    if (!connection) {
      connection = createConnection({
        url: socketUrlFor(options.socketUrl, shardKey),
        token: options.token,
        WebSocket: options.WebSocket,
        random: options.random,
        onOpen: (send) => onOpen(shard, send),
        onFrame: (frame) => onFrame(shard, frame),
        onChange: () => {
          for (const sub of subs.values()) if (shardOf(sub.spec) === shard) refresh(sub);
        },
      });
      connections.set(shard, connection);
    }
    return connection;
  };

  const remove = (sub: Subscription) => {
    subs.delete(sub.key);
    byId.delete(sub.id);
    const shard = shardOf(sub.spec);
    const connection = connections.get(shard);
    if (connection && !connection.send(unsubscribeFrame(sub.id))) {
      const queue = unsubscribes.get(shard) ?? [];
      queue.push(sub.id);
      unsubscribes.set(shard, queue);
    }
  };

  return {
    attach(spec, sink, seed) {
      if (closed) {
        sink.status({ state: "offline" });
        return () => {};
      }
      const key = dedupKey(spec.functionPath, spec.args, spec.shardKey);
      let sub = subs.get(key);
      const fresh = sub === undefined;
      if (!sub) {
        sub = {
          id: `sub_${++counter}`,
          key,
          spec,
          wireArgs: stringifyWire(spec.args),
          sinks: new Set(),
          held: "none",
          value: undefined,
          run: undefined,
          raw: undefined,
          text: undefined,
          cursor: undefined,
          epoch: undefined,
          error: undefined,
          shown: undefined,
          pushes: 0,
          lastPushAt: 0,
          layers: [],
        };
        subs.set(key, sub);
        byId.set(sub.id, sub);
      }
      const attached = sub;
      attached.sinks.add(sink);
      if (attached.held !== "none") {
        sink.receive(
          shownValue(attached),
          attached.layers.length > 0 ? () => false : textOf(attached),
        );
      } else if (seed) {
        attached.held = "seed";
        attached.value = seed.value;
      }
      const connection = connectionFor(spec.shardKey);
      connection.start();
      if (fresh) connection.send(subscribeFrame(attached));
      attached.shown = undefined;
      refresh(attached);
      return () => {
        if (!attached.sinks.delete(sink) || attached.sinks.size > 0) return;
        if (subs.get(attached.key) === attached) remove(attached);
      };
    },
    addLayer(spec, update) {
      const sub = subs.get(dedupKey(spec.functionPath, spec.args, spec.shardKey));
      if (!sub) return { answered() {}, failed() {} }; // nothing shows the query
      const layer: Layer = { update, answered: false, cursor: undefined };
      sub.layers.push(layer);
      deliver(sub);
      return {
        answered(cursor) {
          layer.answered = true;
          layer.cursor = cursor;
          if (cursor !== undefined && settleLayers(sub, false)) deliver(sub);
        },
        failed() {
          const at = sub.layers.indexOf(layer);
          if (at === -1) return;
          sub.layers.splice(at, 1);
          deliver(sub);
        },
      };
    },
    resetIdentity() {
      for (const sub of subs.values()) {
        sub.layers = [];
        sub.held = "none";
        sub.value =
          sub.run =
          sub.raw =
          sub.text =
          sub.cursor =
          sub.epoch =
          sub.error =
            undefined;
        for (const sink of sub.sinks) sink.reset();
      }
      for (const connection of connections.values()) connection.restart();
    },
    close() {
      closed = true;
      for (const connection of connections.values()) connection.close();
    },
    snapshot() {
      return {
        sockets: [...connections].map(([shard, c]) => ({
          shardKey: shard === "" ? undefined : shard,
          state: c.state,
          pushes: c.pushes,
          lastPushAt: c.lastPushAt || undefined,
        })),
        subscriptions: [...subs.values()].map((sub) => {
          const status = statusOf(sub);
          return {
            functionPath: sub.spec.functionPath,
            args: sub.spec.args,
            shardKey: sub.spec.shardKey,
            state: status.state,
            pushes: sub.pushes,
            lastPushAt: sub.lastPushAt || undefined,
            ...(status.error ? { error: status.error } : {}),
          };
        }),
      };
    },
  };
}
