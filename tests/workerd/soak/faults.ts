/**
 * Fault injection through the test functions of the app under test (`faults.ts` in
 * `../example_under_test/app/src/under_test/`): a function that throws, one that returns a value
 * no encoder can write, one that is slow, a query that fails during pushes, a mutation that
 * throws after writing, and `retryable` failures of
 * server writes (`server_writes.ts`). Checks what a client sees over `/_lunora/rpc`, in
 * WebSocket error frames and from the server client, and that everything else keeps working.
 *
 * @module
 */
import { assert, check } from "../report.ts";
import { browserHeaders, Subscriber, wsUrl } from "../client.ts";
import { workerdMemory } from "./memory.ts";
import { call, expectError, result, sendMessage, type SoakContext, user } from "./context.ts";
import { checkServerWriteFaults } from "./server_writes.ts";
import { EVENTUALLY_MS } from "../waits.ts";

/** Text the fault functions put in their errors; it must never reach a client. */
const SECRETS = ["fault-secret", "fault injected", "/internal/path", "faults.ts"];
const GENERIC = '{"error":{"code":"INTERNAL","message":"Internal error"}}';
/** SQLite steps for `faults:slow`: about half a second on the machines this was written on. */
const SLOW_STEPS = 4_000_000;

function runtimePids(ctx: SoakContext): string {
  return workerdMemory(ctx.server.process.pid, ctx.server.port).map((m) => `${m.role}:${m.pid}`)
    .join(",");
}

