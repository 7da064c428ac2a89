/**
 * The example under concurrent load (threat-matrix rows 52 and 61) and across a restart (row
 * 53): WebSocket subscribers on two channels, mutations from several clients (every third
 * write of a signed-in client is the send form posted to the Astro Action, some of those twice
 * at once or hit by a `retryable` fault, see `server_writes.ts`), SSR page loads and
 * throwing-page loads interleaved; then every subscriber's state is compared with the stored
 * rows, every request sent with every answer received, and workerd's memory before and after.
 *
 * @module
 */
import { browserHeaders, type User, wsUrl } from "../client.ts";
import type { Server } from "../example_app.ts";
import { assert, check } from "../report.ts";
import { type Row, sendMessage, type SoakContext, storedRows, user } from "./context.ts";
import { LiveSubscriber } from "./live_subscriber.ts";
import { describeMemory, type WorkerdMemory, workerdMemory } from "./memory.ts";
import { percentiles } from "./tally.ts";
import { checkLedger, FormLedger, planFor, postPlanned } from "./server_writes.ts";
import { EVENTUALLY_MS } from "../waits.ts";

/** The sizes of the load. */
export interface LoadOptions {
  /** Rounds of `mutations` each; memory is read after every round. */
  rounds: number;
  /** WebSocket subscribers, split evenly over the two channels. */
  subscribers: number;
  /** Mutations per round, split evenly over the writers and alternating channels. */
  mutations: number;
  /** Concurrent writing clients. */
  writers: number;
}

/** What the load leaves for the restart: the live subscribers and every acknowledged row. */
export interface LoadState {
  channels: string[];
  subscribers: Array<{ channel: string; user: User | undefined; client: LiveSubscriber }>;
  /** Acknowledged writes per channel, in id order. */
  acked: Map<string, Row[]>;
  /** The send forms posted to the Astro Action, one per acknowledged key. */
  forms: FormLedger;
}

/** How many rows `messages:list` shows. */
const LIST_SIZE = 50;
/** The signed-up users who write and subscribe; the other half of the clients is anonymous. */
const SIGNED_IN = ["alice", "carol", "dave"];
/** Writes made after the restart, which the reconnected subscribers must receive. */
export const WRITES_AFTER_RESTART = 20;

interface ListData {
  viewer: { userId: string } | null;
  messages: Row[];
}

function rowsText(rows: Row[]): string {
  return JSON.stringify(rows.map(({ id, author, body }) => ({ id, author, body })));
}

/** Whether a subscriber shows exactly `rows` (its list the newest 50, its count all of them). */
function shows(client: LiveSubscriber, rows: Row[], from: Map<string, unknown>): boolean {
  const list = from.get("list") as ListData | undefined;
  const count = from.get("count") as { count: number; maxId: number | null } | undefined;
  return list !== undefined && count !== undefined && count.count === rows.length &&
    count.maxId === (rows.at(-1)?.id ?? null) &&
    rowsText(list.messages) === rowsText(rows.slice(-LIST_SIZE)) && client.open;
}

/**
 * Waits until every subscriber shows its channel's acknowledged rows, then checks those are
 * exactly the stored rows. `from` picks which data to compare (`latest` or `resumed`).
 */
async function converge(
  ctx: SoakContext,
  state: LoadState,
  from: "latest" | "resumed",
): Promise<string> {
  const started = performance.now();
  for (const { channel, client } of state.subscribers) {
    const rows = state.acked.get(channel)!;
    await client.until(
      `a subscriber on ${channel} to show ${rows.length} rows (newest id ${rows.at(-1)?.id})`,
      () => shows(client, rows, client[from]),
      EVENTUALLY_MS,
    );
  }
  const waited = performance.now() - started;
  const counts: string[] = [];
  for (const channel of state.channels) {
    const stored = await storedRows(ctx, channel);
    const acked = state.acked.get(channel)!;
    const storedText = rowsText(stored);
    if (storedText !== rowsText(acked)) {
      const ackedIds = new Set(acked.map((row) => row.id));
      const storedIds = new Set(stored.map((row) => row.id));
      const missing = acked.filter((row) => !storedIds.has(row.id)).length;
      const extra = stored.filter((row) => !ackedIds.has(row.id)).length;
      throw new Error(`${channel}: ${missing} acknowledged rows missing, ${extra} unexpected`);
    }
    counts.push(`${channel} ${stored.length}`);
  }
  return `stored rows = acknowledged writes (${
    counts.join(", ")
  }); all ${state.subscribers.length} subscribers show them (${waited.toFixed(0)} ms to settle)`;
}

