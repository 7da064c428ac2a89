/**
 * The end-to-end checks over HTTP and WebSocket against the example running on workerd.
 *
 * @module
 */
import {
  browserHeaders,
  page,
  rawUpgradeStatus,
  readToken,
  rpc,
  send,
  signUp,
  Subscriber,
  type User,
  wsUrl,
} from "../client.ts";
import { waitFor } from "../process.ts";
import { assert, check, type CheckContext } from "../report.ts";
import { EVENTUALLY_MS } from "../waits.ts";

/** Users signed up through better-auth for the checks, by role. */
export interface Users {
  /** Writes the seeded message. */
  alice: User;
  /** Loads pages signed in. */
  bob: User;
  /** Subscribes over WebSocket. */
  carol: User;
  /** Sends the pushed message. */
  dave: User;
}

/** What the checks with signed-in users share. */
export interface UsersContext extends CheckContext {
  users: Users;
}

/** Signs up the checks' users on the running app. */
export async function signUpUsers(origin: string): Promise<Users> {
  return {
    alice: await signUp(origin, "alice"),
    bob: await signUp(origin, "bob"),
    carol: await signUp(origin, "carol"),
    dave: await signUp(origin, "dave"),
  };
}

/** A message that must survive HTML, JSON-in-HTML and a restart unchanged. */
export const SEEDED = `seeded </script><script>window.__pwned=1</script> & "quotes" \u2028 ✓`;

/** The message bodies of a rendered channel page, HTML entities decoded. */
function renderedBodies(html: string): string[] {
  const entities: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" };
  return [...html.matchAll(/<span class="body">([^<]*)<\/span>/g)].map((match) =>
    match[1]!.replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) => entities[name]!)
  );
}

/** The worker's own count of HTTP requests to `/_lunora/rpc` (`GET /_lunora/admin/stats`). */
export async function rpcStats(
  ctx: CheckContext,
): Promise<{ isolate: string; rpcRequests: number }> {
  const response = await fetch(`${ctx.server.origin}/_lunora/admin/stats`, {
    headers: { authorization: `Bearer ${ctx.adminToken}` },
  });
  assert(response.status === 200, `admin stats answered ${response.status}`);
  return await response.json();
}

function countLogged(ctx: CheckContext, line: RegExp): number {
  return ctx.server.process.log().split("\n").filter((text) => line.test(text)).length;
}

const RPC_LOG_LINE = /POST \/_lunora\/rpc\b/;

/** Seeds the channel and checks the server-rendered page and its preloaded token. */
export async function checkSsr(ctx: UsersContext): Promise<void> {
  const { server, channel, users } = ctx;
  await check(ctx, "an RPC mutation from a same-origin browser is stored", async () => {
    const id = await send(server.origin, channel, SEEDED, users.alice.cookie);
    return `messages:send -> id ${id}`;
  });
  await check(ctx, "the SSR page contains the preloaded messages, escaped", async () => {
    const { status, text } = await page(server.origin, `/channels/${channel}`);
    assert(status === 200, `GET /channels/${channel} answered ${status}`);
    const bodies = renderedBodies(text);
    assert(bodies.includes(SEEDED), `rendered bodies: ${JSON.stringify(bodies.slice(-3))}`);
    assert(!text.includes("<script>window.__pwned"), "the message broke out of its element");
    const token = readToken(text);
    assert(token.__lunoraPreloaded === true, "the token is not a Preloaded token");
    assert(token.functionPath === "messages:list", `token functionPath ${token.functionPath}`);
    assert(token.shardKey === channel, `token shardKey ${token.shardKey}`);
    const message = token.value.messages.find((m) => m.body === SEEDED);
    assert(message, "the token's value lacks the seeded message");
    assert(
      message.author === users.alice.id,
      `the message's author is ${message.author}, not alice (${users.alice.id})`,
    );
  });
}

