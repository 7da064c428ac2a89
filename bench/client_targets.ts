/**
 * The browser client's targets for `deno task bench`, from `client_bench.ts` (p75 times: the
 * client benches are short, and a garbage collection in one sample moves an average) and the
 * heap probe, run in its own process with `--expose-gc`. `./client`'s size budget is checked
 * with the others (`SIZE_BUDGETS`).
 *
 * @module
 */

/** One measured bench, as `bench/run.ts` collects it. */
export interface ClientBenchRow {
  group: string;
  name: string;
  avg: number;
  p75: number;
}

/** One target line. */
export interface ClientTarget {
  what: string;
  value: string;
  goal: string;
  met: boolean;
}

const probe = new URL("./client_heap_probe.ts", import.meta.url).pathname;

/** Heap bytes per subscription with 1,000 subscriptions on one socket (its own process). */
export async function heapPerSubscription(): Promise<number> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--v8-flags=--expose-gc", "--allow-read", "--allow-env", probe],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (output.code !== 0) {
    throw new Error(`heap probe failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  return (JSON.parse(new TextDecoder().decode(output.stdout)) as { bytesPerSubscription: number })
    .bytesPerSubscription;
}

/** The client's target lines. */
export async function clientTargets(rows: ClientBenchRow[]): Promise<ClientTarget[]> {
  const p75 = (group: string, name: string) => {
    const row = rows.find((r) => r.group === group && r.name === name);
    if (!row) throw new Error(`bench "${name}" in "${group}" is missing`);
    return row.p75;
  };
  const one = p75("client fan-out", "push to 1 store");
  const hundred = p75("client fan-out", "push to 100 stores of one query");
  const perStore = (hundred - one) / 99;
  const snapshot = p75("client delta", "snapshot of 1,000 rows");
  const delta = p75("client delta", "insert delta + delete delta, 1,000 rows") / 2;
  const heap = await heapPerSubscription();
  return [
    {
      what: `client: one push to 100 stores of one query, cost per store ((100 − 1 store) / 99; ${
        (one / 1e3).toFixed(1)
      } µs for 1 store)`,
      value: `${perStore.toFixed(0)} ns`,
      goal: "reported only",
      met: true,
    },
    {
      what: `client: 1,000-row snapshot / one insert delta into it (${
        (snapshot / 1e3).toFixed(1)
      } µs / ${(delta / 1e3).toFixed(1)} µs)`,
      value: `${(snapshot / delta).toFixed(1)}×`,
      goal: "≥ 10×",
      met: snapshot / delta >= 10,
    },
    {
      what: "client: heap per subscription, 1,000 subscriptions on one socket (one-row values)",
      value: `${heap} B`,
      goal: "reported only",
      met: true,
    },
  ];
}
