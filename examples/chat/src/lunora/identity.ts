/**
 * Who is calling, for this demo: the `demo_user` cookie set by the page's "sign in" form.
 *
 * DEMO ONLY: anyone can set a cookie. A real app resolves identity from a verified session
 * (for example `getServerSession` with its auth library) or a signed token.
 */
import type { LunoraIdentity } from "@lunora/astro";
import { CHANNEL } from "../shard/functions.ts";

const DEMO_USER = /^[A-Za-z0-9_-]{1,32}$/;

/** The `demo_user` cookie's value when it is a valid user name. */
export function demoUser(cookieHeader: string | null): string | null {
  for (const part of (cookieHeader ?? "").split(";")) {
    const [name, ...rest] = part.trim().split("=");
    const value = rest.join("=");
    if (name === "demo_user" && DEMO_USER.test(value)) return value;
  }
  return null;
}

/** `resolveIdentity` for `withLunora`: the demo user, with one extra claim for the shard. */
export function demoIdentity(request: Request): LunoraIdentity | null {
  const user = demoUser(request.headers.get("cookie"));
  return user === null ? null : { userId: user, via: "demo-cookie" };
}

/** Every channel is public in this demo; other shard keys are refused. */
export function isChannel(shardKey: string): boolean {
  return CHANNEL.test(shardKey);
}
