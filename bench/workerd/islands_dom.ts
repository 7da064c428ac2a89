/**
 * `deno task bench:islands`: how long after a write's answer another page's DOM shows it, in
 * Chromium on the built example (reported, not a target: it is the shard's push, the socket,
 * the client's decode and React's render, on whatever the machine does meanwhile).
 *
 * Builds `examples/chat` as it is (in `.out/bench-islands/`, the example's files untouched),
 * serves it with `wrangler dev` on 127.0.0.1, and opens two visitors in Debian's Chromium
 * (`playwright-core`, separate browser contexts): the observer on `/channels/bench-dom`, its
 * React island live on the channel's socket, and the writer on `/about`. The writer posts
 * `messages:send` to `/_lunora/rpc` (same origin, as the island's `mutation` does), one write
 * at a time; a `MutationObserver` in the observer's page stamps the moment the new message's
 * `<li>` is added. Both pages stamp with `performance.timeOrigin + performance.now()`, one
 * clock for the two tabs of one browser on one machine.
 *
 * Printed per write series: answer → DOM (the write's answer reached the writer, then the
 * observer's DOM changed; negative when the push overtook the answer), send → answer and
 * send → DOM, each as median and p95, with the CPU model and load average beside them.
 *
 *   deno task bench:islands [--writes 50] [--warmup 5] [--reuse]
 *
 * `--reuse` skips install and build when `.out/bench-islands/app/` already holds a build.
 *
 * @module
 */
import { positiveOption } from "../../tests/workerd/options.ts";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chromium, type Page } from "playwright-core";
import {
  buildApp,
  installApp,
  lockTree,
  nodeEnv,
  ROOT,
  ServerSet,
  TARBALL,
  tarballIsFresh,
} from "../../tests/workerd/example_app.ts";
import { copyApp } from "../../tests/workerd/example_under_test/overlay.ts";
import { CHROMIUM, ensureChromium, FLAGS } from "../../tests/workerd/e2e/browser.ts";
import { freePort, run } from "../../tests/workerd/process.ts";
import { median } from "../_median.ts";

const CHAT = join(ROOT, "examples", "chat");
const OUT = join(ROOT, ".out", "bench-islands");
const APP = join(OUT, "app");
const CHANNEL = "bench-dom";

const count = (name: string, value: string | undefined, fallback: number): number =>
  positiveOption("bench:islands", name, value, fallback);

const { values } = parseArgs({
  args: Deno.args,
  options: {
    writes: { type: "string" },
    warmup: { type: "string" },
    reuse: { type: "boolean" },
  },
});
const WRITES = count("writes", values.writes, 50);
const WARMUP = count("warmup", values.warmup, 5);

/** The npm build the example installs; a build whose checks failed is still benchmarked. */
async function ensureTarball(): Promise<void> {
  if (tarballIsFresh()) return;
  const started = Date.now();
  try {
    await run([Deno.execPath(), "task", "build:npm"], { cwd: ROOT });
  } catch (error) {
    if ((Deno.statSync(TARBALL).mtime?.getTime() ?? 0) < started) throw error;
    console.log("WARNING: build:npm reported failed checks; benchmarking its fresh tarball");
  }
}

function built(): boolean {
  try {
    return Deno.statSync(join(APP, "dist", "server", "wrangler.json")).isFile;
  } catch {
    return false;
  }
}

function p95(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]!;
}

function cpuModel(): string {
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    const model = /^model name\s*:\s*(.+)$/m.exec(info)?.[1] ?? "unknown CPU";
    const cores = info.match(/^processor\s*:/gm)?.length ?? 0;
    return `${model}, ${cores} logical CPUs`;
  } catch {
    return "unknown CPU";
  }
}

function loadAverage(): string {
  return Deno.loadavg().map((value) => value.toFixed(2)).join(" ");
}

/** Stamps, in the observer's page, when each `bench-…` message first appears in the DOM. */
function observe(page: Page): Promise<void> {
  return page.evaluate(() => {
    // Runs in the page; Deno's type check has no DOM types.
    // deno-lint-ignore no-explicit-any
    const scope = globalThis as any;
    const seen: Record<string, number> = scope.__benchSeen = {};
    new scope.MutationObserver((records: { addedNodes: { textContent: string | null }[] }[]) => {
      const at = performance.timeOrigin + performance.now();
      for (const record of records) {
        for (const node of record.addedNodes) {
          for (const key of (node.textContent ?? "").match(/bench-\d+-[0-9a-f]{8}/g) ?? []) {
            seen[key] ??= at;
          }
        }
      }
    }).observe(scope.document.getElementById("messages"), { childList: true, subtree: true });
  });
}