function memoryLine(ctx: SoakContext): WorkerdMemory[] {
  return workerdMemory(ctx.server.process.pid, ctx.server.port);
}

function runtimeRss(memory: WorkerdMemory[]): number {
  return memory.find((m) => m.role === "runtime")?.rssMiB ?? NaN;
}

/** Opens the subscribers: half signed in (their own identity), half anonymous. */
async function openSubscribers(ctx: SoakContext, options: LoadOptions, channels: string[]) {
  const { origin } = ctx.server;
  const subscribers = Array.from({ length: options.subscribers }, (_, i) => {
    const channel = channels[i % channels.length]!;
    const signedIn = i % 2 === 0 ? user(ctx, SIGNED_IN[i % SIGNED_IN.length]!) : undefined;
    return {
      channel,
      user: signedIn,
      client: new LiveSubscriber(wsUrl(origin, channel), browserHeaders(origin, signedIn?.cookie)),
    };
  });
  await Promise.all(subscribers.map(({ client }) => client.connect()));
  for (const { channel, client } of subscribers) {
    client.subscribe("list", "messages:list", { channel });
    client.subscribe("count", "probes:count", { channel });
  }
  return subscribers;
}

/** One round: every writer sends its share, loading pages and the throwing page in between. */
async function round(
  ctx: SoakContext,
  state: LoadState,
  options: LoadOptions,
  index: number,
  problems: string[],
): Promise<{ pages: number; boom: number }> {
  const { origin } = ctx.server;
  const perWriter = Math.ceil(options.mutations / options.writers);
  let pages = 0;
  let boom = 0;
  const writes: Array<{ channel: string; row: Row }> = [];
  await Promise.all(Array.from({ length: options.writers }, async (_, w) => {
    const writer = w % 2 === 0 ? user(ctx, SIGNED_IN[w % SIGNED_IN.length]!) : undefined;
    const cookie = writer?.cookie;
    for (let i = 0; i < perWriter && w * perWriter + i < options.mutations; i++) {
      const channel = state.channels[(w + i) % state.channels.length]!;
      const body = `round ${index} writer ${w} #${i} ${crypto.randomUUID().slice(0, 8)}`;
      // Every third write of a signed-in writer is the send form posted to the Astro Action.
      const viaForm = writer !== undefined && i % 3 === 1;
      try {
        let id: number;
        if (viaForm) {
          const form = await postPlanned(
            ctx,
            channel,
            body,
            writer,
            planFor(state.forms.planned++),
          );
          state.forms.forms.push(form);
          id = form.id;
        } else {
          id = await sendMessage(ctx, channel, body, cookie);
        }
        writes.push({ channel, row: { id, author: writer?.id ?? "anonymous", body } });
      } catch (error) {
        problems.push(
          `${viaForm ? "form" : "send"}: ${error instanceof Error ? error.message : error}`,
        );
      }
      if (i % 5 === 2) {
        pages++;
        const page = await ctx.tally.fetch("page", `${origin}/channels/${channel}`, {
          headers: cookie ? { cookie } : {},
        });
        if (page.status !== 200 || !page.text.includes("__lunoraPreloaded")) {
          problems.push(`page /channels/${channel} answered ${page.status}`);
        }
      }
      if (i % 10 === 7) {
        boom++;
        const thrown = await ctx.tally.fetch("boom", `${origin}/boom`);
        if (thrown.status !== 500 || /boom|secret|stack/i.test(thrown.text)) {
          problems.push(`/boom answered ${thrown.status} ${thrown.text.slice(0, 80)}`);
        }
      }
    }
  }));
  writes.sort((a, b) => a.row.id - b.row.id);
  for (const { channel, row } of writes) state.acked.get(channel)!.push(row);
  return { pages, boom };
}

