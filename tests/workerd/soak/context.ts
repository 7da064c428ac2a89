/**
 * What the soak test's phases share: the running server, the report, the request tally, and
 * small helpers to call the example and judge its answers.
 *
 * @module
 */
import { assert, type CheckContext } from "../report.ts";
import { browserHeaders, signUp, type User } from "../client.ts";
import { type Answer, Tally } from "./tally.ts";

/** The soak test's context: the e2e check context plus the current phase's tally. */
export interface SoakContext extends CheckContext {
  tally: Tally;
  /** Users signed up at the start, by name: alice, bob, carol, dave, mallory. */
  users: Map<string, User>;
  /** Numbers for the closing summary, by phase. */
  numbers: Map<string, string>;
}

/** `POST <path>` (default `/_lunora/rpc`) with a JSON envelope, counted under `kind`. */
export function call(
  ctx: SoakContext,
  kind: string,
  envelope: unknown,
  headers: Record<string, string> = {},
  path = "/_lunora/rpc",
): Promise<Answer> {
  return ctx.tally.fetch(kind, `${ctx.server.origin}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof envelope === "string" ? envelope : JSON.stringify(envelope),
  });
}

/** Calls `functionPath(args)` on the shard `channel` and returns its `result`; throws otherwise. */
export async function result<T = unknown>(
  ctx: SoakContext,
  functionPath: string,
  args: Record<string, unknown>,
  channel: string,
  headers: Record<string, string> = {},
): Promise<T> {
  const answer = await call(ctx, functionPath, { functionPath, args, shardKey: channel }, headers);
  assert(
    answer.status === 200 && answer.body && "result" in answer.body,
    `${functionPath} on ${channel} answered ${answer.status} ${answer.text.slice(0, 200)}`,
  );
  return answer.body.result as T;
}

/** A stored row as `probes:rows` returns it. */
export interface Row {
  id: number;
  author: string;
  body: string;
}

/** Every stored row of `channel`, oldest first. */
export async function storedRows(ctx: SoakContext, channel: string): Promise<Row[]> {
  return (await result<{ rows: Row[] }>(ctx, "probes:rows", { channel }, channel)).rows;
}

/**
 * Asserts an error answer: `status`, a JSON body `{"error":{"code"}}` with `code`, and none of
 * `secrets` anywhere in the body.
 */
export function expectError(
  answer: Answer,
  status: number,
  code: string,
  secrets: string[] = [],
): void {
  assert(
    answer.status === status && answer.body?.error?.code === code,
    `expected ${status} ${code}, got ${answer.status} ${answer.text.slice(0, 200)}`,
  );
  for (const secret of secrets) {
    assert(!answer.text.includes(secret), `the answer leaks ${JSON.stringify(secret)}`);
  }
}

/** A fresh tally for a phase; its counts are added to `total` when the phase ends. */
export async function phase<T>(
  ctx: SoakContext,
  total: Tally,
  run: (ctx: SoakContext) => Promise<T>,
): Promise<T> {
  const tally = new Tally();
  try {
    return await run({ ...ctx, tally });
  } finally {
    total.add(tally);
  }
}

/**
 * `messages:send` on `channel` as a same-origin browser (with `cookie` when given), counted;
 * returns the new row's id and throws on any answer but 200.
 */
export async function sendMessage(
  ctx: SoakContext,
  channel: string,
  text: string,
  cookie?: string,
): Promise<number> {
  const answer = await call(ctx, "messages:send", {
    functionPath: "messages:send",
    args: { channel, body: text },
    shardKey: channel,
  }, browserHeaders(ctx.server.origin, cookie));
  assert(
    answer.status === 200 && typeof answer.body?.result?.id === "number",
    `messages:send answered ${answer.status} ${answer.text.slice(0, 200)}`,
  );
  return answer.body.result.id;
}

/** The signed-up user `name`; throws when there is none. */
export function user(ctx: SoakContext, name: string): User {
  const found = ctx.users.get(name);
  assert(found, `no signed-up user ${name}`);
  return found;
}

/** Signs `name` up through the example's better-auth (as its sign-up form does), counted. */
export async function signUpCounted(ctx: SoakContext, name: string): Promise<User> {
  const answer = await ctx.tally.count("auth sign-up", async () => ({
    status: 200,
    user: await signUp(ctx.server.origin, name),
  }));
  return answer.user;
}
