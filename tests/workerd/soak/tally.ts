/**
 * The soak test's request accounting: a fetch that counts every request it sends and every
 * answer it gets, per kind and status, with latencies.
 *
 * @module
 */

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
