/**
 * `deno task e2e`: the example app, end to end, on workerd and in Chromium.
 *
 * 1. Node 22 from npm, Debian's Chromium (apt-get when missing), the npm build of this package
 *    (`deno task build:npm`, which packs `.out/lunora-astro.tgz`; reused when newer than every
 *    source).
 * 2. `examples/chat` (Astro 7 + @astrojs/cloudflare 14): install its lock plus the tarball, make
 *    the app under test from it in `.out/e2e/chat/` (the example with the test entry of
 *    `../example_under_test/` laid over it), `astro build`, its D1 migrations (better-auth's schema), `wrangler dev` on a free loopback
 *    port with a relay on a second port as the "API origin", sign-ups through better-auth, then
 *    checks over HTTP and WebSocket (identity continuity between SSR and the socket on one and
 *    on two origins; the send form's Astro Action, stored once per hidden key), a load run, the
 *    browser (with and without JavaScript), the live islands on `@lunora/astro/client`
 *    (`islands.ts`), and a restart on the same persisted state while the islands stay open.
 *    The Astro-app parts too: the React island fed by props (Date and bigint through Astro's
 *    serializer; in Chromium its first render equals the server HTML), the prerendered `/about`
 *    served as a static asset, and the server island rendered in process.
 * 3. The same app under `astro dev`, in another app under test, `.out/e2e/dev-app/`: SSR with the
 *    in-process preload, RPC, WebSocket push, `/about`, the server island, the detailed
 *    `Server-Timing` and the Lunora dev toolbar app in Chromium (`toolbar.ts`), the live islands
 *    with View Transitions and the sign-out (not the restart), then an edit to a shard function
 *    that answers without a restart, the earlier rows still there.
 * 4. `examples/chat-astro6` (Astro 6 + @astrojs/cloudflare 13, same sources), as an app under
 *    test in `.out/e2e/chat-astro6/`: build (with
 *    `/about` prerendered and `ShardDO` still exported), start, SSR page + RPC + in-process
 *    preload + the send form's Astro Action + same-origin identity, island props, `/about`, the
 *    server island, and in Chromium the React and Svelte islands and the plain script on one
 *    socket (`islands.ts`).
 *
 * Every process it starts is stopped by process group. Logs, state and the screenshot go to
 * `.out/e2e/`. Ends with a plain `N passed, M failed` line; exits non-zero on any failure.
 *
 * @module
 */
import { join } from "node:path";
import {
  assertInstalledTarball,
  buildApp,
  installApp,
  lockTree,
  nodeEnv,
  OUT,
  ROOT,
  type Server,
  startApp,
  TARBALL,
  tarballIsFresh,
  typeCheckApp,
} from "../example_app.ts";
import {
  checkBuildOutput,
  checkIslandProps,
  checkPrerendered,
  checkServerIsland,
} from "./astro_app.ts";
import { checkBrowser, ensureChromium } from "./browser.ts";
import {
  checkEdges,
  checkInProcess,
  checkLoad,
  checkPersisted,
  checkPush,
  checkSsr,
  signUpUsers,
  type UsersContext,
} from "./checks.ts";
import { checkHotReload, startDev, warmUp } from "./dev.ts";
import { checkIslands, WS_TOKEN_TTL } from "./islands.ts";
import { makeAppUnderTest, OVERLAY_SOURCES } from "../example_under_test/overlay.ts";
import { checkFormWrites } from "./writes.ts";
import {
  addToolbarProbe,
  checkNoToolbarInBuild,
  checkServerTimingInBuild,
  checkServerTimingInDev,
  checkToolbarApp,
} from "./toolbar.ts";
import { freePort, run } from "../process.ts";
import { Report, runScript } from "../report.ts";
import { TcpProxy } from "../tcp_proxy.ts";
import {
  checkCrossOriginIdentity,
  checkSameOriginIdentity,
  type IdentityContext,
} from "./identity.ts";

const CHAT = join(ROOT, "examples", "chat");
const CHAT_ASTRO6 = join(ROOT, "examples", "chat-astro6");
/** What chat-astro6 shares with chat (copied in; its own package.json and lock stay). */
const SHARED = ["src", "astro.config.mjs", "wrangler.jsonc", "tsconfig.json"];

const report = new Report();
const running = new Set<Server>();
const relays = new Set<TcpProxy>();
const adminToken = crypto.randomUUID();

async function stopAll(): Promise<void> {
  for (const relay of relays) await relay.close();
  relays.clear();
  for (const server of running) await server.process.stop();
  running.clear();
}

