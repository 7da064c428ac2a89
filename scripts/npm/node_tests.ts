/**
 * The unit tests under Node, against the emitted package, the way dnt runs `Deno.test` suites:
 * every `tests/**\/*_test.ts` is transpiled to `npm/test/`, its imports of the sources
 * (`../src/x.ts`, `../mod.ts`) rewritten to the emitted `npm/esm/**.js`, and `Deno.test` taken
 * from a shim over `node:test`.
 *
 * The rule for which tests run: a test module runs under Node unless it (or a test helper it
 * imports) uses a `Deno` API other than `Deno.test` (types such as `Deno.TestContext` are
 * erased and do not count), or imports something the package does not ship (e.g.
 * `../scripts/npm/x.ts`) or that has no npm form. Every skipped module is listed with its reason.
 *
 * @module
 */
import ts from "typescript";
import { dirname, join, relative, resolve } from "node:path";
import { isRelative, mapSpecifier, type NpmReference, toJsExtension } from "./specifiers.ts";
import { specifierRewriter } from "./emit.ts";
import { run } from "./command.ts";

/** Which tests run under Node, and what they need. */
export interface NodeTestPlan {
  /** Test modules that run, relative to the tests directory (`rpc_test.ts`). */
  portable: string[];
  /** Test modules that stay Deno-only, with the reason. */
  skipped: { file: string; reason: string }[];
  /** npm packages the portable tests import at run time. */
  packages: Map<string, NpmReference>;
}

/** Inputs of {@linkcode prepareNodeTests}. */
export interface NodeTestOptions {
  /** The repository's tests directory. */
  testsDir: string;
  /** Where the transpiled tests go (e.g. `<root>/npm/test`). */
  outDir: string;
  /** Source path → emitted `.js` path, from the emit. */
  modules: ReadonlyMap<string, string>;
  /** deno.json "imports". */
  imports: Readonly<Record<string, string>>;
  /** The `Deno.test` shim's source (`scripts/npm/deno_test_shim.ts`). */
  shim: string;
}

interface Analysis {
  js: string;
  usesDeno: boolean;
  problems: string[];
  helpers: string[];
  packages: NpmReference[];
}

const TEST_FILE = /[._]test\.m?ts$/;
const SHIM_NAME = "_deno_shim.js";

/** Picks the portable tests, writes them (plus shim and test data) to `outDir`, returns the plan. */
export function prepareNodeTests(options: NodeTestOptions): NodeTestPlan {
  const { testsDir, outDir } = options;
  const analyses = new Map<string, Analysis>();
  const analyze = (file: string): Analysis => {
    let analysis = analyses.get(file);
    if (!analysis) {
      analysis = analyzeModule(file, options);
      analyses.set(file, analysis);
    }
    return analysis;
  };
  const blockers = (file: string, path: string[] = []): string[] => {
    if (path.includes(file)) return [];
    const own = analyze(file);
    const inherited = own.helpers.flatMap((helper) =>
      blockers(helper, [...path, file]).map((reason) => `${relative(testsDir, helper)}: ${reason}`)
    );
    return [...own.problems, ...inherited];
  };

  const plan: NodeTestPlan = { portable: [], skipped: [], packages: new Map() };
  const needed = new Set<string>();
  const collect = (file: string) => {
    if (needed.has(file)) return;
    needed.add(file);
    for (const pkg of analyze(file).packages) plan.packages.set(pkg.name, pkg);
    analyze(file).helpers.forEach(collect);
  };
  for (const file of listFiles(testsDir).filter((f) => TEST_FILE.test(f))) {
    const reasons = blockers(file);
    const name = relative(testsDir, file);
    if (reasons.length > 0) plan.skipped.push({ file: name, reason: reasons.join("; ") });
    else {
      plan.portable.push(name);
      collect(file);
    }
  }

  Deno.mkdirSync(outDir, { recursive: true });
  // tests/workerd/ holds the runs on real workerd: neither unit tests nor their data.
  const workerdRuns = join(testsDir, "workerd") + "/";
  for (const file of listFiles(testsDir)) {
    if (file.startsWith(workerdRuns)) continue;
    if (analyses.has(file) && !needed.has(file)) continue;
    const target = join(outDir, relative(testsDir, file));
    Deno.mkdirSync(dirname(target), { recursive: true });
    if (!needed.has(file)) {
      Deno.copyFileSync(file, target); // test data read at run time
      continue;
    }
    const { js, usesDeno } = analyze(file);
    const shimPath = relative(dirname(target), join(outDir, SHIM_NAME));
    const shimImport = `import { Deno } from "${
      shimPath.startsWith(".") ? "" : "./"
    }${shimPath}";\n`;
    Deno.writeTextFileSync(toJsExtension(target), (usesDeno ? shimImport : "") + js);
  }
  Deno.writeTextFileSync(join(outDir, SHIM_NAME), transpile(options.shim, SHIM_NAME, []).js);
  return plan;
}

