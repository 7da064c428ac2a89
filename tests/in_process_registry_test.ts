/**
 * The in-process registry across module copies and runtimes: a second copy of the module finds
 * the first one's transports, and a key that cannot take a private field still gets one.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { getInProcessTransport, setInProcessTransport } from "../src/in_process_registry.ts";

const REGISTRY_SOURCE = new URL("../src/in_process_registry.ts", import.meta.url);

/** A copy of the registry module in a temp directory: a second module instance. */
async function copyOfRegistry(dir: string): Promise<string> {
  const file = join(dir, "in_process_registry.ts");
  await Deno.copyFile(fileURLToPath(REGISTRY_SOURCE), file);
  return file;
}

Deno.test("a transport registered by one copy of the registry module is found by another copy", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lunora-registry-" });
  try {
    const copy = await import(pathToFileURL(await copyOfRegistry(dir)).href) as {
      setInProcessTransport: typeof setInProcessTransport;
      getInProcessTransport: typeof getInProcessTransport;
    };
    assert.notEqual(copy.setInProcessTransport, setInProcessTransport, "a second instance");
    const ctx = { waitUntil() {} };
    const transport = () => Promise.resolve(new Response("from the copy"));
    copy.setInProcessTransport([ctx], transport);
    assert.equal(getInProcessTransport(ctx), transport);
    const request = new Request("https://app.test/page");
    setInProcessTransport([request], transport);
    assert.equal(copy.getInProcessTransport(request), transport);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a frozen key still gets its transport where private fields obey non-extensibility", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lunora-registry-" });
  try {
    await copyOfRegistry(dir);
    const script = join(dir, "frozen.ts");
    await Deno.writeTextFile(
      script,
      `import { getInProcessTransport, setInProcessTransport } from "./in_process_registry.ts";
class Key { constructor(key: object) { return key; } }
class Field extends Key { #field = 1; constructor(key: object) { super(key); } }
let fieldThrows = false;
try { new Field(Object.freeze({})); } catch { fieldThrows = true; }
const ctx = Object.freeze({ waitUntil() {} });
setInProcessTransport([ctx], () => Promise.resolve(new Response("frozen")));
const found = await (await getInProcessTransport(ctx)!("{}", { kind: "query" })).text();
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
