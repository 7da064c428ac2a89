/**
 * The dev inspection hook (internal, unstable: version 1, may change in any release). Every
 * client adds an entry to a page-global `Set` under
 * `globalThis[Symbol.for("@lunora/astro/client.devtools@1")]` and removes it on `close()`.
 * A dev-toolbar app reads `snapshot()` when it draws; nothing is computed before that.
 *
 * @module
 */
import type { RegistrySnapshot } from "./subscription_registry.ts";

/** The page-global key of the set of clients. */
export const DEVTOOLS_KEY: unique symbol = Symbol.for("@lunora/astro/client.devtools@1") as never;

/** What the dev toolbar sees of one client. */
export interface DevtoolsSnapshot extends RegistrySnapshot {
  /** The API URL. */
  url: string;
}

/** One client's entry in the page-global set. */
export interface DevtoolsEntry {
  snapshot(): DevtoolsSnapshot;
}

/** Adds `entry` to the page-global set; answers the function that removes it. */
export function registerDevtools(entry: DevtoolsEntry): () => void {
  const scope = globalThis as unknown as Record<symbol, Set<DevtoolsEntry> | undefined>;
  const entries = scope[DEVTOOLS_KEY] ??= new Set();
  entries.add(entry);
  return () => entries.delete(entry);
}
