/**
 * The memory of the workerd processes behind `wrangler dev`, from Linux's `/proc`.
 *
 * @module
 */

/** Resident memory of one workerd process. */
export interface WorkerdMemory {
  pid: number;
  /** `"proxy"`: wrangler's entry proxy on the public port; `"runtime"`: the app itself. */
  role: "proxy" | "runtime";
  rssMiB: number;
  peakMiB: number;
}

function kib(status: string, field: string): number {
  const value = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1];
  return value === undefined ? NaN : Number(value) / 1024;
}

/**
 * The workerd processes in process group `pgid` (the group `wrangler dev` was started in), with
 * `VmRSS` and `VmHWM` from `/proc/<pid>/status`.
 */
export function workerdMemory(pgid: number, publicPort: number): WorkerdMemory[] {
  const found: WorkerdMemory[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      // pid (comm) state ppid pgrp ...: comm may hold spaces, so split after the last ")".
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (comm !== "workerd" || Number(fields[2]) !== pgid) continue;
      const status = Deno.readTextFileSync(`/proc/${entry.name}/status`);
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
      found.push({
        pid: Number(entry.name),
        role: cmdline.includes(`entry=127.0.0.1:${publicPort}`) ? "proxy" : "runtime",
        rssMiB: kib(status, "VmRSS"),
        peakMiB: kib(status, "VmHWM"),
      });
    } catch {
      // The process ended while it was read.
    }
  }
  return found.sort((a, b) => a.role.localeCompare(b.role));
}

/** One line per workerd process: `runtime pid 123: RSS 150.2 MiB (peak 160.0 MiB)`. */
export function describeMemory(memory: WorkerdMemory[]): string {
  return memory.map((m) =>
    `${m.role} pid ${m.pid}: RSS ${m.rssMiB.toFixed(1)} MiB (peak ${m.peakMiB.toFixed(1)} MiB)`
  ).join("; ");
}
