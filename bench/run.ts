/**
 * `deno task bench`: runs every suite in `bench/` several times and prints, per group, each
 * bench's time and its ratio to the group's baseline (medians over the runs), then the
 * project's targets. Every timing target is a ratio of two benches' p75 taken in the same run (the
 * composed code against the bare host, a hand-rolled router or forward, `JSON` itself, or the
 * alternative paths of a preload or mutation), so it travels between machines; it is computed
 * per run and printed as the median over the runs with the lowest and highest run beside it,
 * with the CPU model and the load average. The size budgets (bytes, which do not depend on
 * the machine) follow as shares of their budgets: each entry bundled and minified from the
 * sources with `deno bundle`, its static graph gzipped (min+gzip, as `deno task build:npm`
 * measures the emitted package).
 *
 *   deno task bench              # three runs
 *   deno task bench --runs 7     # seven runs
 *   deno task bench --raw        # Deno's own table instead (one run)
 *
 * Ratios taken while other work runs are noisier (each side of a ratio is measured at a
 * different moment), which the spread over the runs shows.
 *
 * @module
 */

import { minifiedGraphSize, SIZE_BUDGETS } from "../scripts/npm/graph_size.ts";
import { cpuModel, loadAverage } from "./_machine.ts";
import { median } from "./_median.ts";
import { heapPerSubscription } from "./client_targets.ts";

const BENCH_FLAGS = [
  "--unstable-unsafe-proto",
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-net=127.0.0.1",
  "--allow-env=NODE_ENV", // nanostores reads it (the client benches)
];
const benchDir = new URL(".", import.meta.url).pathname;
const root = new URL("..", import.meta.url).pathname;
const { exports } = JSON.parse(Deno.readTextFileSync(`${root}deno.json`)) as {
  exports: Record<string, string>;
};

interface Measured {
  n: number;
  min: number;
  avg: number;
  p75: number;
  p99: number;
}

interface BenchRecord {
  origin: string;
  group: string | null;
  name: string;
  baseline: boolean;
  results: Array<{ ok?: Measured; failed?: unknown }>;
}

/** One bench across runs: the median of its per-run averages and p75s. */
interface Row {
  file: string;
  group: string;
  name: string;
  baseline: boolean;
  avg: number;
  p75: number;
}

function parseArgs(args: string[]): { runs: number; raw: boolean } {
  let runs = 3;
  let raw = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--raw") raw = true;
    else if (arg === "--runs") runs = Number(args[++i]);
    else if (arg.startsWith("--runs=")) runs = Number(arg.slice(7));
    else throw new TypeError(`Cannot run benches: unknown argument ${JSON.stringify(arg)}`);
  }
  if (!Number.isSafeInteger(runs) || runs < 1) {
    throw new RangeError(`Cannot run benches: "--runs" must be a positive integer, got ${runs}`);
  }
  return { runs, raw };
}

