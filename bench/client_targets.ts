/**
 * The browser client's heap figure for `deno task bench`: the heap probe, run in its own process
 * with `--expose-gc`. The client's timing targets (`client_bench.ts`) are ratios in `run.ts`
 * like every other; `./client`'s size budget is checked with the others (`SIZE_BUDGETS`).
 *
 * @module
 */

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
