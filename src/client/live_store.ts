/**
 * The store one island reads: a real Nano Stores atom holding a live query's value, with a
 * `status` atom beside it. It never touches a socket; it attaches to its client's registry when
 * its first listener arrives (Nano Stores' `onMount`) and detaches when the last one has been
 * gone for Nano Stores' unmount delay (1 s), so an island re-mounted by a View Transition keeps
 * the subscription.
 *
 * A store made from a `Preloaded` token starts with the token's value. The first value from the
 * shard replaces it only when it differs as wire JSON, so the cold snapshot that equals the
 * server HTML notifies no listener. After an identity switch a store shows no seed or value from
 * before until the new identity's first value arrives.
 *
 * @module
 */
import { atom, onMount } from "nanostores";
import type { ReadableAtom } from "./readable_atom.ts";
import type { LiveStatus } from "./live_status.ts";
import type { LiveQuerySpec, Registry, Sink } from "./subscription_registry.ts";

/**
 * A live query's value as a Nano Stores atom (`undefined` until the first value when there is
 * no seed), with its connection status as a second atom.
 *
 * @typeParam T The value type.
 */
export interface LiveStore<T> extends ReadableAtom<T> {
  /** The query's connection state and latest error; never clears the value store. */
  readonly status: ReadableAtom<LiveStatus>;
}

/**
 * Where a store finds its client's registry. The registry (the socket engine) is loaded on
 * first use, so `registry()` answers a promise until it is; `undefined` means no socket may
 * open here (the server), and the store just keeps its seed.
 */
export interface StoreHost {
  /** Bumped by every identity switch; a seed belongs to the generation its store was made in. */
  readonly generation: number;
  registry(): Registry | Promise<Registry> | undefined;
}

const targets = new WeakMap<object, { host: StoreHost; spec: LiveQuerySpec }>();

/** The host and query of a store this module made, for an optimistic layer. */
export function storeTarget(store: object): { host: StoreHost; spec: LiveQuerySpec } | undefined {
  return targets.get(store);
}

/** Makes a live store of `spec` on `host`, seeded with `seed.value` when given. */
export function createLiveStore<T>(
  host: StoreHost,
  spec: LiveQuerySpec,
  seed?: { value: T },
): LiveStore<T | undefined> {
  const status = atom<LiveStatus>({ state: "connecting" });
  const store = atom<T | undefined>(seed?.value);
  let showingSeed = seed !== undefined;
  let generation = host.generation;
  const sink: Sink = {
    receive(value, sameAs) {
      if (showingSeed) {
        showingSeed = false;
        if (value === seed!.value || sameAs(seed!.value)) return;
      }
      store.set(value as T);
    },
    status(next) {
      status.set(next);
    },
    reset() {
      generation = host.generation;
      showingSeed = false;
      store.set(undefined);
    },
  };
  onMount(store, () => {
    const pending = host.registry();
    if (!pending) return;
    let mounted = true;
    let detach: (() => void) | undefined;
    if (generation !== host.generation) sink.reset();
    const attach = (registry: Registry) => {
      if (mounted) detach = registry.attach(spec, sink, showingSeed ? seed : undefined);
    };
    if (pending instanceof Promise) void pending.then(attach);
    else attach(pending);
    return () => {
      mounted = false;
      detach?.();
    };
  });
  targets.set(store, { host, spec });
  return Object.assign(store, { status }) as LiveStore<T | undefined>;
}
