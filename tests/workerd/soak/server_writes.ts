/**
 * Server writes in the soak (threat-matrix rows 54-57 and 61): the channel page's send form
 * posted to the example's `messages.send` Astro Action, whose mutation the worker runs in
 * process with the form's hidden key as its idempotency key. Under load, a share of the forms
 * is posted twice at once with the same key, and a share carries a key that makes the shard fail
 * the first attempt `retryable` (before the write, or after the commit with the answer lost), so
 * the worker retries it with the same mutation id. Outside the load: one precise run of each
 * fault, an action that fails `retryable` (one shard call, `UNAVAILABLE`), and the ids a page
 * request's server client sends when the browser sent its own.
 *
 * @module
 */
import type { User } from "../client.ts";
import { assert, check } from "../report.ts";
import type { Answer } from "./tally.ts";
import { result, type SoakContext, storedRows, user } from "./context.ts";

/** How one form is posted. */
export type FormPlan = "once" | "double" | "before-write" | "after-commit";

/** The key prefix that makes the test shard fail a mutation's first attempt (its faults.ts). */
const FAULT_PREFIX: Record<FormPlan, string> = {
  once: "",
  double: "",
  "before-write": "fault-retry-before-write-",
  "after-commit": "fault-retry-after-commit-",
};

/** One acknowledged form: its key, the row its answers named, and how it was posted. */
export interface AckedForm {
  channel: string;
  writer: User;
  body: string;
  key: string;
  id: number;
  plan: FormPlan;
  posts: number;
}

/** The forms a run posted, for the closing checks. */
export class FormLedger {
  readonly forms: AckedForm[] = [];
  /** Forms planned so far (acknowledged or not), for {@linkcode planFor}. */
  planned = 0;

  /** How many forms went each way, and how many posts that took. */
  describe(): string {
    const by = new Map<FormPlan, number>();
    for (const form of this.forms) by.set(form.plan, (by.get(form.plan) ?? 0) + 1);
    const posts = this.forms.reduce((sum, form) => sum + form.posts, 0);
    return `${posts} Action posts for ${this.forms.length} keys (${by.get("once") ?? 0} once, ${
      by.get("double") ?? 0
    } double-submitted at once, ${
      by.get("before-write") ?? 0
    } retried after a retryable fault before the write, ${
      by.get("after-commit") ?? 0
    } after the commit)`;
  }
}

/** The plan of a writer's `i`-th form: a fixed share of each kind. */
export function planFor(i: number): FormPlan {
  const plans: FormPlan[] = ["once", "double", "once", "before-write", "once", "after-commit"];
  return plans[i % plans.length]!;
}

/** Posts the send form once as `writer`, counted under `form`; the 303 is not followed. */
function postForm(
  ctx: SoakContext,
  channel: string,
  body: string,
  key: string,
  writer: User,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const origin = ctx.server.origin;
  return ctx.tally.fetch("form", `${origin}/channels/${channel}?_action=messages.send`, {
    method: "POST",
    headers: { origin, cookie: writer.cookie, ...headers },
    body: new URLSearchParams({ channel, body, key }),
  });
}

/** The message id a successful post's `Location` names; throws for any other answer. */
function redirectedId(answer: Answer, channel: string): number {
  const location = answer.headers.get("location") ?? "";
  const match = new RegExp(`^/channels/${channel}#message-(\\d+)$`).exec(location);
  assert(
    answer.status === 303 && match,
    `the form post answered ${answer.status} ${location || answer.text.slice(0, 200)}`,
  );
  return Number(match[1]);
}

/**
 * Posts one form by `plan` and returns what was acknowledged: a double submit's two answers
 * must name the same message.
 */
export async function postPlanned(
  ctx: SoakContext,
  channel: string,
  body: string,
  writer: User,
  plan: FormPlan,
): Promise<AckedForm> {
  const key = `${FAULT_PREFIX[plan]}${crypto.randomUUID()}`;
  const posts = plan === "double" ? 2 : 1;
  const answers = await Promise.all(
    Array.from({ length: posts }, () => postForm(ctx, channel, body, key, writer)),
  );
  const ids = answers.map((answer) => redirectedId(answer, channel));
  assert(new Set(ids).size === 1, `the same form's posts named messages ${ids.join(", ")}`);
  return { channel, writer, body, key, id: ids[0]!, plan, posts };
}

interface MutationRecord {
  attempts: number;
  records: { caller: string; replays: number }[];
}

function mutationRecord(ctx: SoakContext, channel: string, key: string): Promise<MutationRecord> {
  return result<MutationRecord>(ctx, "probes:mutation", { channel, mutationId: key }, channel);
}

/**
 * What the shard recorded for an acknowledged form must match its plan: one dedup record under
 * the writer; a fault key tried twice (the retry with the same id), an after-commit fault's
 * retry and a double submit's second post answered from the record.
 */
async function checkRecord(ctx: SoakContext, form: AckedForm): Promise<void> {
  const { attempts, records } = await mutationRecord(ctx, form.channel, form.key);
  const faulted = form.plan === "before-write" || form.plan === "after-commit";
  assert(
    attempts === (faulted ? 2 : 0),
    `${form.plan} key ${form.key}: ${attempts} attempts reached the fault hook`,
  );
  const replays = (form.plan === "after-commit" ? 1 : 0) + form.posts - 1;
  assert(
    records.length === 1 && records[0]!.caller === `user:${form.writer.id}` &&
      records[0]!.replays === replays,
    `${form.plan} key ${form.key}: records ${JSON.stringify(records)}, expected ${replays} replays`,
  );
}

