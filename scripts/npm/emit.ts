/**
 * The emit half of the npm build (what dnt would do): type-check the Deno sources as Node would
 * see them and write ESM JavaScript plus `.d.ts` for every module reachable from the entry
 * points, with `./x.ts` imports rewritten to `./x.js` and `npm:`/import-map specifiers to bare
 * package names.
 *
 * @module
 */
import ts from "typescript";
import { dirname, join, relative } from "node:path";
import { isRelative, mapSpecifier, type NpmReference } from "./specifiers.ts";
import { run } from "./command.ts";

/** The sources' module graph, found without type-checking. */
export interface SourceGraph {
  /** Absolute paths of the modules reachable from the entries through relative imports. */
  files: string[];
  /** npm packages the graph imports (type-only imports included: the checker needs them). */
  packages: Map<string, NpmReference>;
  /** Whether any module imports a `node:` module. */
  usesNode: boolean;
}

/** Follows relative imports from `entries`, mapping every other specifier through `imports`. */
export function scanSourceGraph(
  entries: readonly string[],
  imports: Readonly<Record<string, string>>,
): SourceGraph {
  const seen = new Set<string>();
  const packages = new Map<string, NpmReference>();
  let usesNode = false;
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const info = ts.preProcessFile(Deno.readTextFileSync(file), true, true);
    for (const { fileName: specifier } of info.importedFiles) {
      if (isRelative(specifier)) {
        queue.push(join(dirname(file), specifier));
        continue;
      }
      const mapped = withLocation(() => mapSpecifier(specifier, imports), file);
      if (mapped.kind === "node") usesNode = true;
      if (mapped.kind === "npm") packages.set(mapped.package.name, mapped.package);
    }
  }
  return { files: [...seen].sort(), packages, usesNode };
}

function withLocation<T>(fn: () => T, file: string): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof TypeError) throw new TypeError(`${error.message}: in ${file}`);
    throw error;
  }
}

/**
 * Installs `packages` (exact pins from deno.json) into `dir/node_modules` with npm. The install
 * only grows and is skipped while every requested package is already there at its version, so
 * runs that need a subset (the checker) or the union (the Node tests) do not reinstall.
 */
export async function ensureNodeModules(
  dir: string,
  packages: Iterable<NpmReference>,
): Promise<{ installed: boolean }> {
  const stamp = join(dir, "node_modules", ".lunora-build-stamp");
  const installed: Record<string, string> = JSON.parse(readOrUndefined(stamp) ?? "{}");
  const wanted = { ...installed };
  let missing = false;
  for (const pkg of packages) {
    if (pkg.version === undefined) {
      throw new TypeError(`Cannot install "${pkg.name}": pin its version in deno.json "imports"`);
    }
    if (installed[pkg.name] !== pkg.version) missing = true;
    wanted[pkg.name] = pkg.version;
  }
  if (!missing) return { installed: false };
  const dependencies = Object.fromEntries(
    Object.entries(wanted).sort(([a], [b]) => a.localeCompare(b)),
  );
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(
    join(dir, "package.json"),
    JSON.stringify({ private: true, dependencies }, null, 2) + "\n",
  );
  await run("npm", [
    "install",
    "--no-audit",
    "--no-fund",
    "--no-package-lock",
    "--ignore-scripts",
    "--prefer-offline",
    "--loglevel=error",
  ], { cwd: dir });
  Deno.writeTextFileSync(stamp, JSON.stringify(dependencies));
  return { installed: true };
}

