/**
 * The wire codec (spec §7, §10 "Wire depth"; threat-matrix rows 50 and 51).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeWire,
  encodeWire,
  MAX_BIGINT_DIGITS,
  MAX_WIRE_DEPTH,
  parseWire,
  stringifyWire,
  WIRE_TAG,
} from "../src/wire/codec.ts";

const T = WIRE_TAG;

/** Encode, go through JSON text as the wire does, decode. */
function roundTrip(value: unknown): unknown {
  return parseWire(stringifyWire(value));
}

function nest(levels: number, leaf: unknown): unknown {
  let value = leaf;
  for (let index = 0; index < levels; index++) value = [value];
  return value;
}

// ---------------------------------------------------------------------------------------------
// Pure JSON

Deno.test("encodeWire() leaves pure JSON byte-identical under JSON.stringify", () => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      assert.equal(JSON.stringify(encodeWire(value)), JSON.stringify(value));
    }),
    { numRuns: 300 },
  );
});

Deno.test("encodeWire() returns pure JSON as the very same objects, copying nothing", () => {
  const value = { a: 1, b: [true, null, "x", { c: [1.5, -2] }], d: {} };
  const encoded = encodeWire(value) as typeof value;
  assert.equal(encoded, value);
  assert.equal(encoded.b, value.b);
});

Deno.test("decodeWire() returns pure JSON as the very same objects, copying nothing", () => {
  const value = JSON.parse('{"a":[1,{"b":"c"}],"d":null}');
  assert.equal(decodeWire(value), value);
});

Deno.test("encodeWire() copies only the path to a value that needs encoding", () => {
  const untouched = { x: [1, 2] };
  const value = { untouched, changed: { n: 1n } };
  const encoded = encodeWire(value) as Record<string, unknown>;
  assert.notEqual(encoded, value);
  assert.equal(encoded.untouched, untouched);
  assert.deepEqual(encoded.changed, { n: [T, "bigint", "1"] });
  assert.deepEqual(value.changed, { n: 1n }, "the input is not mutated");
});

// ---------------------------------------------------------------------------------------------
// Row 50: values JSON cannot carry, encoded per the wire spec

Deno.test("encodeWire() tags bigint, NaN and the infinities (row 50)", () => {
  assert.deepEqual(encodeWire(-12345678901234567890n), [T, "bigint", "-12345678901234567890"]);
  assert.deepEqual(encodeWire(NaN), [T, "nan"]);
  assert.deepEqual(encodeWire(Infinity), [T, "inf"]);
  assert.deepEqual(encodeWire(-Infinity), [T, "-inf"]);
});

Deno.test("encodeWire() tags undefined in arrays and drops undefined object fields", () => {
  assert.deepEqual(encodeWire([1, undefined, 3]), [1, [T, "undefined"], 3]);
  // deno-lint-ignore no-sparse-arrays
  assert.deepEqual(encodeWire([1, , 3]), [1, [T, "undefined"], 3]);
  assert.deepEqual(encodeWire({ a: 1, b: undefined, c: 2 }), { a: 1, c: 2 });
  assert.deepEqual(encodeWire(undefined), [T, "undefined"]);
});

Deno.test("encodeWire() tags a Date by its epoch, an invalid Date with the nan tag (row 50)", () => {
  assert.deepEqual(encodeWire(new Date(1700000000000)), [T, "date", 1700000000000]);
  assert.deepEqual(encodeWire(new Date(Number.NaN)), [T, "date", [T, "nan"]]);
});

Deno.test("encodeWire() tags a URL by its href", () => {
  assert.deepEqual(encodeWire(new URL("https://a.example/x?y=1")), [
    T,
    "url",
    "https://a.example/x?y=1",
  ]);
});

Deno.test("encodeWire() tags Map and Set, recursing into entries (row 50)", () => {
  const map = new Map<unknown, unknown>([["a", 1], [2n, new Set([undefined, NaN])]]);
  assert.deepEqual(encodeWire(map), [
    T,
    "map",
    [["a", 1], [[T, "bigint", "2"], [T, "set", [[T, "undefined"], [T, "nan"]]]]],
  ]);
});

Deno.test("encodeWire() tags a Uint8Array without a constructor name (row 50)", () => {
  assert.deepEqual(encodeWire(new Uint8Array([1, 2, 3])), [T, "bytes", "AQID"]);
});

