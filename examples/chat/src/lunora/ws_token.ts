/**
 * Short-lived WebSocket tokens for a page whose Lunora API is on another origin: the page's
 * island asks its own origin for one (`GET /lunora-token`, with the session cookie) before every
 * connect and sends it as `?token=` on the socket's upgrade. A token is the user's id, name and
 * expiry, signed with HMAC-SHA-256 under the app's secret; the shard closes a socket whose token
 * expired (code 4001), and the island fetches a fresh one and reconnects.
 */
const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

async function signingKey(secret: string): Promise<CryptoKey> {
  return await crypto.subtle.importKey(
    "raw",
    encoder.encode(`lunora-ws-token:${secret}`),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

/** A token for `identity`, valid for `ttlSeconds`. */
export async function issueWsToken(
  secret: string,
  identity: { userId: string; name: string },
  ttlSeconds: number,
): Promise<string> {
  const exp = Math.floor(Date.now() / 1000) + ttlSeconds;
  const payload = base64url(encoder.encode(JSON.stringify({ ...identity, exp })));
  const signature = await crypto.subtle.sign(
    "HMAC",
    await signingKey(secret),
    encoder.encode(payload),
  );
  return `${payload}.${base64url(new Uint8Array(signature))}`;
}

/**
 * The identity a token carries, with its `exp` claim (seconds) for the shard; `null` for a
 * token that is malformed, forged or already expired.
 */
export async function verifyWsToken(
  secret: string,
  token: string,
): Promise<{ userId: string; name: string; exp: number } | null> {
  const [payload, signature, extra] = token.split(".");
  if (!payload || !signature || extra !== undefined) return null;
  try {
    const valid = await crypto.subtle.verify(
      "HMAC",
      await signingKey(secret),
      fromBase64url(signature),
      encoder.encode(payload),
    );
    if (!valid) return null;
    const claims = JSON.parse(new TextDecoder().decode(fromBase64url(payload)));
    if (typeof claims?.userId !== "string" || typeof claims.exp !== "number") return null;
    if (claims.exp * 1000 <= Date.now()) return null;
    return { userId: claims.userId, name: String(claims.name ?? ""), exp: claims.exp };
  } catch {
    return null;
  }
}
