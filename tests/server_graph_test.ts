/**
 * `@lunora/astro/server` runs in workerd and in `.astro` frontmatter (spec §1), and
 * `@lunora/astro/middleware` in the same places on every request: their import graphs must
 * hold no `node:` module, nothing from the integration or the worker, and no WebSocket or
 * browser global used as code. `@lunora/astro/client` runs in the browser: its graph is its own
 * `src/client/` and the shared `src/wire/`, plus `nanostores`.
 */
import assert from "node:assert/strict";

interface InfoModule {
  kind?: string;
  specifier: string;
  local?: string;
  dependencies?: { specifier: string }[];
}

const ROOT = new URL("../", import.meta.url);
const FORBIDDEN = /\b(?:WebSocket|window|document)\b/g;

/** The entry points that run inside workerd and during SSR. */
const ENTRIES = ["server.ts", "middleware.ts"];

async function graph(entry: string): Promise<InfoModule[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return (JSON.parse(new TextDecoder().decode(output.stdout)) as { modules: InfoModule[] })
    .modules;
}

/**
 * The source with comments, string and template literals and regular expressions blanked
 * out, so only code remains.
 */
function codeOnly(source: string): string {
  let out = "";
  let index = 0;
  let last = ""; // the last significant code character, to tell a regex from a division
  const blank = (text: string) => text.replace(/[^\n]/g, " ");
  while (index < source.length) {
    const char = source[index]!;
    const next = source[index + 1];
    let end = -1;
    if (char === "/" && next === "/") {
      end = source.indexOf("\n", index);
      if (end === -1) end = source.length;
    } else if (char === "/" && next === "*") {
      end = source.indexOf("*/", index + 2) + 2;
      if (end === 1) end = source.length;
    } else if (char === '"' || char === "'" || char === "`") {
      end = index + 1;
      while (end < source.length && source[end] !== char) end += source[end] === "\\" ? 2 : 1;
      end++;
    } else if (char === "/" && (last === "" || "(,=:[!&|?{};+-*%<>~^".includes(last))) {
      end = index + 1;
      let inClass = false;
      while (end < source.length && (inClass || source[end] !== "/") && source[end] !== "\n") {
        if (source[end] === "\\") end++;
        else if (source[end] === "[") inClass = true;
        else if (source[end] === "]") inClass = false;
        end++;
      }
      end++;
    }
    if (end > index) {
      out += blank(source.slice(index, end));
      index = end;
      if (char !== "/" || (next !== "/" && next !== "*")) last = "a"; // a literal is a value
      continue;
    }
    out += char;
    if (!/\s/.test(char)) last = char;
    index++;
  }
  return out;
}

for (const entry of ENTRIES) {
  Deno.test(`the ${entry} graph imports no node: module`, async () => {
    const modules = await graph(entry);
    assert.ok(modules.length > 1);
    for (const module of modules) {
      assert.ok(!module.specifier.startsWith("node:"), module.specifier);
      assert.notEqual(module.kind, "node", module.specifier);
      for (const dependency of module.dependencies ?? []) {
        assert.ok(
          !dependency.specifier.startsWith("node:"),
          `${module.specifier} → ${dependency.specifier}`,
        );
      }
    }
  });

  Deno.test(`the ${entry} graph holds nothing from src/integration/ or src/worker/`, async () => {
    for (const module of await graph(entry)) {
      assert.ok(!module.specifier.includes("/src/integration/"), module.specifier);
      assert.ok(!module.specifier.includes("/src/worker/"), module.specifier);
    }
  });

  Deno.test(`no module of the ${entry} graph uses WebSocket, window or document as code`, async () => {
    for (const module of await graph(entry)) {
      assert.ok(module.local, `${module.specifier} is a local file`);
      const code = codeOnly(await Deno.readTextFile(module.local));
      assert.deepEqual(code.match(FORBIDDEN), null, module.specifier);
    }
  });
}

Deno.test("the client.ts graph imports no node: module", async () => {
  for (const module of await graph("client.ts")) {
    assert.ok(!module.specifier.startsWith("node:"), module.specifier);
    assert.notEqual(module.kind, "node", module.specifier);
  }
});

Deno.test("the client.ts graph holds browser and wire code only, nothing of the worker, SSR or integration", async () => {
  const local = (await graph("client.ts"))
    .filter((module) => module.specifier.startsWith("file:"))
    .map((module) => module.specifier.split("/src/")[1] ?? module.specifier.split("/").at(-1));
  assert.ok(local.includes("client/lunora_client.ts"));
  assert.ok(local.includes("wire/codec.ts"));
  for (const file of local) {
    assert.ok(
      file === "client.ts" || file!.startsWith("client/") || file!.startsWith("wire/"),
      `client.ts reaches ${file}`,
    );
  }
});

Deno.test("the client.ts graph reaches npm only for nanostores", async () => {
  const npm = (await graph("client.ts"))
    .filter((module) => module.kind === "npm" || module.specifier.startsWith("npm:"))
    .map((module) => module.specifier.replace(/^npm:\/?/, "").replace(/@[^@/]*$/, ""));
  assert.deepEqual([...new Set(npm)], ["nanostores"]);
});

Deno.test("the middleware.ts graph is the server client's, without preload, tokens or sessions", async () => {
  const files = (await graph("middleware.ts")).map((module) => module.specifier.split("/src/")[1]);
  assert.ok(files.includes("ssr/locals_middleware.ts"));
  assert.ok(files.includes("ssr/server_client.ts"));
  for (const extra of ["ssr/preload.ts", "wire/preloaded_token.ts", "ssr/session.ts"]) {
    assert.ok(!files.includes(extra), extra);
  }
});

Deno.test("the code scanner finds globals in code but not in comments, strings or regexes", () => {
  const uses = [
    "const socket = new WebSocket(url);",
    "if (typeof window !== 'undefined') {}",
    "const a = 1 / 2; document.title = `x`;",
  ];
  for (const source of uses) assert.notEqual(codeOnly(source).match(FORBIDDEN), null, source);
  const mentions = [
    "// opens no WebSocket\nconst a = 1;",
    "/** no window or document */ const b = 2;",
    "const c = \"WebSocket\"; const d = 'window';",
    "const e = `document ${1}`;",
    "const f = /window|document/.test(x);",
    'const g = x.replace(/\\/$/, ""); // WebSocket',
  ];
  for (const source of mentions) assert.equal(codeOnly(source).match(FORBIDDEN), null, source);
});
