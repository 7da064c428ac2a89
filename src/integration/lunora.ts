/**
 * `lunora()`: the Astro integration for `astro.config`.
 *
 * It declares the Lunora wiring the idiomatic Astro way and, once Astro has resolved its config,
 * checks that the app is wired for one worker: the server entry exists and calls `withLunora`,
 * the config builds a server with `@astrojs/cloudflare`, and the wrangler config points `main` at
 * the entry and binds a SQLite-backed shard class. Each problem becomes one warning with a
 * copy-pasteable fix; the build never fails because of them.
 *
 * Everything that touches the file system (`node:` modules, the wrangler config parsers) is
 * loaded inside the hook, so a worker that imports `withLunora` from `@lunora/astro` never pulls
 * it in.
 *
 * @module
 */
import type {
  AstroConfigDoneOptionsLike,
  AstroConfigSetupOptionsLike,
  AstroDevToolbarAppLike,
  AstroIntegrationLike,
  AstroIntegrationLoggerLike,
  AstroServerSetupOptionsLike,
  VitePluginLike,
} from "./astro_types.ts";
import { DEFAULT_SERVER_ENTRY } from "./fix_snippets.ts";
import { DEV_MARKER_KEY } from "../worker/server_timing.ts";
import { PLANE_EVENT, type PlaneReport, READY_EVENT, TOOLBAR_APP_ID } from "../toolbar/protocol.ts";

/**
 * Options of the {@linkcode lunora} integration.
 *
 * @example Pointing the integration at a custom server entry
 * ```ts
 * import { lunora, type LunoraIntegrationOptions } from "@lunora/astro";
 * import assert from "node:assert/strict";
 *
 * const options: LunoraIntegrationOptions = { serverEntry: "worker/entry.ts" };
 * assert.equal(lunora(options).name, "@lunora/astro");
 * ```
 */
export interface LunoraIntegrationOptions {
  /**
   * Path of the module that calls `withLunora` and is the composed worker's `export default`,
   * relative to the project root (`root` in the Astro config). Surrounding whitespace is
   * trimmed; an empty path is a `TypeError`. It should be the `main` of the wrangler config.
   *
   * @default {"src/worker.ts"}
   */
  serverEntry?: string;
  /**
   * Gives every request `Astro.locals.lunora`, a server client made on first use: registers
   * the `@lunora/astro/middleware` middleware (`order: "pre"`) and declares
   * `App.Locals.lunora` in the project's types. `false` leaves both out. Anything but a
   * boolean is a `TypeError`.
   *
   * @default {true}
   */
  locals?: boolean;
  /**
   * Adds a "Lunora" app to Astro's dev toolbar under `astro dev`: the reserved plane's status,
   * the shard binding and the wiring check's result, this page's server calls (from its
   * `Server-Timing`), its live stores and sockets, and a notification on the toolbar icon when
   * a call failed or a socket is down. Nothing of it reaches `astro build`. `false` leaves it
   * out. Anything but a boolean is a `TypeError`.
   *
   * @default {true}
   */
  devToolbar?: boolean;
}

const NAME = "@lunora/astro";

/** The middleware entry `locals` registers. */
export const LOCALS_MIDDLEWARE = "@lunora/astro/middleware";

/** The declaration `locals` injects: `App.Locals.lunora` is a server client. */
export const LOCALS_TYPES: { readonly filename: string; readonly content: string } = {
  filename: "lunora.d.ts",
  content: `declare namespace App {
  interface Locals {
    /**
     * A Lunora server client for this request, made on first use by the
     * @lunora/astro/middleware middleware (runs as the page's visitor). On a prerendered
     * page, reading it throws a TypeError: use createServerClient({ url }) there.
     */
    lunora: import("@lunora/astro/server").ServerClient;
  }
}
`,
};

/** The Vite environments that render on the server under `astro dev`. */
const SERVER_ENVIRONMENTS = new Set(["ssr", "prerender", "astro"]);

/**
 * Under `astro dev`, pre-bundles the modules Astro loads through its virtual modules, which
 * Vite's dependency scan cannot follow: the locals middleware in the server environments, the
 * toolbar app in the browser's. Found only by a first request instead, each would make Vite
 * optimize again and reload mid-session, after which modules evaluated before and after the
 * reload hold different copies of the same dependency (Astro's actions runtime among them).
 */
function prebundle(
  { locals, devToolbar }: { locals: boolean; devToolbar: boolean },
): VitePluginLike {
  return {
    name: "@lunora/astro:prebundle",
    configEnvironment(name, options) {
      if (options.optimizeDeps?.noDiscovery) return undefined;
      const include = SERVER_ENVIRONMENTS.has(name)
        ? (locals ? [LOCALS_MIDDLEWARE] : [])
        : name === "client" && devToolbar
        ? [DEV_TOOLBAR_APP.entrypoint as string]
        : [];
      return include.length > 0 ? { optimizeDeps: { include } } : undefined;
    },
  };
}

/** The toolbar app `devToolbar` adds under `astro dev`. */
export const DEV_TOOLBAR_APP: AstroDevToolbarAppLike = {
  id: TOOLBAR_APP_ID,
  name: "Lunora",
  icon: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" ' +
    'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" ' +
    'aria-hidden="true"><path d="M20 14.5A8.5 8.5 0 0 1 9.5 4a8.5 8.5 0 1 0 10.5 10.5Z"/></svg>',
  entrypoint: "@lunora/astro/toolbar",
};

