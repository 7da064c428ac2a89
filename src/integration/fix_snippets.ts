/**
 * Copy-pasteable fixes the integration's warnings carry: the server entry, the Astro config and
 * wrangler config fragments (JSONC or TOML, matching the user's file).
 *
 * @module
 */

/** The default server entry, relative to the project root. */
export const DEFAULT_SERVER_ENTRY = "src/worker.ts";

/** The binding name used when the entry does not show one. */
export const DEFAULT_SHARD_BINDING = "SHARD";

/** The Durable Object class name used when the wrangler config does not name one. */
export const DEFAULT_SHARD_CLASS = "ShardDO";

/** The wrangler config formats the integration reads. */
export type WranglerFormat = "jsonc" | "toml";

/** A JSON string literal, which is also a valid TOML basic string. */
function quote(value: string): string {
  return JSON.stringify(value);
}

/** The whole server entry: Astro's handler composed with Lunora, in the factory form. */
export function workerSnippet(serverEntry: string): string {
  return [
    `// ${serverEntry}`,
    `import { handle } from "@astrojs/cloudflare/handler";`,
    `import { withLunora } from "@lunora/astro";`,
    ``,
    `export default withLunora(`,
    `  (request, env, ctx) => handle(request, env, ctx),`,
    `  (env) => ({ shardDO: env.SHARD }),`,
    `);`,
  ].join("\n");
}

/** The line of the server entry that exports the Durable Object class wrangler binds. */
export function classExportSnippet(className: string): string {
  return `export { ${className} } from "./shard_do.ts"; // the module that defines ${className}`;
}

/** The whole `astro.config.mjs` for an app using Lunora. */
export function astroConfigSnippet(serverEntry: string): string {
  const options = serverEntry === DEFAULT_SERVER_ENTRY
    ? ""
    : `{ serverEntry: ${quote(serverEntry)} }`;
  return [
    `// astro.config.mjs`,
    `import cloudflare from "@astrojs/cloudflare";`,
    `import { defineConfig } from "astro/config";`,
    `import { lunora } from "@lunora/astro";`,
    ``,
    `export default defineConfig({`,
    `  output: "server",`,
    `  adapter: cloudflare(),`,
    `  integrations: [lunora(${options})],`,
    `});`,
  ].join("\n");
}

/** What a Durable Object fragment declares. */
export interface ShardDeclaration {
  /** The binding name the worker reads from `env`. */
  readonly binding: string;
  /** The Durable Object class the binding points at. */
  readonly className: string;
  /** The migration tag to use (the next free `vN`). */
  readonly tag: string;
}

function migrationJsonc(shard: ShardDeclaration): string {
  return `{ "tag": ${quote(shard.tag)}, "new_sqlite_classes": [${quote(shard.className)}] }`;
}

function migrationToml(shard: ShardDeclaration): string[] {
  return [
    `[[migrations]]`,
    `tag = ${quote(shard.tag)}`,
    `new_sqlite_classes = [${quote(shard.className)}]`,
  ];
}

/** The line of the worker that reads the binding, as a comment in the wrangler fragment. */
function usageComment(format: WranglerFormat, shard: ShardDeclaration): string {
  const mark = format === "toml" ? "#" : "//";
  return `${mark} read in the worker as withLunora(..., (env) => ({ shardDO: env.${shard.binding} }))`;
}

/**
 * A wrangler config fragment declaring the shard binding and its SQLite migration, with `main`
 * first when `serverEntry` is given.
 */
export function wranglerSnippet(
  format: WranglerFormat,
  serverEntry: string | undefined,
  shard: ShardDeclaration,
): string {
  if (format === "toml") {
    return [
      `# wrangler.toml`,
      ...(serverEntry === undefined ? [] : [`main = ${quote(serverEntry)}`, ``]),
      usageComment(format, shard),
      `[[durable_objects.bindings]]`,
      `name = ${quote(shard.binding)}`,
      `class_name = ${quote(shard.className)}`,
      ``,
      ...migrationToml(shard),
    ].join("\n");
  }
  return [
    `// wrangler.jsonc`,
    `{`,
    ...(serverEntry === undefined ? [] : [`  "main": ${quote(serverEntry)},`]),
    `  ${usageComment(format, shard)}`,
    `  "durable_objects": {`,
    `    "bindings": [{ "name": ${quote(shard.binding)}, "class_name": ${
      quote(shard.className)
    } }]`,
    `  },`,
    `  "migrations": [${migrationJsonc(shard)}]`,
    `}`,
  ].join("\n");
}

/** The `main` line of a wrangler config. */
export function wranglerMainSnippet(format: WranglerFormat, serverEntry: string): string {
  return format === "toml" ? `main = ${quote(serverEntry)}` : `"main": ${quote(serverEntry)},`;
}

/**
 * The migration to add to the wrangler config, after the `existing` migrations already there.
 */
export function wranglerMigrationSnippet(
  format: WranglerFormat,
  shard: ShardDeclaration,
  existing: number,
): string {
  if (format === "toml") return migrationToml(shard).join("\n");
  if (existing === 0) return `"migrations": [${migrationJsonc(shard)}]`;
  return `"migrations": [\n  // ...your existing migrations, then:\n  ${migrationJsonc(shard)}\n]`;
}
