/**
 * `@lunora/astro/server`: reactive-loader helpers for `.astro` frontmatter and Astro endpoints.
 *
 * Web-standard APIs only: no WebSocket, no browser globals, no `node:` modules, and nothing
 * from the build-time integration, so it is safe inside workerd and during SSR.
 *
 * @example Preloading a query in frontmatter
 * ```ts ignore
 * import { createServerClient, preloadQuery } from "@lunora/astro/server";
 * ```
 *
 * @module
 */
export {};
