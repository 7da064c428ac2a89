/**
 * Raw HTTP/1.1 over TCP, for what `fetch` would not send: paths it would normalize, missing
 * headers and slowly streamed bodies.
 *
 * @module
 */
import { assert } from "../report.ts";
import { type Answer, parseBody } from "./tally.ts";
import { EVENTUALLY_MS } from "../waits.ts";

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
   * between them; sending stops as soon as an answer has arrived. With `unterminated`, the last
   * chunk is never sent: the body stays open until the server answers (or the time runs out).
   */
  chunked?: { size: number; count: number; pauseMs: number; fill?: string; unterminated?: boolean };
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
  }, request.timeoutMs ?? EVENTUALLY_MS);
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
      if (answer === undefined && !chunked.unterminated) {
        await writeAll(conn, encoder.encode("0\r\n\r\n"));
      }
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
