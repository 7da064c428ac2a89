/**
 * Subprocesses for the npm build: output captured, and shown only when the command fails.
 *
 * @module
 */

/** Captured result of a command. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for {@linkcode run}. */
export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Return a failing result instead of throwing (default `false`). */
  allowFailure?: boolean;
  /** Kill the command after this many milliseconds (default 120 000). */
  timeoutMs?: number;
}

/**
 * Runs `command args` and returns its output.
 *
 * @throws {Error} When it exits non-zero (unless `allowFailure`), with its output in the message.
 */
export async function run(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const child = new Deno.Command(command, {
    args: [...args],
    cwd: options.cwd,
    env: { ...options.env, NO_COLOR: "1", npm_config_update_notifier: "false" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
  const output = await child.output().finally(() => clearTimeout(timer));
  const decoder = new TextDecoder();
  const result = {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
  if (result.code !== 0 && !options.allowFailure) {
    const shown = `${result.stdout}\n${result.stderr}`.trim().split("\n").slice(-40).join("\n");
    throw new Error(`Command failed (exit ${result.code}): ${command} ${args.join(" ")}\n${shown}`);
  }
  return result;
}
