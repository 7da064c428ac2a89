/**
 * What a workerd isolate retains, read over its inspector (the DevTools Protocol): the JS heap
 * in use, and how many `Request` objects are alive after a full garbage collection. The count
 * is the direct check a leak cannot hide from: at rest, with no request in flight, a worker
 * that keeps nothing holds no `Request`, whatever the process's allocator does.
 *
 * @module
 */
import { Inspector } from "../inspector.ts";
import { waitFor } from "../process.ts";

/** What a full garbage collection left in the isolate. */
export interface Retained {
  /** `Request` objects alive (instances of the isolate's `Request.prototype`). */
  requests: number;
  /** The JS heap in use right after that collection, in MiB. */
  heapMiB: number;
}

async function heapUsage(inspector: Inspector): Promise<number> {
  const { usedSize } = await inspector.send<{ usedSize: number }>("Runtime.getHeapUsage");
  return usedSize / 1_048_576;
}

/**
 * The JS heap in use, in MiB (`Runtime.getHeapUsage`), of the isolate behind the inspector
 * WebSocket `url`, as it is: no collection is forced, so it swings with the garbage not yet
 * collected. workerd takes one session at a time, so every reading opens and closes its own.
 */
export async function heapInUseMiB(url: string): Promise<number> {
  const inspector = await Inspector.open(url);
  try {
    return await heapUsage(inspector);
  } finally {
    await inspector.close();
  }
}

/**
 * Counts the live `Request` objects of the isolate behind the inspector WebSocket `url` with
 * `Runtime.queryObjects`, which collects all garbage first (workerd does not answer
 * `HeapProfiler.collectGarbage`), then reads the heap in use.
 *
 * The reading has a session of its own, closed after it (workerd takes one session at a time,
 * and a session kept open would grow the heap it measures): enabling the Runtime domain replays
 * the console messages the isolate stores (the last thousand `console.error` calls, with their
 * arguments) into the session, and a session kept open would hold each replay with each
 * reading.
 */
export async function retained(url: string): Promise<Retained> {
  const inspector = await Inspector.open(url);
  const contexts: string[] = [];
  const off = inspector.on<{ context: { uniqueId: string } }>(
    "Runtime.executionContextCreated",
    ({ context }) => contexts.push(context.uniqueId),
  );
  const objectGroup = "lunora-soak-retained";
  try {
    await inspector.send("Runtime.enable");
    const uniqueContextId = await waitFor(
      "the worker's execution context",
      () => contexts[0],
      10_000,
      20,
    );
    const prototype = await inspector.send<{ result: { objectId?: string } }>(
      "Runtime.evaluate",
      { expression: "Request.prototype", uniqueContextId, objectGroup },
    );
    const prototypeObjectId = prototype.result.objectId;
    if (prototypeObjectId === undefined) throw new Error("No Request.prototype in the isolate");
    const found = await inspector.send<{ objects: { objectId: string } }>(
      "Runtime.queryObjects",
      { prototypeObjectId, objectGroup },
      120_000,
    );
    const length = await inspector.send<{ result: { value: number } }>(
      "Runtime.callFunctionOn",
      {
        objectId: found.objects.objectId,
        functionDeclaration: "function () { return this.length; }",
        returnByValue: true,
      },
    );
    const heapMiB = await heapUsage(inspector);
    return { requests: length.result.value, heapMiB };
  } finally {
    off();
    await inspector.send("Runtime.releaseObjectGroup", { objectGroup }).catch(() => {});
    await inspector.close();
  }
}
