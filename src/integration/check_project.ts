/**
 * The integration's project check: reads the server entry and the wrangler config from disk and
 * returns one warning per mis-wiring found, each with a copy-pasteable fix.
 *
 * This module uses `node:` APIs and is loaded lazily by the `astro:config:done` hook, so it never
 * reaches a worker bundle that imports `withLunora` from `@lunora/astro`.
 *
 * @module
 */
import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { AstroConfigLike } from "./astro_types.ts";
import { type EntryExports, scanEntry } from "./entry_scan.ts";
import { astroConfigSnippet, workerSnippet } from "./fix_snippets.ts";
import {
  checkWranglerConfig,
  missingWranglerWarning,
  parseWrangler,
  unparseableWranglerWarning,
  WRANGLER_FILES,
  wranglerFormat,
} from "./wrangler_check.ts";

const CLOUDFLARE_ADAPTER = "@astrojs/cloudflare";

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  return error instanceof Error ? error.message : String(error);
}

/** The warning about `output` and the adapter, if either is not what Lunora needs. */
function checkAstroConfig(config: AstroConfigLike, serverEntry: string): string[] {
  const wrong: string[] = [];
  const output = config.output ?? "static";
  if (output !== "server") wrong.push(`output is ${JSON.stringify(output)}`);
  const adapter = config.adapter?.name;
  if (adapter === undefined) wrong.push("no adapter is set");
  else if (adapter !== CLOUDFLARE_ADAPTER) wrong.push(`the adapter is ${JSON.stringify(adapter)}`);
  if (wrong.length === 0) return [];
  return [
    `Lunora needs output: "server" and the ${CLOUDFLARE_ADAPTER} adapter, but ` +
    `${wrong.join(" and ")}. Use:\n\n${astroConfigSnippet(serverEntry)}`,
  ];
}

interface EntryResult {
  readonly warnings: string[];
  readonly shardBinding: string | undefined;
  /** What the entry exports; undefined when it could not be read. */
  readonly exports: EntryExports | undefined;
}

/** Reads and scans the server entry. */
async function checkEntry(rootDir: string, serverEntry: string): Promise<EntryResult> {
  const quoted = JSON.stringify(serverEntry);
  let source: string;
  try {
    source = await readFile(resolve(rootDir, serverEntry), "utf8");
  } catch (error) {
    const code = errorCode(error);
    const problem = code === "ENOENT"
      ? `Server entry ${quoted} does not exist, so Lunora's /_lunora/* endpoints are not mounted. ` +
        `Create it`
      : `Server entry ${quoted} could not be read (${code}), so Lunora could not check it. ` +
        `It should read`;
    return {
      warnings: [`${problem}:\n\n${workerSnippet(serverEntry)}`],
      shardBinding: undefined,
      exports: undefined,
    };
  }
  const scan = scanEntry(source);
  const warnings = scan.callsWithLunora ? [] : [
    `Server entry ${quoted} never calls withLunora(), so Lunora's /_lunora/* endpoints are not ` +
    `mounted. Export the composed worker:\n\n${workerSnippet(serverEntry)}`,
  ];
  return { warnings, shardBinding: scan.shardBinding, exports: scan.exports };
}

async function findWranglerFile(rootDir: string): Promise<string | undefined> {
  for (const name of WRANGLER_FILES) {
    try {
      if ((await stat(join(rootDir, name))).isFile()) return name;
    } catch {
      // Not there: try the next name.
    }
  }
  return undefined;
}

/** Reads, parses and checks the wrangler config in the root. */
async function checkWrangler(
  rootDir: string,
  serverEntry: string,
  entry: EntryResult,
): Promise<string[]> {
  const entryBinding = entry.shardBinding;
  const fileName = await findWranglerFile(rootDir);
  if (fileName === undefined) return [missingWranglerWarning(serverEntry, entryBinding)];
  let parsed;
  try {
    const text = await readFile(join(rootDir, fileName), "utf8");
    parsed = await parseWrangler(wranglerFormat(fileName), text);
  } catch (error) {
    parsed = { error: errorCode(error) };
  }
  if (parsed.config === undefined) {
    return [unparseableWranglerWarning(fileName, parsed.error, serverEntry, entryBinding)];
  }
  return checkWranglerConfig(parsed.config, {
    fileName,
    rootDir,
    serverEntry,
    entryBinding,
    entryExports: entry.exports,
  });
}

/**
 * Checks an Astro project's Lunora wiring.
 *
 * @param config The resolved Astro config (`root` must be a `file:` URL).
 * @param serverEntry The server entry, relative to the root.
 * @returns One warning per problem found, in the order: server entry, Astro config, wrangler
 * config. Empty when the project is wired correctly.
 */
export async function checkProject(
  config: AstroConfigLike,
  serverEntry: string,
): Promise<string[]> {
  return (await inspectProject(config, serverEntry)).warnings;
}

/** What {@linkcode inspectProject} finds. */
export interface ProjectInspection {
  /** One warning per problem, as {@linkcode checkProject} returns them. */
  readonly warnings: string[];
  /** The binding the server entry passes as `shardDO` (`env.SHARD` → `"SHARD"`), if found. */
  readonly shardBinding: string | undefined;
}

/**
 * Checks an Astro project's Lunora wiring like {@linkcode checkProject}, and also reports the
 * shard binding the server entry uses (for the dev toolbar app).
 */
export async function inspectProject(
  config: AstroConfigLike,
  serverEntry: string,
): Promise<ProjectInspection> {
  const rootDir = fileURLToPath(config.root);
  const entry = await checkEntry(rootDir, serverEntry);
  return {
    warnings: [
      ...entry.warnings,
      ...checkAstroConfig(config, serverEntry),
      ...await checkWrangler(rootDir, serverEntry, entry),
    ],
    shardBinding: entry.shardBinding,
  };
}
