/**
 * The memory of the workerd processes behind `wrangler dev`, from Linux's `/proc`.
 *
 * @module
 */
import { groupMembers } from "../process.ts";

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
  for (const { pid, comm } of groupMembers(pgid)) {
    if (comm !== "workerd") continue;
    try {
      const status = Deno.readTextFileSync(`/proc/${pid}/status`);
      const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
      found.push({
        pid,
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
