/**
 * What every bench prints beside its targets: the CPU model and the machine's load average,
 * because a ratio taken on a busy machine is noisier and the reader should see how busy it was.
 *
 * @module
 */

/** The load average over 1, 5 and 15 minutes, e.g. `1.31 0.98 0.75`. */
export function loadAverage(): string {
  return Deno.loadavg().map((value) => value.toFixed(2)).join(" ");
}

/** The CPU's model name from `/proc/cpuinfo`, or `fallback` where there is none. */
export function cpuModel(fallback = "unknown CPU"): string {
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    return /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? fallback;
  } catch {
    return fallback;
  }
}
