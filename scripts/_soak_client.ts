/**
 * The soak test's clients: a fetch that counts every request it sends and every answer it gets,
 * raw HTTP/1.1 over TCP (for paths `fetch` would normalize, missing headers and streamed
 * bodies), WebSocket subscribers that reconnect and resubscribe, and the memory of the workerd
 * processes behind `wrangler dev`.
 *
 * @module
 */
import { assert, waitFor } from "./_e2e_harness.ts";

/** An answer as the soak test keeps it: status, headers and the whole body as text. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // deno-lint-ignore no-explicit-any
  body: any;
  ms: number;
}

/** The JSON value of `text`, or `undefined` when it is not JSON. */
export function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Counts of one kind of request. */
export interface KindCount {
  sent: number;
  answered: number;
  ms: number[];
  statuses: Map<number, number>;
}

/**
 * Counts requests sent and answers received, per kind and per status, and keeps latencies, so
 * the test can prove no request was lost and no answer was a 5xx it did not expect.
 */
export class Tally {
  sent = 0;
  answered = 0;
  /** Requests that got no HTTP answer at all (connection refused, reset, timeout). */
  readonly lost: string[] = [];
  readonly byStatus = new Map<number, number>();
  readonly byKind = new Map<string, KindCount>();

  #kind(kind: string): KindCount {
    let entry = this.byKind.get(kind);
    if (!entry) {
      this.byKind.set(kind, entry = { sent: 0, answered: 0, ms: [], statuses: new Map() });
    }
    return entry;
  }

  /** Records one request of `kind` while `send` runs; `send` resolves to its status. */
  async count<T extends { status: number }>(kind: string, send: () => Promise<T>): Promise<T> {
    const entry = this.#kind(kind);
    this.sent++;
    entry.sent++;
    const started = performance.now();
    try {
      const answer = await send();
      this.answered++;
      entry.answered++;
      entry.ms.push(performance.now() - started);
      this.byStatus.set(answer.status, (this.byStatus.get(answer.status) ?? 0) + 1);
      entry.statuses.set(answer.status, (entry.statuses.get(answer.status) ?? 0) + 1);
      return answer;
    } catch (error) {
      this.lost.push(`${kind}: ${error instanceof Error ? error.message : error}`);
      throw error;
    }
  }

  /** `fetch` that reads the whole answer and counts it under `kind`. */
  fetch(kind: string, url: string, init: RequestInit = {}): Promise<Answer> {
    return this.count(kind, async () => {
      const started = performance.now();
      const response = await fetch(url, { redirect: "manual", ...init });
      const text = await response.text();
      return {
        status: response.status,
        headers: response.headers,
        text,
        body: parseBody(text),
        ms: performance.now() - started,
      };
    });
  }

  /** Kinds that got at least one answer with a status of 500 or more, with how many. */
  serverErrors(): Map<string, number> {
    const errors = new Map<string, number>();
    for (const [kind, entry] of this.byKind) {
      let count = 0;
      for (const [status, n] of entry.statuses) if (status >= 500) count += n;
      if (count > 0) errors.set(kind, count);
    }
    return errors;
  }

  /** Adds another tally's counts to this one. */
  add(other: Tally): void {
    this.sent += other.sent;
    this.answered += other.answered;
    this.lost.push(...other.lost);
    for (const [status, n] of other.byStatus) {
      this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + n);
    }
  }
}

/** Latency percentiles of a list of milliseconds, as `p50/p95/max`. */
export function percentiles(ms: number[]): string {
  if (ms.length === 0) return "-";
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `${at(0.5).toFixed(0)}/${at(0.95).toFixed(0)}/${sorted.at(-1)!.toFixed(0)} ms`;
}

/** One raw HTTP/1.1 request. */
export interface RawRequest {
  method: string;
  /** Sent exactly as given on the request line. */
  target: string;
  /** Header lines in order; `Host` and `Connection: close` are added unless present. */
  headers?: Array<[string, string]>;
  /** A body sent at once after the head. */
  body?: string | Uint8Array;
  /**
   * A body sent as `Transfer-Encoding: chunked`: `count` chunks of `size` bytes with `pauseMs`
   * between them; sending stops as soon as an answer has arrived.
   */
  chunked?: { size: number; count: number; pauseMs: number; fill?: string };
  timeoutMs?: number;
}

