/**
 * The end-to-end test's plumbing: named checks with pass/fail and timing, timed steps,
 * subprocesses in their own process group (wrangler spawns workerd children), polling, and free
 * loopback ports.
 *
 * @module
 */

/** Thrown by {@linkcode Report.step} after it recorded the failure. */
export class StepFailed extends Error {
  override name = "StepFailed";
}

/** One recorded check or step. */
export interface Outcome {
  name: string;
  ok: boolean;
  seconds: number;
  detail?: string;
}

/** Collects check results and step timings; prints as it goes. */
export class Report {
  readonly checks: Outcome[] = [];
  readonly steps: Outcome[] = [];

  /** Runs `fn` as a check: a throw (or a `false` result) fails it, with the reason printed. */
  async check(name: string, fn: () => Promise<unknown> | unknown): Promise<boolean> {
    const started = performance.now();
    let ok = true;
    let detail: string | undefined;
    try {
      const result = await fn();
      if (result === false) {
        ok = false;
        detail = "returned false";
      } else if (typeof result === "string") {
        detail = result;
      }
    } catch (error) {
      ok = false;
      detail = error instanceof Error ? error.message : String(error);
    }
    const seconds = (performance.now() - started) / 1000;
    this.checks.push({ name, ok, seconds, detail });
    const suffix = detail ? (ok ? ` - ${detail}` : `\n       ${detail}`) : "";
    console.log(`${ok ? "ok  " : "FAIL"} ${name} (${seconds.toFixed(1)} s)${suffix}`);
    return ok;
  }

  /** Runs `fn` as a timed step; a throw is recorded as a failed check, then `StepFailed`. */
  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    console.log(`\n--- ${name}`);
    const started = performance.now();
    try {
      const value = await fn();
      this.steps.push({ name, ok: true, seconds: (performance.now() - started) / 1000 });
      return value;
    } catch (error) {
      const seconds = (performance.now() - started) / 1000;
      const detail = error instanceof Error ? error.message : String(error);
      this.steps.push({ name, ok: false, seconds, detail });
      this.checks.push({ name: `step: ${name}`, ok: false, seconds, detail });
      console.log(`FAIL step ${name} (${seconds.toFixed(1)} s)\n       ${detail}`);
      throw new StepFailed(detail, { cause: error });
    }
  }

  /** Prints the step timings and the closing `N passed, M failed` line; returns the failures. */
  summary(): number {
    console.log("\nWall time per step:");
    for (const step of this.steps) {
      console.log(
        `  ${step.seconds.toFixed(1).padStart(7)} s  ${step.ok ? "" : "FAILED "}${step.name}`,
      );
    }
    const failed = this.checks.filter((check) => !check.ok);
    if (failed.length > 0) {
      console.log("\nFailed checks:");
      for (const check of failed) console.log(`  - ${check.name}: ${check.detail ?? ""}`);
    }
    const passed = this.checks.length - failed.length;
    console.log(`\n${passed} passed, ${failed.length} failed`);
    return failed.length;
  }
}

/** Throws `message` unless `condition` holds. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** Polls `probe` until it returns a value other than `undefined`, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const reason = last instanceof Error ? `: ${last.message}` : "";
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
}

/** A port nobody listens on right now, on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Options of {@linkcode run} and {@linkcode GroupProcess}. */
export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
}

