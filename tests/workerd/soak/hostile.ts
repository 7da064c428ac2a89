/**
 * Hostile input against the running worker over real HTTP: every row of the threat matrix that
 * can be sent over the wire, with the outcome the unit tests assert (status and error code), and
 * no shard side effect where one would matter. Requests go out raw over TCP (exact paths, exact
 * headers, streamed bodies) unless a WebSocket client is the point.
 *
 * @module
 */
import { assert, check } from "../report.ts";
import { browserHeaders, Subscriber, wsUrl } from "../client.ts";
import { type RawAnswer, rawHttp, type RawRequest } from "./raw_http.ts";
import { call, expectError, result, type SoakContext, storedRows, user } from "./context.ts";

/** The channel (and shard) hostile writes aim at. */
const CHANNEL = "hostile";
/** The body of every write that must be refused: it must never be stored. */
const MUST_NOT_STORE = "hostile write that must never be stored";
const SEND = {
  functionPath: "messages:send",
  args: { channel: CHANNEL, body: MUST_NOT_STORE },
  shardKey: CHANNEL,
};
const LIST = { functionPath: "messages:list", args: { channel: CHANNEL }, shardKey: CHANNEL };
const JSON_TYPE: [string, string] = ["Content-Type", "application/json"];
const MIB = 1_048_576;
/** Shard keys the example's `authorizeShard` refuses (they are not channel names). */
const FOREIGN_SHARDS = ["Tenant_B", "tenant b", "x".repeat(33)];

function raw(ctx: SoakContext, kind: string, request: RawRequest): Promise<RawAnswer> {
  return ctx.tally.count(kind, () => rawHttp(ctx.server.port, request));
}

/** A raw POST of `body` (a string sent as is, or JSON) to `target`. */
function post(
  ctx: SoakContext,
  target: string,
  body: unknown,
  headers: Array<[string, string]> = [JSON_TYPE],
  method = "POST",
): Promise<RawAnswer> {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return raw(ctx, `hostile ${method}`, {
    method,
    target,
    headers: [...headers, ["Content-Length", String(new TextEncoder().encode(text).length)]],
    body: text,
  });
}

/**
 * Asserts an answer of the reserved plane: `status`, the error `code`, and the baseline
 * security headers every non-101 reserved answer carries.
 */
function expectReserved(answer: RawAnswer, status: number, code: string, secrets?: string[]): void {
  expectError(answer, status, code, secrets);
  assert(
    answer.headers.get("x-content-type-options") === "nosniff" &&
      answer.headers.get("x-frame-options") === "SAMEORIGIN" &&
      answer.headers.has("content-security-policy"),
    `${status} ${code} lacks the baseline security headers`,
  );
}