/**
 * The page's preload runs in process: rendering pages adds no HTTP request to `/_lunora/rpc`
 * (counted by the worker itself and, with `requestLog`, in wrangler's request log), while one
 * real HTTP RPC is counted; and the page request's cookie reaches the shard as that identity.
 * Under `astro dev` there is no request log to read (Astro's dev log does not list
 * `/_lunora/*`), so the worker's counter is the only witness.
 */
export async function checkInProcess(
  ctx: UsersContext,
  { requestLog = true }: { requestLog?: boolean } = {},
): Promise<void> {
  const { server, channel, users } = ctx;
  await check(ctx, "a page preload makes no HTTP request to /_lunora/rpc", async () => {
    const before = await rpcStats(ctx);
    const loggedBefore = countLogged(ctx, RPC_LOG_LINE);
    const probe = await rpc(server.origin, {
      functionPath: "messages:list",
      args: { channel },
      shardKey: channel,
    });
    assert(probe.status === 200, `probe RPC answered ${probe.status}`);
    const counted = await rpcStats(ctx);
    assert(counted.isolate === before.isolate, "the worker isolate changed during the check");
    assert(
      counted.rpcRequests === before.rpcRequests + 1,
      `one HTTP RPC moved the counter by ${counted.rpcRequests - before.rpcRequests}, not 1`,
    );
    const loggedProbe = requestLog
      ? await waitFor("wrangler to log the probe RPC", () => {
        const n = countLogged(ctx, RPC_LOG_LINE);
        return n > loggedBefore ? n : undefined;
      }, EVENTUALLY_MS)
      : 0;
    for (let i = 0; i < 3; i++) {
      const { status, text } = await page(server.origin, `/channels/${channel}`, users.bob.cookie);
      assert(status === 200 && readToken(text).__lunoraPreloaded, `page load ${i} failed`);
    }
    const after = await rpcStats(ctx);
    assert(after.isolate === before.isolate, "the worker isolate changed during the check");
    assert(
      after.rpcRequests === counted.rpcRequests,
      `3 page renders made ${
        after.rpcRequests - counted.rpcRequests
      } HTTP requests to /_lunora/rpc`,
    );
    if (!requestLog) return "worker counter: +1 for one HTTP RPC, +0 for 3 page renders";
    await new Promise((resolve) => setTimeout(resolve, 300));
    const loggedAfter = countLogged(ctx, RPC_LOG_LINE);
    assert(loggedAfter === loggedProbe, `wrangler logged ${loggedAfter - loggedProbe} more RPCs`);
    return "worker counter and wrangler log: +1 for one HTTP RPC, +0 for 3 page renders";
  });
  await check(ctx, "a signed-in cookie on the page request reaches the shard", async () => {
    const signedIn = readToken(
      (await page(server.origin, `/channels/${channel}`, users.bob.cookie)).text,
    );
    assert(
      signedIn.value.viewer?.userId === users.bob.id,
      `viewer ${JSON.stringify(signedIn.value.viewer)}, bob is ${users.bob.id}`,
    );
    assert(signedIn.value.viewer?.name === "bob", "the x-lunora-identity claims are missing");
    const anonymous = readToken((await page(server.origin, `/channels/${channel}`)).text);
    assert(
      anonymous.value.viewer === null,
      `anonymous viewer ${JSON.stringify(anonymous.value.viewer)}`,
    );
    return `x-lunora-userid ${users.bob.id} + name claim for bob's session, anonymous without`;
  });
}

