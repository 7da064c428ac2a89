/**
 * The checks the npm build runs on its output, each returning its findings (empty = pass):
 * public names, the packed file list, publint, arethetypeswrong, a consumer
 * install with a Node import smoke test and a type check, and JSR readiness.
 *
 * @module
 */
import ts from "typescript";
import { publint } from "publint";
import { formatMessage } from "publint/utils";
import {
  checkPackage,
  createPackageFromTarballData,
  type Problem,
  type ResolutionKind,
} from "@arethetypeswrong/core";
import { problemAffectsResolutionKind, problemKindInfo } from "@arethetypeswrong/core/problems";
import { join } from "node:path";
import { formatDiagnostics } from "./emit.ts";
import { run } from "./command.ts";

/** The public names of one entry point, read from `deno doc --json`. */
export interface EntryNames {
  /** Every exported name (values and types). */
  all: string[];
  /** Names that exist at run time (functions, classes, variables, enums, namespaces). */
  runtime: string[];
}

const RUNTIME_KINDS = new Set(["function", "class", "variable", "enum", "namespace"]);

/** Where a declaration is, in `deno doc --json`. */
interface DocLocation {
  filename: string;
  line: number;
  col: number;
}

/** The parts of `deno doc --json` the build reads. */
export interface DenoDoc {
  nodes: Record<string, {
    module_doc?: { doc?: string };
    symbols: {
      name: string;
      declarations: {
        kind: string;
        location?: DocLocation;
        /** For `kind: "reference"` (a symbol documented under another entry). */
        def?: { target?: DocLocation };
      }[];
    }[];
  }>;
}

/** Runs `deno doc --json` over the entry files. */
export async function readDenoDoc(root: string, files: readonly string[]): Promise<DenoDoc> {
  const { stdout } = await run(Deno.execPath(), ["doc", "--json", ...files], { cwd: root });
  return JSON.parse(stdout) as DenoDoc;
}

/**
 * The exported names of each entry, from `deno doc --json`: the single list the smoke test and
 * the type check compare against.
 *
 * @param exports deno.json "exports": subpath → source file (`"./server": "./server.ts"`).
 */
export function publicNames(
  doc: DenoDoc,
  root: string,
  exports: Readonly<Record<string, string>>,
): Map<string, EntryNames> {
  // A symbol exported by two entries is documented once; the other entry gets a reference.
  const at = (l: DocLocation | undefined) => l && `${l.filename}:${l.line}:${l.col}`;
  const kindAt = new Map<string | undefined, string>();
  for (const node of Object.values(doc.nodes)) {
    for (const symbol of node.symbols) {
      for (const d of symbol.declarations) kindAt.set(at(d.location), d.kind);
    }
  }
  const names = new Map<string, EntryNames>();
  for (const [subpath, file] of Object.entries(exports)) {
    const symbols = doc.nodes[new URL(file, `file://${root}/`).href]?.symbols ?? [];
    const isRuntime = (d: DenoDoc["nodes"][string]["symbols"][number]["declarations"][number]) =>
      RUNTIME_KINDS.has(d.kind === "reference" ? kindAt.get(at(d.def?.target)) ?? "" : d.kind);
    names.set(subpath, {
      all: symbols.map((s) => s.name).sort(),
      runtime: symbols.filter((s) => s.declarations.some(isRuntime)).map((s) => s.name).sort(),
    });
  }
  return names;
}

/** Set difference both ways, as findings. */
export function compareSets(
  what: string,
  actual: readonly string[],
  expected: readonly string[],
): string[] {
  const have = new Set(actual);
  const want = new Set(expected);
  return [
    ...[...want].filter((x) => !have.has(x)).map((x) => `${what}: missing ${x}`),
    ...[...have].filter((x) => !want.has(x)).map((x) => `${what}: unexpected ${x}`),
  ];
}

/** publint on the tarball (strict: warnings and suggestions count). */
export async function publintFindings(tarball: Uint8Array): Promise<string[]> {
  const { messages, pkg } = await publint({
    pack: { tarball: tarball.slice().buffer },
    level: "suggestion",
    strict: true,
  });
  return messages.map((m) => `${m.type}: ${formatMessage(m, pkg) ?? m.code}`);
}

/** The resolutions an ESM-only package must satisfy (attw's `--profile esm-only`). */
const ESM_ONLY: readonly ResolutionKind[] = ["node16-esm", "bundler"];

/** arethetypeswrong on the tarball with the esm-only profile. */
export async function attwFindings(tarball: Uint8Array): Promise<string[]> {
  const analysis = await checkPackage(createPackageFromTarballData(tarball));
  if (analysis.types === false) return ["the package ships no types"];
  return analysis.problems
    .filter((p: Problem) =>
      ESM_ONLY.some((kind) => problemAffectsResolutionKind(p, kind, analysis))
    )
    .map((p: Problem) => {
      const where = "entrypoint" in p ? ` at "${p.entrypoint}"` : "";
      const how = "resolutionKind" in p ? ` (${p.resolutionKind})` : "";
      return `${problemKindInfo[p.kind].title}${where}${how}`;
    });
}

/** What the consumer check found. */
export interface ConsumerResult {
  findings: string[];
  /** Lines worth printing even on success. */
  notes: string[];
}

/**
 * Installs the tarball into an empty Node project, imports every entry with `node` and compares
 * the runtime names, then type-checks a module that imports every public name (values as
 * values) under `moduleResolution: "nodenext"`, and compares the declared exports.
 */
