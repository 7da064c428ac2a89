/**
 * `Deno.test` for Node: the npm build transpiles the unit tests and runs them with `node --test`
 * against the emitted package; each transpiled test module imports this `Deno` in place of the
 * global. Supports `Deno.test(fn)`, `(name, fn)`, `(name, options, fn)`, `({ name, fn })`,
 * `(options, fn)`, `ignore`, `only`, and `t.step` with the same forms.
 *
 * @module
 */
import { test as nodeTest } from "node:test";

type TestFn = (t: TestContext) => void | Promise<void>;

interface TestDefinition {
  name?: string;
  fn?: TestFn;
  ignore?: boolean;
  only?: boolean;
}

/** The part of `Deno.TestContext` the tests use. */
export interface TestContext {
  name: string;
  step(
    nameOrDefinition: string | TestDefinition | TestFn,
    optionsOrFn?: TestDefinition | TestFn,
    fn?: TestFn,
  ): Promise<boolean>;
}

interface NodeContext {
  test(name: string, options: { skip: boolean }, fn: (t: NodeContext) => Promise<void>): unknown;
}

function normalize(
  first: string | TestDefinition | TestFn,
  second?: TestDefinition | TestFn,
  third?: TestFn,
): Required<Pick<TestDefinition, "name" | "fn">> & TestDefinition {
  let definition: TestDefinition;
  if (typeof first === "function") definition = { name: first.name, fn: first };
  else if (typeof first === "string") {
    definition = typeof second === "function"
      ? { name: first, fn: second }
      : { ...second, name: first, fn: third ?? second?.fn };
  } else definition = typeof second === "function" ? { ...first, fn: second } : first;
  const { name, fn } = definition;
  if (typeof fn !== "function") throw new TypeError(`Cannot register test "${name}": no function`);
  if (!name) throw new TypeError("Cannot register a test without a name");
  return { ...definition, name, fn };
}

function contextFor(node: NodeContext, name: string): TestContext {
  return {
    name,
    async step(first, second, third) {
      const step = normalize(first, second, third);
      let passed = !step.ignore;
      await node.test(step.name, { skip: step.ignore ?? false }, async (inner) => {
        try {
          await step.fn(contextFor(inner, step.name));
        } catch (error) {
          passed = false;
          throw error;
        }
      });
      return passed;
    },
  };
}

function test(
  first: string | TestDefinition | TestFn,
  second?: TestDefinition | TestFn,
  third?: TestFn,
): void {
  const definition = normalize(first, second, third);
  // `only` is passed on only when set: node warns about it on every test otherwise.
  const options = { skip: definition.ignore ?? false, ...(definition.only ? { only: true } : {}) };
  nodeTest(definition.name, options, async (t) => {
    await definition.fn(contextFor(t as unknown as NodeContext, definition.name));
  });
}

/** Stands in for the `Deno` global in transpiled tests; only `test` exists. */
export const Deno: { test: typeof test } = { test };
