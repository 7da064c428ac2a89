/**
 * What `lunora()` does under `astro dev` for the dev toolbar and `Server-Timing`: it adds the
 * Lunora toolbar app (unless `devToolbar: false`), marks the worker as in development, and
 * answers the app with the wiring check's result; `astro build` gets none of it.
 */
import assert from "node:assert/strict";
import { lunora } from "../src/integration/lunora.ts";
import type {
  AstroDevToolbarAppLike,
  AstroIntegrationLike,
} from "../src/integration/astro_types.ts";
import { PLANE_EVENT, READY_EVENT } from "../src/toolbar/protocol.ts";
import { DEV_MARKER_KEY, isDevMarked } from "../src/worker/server_timing.ts";
import { fakeLogger } from "./_fakes.ts";

interface Setup {
  apps: AstroDevToolbarAppLike[];
  scripts: [string, string][];
}

function setUp(integration: AstroIntegrationLike, command: "dev" | "build"): Setup {
  const setup: Setup = { apps: [], scripts: [] };
  integration.hooks["astro:config:setup"]({
    command,
    addMiddleware() {},
    injectScript: (stage, content) => void setup.scripts.push([stage, content]),
    addDevToolbarApp: (app) => void setup.apps.push(app),
  });
  return setup;
}

Deno.test("under astro dev, lunora() adds the Lunora app from @lunora/astro/toolbar", () => {
  const { apps } = setUp(lunora(), "dev");
  assert.equal(apps.length, 1);
  assert.equal(apps[0]!.id, "lunora");
  assert.equal(apps[0]!.name, "Lunora");
  assert.equal(apps[0]!.entrypoint, "@lunora/astro/toolbar");
  assert.match(apps[0]!.icon!, /^<svg /);
});

Deno.test("under astro dev, lunora() injects a page-ssr script that marks the worker as in dev", () => {
  const { scripts } = setUp(lunora(), "dev");
  assert.equal(scripts.length, 1);
  assert.equal(scripts[0]![0], "page-ssr");
  assert.equal(isDevMarked(), false);
  try {
    new Function(scripts[0]![1])();
    assert.equal(isDevMarked(), true);
  } finally {
    delete (globalThis as Record<symbol, unknown>)[Symbol.for(DEV_MARKER_KEY)];
  }
});

Deno.test("astro build gets neither the toolbar app nor the dev marker", () => {
  assert.deepEqual(setUp(lunora(), "build"), { apps: [], scripts: [] });
});

Deno.test("devToolbar: false leaves the app out under astro dev", () => {
  const { apps, scripts } = setUp(lunora({ devToolbar: false }), "dev");
  assert.deepEqual(apps, []);
  assert.equal(scripts.length, 1, "Server-Timing still names calls in dev");
});

Deno.test("a devToolbar that is not a boolean is a TypeError that quotes it", () => {
  assert.throws(() => lunora({ devToolbar: "yes" as never }), {
    name: "TypeError",
    message: 'Cannot create the Lunora integration: "devToolbar" must be a boolean, got "yes"',
  });
});

/** Runs the hooks as `astro dev` does and returns what the app hears after saying it is ready. */
async function planeFor(fixture: string, devToolbar = true): Promise<unknown[]> {
  const integration = lunora({ devToolbar });
  const listeners = new Map<string, (data: unknown) => void>();
  const sent: unknown[] = [];
  integration.hooks["astro:server:setup"]({
    toolbar: {
      send: (event, payload) => void sent.push([event, payload]),
      on: (event, callback) => void listeners.set(event, callback),
    },
  });
  await integration.hooks["astro:config:done"]({
    config: {
      root: new URL(`./fixtures/${fixture}/`, import.meta.url),
      output: "server",
      adapter: { name: "@astrojs/cloudflare" },
    },
    logger: fakeLogger(),
  });
  listeners.get(READY_EVENT)?.({});
  await new Promise((resolve) => setTimeout(resolve, 0));
  return sent;
}

Deno.test("the integration answers the toolbar app with the entry, its shard binding and no warnings", async () => {
  assert.deepEqual(await planeFor("wired"), [[PLANE_EVENT, {
    serverEntry: "src/worker.ts",
    shardBinding: "SHARD",
    warnings: [],
  }]]);
});

Deno.test("the integration sends the toolbar app every wiring warning it logged", async () => {
  const [[event, report]] = await planeFor("several_problems") as [[string, {
    shardBinding: string | null;
    warnings: string[];
  }]];
  assert.equal(event, PLANE_EVENT);
  assert.equal(report.shardBinding, null);
  assert.ok(report.warnings.length >= 2, JSON.stringify(report.warnings));
  assert.match(report.warnings[0]!, /never calls withLunora\(\)/);
});

Deno.test("with devToolbar: false the integration does not listen to the toolbar", async () => {
  assert.deepEqual(await planeFor("wired", false), []);
});
