/**
 * Structural Astro types for the `lunora()` integration.
 *
 * Declared here, shape only, so that `@lunora/astro` type-checks without `astro` installed.
 * Astro's own objects are assignable to them: an `AstroIntegrationLike` is accepted wherever
 * Astro (6 and later) expects an `AstroIntegration`, and its `astro:config:setup` and
 * `astro:config:done` hooks accept the options objects Astro passes (`addMiddleware`, the
 * resolved `AstroConfig`, `injectTypes`, the `AstroIntegrationLogger`).
 *
 * @module
 */

/** The part of Astro's `AstroIntegrationLogger` the integration uses. */
export interface AstroIntegrationLoggerLike {
  /** Logs an informational message. */
  info(message: string): void;
  /** Logs a warning; the integration reports mis-wiring through this. */
  warn(message: string): void;
  /** Logs an error. */
  error(message: string): void;
}

/** The part of Astro's adapter integration the integration reads: its name. */
export interface AstroAdapterLike {
  /** The adapter's package name, `"@astrojs/cloudflare"` for Cloudflare. */
  readonly name: string;
}

/** The part of Astro's resolved `AstroConfig` the integration reads. */
export interface AstroConfigLike {
  /** The project root, as a `file:` URL (Astro resolves it before `astro:config:done`). */
  readonly root: URL;
  /** The build output, `"server"` or `"static"`; Astro defaults it to `"static"`. */
  readonly output?: string;
  /** The adapter, when one is set. */
  readonly adapter?: AstroAdapterLike;
}

/** A middleware an integration adds, as Astro's `addMiddleware` takes it. */
export interface AstroIntegrationMiddlewareLike {
  /** `"pre"` runs before the app's own `src/middleware`, `"post"` after it. */
  readonly order: "pre" | "post";
  /** The module that exports `onRequest`, e.g. `"@lunora/astro/middleware"`. */
  readonly entrypoint: string | URL;
}

/** A type declaration file an integration adds, as Astro's `injectTypes` takes it. */
export interface AstroInjectedTypeLike {
  /** The file name, ending in `.d.ts` (Astro writes it under `.astro/integrations/`). */
  readonly filename: string;
  /** The declarations. */
  readonly content: string;
}

/** An app for Astro's dev toolbar, as Astro's `addDevToolbarApp` takes it. */
export interface AstroDevToolbarAppLike {
  /** A unique id, e.g. `"lunora"`. */
  readonly id: string;
  /** The name in the toolbar's tooltip. */
  readonly name: string;
  /** An SVG string (or the name of one of Astro's icons). */
  readonly icon?: string;
  /** The module whose default export is the app, e.g. `"@lunora/astro/toolbar"`. */
  readonly entrypoint: string | URL;
}

/** What the `astro:config:setup` hook receives (the part the integration uses). */
export interface AstroConfigSetupOptionsLike {
  /** The command Astro runs: `"dev"`, `"build"`, `"preview"` or `"sync"`. */
  readonly command?: "dev" | "build" | "preview" | "sync";
  /** Adds a middleware to every request (the integration's `Astro.locals.lunora`). */
  readonly addMiddleware: (middleware: AstroIntegrationMiddlewareLike) => void;
  /**
   * Adds a script to pages; the integration uses the `"page-ssr"` stage in `astro dev` only,
   * to mark the worker as running in development. Astro always passes it.
   */
  readonly injectScript?: (
    stage: "head-inline" | "before-hydration" | "page" | "page-ssr",
    content: string,
  ) => void;
  /** Adds an app to the dev toolbar (`astro dev` only). Astro always passes it. */
  readonly addDevToolbarApp?: (app: AstroDevToolbarAppLike) => void;
  /**
   * Merges config into the project's; the integration adds a Vite plugin under `astro dev`
   * only. Astro always passes it.
   */
  updateConfig?(config: { vite: { plugins: VitePluginLike[] } }): unknown;
}

