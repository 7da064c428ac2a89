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
  AstroIntegrationLike,
  AstroIntegrationLoggerLike,
} from "./astro_types.ts";
import { DEFAULT_SERVER_ENTRY } from "./fix_snippets.ts";

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
 * `Astro.locals.lunora` and `astro:config:done` declares its type.
 *
 * @param options The integration options; all optional.
 * @returns The integration object for Astro's `integrations` array.
 * @throws {TypeError} When `serverEntry` is not a string or is empty after trimming, or
 * `locals` is not a boolean.
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
  return {
    name: NAME,
    hooks: {
      "astro:config:setup": ({ addMiddleware }: AstroConfigSetupOptionsLike) => {
        if (locals) addMiddleware({ order: "pre", entrypoint: LOCALS_MIDDLEWARE });
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
        try {
          const { checkProject } = await import("./check_project.ts");
          warnings = await checkProject(config, serverEntry);
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          warnings = [`Could not check the Lunora wiring: ${reason}`];
        }
        for (const warning of warnings) log.warn(warning);
      },
    },
  };
}
