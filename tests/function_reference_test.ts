/**
 * Function references (spec §8): the runtime shape, path validation, and type-level inference
 * through `ArgsOf`/`ReturnOf`, `client.query` and `preloadQuery`. The type-level checks run
 * when this file is type-checked (`deno test` / `deno task check`): an `@ts-expect-error`
 * line that stops being an error fails the check.
 */
import assert from "node:assert/strict";
import { type Preloaded, preloadQuery } from "../src/ssr/preload.ts";
import { createServerClient, type ServerClient } from "../src/ssr/server_client.ts";
import {
  action,
  type ArgsOf,
  type FunctionReference,
  mutation,
  query,
  type ReturnOf,
} from "../src/wire/function_reference.ts";
import { assertType, type Equal, fakeFetch, ORIGIN } from "./_fakes.ts";

interface Message {
  id: string;
  text: string;
}

Deno.test("query() and mutation() return a frozen { __lunoraRef } and nothing else", () => {
  const list = query<{ channelId: string }, Message[]>("messages:list");
  const send = mutation<{ text: string }, string>("chat/messages:send");
  assert.deepEqual(list, { __lunoraRef: "messages:list" });
  assert.deepEqual(Object.keys(send), ["__lunoraRef"]);
  assert.equal(send.__lunoraRef, "chat/messages:send");
  assert.ok(Object.isFrozen(list));
  assert.equal(JSON.stringify(list), '{"__lunoraRef":"messages:list"}');
});

Deno.test("action() returns a frozen { __lunoraRef } typed as an action reference", () => {
  const notify = action<{ to: string }, boolean>("mail/outbox:notify");
  assert.deepEqual(notify, { __lunoraRef: "mail/outbox:notify" });
  assert.ok(Object.isFrozen(notify));
  assertType<Equal<typeof notify, FunctionReference<"action", { to: string }, boolean>>>();
  assert.throws(() => action("../mail:notify"), { name: "TypeError" });
});

Deno.test("query() accepts module paths with / and . separators", () => {
  for (
    const path of ["messages:list", "chat/messages:list", "a.b:c", "a-b_c/d:e_1", "__proto__:x"]
  ) {
    assert.equal(query(path).__lunoraRef, path);
  }
});

Deno.test("query() and mutation() reject paths that are not module:function with a TypeError", () => {
  for (
    const path of [
      "noColon",
      "../admin:x",
      ":x",
      "a:",
      "a//b:c",
      "/a:b",
      "a/:b",
      "a/./b:c",
      "a:b-c",
      "a:b:c",
      " a:b",
      "",
    ]
  ) {
    assert.throws(() => query(path), {
      name: "TypeError",
      message: `Invalid function reference: ${
        JSON.stringify(path)
      } is not a function path like "messages:list"`,
    });
    assert.throws(() => mutation(path), TypeError);
  }
  assert.throws(() => query(42 as never), {
    name: "TypeError",
    message: 'Invalid function reference: 42 is not a function path like "messages:list"',
  });
});

Deno.test("ArgsOf and ReturnOf infer from helper-made and codegen-shaped references", () => {
  const list = query<{ channelId: string }, Message[]>("messages:list");
  assertType<Equal<ArgsOf<typeof list>, { channelId: string }>>();
  assertType<Equal<ReturnOf<typeof list>, Message[]>>();

  // What Lunora's codegen declares for `api.messages.send`.
  const generated: FunctionReference<"mutation", { text: string }, string> = {
    __lunoraRef: "messages:send",
  };
  assertType<Equal<ArgsOf<typeof generated>, { text: string }>>();
  assertType<Equal<ReturnOf<typeof generated>, string>>();
  assertType<Equal<ArgsOf<string>, never>>();
  assert.equal(generated.__lunoraRef, "messages:send");
});

Deno.test("preloadQuery() infers the token type and checks args at compile time", async () => {
  const fetch = fakeFetch(() => Response.json({ result: [{ id: "1", text: "hi" }] }));
  const client: ServerClient = createServerClient({ url: ORIGIN, fetch });
  const list = query<{ channelId: string }, Message[]>("messages:list");

  const token = await preloadQuery(client, list, { channelId: "c" });
  assertType<Equal<typeof token, Preloaded<Message[]>>>();
  const value = await client.query(list, { channelId: "c" });
  assertType<Equal<typeof value, Message[]>>();
  assert.equal(token.value[0]!.text, "hi");

  const rejected = async () => {
    // @ts-expect-error: channelId must be a string
    await preloadQuery(client, list, { channelId: 1 });
    // @ts-expect-error: channelId is required
    await preloadQuery(client, list, {});
    // @ts-expect-error: unknown argument
    await preloadQuery(client, list, { channelId: "c", extra: true });
    // @ts-expect-error: a mutation cannot be preloaded
    await preloadQuery(client, mutation<{ text: string }, string>("messages:send"), { text: "x" });
    // @ts-expect-error: shardKey is a string
    await preloadQuery(client, list, { channelId: "c" }, { shardKey: 1 });
    // @ts-expect-error: wrong args through client.query too
    await client.query(list, { channel: "c" });
  };
  assert.equal(typeof rejected, "function"); // type-checked, never run
  assert.equal(fetch.calls.length, 2);
});

Deno.test("an untyped { __lunoraRef } is accepted with unknown args and result", async () => {
  const fetch = fakeFetch(() => Response.json({ result: 5 }));
  const client = createServerClient({ url: ORIGIN, fetch });
  const token = await preloadQuery(client, { __lunoraRef: "stats:count" }, {});
  assertType<Equal<typeof token, Preloaded<unknown>>>();
  assert.equal(token.value, 5);
});
