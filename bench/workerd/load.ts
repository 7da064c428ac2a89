/**
 * Load generation for `deno task bench:workerd`: autocannon (npm, pinned, installed into
 * `.tools/` once) run with a bounded number of requests against a loopback URL.
 *
 * @module
 */
import { join } from "node:path";
import { ROOT } from "../../tests/workerd/example_app.ts";

const AUTOCANNON_VERSION = "9.0.0";
const prefix = join(ROOT, ".tools", `autocannon-${AUTOCANNON_VERSION}`);
const bin = join(prefix, "node_modules", ".bin", "autocannon");

/** Installs autocannon into `.tools/` unless it is there; returns its binary. */
export async function ensureAutocannon(env: Record<string, string>): Promise<string> {
  try {
    Deno.statSync(bin);
    return bin;
  } catch {
    // Not installed yet.
  }
  Deno.mkdirSync(prefix, { recursive: true });
  const { code } = await new Deno.Command("npm", {
    args: [
      "install",
      "--prefix",
      prefix,
      "--no-audit",
      "--no-fund",
      "--no-save",
      "--loglevel=error",
      `autocannon@${AUTOCANNON_VERSION}`,
    ],
    env,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) throw new Error(`npm install autocannon@${AUTOCANNON_VERSION} failed`);
  return bin;
}

/** One load run. */
export interface Load {
  url: string;
  requests: number;
  connections: number;
  method?: "GET" | "POST";
  body?: string;
  headers?: Record<string, string>;
}

/** What one run measured. */
export interface LoadResult {
  /** Requests per second: connections / mean latency (Little's law for a closed loop). */
  rps: number;
  /** Mean latency and percentiles, in milliseconds. */
  mean: number;
  p50: number;
  p99: number;
  /** Requests that failed (connection errors, timeouts) or answered outside 2xx. */
  failed: number;
  /** Completed requests. */
  completed: number;
}

/** A short unmeasured load before a measured one: JIT, the shard's SQLite pages, connections. */
export async function warmUp(
  autocannon: string,
  load: Load,
  env: Record<string, string>,
): Promise<void> {
  await runLoad(autocannon, { ...load, requests: Math.min(500, load.requests) }, env);
}

/** Runs autocannon once; throws when it cannot run. */
export async function runLoad(
  autocannon: string,
  load: Load,
  env: Record<string, string>,
): Promise<LoadResult> {
  const url = new URL(load.url);
  if (url.hostname !== "127.0.0.1") throw new TypeError(`Cannot load ${load.url}: loopback only`);
  const args = [
    "--json",
    "--connections",
    String(load.connections),
    "--amount",
    String(load.requests),
    "--timeout",
    "20",
    "--method",
    load.method ?? "GET",
  ];
  for (const [name, value] of Object.entries(load.headers ?? {})) {
    args.push("--headers", `${name}=${value}`);
  }
  if (load.body !== undefined) args.push("--body", load.body);
  args.push(load.url);
  const { code, stdout, stderr } = await new Deno.Command(autocannon, {
    args,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  if (code !== 0 || !text.trim().startsWith("{")) {
    throw new Error(`autocannon failed (${code}): ${new TextDecoder().decode(stderr).slice(-800)}`);
  }
  const report = JSON.parse(text) as {
    latency: { mean: number; p50: number; p99: number };
    errors: number;
    timeouts: number;
    non2xx: number;
    "2xx": number;
  };
  const completed = report["2xx"] + report.non2xx;
  return {
    // autocannon stops an `--amount` run on its next one-second tick, so its duration (and
    // requests per second) are whole-second figures. With every connection busy all the time,
    // Little's law gives the rate from the exact mean latency instead.
    rps: load.connections * 1000 / report.latency.mean,
    mean: report.latency.mean,
    p50: report.latency.p50,
    p99: report.latency.p99,
    failed: report.errors + report.timeouts + report.non2xx,
    completed,
  };
}
