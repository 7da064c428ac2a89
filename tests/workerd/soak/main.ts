/**
 * `deno task soak`: the example app on workerd under load, faults and hostile input.
 *
 * 1. Node 22 from npm, the npm build of this package (reused when fresh), `examples/chat`
 *    installed with that tarball, the app under test made from it in `.out/soak/app/` (the
 *    example with the test entry of `../example_under_test/` laid over it) and built,
 *    `wrangler dev` on a free loopback port with fresh state in `.out/soak/`.
 * 2. Faults injected through the shard's test functions (`../example_under_test/app/src/
 *    under_test/faults.ts`): client-visible codes
 *    over `/_lunora/rpc` and WebSocket error frames; server writes whose shard call fails
 *    `retryable` (a keyed mutation retried with the same id and stored once, an action called
 *    once and answered `UNAVAILABLE`, browser-sent ids never passed on); everything else keeps
 *    working.
 * 3. Hostile input over raw HTTP: the threat matrix rows that can be sent over the wire.
 * 4. Live islands (`live_islands.ts`, rows 63, 64, 67): ten pages of `@lunora/astro/client`
 *    holding 50 stores over 3 shards under writes; every socket closed at once; an expired WS
 *    token.
 * 5. Load (rows 52, 61): WebSocket subscribers on two channels, mutations from several clients
 *    (RPC, and the send form posted to the Astro Action: some twice at once, some hit by
 *    `retryable` faults), SSR and throwing-page loads interleaved, in rounds; subscribers'
 *    state = stored rows = acknowledged writes (one row per acknowledged form key); requests sent = answered; no 5xx but the throwing page's; workerd
 *    memory before and after.
 * 6. Restart (row 53) on the same state and port, with no admin token configured (row 25):
 *    the rows are there, subscribers reconnect, resume and receive new pushes.
 * 7. The package alone on bare workerd (`bare.ts`), beside a hand-written baseline worker on
 *    the same binary: the same mixed traffic to both in blocks of 3,000 requests; nothing lost,
 *    and after a full GC the composed worker retains no more than the baseline (live requests,
 *    heap, RSS; wrangler dev's own growth left out).
 *
 * Options (all optional): `--rounds N` of load (default 10), `--subscribers N` (20),
 * `--mutations N` per round (200), `--writers N` (10), `--bare-blocks N` (12), `--bare-only`
 * (phase 7 alone: no astro build, no wrangler dev), `--leaking-build` (or the environment
 * variable `LUNORA_SOAK_LEAKING_BUILD=1`: phase 7 serves a composed worker that keeps every
 * `Request`, to show that its checks fail). Every process it starts is stopped by process group.
 * Prints the numbers, then a plain `N passed, M failed` line; exits non-zero on any failure.
 *
 * @module
 */
import { positiveOption } from "../options.ts";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  buildApp,
  installApp,
  lockTree,
  nodeEnv,
  ROOT,
  type Server,
  ServerSet,
  tarballIsFresh,
} from "../example_app.ts";
import { makeAppUnderTest } from "../example_under_test/overlay.ts";
import { freePort, run } from "../process.ts";
import { Report, runScript } from "../report.ts";
import { describeMemory, workerdMemory } from "./memory.ts";
import { Tally } from "./tally.ts";
import type { User } from "../client.ts";
import { phase, signUpCounted, type SoakContext } from "./context.ts";
import { checkBareWorkerd } from "./bare.ts";
import { checkFaults } from "./faults.ts";
import { checkLiveIslands } from "./live_islands.ts";
import { checkAdminUnset, checkHostile } from "./hostile.ts";
import {
  checkLoad,
  checkRestart,
  type LoadOptions,
  type LoadState,
  WRITES_AFTER_RESTART,
} from "./load.ts";

const CHAT = join(ROOT, "examples", "chat");
const OUT = join(ROOT, ".out", "soak");
/** The app under test: the example with the test entry laid over it. */
const APP = join(OUT, "app");
/** better-auth users (its rate limit allows 10 sign-ups a minute per address). */
const USERS = ["alice", "bob", "carol", "dave", "mallory"];

const positive = (name: string, value: string | undefined, fallback: number): number =>
  positiveOption("the soak test", name, value, fallback);

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string" },
    subscribers: { type: "string" },
    mutations: { type: "string" },
    writers: { type: "string" },
    "bare-blocks": { type: "string" },
    "bare-only": { type: "boolean" },
    "leaking-build": { type: "boolean" },
  },
});
const options: LoadOptions = {
  rounds: positive("rounds", values.rounds, 10),
  subscribers: positive("subscribers", values.subscribers, 20),
  mutations: positive("mutations", values.mutations, 200),
  writers: positive("writers", values.writers, 10),
};
const bareBlocks = positive("bare-blocks", values["bare-blocks"], 12);
const bareOnly = values["bare-only"] === true;
const leakingBuild = values["leaking-build"] === true ||
  Deno.env.get("LUNORA_SOAK_LEAKING_BUILD") === "1";

