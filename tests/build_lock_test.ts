import assert from "node:assert/strict";
import { join } from "node:path";
import { processAlive, withBuildLock } from "../scripts/npm/build_lock.ts";

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true", { stdout: "null", stderr: "null" }).spawn();
  await child.status;
  return child.pid;
}

/** A lock file in a new directory, holding `pid`. */
function lockHeldBy(pid: number): string {
  const lock = join(Deno.makeTempDirSync(), "build-npm.lock");
  Deno.writeTextFileSync(lock, String(pid));
  return lock;
}

Deno.test("withBuildLock() takes over a lock whose holder has exited", async () => {
  const lock = lockHeldBy(await deadPid());
  const messages: string[] = [];
  const seen = await withBuildLock(lock, () => Promise.resolve(Deno.readTextFileSync(lock)), {
    waitMs: 5_000,
    pollMs: 50,
    log: (message) => messages.push(message),
  });
  assert.equal(seen, String(Deno.pid), "the lock names this process while fn runs");
  assert.deepEqual(messages, [], "nothing is waited for");
  assert.throws(() => Deno.statSync(lock), Deno.errors.NotFound, "the lock is removed after");
});

Deno.test("withBuildLock() waits for a running holder and gives up after waitMs", async () => {
  const holder = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    const lock = lockHeldBy(holder.pid);
    const messages: string[] = [];
    let ran = false;
    await assert.rejects(
      withBuildLock(lock, () => Promise.resolve(ran = true), {
        waitMs: 300,
        pollMs: 50,
        log: (message) => messages.push(message),
      }),
      { message: `Another build:npm (pid ${holder.pid}) holds ${lock}` },
    );
    assert.equal(ran, false);
    assert.deepEqual(messages, [`waiting for another build:npm (pid ${holder.pid}) to finish`]);
    assert.equal(Deno.readTextFileSync(lock), String(holder.pid), "the holder keeps its lock");
  } finally {
    holder.kill("SIGKILL");
    await holder.status;
  }
});

Deno.test("withBuildLock() takes over a lock naming this process's pid, left by an earlier one", async () => {
  const lock = lockHeldBy(Deno.pid);
  assert.equal(await withBuildLock(lock, () => Promise.resolve("built"), { waitMs: 300 }), "built");
});

Deno.test("processAlive() tells a running process from one that has exited", async () => {
  assert.equal(await processAlive(Deno.pid), true);
  assert.equal(await processAlive(await deadPid()), false);
});
