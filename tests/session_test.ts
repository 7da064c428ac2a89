/**
 * `getServerSession` (spec §8, §10): sources, sync/async auth, and type inference.
 */
import assert from "node:assert/strict";
import { type AuthLike, getServerSession, type ServerSession } from "../src/ssr/session.ts";
import { assertType, type Equal } from "./_fakes.ts";

interface User {
  id: string;
  email: string;
}
interface Session {
  token: string;
  expiresAt: Date;
}
const SIGNED_IN = {
  user: { id: "u1", email: "a@b.c" },
  session: { token: "t1", expiresAt: new Date(0) },
};

/** An auth stub that records what `getSession` received. */
function recordingAuth<R>(answer: (headers: Headers) => R) {
  const seen: { headers: Headers; self: unknown }[] = [];
  const api = {
    getSession(this: unknown, input: { headers: Headers }) {
      seen.push({ headers: input.headers, self: this });
      return answer(input.headers);
    },
  };
  return { auth: { api }, seen, api };
}

Deno.test("getServerSession() reads the headers of a Request", async () => {
  const { auth, seen } = recordingAuth(() => SIGNED_IN);
  const request = new Request("https://app.test/", { headers: { cookie: "sid=1" } });
  assert.equal(await getServerSession(request, auth), SIGNED_IN);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.headers, request.headers);
});

Deno.test("getServerSession() accepts a Headers object", async () => {
  const { auth, seen } = recordingAuth(() => SIGNED_IN);
  const headers = new Headers({ cookie: "sid=2" });
  await getServerSession(headers, auth);
  assert.equal(seen[0]!.headers, headers);
});

Deno.test("getServerSession() accepts { headers } holding a Headers or a plain record", async () => {
  const { auth, seen } = recordingAuth(() => SIGNED_IN);
  const headers = new Headers({ cookie: "sid=3" });
  await getServerSession({ headers }, auth);
  await getServerSession({ headers: { cookie: "sid=4", authorization: "Bearer x" } }, auth);
  assert.equal(seen[0]!.headers, headers);
  assert.ok(seen[1]!.headers instanceof Headers);
  assert.equal(seen[1]!.headers.get("cookie"), "sid=4");
  assert.equal(seen[1]!.headers.get("authorization"), "Bearer x");
});

Deno.test("getServerSession() awaits an async getSession and calls it on auth.api", async () => {
  const { auth, seen, api } = recordingAuth((headers) =>
    Promise.resolve(headers.get("cookie") === "sid=1" ? SIGNED_IN : null)
  );
  assert.equal(await getServerSession(new Headers({ cookie: "sid=1" }), auth), SIGNED_IN);
  assert.equal(await getServerSession(new Headers({ cookie: "sid=9" }), auth), null);
  assert.equal(seen[0]!.self, api);
});

Deno.test("getServerSession() returns null for a null or undefined session", async () => {
  assert.equal(await getServerSession(new Headers(), recordingAuth(() => null).auth), null);
  assert.equal(await getServerSession(new Headers(), recordingAuth(() => undefined).auth), null);
});

Deno.test("getServerSession() lets a getSession failure reject", async () => {
  const auth = { api: { getSession: () => Promise.reject(new Error("db down")) } };
  await assert.rejects(getServerSession(new Headers(), auth), { message: "db down" });
});

Deno.test("getServerSession() rejects a source without headers and an auth without getSession", async () => {
  const { auth } = recordingAuth(() => null);
  for (const source of [null, {}, { headers: "cookie: x" }, "cookie"]) {
    await assert.rejects(getServerSession(source as never, auth), {
      name: "TypeError",
      message: "Cannot read server session: the source must be a Request, a Headers or { headers }",
    });
  }
  for (const bad of [{}, { api: {} }, { api: { getSession: "no" } }, null]) {
    await assert.rejects(getServerSession(new Headers(), bad as never), {
      name: "TypeError",
      message: 'Cannot read server session: "auth.api.getSession" must be a function',
    });
  }
});

Deno.test("getServerSession() infers the session type from the auth object", async () => {
  const auth = {
    api: {
      getSession: (
        _input: { headers: Headers },
      ): Promise<{ user: User; session: Session } | null> => Promise.resolve(SIGNED_IN),
    },
  };
  const session = await getServerSession(new Headers(), auth);
  assertType<Equal<typeof session, { user: User; session: Session } | null>>();
  assert.equal(session?.session.token, "t1");

  const syncAuth: AuthLike<ServerSession<User, Session>> = { api: { getSession: () => SIGNED_IN } };
  const syncSession = await getServerSession(new Headers(), syncAuth);
  assertType<Equal<typeof syncSession, ServerSession<User, Session> | null>>();
});

Deno.test("getServerSession() keeps the types of a better-auth-shaped generic getSession", async () => {
  // The shape of better-auth 1.x `auth.api.getSession` (generic, with asResponse/returnHeaders).
  type Endpoint = <R extends boolean, H extends boolean = false>(context: {
    headers: Headers;
    query?: { disableCookieCache?: boolean };
    asResponse?: R;
    returnHeaders?: H;
  }) => false extends R
    ? H extends true
      ? Promise<{ headers: Headers; response: { user: User; session: Session } | null }>
    : Promise<{ user: User; session: Session } | null>
    : Promise<Response>;
  const getSession = (() => Promise.resolve(SIGNED_IN)) as unknown as Endpoint;
  const session = await getServerSession(new Headers(), { api: { getSession } });
  assertType<Equal<typeof session, { user: User; session: Session } | null>>();
  assert.equal(session?.user.email, "a@b.c");
});
