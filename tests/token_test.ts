/**
 * `serializePreloaded` / `deserializePreloaded` (spec §8; threat-matrix rows 47–49).
 */
import assert from "node:assert/strict";
import type { Preloaded } from "../src/ssr/preload.ts";
import { deserializePreloaded, serializePreloaded } from "../src/wire/preloaded_token.ts";

function token<T>(value: T, extra: Partial<Preloaded<T>> = {}): Preloaded<T> {
  return { __lunoraPreloaded: true, functionPath: "messages:list", args: {}, value, ...extra };
}

Deno.test("serializePreloaded() output cannot close a <script> element and round-trips (row 47)", () => {
  const hostile = "</script><script>alert(1)</script><!--";
  const text = serializePreloaded(token(hostile, { args: { q: hostile } }));
  assert.ok(!text.includes("<"));
  assert.ok(!text.includes(">"));
  assert.ok(text.includes("\\u003c/script\\u003e"));
  assert.equal(JSON.parse(text).value, hostile);
  const back = deserializePreloaded(text);
  assert.equal(back.value, hostile);
  assert.equal(back.args.q, hostile);
});

Deno.test("serializePreloaded() escapes U+2028, U+2029 and & and round-trips (row 48)", () => {
  const value = "a\u2028b\u2029c&d";
  const text = serializePreloaded(token(value));
  assert.ok(!/[\u2028\u2029&]/.test(text));
  assert.ok(text.includes("\\u2028"));
  assert.ok(text.includes("\\u2029"));
  assert.ok(text.includes("\\u0026"));
  assert.equal(deserializePreloaded(text).value, value);
});

Deno.test("serializePreloaded() keeps values JSON cannot carry", () => {
  const value = {
    total: 2n ** 70n,
    at: new Date(7),
    tags: new Set(["a"]),
    raw: new Uint8Array([1]),
  };
  const back = deserializePreloaded(serializePreloaded(token(value, { shardKey: "s" })));
  assert.deepEqual(back, token(value, { shardKey: "s" }));
});

Deno.test("a token without shardKey round-trips without one", () => {
  const back = deserializePreloaded(serializePreloaded(token(1)));
  assert.ok(!Object.hasOwn(back, "shardKey"));
});

Deno.test("serializePreloaded() rejects what is not a token or cannot go on the wire", () => {
  assert.throws(() => serializePreloaded({ value: 1 } as never), {
    name: "TypeError",
    message: 'Cannot serialize preloaded token: "__lunoraPreloaded" must be true',
  });
  class Secret {}
  assert.throws(() => serializePreloaded(token(new Secret())), TypeError);
});

Deno.test("deserializePreloaded() rejects hostile or malformed text clearly (row 49)", () => {
  const cases: [string, ErrorConstructor, RegExp][] = [
    ['{"__proto__":{"x":1}}', TypeError, /"__lunoraPreloaded" must be true/],
    ["", SyntaxError, /^Cannot read preloaded token: not JSON/],
    ["x", SyntaxError, /^Cannot read preloaded token: not JSON/],
    ['{"value":1}', TypeError, /"__lunoraPreloaded" must be true/],
    ["[1]", TypeError, /expected an object/],
    ["null", TypeError, /expected an object/],
    ['{"__lunoraPreloaded":"true","functionPath":"a:b","args":{}}', TypeError, /must be true/],
    ['{"__lunoraPreloaded":true,"functionPath":7,"args":{}}', TypeError, /"functionPath"/],
    ['{"__lunoraPreloaded":true,"functionPath":"../x:y","args":{}}', TypeError, /"functionPath"/],
    ['{"__lunoraPreloaded":true,"functionPath":"a:b","args":[]}', TypeError, /"args"/],
    ['{"__lunoraPreloaded":true,"functionPath":"a:b","args":null}', TypeError, /"args"/],
    [
      '{"__lunoraPreloaded":true,"functionPath":"a:b","args":{},"shardKey":1}',
      TypeError,
      /"shardKey"/,
    ],
  ];
  for (const [text, errorClass, message] of cases) {
    assert.throws(() => deserializePreloaded(text), (error: unknown) => {
      assert.ok(error instanceof errorClass, `${text}: ${error}`);
      assert.match((error as Error).message, message, text);
      return true;
    });
  }
  assert.equal(({} as Record<string, unknown>).x, undefined);
});

Deno.test("deserializePreloaded() keeps __proto__ keys as own data and pollutes nothing (row 49)", () => {
  const text = '{"__lunoraPreloaded":true,"functionPath":"a:b",' +
    '"args":{"__proto__":{"polluted":1}},"value":{"__proto__":{"isAdmin":true},"n":["$lunora.wire$","bigint","1"]}}';
  const back = deserializePreloaded(text) as Preloaded<Record<string, unknown>>;
  assert.ok(Object.hasOwn(back.args, "__proto__"));
  assert.ok(Object.hasOwn(back.value, "__proto__"));
  assert.equal(Object.getPrototypeOf(back.value), Object.prototype);
  assert.equal(back.value.isAdmin, undefined);
  assert.equal(back.value.n, 1n);
  const probe: Record<string, unknown> = {};
  assert.equal(probe.polluted, undefined);
  assert.equal(probe.isAdmin, undefined);
});

Deno.test("deserializePreloaded() rejects a non-string with a TypeError", () => {
  assert.throws(() => deserializePreloaded({} as never), {
    name: "TypeError",
    message: "Cannot read preloaded token: expected a string, got object",
  });
});

Deno.test("deserializePreloaded() rejects a malformed wire value inside the token", () => {
  const text = '{"__lunoraPreloaded":true,"functionPath":"a:b","args":{},' +
    `"value":["$lunora.wire$","bigint","${"9".repeat(1100)}"]}`;
  assert.throws(() => deserializePreloaded(text), RangeError);
});