/** The answer to a raw request, plus how many body bytes had been sent when it arrived. */
export interface RawAnswer extends Answer {
  bodyBytesSent: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function indexOf(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const CRLF2 = encoder.encode("\r\n\r\n");

/** Decodes a chunked body, or returns `undefined` while it is incomplete. */
function dechunk(bytes: Uint8Array): Uint8Array | undefined {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = indexOf(bytes, encoder.encode("\r\n"), at);
    if (lineEnd === -1) return undefined;
    const size = parseInt(decoder.decode(bytes.subarray(at, lineEnd)), 16);
    if (Number.isNaN(size)) throw new Error("malformed chunked answer");
    if (size === 0) break;
    const start = lineEnd + 2;
    if (bytes.length < start + size + 2) return undefined;
    parts.push(bytes.subarray(start, start + size));
    at = start + size + 2;
  }
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Splits a complete answer into status, headers and body; `undefined` while incomplete. */
function parseAnswer(
  bytes: Uint8Array,
  ended: boolean,
  headOnly: boolean,
): Omit<Answer, "ms"> | undefined {
  const headEnd = indexOf(bytes, CRLF2);
  if (headEnd === -1) return undefined;
  const lines = decoder.decode(bytes.subarray(0, headEnd)).split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1]);
  assert(Number.isInteger(status), `no HTTP status line in ${JSON.stringify(lines[0])}`);
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const rest = bytes.subarray(headEnd + 4);
  let body: Uint8Array | undefined;
  if (headOnly || status === 101 || status === 204 || status === 304) body = new Uint8Array();
  else if (headers.get("transfer-encoding")?.toLowerCase().includes("chunked")) {
    body = dechunk(rest);
  } else if (headers.has("content-length")) {
    const length = Number(headers.get("content-length"));
    body = rest.length >= length ? rest.subarray(0, length) : undefined;
  } else if (ended) body = rest;
  if (body === undefined) return undefined;
  const text = decoder.decode(body);
  return { status, headers, text, body: parseBody(text) };
}

/**
 * Sends one request over a fresh TCP connection to `127.0.0.1:port` exactly as written (no
 * normalization of the target, no implicit headers but `Host` and `Connection: close`) and
 * reads the answer. Body bytes still unsent when the answer arrives are not sent.
 */
export async function rawHttp(port: number, request: RawRequest): Promise<RawAnswer> {
  const started = performance.now();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const headers = [...(request.headers ?? [])];
  const has = (name: string) => headers.some(([key]) => key.toLowerCase() === name);
  if (!has("host")) headers.unshift(["Host", `127.0.0.1:${port}`]);
  if (!has("connection")) headers.push(["Connection", "close"]);
  if (request.chunked) headers.push(["Transfer-Encoding", "chunked"]);
  const head = [
    `${request.method} ${request.target} HTTP/1.1`,
    ...headers.map(([k, v]) => `${k}: ${v}`),
  ]
    .join("\r\n");

  let received = new Uint8Array();
  let answer: Omit<Answer, "ms"> | undefined;
  let bodyBytesSent = 0;
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }, request.timeoutMs ?? 10_000);
  const reading = (async () => {
    const buffer = new Uint8Array(65_536);
    for (;;) {
      let read: number | null;
      try {
        read = await conn.read(buffer);
      } catch {
        read = null;
      }
      if (read !== null) {
        const next = new Uint8Array(received.length + read);
        next.set(received);
        next.set(buffer.subarray(0, read), received.length);
        received = next;
      }
      answer = parseAnswer(received, read === null, request.method === "HEAD");
      if (answer || read === null) return;
    }
  })();
  try {
    await conn.write(encoder.encode(`${head}\r\n\r\n`));
    if (request.body !== undefined) {
      const bytes = typeof request.body === "string" ? encoder.encode(request.body) : request.body;
      await writeAll(conn, bytes);
      bodyBytesSent = bytes.length;
    }
    const chunked = request.chunked;
    if (chunked) {
      const data = encoder.encode(
        (chunked.fill ?? " ").repeat(chunked.size).slice(0, chunked.size),
      );
      const frame = new Uint8Array([
        ...encoder.encode(`${chunked.size.toString(16)}\r\n`),
        ...data,
        ...encoder.encode("\r\n"),
      ]);
      for (let i = 0; i < chunked.count && answer === undefined; i++) {
        await writeAll(conn, frame);
        bodyBytesSent += chunked.size;
        if (chunked.pauseMs > 0) {
          await new Promise((resolve) => setTimeout(resolve, chunked.pauseMs));
        }
      }
      if (answer === undefined) await writeAll(conn, encoder.encode("0\r\n\r\n"));
    }
  } catch {
    // The server may answer and close while the body is still being sent.
  }
  await reading;
  clearTimeout(timer);
  try {
    conn.close();
  } catch {
    // Closed by the timer or the server.
  }
  if (!answer) {
    throw new Error(
      `no complete HTTP answer to ${request.method} ${request.target} (${received.length} bytes)`,
    );
  }
  return { ...answer, ms: performance.now() - started, bodyBytesSent };
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

/** A subscription a {@linkcode LiveSubscriber} keeps across reconnects. */
interface Subscription {
  functionPath: string;
  args: Record<string, unknown>;
}

/**
 * A WebSocket subscriber like the example's island: it keeps its subscriptions, and when the
 * connection drops it reconnects with backoff and subscribes again. It keeps the newest data
 * per subscription id, and the first data after each reconnect.
 */
