/**
 * The package's own memory behaviour on bare workerd, judged side by side. Under `wrangler dev`
 * even a worker that only answers "ok" grows by tens of MiB per thousand requests (its dev proxy
 * and inspector keep state), so the example's numbers cannot tell whether `withLunora` retains
 * anything. Here two workers run on the workerd binary alone, in two processes started by the
 * same run from the same binary:
 *
 * - `composed`: `bare_worker.ts`, `withLunora` from this repository's sources around the host
 *   and Durable Object shard of `bare_app.ts`;
 * - `baseline`: `baseline_worker.ts`, the same host and shard behind a hand-written router.
 *
 * Both take the same mixed traffic at the same time, in blocks. Before the traffic and after every
 * block, each isolate gets a full garbage collection (`Runtime.queryObjects` over workerd's
 * inspector), then its live `Request` objects, its JS heap and its process's RSS are read: what is
 * left is what the worker retains, whenever the collector would have run on its own (which is what
 * made a single process's RSS swing with the machine's load). The composed worker is judged
 * against the baseline, never against a fixed figure:
 *
 * - at rest it may hold no more live `Request` objects than the baseline (a leak that keeps
 *   requests cannot hide from the count);
 * - its heap may grow, from the first block to the last, at most 0.5 MiB more than the
 *   baseline's (about 15 bytes a request);
 * - its RSS may grow over the second half at most 15% of the baseline's RSS more than the
 *   baseline's (the allocator's noise), which a leak of whole requests exceeds many times over.
 *
 * `leaking: true` (`deno task soak --bare-only --leaking-build`) serves `leaking_worker.ts`, a
 * composed worker that keeps every `Request`, in place of the composed one: the checks must fail.
 *
 * @module
 */
import { join } from "node:path";
import { ROOT } from "../example_app.ts";
import { assert, check } from "../report.ts";
import { freePort, groupMembers, GroupProcess, run, waitFor } from "../process.ts";
import { type Retained, retained } from "./isolate_heap.ts";
import { percentiles } from "./tally.ts";
import type { SoakContext } from "./context.ts";

/** Requests to each side in one block; memory is read after each. */
const BLOCK = 3_000;
/** Connections to each side. */
const CONCURRENCY = 6;
/** Live `Request` objects at rest the composed side may hold beyond the baseline's. */
const MAX_EXTRA_REQUESTS = 0;
/** Post-GC heap growth (first block → last) the composed side may have beyond the baseline's. */
const MAX_EXTRA_HEAP_MIB = 0.5;
/**
 * Second-half RSS growth the composed side may have beyond the baseline's, as a fraction of
 * the baseline's RSS at the half.
 */
const MAX_EXTRA_RSS = 0.15;

/** The workerd binary wrangler installed for the example. */
function workerdBinary(appDir: string): string {
  const candidates = [
    join(appDir, "node_modules", "@cloudflare", "workerd-linux-64", "bin", "workerd"),
    join(
      appDir,
      "node_modules",
      "wrangler",
      "node_modules",
      "@cloudflare",
      "workerd-linux-64",
      "bin",
      "workerd",
    ),
  ];
  const found = candidates.find((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });
  assert(found, `no workerd binary under ${appDir}/node_modules`);
  return found;
}

