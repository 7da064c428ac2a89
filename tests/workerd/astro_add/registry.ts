/**
 * A real npm registry on 127.0.0.1 for the `astro add` run: verdaccio from npm (pinned,
 * installed once into `.tools/`), its storage in a temporary directory, `@lunora/*` served only
 * from what is published to it, everything else proxied to the ordinary npm registry.
 *
 * @module
 */
import { STARTUP_MS } from "../waits.ts";
import { join } from "node:path";
import { ROOT } from "../example_app.ts";
import { freePort, GroupProcess, run, waitFor } from "../process.ts";
import { assert } from "../report.ts";

/** The verdaccio release the run uses (6.10 needs Node 22, which the run has). */
export const VERDACCIO_VERSION = "6.10.4";

const INSTALL_DIR = join(ROOT, ".tools", `verdaccio-${VERDACCIO_VERSION}`);
const BIN = join(INSTALL_DIR, "node_modules", ".bin", "verdaccio");

/** Installs the pinned verdaccio into `.tools/` unless it is there; returns what it did. */
export async function ensureVerdaccio(env: Record<string, string>): Promise<string> {
  try {
    Deno.statSync(BIN);
    return `reused ${BIN.slice(ROOT.length + 1)}`;
  } catch {
    // Not installed yet.
  }
  Deno.mkdirSync(INSTALL_DIR, { recursive: true });
  await run([
    "npm",
    "install",
    "--prefix",
    INSTALL_DIR,
    "--no-save",
    "--no-audit",
    "--no-fund",
    "--loglevel=error",
    `verdaccio@${VERDACCIO_VERSION}`,
  ], { env });
  Deno.statSync(BIN);
  return `installed verdaccio@${VERDACCIO_VERSION} into ${INSTALL_DIR.slice(ROOT.length + 1)}`;
}

/** The config: no web UI, requests logged, `@lunora/*` never proxied. */
function config(dir: string, uplink: string): string {
  return [
    `storage: ${join(dir, "storage")}`,
    `auth:`,
    `  htpasswd:`,
    `    file: ${join(dir, "htpasswd")}`,
    `uplinks:`,
    `  npmjs:`,
    `    url: ${uplink}`,
    `packages:`,
    `  "@lunora/*":`,
    `    access: $all`,
    `    publish: $authenticated`,
    `  "**":`,
    `    access: $all`,
    `    publish: $authenticated`,
    `    proxy: npmjs`,
    `web:`,
    `  enable: false`,
    `log: { type: stdout, format: pretty, level: http }`,
    ``,
  ].join("\n");
}

/** A running verdaccio. */
export class LocalRegistry {
  readonly url: string;
  readonly #dir: string;
  readonly #process: GroupProcess;
  readonly #env: Record<string, string>;

  private constructor(
    url: string,
    dir: string,
    process: GroupProcess,
    env: Record<string, string>,
  ) {
    this.url = url;
    this.#dir = dir;
    this.#process = process;
    this.#env = env;
  }

  /**
   * Starts verdaccio on a free loopback port with its storage in a new temporary directory,
   * proxying to `uplink` (the npm registry npm itself is configured with), and waits until it
   * answers `/-/ping`.
   */
  static async start(
    env: Record<string, string>,
    uplink: string,
    logPath: string,
  ): Promise<LocalRegistry> {
    const dir = await Deno.makeTempDir({ prefix: "lunora-registry-" });
    Deno.writeTextFileSync(join(dir, "config.yaml"), config(dir, uplink));
    const port = freePort();
    const url = `http://127.0.0.1:${port}`;
    const process = new GroupProcess(
      [BIN, "--config", join(dir, "config.yaml"), "--listen", `127.0.0.1:${port}`],
      logPath,
      { env },
    );
    const registry = new LocalRegistry(url, dir, process, env);
    let exited = false;
    process.status.then(() => exited = true);
    try {
      await waitFor("verdaccio to answer /-/ping", async () => {
        if (exited) throw new Error("verdaccio exited");
        const response = await fetch(`${url}/-/ping`);
        await response.body?.cancel();
        return response.ok ? true : undefined;
      }, STARTUP_MS);
    } catch (error) {
      await registry.stop();
      const tail = process.log().split("\n").slice(-15).join("\n");
      throw new Error(`${error instanceof Error ? error.message : error}; log:\n${tail}`);
    }
    return registry;
  }

  /** Publishes a package tarball as a new registry user (its token in a private npmrc). */
  async publish(tarball: string): Promise<string> {
    const response = await fetch(`${this.url}/-/user/org.couchdb.user:publisher`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "publisher", password: crypto.randomUUID() }),
    });
    const body = await response.json() as { token?: string };
    assert(response.status === 201 && body.token, `adding a user answered ${response.status}`);
    const npmrc = join(this.#dir, "publisher.npmrc");
    const host = this.url.replace(/^http:/, "");
    Deno.writeTextFileSync(npmrc, `registry=${this.url}/\n${host}/:_authToken=${body.token}\n`);
    return await run(["npm", "publish", tarball, "--userconfig", npmrc], {
      cwd: this.#dir,
      env: this.#env,
    });
  }

  /** What verdaccio logged so far (one line per request). */
  log(): string {
    return this.#process.log();
  }

  /** Stops verdaccio and removes its storage. */
  async stop(): Promise<void> {
    await this.#process.stop();
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}
