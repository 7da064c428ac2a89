/**
 * Cold path: loading and evaluating `mod.ts` and `server.ts` in a fresh isolate. Each iteration
 * starts a new `Worker`; once it is up it imports the entry and reports back. Only the import is
 * timed (explicit timers from "started" to "evaluated"), so worker start-up is left out; the
 * baseline imports an empty module, so `entry − baseline` is the entry's own cost.
 *
 * Two forms of each entry:
 * - the Deno module graph (one file per module, transpiled code from Deno's cache), as
 *   `deno run` or a JSR consumer loads it;
 * - one file made by `deno bundle` (not minified), as a worker bundle ships it: the server
 *   helpers whole, and `withLunora` with what it imports (a worker does not bundle the
 *   build-time integration).
 *
 *   deno bench --allow-read --allow-write --allow-run bench/cold_start_bench.ts
 *
 * @module
 */

const here = new URL("./_cold/", import.meta.url);
const root = new URL("../", import.meta.url);
const bundles = await Deno.makeTempDir({ prefix: "lunora-cold-" });
globalThis.addEventListener("unload", () => Deno.removeSync(bundles, { recursive: true }));

async function bundle(entry: string): Promise<URL> {
  const output = `${bundles}/${entry.replace(/\.ts$/, ".js")}`;
  const source = new URL(entry, here).pathname;
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "browser", "-o", output, source],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    const detail = new TextDecoder().decode(stderr);
    throw new Error(`bench setup: deno bundle ${entry} failed: ${detail}`);
  }
  return new URL(`file://${output}`);
}

const modules = {
  nothing: new URL("nothing.ts", here),
  mod: new URL("mod.ts", root),
  server: new URL("server.ts", root),
  bundledServer: await bundle("server.ts"),
  bundledWithLunora: await bundle("with_lunora.ts"),
};

/** Starts a worker that imports `module`; times the import only. */
function coldImport(module: URL, b: Deno.BenchContext): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("host.ts", here), { type: "module", name: module.href });
    worker.onmessage = (event) => {
      if (event.data === "started") return b.start();
      b.end();
      worker.terminate();
      resolve();
    };
    worker.onerror = (event) => {
      event.preventDefault();
      worker.terminate();
      reject(new Error(`bench setup: importing ${module} failed: ${event.message}`));
    };
  });
}

const groups = {
  "cold start: Deno module graph": [
    ["import an empty module", modules.nothing],
    ["import server.ts", modules.server],
    ["import mod.ts", modules.mod],
  ],
  "cold start: one bundled file": [
    ["import an empty module ", modules.nothing],
    ["import bundled server.ts", modules.bundledServer],
    ["import bundled withLunora", modules.bundledWithLunora],
  ],
} as const;

for (const [group, benches] of Object.entries(groups)) {
  benches.forEach(([name, module], index) => {
    Deno.bench(name, { group, baseline: index === 0, n: 150, warmup: 15 }, async (b) => {
      await coldImport(module, b);
    });
  });
}
