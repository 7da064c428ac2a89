/**
 * The browser client (`@lunora/astro/client`) against a scripted socket: one push fanned out to
 * 100 stores of one query against the same push to one store (the cost per store), and one
 * insert `delta` merged into a 1,000-row list against a full snapshot of that list (frame
 * parsed, decoded and shown). Heap per subscription is measured apart, in
 * `client_heap_probe.ts` (it needs `--expose-gc`).
 *
 *   deno bench bench/client_bench.ts
 *
 * @module
 */
import { install as installFakeTimers } from "@sinonjs/fake-timers";
import { loadEngine } from "../src/client/lunora_client.ts";
import { liveClient } from "../tests/_fakes.ts";
import { listRows } from "./_fixtures.ts";

await loadEngine();
// The sockets' timers (ping, watchdog) never fire during a bench and never hold the process.
installFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });

const options = { n: 1_000, warmup: 100 };

/** A client on one socket with `stores` listened-to stores of `messages:list`. */
function page(stores: number) {
  const { client, sockets } = liveClient();
  for (let i = 0; i < stores; i++) {
    client.liveQuery({ __lunoraRef: "messages:list" }, { channelId: "general" }).listen(() => {});
  }
  sockets.last().open();
  return sockets.last();
}

// Fan-out: the same 20-row push; every store is notified (a new value each time).
const twenty = JSON.stringify({ type: "data", id: "sub_1", data: listRows(20) });
const one = page(1);
const hundred = page(100);
Deno.bench("push to 1 store", { group: "client fan-out", baseline: true, ...options }, () => {
  one.push(twenty);
});
Deno.bench("push to 100 stores of one query", { group: "client fan-out", ...options }, () => {
  hundred.push(twenty);
});

// Delta against snapshot, 1,000 rows held.
const rows = listRows(1_000);
const snapshot = JSON.stringify({ type: "data", id: "sub_1", data: rows, cursor: 1 });
const held = page(1);
held.push(snapshot);
const middle = rows[500]!;
const inserted = { ...middle, _id: "new", id: "new", _creationTime: middle._creationTime + 1 };
const insert = JSON.stringify({
  type: "delta",
  id: "sub_1",
  delta: { key: "new", op: "insert", row: inserted, table: "messages" },
  cursor: 2,
});
const remove = JSON.stringify({
  type: "delta",
  id: "sub_1",
  delta: { key: "new", op: "delete", table: "messages" },
  cursor: 3,
});
Deno.bench("snapshot of 1,000 rows", { group: "client delta", baseline: true, ...options }, () => {
  held.push(snapshot);
});
Deno.bench("insert delta + delete delta, 1,000 rows", { group: "client delta", ...options }, () => {
  held.push(insert);
  held.push(remove);
});
