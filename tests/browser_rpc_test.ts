/**
 * Browser writes (spec §12): `callRpc` posts the §11 envelope to `/_lunora/rpc` with a
 * mutation's ids, retries a lost answer or a 503 `UNAVAILABLE`/`retryable` (never an action,
 * never `OVERLOADED`, never another 4xx) at most three times with the same mutation id, and
 * rejects with the server client's coded error.
 */
import assert from "node:assert/strict";
import { type BrowserRpcCall, callRpc } from "../src/client/browser_rpc.ts";
import { decodeWire, encodeWire } from "../src/wire/codec.ts";
import { LunoraServerError } from "../src/wire/error_envelope.ts";
import { type FakeFetch, fakeFetch, type FetchCall, ORIGIN } from "./_fakes.ts";

/** A recording `sleep` that never waits. */
function recordingSleep(): ((ms: number) => Promise<void>) & { waits: number[] } {
  const waits: number[] = [];
  return Object.assign((ms: number) => {
    waits.push(ms);
    return Promise.resolve();
  }, { waits });
}

function mutationCall(fetch: FakeFetch, extra: Partial<BrowserRpcCall> = {}): BrowserRpcCall {
  return {
    url: ORIGIN,
    kind: "mutation",
    functionPath: "messages:send",
    args: { channel: "general", body: "hi" },
    clientId: "client-1",
    fetch,
    sleep: recordingSleep(),
    ...extra,
  };
}

function unavailable(extra: Record<string, unknown> = {}, retryAfter = "1"): Response {
  return Response.json(
    { error: { code: "UNAVAILABLE", message: "Shard is temporarily unavailable", ...extra } },
    { status: 503, headers: { "retry-after": retryAfter } },
  );
}

/** Runs `fn` as if on a page at `origin` (`globalThis.location`), then restores it. */
async function onPage<T>(origin: string, fn: () => Promise<T>): Promise<T> {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, "location");
  Object.defineProperty(globalThis, "location", {
    value: { origin, href: `${origin}/channels/general` },
    configurable: true,
    writable: true,
  });
  try {
    return await fn();
  } finally {
    if (descriptor) Object.defineProperty(globalThis, "location", descriptor);
    else delete (globalThis as { location?: unknown }).location;
  }
}

function codeOf(code: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof LunoraServerError, String(error));
    assert.equal(error.code, code);
    return true;
  };
}

Deno.test("callRpc() posts the envelope to <url>/_lunora/rpc with a mutation's ids", async () => {
  const fetch = fakeFetch(() => Response.json({ result: { id: 1 } }));
  const result = await callRpc(mutationCall(fetch, { url: `${ORIGIN}/`, shardKey: "general" }));
  assert.deepEqual(result, { value: { id: 1 } });
  const [sent] = fetch.calls as [FetchCall];
  assert.equal(sent.url, `${ORIGIN}/_lunora/rpc`);
  assert.equal(sent.method, "POST");
  assert.equal(sent.headers.get("content-type"), "application/json");
  assert.equal(
    sent.body,
    '{"args":{"channel":"general","body":"hi"},"functionPath":"messages:send","shardKey":"general"}',
  );
  assert.equal(sent.headers.get("x-lunora-client-id"), "client-1");
  assert.match(sent.headers.get("x-lunora-mutation-id") ?? "", /^[0-9a-f-]{36}$/);
});

Deno.test("callRpc() sends a mutation's idempotency key as its mutation id", async () => {
  const fetch = fakeFetch();
  await callRpc(mutationCall(fetch, { idempotencyKey: "form-7f3a" }));
  assert.equal(fetch.calls[0]!.headers.get("x-lunora-mutation-id"), "form-7f3a");
});

Deno.test("callRpc() gives each logical mutation its own random mutation id", async () => {
  const fetch = fakeFetch();
  await callRpc(mutationCall(fetch));
  await callRpc(mutationCall(fetch));
  const ids = fetch.calls.map((call) => call.headers.get("x-lunora-mutation-id"));
  assert.notEqual(ids[0], ids[1]);
});

Deno.test("callRpc() sends a query and an action without mutation or client id", async () => {
  const fetch = fakeFetch();
  for (const kind of ["query", "action"] as const) {
    await callRpc(mutationCall(fetch, { kind, functionPath: "messages:list" }));
  }
  for (const call of fetch.calls) {
    assert.equal(call.headers.get("x-lunora-mutation-id"), null);
    assert.equal(call.headers.get("x-lunora-client-id"), null);
    assert.equal(
      call.body,
      '{"args":{"channel":"general","body":"hi"},"functionPath":"messages:list"}',
    );
  }
});

