/**
 * `deno task bench:workerd`: what the composition costs on workerd, measured side by side
 * under load (not part of CI; it takes a few minutes).
 *
 * Builds `examples/chat` twice in `.out/bench-workerd/` (see `app.ts`): `composed`
 * (`withLunora(handle, options)`) and `bare` (Astro's `handle` plus a hand-rolled `/_lunora/rpc`
 * forward), serves both with `wrangler dev` on 127.0.0.1, seeds #general with 20 messages, and
 * drives them with autocannon (bounded request counts, loopback only). Each round runs every
 * side back to back (A B, then B A in the next round), and ratios are taken within a round,
 * then the median over rounds is reported: drift in the machine's load between rounds cancels.
 *
 * - `page`: `GET /` (an Astro page, no data) through the composed worker vs the bare entry;
 * - `rpc`: `POST /_lunora/rpc` (`messages:list` on #general) through the composed worker vs the
 *   hand-rolled forward;
 * - `ssr`: a page preloading that query in process (`context: Astro`) vs the same page calling
 *   the worker's own origin over HTTP, both on the composed worker.
 *
 *   deno task bench:workerd [--requests 1000] [--rounds 10] [--connections 8] [--reuse]
 *                           [--only page,rpc,ssr] [--aa] [--profile]
 *
 * `--aa` serves the bare build twice and measures it against itself (page and rpc): how far
 * apart two identical sides come out is the resolution of the method on this machine.
 *
 * `--profile` replaces the timed rounds with one CPU profile of the worker isolate per side:
 * each `wrangler dev` gets its own inspector port (127.0.0.1), and after a warm-up V8's sampling
 * profiler (asked for every 100 µs; about 200 µs apart here, over the DevTools Protocol)
 * records one load of `--requests` requests. Each `.cpuprofile` is written to
 * `.out/bench-workerd/profiles/` (it loads in Chrome DevTools) and its samples are attributed
 * through the build's source maps to `@lunora/astro`, the bench entry (`src/worker.ts`),
 * Astro + app, GC and `(program)` (see `profile.ts`). `@lunora/astro`'s share of the
 * isolate's samples on the composed page bounds what the composition costs a page whose limit
 * is the isolate's CPU; the CPU per request printed beside it (the isolate's, `wrangler dev`'s,
 * the machine's) shows how small a part of the whole the isolate is here. About 20,000 samples
 * per profile take `--profile --only page,rpc --requests 10000`.
 *
 * `--reuse` skips install and build when `.out/bench-workerd/` already holds both builds.
 * Every process started here runs in its own process group and is stopped on exit or Ctrl-C.
 *
 * @module
 */
import { join } from "node:path";
import {
  buildApp,
  installApp,
  nodeEnv,
  ROOT,
  type Server,
  startApp,
  TARBALL,
  tarballIsFresh,
} from "../../tests/workerd/example_app.ts";
import { freePort, run } from "../../tests/workerd/process.ts";
import { type BenchApps, prepareApps, RPC_ENVELOPE } from "./app.ts";
import { cpuModel, loadAverage } from "../_machine.ts";
import { median } from "../_median.ts";
import { ensureAutocannon, type Load, type LoadResult, runLoad, warmUp } from "./load.ts";
import {
  type Category,
  describeAttribution,
  type Profiled,
  profileSide,
  shareOf,
} from "./profile.ts";

const OUT = join(ROOT, ".out", "bench-workerd");

type ScenarioKey = "page" | "rpc" | "ssr";

interface Options {
  requests: number;
  rounds: number;
  connections: number;
  reuse: boolean;
  /**
   * A/A check of the method: the `bare` build served twice and measured as if one were the
   * composed worker (page and rpc only). Its ratios show how far apart identical sides come out.
   */
  aa: boolean;
  /** Scenarios to run (all by default). */
  only: ScenarioKey[];
  /** One CPU profile of the worker isolate per side instead of the timed rounds. */
  profile: boolean;
}