Deno.test("encodeWire() tags an ArrayBuffer and other typed arrays with their constructor", () => {
  assert.deepEqual(encodeWire(new Uint8Array([1, 2, 3]).buffer), [
    T,
    "bytes",
    "AQID",
    "ArrayBuffer",
  ]);
  assert.deepEqual(encodeWire(new Float32Array([1.5])), [T, "bytes", "AADAPw==", "Float32Array"]);
  assert.deepEqual(encodeWire(new Uint8ClampedArray([1, 2, 3])), [
    T,
    "bytes",
    "AQID",
    "Uint8ClampedArray",
  ]);
});

Deno.test("encodeWire() encodes only the bytes a typed-array view covers", () => {
  const buffer = new Uint8Array([9, 1, 2, 3, 9]).buffer;
  assert.deepEqual(encodeWire(new Uint8Array(buffer, 1, 3)), [T, "bytes", "AQID"]);
});

Deno.test("encodeWire() tags an Error with name, message, own props and cause, never the stack", () => {
  const error = Object.assign(new TypeError("bad", { cause: new Error("inner") }), {
    code: "E_BAD",
    amount: 5n,
  });
  const encoded = encodeWire(error);
  assert.deepEqual(encoded, [
    T,
    "error",
    "TypeError",
    "bad",
    { code: "E_BAD", amount: [T, "bigint", "5"] },
    [T, "error", "Error", "inner", {}],
  ]);
  assert.ok(!JSON.stringify(encoded).includes("codec_test"), "no stack trace on the wire");
});

Deno.test("encodeWire() escapes a user array whose first element is the tag", () => {
  assert.deepEqual(encodeWire([T, "bigint", "1"]), [T, "arr", [T, "bigint", "1"]]);
  assert.deepEqual(roundTrip([T, "bigint", 1n]), [T, "bigint", 1n]);
  assert.deepEqual(roundTrip([T]), [T]);
});

Deno.test("encodeWire() rejects a class instance with a TypeError naming the class (row 50)", () => {
  class Point {
    constructor(readonly x: number) {}
  }
  assert.throws(() => encodeWire({ at: new Point(1) }), {
    name: "TypeError",
    message:
      'Cannot encode wire value: an instance of "Point" is not plain data (use a plain object)',
  });
});

Deno.test("encodeWire() rejects functions, symbols and other non-plain objects", () => {
  for (
    const value of [
      () => 1,
      Symbol("s"),
      /re/,
      new DataView(new ArrayBuffer(2)),
      new WeakMap(),
      Promise.resolve(1),
      new String("boxed"),
      Object.create({ inherited: true }),
    ]
  ) {
    assert.throws(() => encodeWire({ value }), TypeError, String(value));
  }
});

Deno.test("encodeWire() rejects a cyclic object with a clear TypeError (row 50)", () => {
  const cyclic: Record<string, unknown> = { name: "a" };
  cyclic.self = cyclic;
  assert.throws(() => encodeWire(cyclic), {
    name: "TypeError",
    message: "Cannot encode wire value: it contains a cycle (an object refers to itself)",
  });
});

Deno.test("encodeWire() detects cycles through arrays, Maps and error causes", () => {
  const list: unknown[] = [];
  list.push(list);
  const map = new Map<string, unknown>();
  map.set("me", map);
  const error = new Error("loop");
  error.cause = error;
  for (const value of [list, map, error]) assert.throws(() => encodeWire(value), /cycle/);
});

Deno.test("encodeWire() encodes an object shared by two fields twice (not a cycle)", () => {
  const shared = { n: 1n };
  assert.deepEqual(roundTrip({ a: shared, b: shared }), { a: { n: 1n }, b: { n: 1n } });
});

Deno.test("encodeWire() keeps a __proto__ key as an own field when it copies", () => {
  const value = JSON.parse('{"__proto__":{"isAdmin":true},"n":1}');
  value.n = 1n;
  const encoded = encodeWire(value) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(encoded), Object.prototype);
  assert.ok(Object.hasOwn(encoded, "__proto__"));
  assert.equal(
    JSON.stringify(encoded),
    '{"__proto__":{"isAdmin":true},"n":["$lunora.wire$","bigint","1"]}',
  );
  assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
});

// ---------------------------------------------------------------------------------------------
// Round trips

