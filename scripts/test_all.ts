/**
 * The README's test command (`deno task test`): every check a reviewer would run, in order,
 * ending with one plain `N passed, M failed` line that CI reads.
 *
 * Each step is a subprocess; a step that fails does not stop the ones after it, so one run
 * shows everything that is wrong. Test counts come from the steps that run tests (they print
 * `ok | N passed | M failed` like `deno test`, or `N passed, M failed`).
 */

interface Step {
  name: string;
  cmd: string[];
}

const deno = Deno.execPath();
const only = Deno.args; // optional step names to run

const steps: Step[] = [
  { name: "fmt", cmd: [deno, "fmt", "--check"] },
  { name: "lint", cmd: [deno, "lint"] },
  { name: "check", cmd: [deno, "task", "--quiet", "check"] },
  { name: "doc-lint", cmd: [deno, "task", "--quiet", "doc:lint"] },
  { name: "unit", cmd: [deno, "task", "--quiet", "unit"] },
  // The npm package, validated like a published one; writes .out/lunora-astro.tgz.
  { name: "build-npm", cmd: [deno, "task", "--quiet", "build:npm"] },
  // `npx astro add @lunora/astro` on a fresh Astro 7 project against a local verdaccio holding
  // .out/lunora-astro.tgz, its wiring fixes applied, then the worker served (about a minute).
  { name: "astro-add", cmd: [deno, "task", "--quiet", "astro:add"] },
  // The example on workerd and in Chromium; reuses .out/lunora-astro.tgz when it is fresh.
  { name: "e2e", cmd: [deno, "task", "--quiet", "e2e"] },
  // The example on workerd under load, faults and hostile input, a restart, and the package
  // alone on bare workerd beside a hand-written baseline; reuses .out/lunora-astro.tgz when it
  // is fresh.
  { name: "soak", cmd: [deno, "task", "--quiet", "soak"] },
  // astro build + `wrangler deploy --dry-run` of the example, offline: one worker, its bindings.
  { name: "deploy-check", cmd: [deno, "task", "--quiet", "deploy:check"] },
];

let passed = 0;
let failed = 0;
const failures: string[] = [];

for (const step of steps) {
  if (only.length > 0 && !only.includes(step.name)) continue;
  console.log(`\n=== ${step.name}: ${step.cmd.slice(1).join(" ")}`);
  const started = performance.now();
  const child = new Deno.Command(step.cmd[0]!, {
    args: step.cmd.slice(1),
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const decoder = new TextDecoder();
  let tail = "";
  for await (const chunk of child.stdout) {
    const text = decoder.decode(chunk, { stream: true });
    await Deno.stdout.write(chunk);
    tail = (tail + text).slice(-4096);
  }
  const { code } = await child.status;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  // deno-lint-ignore no-control-regex
  const plain = tail.replace(/\x1b\[[0-9;]*m/g, "");
  const counts = [...plain.matchAll(/(\d+) passed[ |,]+(\d+) failed/g)].at(-1);
  if (counts) {
    passed += Number(counts[1]);
    failed += Number(counts[2]);
  }
  if (code !== 0) {
    failures.push(step.name);
    if (!counts || Number(counts[2]) === 0) failed += 1;
  }
  console.log(`=== ${step.name}: ${code === 0 ? "ok" : `FAILED (exit ${code})`} in ${seconds}s`);
}

if (failures.length > 0) console.log(`\nFailed steps: ${failures.join(", ")}`);
console.log(`\n${passed} passed, ${failed} failed`);
Deno.exit(failures.length > 0 ? 1 : 0);
