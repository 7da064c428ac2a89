/**
 * The wrangler config check on parsed configs: which `main` counts as the server entry, which
 * binding is the shard's, which migrations make its class SQLite-backed, and whether the entry
 * exports it.
 */
import assert from "node:assert/strict";
import {
  checkWranglerConfig,
  parseWrangler,
  type WranglerCheckContext,
} from "../src/integration/wrangler_check.ts";

const CONTEXT: WranglerCheckContext = {
  fileName: "wrangler.jsonc",
  rootDir: "/app",
  serverEntry: "src/worker.ts",
  entryBinding: undefined,
};

const SHARD_BINDING = { bindings: [{ name: "SHARD", class_name: "ShardDO" }] };
const SQLITE_MIGRATION = [{ tag: "v1", new_sqlite_classes: ["ShardDO"] }];

function check(config: Record<string, unknown>, context: Partial<WranglerCheckContext> = {}) {
  return checkWranglerConfig(
    {
      main: "src/worker.ts",
      durable_objects: SHARD_BINDING,
      migrations: SQLITE_MIGRATION,
      ...config,
    },
    { ...CONTEXT, ...context },
  );
}

Deno.test("checkWranglerConfig() compares main and the server entry as normalized paths", () => {
  assert.deepEqual(check({ main: "./src/worker.ts" }), []);
  assert.deepEqual(check({ main: "src/../src/worker.ts" }), []);
  assert.deepEqual(check({ main: "/app/src/worker.ts" }), []);
  assert.deepEqual(
    check({ main: "./worker/../src/worker.ts" }, { serverEntry: "./src/worker.ts" }),
    [],
  );
  assert.equal(check({ main: "src/index.ts" }).length, 1);
});

Deno.test("checkWranglerConfig() accepts a shard class that a migration renamed into place", () => {
  const migrations = [
    { tag: "v1", new_sqlite_classes: ["OldShard"] },
    { tag: "v2", renamed_classes: [{ from: "OldShard", to: "ShardDO" }] },
  ];
  assert.deepEqual(check({ migrations }), []);
});

Deno.test("checkWranglerConfig() does not ask for a migration when the class lives in another worker", () => {
  const durable_objects = {
    bindings: [{ name: "SHARD", class_name: "ShardDO", script_name: "lunora-backend" }],
  };
  assert.deepEqual(check({ durable_objects, migrations: [] }), []);
});

const exportsOf = (...names: string[]) => ({ names: new Set(names), unlisted: false });

Deno.test("checkWranglerConfig() asks the entry to export the class the shard binding names", () => {
  const warnings = check({}, { entryExports: exportsOf("default", "Other") });
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0]!,
    /^wrangler\.jsonc binds "SHARD" to the ShardDO class, but src\/worker/,
  );
  assert.ok(
    warnings[0]!.endsWith(
      `\n\nexport { ShardDO } from "./shard_do.ts"; // the module that defines ShardDO`,
    ),
  );
  assert.deepEqual(check({}, { entryExports: exportsOf("ShardDO") }), []);
});

Deno.test("checkWranglerConfig() names the binding's own class in the export warning", () => {
  const durable_objects = { bindings: [{ name: "TENANTS", class_name: "TenantShard" }] };
  const migrations = [{ tag: "v1", new_sqlite_classes: ["TenantShard"] }];
  const [warning] = check(
    { durable_objects, migrations },
    { entryBinding: "TENANTS", entryExports: exportsOf("ShardDO") },
  );
  assert.match(warning!, /binds "TENANTS" to the TenantShard class/);
  assert.match(warning!, /export \{ TenantShard \} from/);
});

Deno.test("checkWranglerConfig() does not ask for the export when the entry may export it", () => {
  assert.deepEqual(check({}, { entryExports: { names: new Set(), unlisted: true } }), []);
  assert.deepEqual(check({}, { entryExports: undefined }), [], "the entry was not read");
});

Deno.test("checkWranglerConfig() does not ask for the export when the class lives in another worker", () => {
  const durable_objects = {
    bindings: [{ name: "SHARD", class_name: "ShardDO", script_name: "lunora-backend" }],
  };
  assert.deepEqual(check({ durable_objects }, { entryExports: exportsOf() }), []);
});

Deno.test("checkWranglerConfig() warns about a missing migration and a missing export apart", () => {
  const warnings = check({ migrations: [] }, { entryExports: exportsOf() });
  assert.equal(warnings.length, 2);
  assert.match(warnings[0]!, /no migration with "new_sqlite_classes"/);
  assert.match(warnings[1]!, /does not export it/);
});

Deno.test("checkWranglerConfig() takes the only local binding as the shard when the entry names none", () => {
  const durable_objects = { bindings: [{ name: "REALTIME", class_name: "Realtime" }] };
  const warnings = check({ durable_objects, migrations: [] });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /"new_sqlite_classes" for "Realtime" \(binding "REALTIME"\)/);
});

Deno.test("checkWranglerConfig() proposes a migration tag that is not taken yet", () => {
  const migrations = [{ tag: "v1", new_classes: ["Counter"] }, {
    tag: "v3",
    new_classes: ["Other"],
  }];
  const warnings = check({ migrations });
  assert.equal(warnings.length, 1);
  assert.ok(warnings[0]!.includes(`{ "tag": "v4", "new_sqlite_classes": ["ShardDO"] }`));
});

Deno.test("checkWranglerConfig() ignores malformed sections instead of throwing", () => {
  const warnings = check({ durable_objects: "nope", migrations: { tag: "v1" } });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /no Durable Object binding "SHARD"/);
});

Deno.test("parseWrangler() reads JSONC with comments and trailing commas", async () => {
  const text = `{\n  // entry\n  "main": "src/worker.ts", /* inline */\n  "migrations": [],\n}`;
  assert.deepEqual(await parseWrangler("jsonc", text), {
    config: { main: "src/worker.ts", migrations: [] },
  });
});

Deno.test("parseWrangler() locates a JSONC syntax error by line and column", async () => {
  const parsed = await parseWrangler("jsonc", `{\n  "main": "src/worker.ts"\n  "name": "app"\n}`);
  assert.deepEqual(parsed, { error: "CommaExpected at line 3, column 3" });
});

Deno.test("parseWrangler() rejects a JSONC file whose top level is not an object", async () => {
  assert.deepEqual(await parseWrangler("jsonc", `["main"]`), {
    error: "the top level is not an object",
  });
});

Deno.test("parseWrangler() reads TOML tables and arrays of tables", async () => {
  const text =
    `main = "src/worker.ts"\n[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["ShardDO"]\n`;
  // smol-toml builds null-prototype objects; compare the plain data.
  const parsed = JSON.parse(JSON.stringify(await parseWrangler("toml", text)));
  assert.deepEqual(parsed, {
    config: { main: "src/worker.ts", migrations: [{ tag: "v1", new_sqlite_classes: ["ShardDO"] }] },
  });
});

Deno.test("parseWrangler() reports a TOML syntax error on one line", async () => {
  const parsed = await parseWrangler("toml", `main = "src/worker.ts\nname = "app"\n`);
  assert.ok(parsed.error !== undefined);
  assert.ok(!parsed.error.includes("\n"), parsed.error);
});