function spawnPiped(program: string, args: string[], options: RunOptions): Deno.ChildProcess {
  const { cwd, env } = options;
  return new Deno.Command(program, {
    args,
    cwd,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
}

/**
 * Runs a command to completion, its output shown as it comes; throws on a non-zero exit.
 * Returns the output (stdout and stderr interleaved) as text.
 */
export async function run(cmd: string[], options: RunOptions = {}): Promise<string> {
  console.log(`$ ${cmd.join(" ")}${options.cwd ? `   (in ${options.cwd})` : ""}`);
  const child = spawnPiped(cmd[0]!, cmd.slice(1), options);
  const decoder = new TextDecoder();
  let text = "";
  const copy = async (stream: ReadableStream<Uint8Array>, to: typeof Deno.stdout) => {
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      await to.write(chunk);
    }
  };
  await Promise.all([copy(child.stdout, Deno.stdout), copy(child.stderr, Deno.stderr)]);
  const { code } = await child.status;
  if (code !== 0) throw new Error(`"${cmd.join(" ")}" exited with ${code}`);
  return text;
}

/** A long-running process started in its own process group, its output going to a log file. */
export class GroupProcess {
  readonly #child: Deno.ChildProcess;
  readonly #logDone: Promise<void>;
  readonly logPath: string;
  #exited = false;
  readonly status: Promise<Deno.CommandStatus>;

  constructor(cmd: string[], logPath: string, options: RunOptions = {}) {
    this.logPath = logPath;
    // `setsid` makes the child a process-group leader, so stop() reaches its children too.
    this.#child = spawnPiped("setsid", cmd, options);
    const file = Deno.openSync(logPath, { create: true, write: true, truncate: true });
    const encoder = new TextEncoder();
    file.writeSync(encoder.encode(`$ ${cmd.join(" ")}\n`));
    const copy = async (stream: ReadableStream<Uint8Array>) => {
      for await (const chunk of stream) file.writeSync(chunk);
    };
    this.#logDone = Promise.all([copy(this.#child.stdout), copy(this.#child.stderr)]).then(
      () => file.close(),
    );
    this.status = this.#child.status.then((status) => {
      this.#exited = true;
      return status;
    });
  }

  /** The process id, which is also its process-group id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** The log so far. */
  log(): string {
    return Deno.readTextFileSync(this.logPath);
  }

  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves when the leader is gone. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.#exited) {
      killGroup(this.pid, "SIGTERM");
      const timer = setTimeout(() => killGroup(this.pid, "SIGKILL"), graceMs);
      await this.status;
      clearTimeout(timer);
    }
    // Children that ignored SIGTERM (workerd) must not outlive the leader.
    killGroup(this.pid, "SIGKILL");
    await this.#logDone;
  }
}

function killGroup(pgid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(-pgid, signal);
  } catch {
    // The group is already gone.
  }
}

/**
 * A TCP relay on a loopback port to another loopback port: a second origin for the same server
 * (HTTP and WebSocket alike), as a second hostname routed to one worker would be. Counts the
 * connections it relayed.
 */
export class TcpProxy {
  readonly port: number;
  readonly #listener: Deno.Listener;
  readonly #open = new Set<Deno.Conn>();
  readonly #done: Promise<void>;
  connections = 0;

  constructor(targetPort: number, port = freePort()) {
    this.port = port;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port });
    this.#done = this.#accept(targetPort);
  }

  async #accept(targetPort: number): Promise<void> {
    const relays: Promise<void>[] = [];
    try {
      for await (const client of this.#listener) {
        this.connections++;
        relays.push(this.#relay(client, targetPort));
      }
    } catch {
      // The listener was closed.
    }
    await Promise.allSettled(relays);
  }

  async #relay(client: Deno.Conn, targetPort: number): Promise<void> {
    this.#open.add(client);
    let upstream: Deno.Conn | undefined;
    try {
      upstream = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
      this.#open.add(upstream);
      await Promise.allSettled([
        client.readable.pipeTo(upstream.writable),
        upstream.readable.pipeTo(client.writable),
      ]);
    } finally {
      for (const conn of [client, upstream]) {
        if (!conn) continue;
        this.#open.delete(conn);
        try {
          conn.close();
        } catch {
          // Already closed by pipeTo.
        }
      }
    }
  }

  /** Stops listening, cuts every relayed connection and waits for the relays to end. */
  async close(): Promise<void> {
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    for (const conn of this.#open) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
    await this.#done;
  }
}

/**
 * Runs a test script's `main` to the end: a failed step is already recorded, any other error is
 * recorded as the failed check `name`; then `cleanup` runs, the summary with its closing
 * `N passed, M failed` line is printed, and the process exits (1 when a check failed).
 */
export async function runScript(
  report: Report,
  name: string,
  main: () => Promise<void>,
  cleanup: () => Promise<void>,
): Promise<never> {
  let failed = 1;
  try {
    await main();
  } catch (error) {
    if (!(error instanceof StepFailed)) {
      await report.check(name, () => {
        throw error;
      });
    }
  } finally {
    await cleanup();
    failed = report.summary();
  }
  Deno.exit(failed > 0 ? 1 : 0);
}
