/**
 * `deno task build:npm [version]`: builds the npm package in `npm/` and validates it like a
 * published one. It does dnt's job with npm tools (JSR, and so dnt, is unreachable here).
 *
 * 1. emit: type-check the graph of the deno.json "exports" under Node's ESM rules and write
 *    `npm/esm/**.js` (no comments) + `.d.ts` (with JSDoc); `./x.ts` → `./x.js`, `npm:` and
 *    import-map specifiers → bare names, each imported package a dependency.
 * 2. package.json (version from deno.json unless given), README.md and LICENSE.
 * 3. checks, each failing the build on any finding:
 *    - size: bytes and gzip of each entry with its static import graph, and its min+gzip size
 *      bundled and minified (`deno bundle`), held to a budget; `./server` must not reach
 *      `src/integration/` or `src/worker/` or any `node:` module, and `./client` nothing but
 *      `src/client/`, `src/wire/` and `nanostores`;
 *    - node tests: the unit tests that need no Deno API, run with `node --test` against the
 *      emitted files (rule in `npm/node_tests.ts`; they are written to `npm/test/`);
 *    - pack: `npm pack` lists exactly package.json, README.md, LICENSE and the emitted files
 *      (not `npm/test/`); the tarball lands in `.out/lunora-astro.tgz`, where the example
 *      app's e2e installs it from, and stays there even when a later check fails;
 *    - publint (strict) and arethetypeswrong (esm-only profile) on the tarball;
 *    - consumer: `npm install <tgz>` into an empty project, `node` imports every entry and
 *      finds exactly the runtime names `deno doc` lists, and a type check there imports every
 *      public name from the shipped `.d.ts` and finds no other;
 *    - jsr: `deno publish --dry-run --allow-dirty`.
 *
 * Packages the sources and tests import are installed once into `.tools/npm-build/`; the build
 * tools (typescript, publint, @arethetypeswrong/core) are pinned in deno.json "imports".
 *
 * @module
 */
import { basename, join, relative } from "node:path";
import { emitPackage, ensureNodeModules, scanSourceGraph } from "./npm/emit.ts";
import {
  attwFindings,
  compareSets,
  consumerFindings,
  jsrFindings,
  publicNames,
  publintFindings,
  readDenoDoc,
} from "./npm/checks.ts";
import {
  checkVersion,
  descriptionFromModuleDoc,
  ESM_DIR,
  packageManifest,
} from "./npm/manifest.ts";
import { prepareNodeTests, runNodeTests } from "./npm/node_tests.ts";
import { type GraphSize, graphSize, minifiedGraphSize, SIZE_BUDGETS } from "./npm/graph_size.ts";
import { parseNpmSpecifier } from "./npm/specifiers.ts";
import { run } from "./npm/command.ts";
import { withBuildLock } from "./npm/build_lock.ts";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const npmDir = join(root, "npm");
const esmDir = join(npmDir, ESM_DIR);
const testOutDir = join(npmDir, "test");
const packagesDir = join(root, ".tools", "npm-build");
const tarballPath = join(root, ".out", "lunora-astro.tgz");

/**
 * Subpaths that run inside workerd and during SSR, or in the browser (`./toolbar`): no
 * build-time or worker code, no `node:`.
 */
const WORKERD_ENTRIES = ["./server", "./middleware", "./toolbar"];
const FORBIDDEN_IN_WORKERD = [`${ESM_DIR}/src/integration/`, `${ESM_DIR}/src/worker/`];
/** Subpaths that run in the browser: their own `src/client/` and the shared `src/wire/` only. */
const BROWSER_ENTRIES = ["./client"];
const ALLOWED_IN_BROWSER = [`${ESM_DIR}/src/client/`, `${ESM_DIR}/src/wire/`];

interface DenoConfig {
  name: string;
  version: string;
  license?: string;
  exports: string | Record<string, string>;
  imports?: Record<string, string>;
  compilerOptions?: Record<string, unknown>;
}

interface CheckOutcome {
  findings: string[];
  notes?: string[];
}

const results: { name: string; ok: boolean; seconds: number }[] = [];

async function check(name: string, fn: () => Promise<CheckOutcome>): Promise<boolean> {
  const started = performance.now();
  let outcome: CheckOutcome;
  try {
    outcome = await fn();
  } catch (error) {
    outcome = { findings: [error instanceof Error ? error.message : String(error)] };
  }
  const seconds = (performance.now() - started) / 1000;
  const ok = outcome.findings.length === 0;
  results.push({ name, ok, seconds });
  console.log(`${ok ? "ok  " : "FAIL"} ${name} (${seconds.toFixed(1)} s)`);
  for (const note of outcome.notes ?? []) console.log(`     ${note}`);
  for (const finding of outcome.findings) {
    console.log(`     ✗ ${finding.replaceAll("\n", "\n       ")}`);
  }
  return ok;
}

