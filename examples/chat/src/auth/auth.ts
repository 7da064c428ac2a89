/**
 * The app's auth: better-auth with email + password, its users and sessions in D1 (binding
 * `AUTH_DB`, schema in `./migrations/`), mounted at `/api/auth/*` through `withLunora`'s
 * `authHandler`.
 *
 * - The browser signs in on this origin and gets better-auth's session cookie; pages and the
 *   `/_lunora/ws` upgrade carry it, so SSR and the live socket run as the same user.
 * - The `bearer` plugin lets `Authorization: Bearer <session token>` stand for that cookie, so a
 *   server on another origin can call the Lunora API as the user (`getServerSession(...)` →
 *   `session.token` → `createServerClient({ token, url })`).
 *
 * On workerd, better-auth uses `node:async_hooks` (AsyncLocalStorage) and `node:crypto`
 * (scrypt for password hashes). The compatibility date 2026-10-01 turns Node.js compatibility on
 * by itself (it is the default from 2026-08-04), so wrangler.jsonc lists no `nodejs_compat`
 * flag; an older date would need it.
 */
import { betterAuth, type D1Database } from "better-auth";
import { bearer } from "better-auth/plugins/bearer";

/** The bindings and secrets auth needs. */
export interface AuthEnv {
  /** The D1 database holding users, sessions and accounts. */
  AUTH_DB: D1Database;
  /** Signs session cookies and tokens: 32+ random characters (`wrangler secret put`). */
  BETTER_AUTH_SECRET?: string;
  /**
   * The app's public URL, e.g. `https://chat.example.com` (a `vars` entry when deployed).
   * Unset, auth answers only on loopback hosts (`wrangler dev`), over http.
   */
  BETTER_AUTH_URL?: string;
}

/** Where auth answers without `BETTER_AUTH_URL`: local development on loopback only. */
const LOCAL_HOSTS = ["localhost:*", "127.0.0.1:*", "[::1]:*"];

/** Where better-auth's routes live; `withLunora`'s `authBasePath` default is the same. */
export const AUTH_BASE_PATH = "/api/auth";

/** Makes the better-auth instance for `env` (what {@linkcode getAuth} caches). */
export function createAuth(env: AuthEnv, secret: string) {
  return betterAuth({
    basePath: AUTH_BASE_PATH,
    baseURL: env.BETTER_AUTH_URL || { allowedHosts: LOCAL_HOSTS, protocol: "http" },
    secret,
    database: env.AUTH_DB,
    emailAndPassword: { enabled: true, minPasswordLength: 10 },
    plugins: [bearer()],
    // Offline and private: no usage reports.
    telemetry: { enabled: false },
    // Workers put the client address in CF-Connecting-IP, not X-Forwarded-For.
    advanced: { ipAddress: { ipAddressHeaders: ["cf-connecting-ip"] } },
    // Per-isolate memory counters; sign-up and sign-in: 10 a minute per address.
    rateLimit: {
      enabled: true,
      window: 60,
      max: 300,
      customRules: {
        "/sign-in/*": { window: 60, max: 10 },
        "/sign-up/*": { window: 60, max: 10 },
      },
    },
  });
}

/** The app's better-auth instance type, with its own `user` and `session` types. */
export type ChatAuth = ReturnType<typeof createAuth>;

// One instance per set of bindings (workerd passes the same `env` object to every request of
// an isolate); building better-auth's router on every request would be wasted work.
const instances = new WeakMap<object, ChatAuth>();

/**
 * The better-auth instance for these bindings, or `null` when `BETTER_AUTH_SECRET` is not set
 * (auth routes then answer 503 and every caller is anonymous).
 */
export function getAuth(env: AuthEnv): ChatAuth | null {
  const secret = env.BETTER_AUTH_SECRET;
  if (typeof secret !== "string" || secret.length < 32) return null;
  let auth = instances.get(env.AUTH_DB);
  if (!auth) {
    auth = createAuth(env, secret);
    instances.set(env.AUTH_DB, auth);
  }
  return auth;
}

/** The JSON 503 the auth routes answer while auth is not configured. */
export function authNotConfigured(): Response {
  return Response.json(
    {
      error: {
        code: "NOT_CONFIGURED",
        message: "Auth is not configured: set BETTER_AUTH_SECRET (32+ characters)",
      },
    },
    { status: 503, headers: { "cache-control": "no-store" } },
  );
}
