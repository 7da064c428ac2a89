/**
 * The wire codec on a realistic query result (100 message rows of pure JSON data) against
 * plain `JSON.stringify`/`JSON.parse` of the same value, plus the same rows carrying values
 * JSON cannot (a `Date` and a `bigint` per row) for scale.
 *
 *   deno bench bench/codec_bench.ts
 *
 * @module
 */
import { decodeWire, encodeWire } from "../src/wire/codec.ts";
import { messageRows } from "./_fixtures.ts";

const rows = messageRows(100);
const result = { viewer: null, messages: rows, cursor: "msg_000099", done: false };
const text = JSON.stringify(result);
if (JSON.stringify(encodeWire(result)) !== text) {
  throw new Error("bench setup: pure JSON must encode byte-identically");
}

const options = { n: 20_000, warmup: 2_000 };

Deno.bench("JSON.stringify", { group: "encode 100 rows", baseline: true, ...options }, () => {
  JSON.stringify(result);
});
Deno.bench("JSON.stringify(encodeWire())", { group: "encode 100 rows", ...options }, () => {
  JSON.stringify(encodeWire(result));
});

Deno.bench("JSON.parse", { group: "decode 100 rows", baseline: true, ...options }, () => {
  JSON.parse(text);
});
Deno.bench("decodeWire(JSON.parse())", { group: "decode 100 rows", ...options }, () => {
  decodeWire(JSON.parse(text));
});

// Values JSON cannot carry: every row holds a Date and a bigint, so every row is copied.
const rich = {
  ...result,
  messages: rows.map((row) => ({ ...row, at: new Date(row.createdAt), seq: BigInt(row.likes) })),
};
const richText = JSON.stringify(encodeWire(rich));

Deno.bench("JSON.stringify (pure rows)", {
  group: "tagged 100 rows",
  baseline: true,
  ...options,
}, () => {
  JSON.stringify(result);
});
Deno.bench("JSON.stringify(encodeWire()) with Date + bigint", {
  group: "tagged 100 rows",
  ...options,
}, () => {
  JSON.stringify(encodeWire(rich));
});
Deno.bench("decodeWire(JSON.parse()) with Date + bigint", {
  group: "tagged 100 rows",
  ...options,
}, () => {
  decodeWire(JSON.parse(richText));
});