async function main(versionArgument: string | undefined): Promise<number> {
  const started = performance.now();
  const config = JSON.parse(Deno.readTextFileSync(join(root, "deno.json"))) as DenoConfig;
  const version = versionArgument ?? config.version;
  const exports = typeof config.exports === "string" ? { ".": config.exports } : config.exports;
  const imports = config.imports ?? {};
  const entries = Object.values(exports).map((file) => join(root, file));

  await Deno.remove(npmDir, { recursive: true }).catch(() => {});
  Deno.mkdirSync(esmDir, { recursive: true });
  Deno.mkdirSync(join(root, ".out"), { recursive: true });

  // 1. Emit.
  let emitted: ReturnType<typeof emitPackage> | undefined;
  const emitOk = await check("emit (tsc: type-check + ESM + .d.ts)", async () => {
    const graph = scanSourceGraph(entries, imports);
    const packages = [...graph.packages.values()];
    const nodeTypes = parseNpmSpecifier(imports["@types/node"] ?? "");
    if (graph.usesNode) {
      if (!nodeTypes) {
        throw new TypeError(
          'Cannot check "node:" imports: pin "@types/node" in deno.json "imports"',
        );
      }
      packages.push(nodeTypes);
    }
    const { installed } = await ensureNodeModules(packagesDir, packages);
    emitted = emitPackage({
      root,
      entries,
      outDir: esmDir,
      imports,
      compilerOptions: config.compilerOptions ?? {},
      packagesDir,
      nodeTypes: graph.usesNode,
    });
    const js = emitted.files.filter((f) => f.endsWith(".js")).length;
    return {
      findings: emitted.errors,
      notes: [
        `${graph.files.length} modules → ${js} .js + ${
          emitted.files.length - js
        } .d.ts in npm/${ESM_DIR}/` +
        (installed ? " (installed packages into .tools/npm-build/)" : ""),
      ],
    };
  });
  if (!emitOk || !emitted) return finish(started);
  const emit = emitted;

  // 2. package.json, README.md, LICENSE.
  const doc = await readDenoDoc(root, Object.values(exports));
  const rootDoc = doc.nodes[new URL(exports["."] ?? "", `file://${root}/`).href]?.module_doc?.doc;
  const repository = await gitRepository();
  const manifest = packageManifest({
    name: config.name,
    version,
    description: descriptionFromModuleDoc(rootDoc ?? ""),
    license: config.license ?? "MIT",
    exports,
    runtimePackages: emit.runtimePackages.values(),
    ...(repository ? { repository } : {}),
  });
  Deno.writeTextFileSync(join(npmDir, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
  const shipped = ["package.json"];
  for (const file of ["README.md", "LICENSE"]) {
    try {
      Deno.copyFileSync(join(root, file), join(npmDir, file));
      shipped.push(file);
    } catch {
      console.log(`warn ${file} is missing: the package ships without it`);
    }
  }
  if (!repository) console.log("warn no git remote: package.json has no repository field");
  console.log(
    `     ${manifest.name}@${manifest.version}, dependencies: ${
      JSON.stringify(manifest.dependencies ?? {})
    }`,
  );

  // 3. Checks.
  const names = publicNames(doc, root, exports);
  await check("size + ./server and ./client import rules", () => sizeCheck(exports));

  // Before packing, so that the file-list check also proves npm/test/ is not shipped.
  await check("unit tests under node against npm/esm", async () => {
    const plan = prepareNodeTests({
      testsDir: join(root, "tests"),
      outDir: testOutDir,
      modules: emit.modules,
      imports,
      shim: Deno.readTextFileSync(join(root, "scripts", "npm", "deno_test_shim.ts")),
    });
    const notes = plan.skipped.map(({ file, reason }) => `Deno-only: ${file} (${reason})`);
    if (plan.portable.length === 0) {
      return { findings: ["no unit test can run under Node"], notes };
    }
    await ensureNodeModules(packagesDir, plan.packages.values());
    Deno.symlinkSync(
      relative(npmDir, join(packagesDir, "node_modules")),
      join(npmDir, "node_modules"),
    );
    const result = await runNodeTests(testOutDir, plan.portable);
    notes.unshift(`${plan.portable.length} test modules: ${result.summary}`);
    return { findings: result.failures, notes };
  });

  let tarball: Uint8Array | undefined;
  await check("pack (npm pack file list)", async () => {
    const { stdout } = await run("npm", [
      "pack",
      "--json",
      "--pack-destination",
      join(root, ".out"),
    ], { cwd: npmDir });
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    Deno.renameSync(join(root, ".out", packed!.filename), tarballPath);
    tarball = Deno.readFileSync(tarballPath);
    const files = packed!.files.map((f) => f.path);
    return {
      findings: compareSets("packed files", files, [...shipped, ...emit.files]),
      notes: [
        `${files.length} files, ${tarball.length} bytes → ${relative(Deno.cwd(), tarballPath)}`,
      ],
    };
  });

  if (tarball) {
    const bytes = tarball;
    await check("publint (strict)", async () => ({ findings: await publintFindings(bytes) }));
    await check("arethetypeswrong (esm-only)", async () => ({
      findings: await attwFindings(bytes),
    }));
    await check(
      "consumer install + node import smoke test + type check",
      () => consumerFindings(tarballPath, config.name, names),
    );
  }

  await check("jsr (deno publish --dry-run)", () => jsrFindings(root, Object.values(exports)));

  console.log(`tarball: ${tarballPath}`);
  return finish(started);
}

async function sizeCheck(exports: Readonly<Record<string, string>>): Promise<CheckOutcome> {
  const findings: string[] = [];
  const notes: string[] = [];
  const sizes = new Map<string, { emitted: GraphSize; minified: GraphSize }>();
  for (const [subpath, source] of Object.entries(exports)) {
    const entry = join(esmDir, source.replace(/^\.\//, "").replace(/\.(m|c)?tsx?$/, ".js"));
    const scratch = join(root, ".out", "npm-size", basename(entry, ".js"));
    sizes.set(subpath, {
      emitted: graphSize(entry, npmDir),
      minified: await minifiedGraphSize(entry, scratch),
    });
  }
  notes.push("entry       modules     bytes   gzip   min+gzip  budget (min+gzip)");
  for (const [subpath, { emitted, minified }] of sizes) {
    const budget = SIZE_BUDGETS[subpath];
    notes.push(
      [
        subpath.padEnd(10),
        String(emitted.modules.length).padStart(8),
        String(emitted.bytes).padStart(9),
        String(emitted.gzipBytes).padStart(6),
        String(minified.gzipBytes).padStart(10),
        budget === undefined ? "" : ` ${budget}`,
      ].join(" "),
    );
    if (budget !== undefined && minified.gzipBytes > budget) {
      const largest = emitted.modules
        .map((module) => ({ module, bytes: Deno.statSync(join(npmDir, module)).size }))
        .sort((a, b) => b.bytes - a.bytes)
        .slice(0, 3);
      findings.push(
        `${subpath} is ${minified.gzipBytes} bytes min+gzip, over its budget of ${budget}; ` +
          `largest modules: ${largest.map((m) => `${m.module} ${m.bytes}`).join(", ")}`,
      );
    }
    const external = [
      ...emitted.staticExternal,
      ...emitted.dynamicImports.map((s) => `${s} (dynamic)`),
    ];
    if (external.length > 0) notes.push(`${subpath} imports ${external.join(", ")}`);
  }
  for (const subpath of WORKERD_ENTRIES) {
    const size = sizes.get(subpath)?.emitted;
    if (!size) continue;
    for (const module of size.modules) {
      if (FORBIDDEN_IN_WORKERD.some((dir) => module.startsWith(dir))) {
        findings.push(`${subpath} reaches ${module} (integration/worker code)`);
      }
    }
    for (const specifier of [...size.staticExternal, ...size.dynamicImports]) {
      if (specifier.startsWith("node:")) findings.push(`${subpath} imports ${specifier}`);
    }
  }
  for (const subpath of BROWSER_ENTRIES) {
    const size = sizes.get(subpath)?.emitted;
    if (!size) continue;
    const entry = `${ESM_DIR}/${exports[subpath]!.replace(/^\.\//, "").replace(/\.ts$/, ".js")}`;
    for (const module of size.modules) {
      if (module !== entry && !ALLOWED_IN_BROWSER.some((dir) => module.startsWith(dir))) {
        findings.push(`${subpath} reaches ${module} (only src/client/ and src/wire/ may ship)`);
      }
    }
    for (const specifier of size.staticExternal) {
      if (specifier !== "nanostores") findings.push(`${subpath} imports ${specifier}`);
    }
    // Parts loaded on first use (the socket engine, browser writes): siblings in src/client/.
    for (const specifier of size.dynamicImports) {
      if (!/^\.\/[a-z_]+\.js$/.test(specifier)) {
        findings.push(`${subpath} imports ${specifier} (dynamic)`);
      }
    }
  }
  return { findings, notes };
}

async function gitRepository(): Promise<string | undefined> {
  const { code, stdout } = await run("git", ["remote", "get-url", "origin"], {
    cwd: root,
    allowFailure: true,
  });
  const url = stdout.trim();
  // Only a hosted remote names the repository; a clone of a local path (as CI makes) does not.
  if (code !== 0 || !/^(?:https:\/\/|git@[^:]+:)/.test(url)) return undefined;
  const https = url.replace(/^git@([^:]+):/, "https://$1/");
  return https.startsWith("git+") ? https : `git+${https}`;
}

function finish(started: number): number {
  const failed = results.filter((r) => !r.ok);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (failed.length === 0) {
    console.log(`build:npm: all ${results.length} checks ok in ${seconds} s`);
    return 0;
  }
  console.log(
    `build:npm: ${failed.length} of ${results.length} checks FAILED in ${seconds} s: ${
      failed.map((r) => r.name).join(", ")
    }`,
  );
  return 1;
}

if (import.meta.main) {
  let version: string | undefined;
  try {
    if (Deno.args.length > 1) throw new TypeError("Usage: deno task build:npm [version]");
    version = Deno.args[0] === undefined ? undefined : checkVersion(Deno.args[0]);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    Deno.exit(2);
  }
  Deno.mkdirSync(join(root, ".out"), { recursive: true });
  Deno.exit(await withBuildLock(join(root, ".out", "build-npm.lock"), () => main(version)));
}