function parseOptions(args: string[]): Options {
  const options: Options = {
    requests: 1000,
    rounds: 10,
    connections: 8,
    reuse: false,
    aa: false,
    only: ["page", "rpc", "ssr"],
    profile: false,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--reuse") {
      options.reuse = true;
      continue;
    }
    if (arg === "--profile") {
      options.profile = true;
      continue;
    }
    if (arg === "--aa") {
      options.aa = true;
      options.only = options.only.filter((key) => key !== "ssr");
      continue;
    }
    if (arg === "--only") {
      const keys = (args[++i] ?? "").split(",");
      if (!keys.every((key) => key === "page" || key === "rpc" || key === "ssr")) {
        throw new TypeError(`Cannot run bench:workerd: --only takes page, rpc and/or ssr`);
      }
      options.only = keys as ScenarioKey[];
      continue;
    }
    const name = arg.replace(/^--/, "") as keyof Options;
    if (!["requests", "rounds", "connections"].includes(name)) {
      throw new TypeError(`Cannot run bench:workerd: unknown argument ${JSON.stringify(arg)}`);
    }
    const value = Number(args[++i]);
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`Cannot run bench:workerd: ${arg} needs a positive integer`);
    }
    (options as unknown as Record<string, number>)[name] = value;
  }
  return options;
}

/** Builds the tarball (`deno task build:npm`) unless it is newer than every source. */
async function ensureTarball(): Promise<void> {
  if (tarballIsFresh()) {
    console.log("reusing .out/lunora-astro.tgz (newer than every source)");
    return;
  }
  const started = Date.now();
  try {
    await run([Deno.execPath(), "task", "build:npm"], { cwd: ROOT });
  } catch (error) {
    const packed = Deno.statSync(TARBALL).mtime?.getTime() ?? 0;
    if (packed < started) throw error;
    console.log("WARNING: build:npm reported failed checks; benchmarking its fresh tarball");
  }
}

function built(apps: BenchApps): boolean {
  return [apps.composed, apps.bare].every((dir) => {
    try {
      return Deno.statSync(join(dir, "dist", "server", "wrangler.json")).isFile;
    } catch {
      return false;
    }
  });
}

async function expectOk(url: string, init: RequestInit, needle: string): Promise<void> {
  const response = await fetch(url, init);
  const text = await response.text();
  if (response.status !== 200 || !text.includes(needle)) {
    throw new Error(
      `${init.method ?? "GET"} ${url} answered ${response.status}: ${text.slice(0, 300)}`,
    );
  }
}

const rpcInit = (body: string): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body,
});

async function seed(origin: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const body = JSON.stringify({
      functionPath: "messages:send",
      args: { channel: "general", body: `bench message ${i}: the quick brown fox jumps` },
      shardKey: "general",
    });
    await expectOk(`${origin}/_lunora/rpc`, rpcInit(body), '"result"');
  }
}

interface Scenario {
  key: ScenarioKey;
  name: string;
  /** The measured side and its reference. */
  sides: Array<{ label: string; load: Load }>;
}

/** A side's medians over the rounds (failed and completed requests summed). */
type Summary = LoadResult & { label: string };

/** What a scenario measured: per side, and per round (`rounds[round][side]`). */
interface Measured {
  sides: Summary[];
  rounds: LoadResult[][];
}

/** The median over rounds of `of(round)`, with the smallest and largest, as text. */
function spread(rounds: LoadResult[][], of: (round: LoadResult[]) => number): {
  value: number;
  text: string;
} {
  const values = rounds.map(of);
  const value = median(values);
  const low = Math.min(...values).toFixed(3);
  const high = Math.max(...values).toFixed(3);
  return { value, text: `${value.toFixed(3)}× (rounds ${low}–${high})` };
}

/**
 * Runs every side of `scenario` once per round, back to back, in A B / B A order, so each
 * round's sides share the machine's load of that moment; ratios are then taken per round.
 */
