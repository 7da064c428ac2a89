/**
 * The `lunora()` integration, run the way Astro runs it: `astro:config:done` with a resolved
 * config whose `root` is one of the fixture projects in `tests/fixtures/<scenario>/`.
 */
import assert from "node:assert/strict";
import lunoraDefault, { lunora } from "../mod.ts";
import type { AstroAdapterLike, LunoraIntegrationOptions } from "../mod.ts";
import { captureConsole, fakeLogger } from "./_fakes.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url);
const CLOUDFLARE: AstroAdapterLike = { name: "@astrojs/cloudflare" };

/** The factory-form worker every entry fix shows. */
const WORKER_FIX = [
  `import { withLunora } from "@lunora/astro";`,
  `export default withLunora(\n  (request, env, ctx) => handle(request, env, ctx),\n  (env) => ({ shardDO: env.SHARD }),\n);`,
];

interface Run {
  options?: LunoraIntegrationOptions;
  output?: string;
  adapter?: AstroAdapterLike | undefined;
}

/** Runs the hook on a fixture project and returns what it logged. */
async function run(fixture: string, given: Run = {}) {
  const { options, output = "server" } = given;
  const adapter = "adapter" in given ? given.adapter : CLOUDFLARE;
  const logger = fakeLogger();
  const config = { root: new URL(`${fixture}/`, FIXTURES), output, adapter };
  await lunora(options).hooks["astro:config:done"]({ config, logger });
  assert.deepEqual(logger.calls.info, []);
  assert.deepEqual(logger.calls.error, []);
  return logger.calls.warn;
}

/** Asserts exactly one warning, containing every part given. */
function assertOneWarning(warnings: string[], ...parts: string[]): void {
  assert.equal(warnings.length, 1, `expected one warning, got:\n${warnings.join("\n---\n")}`);
  for (const part of parts) {
    assert.ok(warnings[0]!.includes(part), `missing ${part}:\n${warnings[0]}`);
  }
}

Deno.test("lunora() warns nothing for a correctly wired project with wrangler.jsonc", async () => {
  assert.deepEqual(await run("wired"), []);
});

Deno.test("lunora() warns nothing for a correctly wired project with wrangler.toml", async () => {
  assert.deepEqual(await run("wired_toml"), []);
});

Deno.test("lunora() accepts a custom serverEntry, an aliased withLunora and its own binding", async () => {
  const warnings = await run("wired_custom_entry", { options: { serverEntry: "worker/entry.ts" } });
  assert.deepEqual(warnings, []);
});

Deno.test("lunora() trims serverEntry before resolving it", async () => {
  const warnings = await run("wired_custom_entry", {
    options: { serverEntry: "  worker/entry.ts\n" },
  });
  assert.deepEqual(warnings, []);
});

Deno.test("lunora() warns once, with the worker to create, when the server entry is missing", async () => {
  assertOneWarning(
    await run("missing_entry"),
    `Server entry "src/worker.ts" does not exist`,
    "// src/worker.ts",
    ...WORKER_FIX,
  );
});

Deno.test("lunora() names the configured serverEntry in the missing-entry fix", async () => {
  const warnings = await run("missing_entry", { options: { serverEntry: "app/entry.ts" } });
  assertOneWarning(
    warnings.filter((warning) => warning.startsWith("Server entry")),
    `Server entry "app/entry.ts" does not exist`,
    "// app/entry.ts",
    ...WORKER_FIX,
  );
});

Deno.test("lunora() warns once when the server entry cannot be read (a directory)", async () => {
  assertOneWarning(
    await run("entry_is_directory"),
    `Server entry "src/worker.ts" could not be read (EISDIR)`,
    ...WORKER_FIX,
  );
});

Deno.test("lunora() warns once when withLunora( appears only in comments, strings and an import", async () => {
  assertOneWarning(
    await run("entry_without_call"),
    `Server entry "src/worker.ts" never calls withLunora()`,
    ...WORKER_FIX,
  );
});

