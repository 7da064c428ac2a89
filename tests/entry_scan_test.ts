/**
 * The entry scanner: which text counts as a real `withLunora(` call, which binding the entry
 * passes as `shardDO`, and which names it exports.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { scanEntry } from "../src/integration/entry_scan.ts";

const calls = (source: string) => scanEntry(source).callsWithLunora;

/** Asserts that each source calls withLunora (`expected` true) or does not. */
function assertCalls(expected: boolean, sources: string[]): void {
  for (const source of sources) assert.equal(calls(source), expected, source);
}

const REAL_CALL = "export default withLunora(handle, (env) => ({ shardDO: env.SHARD }));";

Deno.test("scanEntry() finds the factory-form call of the docs", () => {
  const source = [
    `import { handle } from "@astrojs/cloudflare/handler";`,
    `import { withLunora } from "@lunora/astro";`,
    `export default withLunora(`,
    `  (request, env, ctx) => handle(request, env, ctx),`,
    `  (env) => ({ shardDO: env.SHARD }),`,
    `);`,
  ].join("\n");
  assert.deepEqual(scanEntry(source), {
    callsWithLunora: true,
    shardBinding: "SHARD",
    exports: { names: new Set(), unlisted: false },
  });
});

Deno.test("scanEntry() finds calls with type arguments, optional calls and member calls", () => {
  assertCalls(true, [
    "withLunora<Env, Ctx>(handle, options)",
    "withLunora<Record<string, Env>>(handle, options)",
    "withLunora?.(handle, options)",
    "lunora.withLunora(handle, options)",
    "withLunora (handle, options)",
    "withLunora /* composed */ (handle, options)",
  ]);
});

Deno.test("scanEntry() finds a call through an import alias", () => {
  const source =
    `import { withLunora as compose } from "@lunora/astro";\ncompose(handle, options);`;
  assert.equal(calls(source), true);
});

Deno.test("scanEntry() finds a call inside a template literal substitution", () => {
  assert.equal(calls("const worker = `${withLunora(handle, options)}`;"), true);
});

Deno.test("scanEntry() does not count a call in a line or block comment", () => {
  assertCalls(false, [
    "// export default withLunora(handle, options);\nexport default handle;",
    "/* withLunora(handle, options) */ export default handle;",
    "/** @example withLunora(handle, options) */",
  ]);
});

Deno.test("scanEntry() does not count a call in a string literal", () => {
  assertCalls(false, [
    `const a = "withLunora(handle)";`,
    `const a = 'withLunora(handle)';`,
    `const a = "\\" withLunora(handle)";`,
    `const a = '\\' withLunora(handle)';`,
  ]);
});

Deno.test("scanEntry() does not count a call in template literal text", () => {
  assertCalls(false, [
    "const a = `withLunora(handle)`;",
    "const a = `x ${y} withLunora(handle) ${z}`;",
    "const a = `\\` withLunora(handle)`;",
    "const a = `${`withLunora(${1})`}`;",
    "const a = `${ { b: 1 }.b } withLunora(handle)`;",
  ]);
});

Deno.test("scanEntry() does not count a call in a regular expression literal", () => {
  assertCalls(false, [
    "const re = /withLunora\\(/;",
    "if (/withLunora\\(/.test(source)) {}",
    "const re = /[/]withLunora(/g;",
    "const re = /withLunora(\\w+)/;",
    "return /withLunora(x)/.test(source);",
    "if (typeof /withLunora(x)/ === 'object') {}",
  ]);
});

Deno.test("scanEntry() reads a division as a division, not as a regex", () => {
  // Each line has a second slash: reading the first as a regex start would hide the call.
  assertCalls(true, [
    "const x = a / b; withLunora(handle, options); const y = c / d;",
    "const x = (a) / 2; withLunora(handle, options); const y = c / d;",
    "const x = a[0] / 2; withLunora(handle, options); const y = c / d;",
    "const x = 10 / 2; withLunora(handle, options); const y = 9 / 3;",
    `const x = "ab" / 2; withLunora(handle, options); const y = 9 / 3;`,
  ]);
});

Deno.test("scanEntry() does not count an import or export alone", () => {
  assertCalls(false, [
    `import { withLunora } from "@lunora/astro";`,
    `export { withLunora } from "@lunora/astro";`,
    `import { withLunora as compose } from "@lunora/astro";`,
  ]);
});

Deno.test("scanEntry() does not count a mention that is not a call", () => {
  assertCalls(false, [
    "const w = withLunora;",
    "type W = typeof withLunora;",
    "type R = ReturnType<typeof withLunora>;",
    "function withLunora(host, options) { return host; }",
    "myWithLunora(handle); withLunoraX(handle);",
  ]);
});

Deno.test("scanEntry() does not let a hashbang line hide the code", () => {
  assert.equal(calls("#!/usr/bin/env node\nwithLunora(handle, options);"), true);
  assert.equal(calls("#!/usr/bin/env node withLunora(x)\n"), false);
});

Deno.test('scanEntry() reads the shardDO binding from env.NAME or env["NAME"]', () => {
  assert.equal(scanEntry("withLunora(h, (e) => ({ shardDO: e.TENANTS }))").shardBinding, "TENANTS");
  assert.equal(
    scanEntry(`withLunora(h, (e) => ({ shardDO: e["MY_SHARD"] }))`).shardBinding,
    "MY_SHARD",
  );
  assert.equal(scanEntry("withLunora(h, (e) => ({ shardDO }))").shardBinding, undefined);
  assert.equal(scanEntry("// shardDO: env.COMMENTED").shardBinding, undefined);
});

