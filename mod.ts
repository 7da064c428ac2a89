/**
 * `@lunora/astro`: run an Astro app on Cloudflare Workers and the Lunora real-time backend in
 * one worker, with one deploy.
 *
 * - {@linkcode lunora} is the integration for `astro.config`. It declares the wiring and warns
 *   at build time, with a copy-pasteable fix, when the app is mis-wired.
 * - {@linkcode withLunora} wraps the handler `@astrojs/cloudflare` emits: Lunora answers its
 *   reserved `/_lunora/*` plane (RPC, WebSocket, admin, status) and auth routes, and everything
 *   else falls through to Astro, whose crashes are contained as a plain 500.
 *
 * `lunora` is also the default export, the form `npx astro add @lunora/astro` writes into
 * `astro.config` (`import lunora from "@lunora/astro"`).
 *
 * Unless you pass `lunora({ locals: false })`, the integration also gives every request
 * `Astro.locals.lunora`, a server client made on first use (`@lunora/astro/middleware`).
 *
 * Server helpers for `.astro` frontmatter, endpoints and Actions (queries, mutations,
 * actions, preloading) live in `@lunora/astro/server`.
 *
 * @example Composing the worker in `src/worker.ts`
 * ```ts ignore
 * import { handle } from "@astrojs/cloudflare/handler";
 * import { withLunora } from "@lunora/astro";
 *
 * export default withLunora(
 *   (request, env, ctx) => handle(request, env, ctx),
 *   (env) => ({ shardDO: env.SHARD }),
 * );
 * ```
 *
 * @module
 */
import { lunora } from "./src/integration/lunora.ts";

export { lunora };
export type { LunoraIntegrationOptions } from "./src/integration/lunora.ts";
export type {
  AstroAdapterLike,
  AstroConfigDoneOptionsLike,
  AstroConfigLike,
  AstroConfigSetupOptionsLike,
  AstroDevToolbarAppLike,
  AstroInjectedTypeLike,
  AstroIntegrationLike,
  AstroIntegrationLoggerLike,
  AstroIntegrationMiddlewareLike,
  AstroServerSetupOptionsLike,
  AstroToolbarServerLike,
  LunoraIntegrationHooks,
  VitePluginLike,
} from "./src/integration/astro_types.ts";
export { withLunora } from "./src/worker/with_lunora.ts";
export type { ServerTimingMode } from "./src/worker/server_timing.ts";
export type {
  CorsOptions,
  CsrfOptions,
  LunoraIdentity,
  LunoraOptions,
  LunoraOptionsInput,
  RouteHandler,
  SecurityHeadersOptions,
  SecurityOptions,
  ShardAccessRequest,
} from "./src/worker/options.ts";
export type {
  AstroWorkerHandler,
  ComposedWorker,
  DurableObjectIdLike,
  DurableObjectNamespaceLike,
  DurableObjectStubLike,
  EmailHandler,
  ExecutionContextLike,
  FetchHandler,
  QueueHandler,
  ScheduledControllerLike,
  ScheduledHandler,
} from "./src/types.ts";

/**
 * The {@linkcode lunora} integration, as the default export: `npx astro add @lunora/astro`
 * writes `import lunora from "@lunora/astro"` and `integrations: [lunora()]` into
 * `astro.config`. It is the same function as the named export.
 *
 * @example The default import is the integration `astro add` calls
 * ```ts
 * import lunora, { lunora as named } from "@lunora/astro";
 * import assert from "node:assert/strict";
 *
 * // astro.config.mjs: export default defineConfig({ ..., integrations: [lunora()] });
 * assert.equal(lunora, named);
 * assert.equal(lunora().name, "@lunora/astro");
 * ```
 */
export default lunora;
