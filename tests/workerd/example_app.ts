/**
 * Installing, building and serving an example app for the runs on workerd: Node 22 from npm,
 * the packed `@lunora/astro` tarball, `astro build`, then `wrangler dev` on workerd.
 *
 * @module
 */
import { join } from "node:path";
import { assert } from "./report.ts";
import { GroupProcess, run, waitFor } from "./process.ts";
import { STARTUP_MS } from "./waits.ts";

/** The repository root. */
export const ROOT: string = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
/** The tarball `deno task build:npm` packs and the examples install. */
export const TARBALL: string = join(ROOT, ".out", "lunora-astro.tgz");
/** Where the test writes logs, state and screenshots. */
export const OUT: string = join(ROOT, ".out", "e2e");

/** Environment for Node, npm, Astro and wrangler: Node 22 first on PATH, everything offline. */
export async function nodeEnv(): Promise<Record<string, string>> {
  const { code, stdout } = await new Deno.Command("bash", {
    args: [join(ROOT, "scripts", "ensure_node22.sh")],
    stderr: "inherit",
  }).output();
  if (code !== 0) throw new Error("scripts/ensure_node22.sh failed");
  const bin = new TextDecoder().decode(stdout).trim();
  return {
    PATH: `${bin}:${Deno.env.get("PATH") ?? ""}`,
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_SEND_METRICS: "false",
    ASTRO_TELEMETRY_DISABLED: "1",
    CI: "true",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
    WRANGLER_LOG_PATH: join(OUT, "wrangler-logs"),
  };
}

function newestMtime(path: string): number {
  const info = Deno.statSync(path);
  if (!info.isDirectory) return info.mtime?.getTime() ?? Infinity;
  let newest = 0;
  for (const entry of Deno.readDirSync(path)) {
    newest = Math.max(newest, newestMtime(join(path, entry.name)));
  }
  return newest;
}

/** True when the tarball exists and is newer than every source the npm build reads. */
export function tarballIsFresh(): boolean {
  let packed: number;
  try {
    packed = Deno.statSync(TARBALL).mtime?.getTime() ?? 0;
  } catch {
    return false;
  }
  const builder = ["scripts/build_npm.ts", "scripts/npm"];
  const sources = [
    "mod.ts",
    "server.ts",
    "middleware.ts",
    "toolbar.ts",
    "deno.json",
    "src",
    "README.md",
    "LICENSE",
    ...builder,
  ];
  return sources.every((name) => {
    try {
      return newestMtime(join(ROOT, name)) < packed;
    } catch {
      return true; // a source that does not exist cannot be newer
    }
  });
}

/**
 * Builds the npm package (`deno task build:npm`, which packs {@linkcode TARBALL}) unless the
 * tarball is fresh; returns which it did.
 */
export async function ensureTarball(): Promise<string> {
  if (tarballIsFresh()) return "reused .out/lunora-astro.tgz (newer than every source)";
  await run([Deno.execPath(), "task", "build:npm"], { cwd: ROOT });
  assert(tarballIsFresh(), `deno task build:npm wrote no fresh ${TARBALL}`);
  return "built .out/lunora-astro.tgz";
}

/**
 * Installs the app's locked dependencies plus the current tarball. `--no-save` keeps the
 * committed lock untouched; removing the installed copy first makes npm unpack the tarball anew.
 */
export async function installApp(appDir: string, env: Record<string, string>): Promise<void> {
  const lock = Deno.readTextFileSync(join(appDir, "package-lock.json"));
  const entry = /"node_modules\/@lunora\/astro": \{[^}]*\}/.exec(lock)?.[0] ?? "";
  // An integrity hash would make npm reuse its cached copy of an older tarball.
  assert(
    entry.includes('"resolved": "file:') && !entry.includes('"integrity"'),
    `${appDir}/package-lock.json must lock @lunora/astro to the tarball without "integrity"`,
  );
  await Deno.remove(join(appDir, "node_modules", "@lunora"), { recursive: true }).catch(() => {});
  await run(
    ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error"],
    { cwd: appDir, env },
  );
}

/** Every file under `dir`, as paths relative to it, sorted. */
export function listFiles(dir: string, prefix = ""): string[] {
  const files: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory) files.push(...listFiles(join(dir, entry.name), rel));
    else files.push(rel);
  }
  return files.sort();
}

