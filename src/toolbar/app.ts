/**
 * The Lunora app for Astro's dev toolbar: an object shaped like what `defineToolbarApp` takes
 * (`init(canvas, app, server)`), written against structural types so the package needs no
 * `astro` import at runtime.
 *
 * @module
 */
import { readLiveClients } from "./live_clients.ts";
import { PLANE_EVENT, type PlaneReport, READY_EVENT } from "./protocol.ts";
import { attentionLevel, renderPanel, type ToolbarState } from "./render.ts";
import { readServerCalls, type ServerTimingEntryLike } from "./server_calls.ts";

/** The app's canvas: the shadow root Astro gives it (the part the app uses). */
export interface ToolbarCanvasLike {
  /** The canvas's markup; the app renders its panel into it. */
  innerHTML: string;
}

/** Astro's `ToolbarAppEventTarget` (the part the app uses). */
export interface ToolbarAppTargetLike {
  /** Shows or clears the notification dot on the app's toolbar icon. */
  toggleNotification(
    options: { state: true; level?: "error" | "warning" | "info" } | {
      state: false;
    },
  ): void;
  /** Runs `callback` when the app is opened or closed. */
  onToggled(callback: (options: { state: boolean }) => void): void;
}

/** Astro's toolbar `server` helpers in the browser (the part the app uses). */
export interface ToolbarServerHelpersLike {
  /** Sends `payload` to the integration's `astro:server:setup` listeners for `event`. */
  send(event: string, payload: unknown): void;
  /** Runs `callback` when the integration sends `event`. */
  on(event: string, callback: (data: unknown) => void): void;
}

/** A dev toolbar app, as Astro's `defineToolbarApp` takes it. */
export interface ToolbarAppLike {
  /** Renders the panel and starts watching the page; called once per page load. */
  init(
    canvas: ToolbarCanvasLike,
    app: ToolbarAppTargetLike,
    server: ToolbarServerHelpersLike,
  ): void;
}

/** Where the app reads the page from; the browser's own by default. */
export interface ToolbarSources {
  /** The page's `Server-Timing` entries (its navigation entry's `serverTiming`). */
  serverTiming(): readonly ServerTimingEntryLike[];
  /** Asks `/_lunora/status`: `[answered 200, what it answered]`. */
  status(): Promise<[boolean, string]>;
  /** One row per live socket, or `undefined` when the page has none. */
  live: typeof readLiveClients;
  /** Runs `refresh` periodically (live sockets are read again each time); every second by default. */
  every(refresh: () => void): void;
}

function navigationServerTiming(): readonly ServerTimingEntryLike[] {
  const perf = globalThis.performance as unknown as
    | { getEntriesByType?: (type: string) => readonly { serverTiming?: unknown }[] }
    | undefined;
  const timing = perf?.getEntriesByType?.("navigation")[0]?.serverTiming;
  return Array.isArray(timing) ? timing as ServerTimingEntryLike[] : [];
}

async function askStatus(): Promise<[boolean, string]> {
  try {
    const response = await fetch("/_lunora/status", { cache: "no-store" });
    return [response.status === 200, `${response.status} ${(await response.text()).trim()}`];
  } catch (error) {
    return [false, `unreachable: ${error instanceof Error ? error.message : String(error)}`];
  }
}

const BROWSER: ToolbarSources = {
  serverTiming: navigationServerTiming,
  status: askStatus,
  live: readLiveClients,
  every: (refresh) => void setInterval(refresh, 1000),
};

function isPlaneReport(value: unknown): value is PlaneReport {
  const report = value as PlaneReport | null;
  return typeof report === "object" && report !== null &&
    typeof report.serverEntry === "string" && Array.isArray(report.warnings);
}

/**
 * Makes the Lunora toolbar app. At `init` it renders the plane (`/_lunora/status`, and the
 * shard binding and wiring warnings the integration sends), this page's server calls (from
 * the detailed `Server-Timing` the worker writes under `astro dev`) and the page's live
 * sockets (read again every second), and keeps the icon's notification in step: `error`
 * when a call failed, a socket is down or the plane does not answer, `warning` when the wiring
 * check warned.
 *
 * @param sources Where the page is read from; the browser's own by default.
 * @returns The app, for the default export of the toolbar entry.
 */
export function createToolbarApp(sources: ToolbarSources = BROWSER): ToolbarAppLike {
  return {
    init(canvas, app, server) {
      let state: ToolbarState = {
        status: undefined,
        statusOk: undefined,
        plane: undefined,
        serverCalls: readServerCalls(sources.serverTiming()),
        live: sources.live(),
      };
      let shown = "";
      let level: string | undefined;
      const update = (change: Partial<ToolbarState>) => {
        state = { ...state, ...change };
        const html = renderPanel(state);
        if (html !== shown) canvas.innerHTML = shown = html;
        const next = attentionLevel(state);
        if (next === level) return;
        level = next;
        app.toggleNotification(
          next === undefined ? { state: false } : { state: true, level: next },
        );
      };
      update({});
      server.on(PLANE_EVENT, (report) => {
        if (isPlaneReport(report)) update({ plane: report });
      });
      server.send(READY_EVENT, {});
      void sources.status().then(([statusOk, status]) => update({ statusOk, status }));
      sources.every(() => update({ live: sources.live() }));
    },
  };
}

/**
 * The Lunora toolbar app reading the browser's own page: the default export of
 * `@lunora/astro/toolbar`, which Astro's dev toolbar loads and calls `init(canvas, app, server)`
 * on.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { lunoraToolbarApp } from "./app.ts";
 *
 * assert.equal(typeof lunoraToolbarApp.init, "function");
 * ```
 */
export const lunoraToolbarApp: ToolbarAppLike = createToolbarApp();