/** The names `source` exports, with `*` added when it exports names the scan cannot list. */
function exported(source: string): string[] {
  const { names, unlisted } = scanEntry(source).exports;
  return [...names, ...(unlisted ? ["*"] : [])];
}

Deno.test("scanEntry() lists the names of export lists, with or without from", () => {
  assert.deepEqual(exported(`export { ShardDO } from "./shard_do.ts";`), ["ShardDO"]);
  assert.deepEqual(exported(`export { Shard as ShardDO, Other } from "./shard.ts";`), [
    "ShardDO",
    "Other",
  ]);
  assert.deepEqual(exported(`import { Shard } from "./shard.ts";\nexport { Shard as ShardDO };`), [
    "ShardDO",
  ]);
  assert.deepEqual(exported(`export { ShardDO, };`), ["ShardDO"]);
  assert.deepEqual(exported(`export { default as ShardDO } from "./shard.ts";`), ["ShardDO"]);
  assert.deepEqual(exported(`export { Shard as "ShardDO" } from "./shard.ts";`), ["ShardDO"]);
  assert.deepEqual(exported(`export * as shards from "./shards.ts";`), ["shards"]);
});

Deno.test("scanEntry() lists the names of exported declarations", () => {
  assert.deepEqual(exported("export class ShardDO extends DurableObject {}"), ["ShardDO"]);
  assert.deepEqual(exported("export abstract class Base {}"), ["Base"]);
  assert.deepEqual(exported("export async function handler() {}"), ["handler"]);
  assert.deepEqual(exported("export function* rows() {}"), ["rows"]);
  assert.deepEqual(exported("export enum Mode { A, B }"), ["Mode"]);
  assert.deepEqual(
    exported("export const ShardDO = makeShard({ a: 1, b: [2, 3] }), c = f(4, 5);"),
    [
      "ShardDO",
      "c",
    ],
  );
  assert.deepEqual(exported("export let a = 1\nconst b = 2, d = 3;"), ["a"]);
});

Deno.test("scanEntry() lists no name for type-only, default and ambient exports", () => {
  assert.deepEqual(exported(`export type { ShardDO } from "./shard_do.ts";`), []);
  assert.deepEqual(exported(`export { type ShardDO, Other } from "./shard_do.ts";`), ["Other"]);
  assert.deepEqual(exported("export type ShardDO = typeof Shard;"), []);
  assert.deepEqual(exported("export interface ShardDO {}"), []);
  assert.deepEqual(exported("export declare class ShardDO {}"), []);
  assert.deepEqual(exported("export default class ShardDO {}"), []);
});

Deno.test("scanEntry() lists no export from comments, strings, templates, regexes or blocks", () => {
  const sources = [
    `// export { ShardDO } from "./shard_do.ts";`,
    `/* export class ShardDO {} */`,
    `const a = "export { ShardDO }";`,
    "const a = `export { ShardDO } ${b} export class ShardDO {}`;",
    "const re = /export { ShardDO }/;",
    "namespace Shards { export class ShardDO {} }",
    "const module = {}; module.export = { ShardDO };",
  ];
  for (const source of sources) assert.deepEqual(exported(source), [], source);
});

Deno.test("scanEntry() marks export * from and destructuring exports as not all listed", () => {
  assert.deepEqual(exported(`export * from "./shard/index.ts";`), ["*"]);
  assert.deepEqual(exported(`export const { ShardDO } = shards;`), ["*"]);
  assert.deepEqual(exported(`export const a = 1, [ShardDO] = shards;`), ["a", "*"]);
});

/** Text without any of `forbidden`, made of pieces that look like code and calls. */
function text(forbidden: string): fc.Arbitrary<string> {
  const pieces = [
    "withLunora(",
    "withLunora",
    "(",
    ")",
    " ",
    "x",
    "/",
    "*",
    "'",
    '"',
    "`",
    "$",
    "{",
  ]
    .concat(["}", "\\", "\n", "//", "/*", "*/", "${"])
    .filter((piece) => ![...forbidden].some((ch) => piece.includes(ch)));
  return fc.array(fc.constantFrom(...pieces), { maxLength: 12 }).map((parts) => parts.join(""));
}

/** A statement or comment that mentions withLunora( without calling it. */
const noise: fc.Arbitrary<string> = fc.oneof(
  text("\n").map((t) => `// ${t}`),
  text("*").map((t) => `/* ${t} */`),
  text(`"\\\n`).map((t) => `const s = "${t}" + "\\"";`),
  text(`'\\\n`).map((t) => `const s = '${t}';`),
  text("`\\$").map((t) => `const t = \`${t}\${"withLunora("}${t}\`;`),
  text("/\\\n[]*(){}$`'\"").map((t) => `const r = /withLunora\\(${t}/g;`),
  fc.constantFrom(
    `import { withLunora } from "@lunora/astro";`,
    "const ratio = total / count / 2;",
    "typeof withLunora;",
    "handle(request, env, ctx);",
  ),
);

Deno.test("scanEntry() finds no call in any mix of comments, strings, templates and regexes", () => {
  fc.assert(
    fc.property(fc.array(noise, { maxLength: 8 }), (lines) => !calls(lines.join("\n"))),
  );
});

Deno.test("scanEntry() finds a real call wherever it stands among such noise", () => {
  fc.assert(
    fc.property(fc.array(noise, { maxLength: 8 }), fc.nat(), (lines, at) => {
      const k = at % (lines.length + 1);
      const scan = scanEntry([...lines.slice(0, k), REAL_CALL, ...lines.slice(k)].join("\n"));
      return scan.callsWithLunora && scan.shardBinding === "SHARD";
    }),
  );
});