/**
 * Checks the installed `@lunora/astro` is a real directory (not a link) holding exactly what
 * the tarball holds, byte for byte (so neither a stale tarball nor npm's cache slipped in).
 */
export async function assertInstalledTarball(appDir: string): Promise<string> {
  const installed = join(appDir, "node_modules", "@lunora", "astro");
  const info = Deno.lstatSync(installed);
  assert(info.isDirectory && !info.isSymlink, `${installed} must be a real directory`);
  const unpacked = await Deno.makeTempDir({ prefix: "lunora-tgz-" });
  try {
    await run(["tar", "-xzf", TARBALL, "-C", unpacked]);
    const packed = join(unpacked, "package");
    const files = listFiles(packed);
    for (const file of files) {
      const a = Deno.readFileSync(join(packed, file));
      let b: Uint8Array;
      try {
        b = Deno.readFileSync(join(installed, file));
      } catch {
        throw new Error(`the installed package lacks ${file}`);
      }
      assert(
        a.length === b.length && a.every((byte, i) => byte === b[i]),
        `installed ${file} differs from the tarball's: npm installed an older build`,
      );
    }
    return `${files.length} files identical to ${TARBALL.slice(ROOT.length + 1)}`;
  } finally {
    await Deno.remove(unpacked, { recursive: true });
  }
}

/**
 * Type-checks the app's TypeScript (worker, shard, island, and the `extra` files, e.g. a test
 * entry laid over it) against the installed packages: the packed `.d.ts` of `@lunora/astro`
 * and the adapter's own types.
 */
export async function typeCheckApp(
  appDir: string,
  extra: readonly string[] = [],
): Promise<string> {
  // session_types.ts: getServerSession keeps better-auth's own user/session types. The React
  // island type-checks against the installed react and @nanostores/react types, the scripts
  // against the packed `@lunora/astro/client`. (auth_forms.ts imports Astro's virtual
  // `astro:transitions/client`, which only `astro build` resolves.)
  const files = [
    "src/worker.ts",
    "src/client/chat.ts",
    "src/client/announcer.ts",
    "src/components/ChannelView.tsx",
    "src/auth/session_types.ts",
    ...extra,
  ];
  await run([Deno.execPath(), "check", "--quiet", ...files], { cwd: appDir });
  return `deno check ${files.join(" ")}`;
}

/** Runs `astro build` in the app; returns the lines the `lunora()` integration logged. */
export async function buildApp(appDir: string, env: Record<string, string>): Promise<string[]> {
  const output = await run([join(appDir, "node_modules", ".bin", "astro"), "build"], {
    cwd: appDir,
    env,
  });
  return output.split("\n").filter((line) => line.includes("[@lunora/astro]"));
}

/** A running `wrangler dev`. */
export interface Server {
  origin: string;
  port: number;
  process: GroupProcess;
}

/** Options of {@linkcode startApp}. */
export interface StartOptions {
  port: number;
  persistTo: string;
  adminToken: string;
  logPath: string;
  /**
   * better-auth's `BETTER_AUTH_SECRET`. Default: one random secret per test process, so
   * sessions made before a restart stay valid after it.
   */
  authSecret?: string;
  /** More `--var NAME:value` bindings (e.g. `LUNORA_API_URL`). */
  vars?: Record<string, string>;
  /**
   * The port of wrangler's DevTools inspector proxy, on 127.0.0.1 (`--inspector-port`).
   * Default: wrangler's own choice.
   */
  inspectorPort?: number;
}

/** The default `BETTER_AUTH_SECRET` of every server this process starts. */
const AUTH_SECRET = `${crypto.randomUUID()}${crypto.randomUUID()}`.replaceAll("-", "");

/**
 * Applies the app's D1 migrations (better-auth's schema) to the local database under
 * `persistTo`, as `wrangler d1 migrations apply AUTH_DB --local` would before `wrangler dev`.
 * Already applied migrations are skipped, so this is safe before every start.
 */
export async function applyAuthMigrations(
  appDir: string,
  env: Record<string, string>,
  persistTo: string,
): Promise<string> {
  const output = await run([
    join(appDir, "node_modules", ".bin", "wrangler"),
    "d1",
    "migrations",
    "apply",
    "AUTH_DB",
    "--local",
    "--persist-to",
    persistTo,
  ], { cwd: appDir, env });
  return /No migrations to apply/.test(output) ? "up to date" : "applied";
}