/** Runs every hostile-input check; returns how many hostile requests were sent. */
export async function checkHostile(ctx: SoakContext): Promise<number> {
  const { origin, port } = ctx.server;
  const startSent = ctx.tally.sent;
  const prototypeBefore = await result<{ keys: string[] }>(ctx, "probes:prototype", {}, CHANNEL);
  const sameOrigin: [string, string] = ["Origin", origin];

  await check(
    ctx,
    "a declared oversize body is 413 before any byte of it is sent (row 6)",
    async () => {
      const targets: Array<[string, string]> = [
        ["POST", "/_lunora/rpc"],
        ["PUT", "/_lunora/rpc"],
        ["POST", "/_lunora/rpc-batch"],
        ["POST", "/_lunora/admin/rpc"],
        ["POST", "/api/auth/sign-in/email"],
      ];
      for (const [method, target] of targets) {
        for (const length of [2 * MIB, MIB + 1]) {
          const answer = await raw(ctx, "hostile oversize", {
            method,
            target,
            headers: [JSON_TYPE, ["Content-Length", String(length)]],
          });
          expectReserved(answer, 413, "PAYLOAD_TOO_LARGE");
          assert(answer.bodyBytesSent === 0, "the body was sent");
        }
      }
      // Exactly at the cap is still read: a valid envelope padded with JSON whitespace to 1 MiB.
      const envelope = JSON.stringify(LIST);
      const padded = envelope + " ".repeat(MIB - envelope.length);
      const atCap = await post(ctx, "/_lunora/rpc", padded);
      assert(atCap.status === 200, `a body of exactly 1 MiB answered ${atCap.status}`);
      return `${
        targets.length * 2
      } declared lengths (2 MiB, 1 MiB + 1) -> 413 with no body sent; exactly 1 MiB -> 200`;
    },
  );

  await check(
    ctx,
    "a streamed body without a length is cut off past the cap with 413, before it ends (row 7)",
    async () => {
      const sentBefore: number[] = [];
      for (const target of ["/_lunora/rpc", "/_lunora/rpc-batch"]) {
        // 2 MiB in 64 KiB chunks, and then the body never ends: an answer at all proves the
        // server stopped reading past the cap, however slowly the machine runs.
        const answer = await raw(ctx, "hostile streamed", {
          method: "POST",
          target,
          headers: [JSON_TYPE],
          chunked: { size: 64 * 1024, count: 32, pauseMs: 0, unterminated: true },
        });
        expectReserved(answer, 413, "PAYLOAD_TOO_LARGE");
        sentBefore.push(answer.bodyBytesSent);
      }
      const envelope = JSON.stringify(LIST);
      const small = await raw(ctx, "hostile streamed", {
        method: "POST",
        target: "/_lunora/rpc",
        headers: [JSON_TYPE],
        chunked: { size: envelope.length, count: 1, pauseMs: 0, fill: envelope },
      });
      assert(small.status === 200, `a small chunked envelope answered ${small.status}`);
      return `2 MiB chunked streams left open answered 413 after ${
        sentBefore.join(" and ")
      } bytes; a small chunked call -> 200`;
    },
  );

  await check(ctx, "a body that is not application/json is 415 (rows 4, 5)", async () => {
    const refused: Array<Array<[string, string]>> = [
      [["Content-Type", "text/plain"]],
      [["Content-Type", "text/plain;charset=UTF-8"]],
      [["Content-Type", "application/x-www-form-urlencoded"]],
      [["Content-Type", "multipart/form-data; boundary=x"]],
      [],
      [["Content-Type", "application/jsonx"]],
      [["Content-Type", "text/json"]],
      [["Content-Type", "application/json-patch+json"]],
    ];
    for (const headers of refused) {
      expectReserved(await post(ctx, "/_lunora/rpc", SEND, headers), 415, "UNSUPPORTED_MEDIA_TYPE");
    }
    for (const type of ["application/json; charset=utf-8", "Application/JSON"]) {
      const answer = await post(ctx, "/_lunora/rpc", LIST, [["Content-Type", type]]);
      assert(answer.status === 200, `${type} answered ${answer.status}`);
    }
    return `${refused.length} content types (incl. none) -> 415; 2 JSON spellings -> 200`;
  });

  await check(
    ctx,
    "malformed or empty JSON is 400 BAD_REQUEST without echoing the input (row 3)",
    async () => {
      const marker = "echo-marker-7f3a";
      const bodies: Array<string | Uint8Array> = [
        `{"functionPath":"${marker}`,
        "",
        "{",
        "null",
        "[]",
        `"${marker}"`,
        "42",
        `{"functionPath":"messages:send","args":{"channel":"hostile","body":"${marker}"}`,
        new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
      ];
      for (const body of bodies) {
        const answer = await raw(ctx, "hostile malformed", {
          method: "POST",
          target: "/_lunora/rpc",
          headers: [JSON_TYPE, [
            "Content-Length",
            String(typeof body === "string" ? new TextEncoder().encode(body).length : body.length),
          ]],
          body,
        });
        expectReserved(answer, 400, "BAD_REQUEST", [marker]);
      }
      return `${bodies.length} bodies -> 400, none echoed`;
    },
  );

  await check(ctx, "other methods on the RPC endpoints are 405 with Allow (row 8)", async () => {
    let n = 0;
    for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
      for (const target of ["/_lunora/rpc", "/_lunora/rpc-batch"]) {
        const answer = method === "GET"
          ? await raw(ctx, "hostile method", { method, target })
          : await post(ctx, target, SEND, [JSON_TYPE], method);
        expectReserved(answer, 405, "METHOD_NOT_ALLOWED");
        assert(answer.headers.get("allow") === "POST", `Allow: ${answer.headers.get("allow")}`);
        n++;
      }
    }
    const status = await post(ctx, "/_lunora/status", "{}", [JSON_TYPE]);
    expectReserved(status, 405, "METHOD_NOT_ALLOWED");
    assert(status.headers.get("allow") === "GET, HEAD", "status Allow header");
    const ws = await post(ctx, "/_lunora/ws", "{}", [JSON_TYPE]);
    expectReserved(ws, 405, "METHOD_NOT_ALLOWED");
    const head = await raw(ctx, "hostile method", { method: "HEAD", target: "/_lunora/status" });
    assert(head.status === 200 && head.text === "", `HEAD /_lunora/status answered ${head.status}`);
    return `${n} method/endpoint pairs -> 405 Allow: POST; POST status/ws -> 405; HEAD status -> 200`;
  });

  await check(ctx, "a missing or malformed functionPath is 400 (row 9)", async () => {
    const paths = [
      undefined,
      42,
      null,
      true,
      {},
      [],
      "",
      "noColon",
      "../admin:x",
      "a//b:c",
      ":x",
      "a:",
      "a:b:c",
      "messages:send ",
      "messages/../x:y",
      "a\u0000:b",
    ];
    for (const functionPath of paths) {
      const answer = await post(ctx, "/_lunora/rpc", { ...SEND, functionPath });
      expectReserved(answer, 400, "BAD_REQUEST");
    }
    return `${paths.length} values (missing, 42, null, "noColon", "../admin:x", ...) -> 400`;
  });

  await check(ctx, "prototype keys are never a 500 and pollute nothing (row 10)", async () => {
    for (
      const functionPath of [
        "__proto__:x",
        "constructor:y",
        "messages:__proto__",
        "messages:constructor",
        "messages:hasOwnProperty",
        "toString:valueOf",
      ]
    ) {
      const answer = await post(ctx, "/_lunora/rpc", { functionPath, args: {}, shardKey: CHANNEL });
      expectError(answer, 404, "NOT_FOUND");
    }
    const accepted = [
      `{"functionPath":"messages:list","args":{"channel":"hostile","__proto__":{"isAdmin":true}},"shardKey":"hostile"}`,
      `{"functionPath":"messages:list","args":{"channel":"hostile","constructor":{"prototype":{"isAdmin":true}}},"shardKey":"hostile"}`,
      `{"functionPath":"messages:send","args":{"channel":"hostile","body":"ok proto","__proto__":{"author":"root"}},"shardKey":"hostile","__proto__":{"isAdmin":true}}`,
    ];
    for (const body of accepted) {
      const answer = await post(ctx, "/_lunora/rpc", body);
      assert(answer.status === 200, `answered ${answer.status} ${answer.text.slice(0, 120)}`);
    }
    const inherited = await post(
      ctx,
      "/_lunora/rpc",
      `{"__proto__":{"functionPath":"messages:list","shardKey":"hostile"}}`,
    );
    expectReserved(inherited, 400, "BAD_REQUEST");
    const batch = await post(
      ctx,
      "/_lunora/rpc-batch",
      `{"calls":[{"__proto__":{"functionPath":"messages:list"},"id":1}],"__proto__":{"calls":[]}}`,
    );
    assert(
      batch.status === 200 && batch.body?.results?.[0]?.status === 400,
      `batch: ${batch.text.slice(0, 160)}`,
    );
    const proto = (await storedRows(ctx, CHANNEL)).find((row) => row.body === "ok proto");
    assert(
      proto?.author === "anonymous",
      `a __proto__ arg set the author: ${JSON.stringify(proto)}`,
    );
    const after = await result<{ isAdmin: string; keys: string[] }>(
      ctx,
      "probes:prototype",
      {},
      CHANNEL,
    );
    assert(after.isAdmin === "undefined", "Object.prototype.isAdmin exists in the shard");
    assert(
      after.keys.join() === prototypeBefore.keys.join(),
      `Object.prototype keys changed: ${after.keys.join()}`,
    );
    return "6 prototype function paths -> 404 NOT_FOUND; 3 __proto__/constructor payloads -> 200; inherited envelope -> 400; shard Object.prototype unchanged";
  });

  await check(
    ctx,
    "args that are not an object and shard keys that are not strings are 400 (row 11)",
    async () => {
      const cases = [
        ...["nope", [], 42, null, true].map((args) => ({ ...SEND, args })),
        ...[123, "", "x".repeat(513), null, [], {}].map((shardKey) => ({ ...SEND, shardKey })),
      ];
      for (const envelope of cases) {
        expectReserved(await post(ctx, "/_lunora/rpc", envelope), 400, "BAD_REQUEST");
      }
      return `${cases.length} envelopes -> 400`;
    },
  );

  await check(
    ctx,
    "non-canonical /_lunora paths are 404 from the reserved plane, never the host (row 12)",
    async () => {
      const paths = [
        "/_lunora/rpc/",
        "//_lunora/rpc",
        "/_LUNORA/rpc",
        "/_Lunora/Rpc",
        "/_lunora%2Frpc",
        "/_lunora%2frpc",
        "/%5Flunora/rpc",
        "/%5flunora/rpc",
        "/_lunora/r%70c",
        "/_lunora/%61dmin/x",
        "/_lunora/%2561dmin/x",
        "/_lunora/nope",
        "/_lunora//rpc",
        "/_lunora/rpc/.",
        "/_lunora/rpc%00",
        "/_lunora/rpc;x",
        "/_lunora/rpc%3F",
        "/_lunora",
        "/_lunoraX",
        "/%2F_lunora/rpc",
        "///_lunora/rpc",
      ];
      for (const path of paths) {
        const answer = await post(ctx, path, SEND);
        expectReserved(answer, 404, "NOT_FOUND");
        assert(
          answer.headers.get("content-type")?.startsWith("application/json"),
          `${path}: not JSON`,
        );
      }
      return `${paths.length} raw paths -> 404 JSON`;
    },
  );

  await check(
    ctx,
    "paths workerd resolves to a canonical one are answered as it, and cannot skip the admin gate",
    async () => {
      // The runtime's URL parser resolves dot segments and "\" before the worker runs.
      const resolved = [
        "/_lunora/./rpc",
        "/./_lunora/rpc",
        "/_lunora/admin/../rpc",
        "/_lunora\\rpc",
      ];
      for (const path of resolved) {
        const answer = await post(ctx, path, LIST);
        assert(
          answer.status === 200 && "result" in answer.body,
          `${path} answered ${answer.status}`,
        );
      }
      for (
        const path of [
          "/_lunora/rpc/../admin/rpc",
          "/_lunora/x/../admin/rpc",
          "/_lunora/./admin/rpc",
        ]
      ) {
        expectReserved(await post(ctx, path, LIST), 403, "ADMIN_FORBIDDEN");
      }
      return `${resolved.length} resolved spellings -> 200 like /_lunora/rpc; 3 dot-segment routes to admin -> 403`;
    },
  );

  await check(ctx, "a query string or fragment does not change the endpoint (row 13)", async () => {
    for (
      const path of [
        "/_lunora/rpc?x=1",
        "/_lunora/rpc?",
        "/_lunora/rpc#frag",
        "/_lunora/rpc?shard=Tenant_B",
      ]
    ) {
      const answer = await post(ctx, path, LIST);
      assert(answer.status === 200 && "result" in answer.body, `${path} answered ${answer.status}`);
    }
    return "4 spellings -> 200";
  });

  await check(
    ctx,
    "cookie-bearing requests from another site are 403 FORBIDDEN_ORIGIN (rows 14, 15)",
    async () => {
      const cookie: [string, string] = ["Cookie", user(ctx, "mallory").cookie];
      const forged: Array<Array<[string, string]>> = [
        [["Origin", "https://evil.test"]],
        [["Origin", "null"]],
        [["Origin", `http://127.0.0.1:${port + 1}`]],
        [["Origin", `http://localhost:${port}`]],
        // Not `https://127.0.0.1:<port>`: wrangler dev's proxy rewrites any URL with its own
        // host in a request header to the worker's origin, whatever the scheme.
        [["Referer", "https://evil.test/page"]],
        [["Sec-Fetch-Site", "cross-site"]],
        [["Origin", "https://evil.test"], ["Sec-Fetch-Site", "same-origin"]],
        [["Origin", "https://evil.test"], ["Referer", `${origin}/channels/hostile`]],
      ];
      for (const headers of forged) {
        for (const target of ["/_lunora/rpc", "/_lunora/rpc-batch"]) {
          const body = target === "/_lunora/rpc" ? SEND : { calls: [{ id: 1, ...SEND }] };
          const answer = await post(ctx, target, body, [JSON_TYPE, cookie, ...headers]);
          expectReserved(answer, 403, "FORBIDDEN_ORIGIN");
        }
      }
      const allowed: Array<Array<[string, string]>> = [
        [cookie, sameOrigin],
        [cookie, ["Referer", `${origin}/channels/hostile`]],
        [cookie], // server-to-server: no Origin, Referer or Sec-Fetch-Site
        [["Origin", "https://evil.test"]], // no cookie: nothing ambient to abuse
      ];
      for (const headers of allowed) {
        const answer = await post(ctx, "/_lunora/rpc", LIST, [JSON_TYPE, ...headers]);
        assert(answer.status === 200, `${JSON.stringify(headers)} answered ${answer.status}`);
      }
      return `${
        forged.length * 2
      } forged requests (rpc + batch) -> 403; ${allowed.length} legitimate ones -> 200`;
    },
  );

  await check(
    ctx,
    "CORS is off in the example: preflights and answers carry no Access-Control-* header (row 17)",
    async () => {
      const origins = ["https://evil.test", origin];
      for (const from of origins) {
        const preflight = await raw(ctx, "hostile cors", {
          method: "OPTIONS",
          target: "/_lunora/rpc",
          headers: [["Origin", from], ["Access-Control-Request-Method", "POST"], [
            "Access-Control-Request-Headers",
            "content-type",
          ]],
        });
        assert(
          preflight.status !== 204 && preflight.status < 500,
          `preflight answered ${preflight.status}`,
        );
        const names = [...preflight.headers.keys()].filter((name) =>
          name.startsWith("access-control-")
        );
        assert(names.length === 0, `preflight from ${from} got ${names.join(", ")}`);
      }
      const actual = await post(ctx, "/_lunora/rpc", LIST, [JSON_TYPE, [
        "Origin",
        "https://evil.test",
      ]]);
      const names = [...actual.headers.keys()].filter((name) => name.startsWith("access-control-"));
      assert(names.length === 0, `an answer to evil.test got ${names.join(", ")}`);
      return "2 preflights -> 405 without CORS headers; cross-origin answer has none";
    },
  );

  await check(
    ctx,
    "WebSocket upgrades: cross-site cookie 403, no upgrade 426, any header casing 101, foreign shard 403 (rows 18-20, 23)",
    async () => {
      const upgrade = (
        target: string,
        headers: Array<[string, string]>,
        upgradeValue = "websocket",
      ) =>
        raw(ctx, "hostile websocket", {
          method: "GET",
          target,
          headers: [
            ["Upgrade", upgradeValue],
            ["Connection", "Upgrade"],
            ["Sec-WebSocket-Version", "13"],
            [
              "Sec-WebSocket-Key",
              btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16)))),
            ],
            ...headers,
          ],
        });
      const target = `/_lunora/ws?shard=${CHANNEL}`;
      const cookie: [string, string] = ["Cookie", user(ctx, "mallory").cookie];
      for (
        const headers of [
          [cookie, ["Origin", "https://evil.test"]],
          [cookie, ["Sec-Fetch-Site", "cross-site"]],
          [cookie, ["Referer", "https://evil.test/"]],
          [cookie, ["Origin", "null"]],
        ] as Array<Array<[string, string]>>
      ) {
        expectReserved(await upgrade(target, headers), 403, "FORBIDDEN_ORIGIN");
      }
      for (const value of ["WebSocket", "WEBSOCKET", "websocket"]) {
        const answer = await upgrade(target, [cookie, sameOrigin], value);
        assert(answer.status === 101, `Upgrade: ${value} answered ${answer.status}`);
      }
      const noUpgrade = await raw(ctx, "hostile websocket", { method: "GET", target });
      expectReserved(noUpgrade, 426, "UPGRADE_REQUIRED");
      expectReserved(await upgrade(target, [], "h2c"), 426, "UPGRADE_REQUIRED");
      for (const shard of FOREIGN_SHARDS) {
        expectReserved(
          await upgrade(`/_lunora/ws?shard=${encodeURIComponent(shard)}`, []),
          403,
          "FORBIDDEN_SHARD",
        );
      }
      expectReserved(await upgrade("/_lunora/ws?shard=", []), 400, "BAD_REQUEST");
      return `4 cross-site -> 403, 3 casings -> 101, 2 non-upgrades -> 426, ${FOREIGN_SHARDS.length} foreign shards -> 403, empty shard -> 400`;
    },
  );

  await check(
    ctx,
    "forged x-lunora-* identity headers are replaced by the server's (row 22)",
    async () => {
      const forged: Array<[string, string]> = [
        ["X-Lunora-UserId", "mallory"],
        ["X-Lunora-Identity", btoa(JSON.stringify({ role: "admin" })).replace(/=+$/, "")],
        ["X-Lunora-System", "1"],
      ];
      const anonymous = await post(ctx, "/_lunora/rpc", LIST, [JSON_TYPE, ...forged]);
      assert(
        anonymous.status === 200 && anonymous.body.result.viewer === null,
        `viewer ${JSON.stringify(anonymous.body?.result?.viewer)}`,
      );
      const bob = user(ctx, "bob");
      const asBob = await post(ctx, "/_lunora/rpc", LIST, [
        JSON_TYPE,
        sameOrigin,
        ["Cookie", bob.cookie],
        ...forged,
      ]);
      const viewer = asBob.body?.result?.viewer;
      assert(
        viewer?.userId === bob.id && viewer?.name === "bob" &&
          Object.keys(viewer).length === 2,
        `viewer ${JSON.stringify(viewer)} for bob ${bob.id}`,
      );
      const marker = `forged author ${crypto.randomUUID().slice(0, 8)}`;
      const write = await post(ctx, "/_lunora/rpc", {
        ...SEND,
        args: { channel: CHANNEL, body: marker },
      }, [JSON_TYPE, ...forged]);
      assert(write.status === 200, `send answered ${write.status}`);
      const row = (await storedRows(ctx, CHANNEL)).find((r) => r.body === marker);
      assert(row?.author === "anonymous", `stored author ${row?.author}`);
      const clear = await post(ctx, "/_lunora/rpc", {
        functionPath: "messages:clear",
        args: { channel: CHANNEL },
        shardKey: CHANNEL,
      }, [JSON_TYPE, ...forged]);
      expectError(clear, 404, "NOT_FOUND");
      const socket = new Subscriber(wsUrl(origin, CHANNEL), {
        ...browserHeaders(origin),
        "x-lunora-userid": "mallory",
        "x-lunora-identity": forged[1]![1],
      });
      try {
        await socket.opened;
        socket.subscribe("sub_1", "messages:list", { channel: CHANNEL });
        const data = await socket.next((f) => f.type === "data");
        assert(data.data.viewer === null, `WebSocket viewer ${JSON.stringify(data.data.viewer)}`);
      } finally {
        await socket.close();
      }
      return "RPC viewer null / exactly bob's session identity; stored author anonymous; x-lunora-system cannot reach messages:clear; WebSocket viewer null";
    },
  );

  await check(
    ctx,
    "shard keys the app does not authorize are 403 FORBIDDEN_SHARD (row 23)",
    async () => {
      for (const shardKey of FOREIGN_SHARDS) {
        expectReserved(
          await post(ctx, "/_lunora/rpc", { ...SEND, shardKey }),
          403,
          "FORBIDDEN_SHARD",
        );
      }
      return `${FOREIGN_SHARDS.length} keys -> 403`;
    },
  );

  await check(
    ctx,
    "admin probing is 403 ADMIN_FORBIDDEN with one identical body (rows 24, 26)",
    async () => {
      const token = ctx.adminToken;
      const wrongSameLength = token.slice(0, -1) + (token.endsWith("a") ? "b" : "a");
      const probes: Array<{ query?: string; headers: Array<[string, string]> }> = [
        { headers: [] },
        { headers: [["Authorization", "Bearer x"]] },
        { headers: [["Authorization", `Bearer ${token}x`]] },
        { headers: [["Authorization", `Bearer ${token.slice(0, -1)}`]] },
        { headers: [["Authorization", `Bearer ${wrongSameLength}`]] },
        { headers: [["Authorization", "Bearer"]] },
        { headers: [["Authorization", `Basic ${btoa(`admin:${token}`)}`]] },
        { headers: [["Authorization", `Token ${token}`]] },
        { headers: [["Authorization", `Bearer ${token} ${token}`]] },
        { headers: [["Cookie", `LUNORA_ADMIN_TOKEN=${token}`]] },
        { headers: [["X-Lunora-Admin-Token", token]] },
        { query: `?token=${token}`, headers: [] },
        { query: `?authorization=Bearer%20${token}`, headers: [] },
        { query: `?access_token=${token}`, headers: [] },
      ];
      const bodies = new Set<string>();
      let n = 0;
      for (const probe of probes) {
        for (
          const target of ["/_lunora/admin/stats", "/_lunora/admin/rpc", "/_lunora/admin/nope"]
        ) {
          const url = `${target}${probe.query ?? ""}`;
          const answer = target === "/_lunora/admin/rpc"
            ? await post(ctx, url, LIST, [JSON_TYPE, ...probe.headers])
            : await raw(ctx, "hostile admin", {
              method: "GET",
              target: url,
              headers: probe.headers,
            });
          expectReserved(answer, 403, "ADMIN_FORBIDDEN", [token]);
          bodies.add(answer.text);
          n++;
        }
      }
      assert(bodies.size === 1, `denials differ: ${[...bodies].join(" | ")}`);
      const granted = await raw(ctx, "hostile admin", {
        method: "GET",
        target: "/_lunora/admin/stats",
        headers: [["Authorization", `Bearer ${token}`]],
      });
      assert(granted.status === 200, `the right token answered ${granted.status}`);
      const unknown = await raw(ctx, "hostile admin", {
        method: "GET",
        target: "/_lunora/admin/nope",
        headers: [["Authorization", `Bearer ${token}`]],
      });
      expectReserved(unknown, 404, "NOT_FOUND");
      return `${n} probes -> 403 with one body; the right token -> 200 (unknown admin route 404)`;
    },
  );

  await check(
    ctx,
    "batch: a bad shape is 400, more than 500 calls is BATCH_TOO_LARGE, bad calls fail alone",
    async () => {
      for (const body of [{}, { calls: "x" }, { calls: {} }, []]) {
        expectReserved(await post(ctx, "/_lunora/rpc-batch", body), 400, "BAD_REQUEST");
      }
      const many = { calls: Array.from({ length: 501 }, (_, id) => ({ id, ...SEND })) };
      expectReserved(await post(ctx, "/_lunora/rpc-batch", many), 400, "BATCH_TOO_LARGE");
      const mixed = await post(ctx, "/_lunora/rpc-batch", {
        calls: [
          { id: "ok", ...LIST },
          { id: "path", ...SEND, functionPath: "../admin:x" },
          { id: "shard", ...SEND, shardKey: "Tenant_B" },
          { id: "args", ...SEND, args: [] },
          { id: "missing", functionPath: "messages:nope", args: {}, shardKey: CHANNEL },
        ],
      });
      const got = (mixed.body?.results ?? []).map((slot: { id: string; status: number }) =>
        `${slot.id}:${slot.status}`
      ).join(" ");
      assert(got === "ok:200 path:400 shard:403 args:400 missing:404", `slots ${got}`);
      return `4 bad shapes -> 400; 501 calls -> 400 BATCH_TOO_LARGE; slots ${got}`;
    },
  );

  await check(ctx, "no refused request reached a shard: nothing refused was stored", async () => {
    const stored = await storedRows(ctx, CHANNEL);
    const leaked = stored.filter((row) => row.body === MUST_NOT_STORE);
    assert(leaked.length === 0, `${leaked.length} refused writes were stored`);
    for (const shardKey of FOREIGN_SHARDS) {
      const answer = await call(
        ctx,
        "admin probe",
        {
          functionPath: "probes:count",
          args: { channel: CHANNEL },
          shardKey,
        },
        { authorization: `Bearer ${ctx.adminToken}` },
        "/_lunora/admin/rpc",
      );
      assert(
        answer.status === 200 && answer.body.result.count === 0,
        `shard ${shardKey}: ${answer.text}`,
      );
    }
    return `${stored.length} rows in "${CHANNEL}", none refused; ${FOREIGN_SHARDS.length} foreign shards hold 0 rows (read with the admin token)`;
  });

  return ctx.tally.sent - startSent;
}

/** Row 25: with no admin token configured, every admin request is denied, whatever it carries. */
export async function checkAdminUnset(ctx: SoakContext, formerToken: string): Promise<void> {
  await check(
    ctx,
    "with no admin token configured every admin request is denied (row 25)",
    async () => {
      const attempts: Array<Array<[string, string]>> = [
        [],
        [["Authorization", `Bearer ${formerToken}`]],
        [["Authorization", "Bearer "]],
        [["Authorization", "Bearer undefined"]],
        [["Authorization", "Bearer null"]],
      ];
      for (const headers of attempts) {
        for (const target of ["/_lunora/admin/stats", "/_lunora/admin/rpc"]) {
          const answer = target === "/_lunora/admin/rpc"
            ? await post(ctx, target, LIST, [JSON_TYPE, ...headers])
            : await raw(ctx, "hostile admin", { method: "GET", target, headers });
          expectReserved(answer, 403, "ADMIN_FORBIDDEN");
        }
      }
      return `${
        attempts.length * 2
      } requests (none, the former token, empty, "undefined", "null") -> 403`;
    },
  );
}
