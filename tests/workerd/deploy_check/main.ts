/**
 * `deno task deploy:check`: is the example ready for `wrangler deploy`, as one worker?
 *
 * Offline, in `examples/chat`: installs the app (its lock plus the packed `@lunora/astro`,
 * rebuilt when stale), runs `astro build`, then `wrangler deploy --dry-run --outdir`, which
 * bundles and validates everything a deploy would upload without contacting Cloudflare. It then
 * checks what would be deployed:
 *
 * - one worker: the adapter redirects wrangler to one built config with no auxiliary workers,
 *   no binding points at another worker, and wrangler reports one upload;
 * - the `SHARD` Durable Object binding to `ShardDO`, with its `new_sqlite_classes` migration;
 * - `ShardDO` exported from the uploaded entry module (else the deploy is refused);
 * - the bindings the Cloudflare adapter adds by itself (`SESSION` KV, `IMAGES`) and the app's
 *   D1 database (`AUTH_DB`) with its migrations directory;
 * - no compatibility flags beyond the date (Node.js compatibility is on by date);
 * - the upload size wrangler reports, under Workers' 3 MiB (gzip) free-plan limit.
 * - none of the tests' machinery in the upload: the example is deployed as it ships, and the
 *   fault functions, probes, RPC counter and throwing page live in the test harness
 *   (`../example_under_test/`), which the end-to-end and soak runs lay over a copy.
 *
 * Ends with a plain `N passed, M failed` line; exits non-zero on any failure.
 *
 * @module
 */
import { join, relative } from "node:path";
import {
  buildApp,
  installApp,
  lockTree,
  nodeEnv,
  ROOT,
  TARBALL,
  tarballIsFresh,
} from "../example_app.ts";
import { assert, Report, runScript } from "../report.ts";
import { run } from "../process.ts";

const APP = join(ROOT, "examples", "chat");
const OUT = join(ROOT, ".out", "deploy");
const BUNDLE = join(OUT, "bundle");
/**
 * Strings only the test harness's additions to the app contain (fault functions and probes,
 * the RPC counter, the throwing page).
 */
const TEST_ONLY = [
  "faults:",
  "probes:",
  "fault_attempts",
  "rpcRequests",
  "/_lunora/admin/stats",
  "this page always fails",
];
/** Workers' limit for a free-plan upload, after gzip. */
const FREE_PLAN_GZIP_KIB = 3 * 1024;

/** The parts of a wrangler config this check reads. */
interface WranglerConfig {
  name?: string;
  main?: string;
  compatibility_date?: string;
  compatibility_flags?: string[];
  durable_objects?: { bindings?: { name: string; class_name: string; script_name?: string }[] };
  migrations?: { tag: string; new_sqlite_classes?: string[]; new_classes?: string[] }[];
  kv_namespaces?: { binding: string }[];
  d1_databases?: { binding: string; database_name?: string; migrations_dir?: string }[];
  images?: { binding: string };
  services?: unknown[];
}

/** `.wrangler/deploy/config.json`: where `astro build` redirects plain wrangler commands. */
interface DeployRedirect {
  configPath: string;
  auxiliaryWorkers?: unknown[];
}

const report = new Report();

function readJson<T>(path: string): T {
  return JSON.parse(Deno.readTextFileSync(path)) as T;
}

/** The names an ES module exports, from its `export { a, b as c }` statements. */
function exportedNames(source: string): string[] {
  const names: string[] = [];
  for (const match of source.matchAll(/export\s*\{([^}]*)\}/g)) {
    for (const item of match[1]!.split(",")) {
      const name = item.trim().split(/\s+as\s+/).at(-1)?.trim();
      if (name) names.push(name);
    }
  }
  for (const match of source.matchAll(/export\s+(?:class|function|const|let|var)\s+([\w$]+)/g)) {
    names.push(match[1]!);
  }
  return names;
}

/** `Total Upload: 1234.56 KiB / gzip: 234.56 KiB` from wrangler's output, in KiB. */
function uploadSize(output: string): { total: number; gzip: number } | undefined {
  const match = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(output);
  return match ? { total: Number(match[1]), gzip: Number(match[2]) } : undefined;
}

function listFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) files.push(...listFiles(path));
    else files.push(path);
  }
  return files;
}

