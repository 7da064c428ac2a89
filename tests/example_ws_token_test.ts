/**
 * The example's WebSocket tokens (examples/chat/src/lunora/ws_token.ts), which `/cross-origin/*`
 * sends on its socket's upgrade: a token names its user until it expires, and nothing else
 * passes.
 */
import assert from "node:assert/strict";
import { issueWsToken, verifyWsToken } from "../examples/chat/src/lunora/ws_token.ts";

const SECRET = "a-test-secret-of-more-than-32-characters";
const ERIN = { userId: "user-erin", name: "erin" };

Deno.test("a fresh token names its user and carries its expiry", async () => {
  const token = await issueWsToken(SECRET, ERIN, 60);
  const identity = await verifyWsToken(SECRET, token);
  assert.equal(identity?.userId, "user-erin");
  assert.equal(identity?.name, "erin");
  assert.ok(identity!.exp * 1000 > Date.now());
});

Deno.test("an expired token names nobody", async () => {
  const token = await issueWsToken(SECRET, ERIN, -1);
  assert.equal(await verifyWsToken(SECRET, token), null);
});

Deno.test("a token signed under another secret names nobody", async () => {
  const token = await issueWsToken(`${SECRET}-other`, ERIN, 60);
  assert.equal(await verifyWsToken(SECRET, token), null);
});

Deno.test("a token whose claims were changed names nobody", async () => {
  const [, signature] = (await issueWsToken(SECRET, ERIN, 60)).split(".");
  const forged = btoa(JSON.stringify({ ...ERIN, userId: "user-mallory", exp: 9e9 }))
    .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  assert.equal(await verifyWsToken(SECRET, `${forged}.${signature}`), null);
});

Deno.test("malformed tokens name nobody", async () => {
  for (const token of ["", "abc", "a.b.c", "!!.??"]) {
    assert.equal(await verifyWsToken(SECRET, token), null, token);
  }
});