Deno.test("decodeWire() revives every tagged form", () => {
  const error = Object.assign(new RangeError("too far"), { code: "E_FAR" });
  const value = {
    big: 2n ** 80n,
    nums: [NaN, Infinity, -Infinity, undefined, 1.5],
    when: new Date(5),
    link: new URL("https://a.example/"),
    map: new Map<unknown, unknown>([[1n, "one"], [new Date(0), ["x"]]]),
    set: new Set(["a", 1]),
    bytes: new Uint8Array([0, 255]),
    buffer: new Uint8Array([7]).buffer,
    floats: new Float64Array([1.25, -2]),
    wide: new BigInt64Array([-1n]),
    error,
  };
  const { error: backError, ...back } = roundTrip(value) as typeof value;
  const { error: _sent, ...sent } = value;
  assert.deepEqual(back, sent);
  // Errors are compared field by field: the decoded one has its own (local) stack.
  assert.ok(backError instanceof RangeError);
  assert.equal(backError.message, "too far");
  assert.equal(backError.code, "E_FAR");
  assert.ok(Number.isNaN((roundTrip(new Date(Number.NaN)) as Date).getTime()));
  assert.ok(back.buffer instanceof ArrayBuffer);
  assert.ok(back.floats instanceof Float64Array);
});

Deno.test("decodeWire() keeps an Error's custom name without making it enumerable", () => {
  const back = decodeWire([T, "error", "LunoraError", "nope", { code: "X" }, null]) as Error;
  assert.ok(back instanceof Error);
  assert.equal(back.name, "LunoraError");
  assert.deepEqual(Object.keys(back), ["code"]);
  assert.equal(back.cause, null);
  assert.deepEqual(encodeWire(back), [T, "error", "LunoraError", "nope", { code: "X" }, null]);
});

Deno.test("wire values round-trip through JSON text (property)", () => {
  const leaf = fc.oneof(
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.double().map((number) => (number === 0 ? 0 : number)), // JSON has no -0
    fc.bigInt(),
    fc.date({ noInvalidDate: true }), // Node's deepStrictEqual finds two invalid Dates unequal
    fc.uint8Array(),
    fc.float64Array(),
    fc.constant(T),
  );
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: "small" }, leaf, tie("array"), tie("object"), tie("map")),
    array: fc.array(fc.oneof(tie("value"), fc.constant(undefined)), { maxLength: 4 }),
    object: fc.dictionary(fc.string(), tie("value"), { maxKeys: 4, noNullPrototype: true }),
    map: fc.array(fc.tuple(fc.string(), tie("value")), { maxLength: 3 }).map((entries) =>
      new Map(entries)
    ),
  }));
  fc.assert(
    fc.property(value, (input) => {
      assert.deepEqual(roundTrip(input), input);
    }),
    { numRuns: 300 },
  );
});

// ---------------------------------------------------------------------------------------------
// Decoding untrusted input

Deno.test("decodeWire() keeps unknown tags and a lone tag as plain arrays", () => {
  assert.deepEqual(decodeWire([T, "futuretag", [T, "bigint", "1"]]), [T, "futuretag", 1n]);
  assert.deepEqual(decodeWire([T]), [T]);
  assert.deepEqual(decodeWire([T, 7]), [T, 7]);
});

Deno.test("decodeWire() decodes an unknown typed-array name to a Uint8Array", () => {
  const back = decodeWire([T, "bytes", "AQID", "Complex128Array"]);
  assert.ok(back instanceof Uint8Array);
  assert.deepEqual([...(back as Uint8Array)], [1, 2, 3]);
  assert.ok(decodeWire([T, "bytes", "AQID", "constructor"]) instanceof Uint8Array);
});

Deno.test("decodeWire() collapses duplicate Map keys and Set items", () => {
  const map = decodeWire([T, "map", [["a", 1], ["b", 2], ["a", 3], [0, "z"], [-0, "y"]]]);
  assert.deepEqual(map, new Map<unknown, unknown>([["a", 3], ["b", 2], [0, "y"]]));
  const set = decodeWire([T, "set", [1, 1, [T, "bigint", "2"], [T, "bigint", "02"]]]);
  assert.deepEqual(set, new Set([1, 2n]));
});

Deno.test("decodeWire() applies the Date epoch rules of new Date()", () => {
  assert.equal((decodeWire([T, "date", 1.9]) as Date).getTime(), 1);
  assert.ok(Number.isNaN((decodeWire([T, "date", 1e300]) as Date).getTime()));
  assert.ok(Number.isNaN((decodeWire([T, "date", [T, "inf"]]) as Date).getTime()));
});