Deno.addSignalListener("SIGINT", async () => {
  await stopAll();
  Deno.exit(130);
});

async function start(
  appDir: string,
  env: Record<string, string>,
  persistTo: string,
  logName: string,
  port = freePort(),
  vars: Record<string, string> = {},
): Promise<Server> {
  const server = await startApp(appDir, env, {
    port,
    persistTo,
    adminToken,
    logPath: join(OUT, logName),
    vars,
  });
  running.add(server);
  console.log(`wrangler dev (pid ${server.process.pid}) ready at ${server.origin}`);
  return server;
}

async function stop(server: Server): Promise<void> {
  await server.process.stop();
  running.delete(server);
}

async function buildPackage(): Promise<string> {
  if (tarballIsFresh()) return "reused .out/lunora-astro.tgz (newer than every source)";
  const started = Date.now();
  try {
    await run([Deno.execPath(), "task", "build:npm"], { cwd: ROOT });
    return "built";
  } catch (error) {
    let packed = 0;
    try {
      packed = Deno.statSync(TARBALL).mtime?.getTime() ?? 0;
    } catch {
      // No tarball at all.
    }
    if (packed < started) throw error;
    // The tarball is fresh although a check failed: record the failure, test the package.
    await report.check("deno task build:npm passes its own checks", () => {
      throw error;
    });
    return "built (with failed checks)";
  }
}

/**
 * Installs one example, makes the app under test from it in `.out/e2e/<name>/` and builds that,
 * checking what was installed and what `lunora()` said. Returns the app under test's directory.
 */
async function prepare(
  name: string,
  example: string,
  env: Record<string, string>,
): Promise<string> {
  await report.step(`${name}: npm install (lock + tarball)`, () => installApp(example, env));
  await report.check(
    `${name}: the installed @lunora/astro is the packed tarball`,
    () => assertInstalledTarball(example),
  );
  const appDir = join(OUT, name);
  await report.step(`${name}: the app under test`, () => makeAppUnderTest(example, appDir));
  await report.check(
    `${name}: the app and its test entry type-check against the packed .d.ts`,
    () => typeCheckApp(appDir, OVERLAY_SOURCES),
  );
  const logged = await report.step(`${name}: astro build`, () => buildApp(appDir, env));
  await report.check(`${name}: lunora() has no warning for the correctly wired app`, () => {
    if (logged.length > 0) throw new Error(logged.join("\n"));
  });
  return appDir;
}

async function syncShared(): Promise<void> {
  for (const name of SHARED) {
    await Deno.remove(join(CHAT_ASTRO6, name), { recursive: true }).catch(() => {});
    await run(["cp", "-R", join(CHAT, name), join(CHAT_ASTRO6, name)]);
  }
}