/**
 * Applies the auth migrations, starts `wrangler dev` on workerd and waits until
 * `/_lunora/status` answers.
 */
export async function startApp(
  appDir: string,
  env: Record<string, string>,
  options: StartOptions,
): Promise<Server> {
  await applyAuthMigrations(appDir, env, options.persistTo);
  const vars = { BETTER_AUTH_SECRET: options.authSecret ?? AUTH_SECRET, ...options.vars };
  const cmd = [
    join(appDir, "node_modules", ".bin", "wrangler"),
    "dev",
    "--local",
    "--ip",
    "127.0.0.1",
    "--port",
    String(options.port),
    "--show-interactive-dev-session=false",
    "--persist-to",
    options.persistTo,
    "--var",
    `LUNORA_ADMIN_TOKEN:${options.adminToken}`,
    ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
    ...(options.inspectorPort === undefined
      ? []
      : ["--inspector-ip", "127.0.0.1", "--inspector-port", String(options.inspectorPort)]),
  ];
  return await serve("wrangler dev", cmd, { cwd: appDir, env, ...options }, STARTUP_MS);
}

/** How {@linkcode serve} runs a server. */
export interface ServeOptions {
  cwd: string;
  env: Record<string, string>;
  port: number;
  logPath: string;
  /** The path that answers 200 once the server is ready. Default: `/_lunora/status`. */
  readyPath?: string;
}

/**
 * Starts `cmd` (a server listening on 127.0.0.1:`port`) in its own process group and waits until
 * `/_lunora/status` (or `readyPath`) answers 200. If it exits or times out first, it is stopped and the error
 * carries the tail of its log.
 */
export async function serve(
  name: string,
  cmd: string[],
  options: ServeOptions,
  timeoutMs: number,
): Promise<Server> {
  const process = new GroupProcess(cmd, options.logPath, { cwd: options.cwd, env: options.env });
  const origin = `http://127.0.0.1:${options.port}`;
  const readyPath = options.readyPath ?? "/_lunora/status";
  let exited = false;
  process.status.then(() => exited = true);
  try {
    const state = await waitFor(
      `${name} to answer ${readyPath}`,
      async () => {
        if (exited) return "exited";
        const response = await fetch(`${origin}${readyPath}`);
        await response.body?.cancel();
        return response.status === 200 ? "ready" : undefined;
      },
      timeoutMs,
      200,
    );
    if (state === "exited") throw new Error(`${name} exited before it was ready`);
  } catch (error) {
    await process.stop();
    const tail = process.log().split("\n").slice(-25).join("\n");
    throw new Error(
      `${error instanceof Error ? error.message : error}; log ${options.logPath}:\n${tail}`,
    );
  }
  return { origin, port: options.port, process };
}

/**
 * Takes the exclusive lock that serializes runs in one tree (`.out/e2e.lock`): e2e and soak
 * share the example's `node_modules` and `dist/`. Held until the process exits.
 */
export async function lockTree(): Promise<Deno.FsFile> {
  Deno.mkdirSync(join(ROOT, ".out"), { recursive: true });
  const file = await Deno.open(join(ROOT, ".out", "e2e.lock"), { create: true, write: true });
  const started = performance.now();
  await file.lock(true);
  const waited = (performance.now() - started) / 1000;
  if (waited > 1) console.log(`waited ${waited.toFixed(0)} s for another run in this tree`);
  return file;
}

/**
 * The servers a script started, so each is stopped by process group however the script ends
 * (Ctrl-C included).
 */
export class ServerSet {
  readonly #running = new Set<Server>();

  constructor() {
    Deno.addSignalListener("SIGINT", async () => {
      await this.stopAll();
      Deno.exit(130);
    });
  }

  /** {@linkcode startApp}, remembered until stopped. */
  async start(appDir: string, env: Record<string, string>, options: StartOptions): Promise<Server> {
    const server = await startApp(appDir, env, options);
    this.#running.add(server);
    console.log(`wrangler dev (pid ${server.process.pid}) ready at ${server.origin}`);
    return server;
  }

  /** Stops one server and its process group. */
  async stop(server: Server): Promise<void> {
    await server.process.stop();
    this.#running.delete(server);
  }

  /** Stops every server still running. */
  async stopAll(): Promise<void> {
    for (const server of this.#running) await this.stop(server);
  }
}