Deno.test("decodeWire() rejects malformed tags with a TypeError", () => {
  const malformed: unknown[] = [
    [T, "bigint"],
    [T, "bigint", 7],
    [T, "bigint", ""],
    [T, "bigint", "+5"],
    [T, "bigint", "1.5"],
    [T, "bigint", " 7 "],
    [T, "bigint", "0x10"],
    [T, "bigint", "\u0663"],
    [T, "date"],
    [T, "date", null],
    [T, "date", "2020-01-01"],
    [T, "date", true],
    [T, "date", [T, "bigint", "1"]],
    [T, "url"],
    [T, "url", ["https://a.example/"]],
    [T, "url", "/relative"],
    [T, "map"],
    [T, "map", "xx"],
    [T, "map", ["ab"]],
    [T, "map", [["a"]]],
    [T, "map", [["k", "v", "extra"]]],
    [T, "set"],
    [T, "set", "xx"],
    [T, "set", {}],
    [T, "arr"],
    [T, "arr", {}],
    [T, "bytes", null],
    [T, "bytes", 1234],
    [T, "error", "Error", "boom"],
    [T, "error", "Error", "boom", null],
    [T, "error", "Error", "boom", "ab"],
    [T, "error", "Error", "boom", []],
    [T, "error", 1, "boom", {}],
  ];
  for (const value of malformed) {
    assert.throws(() => decodeWire(value), TypeError, JSON.stringify(value));
  }
});

Deno.test("decodeWire() accepts only canonical base64", () => {
  for (const text of ["not@@base64!!", "AQIDA", "AQ=ID", "AQJ=", "AQI", "AQ ID", "AQ==\n"]) {
    assert.throws(() => decodeWire([T, "bytes", text]), {
      name: "TypeError",
      message:
        'Cannot decode wire value: malformed "bytes" tag: the payload is not canonical base64',
    }, text);
  }
  assert.deepEqual([...(decodeWire([T, "bytes", "AQI="]) as Uint8Array)], [1, 2]);
  assert.equal((decodeWire([T, "bytes", ""]) as Uint8Array).length, 0);
});

Deno.test("decodeWire() rejects typed-array bytes that are not whole elements with a RangeError", () => {
  assert.throws(() => decodeWire([T, "bytes", "AQID", "Float32Array"]), RangeError);
  assert.throws(() => decodeWire([T, "bytes", "AQ==", "Int16Array"]), RangeError);
});

Deno.test(`decodeWire() refuses a bigint of more than ${MAX_BIGINT_DIGITS} digits with a RangeError`, () => {
  const limit = "9".repeat(MAX_BIGINT_DIGITS);
  assert.equal(decodeWire([T, "bigint", `-${limit}`]), -BigInt(limit));
  assert.throws(() => decodeWire([T, "bigint", `${limit}9`]), {
    name: "RangeError",
    message: 'Cannot decode wire value: "bigint" tag has 1025 digits, more than 1024',
  });
});

Deno.test("decodeWire() rejects values that are not JSON data", () => {
  for (const value of [undefined, () => 1, 1n, new Date(0), { at: new Map() }]) {
    assert.throws(() => decodeWire(value), TypeError);
  }
});

Deno.test("decodeWire() makes __proto__ keys own data properties and pollutes nothing", () => {
  const parsed = JSON.parse(
    '{"__proto__":{"isAdmin":true},"n":["$lunora.wire$","bigint","1"],' +
      '"inner":{"__proto__":{"polluted":1},"d":["$lunora.wire$","date",0]},' +
      '"e":["$lunora.wire$","error","Error","m",{"__proto__":{"hacked":true}}]}',
  );
  const value = decodeWire(parsed) as Record<string, Record<string, unknown>>;
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(value, "__proto__")?.value, { isAdmin: true });
  assert.equal(value.isAdmin, undefined);
  assert.equal(Object.getPrototypeOf(value.inner), Object.prototype);
  assert.ok(Object.hasOwn(value.inner!, "__proto__"));
  assert.equal(Object.getPrototypeOf(value.e), Error.prototype);
  assert.ok(Object.hasOwn(value.e!, "__proto__"));
  assert.equal(value.e!.hacked, undefined);
  const probe: Record<string, unknown> = {};
  assert.equal(probe.isAdmin, undefined);
  assert.equal(probe.polluted, undefined);
  assert.equal(probe.hacked, undefined);
});

// ---------------------------------------------------------------------------------------------
// Row 51: depth

Deno.test(`encodeWire() and decodeWire() accept exactly ${MAX_WIRE_DEPTH} levels of nesting`, () => {
  const deepest = nest(MAX_WIRE_DEPTH, 1);
  assert.deepEqual(roundTrip(deepest), deepest);
  assert.throws(() => encodeWire(nest(MAX_WIRE_DEPTH + 1, 1)), {
    name: "RangeError",
    message: "Cannot encode wire value: nesting is deeper than 64 levels",
  });
  assert.throws(() => decodeWire(nest(MAX_WIRE_DEPTH + 1, 1)), {
    name: "RangeError",
    message: "Cannot decode wire value: nesting is deeper than 64 levels",
  });
});

