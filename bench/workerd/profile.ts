/**
 * CPU profiles of the worker isolate for `deno task bench:workerd --profile`: V8's sampling
 * profiler driven over the Chrome DevTools Protocol through wrangler's inspector proxy
 * (`wrangler dev --inspector-port`), and each sample attributed to the code it was spent in.
 *
 * Attribution walks a sample's stack from the leaf up; the first JavaScript frame decides:
 *
 * - `@lunora/astro`: a function whose source (through the build's source maps) is under
 *   `node_modules/@lunora/astro/`;
 * - `bench entry`: the app's `src/worker.ts` (the hand-rolled router of the bare build, the
 *   `withLunora(...)` call of the composed one);
 * - `Astro + app`: every other JavaScript frame (Astro, the adapter, the app's pages and shard);
 * - `(garbage collector)`, `(program)` (the isolate's thread outside JavaScript) and `(idle)`
 *   are V8's own nodes and are kept apart.
 *
 * Native frames (built-ins and runtime APIs: no script URL) are charged to their nearest
 * JavaScript caller, so a `new Headers()` made by our code counts as ours.
 *
 * Samples are counted, not weighted by their `timeDeltas`: workerd's sampler signals the thread
 * that holds the isolate's lock (cloudflare/workerd#2227), and long gaps between samples hold
 * time spent elsewhere (the other isolates on workerd's thread, other processes, a sampler
 * thread that was not scheduled); each sample stands for about one sampling interval of this
 * isolate's own time.
 *
 * @module
 */
import { dirname, join } from "node:path";
import {
  GREATEST_LOWER_BOUND,
  LEAST_UPPER_BOUND,
  originalPositionFor,
  type SourceMapInput,
  TraceMap,
} from "@jridgewell/trace-mapping";
import { Inspector } from "../../tests/workerd/inspector.ts";
import { groupMembers } from "../../tests/workerd/process.ts";
import { median } from "../_median.ts";
import { type Load, type LoadResult, runLoad, warmUp } from "./load.ts";

/** A node of a `.cpuprofile` (the `Profiler.Profile` of the DevTools Protocol). */
export interface ProfileNode {
  id: number;
  callFrame: {
    functionName: string;
    scriptId: string;
    url: string;
    /** 0-based. */
    lineNumber: number;
    /** 0-based. */
    columnNumber: number;
  };
  children?: number[];
  hitCount?: number;
}

/** A `.cpuprofile`: what `Profiler.stop` returns, loadable in Chrome DevTools as is. */
export interface CpuProfile {
  nodes: ProfileNode[];
  /** Microseconds. */
  startTime: number;
  endTime: number;
  /** The leaf node of each sample. */
  samples: number[];
  /** Microseconds from the previous sample (the first: from `startTime`). */
  timeDeltas: number[];
}

/**
 * Profiles the isolate behind inspector `port` while `work` runs, sampling every
 * `intervalUs` microseconds; returns the profile and what `work` returned.
 */
export async function recordProfile<T>(
  port: number,
  work: () => Promise<T>,
  intervalUs = 100,
): Promise<{ profile: CpuProfile; value: T }> {
  const inspector = await Inspector.connect(port);
  try {
    await inspector.send("Profiler.enable");
    await inspector.send("Profiler.setSamplingInterval", { interval: intervalUs });
    await inspector.send("Profiler.start");
    let value: T;
    try {
      value = await work();
    } catch (error) {
      // Stopped even when the load failed, so the isolate does not go on sampling.
      await inspector.send("Profiler.stop").catch(() => {});
      throw error;
    }
    const { profile } = await inspector.send<{ profile: CpuProfile }>(
      "Profiler.stop",
      {},
      120_000,
    );
    await inspector.send("Profiler.disable");
    return { profile, value };
  } finally {
    await inspector.close();
  }
}

/** Where a sample's time went. */
export type Category =
  | "@lunora/astro"
  | "bench entry"
  | "Astro + app"
  | "(garbage collector)"
  | "(program)"
  | "(idle)"
  | "native, no JS caller";

