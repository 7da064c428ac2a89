/**
 * The `Server-Timing` entry of a page that made Lunora calls: how many, how long in total, and
 * in detail (one entry per call) in `astro dev` or when the app asks for it.
 *
 * @module
 */
import type { ServerCallRecord } from "../in_process_registry.ts";

/**
 * What `Server-Timing` says about a page's Lunora calls: `"summary"` is one entry,
 * `lunora;dur=<ms>;desc="<n> calls"`; `"detailed"` adds one entry per call with its kind,
 * function path, shard, transport and outcome; `false` adds nothing.
 */
export type ServerTimingMode = "summary" | "detailed" | false;

/**
 * Where `astro dev` marks the worker as running in development: the `lunora()` integration
 * injects a page script that sets `globalThis[Symbol.for(DEV_MARKER_KEY)] = true`, in dev
 * only. With the marker, the default `Server-Timing` is `"detailed"`.
 */
export const DEV_MARKER_KEY = "@lunora/astro/dev@1";

const DEV_MARKER = Symbol.for(DEV_MARKER_KEY);

/** Whether the integration marked this isolate as `astro dev`'s. */
export function isDevMarked(): boolean {
  return (globalThis as Record<symbol, unknown>)[DEV_MARKER] === true;
}

function milliseconds(value: number): string {
  return String(Math.round(value * 10) / 10);
}

/**
 * One call as the `desc` of a detailed entry: `<kind> <functionPath> [shard=<key>] <via>
 * <outcome>`. The function path is validated (no spaces or quotes); the shard key and the
 * outcome are percent-encoded, so none of them can end the quoted string.
 */
function describeCall(call: ServerCallRecord): string {
  const shard = call.shardKey === undefined ? "" : ` shard=${encodeURIComponent(call.shardKey)}`;
  return `${call.kind} ${call.functionPath}${shard} ${call.via} ${
    encodeURIComponent(call.outcome)
  }`;
}

/**
 * The `Server-Timing` value for `calls`: `lunora;dur=<ms>;desc="<n> calls"`, where `dur` is
 * the calls' durations summed (calls run in parallel overlap), then, when `detailed`, one
 * `lunora-<i>;dur=<ms>;desc="<call>"` entry per call in the order they finished.
 */
export function serverTimingValue(
  calls: readonly ServerCallRecord[],
  detailed: boolean,
): string {
  let total = 0;
  for (const call of calls) total += call.durationMs;
  const n = calls.length;
  let value = `lunora;dur=${milliseconds(total)};desc="${n} ${n === 1 ? "call" : "calls"}"`;
  if (detailed) {
    for (let i = 0; i < n; i++) {
      const call = calls[i]!;
      value += `, lunora-${i + 1};dur=${milliseconds(call.durationMs)};desc="${
        describeCall(call)
      }"`;
    }
  }
  return value;
}

/**
 * Appends the page's Lunora entry to `response`'s `Server-Timing` (after any entry already
 * there). Headers that cannot change (a response made by `fetch`, for instance) mean a copy
 * with the same status, headers and body; a 101 is returned untouched.
 *
 * @param response Astro's answer.
 * @param calls The calls the page's server clients finished before Astro answered.
 * @param mode The worker's `serverTiming` option; `undefined` means `"detailed"` under
 * `astro dev` and `"summary"` otherwise.
 */
export function withServerTiming(
  response: Response,
  calls: readonly ServerCallRecord[],
  mode: ServerTimingMode | undefined,
): Response {
  if (response.status === 101 || mode === false) return response;
  const detailed = mode === "detailed" || (mode === undefined && isDevMarked());
  const value = serverTimingValue(calls, detailed);
  try {
    response.headers.append("server-timing", value);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    copy.headers.append("server-timing", value);
    return copy;
  }
}