Deno.test("lunora() warns once, with the astro config, when output is not server", async () => {
  assertOneWarning(
    await run("wired", { output: "static" }),
    `output is "static"`,
    `import { lunora } from "@lunora/astro";`,
    `output: "server",`,
    `adapter: cloudflare(),`,
    `integrations: [lunora()],`,
  );
});

Deno.test("lunora() warns once when the adapter is not @astrojs/cloudflare", async () => {
  assertOneWarning(
    await run("wired", { adapter: { name: "@astrojs/node" } }),
    `the adapter is "@astrojs/node"`,
    `import cloudflare from "@astrojs/cloudflare";`,
    `import { lunora } from "@lunora/astro";`,
  );
});

Deno.test("lunora() warns once when no adapter is set", async () => {
  assertOneWarning(await run("wired", { adapter: undefined }), "no adapter is set");
});

Deno.test("lunora() reports a wrong output and adapter in one astro config warning", async () => {
  assertOneWarning(
    await run("wired", { output: "static", adapter: { name: "@astrojs/vercel" } }),
    `output is "static" and the adapter is "@astrojs/vercel"`,
  );
});

Deno.test("lunora() keeps a custom serverEntry in the astro config fix", async () => {
  assertOneWarning(
    await run("wired_custom_entry", {
      options: { serverEntry: "worker/entry.ts" },
      output: "static",
    }),
    `integrations: [lunora({ serverEntry: "worker/entry.ts" })],`,
  );
});

Deno.test("lunora() warns once when wrangler main is not the server entry", async () => {
  assertOneWarning(
    await run("wrangler_main_mismatch"),
    `wrangler.jsonc "main" is "dist/_worker.js/index.js", not the server entry "src/worker.ts"`,
    `"main": "src/worker.ts",`,
  );
});

Deno.test("lunora() warns once when the wrangler config has no main", async () => {
  assertOneWarning(await run("wrangler_no_main"), `wrangler.jsonc has no "main"`);
});

Deno.test("lunora() warns once, with binding and migration, when the shard binding is missing", async () => {
  assertOneWarning(
    await run("wrangler_no_binding"),
    `wrangler.jsonc has no Durable Object binding "SHARD"`,
    `"bindings": [{ "name": "SHARD", "class_name": "ShardDO" }]`,
    `"migrations": [{ "tag": "v1", "new_sqlite_classes": ["ShardDO"] }]`,
    `(env) => ({ shardDO: env.SHARD })`,
  );
});

Deno.test("lunora() looks for the binding the entry passes as shardDO", async () => {
  assertOneWarning(
    await run("wrangler_wrong_binding"),
    `no Durable Object binding "TENANTS"`,
    `"name": "TENANTS"`,
    `(env) => ({ shardDO: env.TENANTS })`,
  );
});

Deno.test("lunora() warns once when the shard class is migrated with new_classes, not SQLite", async () => {
  assertOneWarning(
    await run("wrangler_kv_migration"),
    `declares "ShardDO" with "new_classes" (key-value storage)`,
    `{ "tag": "v2", "new_sqlite_classes": ["ShardDO"] }`,
  );
});

Deno.test("lunora() warns once, in TOML, when wrangler.toml lacks the SQLite migration", async () => {
  assertOneWarning(
    await run("wrangler_toml_no_migration"),
    `wrangler.toml has no migration with "new_sqlite_classes" for "ShardDO"`,
    `[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["ShardDO"]`,
  );
});

Deno.test("lunora() warns once, with the line to add, when the entry does not export the shard class", async () => {
  assertOneWarning(
    await run("shard_class_not_exported"),
    `wrangler.jsonc binds "SHARD" to the ShardDO class, but src/worker.ts does not export it, ` +
      `so the worker cannot start. Add this line to src/worker.ts`,
    `export { ShardDO } from "./shard_do.ts";`,
  );
});

