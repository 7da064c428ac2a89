/**
 * `deno task astro:add`: does `npx astro add @lunora/astro` work, the way an Astro user meets an
 * integration?
 *
 * 1. Node 22 from npm, the npm build of this package (`.out/lunora-astro.tgz`, reused when fresh)
 *    and verdaccio from npm (pinned, installed once into `.tools/`).
 * 2. A hand-written Astro 7 + `@astrojs/cloudflare` 14 project (`tests/fixtures/astro_add/project`,
 *    with `wrangler.jsonc` as `astro add cloudflare` scaffolds it, no worker entry, no shard) is
 *    copied to `.out/astro-add/app` and installed from its lock (npm's cache, and the
 *    `node_modules` of an earlier run pruned to the lock, make this quick after the first run).
 * 3. verdaccio on a free loopback port (storage in a temporary directory, `@lunora/*` only from
 *    what is published to it, the rest proxied to the npm registry npm is configured with); the
 *    tarball is published to it.
 * 4. `npx astro add @lunora/astro --yes` against that registry: it installs the published package
 *    and writes `import lunora from "@lunora/astro"` and `lunora()` into `astro.config.mjs`.
 * 5. `astro build` prints the integration's wiring warnings, each with its fix; the run applies
 *    the printed fixes as a user would (the files they show, the wrangler keys they name, the
 *    shard class they say to export, from `tests/fixtures/astro_add/shard_do.ts`).
 *    Before that, `wrangler dev` on the unwired build answers the page but not `/_lunora/status`.
 * 6. `astro build` again prints no Lunora warning, and `wrangler dev` on a free port serves
 *    `/_lunora/status`, the page and an RPC answered by the shard class.
 * 7. The same project without `wrangler.jsonc` and the worker: the warnings show a whole
 *    `wrangler.jsonc` and ask for the user's `name` and `compatibility_date` and the shard class
 *    export; followed, the build is clean and the worker serves the same three.
 *
 * Every process it starts is stopped by process group. Logs go to `.out/astro-add/`. Ends with a
 * plain `N passed, M failed` line; exits non-zero on any failure.
 *
 * @module
 */
import { STARTUP_MS } from "../waits.ts";
import { join } from "node:path";
import {
  assertInstalledTarball,
  ensureTarball,
  nodeEnv,
  ROOT,
  serve,
  type Server,
  TARBALL,
} from "../example_app.ts";
import { freePort, run } from "../process.ts";
import { assert, Report, runScript } from "../report.ts";
import { rpc } from "../client.ts";
import {
  workerSnippet,
  wranglerMainSnippet,
  wranglerSnippet,
} from "../../../src/integration/fix_snippets.ts";
import { ensureVerdaccio, LocalRegistry } from "./registry.ts";
import {
  applyFix,
  exportClass,
  fillUserValues,
  lunoraMessages,
  splitWarning,
  type Warning,
} from "./fixes.ts";
import { parse } from "jsonc-parser";

const FIXTURE = join(ROOT, "tests", "fixtures", "astro_add");
const OUT = join(ROOT, ".out", "astro-add");
const APP = join(OUT, "app");
const VERSION = (JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))) as { version: string })
  .version;

const report = new Report();
let registry: LocalRegistry | undefined;
let server: Server | undefined;

/** A warning a build must print: what its problem sentence says, and its exact fix. */
interface Expected {
  problem: RegExp;
  fix: string;
}

const SHARD = { binding: "SHARD", className: "ShardDO", tag: "v1" };

/** The warnings the first build must print, in the integration's order, with their fixes. */
const EXPECTED: Expected[] = [
  {
    problem: /^Server entry "src\/worker\.ts" does not exist/,
    fix: workerSnippet("src/worker.ts"),
  },
  {
    problem:
      /^wrangler\.jsonc "main" is "@astrojs\/cloudflare\/entrypoints\/server", not the server/,
    fix: wranglerMainSnippet("jsonc", "src/worker.ts"),
  },
  {
    problem: /^wrangler\.jsonc has no Durable Object binding "SHARD".* export the ShardDO class/,
    fix: wranglerSnippet("jsonc", undefined, SHARD),
  },
];

