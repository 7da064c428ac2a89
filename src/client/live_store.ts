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
import { stringifyWire } from "../wire/codec.ts";
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
 * Makes a live store. `resolve` gives the registry when the store starts, or `undefined` where
 * no socket may open (the server), in which case the store just keeps its seed.
 */
export function createLiveStore<T>(
  resolve: () => Registry | undefined,
  spec: LiveQuerySpec,
  seed?: { value: T },
): LiveStore<T | undefined> {
  const status = atom<LiveStatus>({ state: "connecting" });
  const store = atom<T | undefined>(seed?.value);
  let showingSeed = seed !== undefined;
  let seedText: string | undefined;
  // The identity the seed belongs to: the registry's generation when the store was made.
  let generation = resolve()?.generation ?? 0;
  const sink: Sink = {
    receive(value, text) {
      if (showingSeed) {
        showingSeed = false;
        if (value === seed!.value) return;
        seedText ??= stringifyWire(seed!.value);
        if (seedText === text()) return;
      }
      store.set(value as T);
    },
    status(next) {
      status.set(next);
    },
    reset() {
      showingSeed = false;
      store.set(undefined);
    },
  };
  onMount(store, () => {
    const registry = resolve();
    if (!registry) return;
    if (generation !== registry.generation) sink.reset();
    generation = registry.generation;
    const detach = registry.attach(spec, {
      receive: sink.receive,
      status: sink.status,
      reset() {
        generation = registry.generation;
        sink.reset();
      },
    }, showingSeed ? seed : undefined);
    return detach;
  });
  return Object.assign(store, { status }) as LiveStore<T | undefined>;
}
