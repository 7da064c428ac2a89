/**
 * The Lunora dev toolbar app (`@lunora/astro/toolbar`): what it reads from the page, what its
 * panel shows and when the toolbar icon gets a notification. The browser's sources are
 * replaced by fakes; the panel is read back from the canvas's markup.
 */
import assert from "node:assert/strict";
import {
  createToolbarApp,
  type ToolbarAppTargetLike,
  type ToolbarSources,
} from "../src/toolbar/app.ts";
import { DEVTOOLS_KEY, readLiveClients } from "../src/toolbar/live_clients.ts";
import { PLANE_EVENT, type PlaneReport, READY_EVENT } from "../src/toolbar/protocol.ts";
import { escapeHtml } from "../src/toolbar/render.ts";
import { readServerCalls, type ServerTimingEntryLike } from "../src/toolbar/server_calls.ts";
import { serverTimingValue } from "../src/worker/server_timing.ts";

type Notification = Parameters<ToolbarAppTargetLike["toggleNotification"]>[0];

/**
 * The entries a browser makes of a `Server-Timing` value (`name;dur=<n>;desc="<text>"`, comma
 * separated; the worker never puts a comma or quote inside a desc).
 */
function browserEntries(header: string): ServerTimingEntryLike[] {
  return header.split(", ").map((metric) => {
    const [name, ...params] = metric.split(";");
    const dur = params.find((p) => p.startsWith("dur="));
    const desc = params.find((p) => p.startsWith("desc="));
    return {
      name: name!,
      duration: dur === undefined ? 0 : Number(dur.slice(4)),
      description: desc === undefined ? "" : desc.slice(6, -1),
    };
  });
}

const DETAILED = serverTimingValue([
  {
    functionPath: "messages:list",
    kind: "query",
    shardKey: "room 1",
    durationMs: 4,
    via: "in-process",
    outcome: "ok",
  },
  {
    functionPath: "mail:notify",
    kind: "action",
    shardKey: undefined,
    durationMs: 2.5,
    via: "http",
    outcome: "NOT_FOUND",
  },
], true);

interface Mounted {
  canvas: { innerHTML: string };
  notifications: Notification[];
  sent: [string, unknown][];
  deliver(event: string, data: unknown): void;
  tick(): void;
}

/** Runs the app's `init` against fakes; `live` is read again on every `tick()`. */
function mount(sources: Partial<ToolbarSources> = {}): Promise<Mounted> {
  const listeners = new Map<string, (data: unknown) => void>();
  const notifications: Notification[] = [];
  const sent: [string, unknown][] = [];
  const canvas = { innerHTML: "" };
  let refresh: (() => void) | undefined;
  let statusAnswered!: () => void;
  const answered = new Promise<void>((resolve) => (statusAnswered = resolve));
  createToolbarApp({
    serverTiming: () => [],
    status: () => Promise.resolve([true, '200 {"ok":true}']),
    live: () => undefined,
    every: (fn) => void (refresh = fn),
    ...sources,
  }).init(
    canvas,
    {
      toggleNotification: (options) => void notifications.push(options),
      onToggled() {},
    },
    {
      send: (event, payload) => void sent.push([event, payload]),
      on: (event, callback) => void listeners.set(event, callback),
    },
  );
  queueMicrotask(() => queueMicrotask(statusAnswered));
  return answered.then(() => ({
    canvas,
    notifications,
    sent,
    deliver: (event, data) => listeners.get(event)?.(data),
    tick: () => refresh?.(),
  }));
}

const WIRED: PlaneReport = { serverEntry: "src/worker.ts", shardBinding: "SHARD", warnings: [] };

Deno.test("readServerCalls() reads back every call the worker's detailed header names", () => {
  const { count, calls } = readServerCalls(browserEntries(DETAILED));
  assert.equal(count, 2);
  assert.deepEqual(calls, [
    {
      kind: "query",
      functionPath: "messages:list",
      shardKey: "room 1",
      durationMs: 4,
      via: "in-process",
      outcome: "ok",
    },
    {
      kind: "action",
      functionPath: "mail:notify",
      shardKey: undefined,
      durationMs: 2.5,
      via: "http",
      outcome: "NOT_FOUND",
    },
  ]);
});

Deno.test("readServerCalls() leaves other Server-Timing entries alone", () => {
  const read = readServerCalls(browserEntries('db;dur=3;desc="users", cache;desc="hit"'));
  assert.deepEqual(read, { count: undefined, durationMs: 0, calls: [] });
});

Deno.test("the panel lists each server call with function, kind, shard, duration, via and outcome", async () => {
  const { canvas } = await mount({ serverTiming: () => browserEntries(DETAILED) });
  const rows = canvas.innerHTML.match(/<tr data-lunora-call[^>]*>.*?<\/tr>/g) ?? [];
  assert.equal(rows.length, 2);
  const cells = (row: string) =>
    [...row.matchAll(/<td>(.*?)<\/td>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, ""));
  assert.deepEqual(cells(rows[0]!), [
    "messages:list",
    "query",
    "room 1",
    "4 ms",
    "in-process",
    "ok",
  ]);
  assert.deepEqual(cells(rows[1]!), [
    "mail:notify",
    "action",
    "default",
    "2.5 ms",
    "http",
    "NOT_FOUND",
  ]);
});

Deno.test("a failed server call raises an error notification on the toolbar icon", async () => {
  const { notifications } = await mount({ serverTiming: () => browserEntries(DETAILED) });
  assert.deepEqual(notifications.at(-1), { state: true, level: "error" });
});

