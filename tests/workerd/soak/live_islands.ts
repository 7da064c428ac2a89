/**
 * Live islands under load (issue 19's soak; threat-matrix rows 63, 64 and 67): ten pages, each
 * a `createLunoraClient({ url })` of `@lunora/astro/client` in this Deno process, hold 50
 * stores over 3 shards (10 of them the same query, seeded from the token `/cross-origin/*`
 * embeds), while the pages and two plain clients write. Then every shard closes every socket
 * at once (the harness's `POST /_lunora/admin/close-sockets`, `socket_control.ts`).
 *
 * - Exactly 3 sockets per page and 1 subscription per distinct query: the client's devtools
 *   snapshot, each page's socket log, and each shard's own count of the upgrades it accepted
 *   and of its open sockets by the `clientId` of their `connect` frame.
 * - Reconnects spread by jitter: each socket's delay from its close to the next attempt is at
 *   least the first step's floor (125 ms, the lower half of 250 ms) and the delays are not all
 *   within a few ms of each other; one new upgrade per socket, no more.
 * - The re-sent subscribes carry the same ids, with `sinceSeq`/`sinceEpoch`.
 * - Every store ends on the stored state (compared with a one-shot query of the same
 *   function), the stored rows are exactly the acknowledged writes, and nothing shown was never
 *   stored: every list a store ever showed is the channel's stored rows up to its newest id.
 * - Row 63, the expired WS token: a token provider whose first tokens the shard refuses with
 *   4001 is asked once per attempt, and the attempts back off (a bare `open` does not reset
 *   the ladder).
 *
 * @module
 */
import { EVENTUALLY_MS } from "../waits.ts";
import { isDeepStrictEqual } from "node:util";
import { DEVTOOLS_KEY, type DevtoolsEntry } from "../../../src/client/devtools.ts";
import { mutation, query } from "../../../server.ts";
import { waitFor } from "../process.ts";
import { assert, check } from "../report.ts";
import { type Row, sendMessage, type SoakContext, storedRows } from "./context.ts";
import { IslandPage, type QuerySpec, type SocketLog, type StoreRecord } from "./island_page.ts";

const CHANNELS = ["islands-a", "islands-b", "islands-c"];
const PAGES = 10;
const STORES_PER_PAGE = 50;
/** Stores per page that show the one query the page's token seeds. */
const SAME_QUERY = 10;
/** Writes with the sockets up before the close, and after the reconnect. */
const WRITE_BEFORE_MS = 5_000;
const WRITE_AFTER_MS = 4_000;
const SETTLE_MS = EVENTUALLY_MS;
/** The reconnect ladder's first step (spec §12): a delay drawn from [125, 250] ms. */
const FIRST_DELAY_FLOOR_MS = 125;
/** Tokens the shard refuses as expired before the provider's good one. */
const EXPIRED_TOKENS = 5;
/** How many messages:list / messages:latest show. */
const LIST_SIZE = 50;

/** One shard's socket report (`socket_control.ts`). */
interface SocketReport {
  upgrades: number;
  expired: number;
  open: Record<string, { sockets: number; subscriptions: number }>;
}

/** The live queries of one channel: five distinct ones per shard. */
function queriesOf(channel: string): QuerySpec[] {
  return [
    { functionPath: "messages:list", args: { channel }, shardKey: channel },
    { functionPath: "messages:latest", args: { channelId: channel }, shardKey: channel },
    { functionPath: "messages:stats", args: { channel }, shardKey: channel },
    { functionPath: "probes:count", args: { channel }, shardKey: channel },
    // A result no write changes: every write answers it with `settled`.
    { functionPath: "probes:calls", args: { channel, probe: "islands" }, shardKey: channel },
  ];
}

const ALL_QUERIES = CHANNELS.flatMap(queriesOf);
/** The query the 10 seeded stores of each page show (the token of `/cross-origin/<a>`). */
const SEEDED = ALL_QUERIES[0]!;

