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

const crossOrigin = (...origins: string[]) => ({
  cors: { allowedOrigins: origins, allowCredentials: true },
});

Deno.test("recompileOptions() reuses the compilation when a new security object reads the same", () => {
  const previous = compileOptions({ shardDO, security: crossOrigin("https://a.test") });
  const next = { shardDO, security: crossOrigin("https://a.test") };
  const compiled = recompileOptions(next, previous);
  assert.equal(compiled.cors, previous.cors, "the CORS settings are not compiled again");
  assert.equal(compiled.options, next);
});

Deno.test("recompileOptions() compiles again when a value inside a new security object changes", () => {
  const previous = compileOptions({ shardDO, security: crossOrigin("https://a.test") });
  const compiled = recompileOptions(
    { shardDO, security: crossOrigin("https://a.test", "https://b.test") },
    previous,
  );
  assert.deepEqual([...compiled.cors!.origins], ["https://a.test", "https://b.test"]);
});

Deno.test("recompileOptions() compiles again when a new security object gains a setting", () => {
  const previous = compileOptions({ shardDO, security: crossOrigin("https://a.test") });
  const security = { ...crossOrigin("https://a.test"), headers: false as const };
  const compiled = recompileOptions({ shardDO, security }, previous);
  assert.equal(compiled.headers, null);
  assert.notEqual(compiled.cors, previous.cors);
});

Deno.test("recompileOptions() reads plain settings in any key order as the same", () => {
  const previous = compileOptions({ shardDO, security: crossOrigin("https://a.test") });
  const security = { cors: { allowCredentials: true, allowedOrigins: ["https://a.test"] } };
  const compiled = recompileOptions({ shardDO, security }, previous);
  assert.equal(compiled.cors, previous.cors);
});

Deno.test("recompileOptions() still rejects a nested array that became a plain object", () => {
  const previous = compileOptions({ shardDO, security: { csrf: { trustedOrigins: [] } } });
  assert.throws(
    () =>
      recompileOptions({ shardDO, security: { csrf: { trustedOrigins: {} as never } } }, previous),
    { name: "TypeError", message: /"security.csrf.trustedOrigins" must be an array/ },
  );
});

Deno.test("recompileOptions() reuses the compilation when a new crons table has functions where there were", () => {
  const previous = compileOptions({ shardDO, crons: { "0 * * * *": () => {} } });
  const next = { shardDO, crons: { "0 * * * *": () => {} } };
  const compiled = recompileOptions(next, previous);
  assert.equal(compiled.trustedOrigins, previous.trustedOrigins, "not compiled again");
  assert.equal(compiled.options, next, "the new handler is the one called");
});

Deno.test("recompileOptions() takes a new shardDO binding even when it reads the same as the old one", () => {
  const previous = compileOptions({ shardDO: fakeNamespace() });
  const next = fakeNamespace();
  assert.equal(recompileOptions({ shardDO: next }, previous).shardDO, next);
});
