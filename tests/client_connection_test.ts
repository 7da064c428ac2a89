/**
 * The socket of one shard over a scripted socket and fake timers: liveness, backoff, tokens
 * (§12, threat row 63).
 */
import assert from "node:assert/strict";
import { loadEngine } from "../src/client/lunora_client.ts";
import { type FakeClock, liveClient, watch, withFakeClock } from "./_fakes.ts";

await loadEngine();

const ref = { __lunoraRef: "messages:list" };

Deno.test("one client opens one socket per shard key, lazily, and keeps it when its queries leave", async () => {
  await withFakeClock((clock) => {
    const { client, sockets } = liveClient();
    const a = watch(client.liveQuery(ref, { n: 1 }, { shardKey: "a" }));
    const b = watch(client.liveQuery(ref, { n: 2 }, { shardKey: "a" }));
    const root = watch(client.liveQuery(ref, { n: 3 }));
    assert.deepEqual(sockets.all.map((s) => s.url), [
      "wss://app.test/_lunora/ws?shard=a",
      "wss://app.test/_lunora/ws",
    ]);
    for (const s of sockets.all) s.open();
    a.stop();
    b.stop();
    root.stop();
    clock.tick(60_000);
    assert.ok(sockets.all.every((s) => s.closedByClient === undefined));
    assert.equal(sockets.all.length, 2);
    client.close();
    assert.ok(sockets.all.every((s) => s.closedByClient !== undefined));
  });
});

Deno.test("an open socket sends lunora-ping every 30 s and ignores lunora-pong", async () => {
  await withFakeClock((clock) => {
    const { client, sockets } = liveClient();
    const seen = watch(client.liveQuery(ref));
    const socket = sockets.last();
    socket.open();
    clock.tick(29_999);
    assert.equal(socket.sent.filter((t) => t === "lunora-ping").length, 0);
    clock.tick(1);
    assert.equal(socket.sent.filter((t) => t === "lunora-ping").length, 1);
    socket.push("lunora-pong");
    clock.tick(30_000);
    assert.equal(socket.sent.filter((t) => t === "lunora-ping").length, 2);
    seen.stop();
    client.close();
  });
});

Deno.test("a socket silent for 75 s is force-closed and replaced; any frame keeps it alive", async () => {
  await withFakeClock(async (clock) => {
    const { client, sockets } = liveClient();
    const seen = watch(client.liveQuery(ref));
    const socket = sockets.last();
    socket.open();
    clock.tick(70_000);
    socket.push("lunora-pong");
    clock.tick(70_000);
    assert.equal(socket.closedByClient, undefined, "heard from 70 s ago, not silent");
    clock.tick(5_000);
    assert.ok(socket.closedByClient, "silent for 75 s");
    await clock.tickAsync(300);
    assert.equal(sockets.all.length, 2);
    seen.stop();
    client.close();
  });
});

Deno.test("an attempt that does not open within 10 s is abandoned for a new one", async () => {
  await withFakeClock(async (clock) => {
    const { client, sockets } = liveClient();
    const store = client.liveQuery(ref);
    const seen = watch(store);
    clock.tick(9_999);
    assert.equal(sockets.last().closedByClient, undefined);
    clock.tick(1);
    assert.ok(sockets.last().closedByClient);
    assert.equal(store.status.get().error?.code, "CONNECT_TIMEOUT");
    await clock.tickAsync(300);
    assert.equal(sockets.all.length, 2);
    seen.stop();
    client.close();
  });
});

/** Advances the clock until the client opens its next socket. */
async function nextSocket(
  clock: { tickAsync(ms: number): Promise<number> },
  sockets: { all: unknown[] },
): Promise<void> {
  const count = sockets.all.length;
  for (let i = 0; i < 10_000 && sockets.all.length === count; i++) await clock.tickAsync(5);
}

/** Runs `fn` on a fake clock with every jitter draw at its longest (`Math.random` ≈ 1). */
async function atLongestJitter(fn: (clock: FakeClock) => Promise<void>): Promise<void> {
  const saved = Math.random;
  Math.random = () => 0.999;
  try {
    await withFakeClock(fn);
  } finally {
    Math.random = saved;
  }
}

