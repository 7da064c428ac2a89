/**
 * `deno task bench`: runs every suite in `bench/` and prints, per group, each bench's time and
 * its ratio to the group's baseline (all taken in the same run), then the project's targets
 * with where they land, the size budgets included: each entry bundled and minified from the
 * sources with `deno bundle`, its static graph gzipped (min+gzip, as `deno task build:npm`
 * measures the emitted package).
 *
 *   deno task bench              # one run
 *   deno task bench --runs 5     # five runs; each figure is the median over the runs
 *   deno task bench --raw        # Deno's own table instead (one run)
 *
 * The machine's load average is printed before and after: ratios taken while other work runs
 * are noisier (each side of a ratio is measured at a different moment).
 *
 * @module
 */

import { minifiedGraphSize, SIZE_BUDGETS } from "../scripts/npm/graph_size.ts";
import { median } from "./_median.ts";
import { clientTargets } from "./client_targets.ts";

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
  let runs = 1;
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

function loadAverage(): string {
  return Deno.loadavg().map((value) => value.toFixed(2)).join(" ");
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

interface Target {
  what: string;
  value: string;
  goal: string;
  met: boolean;
}

const us = (ns: number) => `${(ns / 1e3).toFixed(2)} µs`;
const ms = (ns: number) => `${(ns / 1e6).toFixed(2)} ms`;
const times = (ratio: number) => `${ratio.toFixed(2)}×`;

/** A target on a time difference (ns), at most `limitNs`. */
function maxTime(what: string, ns: number, limitNs: number): Target {
  return { what, value: us(ns), goal: `≤ ${us(limitNs)}`, met: ns <= limitNs };
}

/** A target on a ratio, at most (`limit` > 0) or at least (`limit` < 0) `|limit|`. */
function ratioTarget(what: string, ratio: number, limit: number): Target {
  const met = limit > 0 ? ratio <= limit : ratio >= -limit;
  return { what, value: times(ratio), goal: `${limit > 0 ? "≤" : "≥"} ${Math.abs(limit)}×`, met };
}

async function sizeTargets(): Promise<Target[]> {
  const out: Target[] = [];
  for (const [entry, budget] of Object.entries(SIZE_BUDGETS)) {
    const file = exports[entry]!.replace(/^\.\//, "");
    const size = await minifiedGraphSize(
      root + file,
      `${root}.out/bench-size/${file.replace(/\.ts$/, "")}`,
    );
    out.push({
      what: `size: ${entry} with its static graph, min+gzip`,
      value: `${size.gzipBytes} B`,
      goal: `≤ ${budget} B`,
      met: size.gzipBytes <= budget,
    });
  }
  return out;
}

function targets(rows: Row[]): Target[] {
  const at = (name: string, group = "") =>
    find(rows.filter((row) => row.group.includes(group)), name).avg;
  const host = at("host called directly");
  const stub = at("shard stub called directly");
  const page = at("page, same HTML from a ready token (no preload)");
  const local = at("page, preload in-process") - page;
  const viaFetch = at("page, preload over fetch to the worker") - page;
  const viaHttp = at("page, preload over loopback HTTP") - page;
  const page1 = at("page, same HTML from a ready token (no preload), 1 row");
  const local1 = at("page, preload in-process, 1 row") - page1;
  const viaFetch1 = at("page, preload over fetch to the worker, 1 row") - page1;
  const form = at("form POST, same 303 without the mutation");
  const writeLocal = at("form POST, mutation in-process") - form;
  const writeFetch = at("form POST, mutation over fetch to the worker") - form;
  const writeHttp = at("form POST, mutation over loopback HTTP") - form;
  const bareNext = at("fresh locals + next() (no middleware)");
  const graph = (name: string) => at(name, "graph") - at("import an empty module", "graph");
  const single = (name: string) => at(name, "bundled") - at("import an empty module", "bundled");
  return [
    maxTime(
      "fall-through overhead, factory form (composed − host)",
      at("withLunora (factory form) → host") - host,
      2000,
    ),
    maxTime(
      "fall-through overhead, object form (composed − host)",
      at("withLunora (object form) → host") - host,
      2000,
    ),
    maxTime(
      "fall-through overhead, new request and ctx per call, factory form",
      at("withLunora (factory form) → host (new request and ctx)") -
        at("host called directly (new request)"),
      2000,
    ),
    maxTime(
      "fall-through overhead, new request and ctx per call, object form",
      at("withLunora (object form) → host (new request and ctx)") -
        at("host called directly (new request)"),
      2000,
    ),
    maxTime(
      "RPC dispatch beyond the shard call (identity + tenant gate)",
      at("POST /_lunora/rpc, identity + tenant gate (factory form)") - stub,
      25_000,
    ),
    maxTime(
      "RPC dispatch beyond the shard call (default shard)",
      at("POST /_lunora/rpc, default shard (object form)") - stub,
      25_000,
    ),
    ratioTarget(
      "encode: JSON.stringify(encodeWire()) / JSON.stringify, 100 rows",
      at("JSON.stringify(encodeWire())") / at("JSON.stringify"),
      1.5,
    ),
    ratioTarget(
      "decode: decodeWire(JSON.parse()) / JSON.parse, 100 rows",
      at("decodeWire(JSON.parse())") / at("JSON.parse"),
      1.5,
    ),
    ratioTarget(
      `SSR preload, 20 rows: over fetch to the worker / in-process (${us(viaFetch)} / ${
        us(local)
      })`,
      viaFetch / local,
      -3,
    ),
    ratioTarget(
      `SSR preload, 1 row: over fetch to the worker / in-process (${us(viaFetch1)} / ${
        us(local1)
      })`,
      viaFetch1 / local1,
      -3,
    ),
    ratioTarget(
      `SSR preload, 20 rows: over loopback HTTP / in-process (${us(viaHttp)} / ${us(local)})`,
      viaHttp / local,
      -3,
    ),
    ratioTarget(
      `SSR mutation: over loopback HTTP / in-process (${us(writeHttp)} / ${us(writeLocal)})`,
      writeHttp / writeLocal,
      -3,
    ),
    {
      what: `SSR mutation: over fetch to the worker / in-process (${us(writeFetch)} / ${
        us(writeLocal)
      })`,
      value: times(writeFetch / writeLocal),
      goal: "reported only",
      met: true,
    },
    maxTime(
      "locals middleware on a page that never reads locals.lunora (onRequest − bare next())",
      at("fresh locals + onRequest(context, next)") - bareNext,
      300,
    ),
    {
      what: "locals middleware, page reads locals.lunora once (− bare next())",
      value: us(at("fresh locals + onRequest(context, next), page reads locals.lunora") - bareNext),
      goal: "reported only",
      met: true,
    },
    {
      what: "cold: import server.ts − empty (module graph / bundled)",
      value: `${ms(graph("import server.ts"))} / ${ms(single("import bundled server.ts"))}`,
      goal: "reported only",
      met: true,
    },
    {
      what: "cold: import mod.ts − empty (graph) / bundled withLunora − empty",
      value: `${ms(graph("import mod.ts"))} / ${ms(single("import bundled withLunora"))}`,
      goal: "reported only",
      met: true,
    },
  ];
}

if (import.meta.main) {
  const { runs, raw } = parseArgs(Deno.args);
  const machine = `${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno} ` +
    `(V8 ${Deno.version.v8}), ${Deno.build.os}/${Deno.build.arch}`;
  console.log(`load average before: ${loadAverage()}`);
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
    if (runs > 1) console.error(`run ${run} of ${runs}…`);
    const report = await runOnce();
    cpu = report.cpu;
    results.push(report.benches);
  }
  const rows = collect(results);
  console.log(`${machine}, CPU ${cpu}`);
  console.log(`runs: ${runs}${runs > 1 ? " (each figure is the median over the runs)" : ""}`);
  printGroups(rows);
  console.log("\nTargets");
  for (const target of [...targets(rows), ...await clientTargets(rows), ...await sizeTargets()]) {
    console.log(
      `  ${target.met ? "ok  " : "MISS"} ${target.what}: ${target.value} (target ${target.goal})`,
    );
  }
  console.log(`\nload average after: ${loadAverage()}`);
}
