/**
 * Subprocesses for the runs on workerd: commands run to completion with their output shown,
 * long-running ones in their own process group (wrangler spawns workerd children) and the
 * members of such a group, polling, and free loopback ports.
 *
 * @module
 */

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

/** A process as Linux's `/proc/<pid>/stat` describes it. */
export interface GroupMember {
  pid: number;
  /** The command name, e.g. `workerd`. */
  comm: string;
  /**
   * The fields after the command name: state, ppid, pgrp, ...; `fields[11]` and `fields[12]`
   * are its user and system CPU time in clock ticks.
   */
  fields: string[];
}

/** The processes in process group `pgid`, from Linux's `/proc`; one that exits meanwhile is left out. */
export function groupMembers(pgid: number): GroupMember[] {
  const members: GroupMember[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    let stat: string;
    try {
      stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces, so split after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) !== pgid) continue;
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    members.push({ pid: Number(entry.name), comm, fields });
  }
  return members;
}