Deno.test("1,000 nested arrays give a RangeError, never a stack overflow (row 51)", () => {
  const deep = nest(1000, "x");
  assert.throws(() => encodeWire(deep), RangeError);
  assert.throws(() => decodeWire(deep), RangeError);
  assert.throws(() => parseWire("[".repeat(1000) + "]".repeat(1000)), RangeError);
});

Deno.test("100,000 nested arrays or objects still give a RangeError (row 51)", () => {
  assert.throws(() => parseWire("[".repeat(100_000) + "]".repeat(100_000)), RangeError);
  assert.throws(() => parseWire('{"a":'.repeat(100_000) + "1" + "}".repeat(100_000)), RangeError);
  assert.throws(() => decodeWire(nest(100_000, [T, "set", []])), RangeError);
});

Deno.test("nesting counts through tags: deep Maps and Sets hit the limit too", () => {
  let value: unknown = 1;
  for (let index = 0; index < 100; index++) value = new Set([value]);
  assert.throws(() => encodeWire(value), RangeError);
  let wire: unknown = 1;
  for (let index = 0; index < 100; index++) wire = [T, "map", [["k", wire]]];
  assert.throws(() => decodeWire(wire), RangeError);
});

// ---------------------------------------------------------------------------------------------
// Text helpers

Deno.test("stringifyWire() and parseWire() are JSON text around the codec", () => {
  assert.equal(stringifyWire({ n: 1n }), '{"n":["$lunora.wire$","bigint","1"]}');
  assert.deepEqual(parseWire('{"n":["$lunora.wire$","bigint","1"]}'), { n: 1n });
  assert.throws(() => parseWire("{"), SyntaxError);
});

Deno.test("decodeWire() throws only TypeError, RangeError or SyntaxError on arbitrary input (property)", () => {
  const tagged = fc.tuple(fc.constant(T), fc.string(), fc.array(fc.jsonValue(), { maxLength: 3 }))
    .map(([tag, name, rest]) => [tag, name, ...rest]);
  const known = fc.tuple(
    fc.constant(T),
    fc.constantFrom(
      "bigint",
      "nan",
      "inf",
      "-inf",
      "undefined",
      "date",
      "url",
      "map",
      "set",
      "bytes",
      "error",
      "arr",
    ),
    fc.array(fc.oneof(fc.jsonValue(), fc.string(), fc.integer()), { maxLength: 4 }),
  ).map(([tag, name, rest]) => [tag, name, ...rest]);
  const input = fc.oneof(fc.jsonValue(), tagged, known, fc.array(known, { maxLength: 3 }));
  fc.assert(
    fc.property(input, (value) => {
      try {
        decodeWire(value);
      } catch (error) {
        assert.ok(
          error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError,
          `unexpected ${String(error)}`,
        );
      }
    }),
    { numRuns: 2000 },
  );
});

Deno.test("parseWire() throws only SyntaxError, TypeError or RangeError on arbitrary text and pollutes nothing (property)", () => {
  const wireText = fc.oneof(
    fc.string(),
    fc.jsonValue().map((value) => JSON.stringify(value)),
    fc.constantFrom(
      '{"__proto__":{"polluted":1}}',
      `[${JSON.stringify(T)},"map",[["__proto__",{"polluted":1}]]]`,
      `{"a":[${JSON.stringify(T)},"error","Error","m",{"__proto__":{"polluted":1}}]}`,
      `[${JSON.stringify(T)},"bigint","${"9".repeat(2000)}"]`,
      `[${JSON.stringify(T)},"bytes","not base64!"]`,
    ),
    // Valid wire text cut short or with a character replaced.
    fc.tuple(fc.jsonValue(), fc.nat(), fc.string({ maxLength: 1 })).map(([value, at, char]) => {
      const text = stringifyWire([T, "map", [["k", value]]]);
      const cut = at % (text.length + 1);
      return text.slice(0, cut) + char + text.slice(cut + 1);
    }),
  );
  fc.assert(
    fc.property(wireText, (text) => {
      try {
        parseWire(text);
      } catch (error) {
        assert.ok(
          error instanceof SyntaxError || error instanceof TypeError || error instanceof RangeError,
          `unexpected ${String(error)} for ${text}`,
        );
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    }),
    { numRuns: 2000 },
  );
});
