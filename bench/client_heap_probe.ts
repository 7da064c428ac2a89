/**
 * Heap per live subscription: one client, one socket, 1,000 stores of distinct queries, each
 * listened to and holding a one-row value. Prints `{"bytesPerSubscription": n}`. Run with
 * `--v8-flags=--expose-gc` (`deno task bench` does).
 *
 * @module
 */
import { loadEngine } from "../src/client/lunora_client.ts";
import { liveClient } from "../tests/_fakes.ts";
import { listRows } from "./_fixtures.ts";

const COUNT = 1_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("Run with --v8-flags=--expose-gc");

await loadEngine();
const { client, sockets } = liveClient();
const warm = client.liveQuery({ __lunoraRef: "messages:list" }, { channelId: "warm" });
warm.listen(() => {});
sockets.last().open();
const row = listRows(1);
gc();
const before = Deno.memoryUsage().heapUsed;
const kept = [];
for (let i = 0; i < COUNT; i++) {
  const store = client.liveQuery({ __lunoraRef: "messages:list" }, { channelId: `c${i}` });
  store.listen(() => {});
  kept.push(store);
  sockets.last().push({ type: "data", id: `sub_${i + 2}`, data: row, cursor: i });
}
gc();
const after = Deno.memoryUsage().heapUsed;
console.log(JSON.stringify({ bytesPerSubscription: Math.round((after - before) / COUNT) }));
client.close();
if (kept.length !== COUNT) throw new Error("unreachable");