/** An RPC mutation is pushed to a subscribed socket; pings are answered. */
export async function checkPush(ctx: UsersContext): Promise<void> {
  const { server, channel, users } = ctx;
  await check(ctx, "an RPC mutation is pushed to a subscribed WebSocket", async () => {
    const subscriber = new Subscriber(
      wsUrl(server.origin, channel),
      browserHeaders(server.origin, users.carol.cookie),
    );
    try {
      await subscriber.opened;
      subscriber.subscribe("sub_1", "messages:list", { channel });
      await subscriber.next((f) => f.type === "ack" && f.id === "sub_1");
      const initial = await subscriber.next((f) => f.type === "data" && f.id === "sub_1");
      assert(
        initial.data.viewer?.userId === users.carol.id,
        "the socket's identity did not reach the shard",
      );
      const mark = subscriber.frames.length;
      const text = `pushed ${crypto.randomUUID()}`;
      const started = performance.now();
      await send(server.origin, channel, text, users.dave.cookie);
      const pushed = await subscriber.next(
        (f) => f.type === "data" && f.data.messages.some((m: { body: string }) => m.body === text),
        EVENTUALLY_MS,
        mark,
      );
      const ms = performance.now() - started;
      const last = pushed.data.messages.at(-1);
      assert(
        last.body === text && last.author === users.dave.id,
        `last message ${JSON.stringify(last)}`,
      );
      subscriber.socket.send("lunora-ping");
      await waitFor(
        "lunora-pong",
        () => subscriber.texts.includes("lunora-pong") || undefined,
        EVENTUALLY_MS,
      );
      return `mutation -> push in ${ms.toFixed(0)} ms; lunora-ping -> lunora-pong`;
    } finally {
      await subscriber.close();
    }
  });
}

/** Unknown reserved paths, containment of a throwing page, CSRF and admin gates. */
export async function checkEdges(ctx: UsersContext): Promise<void> {
  const { server, channel, users } = ctx;
  await check(ctx, "unknown /_lunora/* paths are 404", async () => {
    const paths = ["/_lunora/nope", "/_lunora/rpc/", "/_LUNORA/rpc", "/%5Flunora/rpc", "/_lunora"];
    for (const path of paths) {
      const response = await fetch(`${server.origin}${path}`, { method: "POST" });
      await response.body?.cancel();
      assert(response.status === 404, `${path} answered ${response.status}`);
    }
    return paths.join(" ");
  });
  await check(ctx, "the throwing page is a plain 500 while RPC still answers", async () => {
    const boom = await page(server.origin, "/boom");
    assert(boom.status === 500, `/boom answered ${boom.status}`);
    assert(
      !/boom|secret|stack|at /i.test(boom.text),
      `the 500 leaks: ${boom.text.slice(0, 120)}`,
    );
    const after = await rpc(server.origin, {
      functionPath: "messages:list",
      args: { channel },
      shardKey: channel,
    });
    assert(after.status === 200 && Array.isArray(after.body?.result?.messages), "RPC failed");
  });
  await check(ctx, "a cross-site cookie WebSocket upgrade is refused with 403", async () => {
    const path = `/_lunora/ws?shard=${channel}`;
    const evil = await rawUpgradeStatus(server.port, path, {
      Origin: "https://evil.test",
      Cookie: users.alice.cookie,
    });
    assert(evil === 403, `cross-site upgrade answered ${evil}`);
    const same = await rawUpgradeStatus(server.port, path, {
      Origin: server.origin,
      Cookie: users.alice.cookie,
    });
    assert(same === 101, `same-origin upgrade answered ${same}`);
    return "cross-site 403, same-origin 101";
  });
  await check(ctx, "a cross-site cookie RPC is refused with 403", async () => {
    const answer = await rpc(server.origin, {
      functionPath: "messages:send",
      args: { channel, body: "csrf" },
      shardKey: channel,
    }, { origin: "https://evil.test", cookie: users.alice.cookie });
    assert(answer.status === 403, `answered ${answer.status}`);
    assert(answer.body?.error?.code === "FORBIDDEN_ORIGIN", JSON.stringify(answer.body));
  });
  await check(ctx, "admin: no token is 403; the token runs an internal function", async () => {
    const denied = await fetch(`${server.origin}/_lunora/admin/stats`);
    await denied.body?.cancel();
    assert(denied.status === 403, `stats without a token answered ${denied.status}`);
    const scratch = `${channel}-scratch`;
    await send(server.origin, scratch, "to be cleared");
    const envelope = {
      functionPath: "messages:clear",
      args: { channel: scratch },
      shardKey: scratch,
    };
    const publicCall = await rpc(server.origin, envelope);
    assert(publicCall.status === 404, `internal function over public RPC: ${publicCall.status}`);
    const admin = await rpc(server.origin, envelope, {
      authorization: `Bearer ${ctx.adminToken}`,
    }, "/_lunora/admin/rpc");
    assert(
      admin.status === 200,
      `admin rpc answered ${admin.status} ${JSON.stringify(admin.body)}`,
    );
    const list = await rpc(server.origin, {
      functionPath: "messages:list",
      args: { channel: scratch },
      shardKey: scratch,
    });
    assert(list.body?.result?.messages?.length === 0, "the scratch channel was not cleared");
  });
}