/** Fails four attempts in a row, so the next delay is far above the first step. */
async function climbBackoff(
  clock: FakeClock,
  sockets: { all: unknown[]; last(): { drop(): void } },
): Promise<void> {
  for (let i = 0; i < 4; i++) {
    sockets.last().drop();
    await nextSocket(clock, sockets);
  }
}

/** Times (ms after the first drop) at which each new socket appeared. */
async function reconnectTimes(
  clock: { tickAsync(ms: number): Promise<number>; now: number },
  sockets: { all: unknown[] },
  step: (attempt: number) => void,
  until: number,
): Promise<number[]> {
  const start = clock.now;
  const times: number[] = [];
  let count = sockets.all.length;
  while (clock.now - start < until) {
    await clock.tickAsync(5);
    if (sockets.all.length > count) {
      count = sockets.all.length;
      times.push(clock.now - start);
      step(times.length);
    }
  }
  return times;
}

Deno.test("a bare open does not reset the backoff: a socket closed right after opening waits longer each time", async () => {
  await atLongestJitter(async (clock) => {
    const { client, sockets } = liveClient();
    const seen = watch(client.liveQuery(ref));
    sockets.last().open();
    sockets.last().drop();
    const times = await reconnectTimes(clock, sockets, () => {
      sockets.last().open();
      sockets.last().drop();
    }, 8_000);
    const gaps = times.map((t, i) => t - (times[i - 1] ?? 0));
    assert.ok(gaps.length >= 4, `${gaps}`);
    for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i]! > gaps[i - 1]! * 1.8, `${gaps}`);
    seen.stop();
    client.close();
  });
});

Deno.test("the backoff resets after the socket stayed open 5 s", async () => {
  await atLongestJitter(async (clock) => {
    const { client, sockets } = liveClient();
    const seen = watch(client.liveQuery(ref));
    await climbBackoff(clock, sockets);
    sockets.last().open();
    clock.tick(5_000);
    sockets.last().drop();
    const before = sockets.all.length;
    await clock.tickAsync(250);
    assert.equal(sockets.all.length, before + 1, "back to the 250 ms step");
    seen.stop();
    client.close();
  });
});

Deno.test("the backoff resets at a parsed non-error frame, but not at an error frame", async () => {
  await atLongestJitter(async (clock) => {
    const { client, sockets } = liveClient();
    const seen = watch(client.liveQuery(ref));
    await climbBackoff(clock, sockets);
    sockets.last().open();
    sockets.last().push({ type: "error", id: "sub_1", error: { code: "X", message: "x" } });
    sockets.last().drop();
    let before = sockets.all.length;
    await clock.tickAsync(1_000);
    assert.equal(sockets.all.length, before, "an error frame proves nothing");
    await nextSocket(clock, sockets);
    sockets.last().open();
    sockets.last().push({ type: "ack", id: "sub_1" });
    sockets.last().drop();
    before = sockets.all.length;
    await clock.tickAsync(250);
    assert.equal(sockets.all.length, before + 1, "an ack proves the socket");
    seen.stop();
    client.close();
  });
});

Deno.test("close code 4001 reports TOKEN_EXPIRED and reconnects with a fresh token from the provider", async () => {
  await withFakeClock(async (clock) => {
    let issued = 0;
    const { client, sockets } = liveClient({
      url: "https://api.example.com",
      wsToken: () => Promise.resolve(`t${++issued}`),
    });
    const store = client.liveQuery(ref);
    const seen = watch(store);
    await clock.tickAsync(0);
    assert.equal(sockets.last().url, "wss://api.example.com/_lunora/ws?token=t1");
    sockets.last().open();
    sockets.last().drop(4001, "TOKEN_EXPIRED");
    assert.equal(store.status.get().error?.code, "TOKEN_EXPIRED");
    await clock.tickAsync(300);
    assert.equal(sockets.last().url, "wss://api.example.com/_lunora/ws?token=t2");
    sockets.last().open();
    assert.equal(store.status.get().error, undefined);
    assert.equal(store.status.get().state, "live");
    seen.stop();
    client.close();
  });
});

