import assert from "node:assert/strict";
import { dedupKey, stableWireKey } from "../src/client/stable_wire_key.ts";

Deno.test("stableWireKey() is the same for objects that differ only in key order", () => {
  assert.equal(
    stableWireKey({ b: 1, a: { d: [1, { z: 0, y: 1 }], c: 2 } }),
    stableWireKey({ a: { c: 2, d: [1, { y: 1, z: 0 }] }, b: 1 }),
  );
});

Deno.test("stableWireKey() sorts keys by UTF-16 code unit", () => {
  assert.equal(stableWireKey({ b: 1, B: 2, "\u00e9": 3, a: 4 }), '{"B":2,"a":4,"b":1,"é":3}');
});

Deno.test("stableWireKey() tells wire values apart that JSON would confuse", () => {
  assert.notEqual(stableWireKey({ n: 1n }), stableWireKey({ n: "1" }));
  assert.notEqual(stableWireKey({ d: new Date(5) }), stableWireKey({ d: 5 }));
});

Deno.test("dedupKey() is functionPath::args::shardKey, the shard empty for the default", () => {
  assert.equal(dedupKey("messages:list", { c: "g" }, undefined), 'messages:list::{"c":"g"}::');
  assert.equal(dedupKey("messages:list", { c: "g" }, "g"), 'messages:list::{"c":"g"}::g');
});

Deno.test("stableWireKey() keeps a __proto__ key as data and touches no prototype", () => {
  const args = JSON.parse('{"__proto__":{"polluted":1},"a":1}');
  assert.equal(stableWireKey(args), '{"__proto__":{"polluted":1},"a":1}');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});