export async function consumerFindings(
  tarball: string,
  packageName: string,
  names: ReadonlyMap<string, EntryNames>,
): Promise<ConsumerResult> {
  const dir = await Deno.makeTempDir({ prefix: "lunora-npm-consumer-" });
  const findings: string[] = [];
  const notes: string[] = [];
  try {
    Deno.writeTextFileSync(
      join(dir, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    const started = performance.now();
    await run("npm", [
      "install",
      tarball,
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      "--loglevel=error",
    ], { cwd: dir });
    notes.push(`npm install <tgz> in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const expected = Object.fromEntries(
      [...names].map(([subpath, n]) => [specifierFor(packageName, subpath), n.runtime]),
    );
    const smoke = await run("node", ["--input-type=module", "-e", SMOKE], {
      cwd: dir,
      env: { LUNORA_EXPECTED: JSON.stringify(expected) },
      allowFailure: true,
    });
    findings.push(...smoke.stdout.split("\n").filter((line) => line.trim() !== ""));
    if (smoke.code !== 0 && findings.length === 0) findings.push(smoke.stderr.trim());
    if (smoke.code === 0) notes.push(`imported every entry with node ${nodeVersion()}`);

    findings.push(...typeCheckConsumer(dir, packageName, names));
  } finally {
    if (findings.length === 0) await Deno.remove(dir, { recursive: true });
    else notes.push(`consumer project kept for inspection: ${dir}`);
  }
  return { findings, notes };
}

function nodeVersion(): string {
  const out = new Deno.Command("node", { args: ["--version"], stdout: "piped" }).outputSync();
  return new TextDecoder().decode(out.stdout).trim();
}

function specifierFor(packageName: string, subpath: string): string {
  return subpath === "." ? packageName : `${packageName}/${subpath.replace(/^\.\//, "")}`;
}

/** Imports each specifier and prints one line per missing or unexpected runtime export. */
const SMOKE = `
const expected = JSON.parse(process.env.LUNORA_EXPECTED);
let failed = false;
for (const [specifier, names] of Object.entries(expected)) {
  const module = await import(specifier);
  const actual = Object.keys(module);
  for (const name of names) {
    if (!actual.includes(name) || module[name] === undefined) {
      console.log(specifier + ": missing runtime export " + name);
      failed = true;
    }
  }
  for (const name of actual) {
    if (!names.includes(name)) {
      console.log(specifier + ": unexpected runtime export " + name);
      failed = true;
    }
  }
}
process.exitCode = failed ? 1 : 0;
`;

function typeCheckConsumer(
  dir: string,
  packageName: string,
  names: ReadonlyMap<string, EntryNames>,
): string[] {
  const files: string[] = [];
  // `default` is a keyword: a default export is imported under another local name.
  const binding = (name: string) => name === "default" ? "default as defaultExport" : name;
  [...names].forEach(([subpath, n], index) => {
    const specifier = specifierFor(packageName, subpath);
    const file = join(dir, `entry_${index}.ts`);
    // A default export (`./toolbar`) is imported under a local name.
    const local = (name: string) => name === "default" ? "defaultExport" : name;
    Deno.writeTextFileSync(
      file,
      [
        `import * as entry from "${specifier}";`,
        `export type { ${n.all.join(", ")} } from "${specifier}";`,
        `import { ${n.runtime.map(binding).join(", ")} } from "${specifier}";`,
        `export const values: unknown[] = [${n.runtime.map(local).join(", ")}];`,
        `export { entry };`,
        "",
      ].join("\n"),
    );
    files.push(file);
  });
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ["lib.es2023.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
    types: [],
    strict: true,
    skipLibCheck: false,
    noEmit: true,
  });
  const findings = formatDiagnostics(ts.getPreEmitDiagnostics(program), dir);
  const checker = program.getTypeChecker();
  for (const [index, [subpath, n]] of [...names].entries()) {
    const first = program.getSourceFile(files[index]!)?.statements[0];
    const moduleSymbol = first && ts.isImportDeclaration(first)
      ? checker.getSymbolAtLocation(first.moduleSpecifier)
      : undefined;
    if (!moduleSymbol) {
      findings.push(`${subpath}: the types do not resolve`);
      continue;
    }
    const declared = checker.getExportsOfModule(moduleSymbol).map((s) => s.name);
    findings.push(...compareSets(`${subpath} types`, declared, n.all));
  }
  return findings;
}

/** `deno publish --dry-run`: slow types, license, file list (works offline). */
export async function jsrFindings(
  root: string,
  entryFiles: readonly string[],
): Promise<ConsumerResult> {
  const result = await run(Deno.execPath(), ["publish", "--dry-run", "--allow-dirty"], {
    cwd: root,
    allowFailure: true,
  });
  const output = `${result.stdout}\n${result.stderr}`;
  if (result.code === 0) {
    const files = output.split("\n").filter((line) => line.trim().startsWith("file://")).length;
    return { findings: [], notes: [`deno publish --dry-run --allow-dirty: ${files} files`] };
  }
  if (!/error sending request|dns error|failed to fetch|connection refused/i.test(output)) {
    return { findings: output.trim().split("\n").slice(-30), notes: [] };
  }
  // Offline fallback: the same rules the registry applies locally.
  const findings: string[] = [];
  for (const args of [["lint", "--rules-tags=recommended,jsr"], ["doc", "--lint", ...entryFiles]]) {
    const r = await run(Deno.execPath(), args, { cwd: root, allowFailure: true });
    if (r.code !== 0) findings.push(...`${r.stdout}\n${r.stderr}`.trim().split("\n").slice(-20));
  }
  return { findings, notes: ["deno publish needed the network: ran deno lint + deno doc --lint"] };
}
