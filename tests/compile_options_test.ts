import assert from "node:assert/strict";
import { compileOptions, recompileOptions } from "../src/worker/compile_options.ts";
import { fakeNamespace } from "./_fakes.ts";

const shardDO = fakeNamespace();
const routes = { "GET /hello": () => new Response("hello") };

Deno.test("recompileOptions() reuses the previous compilation when only functions are new", () => {
  const previous = compileOptions({ shardDO, routes, authorizeShard: () => true });
  const next = { shardDO, routes, authorizeShard: () => false };
  const compiled = recompileOptions(next, previous);
  assert.equal(compiled.routes, previous.routes, "the route table is not built again");
  assert.equal(compiled.options, next, "the new functions are the ones called");
});

Deno.test("recompileOptions() compiles again when a field that is not a function changes", () => {
  const previous = compileOptions({ shardDO, routes });
  const compiled = recompileOptions({ shardDO, routes, maxBodyBytes: 8 }, previous);
  assert.equal(compiled.maxBodyBytes, 8);
  const other = recompileOptions({ shardDO, routes: { ...routes } }, previous);
  assert.notEqual(other.routes, previous.routes);
});

Deno.test("recompileOptions() rejects a function given where an object was absent before", () => {
  const previous = compileOptions({ shardDO });
  assert.throws(
    () => recompileOptions({ shardDO, routes: (() => {}) as never }, previous),
    { name: "TypeError", message: /"routes" must be an object/ },
  );
});

Deno.test("recompileOptions() compiles again when the same object was mutated", () => {
  const options: { shardDO: typeof shardDO; maxBodyBytes?: number } = { shardDO };
  const previous = compileOptions(options);
  options.maxBodyBytes = 16;
  assert.equal(recompileOptions(options, previous).maxBodyBytes, 16);
});

Deno.test("recompileOptions() still rejects a function option that is no longer a function", () => {
  const previous = compileOptions({ shardDO, resolveIdentity: () => null });
  assert.throws(
    () => recompileOptions({ shardDO, resolveIdentity: "nobody" as never }, previous),
    { name: "TypeError", message: /"resolveIdentity" must be a function, got "nobody"/ },
  );
});

Deno.test("recompileOptions() compiles again when an options field is inherited", () => {
  const defaults = { maxBodyBytes: 8 };
  const options = Object.assign(Object.create(defaults), { shardDO });
  const previous = compileOptions(options);
  defaults.maxBodyBytes = 16;
  assert.equal(recompileOptions(options, previous).maxBodyBytes, 16);
});

Deno.test("recompileOptions() reuses the compilation when an inherited field has the recorded value", () => {
  const previous = compileOptions({ shardDO, maxBodyBytes: 8 });
  const options = Object.assign(Object.create({ maxBodyBytes: 8 }), { shardDO });
  const next = recompileOptions(options, previous);
  assert.equal(next.trustedOrigins, previous.trustedOrigins, "not compiled again");
  assert.equal(next.options, options);
  assert.equal(next.maxBodyBytes, 8);
});

Deno.test("recompileOptions() keeps every compiled field when it reuses the previous compilation", () => {
  const previous = compileOptions({
    shardDO,
    routes,
    security: { cors: { allowedOrigins: ["https://a.test"] } },
  });
  const next = { ...previous.options };
  const { options, ...fields } = recompileOptions(next, previous);
  const { options: _, ...before } = previous;
  assert.equal(options, next);
  assert.deepEqual(Object.keys(fields), Object.keys(before));
  for (const [key, value] of Object.entries(before)) {
    assert.equal(fields[key as keyof typeof fields], value, key);
  }
});

Deno.test("recompileOptions() compiles only a new route table and keeps the rest", () => {
  const security = { cors: { allowedOrigins: ["https://a.test"] } };
  const previous = compileOptions({ shardDO, routes, security });
  const hello = () => new Response("new");
  const compiled = recompileOptions(
    { shardDO, routes: { "GET /hello": hello }, security },
    previous,
  );
  assert.equal(compiled.routes.get("GET /hello"), hello, "the new table's handler is called");
  assert.equal(compiled.cors, previous.cors, "the rest is not compiled again");
});

Deno.test("recompileOptions() still rejects a new route table with a reserved key", () => {
  const previous = compileOptions({ shardDO, routes });
  assert.throws(
    () =>
      recompileOptions({ shardDO, routes: { "GET /_lunora/x": () => new Response() } }, previous),
    { name: "TypeError", message: /is reserved/ },
  );
});