/**
 * Load: 20 subscribers, 200 mutations and 20 page renders at once; every subscriber ends on
 * the final state and nothing answers 5xx.
 */
export async function checkLoad(ctx: CheckContext): Promise<void> {
  const { server } = ctx;
  const channel = `${ctx.channel}-load`;
  await check(
    ctx,
    "20 subscribers, 200 mutations and 20 renders at once: all converge",
    async () => {
      const subscribers = Array.from(
        { length: 20 },
        () => new Subscriber(wsUrl(server.origin, channel), browserHeaders(server.origin)),
      );
      try {
        await Promise.all(subscribers.map((s) => s.opened));
        subscribers.forEach((s) => s.subscribe("sub_1", "messages:list", { channel }));
        await Promise.all(subscribers.map((s) => s.next((f) => f.type === "data")));
        const started = performance.now();
        const statuses: number[] = [];
        const ids: number[] = [];
        const writers = Array.from({ length: 10 }, async (_, w) => {
          for (let i = 0; i < 20; i++) {
            // send() fails the check on any status but 200.
            ids.push(await send(server.origin, channel, `load ${w}-${i}`));
          }
        });
        const readers = Array.from({ length: 20 }, async () => {
          const response = await fetch(`${server.origin}/channels/${channel}`);
          await response.body?.cancel();
          statuses.push(response.status);
        });
        await Promise.all([...writers, ...readers]);
        const bad = statuses.filter((status) => status !== 200);
        assert(bad.length === 0, `page renders answered ${bad.join(", ")}`);
        assert(new Set(ids).size === 200, `${new Set(ids).size} distinct ids for 200 sends`);
        const last = Math.max(...ids);
        const finals = await Promise.all(
          subscribers.map((s) =>
            s.next((f) => f.type === "data" && f.data.messages.at(-1)?.id === last, EVENTUALLY_MS)
          ),
        );
        // The newest 50 of 200 writes, none missing: ids last-49 ... last on every socket.
        for (const final of finals) {
          const got = final.data.messages.map((m: { id: number }) => m.id).join();
          const want = Array.from({ length: 50 }, (_, i) => last - 49 + i).join();
          assert(got === want, `a socket ended on ids ${got}`);
        }
        const seconds = (performance.now() - started) / 1000;
        return `${ids.length} mutations + 20 renders; all 20 sockets saw id ${last}; ${
          seconds.toFixed(1)
        } s`;
      } finally {
        await Promise.all(subscribers.map((s) => s.close()));
      }
    },
  );
}

/** After a restart on the same persist directory the data written before is still there. */
export async function checkPersisted(ctx: UsersContext): Promise<void> {
  await check(ctx, "data survives a server restart (same persist dir)", async () => {
    const { status, text } = await page(ctx.server.origin, `/channels/${ctx.channel}`);
    assert(status === 200, `page answered ${status}`);
    const token = readToken(text);
    assert(token.value.messages.some((m) => m.body === SEEDED), "the seeded message is gone");
    return `${token.value.messages.length} messages after restart`;
  });
  await check(ctx, "a session made before the restart is still signed in (D1)", async () => {
    const { alice } = ctx.users;
    const token = readToken(
      (await page(ctx.server.origin, `/channels/${ctx.channel}`, alice.cookie)).text,
    );
    assert(
      token.value.viewer?.userId === alice.id,
      `viewer ${JSON.stringify(token.value.viewer)}, alice is ${alice.id}`,
    );
    return `alice (${alice.id}) still signed in`;
  });
}
