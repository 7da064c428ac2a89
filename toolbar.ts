/**
 * `@lunora/astro/toolbar`: the Lunora app for Astro's dev toolbar. The `lunora()` integration
 * adds it under `astro dev` by itself (`addDevToolbarApp`); pass `lunora({ devToolbar: false })`
 * to leave it out. It is never part of a production build.
 *
 * The panel shows the reserved plane (`/_lunora/status`, the shard binding, the wiring check's
 * result), this page's server calls (function, kind, shard, duration, in process or over HTTP,
 * outcome), and the page's live stores from `@lunora/astro/client`, one row per socket. The
 * toolbar icon gets an error notification when a call failed or a socket is down.
 *
 * Browser code: web-standard APIs only, and nothing from the worker or the integration.
 *
 * @example Registering it by hand (what `lunora()` does in `astro dev`)
 * ```ts ignore
 * // astro.config.mjs, in an integration's astro:config:setup hook
 * addDevToolbarApp({ id: "lunora", name: "Lunora", entrypoint: "@lunora/astro/toolbar" });
 * ```
 *
 * @module
 */
export {
  lunoraToolbarApp as default,
  type ToolbarAppLike,
  type ToolbarAppTargetLike,
  type ToolbarCanvasLike,
  type ToolbarServerHelpersLike,
} from "./src/toolbar/app.ts";
