/**
 * Reads the project's wrangler config and reports what keeps Lunora from running: a `main`
 * that is not the server entry, a missing shard binding, a shard class without a SQLite
 * migration, or one the server entry does not export.
 *
 * Parsing uses real parsers, loaded only when a file of their format is there:
 * `jsonc-parser` (Microsoft's, the JSONC dialect wrangler reads: comments, trailing commas) for
 * `wrangler.jsonc`/`wrangler.json`, and `smol-toml` (TOML 1.0, no dependencies, ~180 kB) for
 * `wrangler.toml`, which many existing Workers projects still use.
 *
 * This module is loaded lazily by the integration's hook; it never reaches a worker bundle.
 *
 * @module
 */
import { resolve } from "node:path";
import { type EntryExports, mayExport } from "./entry_scan.ts";
import {
  classExportSnippet,
  DEFAULT_SHARD_BINDING,
  DEFAULT_SHARD_CLASS,
  type ShardDeclaration,
  type WranglerFormat,
  wranglerMainSnippet,
  wranglerMigrationSnippet,
  wranglerSnippet,
} from "./fix_snippets.ts";

/** The wrangler config file names, in the order wrangler itself picks them. */
export const WRANGLER_FILES: readonly string[] = [
  "wrangler.json",
  "wrangler.jsonc",
  "wrangler.toml",
];

/** The format of a wrangler config file, from its name. */
export function wranglerFormat(fileName: string): WranglerFormat {
  return fileName.endsWith(".toml") ? "toml" : "jsonc";
}

/** A parsed wrangler config, or why it could not be parsed. */
export type ParsedWrangler =
  | { readonly config: Record<string, unknown>; readonly error?: undefined }
  | { readonly config?: undefined; readonly error: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split(/\r\n|\r|\n/);
  return `line ${before.length}, column ${before.at(-1)!.length + 1}`;
}

async function parseJsonc(text: string): Promise<ParsedWrangler> {
  const { parse, printParseErrorCode } = await import("jsonc-parser");
  const errors: import("jsonc-parser").ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true });
  const first = errors[0];
  if (first !== undefined) {
    return { error: `${printParseErrorCode(first.error)} at ${lineAndColumn(text, first.offset)}` };
  }
  return isRecord(value) ? { config: value } : { error: "the top level is not an object" };
}