/** Checks every acknowledged form's dedup record after the load. */
export async function checkLedger(ctx: SoakContext, ledger: FormLedger): Promise<string> {
  const { forms } = ledger;
  const keys = new Set(forms.map((form) => form.key));
  assert(keys.size === forms.length, "a key was acknowledged twice");
  // Each acknowledged form's body is stored exactly once, as the row its answers named.
  const rowsByBody = new Map<string, number[]>();
  for (const channel of new Set(forms.map((form) => form.channel))) {
    for (const row of await storedRows(ctx, channel)) {
      rowsByBody.set(row.body, [...(rowsByBody.get(row.body) ?? []), row.id]);
    }
  }
  let duplicates = 0;
  let lost = 0;
  for (const form of forms) {
    const ids = rowsByBody.get(form.body) ?? [];
    if (ids.length === 0 || !ids.includes(form.id)) lost++;
    duplicates += Math.max(0, ids.length - 1);
  }
  assert(duplicates === 0 && lost === 0, `${duplicates} duplicate rows, ${lost} forms not stored`);
  for (let i = 0; i < forms.length; i += 25) {
    await Promise.all(forms.slice(i, i + 25).map((form) => checkRecord(ctx, form)));
  }
  return `${ledger.describe()}: ${forms.length} rows, 0 duplicates, 0 lost; dedup records match`;
}

/**
 * Rows 54 and 55 outside the load, then 56 and 57: exact shard-side counts for one form of each
 * kind, the action that fails `retryable`, and a page request with browser-made ids. Returns
 * how many faults were injected.
 */
export async function checkServerWriteFaults(ctx: SoakContext): Promise<number> {
  const channel = "faults-writes";
  const alice = user(ctx, "alice");
  let injected = 0;

  await check(
    ctx,
    "keyed Action mutations whose first shard attempt fails retryable (before the write; after the commit, answer lost) are retried with the same mutation id, and a double submit, each stored once",
    async () => {
      const lines: string[] = [];
      for (const plan of ["before-write", "after-commit", "double"] as const) {
        const body = `server write ${plan} ${crypto.randomUUID().slice(0, 8)}`;
        const form = await postPlanned(ctx, channel, body, alice, plan);
        if (plan !== "double") injected++;
        await checkRecord(ctx, form);
        const rows = (await storedRows(ctx, channel)).filter((row) => row.body === body);
        assert(
          rows.length === 1 && rows[0]!.id === form.id,
          `${plan}: rows ${JSON.stringify(rows)}`,
        );
        const { attempts, records } = await mutationRecord(ctx, channel, form.key);
        lines.push(
          `${plan}: ${attempts || form.posts} shard calls, 1 row, ${records[0]!.replays} replayed`,
        );
      }
      return lines.join("; ");
    },
  );

  await check(
    ctx,
    "an action whose shard call fails retryable is called once and the caller gets UNAVAILABLE; with browser-sent ids on the page request, the action carries none and the mutation its own",
    async () => {
      const probe = `probe-${crypto.randomUUID()}`;
      const browserIds = {
        "x-lunora-mutation-id": `browser-${crypto.randomUUID()}`,
        "x-lunora-client-id": `browser-${crypto.randomUUID()}`,
      };
      const answer = await ctx.tally.fetch(
        "server calls",
        `${ctx.server.origin}/faults/server-calls`,
        {
          method: "POST",
          headers: {
            "content-type": "application/json",
            cookie: alice.cookie,
            ...browserIds,
          },
          body: JSON.stringify({ channel, probe }),
        },
      );
      injected++;
      assert(
        answer.status === 200,
        `the probe page answered ${answer.status} ${answer.text.slice(0, 200)}`,
      );
      const { action } = answer.body as { action: { code: string; status: number } | null };
      assert(
        action?.code === "UNAVAILABLE" && action.status === 503,
        `the action rejected with ${JSON.stringify(action)}`,
      );
      const { calls } = await result<
        { calls: { kind: string; mutationId: string | null; clientId: string | null }[] }
      >(ctx, "probes:calls", { channel, probe }, channel);
      const actions = calls.filter((call) => call.kind === "action");
      const mutations = calls.filter((call) => call.kind === "mutation");
      assert(actions.length === 1, `the action reached the shard ${actions.length} times`);
      assert(
        actions[0]!.mutationId === null && actions[0]!.clientId === null,
        `the action carried ${JSON.stringify(actions[0])}`,
      );
      assert(mutations.length === 1, `the mutation reached the shard ${mutations.length} times`);
      const [sent] = mutations;
      assert(
        sent!.mutationId !== null && sent!.clientId !== null &&
          sent!.mutationId !== browserIds["x-lunora-mutation-id"] &&
          sent!.clientId !== browserIds["x-lunora-client-id"],
        `the mutation carried ${JSON.stringify(sent)}; the browser sent ${
          JSON.stringify(browserIds)
        }`,
      );
      return `action: 1 shard call, no ids, UNAVAILABLE 503; mutation: its own ids, not the browser's`;
    },
  );
  return injected;
}
