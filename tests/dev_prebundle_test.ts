/**
 * Under `astro dev`, `lunora()` has Vite pre-bundle the modules Astro loads through virtual
 * modules (the locals middleware on the server, the toolbar app in the browser), so no first
 * request makes Vite optimize again and reload mid-session.
 */
import assert from "node:assert/strict";
import { lunora } from "../mod.ts";
import type { LunoraIntegrationOptions, VitePluginLike } from "../mod.ts";

/** Runs `astro:config:setup` and returns the Vite plugins the integration added. */
function plugins(command: "dev" | "build", options?: LunoraIntegrationOptions): VitePluginLike[] {
  const added: VitePluginLike[] = [];
  lunora(options).hooks["astro:config:setup"]({
    command,
    addMiddleware() {},
    injectScript() {},
    addDevToolbarApp() {},
    updateConfig: (config) => void added.push(...config.vite.plugins),
  });
  return added;
}

/** What the plugins add to the environment `name`'s pre-bundled dependencies. */
function included(added: VitePluginLike[], name: string, noDiscovery = false): string[] {
  return added.flatMap((plugin) =>
    plugin.configEnvironment(name, { optimizeDeps: { noDiscovery } })?.optimizeDeps.include ?? []
  );
}

Deno.test("under astro dev, the server environments pre-bundle @lunora/astro/middleware", () => {
  const added = plugins("dev");
  for (const name of ["ssr", "prerender", "astro"]) {
    assert.deepEqual(included(added, name), ["@lunora/astro/middleware"], name);
  }
});

Deno.test("under astro dev, the browser's environment pre-bundles @lunora/astro/toolbar", () => {
  assert.deepEqual(included(plugins("dev"), "client"), ["@lunora/astro/toolbar"]);
});

Deno.test("an environment that discovers no dependencies gets nothing added", () => {
  assert.deepEqual(included(plugins("dev"), "ssr", true), []);
  assert.deepEqual(included(plugins("dev"), "client", true), []);
});

Deno.test("with locals and devToolbar off, nothing is pre-bundled", () => {
  const added = plugins("dev", { locals: false, devToolbar: false });
  assert.deepEqual(["ssr", "client"].flatMap((name) => included(added, name)), []);
});

Deno.test("astro build adds no Vite plugin", () => {
  assert.deepEqual(plugins("build"), []);
});
