/**
 * How big an entry point is: its emitted static import graph as it sits in the package, and
 * the same entry bundled and minified as a consumer's build ships it ("min + gzip"). Used by
 * the npm build's size check and by `deno task bench`.
 *
 * @module
 */
import ts from "typescript";
import { gzipSync } from "node:zlib";
import { basename, dirname, join, relative } from "node:path";
import { run } from "./command.ts";

/**
 * Budgets in bytes, min+gzip (size-limit's convention), per deno.json export: the entry with its
 * static graph, bundled and minified as a consumer's build ships it. `deno task build:npm`
 * fails over one; `deno task bench` prints them as targets.
 */
export const SIZE_BUDGETS: Readonly<Record<string, number>> = {
  ".": 12 * 1024,
  // 6 KiB until the page's call record for Server-Timing (≈ 45 B min+gzip) came in.
  "./server": 6.25 * 1024,
  "./middleware": 6 * 1024,
  "./client": 5 * 1024,
  "./toolbar": 4 * 1024,
};

/** Size of one entry point with its static import graph. */
export interface GraphSize {
  /** Emitted modules in the static graph, relative to the package directory. */
  modules: string[];
  /** Sum of the modules' bytes. */
  bytes: number;
  /** Gzip (level 9) of the modules concatenated, as a bundler would ship them. */
  gzipBytes: number;
  /** Non-relative specifiers imported statically anywhere in the graph. */
  staticExternal: string[];
  /** Specifiers imported with `import()` anywhere in the graph (not followed). */
  dynamicImports: string[];
}

/** Follows the static relative imports of an emitted `.js` module and measures the graph. */
export function graphSize(entryJs: string, packageDir: string): GraphSize {
  const seen = new Set<string>();
  const staticExternal = new Set<string>();
  const dynamicImports = new Set<string>();
  const texts: string[] = [];
  const queue = [entryJs];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = Deno.readTextFileSync(file);
    texts.push(text);
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    for (const statement of source.statements) {
      const specifier = (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) &&
          statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)
        ? statement.moduleSpecifier.text
        : undefined;
      if (specifier === undefined) continue;
      if (specifier.startsWith(".")) queue.push(join(dirname(file), specifier));
      else staticExternal.add(specifier);
    }
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const arg = node.arguments[0];
        dynamicImports.add(arg && ts.isStringLiteral(arg) ? arg.text : "<computed>");
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  const all = new TextEncoder().encode(texts.join("\n"));
  return {
    modules: [...seen].map((f) => relative(packageDir, f)).sort(),
    bytes: texts.reduce((sum, t) => sum + new TextEncoder().encode(t).length, 0),
    gzipBytes: gzipSync(all, { level: 9 }).length,
    staticExternal: [...staticExternal].sort(),
    dynamicImports: [...dynamicImports].sort(),
  };
}

/**
 * Size of one entry as a consumer's bundler ships it: the entry (`.js` or `.ts`) bundled and minified
 * with `deno bundle` (esbuild), packages (the import map's `npm:` ones included) and `node:`
 * modules external, every `import()` split
 * into its own chunk, then measured like {@linkcode graphSize}: the entry chunk with the chunks
 * it imports statically, gzipped together. This is the convention of size-limit and
 * bundlephobia ("min + gzip").
 */
export async function minifiedGraphSize(entry: string, outDir: string): Promise<GraphSize> {
  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  // `--packages=external` leaves out packages resolved from node_modules, but not those the
  // import map resolves to `npm:` (a runtime dependency such as nanostores): name them too.
  const config = JSON.parse(Deno.readTextFileSync(new URL("../../deno.json", import.meta.url))) as {
    imports?: Record<string, string>;
  };
  const npmPackages = Object.entries(config.imports ?? {})
    .filter(([, target]) => target.startsWith("npm:"))
    .map(([name]) => `--external=${name}`);
  await run(Deno.execPath(), [
    "bundle",
    "--quiet",
    "--minify",
    "--code-splitting",
    "--format=esm",
    "--platform=browser",
    "--packages=external",
    "--external=node:*",
    ...npmPackages,
    "--outdir",
    outDir,
    entry,
  ]);
  return graphSize(join(outDir, basename(entry).replace(/\.[cm]?[jt]sx?$/, ".js")), outDir);
}