/** The categories in report order. */
export const CATEGORIES: readonly Category[] = [
  "@lunora/astro",
  "bench entry",
  "Astro + app",
  "(garbage collector)",
  "(program)",
  "(idle)",
  "native, no JS caller",
];

/** Where a function came from, through the build's source maps. */
export interface Origin {
  category: "@lunora/astro" | "bench entry" | "Astro + app";
  /** The original source (relative to the app), or the served file when it has no map. */
  source: string;
  /** 1-based line in `source`. */
  line: number;
}

/**
 * Maps the worker's served modules (`dist/server/`, run by `wrangler dev` as built:
 * `no_bundle`) back to their sources with the `.map` files the build wrote beside them.
 */
export class SourceOrigins {
  readonly #serverDir: string;
  readonly #appDir: string;
  readonly #maps = new Map<string, TraceMap | null>();
  readonly #cache = new Map<string, Origin | null>();

  /** `appDir` is the app's root; its build output is `appDir/dist/server/`. */
  constructor(appDir: string) {
    this.#appDir = appDir;
    this.#serverDir = join(appDir, "dist", "server");
  }

  #map(file: string): TraceMap | null {
    let map = this.#maps.get(file);
    if (map === undefined) {
      try {
        const text = Deno.readTextFileSync(`${file}.map`);
        map = new TraceMap(JSON.parse(text) as SourceMapInput, `${file}.map`);
      } catch {
        map = null; // no map beside it (small virtual modules)
      }
      this.#maps.set(file, map);
    }
    return map;
  }

  /** The file a profile URL names, when it is one of the worker's served modules. */
  #served(url: string): string | undefined {
    if (url === "") return undefined;
    const path = url.startsWith("file://") ? new URL(url).pathname : join(this.#serverDir, url);
    if (!path.startsWith(`${this.#serverDir}/`)) return undefined;
    try {
      return Deno.statSync(path).isFile ? path : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The origin of the function starting at 0-based (`line`, `column`) of `url`, or `undefined`
   * when `url` is not one of the worker's modules (a built-in).
   */
  originOf(url: string, line: number, column: number): Origin | undefined {
    const key = `${url}:${line}:${column}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const file = this.#served(url);
    let origin: Origin | null = null;
    if (file !== undefined) {
      // A module's top-level code has no position (-1): it is named by its file alone.
      const map = line < 0 ? null : this.#map(file);
      let source: string | null = null;
      let originalLine = line + 1;
      if (map) {
        // A function's position is its start; the nearest mapping at or before it on that line
        // (or, at a line's start, the first one after it) names the module it was bundled from.
        for (const bias of [GREATEST_LOWER_BOUND, LEAST_UPPER_BOUND] as const) {
          const found = originalPositionFor(map, { line: line + 1, column, bias });
          if (found.source !== null) {
            source = found.source;
            originalLine = found.line;
            break;
          }
        }
      }
      const path = source === null ? file : source.replace(/^file:\/\//, "");
      const relative = path.startsWith(`${this.#appDir}/`)
        ? path.slice(this.#appDir.length + 1)
        : path;
      const category = relative.includes("node_modules/@lunora/astro/")
        ? "@lunora/astro"
        : relative === "src/worker.ts"
        ? "bench entry"
        : "Astro + app";
      origin = { category, source: relative, line: originalLine };
    }
    this.#cache.set(key, origin);
    return origin ?? undefined;
  }
}

/** What one profile's samples add up to. */
export interface Attribution {
  /** Samples per category. */
  samples: Record<Category, number>;
  /** Every sample. */
  total: number;
  /** Samples per deciding `@lunora/astro` function (`name (source:line)`). */
  ours: Map<string, number>;
  /** Samples per source package or app directory, within `Astro + app`. */
  others: Map<string, number>;
  /** Profile duration in microseconds. */
  duration: number;
  /** The median time between two samples, in microseconds. */
  interval: number;
}

const V8_NODES: ReadonlySet<string> = new Set([
  "(garbage collector)",
  "(program)",
  "(idle)",
]);

/** The package (`node_modules/<name>`) or app directory a source belongs to. */
function sourceGroup(source: string): string {
  const modules = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  if (modules) return modules[1]!;
  const app = /^(src\/[^/]+)/.exec(source);
  return app ? app[1]! : source;
}

function zeroes(): Record<Category, number> {
  return Object.fromEntries(CATEGORIES.map((category) => [category, 0])) as Record<
    Category,
    number
  >;
}

/** Attributes every sample of `profile` (see the module doc). */
export function attribute(profile: CpuProfile, origins: SourceOrigins): Attribution {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  // Each node's decision, computed once.
  const decided = new Map<number, { category: Category; key?: string; group?: string }>();
  const decide = (leaf: number) => {
    const known = decided.get(leaf);
    if (known) return known;
    const name = byId.get(leaf)!.callFrame.functionName;
    let result: { category: Category; key?: string; group?: string } | undefined;
    if (V8_NODES.has(name)) result = { category: name as Category };
    for (let id: number | undefined = leaf; result === undefined && id !== undefined;) {
      const { callFrame } = byId.get(id)!;
      const origin = origins.originOf(callFrame.url, callFrame.lineNumber, callFrame.columnNumber);
      if (origin) {
        result = {
          category: origin.category,
          key: `${callFrame.functionName || "(anonymous)"} (${origin.source}:${origin.line})`,
          group: sourceGroup(origin.source),
        };
      }
      id = parent.get(id);
    }
    result ??= { category: "native, no JS caller" };
    decided.set(leaf, result);
    return result;
  };

  const samples = zeroes();
  const ours = new Map<string, number>();
  const others = new Map<string, number>();
  for (const leaf of profile.samples) {
    const { category, key, group } = decide(leaf);
    samples[category]++;
    if (category === "@lunora/astro") ours.set(key!, (ours.get(key!) ?? 0) + 1);
    if (category === "Astro + app") others.set(group!, (others.get(group!) ?? 0) + 1);
  }
  return {
    samples,
    total: profile.samples.length,
    ours,
    others,
    duration: profile.endTime - profile.startTime,
    interval: profile.timeDeltas.length > 0 ? median(profile.timeDeltas) : 0,
  };
}

/** The share (%) of `attribution`'s non-idle samples spent in `categories` together. */
export function shareOf(attribution: Attribution, ...categories: Category[]): number {
  const { samples, total } = attribution;
  const busy = total - samples["(idle)"];
  const part = categories.reduce((sum, category) => sum + samples[category], 0);
  return busy === 0 ? 0 : 100 * part / busy;
}

/** The figures of one attribution: shares of the non-idle samples, as text lines. */
export function describeAttribution(attribution: Attribution): string[] {
  const { samples, total, ours, others, duration, interval } = attribution;
  const busy = total - samples["(idle)"];
  const js = busy - samples["(program)"] - samples["(garbage collector)"];
  const percent = (part: number, whole: number) =>
    whole === 0 ? "n/a" : `${(100 * part / whole).toFixed(2)}%`;
  const lines = [
    `${total} samples over ${(duration / 1e6).toFixed(2)} s, ${busy} not idle ` +
    `(${js} outside GC and (program)), median interval ${interval.toFixed(0)} µs`,
  ];
  for (const category of CATEGORIES) {
    if (category === "(idle)") continue;
    if (category === "native, no JS caller" && samples[category] === 0) continue;
    lines.push(
      `  ${category.padEnd(22)} ${String(samples[category]).padStart(7)} samples ` +
        `${percent(samples[category], busy).padStart(7)} of not idle`,
    );
  }
  lines.push(
    `  (idle)                 ${String(samples["(idle)"]).padStart(7)} samples ` +
      `${percent(samples["(idle)"], total).padStart(7)} of all`,
  );
  const top = (map: Map<string, number>, count: number) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, count);
  lines.push(
    `  @lunora/astro share outside GC and (program): ${percent(samples["@lunora/astro"], js)}`,
  );
  if (ours.size > 0) {
    lines.push("  top @lunora/astro functions (self + native callees):");
    for (const [key, count] of top(ours, 10)) {
      lines.push(`    ${String(count).padStart(6)}  ${percent(count, busy).padStart(6)}  ${key}`);
    }
  }
  lines.push("  Astro + app by package / directory:");
  for (const [group, count] of top(others, 6)) {
    lines.push(`    ${String(count).padStart(6)}  ${percent(count, busy).padStart(6)}  ${group}`);
  }
  return lines;
}

/** CPU time so far, in clock ticks (1/100 s), from Linux's `/proc`. */
interface CpuTicks {
  /** Every process in the group (`wrangler dev`: node, its proxy and the runtime's workerd). */
  group: number;
  /** The whole machine, all cores, not idle. */
  machine: number;
}

function cpuTicks(pgid: number): CpuTicks | undefined {
  try {
    const [, ...fields] = Deno.readTextFileSync("/proc/stat").split("\n")[0]!.trim().split(/\s+/);
    const values = fields.map(Number);
    // user nice system idle iowait irq softirq steal: idle and iowait are not busy
    const machine = values.slice(0, 8).reduce((sum, value) => sum + value, 0) - values[3]! -
      values[4]!;
    // utime (the 14th field of /proc/<pid>/stat) + stime (15th) of every member.
    const group = groupMembers(pgid).reduce(
      (sum, { fields }) => sum + Number(fields[11]) + Number(fields[12]),
      0,
    );
    return { group, machine };
  } catch {
    return undefined; // not Linux
  }
}

/** One side of a scenario to profile. */
export interface ProfileTarget {
  /** The inspector port of the `wrangler dev` that `load` goes to. */
  inspectorPort: number;
  /** The process group of that `wrangler dev`, for its CPU time. */
  pgid: number;
  /** The app it serves (its `dist/server/` source maps name the profile's frames). */
  appDir: string;
  /** The profiled load (a warm-up of up to 500 requests runs first, unprofiled). */
  load: Load;
  /** Where the `.cpuprofile` is written. */
  file: string;
}

/** What profiling one side gave. */
export interface Profiled {
  attribution: Attribution;
  /** The profiled load's own figures (slowed by the sampling). */
  result: LoadResult;
  /**
   * CPU milliseconds per request during the profiled load: the whole machine's (all cores, the
   * load generator included) and the `wrangler dev` process group's; absent off Linux.
   */
  cpuPerRequest?: { machine: number; group: number };
}

/**
 * Warms the side up, then profiles the isolate through `target.load`; writes the
 * `.cpuprofile` and returns its attribution.
 */
export async function profileSide(
  autocannon: string,
  target: ProfileTarget,
  env: Record<string, string>,
): Promise<Profiled> {
  await warmUp(autocannon, target.load, env);
  let before: CpuTicks | undefined;
  let after: CpuTicks | undefined;
  const { profile, value: result } = await recordProfile(target.inspectorPort, async () => {
    before = cpuTicks(target.pgid);
    const result = await runLoad(autocannon, target.load, env);
    after = cpuTicks(target.pgid);
    return result;
  });
  Deno.mkdirSync(dirname(target.file), { recursive: true });
  Deno.writeTextFileSync(target.file, JSON.stringify(profile));
  const attribution = attribute(profile, new SourceOrigins(target.appDir));
  if (!before || !after) return { attribution, result };
  const perRequest = (ticks: number) => ticks * 10 / Math.max(1, result.completed);
  return {
    attribution,
    result,
    cpuPerRequest: {
      machine: perRequest(after.machine - before.machine),
      group: perRequest(after.group - before.group),
    },
  };
}
