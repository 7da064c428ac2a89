/**
 * The in-process registry across module copies and runtimes: a second copy of the module finds
 * the first one's scopes, and a key that cannot take a private field still gets one.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { getRequestScope, setRequestScope } from "../src/in_process_registry.ts";
import { scopeOf } from "./_fakes.ts";

const REGISTRY_SOURCE = new URL("../src/in_process_registry.ts", import.meta.url);

/** A copy of the registry module in a temp directory: a second module instance. */
async function copyOfRegistry(dir: string): Promise<string> {
  const file = join(dir, "in_process_registry.ts");
  await Deno.copyFile(fileURLToPath(REGISTRY_SOURCE), file);
  return file;
}

Deno.test("a scope registered by one copy of the registry module is found by another copy", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lunora-registry-" });
  try {
    const copy = await import(pathToFileURL(await copyOfRegistry(dir)).href) as {
      setRequestScope: typeof setRequestScope;
      getRequestScope: typeof getRequestScope;
    };
    assert.notEqual(copy.setRequestScope, setRequestScope, "a second instance");
    const ctx = { waitUntil() {} };
    const scope = scopeOf(() => Promise.resolve(new Response("from the copy")));
    copy.setRequestScope([ctx], scope);
    assert.equal(getRequestScope(ctx), scope);
    const request = new Request("https://app.test/page");
    setRequestScope([request], scope);
    assert.equal(copy.getRequestScope(request), scope);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a frozen key still gets its scope where private fields obey non-extensibility", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lunora-registry-" });
  try {
    await copyOfRegistry(dir);
    const script = join(dir, "frozen.ts");
    await Deno.writeTextFile(
      script,
      `import { getRequestScope, setRequestScope } from "./in_process_registry.ts";
class Key { constructor(key: object) { return key; } }
class Field extends Key { #field = 1; constructor(key: object) { super(key); } }
let fieldThrows = false;
try { new Field(Object.freeze({})); } catch { fieldThrows = true; }
const ctx = Object.freeze({ waitUntil() {} });
setRequestScope([ctx], { run: () => Promise.resolve(new Response("frozen")), track: (result) => result });
const found = await (await getRequestScope(ctx)!.run("{}", { kind: "query" })).text();
console.log(JSON.stringify({ fieldThrows, found }));
`,
    );
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-config",
        "--no-check",
        "--v8-flags=--js-nonextensible-applies-to-private",
        script,
      ],
      cwd: dir,
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), {
      fieldThrows: true,
      found: "frozen",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
