/**
 * Talking to the running example like a browser or an attacker would: RPC, pages, the
 * preloaded token in the HTML, WebSocket subscriptions, and raw upgrade requests.
 *
 * @module
 */
import { decodeWire } from "../../src/wire/codec.ts";
import { assert } from "./report.ts";
import { waitFor } from "./process.ts";
import { EVENTUALLY_MS } from "./waits.ts";

/** A JSON answer from the worker. */
export interface JsonAnswer {
  status: number;
  // deno-lint-ignore no-explicit-any
  body: any;
  headers: Headers;
}

/** Headers of a same-origin browser request carrying `cookie` (when given). */
export function browserHeaders(origin: string, cookie?: string): Record<string, string> {
  return { origin, ...(cookie ? { cookie } : {}) };
}

/** `POST /_lunora/rpc` (or another `path`) with a JSON body. */
export async function rpc(
  origin: string,
  envelope: Record<string, unknown>,
  headers: Record<string, string> = {},
  path = "/_lunora/rpc",
): Promise<JsonAnswer> {
  const response = await fetch(`${origin}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(envelope),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text for the failure message.
  }
  return { status: response.status, body, headers: response.headers };
}

/** `messages:send` on `channel` as a same-origin browser with `cookie`; returns the new id. */
export async function send(
  origin: string,
  channel: string,
  text: string,
  cookie?: string,
): Promise<number> {
  const answer = await rpc(origin, {
    functionPath: "messages:send",
    args: { channel, body: text },
    shardKey: channel,
  }, browserHeaders(origin, cookie));
  assert(
    answer.status === 200 && typeof answer.body?.result?.id === "number",
    `messages:send answered ${answer.status} ${JSON.stringify(answer.body)}`,
  );
  return answer.body.result.id;
}

/** GET a page; returns status and text. */
export async function page(
  origin: string,
  path: string,
  cookie?: string,
): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(`${origin}${path}`, { headers: cookie ? { cookie } : {} });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

/** The preloaded `messages:list` token a channel page carries, its values decoded. */
export interface Token {
  __lunoraPreloaded: true;
  functionPath: string;
  args: Record<string, unknown>;
  shardKey?: string;
  value: {
    viewer: { userId: string; [claim: string]: unknown } | null;
    messages: { id: number; author: string; body: string; createdAt: Date }[];
    total: bigint;
  };
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Decodes the HTML character references Astro writes into attribute values. */
export function unescapeHtml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === "#") {
      const code = name[1] === "x" || name[1] === "X"
        ? parseInt(name.slice(2), 16)
        : parseInt(name.slice(1), 10);
      return String.fromCodePoint(code);
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/**
 * Revives one value of Astro's island-prop encoding (astro/dist/runtime/server/serialize.js):
 * every value is a `[type, payload]` pair, 0 a plain value or object, 1 an array, 2 a RegExp,
 * 3 a Date, 4 a Map, 5 a Set, 6 a BigInt, 7 a URL, 8-10 typed arrays, 11 ±Infinity.
 */
export function reviveAstroProp(pair: unknown): unknown {
  assert(
    Array.isArray(pair),
    `an island prop is not a [type, value] pair: ${JSON.stringify(pair)}`,
  );
  const [type, value] = pair as [number, unknown];
  const list = () => (value as unknown[]).map(reviveAstroProp);
  switch (type) {
    case 0:
      if (typeof value !== "object" || value === null) return value;
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, reviveAstroProp(item)]),
      );
    case 1:
      return list();
    case 2:
      return new RegExp(value as string);
    case 3:
      return new Date(value as string);
    case 4:
      return new Map(list() as [unknown, unknown][]);
    case 5:
      return new Set(list());
    case 6:
      return BigInt(value as string);
    case 7:
      return new URL(value as string);
    case 8:
      return new Uint8Array(value as number[]);
    case 9:
      return new Uint16Array(value as number[]);
    case 10:
      return new Uint32Array(value as number[]);
    case 11:
      return Infinity * (value as number);
    default:
      throw new Error(`unknown Astro prop type ${type}`);
  }
}

/** One `<astro-island>` of a page: its attributes and the HTML it was server-rendered with. */
export interface Island {
  componentUrl: string;
  props: Record<string, unknown>;
  /** The island's server-rendered inner HTML (up to its closing tag). */
  html: string;
}

/** The page's `<astro-island>` whose `component-url` contains `component`, props revived. */
export function readIsland(html: string, component: string): Island {
  for (const match of html.matchAll(/<astro-island\b([^>]*)>/g)) {
    const attributes = match[1]!;
    const componentUrl = unescapeHtml(/\bcomponent-url="([^"]*)"/.exec(attributes)?.[1] ?? "");
    if (!componentUrl.includes(component)) continue;
    const props = JSON.parse(unescapeHtml(/\bprops="([^"]*)"/.exec(attributes)?.[1] ?? "{}"));
    const start = match.index! + match[0].length;
    const end = html.indexOf("</astro-island>", start);
    assert(end > start, `the ${component} island is not closed`);
    return {
      componentUrl,
      props: reviveAstroProp([0, props]) as Record<string, unknown>,
      html: html.slice(start, end),
    };
  }
  throw new Error(`the page has no <astro-island> for ${component}`);
}

/**
 * The page's preloaded token, decoded: the `preloaded` prop of the channel page's React island
 * (`ChannelView`), or the `<script type="application/json" id="lunora-preloaded">` that
 * `/cross-origin/*` embeds with `serializePreloaded`.
 */
export function readToken(html: string): Token {
  const script = /<script type="application\/json" id="lunora-preloaded">([^<]*)<\/script>/.exec(
    html,
  );
  if (script) return decodeWire(JSON.parse(script[1]!)) as Token;
  const token = readIsland(html, "ChannelView").props.preloaded as Token | undefined;
  assert(token, "the ChannelView island has no preloaded prop");
  return token;
}

/** A WebSocket subscriber that records every frame. */
export class Subscriber {
  readonly frames: unknown[] = [];
  readonly texts: string[] = [];
  readonly socket: WebSocket;
  readonly opened: Promise<void>;

  constructor(url: string, headers: Record<string, string>) {
    // Deno's WebSocket takes request headers (browsers send Origin and cookies themselves).
    const init = { headers } as unknown as string[];
    this.socket = new WebSocket(url, init);
    this.opened = new Promise((resolve, reject) => {
      this.socket.onopen = () => resolve();
      this.socket.onerror = (event) =>
        reject(new Error(`WebSocket error: ${(event as ErrorEvent).message ?? "failed"}`));
    });
    this.socket.onmessage = (event) => {
      const text = String(event.data);
      this.texts.push(text);
      try {
        this.frames.push(JSON.parse(text));
      } catch {
        this.frames.push(text);
      }
    };
  }

  /** Sends a subscribe frame for `functionPath(args)` under `id`. */
  subscribe(id: string, functionPath: string, args: Record<string, unknown>): void {
    this.socket.send(JSON.stringify({ type: "subscribe", id, query: { functionPath, args } }));
  }

  /** Waits for the first frame (from index `from`) that `match` accepts. */
  // deno-lint-ignore no-explicit-any
  next(match: (frame: any) => boolean, timeoutMs = EVENTUALLY_MS, from = 0): Promise<any> {
    return waitFor(
      "a matching WebSocket frame",
      () => {
        const found = this.frames.slice(from).find(match);
        return found === undefined ? undefined : found;
      },
      timeoutMs,
      20,
    );
  }

  /** Closes the socket and waits until it is closed. */
  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((resolve) => this.socket.addEventListener("close", resolve));
    this.socket.close();
    await closed;
  }
}

/** The WebSocket URL of a channel. */
export function wsUrl(origin: string, channel: string): string {
  return `${origin.replace(/^http/, "ws")}/_lunora/ws?shard=${encodeURIComponent(channel)}`;
}

/**
 * Sends a WebSocket upgrade request over a raw TCP connection and returns the status code the
 * server answers, so a refused upgrade's status (which `WebSocket` hides) can be seen.
 */
export async function rawUpgradeStatus(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const lines = [
      `GET ${path} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      "Sec-WebSocket-Version: 13",
      `Sec-WebSocket-Key: ${
        btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))))
      }`,
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    ];
    await conn.write(new TextEncoder().encode(`${lines.join("\r\n")}\r\n\r\n`));
    const buffer = new Uint8Array(4096);
    const read = await conn.read(buffer);
    const head = new TextDecoder().decode(buffer.subarray(0, read ?? 0));
    const status = /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1];
    assert(status, `no HTTP status line in ${JSON.stringify(head.slice(0, 80))}`);
    return Number(status);
  } finally {
    conn.close();
  }
}

/** A user signed up through better-auth at `/api/auth/sign-up/email`. */
export interface User {
  /** better-auth's user id: what the shard sees as `x-lunora-userid`. */
  id: string;
  name: string;
  email: string;
  /** `better-auth.session_token=<signed token>`, as the browser would send it. */
  cookie: string;
  /** The raw session token (`session.token`), for `Authorization: Bearer`. */
  token: string;
  password: string;
}

/** The `name=value` of the session cookie among a response's `Set-Cookie` headers. */
export function sessionCookie(headers: Headers): string {
  const cookie = headers.getSetCookie()
    .map((line) => line.split(";")[0]!.trim())
    .find((pair) => /^(?:__Secure-)?better-auth\.session_token=./.test(pair));
  assert(cookie, `no session cookie in ${JSON.stringify(headers.getSetCookie())}`);
  return cookie;
}

/** POSTs JSON to better-auth on `origin` as a same-origin browser would. */
export function authPost(
  origin: string,
  path: string,
  body: Record<string, unknown>,
  cookie?: string,
): Promise<JsonAnswer> {
  return rpc(origin, body, browserHeaders(origin, cookie), `/api/auth${path}`);
}

/** Signs a new user up (email + password) and returns their id, cookie and session token. */
export async function signUp(origin: string, name: string): Promise<User> {
  const email = `${name}-${crypto.randomUUID().slice(0, 8)}@e2e.test`;
  const password = `pw-${crypto.randomUUID()}`;
  const answer = await authPost(origin, "/sign-up/email", { name, email, password });
  assert(
    answer.status === 200 && typeof answer.body?.user?.id === "string" &&
      typeof answer.body?.token === "string",
    `sign-up answered ${answer.status} ${JSON.stringify(answer.body)}`,
  );
  return {
    id: answer.body.user.id,
    name,
    email,
    cookie: sessionCookie(answer.headers),
    token: answer.body.token,
    password,
  };
}
