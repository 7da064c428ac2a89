/**
 * The npm build's rules (scripts/build_npm.ts and its helpers): how Deno specifiers become npm
 * ones, what package.json declares, which tests run under Node, how import graphs are measured,
 * and that the `Deno.test` shim behaves like `Deno.test` under `node --test`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import ts from "typescript";
import { dependencyRange, mapSpecifier, parseNpmSpecifier } from "../scripts/npm/specifiers.ts";
import {
  checkVersion,
  descriptionFromModuleDoc,
  packageManifest,
} from "../scripts/npm/manifest.ts";
import { denoApisUsed } from "../scripts/npm/node_tests.ts";
import { type DenoDoc, publicNames } from "../scripts/npm/checks.ts";
import { graphSize, minifiedGraphSize } from "../scripts/npm/graph_size.ts";

const imports = {
  "jsonc-parser": "npm:jsonc-parser@3.3.1",
  "tools/": "npm:/some-tools@2.0.0/lib/",
  "local": "./src/local.ts",
};

Deno.test("mapSpecifier() rewrites relative .ts imports to .js and keeps node: modules", () => {
  assert.deepEqual(mapSpecifier("../src/wire/codec.ts", imports), {
    kind: "relative",
    specifier: "../src/wire/codec.js",
  });
  assert.equal(mapSpecifier("./x.mts", imports).specifier, "./x.mjs");
  assert.deepEqual(mapSpecifier("node:fs/promises", imports), {
    kind: "node",
    specifier: "node:fs/promises",
  });
});

Deno.test("mapSpecifier() maps npm: specifiers and import-map names to bare package paths", () => {
  assert.deepEqual(mapSpecifier("npm:@scope/pkg@1.2.3/sub/path.js", imports), {
    kind: "npm",
    specifier: "@scope/pkg/sub/path.js",
    package: { name: "@scope/pkg", version: "1.2.3", subpath: "/sub/path.js" },
  });
  assert.equal(mapSpecifier("jsonc-parser", imports).specifier, "jsonc-parser");
  assert.equal(
    mapSpecifier("jsonc-parser/lib/esm/main.js", imports).specifier,
    "jsonc-parser/lib/esm/main.js",
  );
  assert.equal(mapSpecifier("tools/a.js", imports).specifier, "some-tools/lib/a.js");
});

Deno.test("mapSpecifier() rejects specifiers that have no npm form with a TypeError", () => {
  assert.throws(() => mapSpecifier("jsr:@std/assert", imports), TypeError);
  assert.throws(() => mapSpecifier("https://example.test/x.ts", imports), TypeError);
  assert.throws(() => mapSpecifier("unknown-package", imports), /"unknown-package"/);
  assert.throws(() => mapSpecifier("local", imports), /"\.\/src\/local\.ts"/);
});

Deno.test("dependencyRange() widens an exact pin to a caret range and refuses an unpinned one", () => {
  assert.equal(dependencyRange(parseNpmSpecifier("npm:smol-toml@1.9.1")!), "^1.9.1");
  assert.equal(dependencyRange(parseNpmSpecifier("npm:smol-toml@~1.9")!), "~1.9");
  assert.throws(() => dependencyRange(parseNpmSpecifier("npm:smol-toml")!), /pin its version/);
});

Deno.test("packageManifest() exports types and import per entry and keeps astro an optional peer", () => {
  const manifest = packageManifest({
    name: "@lunora/astro",
    version: "1.2.3",
    description: "D.",
    license: "MIT",
    exports: { ".": "./mod.ts", "./server": "./server.ts" },
    runtimePackages: [
      parseNpmSpecifier("npm:jsonc-parser@3.3.1")!,
      parseNpmSpecifier("npm:astro@7.3.4")!,
    ],
  });
  assert.deepEqual(manifest.exports, {
    ".": { types: "./esm/mod.d.ts", import: "./esm/mod.js" },
    "./server": { types: "./esm/server.d.ts", import: "./esm/server.js" },
    "./package.json": "./package.json",
  });
  assert.deepEqual(manifest.dependencies, { "jsonc-parser": "^3.3.1" });
  assert.deepEqual(manifest.peerDependencies, { astro: "^6.0.0 || ^7.0.0" });
  assert.deepEqual(manifest.peerDependenciesMeta, { astro: { optional: true } });
  assert.equal(manifest.type, "module");
  assert.equal(manifest.sideEffects, false);
  for (const keyword of ["astro-integration", "withastro", "cloudflare", "lunora"]) {
    assert.ok((manifest.keywords as string[]).includes(keyword), keyword);
  }
});

Deno.test("descriptionFromModuleDoc() makes one sentence of the module doc's first paragraph", () => {
  const doc = "`@lunora/astro`: run an app in `one`\nworker\n\n- more detail\n";
  assert.equal(descriptionFromModuleDoc(doc), "Run an app in one worker.");
  assert.throws(() => descriptionFromModuleDoc("  \n"), TypeError);
});

Deno.test("checkVersion() accepts semantic versions and rejects anything else", () => {
  assert.equal(checkVersion("1.2.3-rc.1"), "1.2.3-rc.1");
  assert.throws(() => checkVersion("v1.2"), /Invalid version "v1\.2"/);
});

Deno.test("denoApisUsed() ignores Deno.test and types but reports other Deno APIs", () => {
  const uses = (code: string) =>
    denoApisUsed(ts.createSourceFile("t.ts", code, ts.ScriptTarget.Latest, true));
  assert.deepEqual(uses(`Deno.test("x", (t: Deno.TestContext) => {}); const o = { Deno: 1 };`), []);
  assert.deepEqual(uses(`Deno.test("x", async () => { await Deno.readTextFile("f"); });`), [
    "Deno.readTextFile",
  ]);
  assert.deepEqual(uses(`const d = Deno; Deno.env.get("X");`), ["Deno", "Deno.env"]);
});

Deno.test("publicNames() splits each entry's names into all and runtime, following references", () => {
  const at = (line: number) => ({ filename: "file:///r/src/a.ts", line, col: 0 });
  const doc: DenoDoc = {
    nodes: {
      "file:///r/mod.ts": {
        symbols: [
          { name: "run", declarations: [{ kind: "function", location: at(1) }] },
          { name: "Options", declarations: [{ kind: "interface", location: at(2) }] },
        ],
      },
      "file:///r/server.ts": {
        symbols: [
          { name: "run", declarations: [{ kind: "reference", def: { target: at(1) } }] },
          { name: "Options", declarations: [{ kind: "reference", def: { target: at(2) } }] },
          { name: "VERSION", declarations: [{ kind: "variable", location: at(3) }] },
        ],
      },
    },
  };
  const names = publicNames(doc, "/r", { ".": "./mod.ts", "./server": "./server.ts" });
  assert.deepEqual(names.get("."), { all: ["Options", "run"], runtime: ["run"] });
  assert.deepEqual(names.get("./server"), {
    all: ["Options", "VERSION", "run"],
    runtime: ["VERSION", "run"],
  });
});

Deno.test("graphSize() follows static imports, lists dynamic and external ones", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "a.js"), `export { b } from "./b.js";\nimport "node:fs";`);
    await Deno.writeTextFile(join(dir, "b.js"), `export const b = () => import("./c.js");`);
    await Deno.writeTextFile(join(dir, "c.js"), `export const c = "never counted";`);
    const size = graphSize(join(dir, "a.js"), dir);
    assert.deepEqual(size.modules, ["a.js", "b.js"]);
    assert.deepEqual(size.staticExternal, ["node:fs"]);
    assert.deepEqual(size.dynamicImports, ["./c.js"]);
    const bytes = (await Deno.readFile(join(dir, "a.js"))).length +
      (await Deno.readFile(join(dir, "b.js"))).length;
    assert.equal(size.bytes, bytes);
    assert.ok(size.gzipBytes > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("minifiedGraphSize() bundles and minifies the static graph and leaves import() chunks out", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const long = "a comment that minification drops ".repeat(40);
    await Deno.writeTextFile(
      join(dir, "a.js"),
      `// ${long}\nimport { b } from "./b.js";\nimport { readFile } from "node:fs";\n` +
        `export const a = () => [b(), readFile, import("./c.js")];`,
    );
    await Deno.writeTextFile(
      join(dir, "b.js"),
      `export function b() {\n  const spelledOutLocalName = 1;\n  return spelledOutLocalName;\n}`,
    );
    await Deno.writeTextFile(join(dir, "c.js"), `export const c = "${"x".repeat(5000)}";`);
    const out = join(dir, "out");
    const size = await minifiedGraphSize(join(dir, "a.js"), out);
    assert.deepEqual(size.modules, ["a.js"]);
    assert.deepEqual(size.staticExternal, ["node:fs"]);
    assert.equal(size.dynamicImports.length, 1);
    const bundled = await Deno.readTextFile(join(out, "a.js"));
    assert.ok(!bundled.includes("minification drops"), bundled);
    assert.ok(!bundled.includes("spelledOutLocalName"), bundled);
    assert.ok(!bundled.includes("xxxxx"), "the import() chunk is not in the entry");
    assert.equal(size.bytes, new TextEncoder().encode(bundled).length);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the Deno.test shim runs every registration form and t.step under node --test", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const shim = await Deno.readTextFile(
      new URL("../scripts/npm/deno_test_shim.ts", import.meta.url),
    );
    const js = ts.transpileModule(shim, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    await Deno.writeTextFile(join(dir, "shim.mjs"), js);
    await Deno.writeTextFile(
      join(dir, "forms_test.mjs"),
      `import { Deno } from "./shim.mjs";
       import assert from "node:assert/strict";
       const order = [];
       const stepResults = [];
       Deno.test("name and fn", () => { order.push("a"); });
       Deno.test({ name: "definition", fn() { order.push("b"); } });
       Deno.test("name, options, fn", {}, () => { order.push("c"); });
       Deno.test(function namedFunction() { order.push("d"); });
       Deno.test({ name: "ignored", ignore: true, fn() { throw new Error("ran"); } });
       Deno.test("steps", async (t) => {
         stepResults.push(await t.step("inner passes", () => {}));
         stepResults.push(await t.step({ name: "inner fails", fn() { throw new Error("x"); } }));
       });
       Deno.test("afterwards", () => {
         assert.deepEqual(order, ["a", "b", "c", "d"]);
         assert.deepEqual(stepResults, [true, false]);
       });
      `,
    );
    const output = await new Deno.Command("node", {
      args: ["--test", "--test-reporter=spec", "forms_test.mjs"],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stdout);
    // 7 tests + 2 steps; the failing step also fails its parent; "afterwards" passes only when
    // every form ran in order and t.step reported each step's outcome.
    assert.match(text, /ℹ tests 9\n/);
    assert.match(text, /ℹ pass 6\n/);
    assert.match(text, /ℹ fail 2\n/);
    assert.match(text, /ℹ skipped 1\n/);
    assert.match(text, /✔ namedFunction/);
    assert.notEqual(output.code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