function formatTime(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(0)} ns`;
}

async function runOnce(): Promise<{ cpu: string; benches: BenchRecord[] }> {
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["bench", "--json", ...BENCH_FLAGS, benchDir],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (code !== 0) throw new Error(`deno bench exited with ${code}`);
  return JSON.parse(new TextDecoder().decode(stdout));
}

function collect(runs: BenchRecord[][]): Row[] {
  const rows = new Map<string, { record: BenchRecord; avg: number[]; p75: number[] }>();
  for (const run of runs) {
    for (const record of run) {
      const ok = record.results[0]?.ok;
      if (!ok) throw new Error(`bench "${record.name}" failed: ${JSON.stringify(record.results)}`);
      const key = `${record.origin}\0${record.group}\0${record.name}`;
      const entry = rows.get(key) ?? { record, avg: [], p75: [] };
      entry.avg.push(ok.avg);
      entry.p75.push(ok.p75);
      rows.set(key, entry);
    }
  }
  return [...rows.values()].map(({ record, avg, p75 }) => ({
    file: record.origin.slice(record.origin.lastIndexOf("/") + 1),
    group: record.group ?? record.name,
    name: record.name.trim(),
    baseline: record.baseline,
    avg: median(avg),
    p75: median(p75),
  }));
}

function printGroups(rows: Row[]): void {
  const groups = Map.groupBy(rows, (row) => `${row.file} · ${row.group}`);
  const width = Math.max(...rows.map((row) => row.name.length));
  for (const [title, members] of groups) {
    const base = members.find((row) => row.baseline) ?? members[0]!;
    console.log(`\n${title}`);
    console.log(
      `  ${"bench".padEnd(width)}  ${"avg".padStart(10)}  ${"p75".padStart(10)}  ` +
        `${"× baseline".padStart(10)}  ${"− baseline".padStart(11)}`,
    );
    for (const row of members) {
      const ratio = row.avg / base.avg;
      const delta = row === base ? "" : formatTime(row.avg - base.avg);
      console.log(
        `  ${row.name.padEnd(width)}  ${formatTime(row.avg).padStart(10)}  ` +
          `${formatTime(row.p75).padStart(10)}  ${
            (row === base ? "baseline" : `${ratio.toFixed(2)}×`).padStart(10)
          }  ${delta.padStart(11)}`,
      );
    }
  }
}

function find(rows: Row[], name: string): Row {
  const row = rows.find((candidate) => candidate.name === name);
  if (!row) throw new Error(`No bench named ${JSON.stringify(name)}`);
  return row;
}

/** A bench's p75 (ns) in one run, by name (and a part of its group's name). */
type At = (name: string, group?: string) => number;

/**
 * A target: a ratio of two things measured in the same run, at most (`goal` > 0) or at least
 * (`goal` < 0) `|goal|`; `goal` 0 reports the ratio only. `refs` are other ratios of the same
 * run printed beside it (what the best hand-rolled code does, the raw times).
 */
interface Target {
  what: string;
  ratio: (at: At) => number;
  goal: number;
  refs?: (at: At) => string;
}

/** A target's ratio over the runs: the median and the spread. */
interface Landed {
  target: Target;
  median: number;
  low: number;
  high: number;
  refs: string;
  met: boolean;
}

const us = (ns: number) => `${(ns / 1e3).toFixed(2)} µs`;
const times = (ratio: number) => `${ratio.toFixed(2)}×`;

/**
 * A bench's p75 (ns): the targets use it rather than the average, because a busy machine's
 * preemptions land in the slowest quarter of the iterations and would swamp an average.
 */
function atOf(rows: Row[]): At {
  return (name, group = "") => find(rows.filter((row) => row.group.includes(group)), name).p75;
}

/** One push fanned out to 100 stores of one query: the cost each store beyond the first adds. */
function clientPerStore(at: At): number {
  const one = at("push to 1 store", "client fan-out");
  return (at("push to 100 stores of one query", "client fan-out") - one) / 99;
}

/** Every timing target; the ratio's two sides always come from the same run. */
const TARGETS: Target[] = (() => {
  const host = "host called directly";
  const hostNew = "host called directly (new request)";
  const forward = "POST /_lunora/rpc, hand-rolled forward (capped body → stub)";
  const fallThrough = (form: string, fresh: boolean): Target => ({
    what: `fall-through, ${form} form${
      fresh ? ", new request and ctx per call" : ""
    }: composed / bare host`,
    ratio: (at) =>
      at(`withLunora (${form} form) → host${fresh ? " (new request and ctx)" : ""}`) /
      at(fresh ? hostNew : host),
    goal: fresh ? 1.25 : 3,
    refs: (at) =>
      `hand-rolled router ${
        times(
          at(`hand-rolled router → host${fresh ? " (new request and ctx)" : ""}`) /
            at(fresh ? hostNew : host),
        )
      }`,
  });
  const preload = (rows: 20 | 1, path: "fetch to the worker" | "loopback HTTP"): Target => {
    const suffix = rows === 20 ? "" : ", 1 row";
    const cost = (at: At, name: string) =>
      at(`page, ${name}${suffix}`) - at(`page, same HTML from a ready token (no preload)${suffix}`);
    return {
      what: `SSR preload, ${rows} ${rows === 1 ? "row" : "rows"}: over ${path} / in process ` +
        `(each page − the same page without a preload)`,
      ratio: (at) => cost(at, `preload over ${path}`) / cost(at, "preload in-process"),
      goal: path === "loopback HTTP" ? -5 : -2,
      refs: (at) =>
        `${us(cost(at, `preload over ${path}`))} / ${us(cost(at, "preload in-process"))}`,
    };
  };
  const mutation = (path: "fetch to the worker" | "loopback HTTP"): Target => {
    const cost = (at: At, name: string) =>
      at(`form POST, ${name}`) - at("form POST, same 303 without the mutation");
    return {
      what: `SSR mutation: over ${path} / in process (each form POST − the same 303 without it)`,
      ratio: (at) => cost(at, `mutation over ${path}`) / cost(at, "mutation in-process"),
      goal: path === "loopback HTTP" ? -5 : -2,
      refs: (at) =>
        `${us(cost(at, `mutation over ${path}`))} / ${us(cost(at, "mutation in-process"))}`,
    };
  };
  const cold = (what: string, name: string, group: string): Target => ({
    what: `cold: ${what} / an empty module`,
    ratio: (at) => at(name, group) / at("import an empty module", group),
    goal: 0,
    refs: (at) => `${us(at(name, group) - at("import an empty module", group))} beyond it`,
  });
  return [
    fallThrough("factory", false),
    fallThrough("object", false),
    fallThrough("factory", true),
    fallThrough("object", true),
    {
      what: "RPC dispatch, identity + tenant gate: composed / hand-rolled forward",
      ratio: (at) => at("POST /_lunora/rpc, identity + tenant gate (factory form)") / at(forward),
      goal: 1.5,
      refs: (at) => `shard stub alone ${times(at("shard stub called directly") / at(forward))}`,
    },
    {
      what: "RPC dispatch, default shard: composed / hand-rolled forward",
      ratio: (at) => at("POST /_lunora/rpc, default shard (object form)") / at(forward),
      goal: 1.5,
    },
    {
      what: "encode 100 rows: JSON.stringify(encodeWire()) / JSON.stringify",
      ratio: (at) => at("JSON.stringify(encodeWire())") / at("JSON.stringify"),
      goal: 1.5,
    },
    {
      what: "decode 100 rows: decodeWire(JSON.parse()) / JSON.parse",
      ratio: (at) => at("decodeWire(JSON.parse())") / at("JSON.parse"),
      goal: 1.5,
    },
    preload(20, "fetch to the worker"),
    preload(1, "fetch to the worker"),
    preload(20, "loopback HTTP"),
    mutation("fetch to the worker"),
    mutation("loopback HTTP"),
    {
      what:
        "locals middleware, page never reads locals.lunora: onRequest / hand-rolled lazy getter",
      ratio: (at) =>
        at("fresh locals + onRequest(context, next)") /
        at("fresh locals + hand-rolled lazy getter"),
      goal: 1.1,
      refs: (at) =>
        `onRequest / bare next() ${
          times(
            at("fresh locals + onRequest(context, next)") /
              at("fresh locals + next() (no middleware)"),
          )
        }`,
    },
    {
      what: "Server-Timing, page with no calls: default / serverTiming false",
      ratio: (at) =>
        at("default (Server-Timing when calls were made)", "page, no calls") /
        at("serverTiming: false (no record read)", "page, no calls"),
      goal: 1.1,
    },
    {
      what: "Server-Timing, page with two in-process calls: default / serverTiming false",
      ratio: (at) =>
        at("default (two calls, one header)", "two in-process calls") /
        at("serverTiming: false (two calls)", "two in-process calls"),
      goal: 1.1,
    },
    {
      what: "client: one push fanned out to 100 stores of one query / to 1 store",
      ratio: (at) =>
        at("push to 100 stores of one query", "client fan-out") /
        at("push to 1 store", "client fan-out"),
      goal: 1.5,
      refs: (at) =>
        `${clientPerStore(at).toFixed(0)} ns per store beyond the first, ${
          us(at("push to 1 store", "client fan-out"))
        } for 1 store`,
    },
    {
      what: "client: decode a 1,000-row snapshot / apply one insert delta to it",
      ratio: (at) =>
        at("snapshot of 1,000 rows", "client delta") /
        (at("insert delta + delete delta, 1,000 rows", "client delta") / 2),
      goal: -10,
    },
    cold("import server.ts (Deno module graph)", "import server.ts", "graph"),
    cold("import bundled server.ts", "import bundled server.ts", "bundled"),
    cold("import mod.ts (Deno module graph)", "import mod.ts", "graph"),
    cold("import bundled withLunora", "import bundled withLunora", "bundled"),
  ];
})();

/** Each target's ratio in every run, as median and spread. */
function land(runs: BenchRecord[][]): Landed[] {
  const perRun = runs.map((run) => atOf(collect([run])));
  return TARGETS.map((target) => {
    const values = perRun.map((at) => target.ratio(at));
    const value = median(values);
    const { goal } = target;
    return {
      target,
      median: value,
      low: Math.min(...values),
      high: Math.max(...values),
      refs: target.refs?.(atOf(collect(runs))) ?? "",
      met: goal === 0 || (goal > 0 ? value <= goal : value >= -goal),
    };
  });
}

/** The size budgets: bytes do not depend on the machine; each is also given as a budget share. */
async function sizeLines(): Promise<string[]> {
  const out: string[] = [];
  for (const [entry, budget] of Object.entries(SIZE_BUDGETS)) {
    const file = exports[entry]!.replace(/^\.\//, "");
    const size = await minifiedGraphSize(
      root + file,
      `${root}.out/bench-size/${file.replace(/\.ts$/, "")}`,
    );
    const share = size.gzipBytes / budget;
    out.push(
      `  ${share <= 1 ? "ok  " : "MISS"} size: ${entry} with its static graph, min+gzip / its ` +
        `budget: ${times(share)} (${size.gzipBytes} B of ${budget} B; target ≤ 1×)`,
    );
  }
  return out;
}

if (import.meta.main) {
  const { runs, raw } = parseArgs(Deno.args);
  const machine = `${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno} ` +
    `(V8 ${Deno.version.v8}), ${Deno.build.os}/${Deno.build.arch}`;
  const loadBefore = loadAverage();
  console.log(`load average before: ${loadBefore}`);
  if (raw) {
    console.log(machine);
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: ["bench", ...BENCH_FLAGS, benchDir],
    }).spawn().status;
    console.log(`load average after: ${loadAverage()}`);
    Deno.exit(code);
  }
  const results: BenchRecord[][] = [];
  let cpu = "";
  for (let run = 1; run <= runs; run++) {
    console.error(`run ${run} of ${runs}…`);
    const report = await runOnce();
    cpu = report.cpu;
    results.push(report.benches);
  }
  const rows = collect(results);
  console.log(`${machine}, CPU ${cpu}`);
  console.log(`runs: ${runs}${runs > 1 ? " (each figure is the median over the runs)" : ""}`);
  printGroups(rows);
  const loadAfter = loadAverage();
  console.log(
    `\nTargets: each a ratio of two benches of the same run; the median over ${runs} ` +
      `run${runs === 1 ? "" : "s"} [lowest–highest run]\n` +
      `  CPU ${cpuModel(cpu)}, ${navigator.hardwareConcurrency} cores; load average ` +
      `${loadBefore} before, ${loadAfter} after`,
  );
  for (const { target, median: value, low, high, refs, met } of land(results)) {
    const goal = target.goal === 0
      ? "reported only"
      : `target ${target.goal > 0 ? "≤" : "≥"} ${Math.abs(target.goal)}×`;
    console.log(
      `  ${met ? (target.goal === 0 ? "info" : "ok  ") : "MISS"} ${target.what}: ` +
        `${times(value)} [${times(low)}–${times(high)}] (${goal})${refs ? `; ${refs}` : ""}`,
    );
  }
  for (const line of await sizeLines()) console.log(line);
  console.log(
    `  info client: heap per subscription, 1,000 subscriptions on one socket (one-row ` +
      `values): ${await heapPerSubscription()} B`,
  );
}