function capnp(port: number): string {
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [ (name = "worker", esModule = embed "worker.js") ],
  compatibilityDate = "2026-10-01",
  durableObjectNamespaces = [ (className = "Shard", uniqueKey = "lunora-soak-shard") ],
  durableObjectStorage = (inMemory = void),
  bindings = [ (name = "SHARD", durableObjectNamespace = "Shard") ],
);
`;
}

function rssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) / 1024;
}

/** The workerd process itself (the group leader is `setsid`'s exec of it). */
function workerdPid(pgid: number): number {
  const workerd = groupMembers(pgid).find((member) => member.comm === "workerd");
  if (workerd === undefined) throw new Error(`no workerd process in group ${pgid}`);
  return workerd.pid;
}

/** What the phase needs of the soak context: no server of the example, no users. */
export type BareContext = Pick<SoakContext, "report" | "label" | "tally" | "numbers">;

/** What each kind of request sends and must answer. */
const KINDS = [
  { kind: "rpc", status: 200 },
  { kind: "status", status: 200 },
  { kind: "page", status: 200 },
  { kind: "throwing page", status: 500 },
  { kind: "unknown reserved path", status: 404 },
] as const;

function request(origin: string, kind: string, n: number): Promise<Response> {
  switch (kind) {
    case "rpc":
      return fetch(`${origin}/_lunora/rpc`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          functionPath: "messages:send",
          args: { body: `bare ${n} ${"x".repeat(200)}` },
          shardKey: `shard-${n % 4}`,
        }),
      });
    case "status":
      return fetch(`${origin}/_lunora/status`);
    case "page":
      return fetch(`${origin}/channels/general?n=${n}`);
    case "throwing page":
      return fetch(`${origin}/boom`);
    default:
      return fetch(`${origin}/_lunora/nope`, { method: "POST" });
  }
}

/** One worker on its own workerd process, and what was read from it. */
interface Side {
  name: "composed" | "baseline";
  server: GroupProcess;
  origin: string;
  /** Its isolate's inspector WebSocket. */
  inspectorUrl: string;
  pid?: number;
  /** After a full collection, at the start and after every block: what the isolate retained. */
  retained: Retained[];
  /** RSS (MiB) right after each of those collections. */
  rss: number[];
  /** Answers with a status other than expected, by `kind status`. */
  wrong: Map<string, number>;
}

async function startSide(
  name: Side["name"],
  entry: string,
  binary: string,
  outDir: string,
): Promise<Side> {
  const dir = join(outDir, "bare", name);
  Deno.mkdirSync(dir, { recursive: true });
  await run([
    Deno.execPath(),
    "bundle",
    "--quiet",
    "--config",
    join(ROOT, "deno.json"),
    "--platform",
    "browser",
    "-o",
    join(dir, "worker.js"),
    join(ROOT, "tests", "workerd", "soak", entry),
  ]);
  const port = freePort();
  const inspectorPort = freePort();
  Deno.writeTextFileSync(join(dir, "config.capnp"), capnp(port));
  const server = new GroupProcess(
    [binary, "serve", "config.capnp", `--inspector-addr=127.0.0.1:${inspectorPort}`],
    join(outDir, `bare-workerd-${name}.log`),
    { cwd: dir },
  );
  return {
    name,
    server,
    origin: `http://127.0.0.1:${port}`,
    inspectorUrl: `ws://127.0.0.1:${inspectorPort}/main`,
    retained: [],
    rss: [],
    wrong: new Map(),
  };
}

/** Sends requests `from` to `to` (exclusive) to one side, `CONCURRENCY` at a time. */
async function block(ctx: BareContext, side: Side, from: number, to: number): Promise<void> {
  let next = from;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < to) {
      const n = next++;
      const { kind, status } = KINDS[n % KINDS.length]!;
      const answer = await ctx.tally.count(`${side.name} ${kind}`, async () => {
        const response = await request(side.origin, kind, n);
        await response.arrayBuffer();
        return response;
      });
      if (answer.status !== status) {
        const key = `${side.name} ${kind} ${answer.status}`;
        side.wrong.set(key, (side.wrong.get(key) ?? 0) + 1);
      }
    }
  }));
}

/** A full garbage collection in the side's isolate, then what it retained and the RSS. */
async function read(side: Side): Promise<void> {
  side.retained.push(await retained(side.inspectorUrl));
  side.rss.push(rssMiB(side.pid!));
}

const mib = (value: number) => `${value >= 0 ? "+" : ""}${value.toFixed(1)} MiB`;

/**
 * Runs `blocks` blocks of mixed traffic against the composed worker and the baseline at once,
 * and checks that nothing was lost, every answer had its expected status, and the composed
 * worker retained no more than the baseline.
 */