/**
 * The part of a Vite plugin the integration uses: `configEnvironment` adds to one Vite
 * environment's options (`ssr`, `prerender`, `astro` for the server, `client` for the browser).
 */
export interface VitePluginLike {
  /** The plugin's name in Vite's messages. */
  readonly name: string;
  /** Returns options to merge into the environment `name`'s (arrays are concatenated). */
  configEnvironment(
    name: string,
    options: { optimizeDeps?: { noDiscovery?: boolean } },
  ): { optimizeDeps: { include: string[] } } | undefined;
}

/**
 * The dev toolbar's server channel, as `astro:server:setup` passes it (`toolbar`): messages
 * to and from the toolbar apps in the browser.
 */
export interface AstroToolbarServerLike {
  /** Sends `payload` (serializable) to the apps listening for `event`. */
  send(event: string, payload: unknown): void;
  /** Runs `callback` when an app sends `event`. */
  on(event: string, callback: (data: unknown) => void): void;
}

/** What the `astro:server:setup` hook receives (`astro dev` only; the part the integration uses). */
export interface AstroServerSetupOptionsLike {
  /** The dev toolbar's server channel. Astro always passes it. */
  readonly toolbar?: AstroToolbarServerLike;
}

/** What the `astro:config:done` hook receives (the part the integration uses). */
export interface AstroConfigDoneOptionsLike {
  /** The resolved Astro config. */
  readonly config: AstroConfigLike;
  /**
   * The integration's logger. Astro always passes one; without it the warnings go to
   * `console.warn`.
   */
  readonly logger?: AstroIntegrationLoggerLike;
  /**
   * Adds a type declaration file to the project (`App.Locals.lunora`). Astro always passes
   * it; without it no types are declared.
   */
  readonly injectTypes?: (type: AstroInjectedTypeLike) => unknown;
}

/**
 * The hooks the `lunora()` integration registers.
 *
 * A type alias, not an interface, on purpose: Astro types `hooks` with an index signature
 * (`Partial<Record<string, unknown>>`), which only object type aliases satisfy implicitly.
 */
export type LunoraIntegrationHooks = {
  /**
   * Registers the middleware behind `Astro.locals.lunora` (`order: "pre"`,
   * `"@lunora/astro/middleware"`), unless the integration's `locals` option is `false`; under
   * `astro dev`, also marks the worker as in development and adds the Lunora dev toolbar app
   * (unless `devToolbar` is `false`).
   */
  "astro:config:setup": (options: AstroConfigSetupOptionsLike) => void;
  /**
   * Checks the project's wiring once the config is resolved and warns, through `logger.warn`,
   * once per problem found, and declares `App.Locals.lunora` with `injectTypes` (unless
   * `locals` is `false`). Never throws and never fails the build.
   */
  "astro:config:done": (options: AstroConfigDoneOptionsLike) => Promise<void>;
  /**
   * Under `astro dev`, answers the Lunora dev toolbar app: the server entry, its shard
   * binding and the wiring check's warnings (unless the `devToolbar` option is `false`).
   */
  "astro:server:setup": (options: AstroServerSetupOptionsLike) => void;
};

/**
 * An Astro integration object, as `lunora()` returns it; assignable to `AstroIntegration`.
 *
 * @example Checking the wiring the way Astro does, with a logger of your own
 * ```ts
 * import { type AstroIntegrationLike, lunora } from "@lunora/astro";
 * import assert from "node:assert/strict";
 *
 * const integration: AstroIntegrationLike = lunora();
 * const warnings: string[] = [];
 * await integration.hooks["astro:config:done"]({
 *   config: { root: new URL("https://example.test/"), output: "server" },
 *   logger: { info() {}, warn: (message) => void warnings.push(message), error() {} },
 * });
 * assert.equal(warnings.length, 1); // a root that is not a file: URL cannot be checked
 * ```
 */
export interface AstroIntegrationLike {
  /** The integration's name, `"@lunora/astro"`. */
  readonly name: string;
  /** The hooks Astro calls. */
  readonly hooks: LunoraIntegrationHooks;
}