/**
 * The page script that marks the worker as `astro dev`'s (injected in dev only): the worker's
 * default `Server-Timing` then names each call, which the toolbar app reads.
 */
export const DEV_MARKER_SCRIPT = `globalThis[Symbol.for(${
  JSON.stringify(DEV_MARKER_KEY)
})] = true;`;

function consoleLogger(): Pick<AstroIntegrationLoggerLike, "warn"> {
  return { warn: (message) => console.warn(`[${NAME}] ${message}`) };
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/**
 * Creates the Astro integration that declares the Lunora wiring and warns, at build and dev
 * time, when the app is mis-wired.
 *
 * In `astro:config:done` it warns once per problem, through the hook's `logger` (or
 * `console.warn` when there is none), each time with a fix to copy:
 * - the server entry is missing or unreadable;
 * - the server entry has no real `withLunora(` call (comments, strings and a bare import do not
 *   count);
 * - `output` is not `"server"`, or the adapter is not `@astrojs/cloudflare`;
 * - the `wrangler.json`/`wrangler.jsonc`/`wrangler.toml` in the root is missing or unparseable,
 *   its `main` is not the server entry, or it lacks the shard's Durable Object binding or that
 *   class's `new_sqlite_classes` migration.
 *
 * Unless `locals` is `false`, `astro:config:setup` also registers the middleware behind
 * `Astro.locals.lunora` and `astro:config:done` declares its type. Under `astro dev` only, it
 * marks the worker as in development (so `Server-Timing` names each call) and, unless
 * `devToolbar` is `false`, adds the Lunora app to Astro's dev toolbar and answers it with the
 * wiring check's result.
 *
 * @param options The integration options; all optional.
 * @returns The integration object for Astro's `integrations` array.
 * @throws {TypeError} When `serverEntry` is not a string or is empty after trimming, or
 * `locals` or `devToolbar` is not a boolean.
 *
 * @example Adding the integration to `astro.config.mjs`
 * ```ts
 * import { lunora } from "@lunora/astro";
 * import assert from "node:assert/strict";
 *
 * // export default defineConfig({ output: "server", adapter: cloudflare(), integrations: [lunora()] });
 * const integration = lunora({ serverEntry: "src/worker.ts" });
 * assert.equal(integration.name, "@lunora/astro");
 * assert.equal(typeof integration.hooks["astro:config:done"], "function");
 * assert.throws(() => lunora({ serverEntry: "  " }), TypeError);
 * ```
 */
export function lunora(options: LunoraIntegrationOptions = {}): AstroIntegrationLike {
  const raw = options?.serverEntry ?? DEFAULT_SERVER_ENTRY;
  const serverEntry = typeof raw === "string" ? raw.trim() : "";
  if (serverEntry === "") {
    throw new TypeError(
      `Cannot create the Lunora integration: "serverEntry" must be a non-empty path, got ${
        describe(raw)
      }`,
    );
  }
  const locals = options?.locals === undefined ? true : options.locals;
  if (typeof locals !== "boolean") {
    throw new TypeError(
      `Cannot create the Lunora integration: "locals" must be a boolean, got ${describe(locals)}`,
    );
  }
  const devToolbar = options?.devToolbar === undefined ? true : options.devToolbar;
  if (typeof devToolbar !== "boolean") {
    throw new TypeError(
      `Cannot create the Lunora integration: "devToolbar" must be a boolean, got ${
        describe(devToolbar)
      }`,
    );
  }
  // Settled by astro:config:done, read when the toolbar app asks (astro:server:setup).
  let settle!: (report: PlaneReport) => void;
  const plane = new Promise<PlaneReport>((resolve) => (settle = resolve));
  return {
    name: NAME,
    hooks: {
      "astro:config:setup": (
        { command, addMiddleware, injectScript, addDevToolbarApp, updateConfig }:
          AstroConfigSetupOptionsLike,
      ) => {
        if (locals) addMiddleware({ order: "pre", entrypoint: LOCALS_MIDDLEWARE });
        if (command !== "dev") return;
        injectScript?.("page-ssr", DEV_MARKER_SCRIPT);
        if (devToolbar) addDevToolbarApp?.(DEV_TOOLBAR_APP);
        updateConfig?.({ vite: { plugins: [prebundle({ locals, devToolbar })] } });
      },
      "astro:server:setup": ({ toolbar }: AstroServerSetupOptionsLike) => {
        if (!devToolbar || toolbar === undefined) return;
        toolbar.on(READY_EVENT, () => {
          void plane.then((report) => toolbar.send(PLANE_EVENT, report));
        });
      },
      "astro:config:done": async ({ config, logger, injectTypes }: AstroConfigDoneOptionsLike) => {
        const log = logger ?? consoleLogger();
        if (locals && injectTypes) {
          try {
            injectTypes(LOCALS_TYPES);
          } catch (error) {
            const reason = error instanceof Error ? error.message : String(error);
            log.warn(`Could not declare the type of Astro.locals.lunora: ${reason}`);
          }
        }
        let warnings: string[];
        let shardBinding: string | undefined;
        try {
          const { inspectProject } = await import("./check_project.ts");
          ({ warnings, shardBinding } = await inspectProject(config, serverEntry));
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          warnings = [`Could not check the Lunora wiring: ${reason}`];
        }
        for (const warning of warnings) log.warn(warning);
        settle({ serverEntry, shardBinding: shardBinding ?? null, warnings });
      },
    },
  };
}