/** What the benchmark reads in a page (Deno's type check has no DOM types). */
interface PageScope {
  document: { body: { dataset: Record<string, string | undefined> } };
  __benchSeen: Record<string, number>;
}

interface Write {
  sentAt: number;
  answeredAt: number;
  shownAt: number;
}

/** One write from the writer's page, and when the observer's DOM showed it. */
async function write(writer: Page, observer: Page, index: number): Promise<Write> {
  const key = `bench-${index}-${crypto.randomUUID().slice(0, 8)}`;
  const { sentAt, answeredAt, status } = await writer.evaluate(async ({ key, channel }) => {
    const sentAt = performance.timeOrigin + performance.now();
    const response = await fetch("/_lunora/rpc", {
      method: "POST",
      headers: { "content-type": "application/json", "x-lunora-mutation-id": crypto.randomUUID() },
      body: JSON.stringify({
        functionPath: "messages:send",
        args: { channel, body: key },
        shardKey: channel,
      }),
    });
    await response.json();
    return {
      sentAt,
      answeredAt: performance.timeOrigin + performance.now(),
      status: response.status,
    };
  }, { key, channel: CHANNEL });
  if (status !== 200) throw new Error(`messages:send answered ${status}`);
  await observer.waitForFunction(
    (key) => (globalThis as unknown as PageScope).__benchSeen[key] !== undefined,
    key,
    { timeout: 15_000, polling: 5 },
  );
  const shownAt = await observer.evaluate(
    (key) => (globalThis as unknown as PageScope).__benchSeen[key]!,
    key,
  );
  return { sentAt, answeredAt, shownAt };
}

function line(name: string, values: number[]): string {
  return `  ${name.padEnd(16)} median ${median(values).toFixed(1).padStart(6)} ms   p95 ${
    p95(values).toFixed(1).padStart(6)
  } ms   (min ${Math.min(...values).toFixed(1)}, max ${Math.max(...values).toFixed(1)})`;
}

async function main(): Promise<void> {
  await lockTree();
  const env = await nodeEnv();
  env.WRANGLER_LOG_PATH = join(OUT, "wrangler-logs");
  console.log(`Chromium: ${await ensureChromium()}`);
  if (!(values.reuse && built())) {
    await ensureTarball();
    await installApp(CHAT, env);
    await copyApp(CHAT, APP);
    await buildApp(APP, env);
  }
  await Deno.remove(join(OUT, "state"), { recursive: true }).catch(() => {});
  const servers = new ServerSet();
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  try {
    const server = await servers.start(APP, env, {
      port: freePort(),
      persistTo: join(OUT, "state"),
      adminToken: crypto.randomUUID(),
      logPath: join(OUT, "wrangler.log"),
    });
    const observer = await (await browser.newContext()).newPage();
    const writer = await (await browser.newContext()).newPage();
    await observer.goto(`${server.origin}/channels/${CHANNEL}`);
    await observer.waitForFunction(
      () => (globalThis as unknown as PageScope).document.body.dataset.live === "true",
      undefined,
      { timeout: 30_000 },
    );
    await writer.goto(`${server.origin}/about`);
    await observe(observer);
    for (let i = 0; i < WARMUP; i++) await write(writer, observer, i);
    const writes: Write[] = [];
    for (let i = 0; i < WRITES; i++) writes.push(await write(writer, observer, WARMUP + i));
    console.log(
      `\nbench:islands: ${WRITES} writes (after ${WARMUP} warm-up), one at a time, Chromium ${browser.version()}`,
    );
    console.log(`  ${cpuModel()}; load average ${loadAverage()}`);
    console.log(line("answer -> DOM", writes.map((w) => w.shownAt - w.answeredAt)));
    console.log(line("send -> answer", writes.map((w) => w.answeredAt - w.sentAt)));
    console.log(line("send -> DOM", writes.map((w) => w.shownAt - w.sentAt)));
  } finally {
    await browser.close();
    await servers.stopAll();
  }
}

await main();
Deno.exit(0);
