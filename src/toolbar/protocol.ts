/**
 * What the `lunora()` integration and the Lunora dev toolbar app say to each other over Astro's
 * toolbar channel (`astro:server:setup`'s `toolbar` on the server, the app's `server` in the
 * browser), in `astro dev` only.
 *
 * @module
 */

/** Sent by the app once it is initialized: "tell me about the plane". */
export const READY_EVENT = "lunora:toolbar:ready";

/** Sent by the integration in answer, with a {@linkcode PlaneReport}. */
export const PLANE_EVENT = "lunora:toolbar:plane";

/** The integration's view of the app's wiring, as the toolbar app shows it. */
export interface PlaneReport {
  /** The server entry, relative to the project root (e.g. `"src/worker.ts"`). */
  readonly serverEntry: string;
  /** The shard binding the entry passes as `shardDO` (e.g. `"SHARD"`), if the scan found one. */
  readonly shardBinding: string | null;
  /** The wiring check's warnings, each with its fix; empty when the app is wired right. */
  readonly warnings: readonly string[];
}

/** The toolbar app's id in Astro's dev toolbar. */
export const TOOLBAR_APP_ID = "lunora";