Deno.test("callRpc() wire-encodes the arguments and decodes the result", async () => {
  const when = new Date(1_700_000_000_000);
  const fetch = fakeFetch((call) =>
    Response.json({
      result: encodeWire({ echoed: decodeWire(JSON.parse(call.body).args), total: 3n }),
    })
  );
  const { value } = await callRpc(mutationCall(fetch, { args: { at: when, big: 2n } }));
  assert.deepEqual(value, { echoed: { at: when, big: 2n }, total: 3n });
});

Deno.test("callRpc() resolves to the commitCursor the answer carries beside its result", async () => {
  const fetch = fakeFetch(() => Response.json({ result: null, commitCursor: 42 }));
  assert.deepEqual(await callRpc(mutationCall(fetch)), { value: null, commitCursor: 42 });
});

Deno.test("callRpc() ignores a commitCursor that is not a non-negative integer", async () => {
  for (const commitCursor of ["42", -1, 1.5, null]) {
    const fetch = fakeFetch(() => Response.json({ result: 1, commitCursor }));
    assert.deepEqual(await callRpc(mutationCall(fetch)), { value: 1 });
  }
});

Deno.test("a lost answer is retried with the same mutation id and the caller gets the first result (row 66)", async () => {
  // A shard that deduplicates by mutation id; the network drops its first answer.
  const stored = new Map<string, string>();
  let rows = 0;
  const fetch = fakeFetch((call) => {
    const id = call.headers.get("x-lunora-mutation-id")!;
    let answer = stored.get(id);
    if (answer === undefined) {
      answer = JSON.stringify({ result: { id: ++rows }, commitCursor: rows });
      stored.set(id, answer);
      throw new TypeError("Failed to fetch"); // committed, but the answer never arrives
    }
    return new Response(answer, { headers: { "content-type": "application/json" } });
  });
  const result = await callRpc(mutationCall(fetch));
  assert.deepEqual(result, { value: { id: 1 }, commitCursor: 1 });
  assert.equal(rows, 1, "stored once");
  assert.equal(fetch.calls.length, 2);
  const ids = fetch.calls.map((call) => call.headers.get("x-lunora-mutation-id"));
  assert.equal(ids[0], ids[1]);
  assert.equal(fetch.calls[1]!.body, fetch.calls[0]!.body);
});

Deno.test("an answer whose body breaks off mid-way is retried like a lost one", async () => {
  let calls = 0;
  const fetch = fakeFetch(() => {
    if (++calls > 1) return Response.json({ result: "second" });
    const body = new ReadableStream({
      pull: (controller) => controller.error(new TypeError("network error")),
    });
    return new Response(body, { headers: { "content-type": "application/json" } });
  });
  assert.deepEqual(await callRpc(mutationCall(fetch)), { value: "second" });
  assert.equal(fetch.calls.length, 2);
});

Deno.test("a query whose fetch rejects is retried", async () => {
  let calls = 0;
  const fetch = fakeFetch(() => {
    if (++calls === 1) throw new TypeError("Failed to fetch");
    return Response.json({ result: [1] });
  });
  const result = await callRpc(mutationCall(fetch, { kind: "query", functionPath: "a:b" }));
  assert.deepEqual(result, { value: [1] });
  assert.equal(fetch.calls.length, 2);
});

Deno.test("a 503 UNAVAILABLE is retried after its Retry-After, with the same mutation id", async () => {
  let calls = 0;
  const fetch = fakeFetch(() =>
    ++calls === 1 ? unavailable({}, "2") : Response.json({ result: 7 })
  );
  const sleep = recordingSleep();
  assert.deepEqual(await callRpc(mutationCall(fetch, { sleep })), { value: 7 });
  assert.deepEqual(sleep.waits, [2000]);
  const ids = fetch.calls.map((call) => call.headers.get("x-lunora-mutation-id"));
  assert.equal(ids[0], ids[1]);
});

Deno.test("a 503 whose error is marked retryable is retried", async () => {
  let calls = 0;
  const fetch = fakeFetch(() =>
    ++calls === 1
      ? Response.json({ error: { code: "SHARD_RESTARTING", message: "x", retryable: true } }, {
        status: 503,
      })
      : Response.json({ result: 1 })
  );
  assert.deepEqual(await callRpc(mutationCall(fetch)), { value: 1 });
  assert.equal(fetch.calls.length, 2);
});

Deno.test("callRpc() makes at most three attempts, then rejects with the last answer's error", async () => {
  const fetch = fakeFetch(() => unavailable());
  const sleep = recordingSleep();
  await assert.rejects(callRpc(mutationCall(fetch, { sleep })), (error) => {
    assert.ok(error instanceof LunoraServerError);
    assert.equal(error.code, "UNAVAILABLE");
    assert.equal(error.status, 503);
    assert.equal(error.message, "Shard is temporarily unavailable");
    assert.deepEqual(error.data, { retryAfterMs: 1000 });
    return true;
  });
  assert.equal(fetch.calls.length, 3);
  assert.equal(sleep.waits.length, 2);
});