function keyOf(spec: QuerySpec): string {
  return JSON.stringify([spec.functionPath, spec.args, spec.shardKey]);
}

async function admin<T>(ctx: SoakContext, method: string, path: string): Promise<T> {
  const query = CHANNELS.map((channel) => `shard=${channel}`).join("&");
  const answer = await ctx.tally.fetch(`admin ${path}`, `${ctx.server.origin}${path}?${query}`, {
    method,
    headers: { authorization: `Bearer ${ctx.adminToken}` },
  });
  assert(answer.status === 200, `${method} ${path} answered ${answer.status} ${answer.text}`);
  return answer.body as T;
}

function sockets(ctx: SoakContext): Promise<Record<string, SocketReport>> {
  return admin(ctx, "GET", "/_lunora/admin/sockets");
}

function devtools(): DevtoolsEntry[] {
  const scope = globalThis as unknown as Record<symbol, Set<DevtoolsEntry> | undefined>;
  return [...(scope[DEVTOOLS_KEY] ?? [])];
}

/** The token text `/cross-origin/<channel>` embeds with `serializePreloaded`. */
async function tokenText(ctx: SoakContext, channel: string): Promise<string> {
  const page = await ctx.tally.fetch("page", `${ctx.server.origin}/cross-origin/${channel}`);
  const script = /<script type="application\/json" id="lunora-preloaded">([^<]*)<\/script>/.exec(
    page.text,
  );
  assert(page.status === 200 && script, `/cross-origin/${channel} answered ${page.status}`);
  return script[1]!;
}

/** Opens one page: 10 seeded stores of the same query, 40 more over the other 14 queries. */
function openPage(ctx: SoakContext, token: string): IslandPage {
  const page = new IslandPage(ctx.server.origin, {
    fetch: (input, init) => ctx.tally.count("browser mutation", () => fetch(input, init)),
  });
  for (let i = 0; i < SAME_QUERY; i++) page.hydrate(token, SEEDED);
  const others = ALL_QUERIES.slice(1);
  for (let i = 0; i < STORES_PER_PAGE - SAME_QUERY; i++) page.live(others[i % others.length]!);
  return page;
}

function settledOn(record: StoreRecord): boolean {
  const status = record.statuses.at(-1);
  return record.store.get() !== undefined && status?.state === "live" && !status.error;
}

/** The writes one writer got acknowledged. */
interface Ack {
  channel: string;
  row: Row;
}

