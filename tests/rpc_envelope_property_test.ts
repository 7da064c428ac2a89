import assert from "node:assert/strict";
import fc from "fast-check";
import { harness, jsonPost } from "./_fakes.ts";

const FUNCTION_PATH = /^[A-Za-z0-9_-]+(?:[/.][A-Za-z0-9_-]+)*:[A-Za-z0-9_]+$/;

function isValidEnvelope(text: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const { functionPath, args, shardKey } = value as Record<string, unknown>;
  const argsOk = args === undefined ||
    (typeof args === "object" && args !== null && !Array.isArray(args));
  const shardOk = shardKey === undefined ||
    (typeof shardKey === "string" && shardKey.length > 0 && shardKey.length <= 512);
  return typeof functionPath === "string" && FUNCTION_PATH.test(functionPath) && argsOk && shardOk;
}

const segment = fc.stringMatching(/^[A-Za-z0-9_-]{1,6}$/);
const functionPath = fc.oneof(
  fc.tuple(fc.array(segment, { minLength: 1, maxLength: 3 }), fc.stringMatching(/^\w{1,6}$/))
    .map(([parts, name]) => `${parts.join("/")}:${name}`),
  fc.string(),
  fc.constantFrom("__proto__:x", "constructor:y", "../admin:x", "a//b:c", ":x", "a:", "a:b:c"),
);
const envelope = fc.record({
  functionPath: fc.oneof(functionPath, fc.jsonValue()),
  args: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue()),
  shardKey: fc.oneof(fc.constant("__root__"), fc.string(), fc.jsonValue()),
}, { requiredKeys: [] });
const body = fc.oneof(
  envelope.map((value) => JSON.stringify(value)),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc.string(),
  fc.constantFrom("", "{", '{"__proto__":{"functionPath":"a:b"}}', "null", "[]"),
);

Deno.test("arbitrary /_lunora/rpc bodies never give a 5xx and reach a shard only when valid (property)", async () => {
  const h = harness({ allowUnauthenticatedShardAccess: true });
  await fc.assert(
    fc.asyncProperty(body, async (text) => {
      const before = h.ns.calls.length;
      const response = await h.fetch(jsonPost("/_lunora/rpc", text));
      await response.body?.cancel();
      const reached = h.ns.calls.length - before;
      assert.ok(response.status < 500, `status ${response.status} for ${text}`);
      assert.equal(reached, isValidEnvelope(text) ? 1 : 0, `shard calls for ${text}`);
      assert.equal(response.status, isValidEnvelope(text) ? 200 : 400);
    }),
    { numRuns: 500 },
  );
  assert.equal(({} as Record<string, unknown>).functionPath, undefined);
});

Deno.test("arbitrary /_lunora/rpc-batch bodies never give a 5xx and reach a shard once per valid call (property)", async () => {
  const h = harness({ allowUnauthenticatedShardAccess: true });
  const call = fc.oneof(
    fc.tuple(fc.oneof(fc.integer(), fc.string()), envelope).map(([id, value]) => ({
      id,
      ...value,
    })),
    fc.jsonValue(),
  );
  const batchBody = fc.oneof(
    fc.array(call, { maxLength: 6 }).map((calls) => JSON.stringify({ calls })),
    fc.jsonValue().map((calls) => JSON.stringify({ calls })),
    body,
  );
  await fc.assert(
    fc.asyncProperty(batchBody, async (text) => {
      const before = h.ns.calls.length;
      const response = await h.fetch(jsonPost("/_lunora/rpc-batch", text));
      const answer = await response.json();
      const reached = h.ns.calls.length - before;
      assert.ok(response.status < 500, `status ${response.status} for ${text}`);
      let calls: unknown;
      try {
        calls = (JSON.parse(text) as { calls?: unknown } | null)?.calls;
      } catch {
        // Not JSON: the batch must be refused as a whole.
      }
      if (!Array.isArray(calls)) {
        assert.equal(response.status, 400, `status for ${text}`);
        assert.equal(reached, 0, `shard calls for ${text}`);
        return;
      }
      const valid = calls.map((item) => isValidEnvelope(JSON.stringify(item)));
      assert.equal(response.status, 200, `status for ${text}`);
      assert.deepEqual(
        answer.results.map((slot: { status: number }) => slot.status),
        valid.map((ok) => (ok ? 200 : 400)),
        `slots for ${text}`,
      );
      assert.equal(reached, valid.filter(Boolean).length, `shard calls for ${text}`);
    }),
    { numRuns: 300 },
  );
  assert.equal(({} as Record<string, unknown>).functionPath, undefined);
});
