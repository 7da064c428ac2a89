/**
 * Compile-time checks, never bundled (nothing imports this file): with the app's real
 * `betterAuth({...})` instance, `getServerSession` from `@lunora/astro/server` returns that
 * instance's own `user` and `session` types, not a loose record. `deno task e2e` type-checks this
 * file against the packed `.d.ts`; a wrong field access must fail to compile (each
 * `@ts-expect-error` below is itself an error if the line compiles).
 */
import { getServerSession } from "@lunora/astro/server";
import type { ChatAuth } from "./auth.ts";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;

/** What better-auth's own `auth.api.getSession` resolves to, `null` included. */
type OwnSession = Awaited<ReturnType<ChatAuth["api"]["getSession"]>>;

export async function sessionTypes(
  auth: ChatAuth,
  request: Request,
): Promise<void> {
  const session = await getServerSession(request, auth);

  // Exactly better-auth's type, no wider and no narrower.
  const same: Equal<typeof session, OwnSession> = true;
  void same;
  if (session === null) return;

  const id: string = session.user.id;
  const email: string = session.user.email;
  const verified: boolean = session.user.emailVerified;
  const image: string | null | undefined = session.user.image;
  const token: string = session.session.token;
  const expiresAt: Date = session.session.expiresAt;
  const userId: string = session.session.userId;
  void [id, email, verified, image, token, expiresAt, userId];

  // @ts-expect-error the user has no `username` (that needs better-auth's username plugin)
  void session.user.username;
  // @ts-expect-error `email` is a string, not a number
  const wrongType: number = session.user.email;
  void wrongType;
  // @ts-expect-error the token lives on `session.session`, not on the user
  void session.user.token;
  // @ts-expect-error `expiresAt` is a Date
  void session.session.expiresAt.toUpperCase();
}