Deno.test("a page whose calls all succeeded raises no notification", async () => {
  const ok = serverTimingValue([{
    functionPath: "messages:list",
    kind: "query",
    shardKey: undefined,
    durationMs: 1,
    via: "in-process",
    outcome: "ok",
  }], true);
  const { notifications, deliver } = await mount({ serverTiming: () => browserEntries(ok) });
  deliver(PLANE_EVENT, WIRED);
  assert.deepEqual(notifications, []);
});

Deno.test("a page without Lunora calls says so", async () => {
  const { canvas } = await mount();
  assert.match(canvas.innerHTML, /No server calls before this page's headers were sent/);
});

Deno.test("the app asks the integration about the plane and shows its binding and warnings", async () => {
  const { canvas, sent, deliver, notifications } = await mount();
  assert.deepEqual(sent, [[READY_EVENT, {}]]);
  deliver(PLANE_EVENT, {
    serverEntry: "src/worker.ts",
    shardBinding: "SHARD",
    warnings: ['wrangler.jsonc "main" is "dist/_worker.js", not "src/worker.ts".\n\nfix <here>'],
  });
  assert.match(canvas.innerHTML, /<code>env\.SHARD<\/code> \(in <code>src\/worker\.ts<\/code>\)/);
  assert.match(canvas.innerHTML, /1 problem</);
  assert.match(canvas.innerHTML, /fix &lt;here&gt;/);
  assert.deepEqual(notifications.at(-1), { state: true, level: "warning" });
});

Deno.test("the panel shows /_lunora/status's answer, and an error when it does not answer", async () => {
  const up = await mount();
  assert.match(
    up.canvas.innerHTML,
    /<dd data-lunora-status><span class="ok">200 \{&quot;ok&quot;:true\}/,
  );
  const down = await mount({ status: () => Promise.resolve([false, "unreachable: refused"]) });
  assert.match(down.canvas.innerHTML, /<span class="bad">unreachable: refused/);
  assert.deepEqual(down.notifications.at(-1), { state: true, level: "error" });
});

Deno.test("without @lunora/astro/client on the page the panel says there are no live stores", async () => {
  const { canvas } = await mount();
  assert.match(canvas.innerHTML, /No live stores on this page/);
});

/** A fake `@lunora/astro/client` client whose snapshot a test changes. */
function fakeClient(snapshot: Record<string, unknown>) {
  return { snapshot: () => snapshot };
}

Deno.test("readLiveClients() gives one row per socket with the subscriptions on its shard", () => {
  const global = {
    [Symbol.for(DEVTOOLS_KEY)]: new Set([
      fakeClient({
        url: "https://app.test",
        sockets: [
          { shardKey: "general", state: "live", pushes: 3, lastPushAt: 0 },
          { shardKey: undefined, state: "connecting", pushes: 0 },
        ],
        subscriptions: [
          {
            functionPath: "messages:list",
            args: {},
            shardKey: "general",
            state: "live",
            pushes: 3,
          },
          { functionPath: "channels:list", args: {}, state: "connecting", pushes: 0 },
        ],
      }),
      {
        snapshot: () => {
          throw new Error("closed");
        },
      },
    ]),
  };
  const rows = readLiveClients(global)!;
  assert.equal(rows.length, 2);
  assert.deepEqual(rows.map((r) => [r.shardKey, r.state, r.down]), [
    ["general", "live", false],
    [undefined, "connecting", false],
  ]);
  assert.deepEqual(rows[0]!.subscriptions.map((s) => s.functionPath), ["messages:list"]);
  assert.deepEqual(rows[1]!.subscriptions.map((s) => s.functionPath), ["channels:list"]);
  assert.equal(readLiveClients({}), undefined);
});

Deno.test("a socket that goes down raises an error notification, cleared when it is back", async () => {
  const snapshot = {
    url: "https://app.test",
    sockets: [{ shardKey: "general", state: "live", pushes: 1, lastPushAt: 0 }],
    subscriptions: [
      { functionPath: "messages:list", args: {}, shardKey: "general", state: "live", pushes: 1 },
    ],
  };
  const global = { [Symbol.for(DEVTOOLS_KEY)]: new Set([fakeClient(snapshot)]) };
  const { canvas, notifications, tick, deliver } = await mount({
    live: () => readLiveClients(global),
  });
  deliver(PLANE_EVENT, WIRED);
  assert.match(canvas.innerHTML, /<tr data-lunora-socket>.*general.*live.*messages:list/);
  assert.deepEqual(notifications, []);
  snapshot.sockets[0]!.state = "reconnecting";
  tick();
  assert.match(canvas.innerHTML, /<tr data-lunora-socket class="bad">/);
  assert.deepEqual(notifications.at(-1), { state: true, level: "error" });
  snapshot.sockets[0]!.state = "live";
  tick();
  assert.deepEqual(notifications.at(-1), { state: false });
});

Deno.test("every value the panel shows is escaped", () => {
  assert.equal(
    escapeHtml(`<img src=x onerror="a('b')">&`),
    "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;",
  );
});

Deno.test("the toolbar.ts graph holds only the toolbar's own browser modules", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "toolbar.ts"],
    cwd: new URL("../", import.meta.url),
    stdout: "piped",
  }).output();
  const { modules } = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    modules: { specifier: string }[];
  };
  const root = new URL("../", import.meta.url).href;
  const files = modules.map((m) => m.specifier.replace(root, ""));
  assert.ok(files.length > 1);
  for (const file of files) assert.match(file, /^(?:toolbar\.ts|src\/toolbar\/)/, file);
});