/**
 * Runs the prepared tests with `node --test` (30 s per test) and returns node's summary line
 * and, on failure, its failing-tests report.
 */
export async function runNodeTests(
  outDir: string,
  portable: readonly string[],
): Promise<{ summary: string; failures: string[] }> {
  const result = await run("node", [
    "--test",
    "--test-reporter=spec",
    "--test-timeout=30000",
    "--test-concurrency=2",
    ...portable.map(toJsExtension),
  ], { cwd: outDir, allowFailure: true, timeoutMs: 300_000 });
  const lines = result.stdout.trimEnd().split("\n");
  const summary = lines
    .filter((line) => /^ℹ (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /.test(line))
    .map((line) => line.slice(2))
    .join(", ");
  if (result.code === 0) return { summary, failures: [] };
  const failing = lines.findIndex((line) => line.startsWith("✖ failing tests:"));
  const report = (failing === -1 ? lines.slice(-60) : lines.slice(failing)).slice(0, 60);
  return { summary, failures: [[...report, result.stderr.trim()].join("\n").trim()] };
}

function analyzeModule(file: string, options: NodeTestOptions): Analysis {
  const source = Deno.readTextFileSync(file);
  const problems: string[] = [];
  const notShipped: string[] = [];
  const helpers: string[] = [];
  const packages: NpmReference[] = [];
  const outFile = join(options.outDir, relative(options.testsDir, file));
  const map = (specifier: string): string => {
    if (isRelative(specifier)) {
      const target = resolve(dirname(file), specifier);
      const emitted = options.modules.get(target);
      if (emitted !== undefined) {
        const path = relative(dirname(outFile), emitted);
        return path.startsWith(".") ? path : `./${path}`;
      }
      if (target.startsWith(options.testsDir + "/") && /\.m?ts$/.test(target)) {
        helpers.push(target);
        return toJsExtension(specifier);
      }
      notShipped.push(specifier);
      return specifier;
    }
    try {
      const mapped = mapSpecifier(specifier, options.imports);
      if (mapped.kind === "npm") packages.push(mapped.package);
      return mapped.specifier;
    } catch (error) {
      problems.push((error as Error).message);
      return specifier;
    }
  };
  const { js, sourceFile } = transpile(source, file, [specifierRewriter<ts.SourceFile>(map)]);
  if (notShipped.length > 0) {
    problems.push(`imports ${notShipped.join(", ")}, which the npm package does not contain`);
  }
  const denoApis = denoApisUsed(sourceFile);
  if (denoApis.length > 0) problems.push(`uses ${denoApis.join(", ")}`);
  return { js, usesDeno: /\bDeno\b/.test(js), problems, helpers, packages };
}

function transpile(
  source: string,
  fileName: string,
  after: ts.TransformerFactory<ts.SourceFile>[],
): { js: string; sourceFile: ts.SourceFile } {
  const output = ts.transpileModule(source, {
    fileName,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      removeComments: false,
      newLine: ts.NewLineKind.LineFeed,
    },
    transformers: { after },
  });
  const sourceFile = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  return { js: output.outputText, sourceFile };
}

/**
 * `Deno.x` uses in value positions other than `Deno.test` (`Deno.TestContext` in a type does not
 * count), and a bare `Deno` used as a value.
 */
export function denoApisUsed(sourceFile: ts.SourceFile): string[] {
  const uses = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isTypeNode(node)) return;
    if (ts.isIdentifier(node) && node.text === "Deno") {
      const parent = node.parent;
      if (ts.isPropertyAccessExpression(parent) && parent.expression === node) {
        if (parent.name.text !== "test") uses.add(`Deno.${parent.name.text}`);
      } else if (
        !(ts.isPropertyAccessExpression(parent) && parent.name === node) &&
        !(ts.isPropertyAssignment(parent) && parent.name === node)
      ) {
        uses.add("Deno");
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return [...uses].sort();
}

function listFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory && entry.name !== "node_modules") files.push(...listFiles(path));
    else if (entry.isFile) files.push(path);
  }
  return files.sort();
}