async function measure(
  scenario: Scenario,
  options: Options,
  autocannon: string,
  env: Record<string, string>,
): Promise<Measured> {
  const rounds: LoadResult[][] = [];
  for (const side of scenario.sides) await warmUp(autocannon, side.load, env);
  for (let round = 0; round < options.rounds; round++) {
    const order = scenario.sides.map((_, index) => index);
    if (round % 2 === 1) order.reverse();
    const results: LoadResult[] = [];
    for (const index of order) {
      const result = await runLoad(autocannon, scenario.sides[index]!.load, env);
      results[index] = result;
      console.log(
        `  ${scenario.name} round ${round + 1} ${scenario.sides[index]!.label}: ` +
          `${result.rps.toFixed(1)} req/s, mean ${result.mean.toFixed(2)} ms, ` +
          `p50 ${result.p50} ms, p99 ${result.p99} ms` +
          (result.failed > 0 ? `, ${result.failed} failed` : ""),
      );
    }
    rounds.push(results);
  }
  const sides = scenario.sides.map((side, index) => {
    const runs = rounds.map((results) => results[index]!);
    return {
      label: side.label,
      rps: median(runs.map((r) => r.rps)),
      mean: median(runs.map((r) => r.mean)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      failed: runs.reduce((sum, r) => sum + r.failed, 0),
      completed: runs.reduce((sum, r) => sum + r.completed, 0),
    };
  });
  return { sides, rounds };
}

function printSummary(name: string, { sides, rounds }: Measured): void {
  console.log(`\n${name}`);
  for (const s of sides) {
    console.log(
      `  ${s.label.padEnd(34)} ${s.rps.toFixed(1).padStart(7)} req/s   mean ${
        s.mean.toFixed(2).padStart(6)
      } ms   p50 ${s.p50.toFixed(0).padStart(3)} ms   p99 ${s.p99.toFixed(0).padStart(4)} ms   ` +
        `${s.completed} requests, ${s.failed} failed`,
    );
  }
  const throughput = spread(rounds, (round) => round[0]!.rps / round[1]!.rps);
  const p99 = spread(rounds, (round) => round[0]!.p99 / round[1]!.p99);
  console.log(
    `  ${sides[0]!.label} / ${sides[1]!.label}, per round: throughput ${throughput.text}, ` +
      `p99 ${p99.text}`,
  );
}

/** With `--profile`, per server: its inspector port, process group and app directory. */
type Inspected = { inspectorPort: number; pgid: number; appDir: string };

/** A file name for a side: `page-composed-withlunora`. */
function slug(scenario: ScenarioKey, label: string): string {
  return `${scenario}-${label.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "")}`;
}

/**
 * `--profile`: for each side of each scenario, a warm-up, then one load of `--requests`
 * requests under V8's sampling profiler; prints where the isolate's samples went.
 */
async function profileScenarios(
  scenarios: Scenario[],
  inspected: Map<string, Inspected>,
  options: Options,
  autocannon: string,
  env: Record<string, string>,
): Promise<number> {
  const dir = join(OUT, "profiles");
  console.log(
    `\nCPU profiles of the worker isolate: ${options.requests} requests per side, ` +
      `${options.connections} connections, sampling every 100 µs; load average ${loadAverage()}`,
  );
  const profiled = new Map<ScenarioKey, Profiled[]>();
  let failed = 0;
  for (const scenario of scenarios) {
    const results: Profiled[] = [];
    for (const side of scenario.sides) {
      const target = inspected.get(new URL(side.load.url).origin)!;
      const file = join(dir, `${slug(scenario.key, side.label)}.cpuprofile`);
      const result = await profileSide(autocannon, { ...target, load: side.load, file }, env);
      results.push(result);
      failed += result.result.failed;
      console.log(
        `\n${scenario.name}, ${side.label}: ${result.result.completed} requests ` +
          `(${result.result.rps.toFixed(1)} req/s while profiled` +
          (result.result.failed > 0 ? `, ${result.result.failed} failed` : "") +
          `), ${file.slice(ROOT.length + 1)}`,
      );
      for (const line of describeAttribution(result.attribution)) console.log(`  ${line}`);
      const { samples, total, interval } = result.attribution;
      const isolate = (total - samples["(idle)"]) * interval / 1000 / result.result.completed;
      const cpu = result.cpuPerRequest;
      console.log(
        `    CPU per request: isolate ≈ ${isolate.toFixed(2)} ms (not-idle samples × median ` +
          `interval)` +
          (cpu
            ? `, wrangler dev's processes ${cpu.group.toFixed(2)} ms, the machine ` +
              `${cpu.machine.toFixed(2)} ms (all cores, load generator included)`
            : ""),
      );
    }
    profiled.set(scenario.key, results);
  }
  console.log(
    `\nShares of the isolate's non-idle samples (CPU ${cpuModel()}; load average now ` +
      `${loadAverage()})`,
  );
  for (const scenario of scenarios) {
    scenario.sides.forEach((side, index) => {
      const attribution = profiled.get(scenario.key)![index]!.attribution;
      const busy = attribution.total - attribution.samples["(idle)"];
      const share = (category: Category) =>
        `${shareOf(attribution, category).toFixed(2)}%`.padStart(7);
      console.log(
        `  ${scenario.key.padEnd(4)} ${side.label.padEnd(36)} ${String(busy).padStart(7)} ` +
          `samples: @lunora/astro ${share("@lunora/astro")}, entry ${share("bench entry")}, ` +
          `Astro + app ${share("Astro + app")}, GC ${share("(garbage collector)")}, ` +
          `program ${share("(program)")}`,
      );
    });
  }
  const page = profiled.get("page")?.map((side) => side.attribution);
  const labels = scenarios.find((scenario) => scenario.key === "page")?.sides.map((s) => s.label);
  if (page && labels) {
    const ours = shareOf(page[0]!, "@lunora/astro");
    console.log(
      `\n  ${ours <= 2 ? "ok  " : "MISS"} @lunora/astro share of worker CPU on an Astro page ` +
        `(${labels[0]}): ${ours.toFixed(2)}% of the isolate's non-idle ` +
        `samples (target ≤ 2%; it bounds the page throughput the composition costs where the ` +
        `isolate's CPU is the limit)`,
    );
    const composed = shareOf(page[0]!, "@lunora/astro", "bench entry");
    const bare = shareOf(page[1]!, "@lunora/astro", "bench entry");
    console.log(
      `  info the entries beside Astro's handle, ${labels[0]} − ${labels[1]}: ` +
        `${composed.toFixed(2)}% − ${bare.toFixed(2)}% = ` +
        `${(composed - bare).toFixed(2)} points of the isolate's non-idle samples`,
    );
  }
  if (failed > 0) console.log(`\n${failed} requests failed (see the sides above)`);
  return failed > 0 ? 1 : 0;
}

async function main(): Promise<number> {
  const options = parseOptions(Deno.args);
  console.log(
    `${cpuModel()}, ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}; ` +
      `load average ${loadAverage()}`,
  );
  await ensureTarball();
  const env = { ...await nodeEnv(), WRANGLER_LOG_PATH: join(OUT, "wrangler-logs") };
  const autocannon = await ensureAutocannon(env);

  let apps: BenchApps = {
    composed: join(OUT, "apps", "composed"),
    bare: join(OUT, "apps", "bare"),
  };
  if (!options.reuse || !built(apps)) {
    apps = await prepareApps(join(OUT, "apps"));
    for (const dir of [apps.composed, apps.bare]) {
      await installApp(dir, env);
      await buildApp(dir, env);
    }
  }

  const servers: Server[] = [];
  /** Per server origin, with `--profile`: its inspector port and the app it serves. */
  const inspected = new Map<string, Inspected>();
  const stopAll = async () => {
    await Promise.all(servers.splice(0).map((server) => server.process.stop()));
  };
  const onSignal = () => {
    stopAll().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    const serve: Array<[string, string]> = options.aa
      ? [["bare-a", apps.bare], ["bare-b", apps.bare]]
      : Object.entries(apps);
    for (const [kind, dir] of serve) {
      const state = join(OUT, "state", kind);
      await Deno.remove(state, { recursive: true }).catch(() => {});
      Deno.mkdirSync(state, { recursive: true });
      const inspectorPort = options.profile ? freePort() : undefined;
      const server = await startApp(dir, env, {
        port: freePort(),
        persistTo: state,
        adminToken: crypto.randomUUID(),
        logPath: join(OUT, `wrangler-${kind}.log`),
        ...(inspectorPort === undefined ? {} : { inspectorPort }),
      });
      servers.push(server);
      if (inspectorPort !== undefined) {
        inspected.set(server.origin, { inspectorPort, pgid: server.process.pid, appDir: dir });
      }
    }
    const [composed, bare] = servers as [Server, Server];
    for (const server of servers) {
      await seed(server.origin);
      await expectOk(`${server.origin}/`, {}, "<html");
      await expectOk(`${server.origin}/_lunora/rpc`, rpcInit(RPC_ENVELOPE), "bench message 19");
    }
    if (options.only.includes("ssr")) {
      await expectOk(`${composed.origin}/bench/in-process`, {}, "bench message 19");
      await expectOk(`${composed.origin}/bench/over-http`, {}, "bench message 19");
      await expectOk(`${composed.origin}/bench/no-preload`, {}, "bench message 19");
    }

    const base = { requests: options.requests, connections: options.connections };
    const rpcLoad = (origin: string): Load => ({
      ...base,
      url: `${origin}/_lunora/rpc`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: RPC_ENVELOPE,
    });
    const labels: [string, string] = options.aa
      ? ["bare, A", "bare, B"]
      : ["composed (withLunora)", "bare"];
    const scenarios: Scenario[] = [
      {
        key: "page",
        name: "page: GET / (Astro page)",
        sides: [
          { label: labels[0], load: { ...base, url: `${composed.origin}/` } },
          { label: labels[1], load: { ...base, url: `${bare.origin}/` } },
        ],
      },
      {
        key: "rpc",
        name: "rpc: POST /_lunora/rpc (messages:list, 20 rows)",
        sides: [
          { label: labels[0], load: rpcLoad(composed.origin) },
          {
            label: `${labels[1]}${options.aa ? "" : " (hand-rolled forward)"}`,
            load: rpcLoad(bare.origin),
          },
        ],
      },
      {
        key: "ssr",
        name: "ssr: page preloading messages:list (composed worker)",
        sides: [
          {
            label: "in-process (context: Astro)",
            load: { ...base, url: `${composed.origin}/bench/in-process` },
          },
          {
            label: "over HTTP to its own origin",
            load: { ...base, url: `${composed.origin}/bench/over-http` },
          },
          {
            label: "no preload (same HTML, fixed data)",
            load: { ...base, url: `${composed.origin}/bench/no-preload` },
          },
        ],
      },
    ];
    if (options.profile) {
      const chosen = scenarios.filter((scenario) => options.only.includes(scenario.key));
      return await profileScenarios(chosen, inspected, options, autocannon, env);
    }
    console.log(
      `\n${options.rounds} rounds × ${options.requests} requests per side, ` +
        `${options.connections} connections, autocannon; load average ${loadAverage()}`,
    );
    const measured = new Map<ScenarioKey, Measured>();
    for (const scenario of scenarios) {
      if (!options.only.includes(scenario.key)) continue;
      const result = await measure(scenario, options, autocannon, env);
      measured.set(scenario.key, result);
    }
    console.log(`\nMedians over ${options.rounds} rounds (load average now ${loadAverage()})`);
    let failed = 0;
    for (const scenario of scenarios) {
      const result = measured.get(scenario.key);
      if (result === undefined) continue;
      printSummary(scenario.name, result);
      failed += result.sides.reduce((sum, s) => sum + s.failed, 0);
    }
    console.log(
      `\nTargets (ratios of the two sides within each round; the median over ${options.rounds} ` +
        `rounds [lowest–highest round])\n  CPU ${cpuModel()}, ` +
        `${navigator.hardwareConcurrency} cores; load average now ${loadAverage()}`,
    );
    const page = measured.get("page");
    if (page) {
      const ratio = spread(page.rounds, ([composed, bare]) => composed!.rps / bare!.rps);
      console.log(
        `  ${ratio.value >= 0.98 ? "ok  " : "MISS"} page throughput, ${labels[0]} / ${
          labels[1]
        }: ` +
          `${ratio.text} (target ≥ 0.98×, i.e. ≤ 2% lost)`,
      );
    }
    const rpc = measured.get("rpc");
    if (rpc) {
      const ratio = spread(rpc.rounds, ([composed, bare]) => composed!.rps / bare!.rps);
      console.log(
        `  ${ratio.value >= 0.95 ? "ok  " : "MISS"} rpc throughput, ${labels[0]} / ${
          labels[1]
        }: ${ratio.text} (target ≥ 0.95×, i.e. the checks the forward leaves out cost ≤ 5%)`,
      );
    }
    const ssr = measured.get("ssr");
    if (ssr) {
      // The machine is saturated, so 1 / throughput is the CPU time a request costs; the page
      // without a preload is subtracted (per round) to leave the preload's own cost. A round's
      // in-process cost can be close to zero, so the ratio is taken between the medians.
      const cost = (side: LoadResult, none: LoadResult) => 1000 / side.rps - 1000 / none.rps;
      const local = median(ssr.rounds.map(([side, , none]) => cost(side!, none!)));
      const remote = median(ssr.rounds.map(([, side, none]) => cost(side!, none!)));
      const ratio = remote / local;
      console.log(
        `  ${ratio >= 3 ? "ok  " : "MISS"} SSR preload cost, over HTTP / in-process: ` +
          `${ratio.toFixed(2)}× (target ≥ 3×): ${remote.toFixed(2)} ms / ${local.toFixed(2)} ms ` +
          `per request (medians over rounds of page − no-preload page)`,
      );
    }
    if (failed > 0) console.log(`\n${failed} requests failed (see the rounds above)`);
    return failed > 0 ? 1 : 0;
  } finally {
    await stopAll();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

if (import.meta.main) Deno.exit(await main());
