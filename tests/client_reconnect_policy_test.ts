import assert from "node:assert/strict";
import {
  RECONNECT_BASE_MS,
  RECONNECT_MAX_MS,
  reconnectPolicy,
} from "../src/client/reconnect_policy.ts";

Deno.test("the reconnect delay starts at 250 ms and doubles, each drawn from [d/2, d]", () => {
  const low = reconnectPolicy(() => 0);
  const high = reconnectPolicy(() => 0.999999);
  const ceilings = [250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000];
  for (const ceiling of ceilings) {
    assert.equal(low.nextDelay(), ceiling / 2);
    assert.ok(Math.abs(high.nextDelay() - ceiling) < ceiling * 1e-5);
  }
});

Deno.test("the reconnect delay never exceeds 30 s, however many attempts failed", () => {
  const policy = reconnectPolicy(() => 0.999999);
  for (let i = 0; i < 200; i++) assert.ok(policy.nextDelay() <= RECONNECT_MAX_MS);
  assert.equal(policy.attempts, 200);
});

Deno.test("reset() starts the ladder over at the base delay", () => {
  const policy = reconnectPolicy(() => 0);
  policy.nextDelay();
  policy.nextDelay();
  policy.nextDelay();
  policy.reset();
  assert.equal(policy.nextDelay(), RECONNECT_BASE_MS / 2);
});

Deno.test("a hundred clients that fail at once spread their first reconnects over [125, 250] ms", () => {
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const delays = Array.from({ length: 100 }, () => reconnectPolicy(random).nextDelay());
  assert.ok(delays.every((d) => d >= 125 && d <= 250));
  assert.ok(new Set(delays.map((d) => Math.floor(d / 25))).size >= 4, "not spread out");
});
