/**
 * The lock `deno task build:npm` holds while it rebuilds `npm/`: builds started at the same time
 * in one tree (a test run and an e2e run, say) would delete each other's output. The lock file
 * holds the builder's pid; a lock whose process is gone (a build that was killed) is taken over.
 *
 * Liveness is asked of `kill -0 <pid>` through `sh`, which `--allow-run` permits: Deno refuses
 * any read of `/proc/<pid>` without `--allow-all`, whatever `--allow-read` grants.
 *
 * @module
 */
import { run } from "./command.ts";

/** Options for {@linkcode withBuildLock}. */
export interface BuildLockOptions {
  /** How long to wait for a live holder before giving up (default 300 000 ms). */
  waitMs?: number;
  /** Time between two looks at the lock (default 500 ms). */
  pollMs?: number;
  /** Told once when another build holds the lock (default `console.log`). */
  log?: (message: string) => void;
}

/**
 * Runs `fn` holding the lock file `lock` (its directory must exist), and removes it afterwards.
 * Waits while a running process holds it and takes it over from one that is gone.
 *
 * @throws {Error} When a running process still holds the lock after `waitMs`.
 */
export async function withBuildLock<T>(
  lock: string,
  fn: () => Promise<T>,
  options: BuildLockOptions = {},
): Promise<T> {
  const deadline = Date.now() + (options.waitMs ?? 300_000);
  const log = options.log ?? console.log;
  let announced = false;
  for (;;) {
    try {
      Deno.writeTextFileSync(lock, String(Deno.pid), { createNew: true });
      break;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      const holder = Number(readText(lock));
      // This process wrote no lock yet: one naming its pid was left by an earlier one.
      if (holder === Deno.pid || !await processAlive(holder)) {
        Deno.removeSync(lock);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`Another build:npm (pid ${holder}) holds ${lock}`);
      if (!announced) log(`waiting for another build:npm (pid ${holder}) to finish`);
      announced = true;
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
    }
  }
  try {
    return await fn();
  } finally {
    Deno.removeSync(lock);
  }
}

function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/**
 * Whether process `pid` runs: `kill -0` succeeds, or fails for another reason than "No such
 * process" (another user's process). Without `sh` (Windows) a lock is trusted until the deadline.
 */
export async function processAlive(pid: number): Promise<boolean> {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    const { code, stderr } = await run("sh", ["-c", 'kill -0 "$1"', "sh", String(pid)], {
      env: { LC_ALL: "C" },
      allowFailure: true,
      timeoutMs: 10_000,
    });
    return code === 0 || !/no such process/i.test(stderr);
  } catch {
    return true;
  }
}