const report = new Report();
const servers = new ServerSet();
const total = new Tally();
const numbers = new Map<string, string>();
const started = performance.now();

function start(
  env: Record<string, string>,
  port: number,
  adminToken: string,
  logName: string,
): Promise<Server> {
  return servers.start(APP, env, {
    port,
    persistTo: join(OUT, "state"),
    adminToken,
    logPath: join(OUT, logName),
  });
}

/** Node 22, the npm package and the example installed; built too unless `build` is false. */
async function prepare(build = true): Promise<Record<string, string>> {
  const env = await report.step("Node 22 from npm (scripts/ensure_node22.sh)", nodeEnv);
  env.WRANGLER_LOG_PATH = join(OUT, "wrangler-logs");
  await report.step(
    "npm package (deno task build:npm unless .out/lunora-astro.tgz is fresh)",
    async () => {
      if (tarballIsFresh()) return;
      await run([Deno.execPath(), "task", "build:npm"], { cwd: ROOT });
    },
  );
  await report.step("chat: npm install (lock + tarball)", () => installApp(CHAT, env));
  await report.step("chat: the app under test", () => makeAppUnderTest(CHAT, APP));
  if (build) await report.step("chat: astro build", () => buildApp(APP, env));
  return env;
}

async function main(): Promise<void> {
  await lockTree();
  await Deno.remove(OUT, { recursive: true }).catch(() => {});
  Deno.mkdirSync(OUT, { recursive: true });
  if (bareOnly) {
    console.log(`soak: the bare workerd phase alone${leakingBuild ? ", LEAKING build" : ""}`);
    await prepare(false); // the workerd binary comes with the example's wrangler
    await report.step(
      "bare workerd memory",
      () =>
        checkBareWorkerd(
          { report, label: "soak", tally: total, numbers },
          CHAT,
          OUT,
          bareBlocks,
          leakingBuild,
        ),
    );
    return;
  }
  console.log(
    `soak: ${options.subscribers} subscribers, ${options.rounds} rounds of ${options.mutations} mutations from ${options.writers} clients`,
  );
  const env = await prepare();
  const port = freePort();
  const adminToken = crypto.randomUUID();
  const server = await report.step(
    "chat: wrangler dev start",
    () => start(env, port, adminToken, "wrangler-1.log"),
  );
  numbers.set("memory at start", describeMemory(workerdMemory(server.process.pid, port)));
  const ctx: SoakContext = {
    report,
    server,
    adminToken,
    channel: "soak",
    label: "soak",
    tally: total,
    numbers,
    users: new Map<string, User>(),
  };
  await report.step("sign up alice, bob, carol, dave and mallory (better-auth)", async () => {
    for (const name of USERS) ctx.users.set(name, await signUpCounted(ctx, name));
  });

  const faults = await report.step("faults", () => phase(ctx, total, checkFaults));
  numbers.set(
    "faults",
    `${faults} faults injected (RPC, WebSocket and server writes); the same workerd answered after`,
  );
  const hostile = await report.step("hostile input", () => phase(ctx, total, checkHostile));
  numbers.set("hostile", `${hostile} hostile requests over raw HTTP/WebSocket`);
  await report.step("live islands", () => phase(ctx, total, checkLiveIslands));

  let state: LoadState | undefined;
  try {
    state = await report.step("load", () => phase(ctx, total, (c) => checkLoad(c, options)));
    const loaded = state;
    await report.step("restart", () =>
      phase(ctx, total, async (c) => {
        const restarted = await checkRestart(c, loaded, async () => {
          await servers.stop(server);
          // Restarted with no admin token configured, for row 25.
          return await start(env, port, "", "wrangler-2.log");
        });
        await checkAdminUnset({ ...c, server: restarted }, adminToken);
        const rows = [...loaded.acked.values()].reduce((sum, list) => sum + list.length, 0);
        numbers.set(
          "restart",
          `${
            rows - WRITES_AFTER_RESTART
          } rows present after the restart (all acknowledged before it), ${WRITES_AFTER_RESTART} written after; ${loaded.subscribers.length} subscribers reconnected, resumed and got the new pushes`,
        );
      }));
  } finally {
    await Promise.all((state?.subscribers ?? []).map(({ client }) => client.close()));
    await servers.stopAll();
  }
  await report.step(
    "bare workerd memory",
    () => phase(ctx, total, (c) => checkBareWorkerd(c, APP, OUT, bareBlocks, leakingBuild)),
  );
}

await runScript(report, "soak run", main, async () => {
  await servers.stopAll();
  numbers.set(
    "all requests",
    `${total.sent} sent, ${total.answered} answered, ${total.lost.length} without an answer; by status ${
      JSON.stringify(Object.fromEntries([...total.byStatus].sort(([a], [b]) => a - b)))
    }`,
  );
  numbers.set("wall time", `${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log("\nSoak numbers:");
  for (const [name, text] of numbers) console.log(`  ${name}: ${text}`);
});
