/**
 * The page's server calls, read back from its `Server-Timing` entries (the worker writes one
 * entry per call under `astro dev`; see `src/worker/server_timing.ts`).
 *
 * @module
 */

/** One `Server-Timing` entry as the browser exposes it (`PerformanceServerTiming`). */
export interface ServerTimingEntryLike {
  /** The metric name, e.g. `"lunora"` or `"lunora-1"`. */
  readonly name: string;
  /** The `dur` parameter, in milliseconds (0 when absent). */
  readonly duration: number;
  /** The `desc` parameter ("" when absent). */
  readonly description: string;
}

/** One server call of the page, as the toolbar app lists it. */
export interface ServerCallRow {
  /** `"query"`, `"mutation"` or `"action"`. */
  readonly kind: string;
  /** The function's path, e.g. `"messages:list"`. */
  readonly functionPath: string;
  /** The shard key the caller named; `undefined` for the worker's default shard. */
  readonly shardKey: string | undefined;
  /** How long the call took, in milliseconds. */
  readonly durationMs: number;
  /** `"in-process"` or `"http"`. */
  readonly via: string;
  /** `"ok"`, or the error code the call failed with. */
  readonly outcome: string;
}

/** What the page's `Server-Timing` says about its Lunora calls. */
export interface ServerCalls {
  /** The summary entry's count, or `undefined` when the page has no Lunora entry. */
  readonly count: number | undefined;
  /** The calls' summed duration, in milliseconds (0 without a summary). */
  readonly durationMs: number;
  /** One row per detailed entry, in the order the calls finished. */
  readonly calls: readonly ServerCallRow[];
}

const DETAIL = /^lunora-\d+$/;
const COUNT = /^(\d+) calls?$/;

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Reads one detailed entry's `desc`: `<kind> <path> [shard=<key>] <via> <outcome>`. */
function parseCall(entry: ServerTimingEntryLike): ServerCallRow | undefined {
  const words = entry.description.split(" ");
  const shard = words.length === 5 && words[2]!.startsWith("shard=") ? words[2]! : undefined;
  if (words.length !== (shard === undefined ? 4 : 5)) return undefined;
  const [kind, functionPath] = words as [string, string];
  const [via, outcome] = words.slice(-2) as [string, string];
  return {
    kind,
    functionPath,
    shardKey: shard === undefined ? undefined : decode(shard.slice("shard=".length)),
    durationMs: entry.duration,
    via,
    outcome: decode(outcome),
  };
}

/**
 * Reads the Lunora entries out of a page's `Server-Timing` entries; other entries are left
 * alone, and a detailed entry that does not parse is skipped.
 */
export function readServerCalls(entries: readonly ServerTimingEntryLike[]): ServerCalls {
  let count: number | undefined;
  let durationMs = 0;
  const calls: ServerCallRow[] = [];
  for (const entry of entries) {
    if (entry.name === "lunora") {
      const match = COUNT.exec(entry.description);
      if (match) count = Number(match[1]);
      durationMs = entry.duration;
    } else if (DETAIL.test(entry.name)) {
      const call = parseCall(entry);
      if (call !== undefined) calls.push(call);
    }
  }
  return { count, durationMs, calls };
}