Deno.test("callRpc() gives up after three lost answers with an INTERNAL error", async () => {
  const fetch = fakeFetch(() => {
    throw new TypeError("Failed to fetch");
  });
  await assert.rejects(callRpc(mutationCall(fetch)), (error) => {
    assert.ok(error instanceof LunoraServerError);
    assert.equal(error.code, "INTERNAL");
    assert.equal(error.status, undefined);
    assert.match(error.message, /Failed to fetch/);
    return true;
  });
  assert.equal(fetch.calls.length, 3);
});

Deno.test("without Retry-After, the backoff is 250 ms then 500 ms, each with equal jitter", async () => {
  for (let run = 0; run < 20; run++) {
    const fetch = fakeFetch(() => {
      throw new TypeError("Failed to fetch");
    });
    const sleep = recordingSleep();
    await assert.rejects(callRpc(mutationCall(fetch, { sleep })));
    const [first, second] = sleep.waits as [number, number];
    assert.ok(first >= 125 && first <= 250, `first wait ${first}`);
    assert.ok(second >= 250 && second <= 500, `second wait ${second}`);
  }
});

Deno.test("a Retry-After shorter than the backoff does not shorten it", async () => {
  const fetch = fakeFetch(() => unavailable({}, "0"));
  const sleep = recordingSleep();
  await assert.rejects(callRpc(mutationCall(fetch, { sleep })));
  assert.ok(sleep.waits[0]! >= 125 && sleep.waits[1]! >= 250, String(sleep.waits));
});

Deno.test("a Retry-After over 10 s is not waited for: the caller gets the error at once", async () => {
  const fetch = fakeFetch(() => unavailable({}, "60"));
  const sleep = recordingSleep();
  await assert.rejects(callRpc(mutationCall(fetch, { sleep })), (error) => {
    assert.ok(error instanceof LunoraServerError);
    assert.deepEqual(error.data, { retryAfterMs: 60_000 });
    return true;
  });
  assert.equal(fetch.calls.length, 1);
  assert.deepEqual(sleep.waits, []);
});

Deno.test("an action is never retried, after a lost answer or a 503 UNAVAILABLE", async () => {
  const lost = fakeFetch(() => {
    throw new TypeError("Failed to fetch");
  });
  const action = { kind: "action", functionPath: "mail:notify" } as const;
  await assert.rejects(callRpc(mutationCall(lost, action)), codeOf("INTERNAL"));
  assert.equal(lost.calls.length, 1);
  const busy = fakeFetch(() => unavailable());
  await assert.rejects(callRpc(mutationCall(busy, action)), codeOf("UNAVAILABLE"));
  assert.equal(busy.calls.length, 1);
});

Deno.test("a 503 OVERLOADED is never retried, even when marked retryable", async () => {
  const fetch = fakeFetch(() =>
    Response.json({
      error: { code: "OVERLOADED", message: "Shard is overloaded", retryable: true },
    }, {
      status: 503,
      headers: { "retry-after": "1" },
    })
  );
  await assert.rejects(callRpc(mutationCall(fetch)), codeOf("OVERLOADED"));
  assert.equal(fetch.calls.length, 1);
});

Deno.test("a 4xx, a 500 and a 503 without a retryable envelope are not retried", async () => {
  const answers = [
    Response.json({ error: { code: "TOO_MANY_REQUESTS", message: "Slow down" } }, { status: 429 }),
    Response.json({ error: { code: "BAD_REQUEST", message: "Nope" } }, { status: 400 }),
    Response.json({ error: { code: "INTERNAL", message: "Internal error" } }, { status: 500 }),
    new Response("Service Unavailable", { status: 503 }),
  ];
  for (const answer of answers) {
    const fetch = fakeFetch(() => answer);
    await assert.rejects(callRpc(mutationCall(fetch)), LunoraServerError);
    assert.equal(fetch.calls.length, 1, `${answer.status} was retried`);
  }
});

Deno.test("an error answer rejects with its code, message and decoded data", async () => {
  const fetch = fakeFetch(() =>
    Response.json({
      error: { code: "QUOTA", message: "Too many messages", data: encodeWire({ limit: 50n }) },
    }, { status: 409 })
  );
  await assert.rejects(callRpc(mutationCall(fetch)), (error) => {
    assert.ok(error instanceof LunoraServerError);
    assert.equal(error.code, "QUOTA");
    assert.equal(error.message, "Too many messages");
    assert.deepEqual(error.data, { limit: 50n });
    return true;
  });
});