function readOrUndefined(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/** What to emit and where. */
export interface EmitOptions {
  /** Repository root: output paths mirror source paths relative to it. */
  root: string;
  /** Absolute paths of the entry modules. */
  entries: string[];
  /** Output directory for `.js` and `.d.ts` (e.g. `<root>/npm/esm`). */
  outDir: string;
  /** deno.json "imports". */
  imports: Readonly<Record<string, string>>;
  /** deno.json "compilerOptions" (Deno-only keys are ignored). */
  compilerOptions: Readonly<Record<string, unknown>>;
  /** A directory whose node_modules holds the packages the sources import. */
  packagesDir: string;
  /** Whether to load `@types/node` (some module imports `node:`). */
  nodeTypes: boolean;
}

/** What the emit produced. */
export interface EmitResult {
  /** Emitted files, relative to `outDir`'s parent (e.g. `esm/mod.js`), sorted. */
  files: string[];
  /** Source path → emitted `.js` path (both absolute). */
  modules: Map<string, string>;
  /** npm packages the emitted JavaScript imports (the package's runtime dependencies). */
  runtimePackages: Map<string, NpmReference>;
  /** Type errors and emit errors, formatted; empty on success. */
  errors: string[];
}

/** The libraries the published code may assume: ES2023 (Node 20) plus web APIs. */
const LIBS = ["lib.es2023.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"];

/**
 * Type-checks the graph from `entries` under Node's ESM rules and emits JavaScript without
 * comments (the JSDoc lives in the `.d.ts`) and declarations with JSDoc.
 */
export function emitPackage(options: EmitOptions): EmitResult {
  const { root, outDir } = options;
  const compilerOptions = checkerOptions(options);
  const host = ts.createCompilerHost(compilerOptions, true);
  // Node decides a `.js`/`.ts` file's format from the nearest package.json; the repository has
  // none (Deno needs none), so the checker sees a virtual `{"type":"module"}` at the root.
  const virtualManifest = join(root, "package.json");
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.fileExists = (path) => path === virtualManifest || fileExists(path);
  host.readFile = (path) => path === virtualManifest ? '{"type":"module"}' : readFile(path);
  const packageAnchor = join(options.packagesDir, "package.json");
  host.resolveModuleNameLiterals = (literals, containingFile, redirected, opts, sourceFile) =>
    literals.map((literal) => {
      let name = literal.text;
      let from = containingFile;
      if (!isRelative(name)) {
        try {
          const mapped = mapSpecifier(name, options.imports);
          name = mapped.specifier;
          if (mapped.kind !== "relative") from = packageAnchor;
        } catch {
          // Reported by scanSourceGraph with its location; leave it unresolved here.
        }
      }
      const mode = ts.getModeForUsageLocation(sourceFile, literal, opts);
      return ts.resolveModuleName(name, from, opts, host, undefined, redirected, mode);
    });

  const checked = ts.createProgram({ rootNames: options.entries, options: compilerOptions, host });
  const errors = formatDiagnostics(ts.getPreEmitDiagnostics(checked), root);
  const result: EmitResult = {
    files: [],
    modules: new Map(),
    runtimePackages: new Map(),
    errors,
  };
  if (errors.length > 0) return result;

  const mapForOutput = (specifier: string): string => {
    const mapped = mapSpecifier(specifier, options.imports);
    if (mapped.kind === "npm") result.runtimePackages.set(mapped.package.name, mapped.package);
    return mapped.specifier;
  };
  const written: string[] = [];
  const writeFile: ts.WriteFileCallback = (path, text) => {
    Deno.mkdirSync(dirname(path), { recursive: true });
    Deno.writeTextFileSync(path, text);
    written.push(path);
  };
  // One emit: declarations keep the JSDoc; the JavaScript drops every comment.
  const emitted = checked.emit(undefined, writeFile, undefined, false, {
    before: [dropComments],
    after: [specifierRewriter<ts.SourceFile>(mapForOutput)],
    afterDeclarations: [specifierRewriter<ts.SourceFile | ts.Bundle>(mapForOutput)],
  });
  result.errors.push(...formatDiagnostics(emitted.diagnostics, root));
  for (const file of checked.getSourceFiles()) {
    if (!isOwnSource(file, root)) continue;
    const js = join(outDir, relative(root, file.fileName)).replace(/\.(m|c)?tsx?$/, ".js");
    result.modules.set(file.fileName, js);
  }
  const base = dirname(outDir);
  result.files = written.map((path) => relative(base, path)).sort();
  return result;
}

/** Marks a module so that the printer emits none of its comments. */
const dropComments: ts.TransformerFactory<ts.SourceFile> = () => (file) => {
  ts.setEmitFlags(file, ts.EmitFlags.NoNestedComments | ts.EmitFlags.NoComments);
  return file;
};

function isOwnSource(file: ts.SourceFile, root: string): boolean {
  return !file.isDeclarationFile && file.fileName.startsWith(root + "/") &&
    !file.fileName.includes("/node_modules/");
}

function checkerOptions(options: EmitOptions): ts.CompilerOptions {
  const fromDeno = { ...options.compilerOptions };
  for (const denoOnly of ["lib", "types", "jsx", "jsxImportSource", "checkJs"]) {
    delete fromDeno[denoOnly];
  }
  const converted = ts.convertCompilerOptionsFromJson(fromDeno, options.root);
  const problems = formatDiagnostics(converted.errors, options.root);
  if (problems.length > 0) {
    throw new TypeError(`Cannot use deno.json "compilerOptions": ${problems.join("; ")}`);
  }
  return {
    ...converted.options,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: LIBS,
    types: options.nodeTypes ? ["node"] : [],
    typeRoots: [join(options.packagesDir, "node_modules", "@types")],
    declaration: true,
    rewriteRelativeImportExtensions: true,
    rootDir: options.root,
    outDir: options.outDir,
    newLine: ts.NewLineKind.LineFeed,
    skipLibCheck: true,
    sourceMap: false,
    noEmitOnError: true,
  };
}

/** Formats error diagnostics with file and position, relative to `root`. */
export function formatDiagnostics(diagnostics: readonly ts.Diagnostic[], root: string): string[] {
  return diagnostics
    .filter((d) => d.category === ts.DiagnosticCategory.Error)
    .map((d) => {
      const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
      if (!d.file || d.start === undefined) return message;
      const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
      return `${relative(root, d.file.fileName)}:${line + 1}:${character + 1}: ${message}`;
    });
}

/**
 * A transformer that passes every module specifier (static and dynamic imports, re-exports,
 * `import("x").T` types) through `map`.
 */
export function specifierRewriter<T extends ts.SourceFile | ts.Bundle>(
  map: (specifier: string) => string,
): ts.TransformerFactory<T> {
  return (context) => (root: T): T => {
    if (!ts.isSourceFile(root)) return root;
    const specifiers = new Set<ts.Node>();
    const collect = (node: ts.Node): void => {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
        specifiers.add(node.moduleSpecifier);
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
        specifiers.add(node.argument.literal);
      } else if (
        ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword
      ) {
        if (node.arguments[0]) specifiers.add(node.arguments[0]);
      }
      ts.forEachChild(node, collect);
    };
    collect(root);
    const visit = (node: ts.Node): ts.Node => {
      if (specifiers.has(node) && ts.isStringLiteral(node)) {
        const to = map(node.text);
        return to === node.text ? node : context.factory.createStringLiteral(to);
      }
      return ts.visitEachChild(node, visit, context);
    };
    return ts.visitEachChild(root, visit, context) as T;
  };
}