async function main(): Promise<void> {
  await lockTree();
  await Deno.remove(OUT, { recursive: true }).catch(() => {});
  Deno.mkdirSync(OUT, { recursive: true });
  const env = await report.step("Node 22 from npm (scripts/ensure_node22.sh)", nodeEnv);
  await report.step("npm package (reused when fresh)", async () => {
    if (tarballIsFresh()) return;
    await run([Deno.execPath(), "task", "build:npm"], { cwd: ROOT });
    assert(tarballIsFresh(), `deno task build:npm wrote no fresh ${TARBALL}`);
  });
  await report.step("npm install (lock + tarball)", () => installApp(APP, env));
  await report.step("astro build", () => buildApp(APP, env));

  // Offline: no account, no token; wrangler validates and bundles, then stops.
  const wrangler = join(APP, "node_modules", ".bin", "wrangler");
  const dryEnv = { ...env, WRANGLER_LOG_PATH: join(OUT, "wrangler-logs") };
  const output = await report.step(
    "wrangler deploy --dry-run",
    () => run([wrangler, "deploy", "--dry-run", "--outdir", BUNDLE], { cwd: APP, env: dryEnv }),
  );
  Deno.writeTextFileSync(join(OUT, "dry-run.txt"), output);

  const redirect = readJson<DeployRedirect>(join(APP, ".wrangler", "deploy", "config.json"));
  const configPath = join(APP, ".wrangler", "deploy", redirect.configPath);
  const config = readJson<WranglerConfig>(configPath);
  const entry = join(BUNDLE, config.main ?? "entry.mjs");

  await report.check("deploy: one worker (no auxiliary workers, one upload)", () => {
    assert(
      (redirect.auxiliaryWorkers ?? []).length === 0,
      `auxiliary workers: ${JSON.stringify(redirect.auxiliaryWorkers)}`,
    );
    assert((config.services ?? []).length === 0, "the worker binds other workers");
    assert(
      !(config.durable_objects?.bindings ?? []).some((b) => b.script_name),
      "a Durable Object binding points at another worker",
    );
    const modules = listFiles(BUNDLE).filter((file) => /\.m?js$/.test(file));
    assert(modules.includes(entry), `the upload lacks its entry ${relative(ROOT, entry)}`);
    const uploads = output.match(/Total Upload:/g)?.length ?? 0;
    assert(uploads === 1, `wrangler reported ${uploads} uploads`);
    assert(/--dry-run: exiting now/.test(output), "wrangler did not finish the dry run");
    return `worker "${config.name}", entry ${relative(APP, configPath)} -> ${
      relative(ROOT, entry)
    }, ${modules.length} modules`;
  });

  await report.check("deploy: SHARD binds ShardDO with a SQLite migration", () => {
    const shard = config.durable_objects?.bindings?.find((b) => b.name === "SHARD");
    assert(shard?.class_name === "ShardDO", `SHARD binding: ${JSON.stringify(shard)}`);
    assert(
      config.migrations?.some((m) => m.new_sqlite_classes?.includes("ShardDO")),
      `migrations: ${JSON.stringify(config.migrations)}`,
    );
    assert(/env\.SHARD\s+\(ShardDO\)/.test(output), "wrangler did not report env.SHARD (ShardDO)");
    return `env.SHARD (ShardDO), migration ${
      config.migrations?.map((m) => `${m.tag}: new_sqlite_classes ${m.new_sqlite_classes}`)
    }`;
  });

  await report.check("deploy: the entry module exports the ShardDO class", () => {
    const names = exportedNames(Deno.readTextFileSync(entry));
    assert(names.includes("ShardDO"), `the entry exports ${names.join(", ")}`);
    assert(names.includes("default"), "the entry has no default export");
    return `${relative(ROOT, entry)} exports ${names.join(", ")}`;
  });

  await report.check(
    "deploy: bindings (adapter's SESSION, IMAGES, ASSETS; app's AUTH_DB D1)",
    () => {
      const kv = config.kv_namespaces?.map((k) => k.binding) ?? [];
      assert(kv.includes("SESSION"), `KV bindings: ${kv.join(", ")}`);
      assert(config.images?.binding === "IMAGES", `images: ${JSON.stringify(config.images)}`);
      const d1 = config.d1_databases?.find((d) => d.binding === "AUTH_DB");
      assert(d1?.migrations_dir, `AUTH_DB: ${JSON.stringify(d1)}`);
      const migrations = join(
        APP,
        ".wrangler",
        "deploy",
        redirect.configPath,
        "..",
        d1.migrations_dir,
      );
      const sql = [...Deno.readDirSync(migrations)].filter((e) => e.name.endsWith(".sql"));
      assert(sql.length > 0, `no .sql migrations in ${migrations}`);
      for (const name of ["env.SHARD", "env.SESSION", "env.AUTH_DB", "env.IMAGES", "env.ASSETS"]) {
        assert(output.includes(name), `wrangler did not report ${name}`);
      }
      return `SESSION (KV), IMAGES, ASSETS, AUTH_DB (D1 ${d1.database_name}, ${sql.length} migration(s)), SHARD`;
    },
  );

  await report.check("deploy: no compatibility flags; Node.js compatibility by date", () => {
    const flags = config.compatibility_flags ?? [];
    assert(flags.length === 0, `compatibility_flags: ${flags.join(", ")}`);
    assert(
      (config.compatibility_date ?? "") >= "2026-08-04",
      `compatibility_date ${config.compatibility_date} predates Node.js compatibility by default`,
    );
    return `compatibility_date ${config.compatibility_date}`;
  });

  await report.check("deploy: the upload carries none of the tests' machinery", () => {
    const modules = listFiles(BUNDLE).filter((file) => /\.m?js$/.test(file));
    const found = new Set<string>();
    for (const file of modules) {
      const text = Deno.readTextFileSync(file);
      for (const marker of TEST_ONLY) if (text.includes(marker)) found.add(marker);
    }
    assert(found.size === 0, `the upload contains ${[...found].map((m) => `"${m}"`).join(", ")}`);
    return `${modules.length} modules, none with ${TEST_ONLY.map((m) => `"${m}"`).join(", ")}`;
  });

  await report.check("deploy: upload size under the free plan's 3 MiB gzip", () => {
    const size = uploadSize(output);
    assert(size, "wrangler reported no Total Upload");
    assert(size.gzip < FREE_PLAN_GZIP_KIB, `gzip ${size.gzip} KiB`);
    return `Total Upload ${size.total} KiB / gzip ${size.gzip} KiB`;
  });
}

await runScript(report, "deploy check", main, () => Promise.resolve());