Deno.test("an error frame TOKEN_EXPIRED without an id is the socket's: it reconnects with a new token", async () => {
  await withFakeClock(async (clock) => {
    let issued = 0;
    const { client, sockets } = liveClient({ wsToken: () => `t${++issued}` });
    const seen = watch(client.liveQuery(ref));
    await clock.tickAsync(0);
    sockets.last().open();
    sockets.last().push({ type: "error", error: { code: "TOKEN_EXPIRED", message: "expired" } });
    assert.ok(sockets.last().closedByClient);
    await clock.tickAsync(300);
    assert.ok(sockets.last().url.endsWith("?token=t2"));
    seen.stop();
    client.close();
  });
});

Deno.test("a token the shard keeps refusing is asked for with growing gaps, not hammered (row 63)", async () => {
  await withFakeClock(async (clock) => {
    let asked = 0;
    const { client, sockets } = liveClient({ wsToken: () => `t${++asked}` });
    const seen = watch(client.liveQuery(ref));
    await clock.tickAsync(0);
    sockets.last().open();
    sockets.last().drop(4001, "");
    await reconnectTimes(clock, sockets, () => {
      sockets.last().open();
      sockets.last().drop(4001, "");
    }, 10_000);
    assert.ok(asked <= 7, `the provider was asked ${asked} times in 10 s`);
    assert.ok(asked >= 4, `the provider was asked ${asked} times in 10 s`);
    seen.stop();
    client.close();
  });
});

Deno.test("a failing token provider is retried with backoff and reported as WS_TOKEN_FAILED", async () => {
  await withFakeClock(async (clock) => {
    let asked = 0;
    const { client, sockets } = liveClient({
      wsToken: () => {
        asked++;
        throw new Error("auth server down");
      },
    });
    const store = client.liveQuery(ref);
    const seen = watch(store);
    await clock.tickAsync(0);
    assert.equal(sockets.all.length, 0);
    assert.equal(store.status.get().error?.code, "WS_TOKEN_FAILED");
    await clock.tickAsync(300);
    assert.equal(asked, 2);
    seen.stop();
    client.close();
  });
});

Deno.test("when a shard closes 100 pages' sockets at once, their reconnects spread over the jitter window (row 63)", async () => {
  await withFakeClock(async (clock) => {
    const pages = Array.from({ length: 100 }, () => liveClient());
    const watched = pages.map(({ client }) => watch(client.liveQuery(ref)));
    for (const { sockets } of pages) sockets.last().open();
    for (const { sockets } of pages) sockets.last().drop(1012, "");
    const start = clock.now;
    const times: number[] = [];
    while (clock.now - start <= 250) {
      await clock.tickAsync(1);
      for (const { sockets } of pages) {
        if (sockets.all.length === 2 && times.length < 100 && !("seen" in sockets.last())) {
          Object.assign(sockets.last(), { seen: true });
          times.push(clock.now - start);
        }
      }
    }
    assert.equal(times.length, 100);
    assert.ok(
      Math.min(...times) >= 125 && Math.max(...times) <= 250,
      `${Math.min(...times)}..${Math.max(...times)}`,
    );
    const buckets = new Set(times.map((t) => Math.floor(t / 25)));
    assert.ok(buckets.size >= 4, "reconnects bunched together");
    for (const w of watched) w.stop();
    for (const { client } of pages) client.close();
  });
});

Deno.test("coming back online reconnects at once instead of at the end of a long backoff", async () => {
  // The page's window, as an event target (Node's globalThis is none).
  const page = new EventTarget();
  const scope = globalThis as unknown as Record<string, unknown>;
  const saved = { add: scope.addEventListener, remove: scope.removeEventListener };
  scope.addEventListener = page.addEventListener.bind(page);
  scope.removeEventListener = page.removeEventListener.bind(page);
  try {
    await atLongestJitter(async (clock) => {
      const { client, sockets } = liveClient();
      const seen = watch(client.liveQuery(ref));
      await climbBackoff(clock, sockets);
      sockets.last().drop();
      const before = sockets.all.length;
      await clock.tickAsync(1_000);
      assert.equal(sockets.all.length, before, "still backing off");
      page.dispatchEvent(new Event("online"));
      assert.equal(sockets.all.length, before + 1);
      seen.stop();
      client.close();
    });
  } finally {
    scope.addEventListener = saved.add;
    scope.removeEventListener = saved.remove;
    if (saved.add === undefined) delete scope.addEventListener;
    if (saved.remove === undefined) delete scope.removeEventListener;
  }
});