/**
 * Runs the load: opens the subscribers, then `rounds` rounds, each checked for convergence.
 * Returns the state for the restart check (subscribers still open).
 */
export async function checkLoad(ctx: SoakContext, options: LoadOptions): Promise<LoadState> {
  const channels = ["soak-a", "soak-b"];
  const state: LoadState = {
    channels,
    subscribers: [],
    acked: new Map(channels.map((channel) => [channel, []])),
    forms: new FormLedger(),
  };
  const memory: WorkerdMemory[][] = [];
  let pages = 0;
  let boom = 0;
  const problems: string[] = [];
  const started = performance.now();

  await check(
    ctx,
    `${options.subscribers} subscribers connect and get their first data`,
    async () => {
      state.subscribers = await openSubscribers(ctx, options, channels);
      await converge(ctx, state, "latest");
      memory.push(memoryLine(ctx));
      return `${options.subscribers} WebSockets on ${channels.join(" + ")}; before the load: ${
        describeMemory(memory[0]!)
      }`;
    },
  );

  for (let r = 1; r <= options.rounds; r++) {
    await check(
      ctx,
      `round ${r}/${options.rounds}: ${options.mutations} mutations (RPC and Action forms) from ${options.writers} clients with page and throwing-page loads converge`,
      async () => {
        const roundStarted = performance.now();
        const done = await round(ctx, state, options, r, problems);
        pages += done.pages;
        boom += done.boom;
        assert(
          problems.length === 0,
          `${problems.length} problems: ${problems.slice(0, 3).join("; ")}`,
        );
        const settled = await converge(ctx, state, "latest");
        memory.push(memoryLine(ctx));
        const seconds = ((performance.now() - roundStarted) / 1000).toFixed(1);
        return `${done.pages} pages, ${done.boom} throwing pages; ${settled}; ${seconds} s; runtime RSS ${
          runtimeRss(memory.at(-1)!).toFixed(1)
        } MiB`;
      },
    );
  }
  const seconds = (performance.now() - started) / 1000;

  await check(ctx, "load: no request lost, no 5xx but the throwing page's", () => {
    const { tally } = ctx;
    assert(
      tally.lost.length === 0,
      `${tally.lost.length} requests got no answer: ${tally.lost[0]}`,
    );
    assert(tally.sent === tally.answered, `${tally.sent} sent, ${tally.answered} answered`);
    const errors = tally.serverErrors();
    const unexpected = [...errors].filter(([kind]) => kind !== "boom");
    assert(unexpected.length === 0, `5xx answers: ${JSON.stringify(unexpected)}`);
    assert(
      errors.get("boom") === boom,
      `${errors.get("boom") ?? 0} of ${boom} throwing pages were 5xx`,
    );
    const kinds = [...tally.byKind].map(([kind, entry]) =>
      `${kind} ${entry.answered}/${entry.sent} (${percentiles(entry.ms)})`
    );
    return `${tally.sent} requests sent, ${tally.answered} answered: ${kinds.join(", ")}`;
  });

  await check(
    ctx,
    "load: every Action form is stored once (double submits and retryable faults included); the shard's dedup records match",
    () => checkLedger(ctx, state.forms),
  );

  await check(ctx, "load: every WebSocket stayed up without an error frame", () => {
    const frames = state.subscribers.reduce((sum, { client }) => sum + client.frames, 0);
    const errors = state.subscribers.flatMap(({ client }) => client.errors);
    const reconnects = state.subscribers.reduce((sum, { client }) => sum + client.reconnects, 0);
    assert(errors.length === 0, `error frames: ${JSON.stringify(errors[0])}`);
    assert(reconnects === 0, `${reconnects} reconnects during the load`);
    return `${state.subscribers.length} sockets, ${frames} frames received, 0 errors, 0 reconnects`;
  });

  const rows = [...state.acked.values()].reduce((sum, list) => sum + list.length, 0);
  ctx.numbers.set(
    "load",
    `${options.subscribers} WebSockets (${channels.length} channels, 2 subscriptions each), ${rows} mutations from ${options.writers} clients (${state.forms.describe()}), ${pages} SSR pages, ${boom} throwing pages in ${options.rounds} rounds, ${
      seconds.toFixed(1)
    } s; ${
      state.subscribers.reduce((sum, { client }) => sum + client.frames, 0)
    } frames pushed; ${ctx.tally.sent} HTTP requests, ${ctx.tally.answered} answered`,
  );
  const first = memory[0];
  const last = memory.at(-1);
  if (first && last) {
    const series = memory.map((m) => runtimeRss(m).toFixed(0)).join(" -> ");
    ctx.numbers.set(
      "memory",
      `before: ${describeMemory(first)}; after: ${
        describeMemory(last)
      }; runtime RSS per round (MiB): ${series}`,
    );
    console.log(`workerd memory: ${ctx.numbers.get("memory")}`);
  }
  return state;
}

