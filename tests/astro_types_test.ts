/**
 * Type-level proof that the structural Astro types match the real ones: `lunora()` is accepted
 * where Astro 7 expects an `AstroIntegration`, and its hook accepts what Astro passes. `deno
 * check` (and `deno test`, which type-checks first) fails if they drift apart.
 *
 * `astro` is pinned to 7.3.4 in deno.json: 7.3.5 depends on `@astrojs/compiler-binding@0.5.1`,
 * whose platform packages the registry here does not all have, so Deno cannot resolve it.
 */
import type { AstroIntegration, AstroIntegrationLogger } from "astro";
import assert from "node:assert/strict";
import { lunora } from "../mod.ts";
import type { AstroIntegrationLike, LunoraIntegrationOptions } from "../mod.ts";

type ConfigDoneHook = NonNullable<AstroIntegration["hooks"]["astro:config:done"]>;
type ConfigDoneOptions = Parameters<ConfigDoneHook>[0];

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

Deno.test("lunora() builds an integration named @lunora/astro with an astro:config:done hook", () => {
  assert.equal(integration.name, "@lunora/astro");
  assert.equal(typeof integration.hooks["astro:config:done"], "function");
});