/** The warnings of a project with the integration but no wrangler config and no entry. */
const NO_WRANGLER: Expected[] = [
  EXPECTED[0]!,
  {
    problem:
      /^No wrangler\.jsonc, .*with your "name", "compatibility_date" and the lines below, and export the ShardDO class from src\/worker\.ts:$/s,
    fix: wranglerSnippet("jsonc", "src/worker.ts", SHARD),
  },
];

async function build(env: Record<string, string>): Promise<Warning[]> {
  const output = await run([join(APP, "node_modules", ".bin", "astro"), "build"], {
    cwd: APP,
    env,
  });
  return lunoraMessages(output).map(splitWarning);
}

/** `wrangler dev` on the app's build, on a free port, ready once `readyPath` answers 200. */
function wranglerDev(env: Record<string, string>, readyPath?: string): Promise<Server> {
  const port = freePort();
  const cmd = [
    join(APP, "node_modules", ".bin", "wrangler"),
    "dev",
    "--local",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--show-interactive-dev-session=false",
    "--persist-to",
    join(OUT, "state"),
  ];
  const logPath = join(OUT, `wrangler-dev-${port}.log`);
  return serve("wrangler dev", cmd, { cwd: APP, env, port, logPath, readyPath }, STARTUP_MS);
}

/** Throws unless `warnings` are the `expected` ones, in order, each with its exact fix. */
function checkWarnings(warnings: Warning[], expected: Expected[]): void {
  const shown = warnings.map((w) => w.problem.split("\n")[0]).join("\n  ");
  assert(warnings.length === expected.length, `${warnings.length} warnings:\n  ${shown}`);
  expected.forEach((want, i) => {
    const warning = warnings[i]!;
    assert(want.problem.test(warning.problem), `warning ${i + 1}: ${warning.problem}`);
    assert(
      warning.fix === want.fix,
      `warning ${i + 1}'s fix is not the integration's snippet:\n${warning.fix}`,
    );
  });
}

/**
 * Does what the warnings say, as a user would: each fix applied, the keys they ask the user for
 * filled in from the fixture's own wrangler.jsonc, the shard class exported where they say.
 */
function applyFixes(warnings: Warning[]): Promise<string[]> {
  const userValues = parse(Deno.readTextFileSync(join(FIXTURE, "project", "wrangler.jsonc")));
  const done = warnings.map((warning) => applyFix(APP, warning));
  for (const warning of warnings) {
    const filled = fillUserValues(APP, warning, userValues);
    if (filled) done.push(filled);
    const exported = exportClass(APP, warning, join(FIXTURE, "shard_do.ts"), "shard_do.ts");
    if (exported) done.push(exported);
  }
  return Promise.resolve(done);
}

/** The wired worker answers `/_lunora/status`, the page, and an RPC through the shard. */
async function checkServed(label: string, origin: string): Promise<void> {
  await report.check(`${label}: the worker serves /_lunora/status`, async () => {
    const response = await fetch(`${origin}/_lunora/status`);
    const body = await response.text();
    assert(response.status === 200 && body === `{"ok":true}`, `${response.status} ${body}`);
    return `200 ${body}`;
  });
  await report.check(`${label}: the worker serves the Astro page`, async () => {
    const response = await fetch(`${origin}/`);
    const html = await response.text();
    assert(response.status === 200, `GET / answered ${response.status}`);
    assert(response.headers.get("content-type")?.startsWith("text/html"), "not HTML");
    assert(html.includes("<h1>Hello from Astro on Cloudflare</h1>"), `page:\n${html}`);
    return `200 text/html, ${html.length} bytes`;
  });
  await report.check(
    `${label}: an RPC reaches the ShardDO class the fix said to export`,
    async () => {
      const answer = await rpc(origin, { functionPath: "greetings:hello" });
      assert(
        answer.status === 200 && answer.body?.result?.answeredBy === "ShardDO" &&
          answer.body.result.functionPath === "greetings:hello",
        `POST /_lunora/rpc answered ${answer.status} ${JSON.stringify(answer.body)}`,
      );
      const shard = answer.headers.get("x-lunora-shard-key");
      assert(shard === "__root__", `x-lunora-shard-key: ${shard}`);
      return `200 ${JSON.stringify(answer.body)}, x-lunora-shard-key ${shard}`;
    },
  );
}

