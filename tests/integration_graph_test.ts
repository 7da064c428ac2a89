/**
 * A worker bundle imports `withLunora` from `@lunora/astro` (mod.ts), which also exports the
 * build-time `lunora()` integration. These tests read the module graph Deno resolves and prove
 * that the modules loaded statically from mod.ts and server.ts include no `node:` module, no npm
 * package (the wrangler config parsers) and none of the integration's file-system code: all of
 * that sits behind the hook's dynamic `import()`.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

interface Dependency {
  specifier: string;
  code?: { specifier: string };
  isDynamic?: boolean;
}

interface GraphModule {
  specifier: string;
  dependencies?: Dependency[];
}

interface Graph {
  roots: string[];
  modules: GraphModule[];
}

async function moduleGraph(entry: string): Promise<Graph> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout));
}

/** The specifiers loaded at runtime, following only static (non-dynamic) import edges. */
function staticClosure(graph: Graph, from: string): Set<string> {
  const bySpecifier = new Map(graph.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const queue = [from];
  while (queue.length > 0) {
    const specifier = queue.pop()!;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    for (const dependency of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (!dependency.isDynamic && dependency.code) queue.push(dependency.code.specifier);
    }
  }
  return seen;
}

/** What a worker must never load statically. */
function forbidden(specifiers: Set<string>): string[] {
  return [...specifiers].filter((s) =>
    s.startsWith("node:") || s.startsWith("npm:") || /\/(check_project|wrangler_check)\.ts$/.test(s)
  );
}

Deno.test("mod.ts statically loads no node: module, npm parser or integration file-system code", async () => {
  const graph = await moduleGraph("mod.ts");
  const loaded = staticClosure(graph, graph.roots[0]!);
  assert.ok([...loaded].some((s) => s.endsWith("/src/integration/lunora.ts")), "lunora.ts loaded");
  assert.deepEqual(forbidden(loaded), []);
});

Deno.test("the integration reaches its file-system code only through a dynamic import", async () => {
  const graph = await moduleGraph("mod.ts");
  const lunora = graph.modules.find((m) => m.specifier.endsWith("/src/integration/lunora.ts"))!;
  const edge = lunora.dependencies?.find((d) => d.specifier === "./check_project.ts");
  assert.equal(edge?.isDynamic, true);
  // Past that edge the node: modules and parsers are there, so the check above can see them.
  const behind = forbidden(staticClosure(graph, edge!.code!.specifier));
  for (const expected of ["node:fs/promises", "node:path", "node:url"]) {
    assert.ok(behind.includes(expected), `${expected} is behind the dynamic import`);
  }
  const all = graph.modules.map((m) => m.specifier);
  assert.ok(all.some((s) => s.startsWith("npm:/jsonc-parser@")), "jsonc-parser is in the graph");
  assert.ok(all.some((s) => s.startsWith("npm:/smol-toml@")), "smol-toml is in the graph");
});

Deno.test("server.ts statically loads no node: module, npm package or integration code", async () => {
  const graph = await moduleGraph("server.ts");
  const loaded = staticClosure(graph, graph.roots[0]!);
  assert.deepEqual(forbidden(loaded), []);
  assert.deepEqual([...loaded].filter((s) => s.includes("/src/integration/")), []);
});