async function parseToml(text: string): Promise<ParsedWrangler> {
  const { parse } = await import("smol-toml");
  try {
    return { config: parse(text) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { error: message.split("\n")[0]! };
  }
}

/**
 * Parses the text of a wrangler config file of the given format.
 *
 * @param format `"jsonc"` (also for `wrangler.json`) or `"toml"`.
 * @param text The file's text.
 * @returns The config object, or a one-line description of the parse error.
 */
export function parseWrangler(format: WranglerFormat, text: string): Promise<ParsedWrangler> {
  return format === "toml" ? parseToml(text) : parseJsonc(text);
}

/** Where the checked project and its server entry are. */
export interface WranglerCheckContext {
  /** The wrangler config's file name, e.g. `"wrangler.jsonc"`. */
  readonly fileName: string;
  /** The project root directory (a file-system path); wrangler resolves `main` against it. */
  readonly rootDir: string;
  /** The server entry as configured, relative to the root. */
  readonly serverEntry: string;
  /** The binding the entry passes as `shardDO`, when the entry shows one. */
  readonly entryBinding: string | undefined;
  /** What the server entry exports; when not given (the entry was not read), not checked. */
  readonly entryExports?: EntryExports;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

/** The binding that should hold the shards: the entry's, else SHARD, else the only local one. */
function pickShardBinding(
  bindings: Record<string, unknown>[],
  entryBinding: string | undefined,
): string {
  if (entryBinding !== undefined) return entryBinding;
  if (bindings.some((b) => b.name === DEFAULT_SHARD_BINDING)) return DEFAULT_SHARD_BINDING;
  const local = bindings.filter((b) => typeof b.name === "string" && b.script_name === undefined);
  return local.length === 1 ? local[0]!.name as string : DEFAULT_SHARD_BINDING;
}

function nextTag(migrations: Record<string, unknown>[]): string {
  const tags = new Set(migrations.map((m) => m.tag));
  let n = migrations.length + 1;
  while (tags.has(`v${n}`)) n++;
  return `v${n}`;
}

function checkMain(config: Record<string, unknown>, context: WranglerCheckContext): string[] {
  const { fileName, rootDir, serverEntry } = context;
  const main = config.main;
  if (
    typeof main === "string" && resolve(rootDir, main) === resolve(rootDir, serverEntry)
  ) {
    return [];
  }
  const found = typeof main === "string"
    ? `"main" is ${JSON.stringify(main)}, not the server entry ${JSON.stringify(serverEntry)}`
    : `has no "main"`;
  return [
    `${fileName} ${found}, so the deployed worker does not run withLunora. Set:\n\n` +
    wranglerMainSnippet(wranglerFormat(fileName), serverEntry),
  ];
}

function checkShard(config: Record<string, unknown>, context: WranglerCheckContext): string[] {
  const { fileName } = context;
  const format = wranglerFormat(fileName);
  const durableObjects = isRecord(config.durable_objects) ? config.durable_objects : {};
  const bindings = records(durableObjects.bindings);
  const migrations = records(config.migrations);
  const name = pickShardBinding(bindings, context.entryBinding);
  const binding = bindings.find((b) => b.name === name);
  const className = typeof binding?.class_name === "string"
    ? binding.class_name
    : DEFAULT_SHARD_CLASS;
  const shard: ShardDeclaration = { binding: name, className, tag: nextTag(migrations) };

  if (binding === undefined) {
    return [
      `${fileName} has no Durable Object binding ${JSON.stringify(name)} for Lunora's shards. ` +
      `Add it with a SQLite migration, and export the ${className} class from ` +
      `${context.serverEntry}:\n\n${wranglerSnippet(format, undefined, shard)}`,
    ];
  }
  // A class that lives in another worker is migrated and exported there.
  if (binding.script_name !== undefined) return [];
  return [
    ...checkMigration(migrations, shard, context),
    ...checkExport(shard, context),
  ];
}

/** The warning when no migration gives the local shard class SQLite storage. */
function checkMigration(
  migrations: Record<string, unknown>[],
  shard: ShardDeclaration,
  context: WranglerCheckContext,
): string[] {
  const { fileName } = context;
  const { binding: name, className } = shard;
  const becomes = (m: Record<string, unknown>, key: string) =>
    records(m[key]).some((r) => r.to === className);
  const declared = migrations.some((m) =>
    strings(m.new_sqlite_classes).includes(className) || becomes(m, "renamed_classes") ||
    becomes(m, "transferred_classes")
  );
  if (declared) return [];
  const keyValue = migrations.some((m) => strings(m.new_classes).includes(className));
  const problem = keyValue
    ? `declares ${JSON.stringify(className)} with "new_classes" (key-value storage), but ` +
      `Lunora's shards need SQLite storage (a deployed class cannot switch: use a new class name)`
    : `has no migration with "new_sqlite_classes" for ${JSON.stringify(className)} ` +
      `(binding ${JSON.stringify(name)}); Lunora's shards need SQLite storage`;
  return [
    `${fileName} ${problem}. Add:\n\n` +
    wranglerMigrationSnippet(wranglerFormat(fileName), shard, migrations.length),
  ];
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The warning when the server entry does not export the local shard class. */
function checkExport(shard: ShardDeclaration, context: WranglerCheckContext): string[] {
  const { entryExports, fileName, serverEntry } = context;
  if (entryExports === undefined || mayExport(entryExports, shard.className)) return [];
  // A name no `export { … }` can spell without quotes is left to wrangler to report.
  if (!IDENTIFIER.test(shard.className)) return [];
  return [
    `${fileName} binds ${JSON.stringify(shard.binding)} to the ${shard.className} class, but ` +
    `${serverEntry} does not export it, so the worker cannot start. Add this line to ` +
    `${serverEntry}, with the path of the module that defines ${shard.className}:\n\n` +
    classExportSnippet(shard.className),
  ];
}

/**
 * Checks a parsed wrangler config against the server entry.
 *
 * @param config The parsed config.
 * @param context Where the project and its server entry are.
 * @returns One warning per problem: `main` not the server entry; the shard binding missing, or
 * its class without a `new_sqlite_classes` migration, or not exported by the server entry.
 */
export function checkWranglerConfig(
  config: Record<string, unknown>,
  context: WranglerCheckContext,
): string[] {
  return [...checkMain(config, context), ...checkShard(config, context)];
}

function defaultShard(entryBinding: string | undefined): ShardDeclaration {
  return {
    binding: entryBinding ?? DEFAULT_SHARD_BINDING,
    className: DEFAULT_SHARD_CLASS,
    tag: "v1",
  };
}

/** The warning for a project without any wrangler config. */
export function missingWranglerWarning(
  serverEntry: string,
  entryBinding: string | undefined,
): string {
  const shard = defaultShard(entryBinding);
  return `No wrangler.jsonc, wrangler.json or wrangler.toml in the project root, so the worker ` +
    `has neither Lunora's entry nor its shard binding. Create wrangler.jsonc with your "name", ` +
    `"compatibility_date" and the lines below, and export the ${shard.className} class from ` +
    `${serverEntry}:\n\n` + wranglerSnippet("jsonc", serverEntry, shard);
}

/** The warning for a wrangler config that could not be parsed. */
export function unparseableWranglerWarning(
  fileName: string,
  error: string,
  serverEntry: string,
  entryBinding: string | undefined,
): string {
  const shard = defaultShard(entryBinding);
  const snippet = wranglerSnippet(wranglerFormat(fileName), serverEntry, shard);
  return `${fileName} could not be parsed (${error}), so Lunora could not check it. ` +
    `It needs the lines below, and ${serverEntry} must export the ${shard.className} class:` +
    `\n\n${snippet}`;
}