Deno.test("lunora() takes an entry's export * from as exporting the shard class", async () => {
  assert.deepEqual(await run("shard_class_export_star"), []);
});

Deno.test("lunora() warns once, with a whole wrangler.jsonc, when there is no wrangler config", async () => {
  assertOneWarning(
    await run("no_wrangler"),
    "No wrangler.jsonc, wrangler.json or wrangler.toml in the project root",
    "and export the ShardDO class from src/worker.ts:",
    `"main": "src/worker.ts",`,
    `"bindings": [{ "name": "SHARD", "class_name": "ShardDO" }]`,
    `"new_sqlite_classes": ["ShardDO"]`,
  );
});

Deno.test("lunora() warns once, with where, when the wrangler config cannot be parsed", async () => {
  assertOneWarning(
    await run("wrangler_unparseable"),
    "wrangler.jsonc could not be parsed (CommaExpected at line 4, column 3)",
    "src/worker.ts must export the ShardDO class:",
    `"main": "src/worker.ts",`,
  );
});

Deno.test("lunora() checks wrangler.json before wrangler.toml, as wrangler does", async () => {
  assertOneWarning(
    await run("wrangler_precedence"),
    `wrangler.json "main" is "src/old_worker.ts"`,
  );
});

Deno.test("lunora() gives one warning per problem when several are wrong", async () => {
  const warnings = await run("several_problems", { output: "static" });
  const expected = [
    "never calls withLunora()",
    `output is "static"`,
    `"main" is "@astrojs/cloudflare/entrypoints/server"`,
    `has no migration with "new_sqlite_classes" for "ShardDO"`,
    `src/worker.ts does not export it`,
  ];
  assert.equal(warnings.length, expected.length, warnings.join("\n---\n"));
  expected.forEach((part, i) => assert.ok(warnings[i]!.includes(part), warnings[i]));
});

Deno.test("lunora() warns through console.warn when the hook gets no logger", async () => {
  const hook = lunora().hooks["astro:config:done"];
  const config = {
    root: new URL("missing_entry/", FIXTURES),
    output: "server",
    adapter: CLOUDFLARE,
  };
  const { warnings, errors } = await captureConsole(() => hook({ config }));
  assert.equal(warnings.length, 1);
  assert.equal(errors.length, 0);
  const message = String(warnings[0]![0]);
  assert.ok(message.startsWith(`[@lunora/astro] Server entry "src/worker.ts" does not exist`));
  assert.ok(message.includes(WORKER_FIX[1]!));
});

Deno.test("lunora() never rejects: a root it cannot check becomes one warning", async () => {
  const logger = fakeLogger();
  const config = {
    root: new URL("https://example.test/app/"),
    output: "server",
    adapter: CLOUDFLARE,
  };
  await lunora().hooks["astro:config:done"]({ config, logger });
  assertOneWarning(logger.calls.warn, "Could not check the Lunora wiring: ");
});

Deno.test("lunora() throws a TypeError naming serverEntry for an empty or blank path", () => {
  for (const serverEntry of ["", "   ", "\t\n"]) {
    assert.throws(() => lunora({ serverEntry }), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /"serverEntry" must be a non-empty path, got "/);
      return true;
    });
  }
});

Deno.test("lunora() throws a TypeError when serverEntry is not a string", () => {
  const options = { serverEntry: 42 } as unknown as LunoraIntegrationOptions;
  assert.throws(() => lunora(options), {
    name: "TypeError",
    message: `Cannot create the Lunora integration: "serverEntry" must be a non-empty path, got 42`,
  });
});

Deno.test("lunora() returns an integration named @lunora/astro, with or without options", () => {
  assert.equal(lunora().name, "@lunora/astro");
  assert.equal(lunora({}).name, "@lunora/astro");
  assert.equal(lunora({ serverEntry: "src/worker.ts" }).name, "@lunora/astro");
});

Deno.test("the package's default export is the lunora function, as astro add imports it", () => {
  assert.equal(lunoraDefault, lunora);
});
