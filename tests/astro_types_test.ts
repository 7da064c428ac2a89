/**
 * Type-level proof that the structural Astro types match the real ones: `lunora()` is accepted
 * where Astro 7 expects an `AstroIntegration`, its hooks accept what Astro passes, and
 * `@lunora/astro/middleware`'s `onRequest` is a `MiddlewareHandler`. `deno check` (and `deno
 * test`, which type-checks first) fails if they drift apart.
 *
 * `astro` is pinned to 7.3.4 in deno.json: 7.3.5 depends on `@astrojs/compiler-binding@0.5.1`,
 * whose platform packages the registry here does not all have, so Deno cannot resolve it.
 */
import type {
  AstroIntegration,
  AstroIntegrationLogger,
  AstroMiddlewareInstance,
  MiddlewareHandler,
} from "astro";
import assert from "node:assert/strict";
import type { defineToolbarApp } from "astro/toolbar";
import * as middleware from "../middleware.ts";
import lunoraToolbarApp from "../toolbar.ts";
import { lunora } from "../mod.ts";
import type { AstroIntegrationLike, LunoraIntegrationOptions } from "../mod.ts";

type ConfigDoneHook = NonNullable<AstroIntegration["hooks"]["astro:config:done"]>;
type ConfigDoneOptions = Parameters<ConfigDoneHook>[0];
type ConfigSetupHook = NonNullable<AstroIntegration["hooks"]["astro:config:setup"]>;
type ConfigSetupOptions = Parameters<ConfigSetupHook>[0];

// The integration object is an AstroIntegration, through its declared type too.
const integration: AstroIntegration = lunora();
const declared: AstroIntegrationLike = lunora({ serverEntry: "src/worker.ts" });
const _asAstro: AstroIntegration = declared;
const _options: LunoraIntegrationOptions = {};

// What Astro passes to astro:config:done is what the hook accepts.
const _hook: ConfigDoneHook = declared.hooks["astro:config:done"];
const _passOptions = (options: ConfigDoneOptions) => declared.hooks["astro:config:done"](options);
const _passLogger = (logger: AstroIntegrationLogger) =>
  declared.hooks["astro:config:done"]({
    config: { root: new URL("file:///app/"), output: "server" },
    logger,
  });

// What Astro passes to astro:config:setup is what the setup hook accepts.
const _setupHook: ConfigSetupHook = declared.hooks["astro:config:setup"];
const _passSetup = (options: ConfigSetupOptions) => declared.hooks["astro:config:setup"](options);

// What Astro passes to astro:server:setup (the toolbar's server channel) is what it accepts.
type ServerSetupHook = NonNullable<AstroIntegration["hooks"]["astro:server:setup"]>;
const _serverSetupHook: ServerSetupHook = declared.hooks["astro:server:setup"];

// The toolbar entry's default export is what Astro's defineToolbarApp takes.
const _toolbarApp: Parameters<typeof defineToolbarApp>[0] = lunoraToolbarApp;

// The middleware entry is what Astro loads from an `addMiddleware` entrypoint.
const _handler: MiddlewareHandler = middleware.onRequest;
const _instance: AstroMiddlewareInstance = middleware;

Deno.test("lunora() builds an integration named @lunora/astro with astro:config:setup and astro:config:done hooks", () => {
  assert.equal(integration.name, "@lunora/astro");
  assert.equal(typeof integration.hooks["astro:config:done"], "function");
  assert.equal(typeof integration.hooks["astro:config:setup"], "function");
});