/**
 * Row 53: writes, the server stopped and started again on the same state and port; the rows are
 * all there, every subscriber reconnects by itself, resumes on the stored rows, and receives
 * pushes for writes made after the restart. `restart` stops the server and starts it again.
 */
export async function checkRestart(
  ctx: SoakContext,
  state: LoadState,
  restart: () => Promise<Server>,
): Promise<Server> {
  let server = ctx.server;
  await check(ctx, "restart: writes just before the stop are acknowledged and pushed", async () => {
    for (let i = 0; i < 10; i++) {
      const channel = state.channels[i % state.channels.length]!;
      const body = `before restart #${i}`;
      const dave = user(ctx, "dave");
      const id = await sendMessage(ctx, channel, body, dave.cookie);
      state.acked.get(channel)!.push({ id, author: dave.id, body });
    }
    return await converge(ctx, state, "latest");
  });

  const down = performance.now();
  server = await restart();
  const live = { ...ctx, server };
  const restartMs = performance.now() - down;

  await check(
    live,
    "restart: the rows are there and every subscriber reconnected and resumed on them as the same user",
    async () => {
      const settled = await converge(live, state, "resumed");
      const reconnects = state.subscribers.map(({ client }) => client.reconnects);
      assert(reconnects.every((n) => n >= 1), `reconnects per subscriber: ${reconnects.join(",")}`);
      const failed = state.subscribers.reduce((sum, { client }) => sum + client.failedAttempts, 0);
      // Sessions live in D1 under the same persist directory: signed-in sockets stay signed in.
      for (const { user: signedIn, client } of state.subscribers) {
        const viewer = (client.resumed.get("list") as ListData).viewer;
        assert(
          (viewer?.userId ?? null) === (signedIn?.id ?? null),
          `a subscriber resumed as ${JSON.stringify(viewer)}, not ${signedIn?.name ?? "anonymous"}`,
        );
      }
      return `restart took ${
        (restartMs / 1000).toFixed(1)
      } s; ${state.subscribers.length} subscribers reconnected (${failed} refused attempts while down); ${settled}`;
    },
  );

  await check(
    live,
    "restart: writes after the restart are pushed to the reconnected subscribers",
    async () => {
      for (let i = 0; i < WRITES_AFTER_RESTART; i++) {
        const channel = state.channels[i % state.channels.length]!;
        const body = `after restart #${i}`;
        const id = await sendMessage(live, channel, body);
        state.acked.get(channel)!.push({ id, author: "anonymous", body });
      }
      return await converge(live, state, "latest");
    },
  );
  return server;
}
