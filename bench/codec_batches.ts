/**
 * A steadier reading of the codec ratios than Deno.bench averages, which include garbage
 * collection pauses: the best of 40 batches of 300 calls each, for `JSON.stringify` and
 * `JSON.parse` alone and for each codec module given, interleaved in one process.
 *
 *   deno run --allow-read bench/codec_batches.ts [codec module path ...]
 *
 * Without arguments it reads `src/wire/codec.ts`. To compare with another version, pass a copy
 * of that module too (its `./_base64.ts` import pointed at `src/wire/_base64.ts`).
 *
 * @module
 */
import { messageRows } from "./_fixtures.ts";

interface Codec {
  encodeWire(value: unknown): unknown;
  decodeWire(value: unknown): unknown;
}

const paths = Deno.args.length > 0
  ? Deno.args.map((path) => new URL(path, `file://${Deno.cwd()}/`).href)
  : [new URL("../src/wire/codec.ts", import.meta.url).href];
const codecs = await Promise.all(paths.map((path) => import(path) as Promise<Codec>));

const result = { viewer: null, messages: messageRows(100), cursor: "msg_000099", done: false };
const text = JSON.stringify(result);

/** Per row: a label, then the encode and decode work to time. */
const rows: Array<[string, () => unknown, () => unknown]> = [
  ["JSON.stringify / JSON.parse", () => JSON.stringify(result), () => JSON.parse(text)],
  ...codecs.map((codec, index): [string, () => unknown, () => unknown] => [
    paths[index]!.slice(paths[index]!.lastIndexOf("/") + 1),
    () => JSON.stringify(codec.encodeWire(result)),
    () => codec.decodeWire(JSON.parse(text)),
  ]),
];

const BATCHES = 40;
const CALLS = 300;
const best = rows.map(() => [Infinity, Infinity]);
for (let batch = 0; batch < BATCHES; batch++) {
  rows.forEach(([, encode, decode], row) => {
    for (const [side, work] of [[0, encode], [1, decode]] as const) {
      const started = performance.now();
      for (let call = 0; call < CALLS; call++) work();
      const micros = (performance.now() - started) / CALLS * 1000;
      best[row]![side] = Math.min(best[row]![side]!, micros);
    }
  });
}
const [encodeBase, decodeBase] = best[0] as [number, number];
for (const [index, [label]] of rows.entries()) {
  const [encode, decode] = best[index] as [number, number];
  console.log(
    `${label.padEnd(28)} encode ${encode.toFixed(1).padStart(6)} µs (${
      (encode / encodeBase).toFixed(2)
    }×)   decode ${decode.toFixed(1).padStart(6)} µs (${(decode / decodeBase).toFixed(2)}×)`,
  );
}
