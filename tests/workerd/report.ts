/**
 * What a run on workerd reports: named checks with pass/fail and timing, timed steps, and the
 * closing `N passed, M failed` line that `deno task test` reads.
 *
 * @module
 */
import type { Server } from "./example_app.ts";

/** Thrown by {@linkcode Report.step} after it recorded the failure. */
export class StepFailed extends Error {
  override name = "StepFailed";
}

/** One recorded check or step. */
export interface Outcome {
  name: string;
  ok: boolean;
  seconds: number;
  detail?: string;
}

/** Collects check results and step timings; prints as it goes. */
export class Report {
  readonly checks: Outcome[] = [];
  readonly steps: Outcome[] = [];

  /** Runs `fn` as a check: a throw (or a `false` result) fails it, with the reason printed. */
  async check(name: string, fn: () => Promise<unknown> | unknown): Promise<boolean> {
    const started = performance.now();
    let ok = true;
    let detail: string | undefined;
    try {
      const result = await fn();
      if (result === false) {
        ok = false;
        detail = "returned false";
      } else if (typeof result === "string") {
        detail = result;
      }
    } catch (error) {
      ok = false;
      detail = error instanceof Error ? error.message : String(error);
    }
    const seconds = (performance.now() - started) / 1000;
    this.checks.push({ name, ok, seconds, detail });
    const suffix = detail ? (ok ? ` - ${detail}` : `\n       ${detail}`) : "";
    console.log(`${ok ? "ok  " : "FAIL"} ${name} (${seconds.toFixed(1)} s)${suffix}`);
    return ok;
  }

  /** Runs `fn` as a timed step; a throw is recorded as a failed check, then `StepFailed`. */
  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    console.log(`\n--- ${name}`);
    const started = performance.now();
    try {
      const value = await fn();
      this.steps.push({ name, ok: true, seconds: (performance.now() - started) / 1000 });
      return value;
    } catch (error) {
      const seconds = (performance.now() - started) / 1000;
      const detail = error instanceof Error ? error.message : String(error);
      this.steps.push({ name, ok: false, seconds, detail });
      this.checks.push({ name: `step: ${name}`, ok: false, seconds, detail });
      console.log(`FAIL step ${name} (${seconds.toFixed(1)} s)\n       ${detail}`);
      throw new StepFailed(detail, { cause: error });
    }
  }

  /** Prints the step timings and the closing `N passed, M failed` line; returns the failures. */
  summary(): number {
    console.log("\nWall time per step:");
    for (const step of this.steps) {
      console.log(
        `  ${step.seconds.toFixed(1).padStart(7)} s  ${step.ok ? "" : "FAILED "}${step.name}`,
      );
    }
    const failed = this.checks.filter((check) => !check.ok);
    if (failed.length > 0) {
      console.log("\nFailed checks:");
      for (const check of failed) console.log(`  - ${check.name}: ${check.detail ?? ""}`);
    }
    const passed = this.checks.length - failed.length;
    console.log(`\n${passed} passed, ${failed.length} failed`);
    return failed.length;
  }
}

/** Throws `message` unless `condition` holds. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/**
 * Runs a test script's `main` to the end: a failed step is already recorded, any other error is
 * recorded as the failed check `name`; then `cleanup` runs, the summary with its closing
 * `N passed, M failed` line is printed, and the process exits (1 when a check failed).
 */
export async function runScript(
  report: Report,
  name: string,
  main: () => Promise<void>,
  cleanup: () => Promise<void>,
): Promise<never> {
  let failed = 1;
  try {
    await main();
  } catch (error) {
    if (!(error instanceof StepFailed)) {
      await report.check(name, () => {
        throw error;
      });
    }
  } finally {
    await cleanup();
    failed = report.summary();
  }
  Deno.exit(failed > 0 ? 1 : 0);
}

/** What the checks share. */
export interface CheckContext {
  report: Report;
  server: Server;
  adminToken: string;
  /** The channel (and shard key) the checks write to. */
  channel: string;
  /** Prefix of every check name, e.g. `"chat"`. */
  label: string;
}

/** Runs a check named `<label>: <name>`. */
export function check(
  ctx: Pick<CheckContext, "report" | "label">,
  name: string,
  fn: () => Promise<unknown> | unknown,
): Promise<boolean> {
  return ctx.report.check(`${ctx.label}: ${name}`, fn);
}