Deno.test("a 200 that is not JSON rejects with INTERNAL and is not retried", async () => {
  const fetch = fakeFetch(() => new Response("<html>", { status: 200 }));
  await assert.rejects(callRpc(mutationCall(fetch)), codeOf("INTERNAL"));
  assert.equal(fetch.calls.length, 1);
});

Deno.test("a 204 answer rejects with INTERNAL, the server client's error", async () => {
  const fetch = fakeFetch(() => new Response(null, { status: 204 }));
  await assert.rejects(callRpc(mutationCall(fetch)), codeOf("INTERNAL"));
});

Deno.test("callRpc() sends an authorization header as given", async () => {
  const fetch = fakeFetch();
  await callRpc(mutationCall(fetch, { authorization: "Bearer s3cret" }));
  await callRpc(mutationCall(fetch, { authorization: "" }));
  assert.equal(fetch.calls[0]!.headers.get("authorization"), "Bearer s3cret");
  assert.equal(fetch.calls[1]!.headers.get("authorization"), null);
});

Deno.test("on its own origin the call carries the page's cookies only (same-origin)", async () => {
  const fetch = fakeFetch();
  await onPage(ORIGIN, () => callRpc(mutationCall(fetch)));
  assert.equal(fetch.calls[0]!.credentials, "same-origin");
});

Deno.test("on another origin without authorization the call includes the cookie", async () => {
  const fetch = fakeFetch();
  await onPage("https://www.app.test", () => callRpc(mutationCall(fetch)));
  assert.equal(fetch.calls[0]!.credentials, "include");
});

Deno.test("on another origin with authorization the call sends no cookie", async () => {
  const fetch = fakeFetch();
  await onPage(
    "https://www.app.test",
    () => callRpc(mutationCall(fetch, { authorization: "Bearer t" })),
  );
  assert.equal(fetch.calls[0]!.credentials, "same-origin");
});

Deno.test("a relative url is resolved against the page", async () => {
  const fetch = fakeFetch();
  await onPage(ORIGIN, () => callRpc(mutationCall(fetch, { url: "/" })));
  assert.equal(fetch.calls[0]!.url, `${ORIGIN}/_lunora/rpc`);
});

Deno.test("a bad idempotency key is a TypeError before any request (row 58)", async () => {
  const fetch = fakeFetch();
  for (const idempotencyKey of ["", "x".repeat(300), "a\r\nb", 7 as unknown as string]) {
    await assert.rejects(
      callRpc(mutationCall(fetch, { idempotencyKey })),
      (error) => error instanceof TypeError && /"idempotencyKey" must be/.test(error.message),
    );
  }
  assert.equal(fetch.calls.length, 0);
});

Deno.test("a query or an action with an idempotency key is a TypeError", async () => {
  const fetch = fakeFetch();
  for (const kind of ["query", "action"] as const) {
    await assert.rejects(
      callRpc(mutationCall(fetch, { kind, idempotencyKey: "k" })),
      (error) => error instanceof TypeError && /only a mutation takes/.test(error.message),
    );
  }
  assert.equal(fetch.calls.length, 0);
});

Deno.test("bad call fields are TypeErrors that never send, nor quote a credential", async () => {
  const fetch = fakeFetch();
  const bad: [Partial<BrowserRpcCall>, RegExp][] = [
    [{ kind: "stream" as "query" }, /"kind" must be/],
    [{ functionPath: "../x" }, /not a function path/],
    [{ url: "ftp://app.test" }, /"url" must be an http\(s\) URL/],
    [{ url: "not a url" }, /"url" must be an http\(s\) URL/],
    [{ url: `${ORIGIN}/?x=1` }, /must not have a query/],
    [{ url: "https://user:pw@app.test" }, /must not carry credentials/],
    [{ args: [] as unknown as Record<string, unknown> }, /"args" must be a plain object/],
    [{ args: { when: /regex/ } }, /Cannot run mutation "messages:send"/],
    [{ shardKey: 3 as unknown as string }, /"shardKey" must be a string/],
    [{ clientId: "" }, /"clientId" must be a string of 1 to 255/],
    [{ authorization: "Bearer s3cret\n" }, /"authorization" cannot be sent/],
  ];
  for (const [extra, message] of bad) {
    await assert.rejects(callRpc(mutationCall(fetch, extra)), (error) => {
      assert.ok(error instanceof TypeError, `${JSON.stringify(extra)}: ${error}`);
      assert.match(error.message, message);
      assert.doesNotMatch(error.message, /s3cret|pw@/);
      return true;
    });
  }
  assert.equal(fetch.calls.length, 0);
});