/** Runs every fault check; returns how many faults were injected. */
export async function checkFaults(ctx: SoakContext): Promise<number> {
  const pidsBefore = runtimePids(ctx);
  let injected = 0;
  const channel = "faults";

  /** Calls `functionPath` five times; each answer must be the generic 500. */
  async function failsGenerically(functionPath: string): Promise<string> {
    for (let i = 0; i < 5; i++) {
      const answer = await call(ctx, functionPath, { functionPath, shardKey: channel });
      injected++;
      expectError(answer, 500, "INTERNAL", SECRETS);
      assert(answer.text === GENERIC, `body ${answer.text}`);
      assert(answer.headers.get("x-lunora-shard-key") === channel, "no x-lunora-shard-key");
    }
    return `5 calls: 500 ${GENERIC}`;
  }

  await check(
    ctx,
    "a throwing function is a generic 500 INTERNAL over /_lunora/rpc",
    () => failsGenerically("faults:throw"),
  );
  await check(
    ctx,
    "a non-encodable result (a cyclic object) is a generic 500 INTERNAL over /_lunora/rpc",
    () => failsGenerically("faults:unencodable"),
  );

  await check(ctx, "a mutation that throws after writing leaves no row behind", async () => {
    const before = await result<{ count: number }>(ctx, "probes:count", { channel }, channel);
    for (let i = 0; i < 3; i++) {
      const answer = await call(ctx, "faults:writeThenThrow", {
        functionPath: "faults:writeThenThrow",
        args: { channel },
        shardKey: channel,
      });
      injected++;
      expectError(answer, 500, "INTERNAL", SECRETS);
    }
    const after = await result<{ count: number }>(ctx, "probes:count", { channel }, channel);
    assert(after.count === before.count, `rows went from ${before.count} to ${after.count}`);
    return `3 calls: 500 INTERNAL, rows stayed ${after.count} (transaction rolled back)`;
  });

  await check(ctx, "a slow function answers, and calls made meanwhile all answer 200", async () => {
    const origin = ctx.server.origin;
    const slowStarted = performance.now();
    const slow = call(ctx, "faults:slow", {
      functionPath: "faults:slow",
      args: { steps: SLOW_STEPS },
      shardKey: channel,
    });
    injected++;
    await new Promise((resolve) => setTimeout(resolve, 30));
    const others = await Promise.all([
      call(ctx, "messages:list", {
        functionPath: "messages:list",
        args: { channel: "faults-other" },
        shardKey: "faults-other",
      }),
      ctx.tally.fetch("status", `${origin}/_lunora/status`),
      ctx.tally.fetch("page", `${origin}/channels/faults-other`),
    ]);
    const slowAnswer = await slow;
    const slowMs = performance.now() - slowStarted;
    assert(
      slowAnswer.status === 200 && slowAnswer.body?.result?.count === SLOW_STEPS,
      `faults:slow answered ${slowAnswer.status} ${slowAnswer.text.slice(0, 200)}`,
    );
    for (const other of others) assert(other.status === 200, `a call answered ${other.status}`);
    const waits = others.map((other) => other.ms.toFixed(0)).join("/");
    // One workerd runs the worker and every Durable Object locally: a busy object holds the
    // others up (on Cloudflare each object runs on its own), so this is reported, not asserted.
    return `slow call ${
      slowMs.toFixed(0)
    } ms; RPC to another shard, status, page meanwhile: ${waits} ms`;
  });

  await check(
    ctx,
    "WebSocket subscriptions to failing functions get error frames; the socket's other subscription keeps receiving pushes",
    async () => {
      const origin = ctx.server.origin;
      const wsChannel = "faults-ws";
      const socket = new Subscriber(
        wsUrl(origin, wsChannel),
        browserHeaders(origin, user(ctx, "alice").cookie),
      );
      const bystander = new Subscriber(wsUrl(origin, wsChannel), browserHeaders(origin));
      try {
        await Promise.all([socket.opened, bystander.opened]);
        socket.subscribe("sub_list", "messages:list", { channel: wsChannel });
        bystander.subscribe("sub_list", "messages:list", { channel: wsChannel });
        await socket.next((f) => f.type === "data" && f.id === "sub_list");
        await bystander.next((f) => f.type === "data" && f.id === "sub_list");
        const expected: Record<string, [string, string, Record<string, unknown>]> = {
          sub_throw: ["INTERNAL", "faults:throw", {}],
          sub_cycle: ["INTERNAL", "faults:unencodable", {}],
          sub_unknown: ["NOT_FOUND", "faults:nope", {}],
          sub_internal: ["NOT_FOUND", "messages:clear", { channel: wsChannel }],
          sub_mutation: ["BAD_REQUEST", "messages:send", { channel: wsChannel, body: "x" }],
          sub_badargs: ["BAD_REQUEST", "faults:slow", { steps: -1 }],
        };
        for (const [id, [, functionPath, args]] of Object.entries(expected)) {
          socket.subscribe(id, functionPath, args);
          injected++;
        }
        for (const [id, [code]] of Object.entries(expected)) {
          const frame = await socket.next((f) => f.type === "error" && f.id === id);
          assert(frame.error?.code === code, `${id}: ${JSON.stringify(frame)}`);
        }
        socket.subscribe("sub_slow", "faults:slow", { steps: SLOW_STEPS / 4 });
        injected++;
        const slow = await socket.next(
          (f) => f.type === "data" && f.id === "sub_slow",
          EVENTUALLY_MS,
        );
        assert(
          slow.data.count === SLOW_STEPS / 4,
          `slow subscription data ${JSON.stringify(slow)}`,
        );
        const leaked = socket.texts.filter((text) => SECRETS.some((s) => text.includes(s)));
        assert(leaked.length === 0, `frames leak: ${leaked[0]}`);

        const mark = socket.frames.length;
        const markBystander = bystander.frames.length;
        const text = `after faults ${crypto.randomUUID().slice(0, 8)}`;
        await sendMessage(ctx, wsChannel, text, user(ctx, "alice").cookie);
        const hasText = (f: { type: string; id: string; data: { messages: { body: string }[] } }) =>
          f.type === "data" && f.id === "sub_list" && f.data.messages.some((m) => m.body === text);
        await socket.next(hasText, EVENTUALLY_MS, mark);
        await bystander.next(hasText, EVENTUALLY_MS, markBystander);
        const failing = socket.frames.slice(mark).filter((f) =>
          (f as { type: string }).type === "error"
        );
        assert(
          failing.length === 0,
          `failed subscriptions were kept: ${JSON.stringify(failing[0])}`,
        );
        return `6 error frames (INTERNAL x2, NOT_FOUND x2, BAD_REQUEST x2), slow subscription served, push to both sockets after`;
      } finally {
        await Promise.all([socket.close(), bystander.close()]);
      }
    },
  );

  await check(
    ctx,
    "a subscription whose re-run throws during a push gets an error frame, then recovers; others on the socket are pushed",
    async () => {
      const origin = ctx.server.origin;
      const tripChannel = "faults-trip";
      const socket = new Subscriber(wsUrl(origin, tripChannel), browserHeaders(origin));
      const bystander = new Subscriber(wsUrl(origin, tripChannel), browserHeaders(origin));
      try {
        await Promise.all([socket.opened, bystander.opened]);
        socket.subscribe("sub_list", "messages:list", { channel: tripChannel });
        socket.subscribe("sub_trip", "faults:tripwire", { channel: tripChannel });
        bystander.subscribe("sub_list", "messages:list", { channel: tripChannel });
        await socket.next((f) => f.type === "data" && f.id === "sub_trip");
        await bystander.next((f) => f.type === "data" && f.id === "sub_list");

        let mark = socket.frames.length;
        const tripId = await sendMessage(ctx, tripChannel, "tripwire");
        injected++;
        const error = await socket.next(
          (f) => f.type === "error" && f.id === "sub_trip",
          EVENTUALLY_MS,
          mark,
        );
        assert(error.error?.code === "INTERNAL", `trip frame ${JSON.stringify(error)}`);
        const newest = (
          f: { type: string; id: string; data: { messages: { id: number }[] } },
          id: number,
        ) => f.type === "data" && f.id === "sub_list" && f.data.messages.at(-1)?.id === id;
        await socket.next((f) => newest(f, tripId), EVENTUALLY_MS, mark);
        await bystander.next((f) => newest(f, tripId));

        mark = socket.frames.length;
        const calmId = await sendMessage(ctx, tripChannel, "calm");
        const recovered = await socket.next(
          (f) => f.type === "data" && f.id === "sub_trip",
          EVENTUALLY_MS,
          mark,
        );
        assert(recovered.data.newestId === calmId, `recovered with ${JSON.stringify(recovered)}`);
        await socket.next((f) => newest(f, calmId), EVENTUALLY_MS, mark);
        await bystander.next((f) => newest(f, calmId));
        return "tripwire -> error frame INTERNAL + list pushed; calm -> subscription data again";
      } finally {
        await Promise.all([socket.close(), bystander.close()]);
      }
    },
  );

  injected += await checkServerWriteFaults(ctx);

  await check(ctx, "after the faults the same workerd processes still answer", async () => {
    const status = await ctx.tally.fetch("status", `${ctx.server.origin}/_lunora/status`);
    assert(status.status === 200, `status answered ${status.status}`);
    const pidsAfter = runtimePids(ctx);
    assert(pidsAfter === pidsBefore, `workerd processes changed: ${pidsBefore} -> ${pidsAfter}`);
    return `workerd ${pidsAfter} unchanged`;
  });
  return injected;
}
