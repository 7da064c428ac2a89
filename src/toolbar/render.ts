/**
 * The Lunora toolbar app's panel, as HTML for its canvas: the plane, this page's server calls
 * and its live sockets. Every value is escaped.
 *
 * @module
 */
import type { PlaneReport } from "./protocol.ts";
import type { LiveSocketRow } from "./live_clients.ts";
import type { ServerCalls } from "./server_calls.ts";

/** What the panel shows. */
export interface ToolbarState {
  /** `/_lunora/status`'s answer (`"200 {"ok":true}"`), or why it failed; `undefined` while asked. */
  readonly status: string | undefined;
  /** Whether `/_lunora/status` answered 200; `undefined` while asked. */
  readonly statusOk: boolean | undefined;
  /** The integration's report; `undefined` until it arrives. */
  readonly plane: PlaneReport | undefined;
  /** The page's server calls, from its `Server-Timing`. */
  readonly serverCalls: ServerCalls;
  /** One row per live socket, or `undefined` when the page has no live client. */
  readonly live: readonly LiveSocketRow[] | undefined;
}

/**
 * What the toolbar icon should say: `"error"` when a call failed, a socket is down or the
 * plane does not answer; `"warning"` when the wiring check warned; `undefined` otherwise.
 */
export function attentionLevel(state: ToolbarState): "error" | "warning" | undefined {
  if (
    state.statusOk === false || state.serverCalls.calls.some((call) => call.outcome !== "ok") ||
    state.live?.some((socket) => socket.down)
  ) return "error";
  if ((state.plane?.warnings.length ?? 0) > 0) return "warning";
  return undefined;
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** `value` as HTML text (also safe in a quoted attribute). */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function ms(value: number): string {
  return `${Math.round(value * 10) / 10} ms`;
}

function clock(at: number | undefined): string {
  return at === undefined ? "never" : new Date(at).toISOString().slice(11, 19);
}

function shard(key: string | undefined): string {
  return key === undefined ? "<i>default</i>" : `<code>${escapeHtml(key)}</code>`;
}

function row(attribute: string, cells: readonly string[], bad = false): string {
  return `<tr ${attribute}${bad ? ' class="bad"' : ""}>${
    cells.map((cell) => `<td>${cell}</td>`).join("")
  }</tr>`;
}

function table(head: readonly string[], rows: readonly string[]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>${
    rows.join("")
  }</tbody></table>`;
}

function planeSection(state: ToolbarState): string {
  const status = state.status === undefined
    ? "checking…"
    : `<span class="${state.statusOk ? "ok" : "bad"}">${escapeHtml(state.status)}</span>`;
  const plane = state.plane;
  const binding = plane === undefined
    ? "…"
    : plane.shardBinding === null
    ? "not found in the server entry"
    : `<code>env.${escapeHtml(plane.shardBinding)}</code> (in <code>${
      escapeHtml(plane.serverEntry)
    }</code>)`;
  const wiring = plane === undefined
    ? "…"
    : plane.warnings.length === 0
    ? '<span class="ok">wired: no problems found</span>'
    : `<span class="warn">${plane.warnings.length} problem${
      plane.warnings.length === 1 ? "" : "s"
    }</span><ul>${
      plane.warnings.map((w) =>
        `<li data-lunora-warning><details><summary>${escapeHtml(w.split("\n")[0])}</summary><pre>${
          escapeHtml(w)
        }</pre></details></li>`
      ).join("")
    }</ul>`;
  return `<section data-lunora-section="plane"><h2>Plane</h2><dl>` +
    `<dt>/_lunora/status</dt><dd data-lunora-status>${status}</dd>` +
    `<dt>Shard binding</dt><dd data-lunora-binding>${binding}</dd>` +
    `<dt>Wiring</dt><dd data-lunora-wiring>${wiring}</dd></dl></section>`;
}

function callsSection({ serverCalls }: ToolbarState): string {
  const { count, durationMs, calls } = serverCalls;
  let body: string;
  if (count === undefined) {
    body = "<p>No server calls before this page's headers were sent.</p>";
  } else if (calls.length === 0) {
    body = `<p>${count} call${count === 1 ? "" : "s"}, ${
      ms(durationMs)
    }; names are hidden (<code>serverTiming: "summary"</code>).</p>`;
  } else {
    body = `<p>${count} call${count === 1 ? "" : "s"}, ${ms(durationMs)} in total.</p>` +
      table(
        ["Function", "Kind", "Shard", "Duration", "Via", "Outcome"],
        calls.map((call) =>
          row("data-lunora-call", [
            `<code>${escapeHtml(call.functionPath)}</code>`,
            escapeHtml(call.kind),
            shard(call.shardKey),
            ms(call.durationMs),
            escapeHtml(call.via),
            escapeHtml(call.outcome),
          ], call.outcome !== "ok")
        ),
      );
  }
  return `<section data-lunora-section="calls"><h2>Server calls on this page</h2>${body}` +
    `<p class="note">From the page's Server-Timing: calls made while the body streamed are not in it.</p></section>`;
}

function liveSection({ live }: ToolbarState): string {
  let body: string;
  if (live === undefined || live.length === 0) {
    body = "<p>No live stores on this page.</p>";
  } else {
    body = table(
      ["Socket", "State", "Pushes", "Last push", "Queries"],
      live.map((socket) =>
        row("data-lunora-socket", [
          `${shard(socket.shardKey)}<br><small>${escapeHtml(socket.url)}</small>`,
          escapeHtml(socket.state),
          String(socket.pushes),
          clock(socket.lastPushAt),
          socket.subscriptions.length === 0
            ? "none"
            : socket.subscriptions.map((sub) =>
              `<div data-lunora-subscription><code>${escapeHtml(sub.functionPath)}</code> ${
                escapeHtml(sub.state)
              }, ${sub.pushes} pushes, last ${clock(sub.lastPushAt)}${
                sub.error === undefined ? "" : ` <span class="bad">${escapeHtml(sub.error)}</span>`
              }</div>`
            ).join(""),
        ], socket.down)
      ),
    );
  }
  return `<section data-lunora-section="live"><h2>Live stores</h2>${body}</section>`;
}

const STYLE = `<style>
:host astro-dev-toolbar-window { max-height: 70vh; overflow: auto; }
h1 { font-size: 18px; margin: 0 0 8px; } h2 { font-size: 14px; margin: 14px 0 6px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; margin: 0; }
dt { color: #a6a6c0; } dd { margin: 0; } ul { margin: 4px 0 0; padding-left: 18px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #34384c; vertical-align: top; }
pre { white-space: pre-wrap; font-size: 12px; } .note { color: #a6a6c0; font-size: 12px; }
.ok { color: #67d98a; } .warn { color: #f3c35b; } .bad, tr.bad td { color: #ff7b7b; }
</style>`;

/** The panel for `state`. */
export function renderPanel(state: ToolbarState): string {
  return `${STYLE}<astro-dev-toolbar-window data-lunora-toolbar><h1>Lunora</h1>${
    planeSection(state)
  }${callsSection(state)}${liveSection(state)}</astro-dev-toolbar-window>`;
}