export class LiveSubscriber {
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #subs = new Map<string, Subscription>();
  #socket: WebSocket | undefined;
  #closing = false;
  #reconnecting: Promise<void> | undefined;
  /** Newest `data` per subscription id. */
  readonly latest = new Map<string, unknown>();
  /** The first `data` per subscription id after the latest reconnect. */
  readonly resumed = new Map<string, unknown>();
  /** Every `error` frame received. */
  readonly errors: unknown[] = [];
  /** Frames received, all connections together. */
  frames = 0;
  /** Successful connections after the first. */
  reconnects = 0;
  /** Failed connection attempts while reconnecting. */
  failedAttempts = 0;

  constructor(url: string, headers: Record<string, string>) {
    this.#url = url;
    this.#headers = headers;
  }

  /** Whether the socket is open now. */
  get open(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  /** Opens the first connection. */
  async connect(): Promise<void> {
    this.#socket = await this.#open();
  }

  #open(): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      // Deno's WebSocket takes request headers (browsers send Origin and cookies themselves).
      const socket = new WebSocket(this.#url, { headers: this.#headers } as unknown as string[]);
      let opened = false;
      socket.onopen = () => {
        opened = true;
        for (const [id, sub] of this.#subs) this.#send(socket, id, sub);
        resolve(socket);
      };
      socket.onerror = () => {
        if (!opened) reject(new Error(`WebSocket to ${this.#url} failed`));
      };
      socket.onclose = () => {
        if (opened && !this.#closing && socket === this.#socket) {
          this.#reconnecting = this.#reconnect();
        }
      };
      socket.onmessage = (event) => this.#receive(String(event.data));
    });
  }

  async #reconnect(): Promise<void> {
    let delay = 100;
    while (!this.#closing) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.#closing) return;
      try {
        this.resumed.clear();
        this.#socket = await this.#open();
        this.reconnects++;
        return;
      } catch {
        this.failedAttempts++;
        delay = Math.min(delay * 2, 1000);
      }
    }
  }

  #receive(text: string): void {
    this.frames++;
    let frame: { type?: string; id?: string; data?: unknown };
    try {
      frame = JSON.parse(text);
    } catch {
      return; // lunora-pong
    }
    if (frame.type === "data" && typeof frame.id === "string") {
      this.latest.set(frame.id, frame.data);
      if (!this.resumed.has(frame.id)) this.resumed.set(frame.id, frame.data);
    } else if (frame.type === "error") {
      this.errors.push(frame);
    }
  }

  #send(socket: WebSocket, id: string, sub: Subscription): void {
    socket.send(JSON.stringify({ type: "subscribe", id, query: sub }));
  }

  /** Subscribes `id` to `functionPath(args)`, now and after every reconnect. */
  subscribe(id: string, functionPath: string, args: Record<string, unknown>): void {
    const sub = { functionPath, args };
    this.#subs.set(id, sub);
    if (this.#socket && this.open) this.#send(this.#socket, id, sub);
  }

  /** Waits until `predicate` holds. */
  async until(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
    await waitFor(what, () => predicate() || undefined, timeoutMs, 25);
  }

  /** Closes for good (no reconnect) and waits until the socket is closed. */
  async close(): Promise<void> {
    this.#closing = true;
    await this.#reconnecting;
    const socket = this.#socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((resolve) => socket.addEventListener("close", resolve));
    socket.close();
    await closed;
  }
}

/** Resident memory of one workerd process. */
export interface WorkerdMemory {
  pid: number;
  /** `"proxy"`: wrangler's entry proxy on the public port; `"runtime"`: the app itself. */
  role: "proxy" | "runtime";
  rssMiB: number;
  peakMiB: number;
}

function kib(status: string, field: string): number {
  const value = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1];
  return value === undefined ? NaN : Number(value) / 1024;
}

/**
 * The workerd processes in process group `pgid` (the group `wrangler dev` was started in), with
 * `VmRSS` and `VmHWM` from `/proc/<pid>/status`.
 */
export function workerdMemory(pgid: number, publicPort: number): WorkerdMemory[] {
  const found: WorkerdMemory[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      // pid (comm) state ppid pgrp ...: comm may hold spaces, so split after the last ")".
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (comm !== "workerd" || Number(fields[2]) !== pgid) continue;
      const status = Deno.readTextFileSync(`/proc/${entry.name}/status`);
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
      found.push({
        pid: Number(entry.name),
        role: cmdline.includes(`entry=127.0.0.1:${publicPort}`) ? "proxy" : "runtime",
        rssMiB: kib(status, "VmRSS"),
        peakMiB: kib(status, "VmHWM"),
      });
    } catch {
      // The process ended while it was read.
    }
  }
  return found.sort((a, b) => a.role.localeCompare(b.role));
}

/** One line per workerd process: `runtime pid 123: RSS 150.2 MiB (peak 160.0 MiB)`. */
export function describeMemory(memory: WorkerdMemory[]): string {
  return memory.map((m) =>
    `${m.role} pid ${m.pid}: RSS ${m.rssMiB.toFixed(1)} MiB (peak ${m.peakMiB.toFixed(1)} MiB)`
  ).join("; ");
}