async function main(): Promise<void> {
  await lockTree();
  await Deno.remove(OUT, { recursive: true }).catch(() => {});
  Deno.mkdirSync(OUT, { recursive: true });

  const chromium = await report.step("chromium (apt-get when missing)", ensureChromium)
    .then(() => true, () => false);
  const env = await report.step("Node 22 from npm (scripts/ensure_node22.sh)", nodeEnv);
  console.log(await report.step("npm package (deno task build:npm)", buildPackage));

  // Astro 7 + @astrojs/cloudflare 14: the full run.
  const chat = await prepare("chat", CHAT, env);
  const state = join(OUT, "state-chat");
  // The app on one loopback port; its Lunora API also on a second one (a relay to the same
  // server), which /cross-origin/* preloads from and whose socket the island opens.
  const port = freePort();
  const api = new TcpProxy(port);
  relays.add(api);
  const apiOrigin = `http://127.0.0.1:${api.port}`;
  let server = await report.step(
    "chat: D1 migrations + wrangler dev start",
    () =>
      start(chat, env, state, "wrangler-chat-1.log", port, {
        LUNORA_API_URL: apiOrigin,
        LUNORA_ALLOWED_ORIGINS: `http://127.0.0.1:${port}`,
        LUNORA_WS_TOKEN_TTL: String(WS_TOKEN_TTL),
      }),
  );
  const users = await report.step("chat: sign up users (better-auth)", async () => {
    const signedUp = await signUpUsers(server.origin);
    for (const [role, user] of Object.entries(signedUp)) console.log(`  ${role}: ${user.id}`);
    return signedUp;
  });
  const ctx: IdentityContext = {
    report,
    server,
    adminToken,
    channel: "e2e",
    label: "chat",
    users,
    api,
    apiOrigin,
  };
  await checkBuildOutput(ctx, chat);
  await checkNoToolbarInBuild(ctx, chat);
  await checkServerTimingInBuild(ctx);
  await checkSsr(ctx);
  await checkInProcess(ctx);
  await checkIslandProps(ctx);
  await checkServerIsland(ctx);
  await checkPrerendered(ctx, chat);
  await checkPush(ctx);
  await checkFormWrites(ctx);
  await checkSameOriginIdentity(ctx);
  await checkCrossOriginIdentity(ctx);
  await checkEdges(ctx);
  await report.step("chat: load", () => checkLoad(ctx));
  if (chromium) await report.step("chat: browser", () => checkBrowser(ctx, OUT, apiOrigin));
  // Restarts the server on the same port and state (the islands' page reconnects to it).
  const restart = async () => {
    await stop(server);
    server = await start(chat, env, state, "wrangler-chat-2.log", port, {
      LUNORA_API_URL: apiOrigin,
      LUNORA_ALLOWED_ORIGINS: `http://127.0.0.1:${port}`,
      LUNORA_WS_TOKEN_TTL: String(WS_TOKEN_TTL),
    });
    return server;
  };
  if (chromium) {
    await report.step(
      "chat: live islands",
      () => checkIslands({ ...ctx, requestLog: true }, { restart, apiOrigin }),
    );
  } else {
    await report.step("chat: wrangler dev restart", restart);
  }
  await checkPersisted({ ...ctx, server });
  await stop(server);

  // astro dev: the same app, no build, in an app under test that a check may edit.
  const devDir = join(OUT, "dev-app");
  await report.step("chat (astro dev): the app under test", () => makeAppUnderTest(CHAT, devDir));
  await report.step("chat (astro dev): add the toolbar probe page", () => addToolbarProbe(devDir));
  const dev = await report.step("chat (astro dev): D1 migrations + astro dev start", async () => {
    const started = await startDev(devDir, env, {
      port: freePort(),
      adminToken,
      authSecret: `${crypto.randomUUID()}${crypto.randomUUID()}`.replaceAll("-", ""),
      logPath: join(OUT, "astro-dev.log"),
    });
    running.add(started);
    console.log(`astro dev (pid ${started.process.pid}) ready at ${started.origin}`);
    return started;
  });
  console.log(await report.step("chat (astro dev): warm-up", () => warmUp(dev, "/channels/dev")));
  const devCtx: UsersContext = {
    report,
    server: dev,
    adminToken,
    channel: "dev",
    label: "chat (astro dev)",
    users: await report.step(
      "chat (astro dev): sign up users (better-auth, D1 in .wrangler/state)",
      () => signUpUsers(dev.origin),
    ),
  };
  await checkSsr(devCtx);
  await checkInProcess(devCtx, { requestLog: false });
  await checkIslandProps(devCtx);
  await checkPush(devCtx);
  await checkPrerendered(devCtx);
  await checkServerIsland(devCtx);
  await checkServerTimingInDev(devCtx);
  if (chromium) await report.step("chat (astro dev): toolbar", () => checkToolbarApp(devCtx));
  if (chromium) {
    await report.step(
      "chat (astro dev): live islands",
      () => checkIslands({ ...devCtx, requestLog: false }),
    );
  }
  await checkHotReload(devCtx, devDir);
  await report.step("chat (astro dev): stop", () => stop(dev));

  // Astro 6 + @astrojs/cloudflare 13: the same sources, its own lock; a build-and-smoke run.
  await report.step("chat-astro6: copy the shared sources", syncShared);
  const chat6 = await prepare("chat-astro6", CHAT_ASTRO6, env);
  const server6 = await report.step(
    "chat-astro6: wrangler dev start",
    () => start(chat6, env, join(OUT, "state-astro6"), "wrangler-astro6.log"),
  );
  const ctx6: UsersContext = {
    report,
    server: server6,
    adminToken,
    channel: "astro6",
    label: "chat-astro6",
    users: await report.step(
      "chat-astro6: sign up users (better-auth)",
      () => signUpUsers(server6.origin),
    ),
  };
  await checkBuildOutput(ctx6, chat6);
  await checkSsr(ctx6);
  await checkInProcess(ctx6);
  await checkFormWrites(ctx6);
  await checkSameOriginIdentity(ctx6);
  await checkIslandProps(ctx6);
  await checkPrerendered(ctx6, chat6);
  await checkServerIsland(ctx6);
  if (chromium) {
    await report.step(
      "chat-astro6: live islands on one page",
      () => checkIslands({ ...ctx6, requestLog: true }, { scope: "one page" }),
    );
  }
  await stop(server6);
}

await runScript(report, "e2e run", main, stopAll);