async function main(): Promise<void> {
  // Everything from an earlier run goes but the project's node_modules (installed from the same
  // lock, and pruned to it below); what astro add installed and build caches go with the rest.
  Deno.mkdirSync(APP, { recursive: true });
  for (const entry of Deno.readDirSync(OUT)) {
    if (entry.name !== "app") await Deno.remove(join(OUT, entry.name), { recursive: true });
  }
  for (const entry of Deno.readDirSync(APP)) {
    if (entry.name !== "node_modules") {
      await Deno.remove(join(APP, entry.name), { recursive: true });
    }
  }
  for (const cache of ["@lunora", ".vite", ".astro"]) {
    await Deno.remove(join(APP, "node_modules", cache), { recursive: true }).catch(() => {});
  }
  const env = await report.step("Node 22 from npm (scripts/ensure_node22.sh)", nodeEnv);
  env.WRANGLER_LOG_PATH = join(OUT, "wrangler-logs");
  console.log(await report.step("npm package (deno task build:npm unless fresh)", ensureTarball));
  console.log(await report.step("verdaccio from npm", () => ensureVerdaccio(env)));

  await report.step("the project: fixture copied, installed from its lock", async () => {
    await run(["cp", "-R", `${join(FIXTURE, "project")}/.`, APP]);
    await run(
      ["npm", "install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"],
      { cwd: APP, env },
    );
  });

  const uplink = (await run(["npm", "config", "get", "registry"], { env })).trim();
  registry = await report.step(
    `verdaccio on 127.0.0.1, uplink ${uplink}`,
    () => LocalRegistry.start(env, uplink, join(OUT, "verdaccio.log")),
  );
  const local = registry;
  await report.step("npm publish .out/lunora-astro.tgz to it", () => local.publish(TARBALL));
  await report.check(
    "astro-add: the local registry serves the published @lunora/astro",
    async () => {
      const response = await fetch(`${local.url}/@lunora%2fastro`);
      const packument = await response.json() as {
        "dist-tags"?: { latest?: string };
        versions?: Record<string, { keywords?: string[]; dist?: { tarball?: string } }>;
      };
      assert(response.ok, `GET /@lunora%2fastro answered ${response.status}`);
      assert(packument["dist-tags"]?.latest === VERSION, `latest is not ${VERSION}`);
      const published = packument.versions?.[VERSION];
      assert(published?.keywords?.includes("astro-integration"), "no astro-integration keyword");
      const tarball = published?.dist?.tarball ?? "";
      assert(tarball.startsWith(local.url), `tarball at ${tarball}`);
      return `${VERSION}, keyword astro-integration, tarball ${tarball}`;
    },
  );

  const addEnv = { ...env, npm_config_registry: `${local.url}/` };
  const before = local.log().length;
  const added = await report.step(
    "npx astro add @lunora/astro --yes",
    () => run(["npx", "astro", "add", "@lunora/astro", "--yes"], { cwd: APP, env: addEnv }),
  );
  await report.check("astro-add: installs @lunora/astro from the local registry", async () => {
    assert(added.includes(`npm i @lunora/astro@^${VERSION}`), "astro add ran no npm i");
    const pkg = JSON.parse(Deno.readTextFileSync(join(APP, "package.json")));
    const range = pkg.dependencies?.["@lunora/astro"];
    assert(range === `^${VERSION}`, `package.json has @lunora/astro ${range}`);
    // Only what astro add asked for: astro reads the package's metadata, npm its packument.
    const served = local.log().slice(before).split("\n").filter((l) => / 200, .*@lunora/.test(l));
    for (const path of ["/@lunora/astro/latest", "/@lunora%2fastro"]) {
      assert(
        served.some((line) => line.includes(`'GET ${path}'`)),
        `verdaccio answered no GET ${path} during astro add:\n${served.join("\n")}`,
      );
    }
    return `"@lunora/astro": "${range}"; ${await assertInstalledTarball(APP)}`;
  });
  await report.check(
    "astro-add: astro.config.mjs imports the default export and calls lunora()",
    () => {
      const config = Deno.readTextFileSync(join(APP, "astro.config.mjs"));
      assert(
        /^import lunora from "@lunora\/astro";$/m.test(config),
        `no default import:\n${config}`,
      );
      assert(/integrations: \[lunora\(\)\]/.test(config), `lunora() is not called:\n${config}`);
      return `import lunora from "@lunora/astro"; integrations: [lunora()]`;
    },
  );

  const first = await report.step("astro build (not wired yet)", () => build(env));
  await report.check(
    "astro-add: astro build warns about the wiring, a fix with each warning",
    () => {
      checkWarnings(first, EXPECTED);
      return `${first.length} warnings: ${first.map((w) => w.problem.split(",")[0]).join("; ")}`;
    },
  );

  const unwired = await report.step(
    "wrangler dev on the unwired build",
    () => wranglerDev(env, "/"),
  );
  await report.check("astro-add: before the fixes, the worker has no /_lunora/status", async () => {
    try {
      const response = await fetch(`${unwired.origin}/_lunora/status`);
      const body = await response.text();
      assert(response.status === 404, `/_lunora/status answered ${response.status} ${body}`);
      return "404 from Astro, while / answers 200";
    } finally {
      await unwired.process.stop();
    }
  });

  const applied = await report.step("apply the printed fixes", () => applyFixes(first));
  console.log(applied.map((line) => `  ${line}`).join("\n"));

  const second = await report.step("astro build (fixes applied)", () => build(env));
  await report.check("astro-add: after the fixes, astro build prints no Lunora warning", () => {
    assert(second.length === 0, `still:\n${second.map((w) => w.problem).join("\n")}`);
    return applied.join("; ");
  });

  server = await report.step("wrangler dev on the built worker", () => wranglerDev(env));
  await checkServed("astro-add", server.origin);
  await server.process.stop();

  // A project without any wrangler config: the integration shows a whole wrangler.jsonc.
  await report.step("the same project without its wrangler.jsonc and worker", async () => {
    for (
      const path of ["wrangler.jsonc", "src/worker.ts", "src/shard_do.ts", "dist", ".wrangler"]
    ) {
      await Deno.remove(join(APP, path), { recursive: true });
    }
  });
  const bare = await report.step("astro build (no wrangler config)", () => build(env));
  await report.check("astro-add, no wrangler config: astro build warns, a fix with each", () => {
    checkWarnings(bare, NO_WRANGLER);
    return bare.map((w) => w.problem.split(",")[0]).join("; ");
  });
  const bareApplied = await report.step("apply the printed fixes", () => applyFixes(bare));
  console.log(bareApplied.map((line) => `  ${line}`).join("\n"));
  const bareSecond = await report.step("astro build (fixes applied)", () => build(env));
  await report.check(
    "astro-add, no wrangler config: after the fixes, astro build prints no Lunora warning",
    () => {
      assert(bareSecond.length === 0, `still:\n${bareSecond.map((w) => w.problem).join("\n")}`);
      return bareApplied.join("; ");
    },
  );
  server = await report.step("wrangler dev on the built worker", () => wranglerDev(env));
  await checkServed("astro-add, no wrangler config", server.origin);
}

await runScript(report, "astro add", main, async () => {
  await server?.process.stop();
  await registry?.stop();
});
