/**
 * The package's own memory behaviour on bare workerd. Under `wrangler dev` even a worker that
 * only answers "ok" grows by tens of MiB per thousand requests (its dev proxy and inspector
 * keep state), so the example's numbers cannot tell whether `withLunora` retains anything. Here
 * `bare_worker.ts` (withLunora from this repository's sources, a host, a Durable Object
 * shard) runs on the workerd binary alone, takes mixed traffic in blocks, and the process's RSS
 * and the isolate's JS heap (over workerd's inspector) are read after every block: memory must
 * level off.
 *
 * @module
 */
import { join } from "node:path";
import { ROOT } from "../example_app.ts";
import { assert, check } from "../report.ts";
import { Inspector } from "../inspector.ts";
import { freePort, groupMembers, GroupProcess, run, waitFor } from "../process.ts";
import { percentiles } from "./tally.ts";
import type { SoakContext } from "./context.ts";

/** Requests in one block; memory is read after each. */
const BLOCK = 10_000;
const CONCURRENCY = 10;
/** RSS may grow by at most this fraction over the second half of the run. */
const MAX_LATE_GROWTH = 0.1;

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

/**
 * The isolate's JS heap in use, in MiB, over workerd's inspector (`Runtime.getHeapUsage`; not
 * after a forced GC: workerd does not answer that request).
 */
async function heapUsedMiB(inspector: Inspector): Promise<number> {
  const { usedSize } = await inspector.send<{ usedSize: number }>("Runtime.getHeapUsage");
  return usedSize / 1_048_576;
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

/**
 * Runs `blocks` blocks of mixed traffic against the bare worker and checks that nothing was
 * lost, every answer had its expected status, and memory levelled off.
 */
export async function checkBareWorkerd(
  ctx: SoakContext,
  appDir: string,
  outDir: string,
  blocks: number,
): Promise<void> {
  const dir = join(outDir, "bare");
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
    join(ROOT, "tests", "workerd", "soak", "bare_worker.ts"),
  ]);
  const port = freePort();
  const inspectorPort = freePort();
  Deno.writeTextFileSync(join(dir, "config.capnp"), capnp(port));
  const server = new GroupProcess(
    [workerdBinary(appDir), "serve", "config.capnp", `--inspector-addr=127.0.0.1:${inspectorPort}`],
    join(outDir, "bare-workerd.log"),
    { cwd: dir },
  );
  const origin = `http://127.0.0.1:${port}`;
  let inspector: Inspector | undefined;
  try {
    await waitFor("bare workerd to answer /_lunora/status", async () => {
      const response = await fetch(`${origin}/_lunora/status`);
      await response.body?.cancel();
      return response.status === 200 || undefined;
    }, 20_000);
    const pid = workerdPid(server.pid);
    inspector = await Inspector.open(`ws://127.0.0.1:${inspectorPort}/main`);
    const rss = [rssMiB(pid)];
    const heap = [await heapUsedMiB(inspector)];
    const wrong = new Map<string, number>();
    const started = performance.now();

    for (let block = 0; block < blocks; block++) {
      let next = block * BLOCK;
      const end = next + BLOCK;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < end) {
          const n = next++;
          const { kind, status } = KINDS[n % KINDS.length]!;
          const answer = await ctx.tally.count(kind, async () => {
            const response = await request(origin, kind, n);
            await response.arrayBuffer();
            return response;
          });
          if (answer.status !== status) {
            const key = `${kind} ${answer.status}`;
            wrong.set(key, (wrong.get(key) ?? 0) + 1);
          }
        }
      }));
      rss.push(rssMiB(pid));
      heap.push(await heapUsedMiB(inspector));
    }
    const seconds = (performance.now() - started) / 1000;
    const total = blocks * BLOCK;

    await check(
      ctx,
      `bare workerd: ${total} mixed requests, none lost, each answered as expected`,
      () => {
        const { tally } = ctx;
        assert(tally.lost.length === 0, `${tally.lost.length} lost: ${tally.lost[0]}`);
        assert(tally.sent === total && tally.answered === total, `${tally.answered}/${tally.sent}`);
        assert(
          wrong.size === 0,
          `unexpected statuses: ${JSON.stringify(Object.fromEntries(wrong))}`,
        );
        const kinds = [...tally.byKind].map(([kind, entry]) =>
          `${kind} ${entry.answered} (${percentiles(entry.ms)})`
        );
        return `${(total / seconds).toFixed(0)} requests/s for ${seconds.toFixed(1)} s: ${
          kinds.join(", ")
        }`;
      },
    );

    const half = Math.floor(blocks / 2);
    const growth = (rss.at(-1)! - rss[half]!) / rss[half]!;
    const series = rss.map((mib) => mib.toFixed(0)).join(" -> ");
    const heapSeries = heap.map((mib) => mib.toFixed(1)).join(" ");
    ctx.numbers.set(
      "bare workerd",
      `${total} requests in ${
        seconds.toFixed(1)
      } s; RSS (MiB) every ${BLOCK}: ${series}; JS heap in use (MiB): ${heapSeries}`,
    );
    await check(
      ctx,
      `bare workerd: memory levels off (RSS grows at most ${
        MAX_LATE_GROWTH * 100
      }% over the second half)`,
      () => {
        assert(blocks >= 4, "needs at least 4 blocks to compare halves");
        assert(
          growth <= MAX_LATE_GROWTH,
          `RSS grew ${(growth * 100).toFixed(1)}% after ${half * BLOCK} requests: ${series}`,
        );
        return `RSS ${series} MiB (second half ${growth >= 0 ? "+" : ""}${
          (growth * 100).toFixed(1)
        }%); JS heap ${heapSeries} MiB`;
      },
    );
  } finally {
    await inspector?.close();
    await server.stop();
  }
}
