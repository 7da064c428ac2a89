/**
 * The `locals` option of `lunora()` (spec §11): by default the integration registers the
 * `Astro.locals.lunora` middleware in `astro:config:setup` and declares its type with
 * `injectTypes` in `astro:config:done`; `locals: false` does neither.
 */
import assert from "node:assert/strict";
import { lunora } from "../mod.ts";
import type {
  AstroConfigDoneOptionsLike,
  AstroInjectedTypeLike,
  AstroIntegrationLike,
  AstroIntegrationMiddlewareLike,
} from "../mod.ts";
import { fakeLogger } from "./_fakes.ts";

const ROOT = new URL("../", import.meta.url);

interface Recorded {
  middleware: AstroIntegrationMiddlewareLike[];
  types: AstroInjectedTypeLike[];
  warnings: string[];
}

/** Runs both hooks the way Astro does, recording `addMiddleware` and `injectTypes`. */
async function runHooks(
  integration: AstroIntegrationLike,
  injectTypes: (type: AstroInjectedTypeLike) => unknown = () => new URL("file:///x.d.ts"),
): Promise<Recorded> {
  const recorded: Recorded = { middleware: [], types: [], warnings: [] };
  integration.hooks["astro:config:setup"]({
    command: "build",
    addMiddleware: (middleware) => void recorded.middleware.push(middleware),
  });
  const logger = fakeLogger();
  const done: AstroConfigDoneOptionsLike = {
    // A root that is not a file: URL: the wiring check warns once, and nothing else is read.
    config: { root: new URL("https://example.test/"), output: "server" },
    logger,
    injectTypes: (type) => {
      recorded.types.push(type);
      return injectTypes(type);
    },
  };
  await integration.hooks["astro:config:done"](done);
  recorded.warnings = logger.calls.warn.filter((w) => !w.startsWith("Could not check"));
  return recorded;
}

Deno.test("lunora() registers @lunora/astro/middleware with order pre in astro:config:setup", async () => {
  const { middleware } = await runHooks(lunora());
  assert.deepEqual(middleware, [{ order: "pre", entrypoint: "@lunora/astro/middleware" }]);
});

Deno.test("lunora() declares App.Locals.lunora with injectTypes in astro:config:done", async () => {
  const { types, warnings } = await runHooks(lunora({ locals: true }));
  assert.equal(types.length, 1);
  assert.equal(types[0]!.filename, "lunora.d.ts");
  assert.match(types[0]!.content, /^declare namespace App \{\n {2}interface Locals \{/);
  assert.match(types[0]!.content, /lunora: import\("@lunora\/astro\/server"\)\.ServerClient;/);
  assert.deepEqual(warnings, []);
});

Deno.test("lunora({ locals: false }) neither adds the middleware nor injects types", async () => {
  const { middleware, types } = await runHooks(lunora({ locals: false }));
  assert.deepEqual(middleware, []);
  assert.deepEqual(types, []);
});

Deno.test("lunora() rejects a locals option that is not a boolean with a TypeError", () => {
  for (
    const [value, shown] of [["yes", '"yes"'], [1, "1"], [null, "null"], [{}, "[object Object]"]]
  ) {
    assert.throws(() => lunora({ locals: value as boolean }), {
      name: "TypeError",
      message: `Cannot create the Lunora integration: "locals" must be a boolean, got ${shown}`,
    });
  }
});

Deno.test("a failing injectTypes becomes one warning and the wiring check still runs", async () => {
  const logger = fakeLogger();
  await lunora().hooks["astro:config:done"]({
    config: { root: new URL("https://example.test/"), output: "server" },
    logger,
    injectTypes: () => {
      throw new Error("filename must end in .d.ts");
    },
  });
  assert.deepEqual(logger.calls.warn.length, 2);
  assert.equal(
    logger.calls.warn[0],
    "Could not declare the type of Astro.locals.lunora: filename must end in .d.ts",
  );
  assert.match(logger.calls.warn[1]!, /^Could not check the Lunora wiring/);
});

Deno.test("the injected declaration types Astro.locals.lunora as the package's ServerClient", async () => {
  const { types } = await runHooks(lunora());
  const dir = await Deno.makeTempDir({ prefix: "lunora-locals-types-" });
  try {
    const server = new URL("server.ts", ROOT).href;
    await Deno.writeTextFile(
      `${dir}/deno.json`,
      JSON.stringify({
        imports: { "@lunora/astro/server": server },
        compilerOptions: { strict: true },
      }),
    );
    // Astro's own declaration of App.Locals, which the injected one merges into.
    await Deno.writeTextFile(
      `${dir}/astro.d.ts`,
      "declare namespace App { interface Locals {} }\n",
    );
    await Deno.writeTextFile(`${dir}/${types[0]!.filename}`, types[0]!.content);
    await Deno.writeTextFile(
      `${dir}/page.ts`,
      [
        '/// <reference path="./astro.d.ts" />',
        `/// <reference path="./${types[0]!.filename}" />`,
        'import type { ServerClient } from "@lunora/astro/server";',
        "declare const locals: App.Locals;",
        "export const client: ServerClient = locals.lunora;",
        "// @ts-expect-error: a ServerClient, not any",
        "export const wrong: number = locals.lunora;",
        "",
      ].join("\n"),
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "page.ts"],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