/** Writes until `stop` is set: a page through its client's `mutation`, else plain RPC. */
async function writeLoop(
  ctx: SoakContext,
  writer: string,
  page: IslandPage | undefined,
  stop: { now: boolean },
  acks: Ack[],
  problems: string[],
): Promise<void> {
  const send = mutation<{ channel: string; body: string }, { id: number }>("messages:send");
  for (let i = 0; !stop.now; i++) {
    const channel = CHANNELS[(i + writer.length) % CHANNELS.length]!;
    const body = `${writer} #${i} ${crypto.randomUUID().slice(0, 8)}`;
    try {
      const id = page
        ? (await page.client.mutation(send, { channel, body }, { shardKey: channel })).id
        : await sendMessage(ctx, channel, body);
      acks.push({ channel, row: { id, author: "anonymous", body } });
    } catch (error) {
      problems.push(`${writer}: ${error instanceof Error ? error.message : error}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 80 + Math.random() * 80));
  }
}

function describe(ms: number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `min ${sorted[0]!.toFixed(0)}, median ${at(0.5).toFixed(0)}, max ${
    sorted.at(-1)!.toFixed(0)
  } ms`;
}

/** The rows a list value shows: `messages` of `messages:list`, the rows of `messages:latest`. */
function listedRows(spec: QuerySpec, value: unknown): Row[] | undefined {
  if (spec.functionPath === "messages:list") {
    return (value as { messages: Row[] }).messages;
  }
  if (spec.functionPath === "messages:latest") return value as Row[];
  return undefined;
}

/**
 * Checks one value a store showed against the channel's final stored rows (ids grow with
 * commit order and nothing is deleted, so every state the channel was ever in is "the stored
 * rows up to some id"). Answers a problem, or `undefined`.
 */
function neverStored(spec: QuerySpec, value: unknown, stored: Row[]): string | undefined {
  if (value === undefined) return undefined;
  const channel = spec.shardKey;
  const rows = listedRows(spec, value);
  if (rows !== undefined) {
    if (rows.length === 0) return undefined;
    const newest = rows.at(-1)!.id;
    const upTo = stored.filter((row) => row.id <= newest).slice(-LIST_SIZE);
    const same = upTo.length === rows.length &&
      upTo.every((row, i) => row.id === rows[i]!.id && row.body === rows[i]!.body);
    return same
      ? undefined
      : `${spec.functionPath} on ${channel} showed ids ${
        rows.map((row) => row.id).join(",")
      }, never a stored state (stored up to ${newest}: ${upTo.map((row) => row.id).join(",")})`;
  }
  if (spec.functionPath === "probes:count") {
    const { count, maxId } = value as { count: number; maxId: number | null };
    const upTo = stored.filter((row) => maxId !== null && row.id <= maxId).length;
    return upTo === count ? undefined : `probes:count on ${channel} showed ${count} up to ${maxId}`;
  }
  if (spec.functionPath === "messages:stats") {
    const { total } = value as { total: bigint };
    return total <= BigInt(stored.length) ? undefined : `stats on ${channel} showed ${total}`;
  }
  return undefined;
}

/** The section; see the module docs. */
export async function checkLiveIslands(ctx: SoakContext): Promise<void> {
  const pages: IslandPage[] = [];
  const acks: Ack[] = [];
  const problems: string[] = [];
  const stop = { now: false };
  let writers: Promise<void>[] = [];
  try {
    await run(ctx, pages, acks, problems, stop, (started) => writers = started);
  } finally {
    stop.now = true;
    await Promise.allSettled(writers);
    for (const page of pages) page.close();
  }
}

async function run(
  ctx: SoakContext,
  pages: IslandPage[],
  acks: Ack[],
  problems: string[],
  stop: { now: boolean },
  started: (writers: Promise<void>[]) => void,
): Promise<void> {
  const seeds: Ack[] = [];
  const before = await sockets(ctx);
  const baseline = (channel: string) => before[channel]?.upgrades ?? 0;

  await check(
    ctx,
    `islands: ${PAGES} pages hold ${STORES_PER_PAGE} stores over ${CHANNELS.length} shards (${SAME_QUERY} the same query) on exactly ${CHANNELS.length} sockets each, one subscription per distinct query`,
    async () => {
      for (const channel of CHANNELS) {
        for (let i = 0; i < 3; i++) {
          const body = `seed ${channel} #${i}`;
          seeds.push({
            channel,
            row: { id: await sendMessage(ctx, channel, body), author: "anonymous", body },
          });
        }
      }
      const token = await tokenText(ctx, CHANNELS[0]!);
      for (let p = 0; p < PAGES; p++) pages.push(openPage(ctx, token));
      await waitFor(
        "every store of every page to be live with a value",
        () => pages.every((page) => page.stores.every(settledOn)) || undefined,
        SETTLE_MS,
      );
      const entries = devtools().map((entry) => entry.snapshot());
      assert(entries.length === PAGES, `${entries.length} clients in the devtools set`);
      for (const snapshot of entries) {
        const open = snapshot.sockets.filter((socket) => socket.state === "open").length;
        assert(
          snapshot.sockets.length === CHANNELS.length && open === CHANNELS.length,
          `a client holds ${snapshot.sockets.length} sockets (${open} open)`,
        );
        assert(
          snapshot.subscriptions.length === ALL_QUERIES.length,
          `a client holds ${snapshot.subscriptions.length} subscriptions`,
        );
      }
      for (const page of pages) {
        assert(
          page.sockets.length === CHANNELS.length && page.stores.length === STORES_PER_PAGE,
          `a page made ${page.sockets.length} sockets for ${page.stores.length} stores`,
        );
        for (const socket of page.sockets) {
          const subscribes = socket.sent.filter((frame) => frame.type === "subscribe").length;
          assert(
            socket.sent[0]?.type === "connect" && subscribes === queriesOf(socket.shard).length,
            `the socket to ${socket.shard} sent ${
              socket.sent[0]?.type
            } first and ${subscribes} subscribes`,
          );
        }
      }
      const seen = await waitFor("every shard to see one socket per page", async () => {
        const report = await sockets(ctx);
        return CHANNELS.every((channel) => Object.keys(report[channel]!.open).length === PAGES)
          ? report
          : undefined;
      }, SETTLE_MS);
      for (const channel of CHANNELS) {
        const { upgrades, open } = seen[channel]!;
        assert(
          upgrades - baseline(channel) === PAGES,
          `${channel} accepted ${upgrades - baseline(channel)} upgrades for ${PAGES} pages`,
        );
        for (const page of pages) {
          const mine = open[page.client.clientId];
          assert(
            mine?.sockets === 1 && mine.subscriptions === queriesOf(channel).length,
            `${channel} holds ${JSON.stringify(mine)} for one page`,
          );
        }
      }
      const seeded = pages.flatMap((page) => page.stores).filter((store) => store.seeded);
      assert(
        seeded.every((store) => store.shown[0] !== undefined),
        "a seeded store started without its seed",
      );
      return `${PAGES} clients x ${CHANNELS.length} sockets, ${ALL_QUERIES.length} subscriptions each (devtools snapshot, socket logs); each shard accepted ${PAGES} upgrades and holds ${PAGES} sockets of ${
        queriesOf(CHANNELS[0]!).length
      } subscriptions, one per clientId`;
    },
  );

  const writers = [
    ...pages.map((page, p) => writeLoop(ctx, `page-${p}`, page, stop, acks, problems)),
    writeLoop(ctx, "rpc-x", undefined, stop, acks, problems),
    writeLoop(ctx, "rpc-yy", undefined, stop, acks, problems),
  ];
  started(writers);
  await new Promise((resolve) => setTimeout(resolve, WRITE_BEFORE_MS));

  let closeAt = 0;
  await check(
    ctx,
    "islands: every shard closes every socket at once under the writes; every page reconnects once per shard, spread by jitter",
    async () => {
      const ackedBefore = acks.length;
      closeAt = performance.now();
      const closed = await admin<Record<string, { closed: number }>>(
        ctx,
        "POST",
        "/_lunora/admin/close-sockets",
      );
      for (const channel of CHANNELS) {
        assert(closed[channel]!.closed === PAGES, `${channel} closed ${closed[channel]!.closed}`);
      }
      await waitFor(
        "every page to have reopened its 3 sockets",
        () =>
          pages.every((page) =>
            CHANNELS.every((channel) => {
              const [first, second] = page.socketsTo(channel);
              return first?.closedAt !== undefined && second?.openedAt !== undefined &&
                second.received > 0;
            })
          ) || undefined,
        SETTLE_MS,
      );
      const delays: number[] = [];
      const arrivals: number[] = [];
      for (const page of pages) {
        for (const channel of CHANNELS) {
          const [first, second] = page.socketsTo(channel) as [SocketLog, SocketLog];
          assert(
            first.closeCode === 1012,
            `a socket to ${channel} closed with ${first.closeCode}, not the shard's 1012`,
          );
          delays.push(second.madeAt - first.closedAt!);
          arrivals.push(second.madeAt - closeAt);
        }
      }
      const spread = Math.max(...delays) - Math.min(...delays);
      assert(
        Math.min(...delays) >= FIRST_DELAY_FLOOR_MS - 2,
        `a page reconnected ${
          Math.min(...delays).toFixed(1)
        } ms after its close, under the jitter floor of ${FIRST_DELAY_FLOOR_MS} ms`,
      );
      // 30 delays drawn from [125, 250] ms all within 10 ms of each other: p < 1e-30.
      assert(spread >= 10, `every reconnect delay within ${spread.toFixed(1)} ms: no jitter`);
      const report = await waitFor("every shard to hold one socket per page again", async () => {
        const now = await sockets(ctx);
        return CHANNELS.every((channel) =>
            pages.every((page) => now[channel]!.open[page.client.clientId]?.sockets === 1) &&
            Object.keys(now[channel]!.open).length === PAGES
          )
          ? now
          : undefined;
      }, SETTLE_MS);
      for (const channel of CHANNELS) {
        const upgrades = report[channel]!.upgrades - baseline(channel);
        assert(
          upgrades === 2 * PAGES,
          `${channel} accepted ${upgrades} upgrades, not ${2 * PAGES}`,
        );
      }
      for (const page of pages) {
        assert(
          page.sockets.length === 2 * CHANNELS.length,
          `a page made ${page.sockets.length} sockets`,
        );
      }
      const window = Math.max(...arrivals) - Math.min(...arrivals);
      ctx.numbers.set(
        "islands reconnect",
        `${delays.length} sockets closed at once; delay from each close to its next attempt ${
          describe(delays)
        } (jitter rule: [125, 250] ms); attempts spread over ${window.toFixed(0)} ms`,
      );
      return `${delays.length} reconnects, delay close -> attempt ${describe(delays)}, spread ${
        spread.toFixed(0)
      } ms; each shard accepted exactly ${PAGES} new upgrades; ${
        acks.length - ackedBefore
      } writes acknowledged meanwhile`;
    },
  );

  await check(
    ctx,
    "islands: after the reconnect every subscription is re-sent with its same id, after connect with the same clientId, with sinceSeq/sinceEpoch; one whose result did not change gets resume",
    async () => {
      const answered = (socket: SocketLog) =>
        socket.sent.filter((frame) => frame.type === "subscribe").every((frame) =>
          socket.frames.some((received) => received.id === frame.id && received.type !== "ack")
        );
      await waitFor(
        "every re-sent subscribe to be answered",
        () =>
          pages.every((page) =>
            CHANNELS.every((channel) => answered(page.socketsTo(channel)[1]!))
          ) || undefined,
        SETTLE_MS,
      );
      let resumable = 0;
      const answers = new Map<string, number>();
      for (const page of pages) {
        for (const channel of CHANNELS) {
          const [first, second] = page.socketsTo(channel) as [SocketLog, SocketLog];
          const ids = (socket: SocketLog) =>
            socket.sent.filter((frame) => frame.type === "subscribe").map((frame) => frame.id)
              .sort();
          assert(
            second.sent[0]?.type === "connect" &&
              second.sent[0].clientId === first.sent[0]?.clientId &&
              first.sent[0]?.clientId === page.client.clientId,
            `the new socket to ${channel} did not start with the same connect`,
          );
          assert(
            isDeepStrictEqual(ids(first), ids(second)),
            `ids ${ids(first)} became ${ids(second)} on ${channel}`,
          );
          for (const frame of second.sent.filter((frame) => frame.type === "subscribe")) {
            const q = frame.query as { sinceSeq?: unknown; sinceEpoch?: unknown };
            assert(
              typeof q.sinceSeq === "number" && typeof q.sinceEpoch === "string",
              `a re-sent subscribe on ${channel} has no sinceSeq/sinceEpoch: ${JSON.stringify(q)}`,
            );
            resumable++;
            // The shard's first answer to the re-sent subscribe, after its ack.
            const answer = second.frames.find((received) =>
              received.id === frame.id && received.type !== "ack"
            )?.type;
            answers.set(String(answer), (answers.get(String(answer)) ?? 0) + 1);
            const functionPath = (frame.query as { functionPath?: string }).functionPath;
            assert(
              functionPath !== "probes:calls" || answer === "resume",
              `probes:calls (a result no write changes) was answered ${answer} after the reconnect`,
            );
          }
        }
      }
      const tally = [...answers].map(([type, n]) => `${n} ${type}`).join(", ");
      return `${resumable} subscribes re-sent with their ids and cursor; first answers: ${tally}`;
    },
  );

  await new Promise((resolve) => setTimeout(resolve, WRITE_AFTER_MS));
  stop.now = true;
  await Promise.allSettled(writers);

  await check(
    ctx,
    "islands: the writes stop; stored rows = acknowledged writes, and every store ends on the stored state (a one-shot query of the same function)",
    async () => {
      assert(
        problems.length === 0,
        `${problems.length} writes failed: ${problems.slice(0, 3).join("; ")}`,
      );
      const all = [...seeds, ...acks];
      for (const channel of CHANNELS) {
        const stored = await storedRows(ctx, channel);
        const expected = all.filter((ack) => ack.channel === channel).map((ack) => ack.row)
          .sort((a, b) => a.id - b.id);
        assert(
          isDeepStrictEqual(
            stored.map(({ id, body }) => [id, body]),
            expected.map(({ id, body }) => [id, body]),
          ),
          `${channel}: ${stored.length} stored rows, ${expected.length} acknowledged`,
        );
      }
      const checker = pages[0]!.client;
      const direct = new Map<string, unknown>();
      for (const spec of ALL_QUERIES) {
        direct.set(
          keyOf(spec),
          await checker.query(query<Record<string, unknown>>(spec.functionPath), spec.args, {
            shardKey: spec.shardKey,
          }),
        );
      }
      const startedAt = performance.now();
      await waitFor("every store to show what a one-shot query answers", () => {
        const off = pages.flatMap((page) => page.stores).filter((record) =>
          !isDeepStrictEqual(record.store.get(), direct.get(keyOf(record.spec)))
        );
        return off.length === 0 || undefined;
      }, SETTLE_MS).catch((error) => {
        const off = pages.flatMap((page) => page.stores).filter((record) =>
          !isDeepStrictEqual(record.store.get(), direct.get(keyOf(record.spec)))
        );
        throw new Error(
          `${off.length} stores off the stored state, e.g. ${off[0]?.spec.functionPath} on ${
            off[0]?.spec.shardKey
          }: ${error instanceof Error ? error.message : error}`,
        );
      });
      const counts = CHANNELS.map((channel) =>
        `${channel} ${all.filter((ack) => ack.channel === channel).length}`
      );
      ctx.numbers.set(
        "islands",
        `${PAGES} pages x ${STORES_PER_PAGE} stores (${
          pages.length * STORES_PER_PAGE
        }); ${acks.length} writes during the section (${
          acks.filter((ack) => !ack.row.body.startsWith("rpc")).length
        } through the pages' clients); rows ${counts.join(", ")}`,
      );
      return `${acks.length} acknowledged writes stored once each (${counts.join(", ")}); all ${
        pages.length * STORES_PER_PAGE
      } stores equal a direct query (${(performance.now() - startedAt).toFixed(0)} ms to settle)`;
    },
  );

  await check(
    ctx,
    "islands: nothing shown was never stored, no store lost its value or went offline",
    async () => {
      const stored = new Map<string, Row[]>();
      for (const channel of CHANNELS) stored.set(channel, await storedRows(ctx, channel));
      const checked = new Set<unknown>();
      let values = 0;
      for (const page of pages) {
        for (const record of page.stores) {
          const first = record.shown.findIndex((value) => value !== undefined);
          assert(first >= 0, `a store of ${record.spec.functionPath} never showed a value`);
          assert(
            record.shown.slice(first).every((value) => value !== undefined),
            `a store of ${record.spec.functionPath} dropped its value`,
          );
          assert(
            record.statuses.every((status) => status.state !== "offline"),
            `a store of ${record.spec.functionPath} went offline`,
          );
          for (const value of record.shown) {
            if (checked.has(value)) continue;
            checked.add(value);
            values++;
            const problem = neverStored(record.spec, value, stored.get(record.spec.shardKey)!);
            assert(problem === undefined, problem!);
          }
        }
      }
      const reconnecting =
        pages.flatMap((page) => page.stores).filter((record) =>
          record.statuses.some((status) => status.state === "reconnecting")
        ).length;
      return `${values} distinct values shown, each a stored state; ${reconnecting} of ${
        pages.length * STORES_PER_PAGE
      } stores showed "reconnecting" and kept their value`;
    },
  );

  await check(
    ctx,
    `islands (row 63): a WS token the shard expires (4001) ${EXPIRED_TOKENS} times: the provider is asked once per attempt, the attempts back off, then the store goes live`,
    async () => {
      const channel = CHANNELS[1]!;
      const asked: number[] = [];
      const page = new IslandPage(ctx.server.origin, {
        wsToken: () => {
          asked.push(performance.now());
          const n = asked.length;
          return Promise.resolve(n <= EXPIRED_TOKENS ? `expired-${n}` : `fresh-${n}`);
        },
      });
      pages.push(page);
      const before = await sockets(ctx);
      const record = page.live(queriesOf(channel)[3]!);
      await waitFor(
        "the store behind expiring tokens to go live",
        () => settledOn(record) || undefined,
        SETTLE_MS,
      );
      assert(
        asked.length === EXPIRED_TOKENS + 1 && page.sockets.length === EXPIRED_TOKENS + 1,
        `${asked.length} tokens asked for ${page.sockets.length} sockets`,
      );
      const gaps: number[] = [];
      for (let k = 0; k < EXPIRED_TOKENS; k++) {
        const socket = page.sockets[k]!;
        assert(
          socket.token === `expired-${k + 1}` && socket.closeCode === 4001,
          `attempt ${k + 1} carried ${socket.token} and closed ${socket.closeCode}`,
        );
        const gap = asked[k + 1]! - socket.closedAt!;
        // The ladder: [125, 250], [250, 500], [500, 1000], ... ms; a reset would stay at 125.
        const floor = FIRST_DELAY_FLOOR_MS * 2 ** k;
        assert(
          gap >= floor - 2,
          `attempt ${k + 2} came ${gap.toFixed(0)} ms after a 4001 (floor ${floor} ms)`,
        );
        gaps.push(gap);
      }
      assert(
        record.statuses.some((status) => status.error?.code === "TOKEN_EXPIRED"),
        "the store's status never said TOKEN_EXPIRED",
      );
      const after = await sockets(ctx);
      const expired = after[channel]!.expired - (before[channel]?.expired ?? 0);
      assert(expired === EXPIRED_TOKENS, `the shard refused ${expired} tokens`);
      ctx.numbers.set(
        "islands 4001",
        `${EXPIRED_TOKENS} expired tokens, ${asked.length} provider calls for ${page.sockets.length} attempts; gaps after each 4001: ${
          gaps.map((gap) => gap.toFixed(0)).join(", ")
        } ms`,
      );
      return `provider asked ${asked.length} times for ${page.sockets.length} attempts; gaps ${
        gaps.map((gap) => gap.toFixed(0)).join(", ")
      } ms (floors 125, 250, 500, 1000, 2000); status showed TOKEN_EXPIRED, then live`;
    },
  );

  await check(ctx, "islands: closed clients leave the devtools set", () => {
    for (const page of pages.splice(0)) page.close();
    const left = devtools().length;
    assert(left === 0, `${left} clients still in the devtools set`);
  });
}
