/**
 * The example's own wire codec (examples/chat/src/shard/wire.ts, which its ShardDO and islands
 * use in place of a Lunora runtime) agrees with this package's codec (spec §7): the same JSON
 * text for every value, and each decodes what the other encodes.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import * as example from "../examples/chat/src/shard/wire.ts";
import { decodeWire, encodeWire, WIRE_TAG } from "../src/wire/codec.ts";

const T = WIRE_TAG;

const leaf = fc.oneof(
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.double().map((number) => (number === 0 ? 0 : number)), // JSON has no -0
  fc.bigInt(),
  fc.date({ noInvalidDate: true }),
  fc.webUrl().map((href) => new URL(href)),
  fc.uint8Array({ maxLength: 8 }),
  fc.int32Array({ maxLength: 4 }),
  fc.constant(T),
  fc.string().map((message) => new RangeError(message)),
);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    leaf,
    tie("array"),
    tie("object"),
    tie("map"),
    tie("set"),
  ),
  array: fc.array(fc.oneof(tie("value"), fc.constant(undefined)), {
    maxLength: 4,
  }),
  object: fc.dictionary(
    fc.string(),
    fc.oneof(tie("value"), fc.constant(undefined)),
    {
      maxKeys: 4,
      noNullPrototype: true,
    },
  ),
  map: fc.array(fc.tuple(fc.string(), tie("value")), { maxLength: 3 }).map((
    entries,
  ) => new Map(entries)),
  set: fc.array(tie("value"), { maxLength: 3 }).map((items) => new Set(items)),
}));

Deno.test("the example's encoder writes the same JSON text as the package's (property)", () => {
  fc.assert(
    fc.property(value, (input) => {
      assert.equal(
        JSON.stringify(example.encodeWire(input)),
        JSON.stringify(encodeWire(input)),
      );
    }),
    { numRuns: 300 },
  );
});

Deno.test("the example decodes what the package encodes, and the other way round (property)", () => {
  fc.assert(
    fc.property(value, (input) => {
      const text = JSON.stringify(encodeWire(input));
      assert.deepEqual(
        example.decodeWire(JSON.parse(text)),
        decodeWire(JSON.parse(text)),
      );
      assert.deepEqual(
        decodeWire(JSON.parse(example.stringifyWire(input))),
        decodeWire(
          JSON.parse(text),
        ),
      );
    }),
    { numRuns: 300 },
  );
});

Deno.test("the example's messages:list shape goes through both codecs unchanged", () => {
  const result = {
    viewer: null,
    messages: [{
      id: 1,
      author: "u1",
      body: "hi",
      createdAt: new Date(1_763_720_000_000),
    }],
    total: 12_345_678_901_234_567_890n,
    authors: new Set(["u1"]),
  };
  assert.deepEqual(
    decodeWire(JSON.parse(example.stringifyWire(result))),
    result,
  );
  assert.deepEqual(
    example.parseWire(JSON.stringify(encodeWire(result))),
    result,
  );
});

Deno.test("the example's decoder keeps __proto__ as an own key and never touches a prototype", () => {
  const decoded = example.parseWire(
    '{"__proto__":{"polluted":true},"a":[1]}',
  ) as Record<
    string,
    unknown
  >;
  assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
  assert.deepEqual(Object.keys(decoded), ["__proto__", "a"]);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("the example's codec refuses class instances, and nesting deeper than 64 levels", () => {
  assert.throws(() => example.encodeWire(new (class Point {})()), TypeError);
  let deep: unknown = 1;
  for (let i = 0; i < 70; i++) deep = [deep];
  assert.throws(() => example.encodeWire(deep), RangeError);
  assert.throws(() => example.decodeWire(deep), RangeError);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => example.encodeWire(cyclic), RangeError);
});

Deno.test("the example's decoder rejects malformed tags like the package's", () => {
  for (
    const bad of [
      [T, "bigint", "12x"],
      [T, "bigint", "9".repeat(1025)],
      [T, "date", "yesterday"],
      [T, "map", [["only key"]]],
      [T, "bytes", "AQI"],
    ]
  ) {
    assert.throws(
      () => decodeWire(bad),
      `the package accepts ${JSON.stringify(bad)}`,
    );
    assert.throws(
      () => example.decodeWire(bad),
      `the example accepts ${JSON.stringify(bad)}`,
    );
  }
  assert.deepEqual(example.decodeWire([T, "future", [T, "bigint", "1"]]), [
    T,
    "future",
    1n,
  ]);
});