export async function checkBareWorkerd(
  ctx: BareContext,
  appDir: string,
  outDir: string,
  blocks: number,
  leaking = false,
): Promise<void> {
  const binary = workerdBinary(appDir);
  if (leaking) {
    console.log("bare workerd: the LEAKING build (every Request kept) stands in for the composed");
  }
  const sides = [
    await startSide("composed", leaking ? "leaking_worker.ts" : "bare_worker.ts", binary, outDir),
    await startSide("baseline", "baseline_worker.ts", binary, outDir),
  ];
  const [composed, baseline] = sides as [Side, Side];
  try {
    for (const side of sides) {
      await waitFor(`bare workerd (${side.name}) to answer /_lunora/status`, async () => {
        const response = await fetch(`${side.origin}/_lunora/status`);
        await response.body?.cancel();
        return response.status === 200 || undefined;
      }, 60_000);
      side.pid = workerdPid(side.server.pid);
      await read(side);
    }
    const started = performance.now();
    for (let index = 0; index < blocks; index++) {
      const from = index * BLOCK;
      await Promise.all(sides.map((side) => block(ctx, side, from, from + BLOCK)));
      for (const side of sides) await read(side);
    }
    const seconds = (performance.now() - started) / 1000;
    const total = blocks * BLOCK;

    await check(
      ctx,
      `bare workerd: ${total} mixed requests to the composed worker and ${total} to the baseline, none lost, each answered as expected`,
      () => {
        const { tally } = ctx;
        assert(tally.lost.length === 0, `${tally.lost.length} lost: ${tally.lost[0]}`);
        assert(
          tally.sent === 2 * total && tally.answered === 2 * total,
          `${tally.answered}/${tally.sent}`,
        );
        const wrong = new Map([...composed.wrong, ...baseline.wrong]);
        assert(
          wrong.size === 0,
          `unexpected statuses: ${JSON.stringify(Object.fromEntries(wrong))}`,
        );
        const kinds = [...tally.byKind].map(([kind, entry]) =>
          `${kind} ${entry.answered} (${percentiles(entry.ms)})`
        );
        return `${(2 * total / seconds).toFixed(0)} requests/s for ${seconds.toFixed(1)} s: ${
          kinds.join(", ")
        }`;
      },
    );

    const series = (values: number[], digits: number) =>
      values.map((value) => value.toFixed(digits)).join(" ");
    for (const side of sides) {
      ctx.numbers.set(
        `bare workerd, ${side.name}`,
        `after a full GC at the start and every ${BLOCK} requests: RSS (MiB) ${
          series(side.rss, 0)
        }; JS heap (MiB) ${series(side.retained.map((r) => r.heapMiB), 2)}; live requests ${
          side.retained.map((r) => r.requests).join(" ")
        }`,
      );
    }
    ctx.numbers.set(
      "bare workerd",
      `${2 * total} requests in ${seconds.toFixed(1)} s; load average ${
        Deno.loadavg().map((value) => value.toFixed(2)).join(" ")
      } at the end`,
    );

    const composedEnd = composed.retained.at(-1);
    const baselineEnd = baseline.retained.at(-1);
    await check(
      ctx,
      `bare workerd: at rest after a full GC, the composed worker holds no more live Request objects than the baseline`,
      () => {
        assert(composedEnd && baselineEnd, "no reading after the last block");
        assert(
          composedEnd.requests <= baselineEnd.requests + MAX_EXTRA_REQUESTS,
          `the composed worker holds ${composedEnd.requests} live Request objects after ` +
            `${total} requests, the baseline ${baselineEnd.requests}`,
        );
        return `composed ${composedEnd.requests}, baseline ${baselineEnd.requests} after ${total} requests each`;
      },
    );

    // From the first block on: the first block warms the isolate up (code, caches, shards).
    const heapGrowth = (side: Side) => side.retained.at(-1)!.heapMiB - side.retained[1]!.heapMiB;
    await check(
      ctx,
      `bare workerd: after a full GC, the composed worker's JS heap grows at most ${MAX_EXTRA_HEAP_MIB} MiB more than the baseline's from the first block to the last`,
      () => {
        assert(blocks >= 2, "needs at least 2 blocks");
        const extra = heapGrowth(composed) - heapGrowth(baseline);
        const text = `composed ${mib(heapGrowth(composed))} (${
          series(composed.retained.slice(1).map((r) => r.heapMiB), 2)
        } MiB), baseline ${mib(heapGrowth(baseline))} (${
          series(baseline.retained.slice(1).map((r) => r.heapMiB), 2)
        } MiB) over ${(blocks - 1) * BLOCK} requests each`;
        assert(extra <= MAX_EXTRA_HEAP_MIB, `${mib(extra)} beyond the baseline: ${text}`);
        return text;
      },
    );

    // `rss[i]` is read after block i (rss[0] before any traffic).
    const half = Math.floor(blocks / 2);
    const rssGrowth = (side: Side) => side.rss.at(-1)! - side.rss[half]!;
    await check(
      ctx,
      `bare workerd: memory levels off beside the baseline (second-half RSS growth at most the baseline's + ${
        MAX_EXTRA_RSS * 100
      }% of its RSS)`,
      () => {
        assert(blocks >= 4, "needs at least 4 blocks to compare halves");
        const allowed = rssGrowth(baseline) + MAX_EXTRA_RSS * baseline.rss[half]!;
        const text = `second half: composed ${mib(rssGrowth(composed))} (${
          series(composed.rss, 0)
        } MiB), baseline ${mib(rssGrowth(baseline))} (${series(baseline.rss, 0)} MiB)`;
        assert(rssGrowth(composed) <= allowed, `${text}; allowed ${mib(allowed)}`);
        return text;
      },
    );
  } finally {
    for (const side of sides) {
      await side.server.stop();
    }
  }
}
