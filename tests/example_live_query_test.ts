/**
 * The example's live query (examples/chat/src/client/live_query.ts), which both of its islands
 * use: it starts from the preloaded value, subscribes over the socket, and shows every pushed
 * value as it is, decoded from the wire.
 */
import assert from "node:assert/strict";
import {
  applyFrame,
  initialState,
  type LiveState,
  type LiveToken,
  subscribeLive,
} from "../examples/chat/src/client/live_query.ts";

const T = "$lunora.wire$";

const token: LiveToken<{ total: bigint } | null> = {
  functionPath: "messages:stats",
  args: { channel: "general" },
  shardKey: "general",
  value: { total: 3n },
};

/** A WebSocket stand-in for one test: records what is sent, lets the test play the server. */
class ScriptedSocket extends EventTarget {
  static opened: ScriptedSocket[] = [];
  readonly sent: string[] = [];
  closed = false;

  constructor(readonly url: string) {
    super();
    ScriptedSocket.opened.push(this);
  }

  send(text: string): void {
    this.sent.push(text);
  }

  close(): void {
    this.closed = true;
    this.dispatchEvent(new Event("close"));
  }

  open(): void {
    this.dispatchEvent(new Event("open"));
  }

  receive(frame: unknown): void {
    this.dispatchEvent(
      new MessageEvent("message", { data: JSON.stringify(frame) }),
    );
  }
}

function live(
  states: LiveState<unknown>[],
): { stop: () => void; socket: ScriptedSocket } {
  ScriptedSocket.opened = [];
  const stop = subscribeLive(token, (state) => states.push(state), {
    apiUrl: "http://127.0.0.1:4321",
    WebSocket: ScriptedSocket as unknown as typeof WebSocket,
    pingMs: 60_000,
  });
  return { stop, socket: ScriptedSocket.opened[0]! };
}

Deno.test("the first state is the preloaded value, not live, with no push yet", () => {
  assert.deepEqual(initialState(token), {
    value: { total: 3n },
    live: false,
    status: "server-rendered",
    pushes: 0,
  });
});

Deno.test("a pushed null replaces the server's value instead of falling back to it", () => {
  const state = applyFrame(initialState(token), {
    type: "data",
    id: "sub_1",
    data: null,
  }, "sub_1");
  assert.equal(state.value, null);
  assert.equal(state.pushes, 1);
});

Deno.test("a frame for another subscription leaves the state as it is", () => {
  const before = initialState(token);
  assert.equal(
    applyFrame(before, { type: "data", id: "sub_2", data: null }, "sub_1"),
    before,
  );
});

Deno.test("subscribeLive() subscribes to the token's query on its shard and decodes pushes", () => {
  const states: LiveState<unknown>[] = [];
  const { stop, socket } = live(states);
  try {
    assert.equal(socket.url, "ws://127.0.0.1:4321/_lunora/ws?shard=general");
    socket.open();
    assert.deepEqual(JSON.parse(socket.sent[0]!), {
      type: "subscribe",
      id: "sub_1",
      query: { functionPath: "messages:stats", args: { channel: "general" } },
    });
    socket.receive({ type: "ack", id: "sub_1" });
    assert.equal(states.at(-1)?.live, true);
    socket.receive({
      type: "data",
      id: "sub_1",
      data: { total: [T, "bigint", "4"] },
    });
    assert.deepEqual(states.at(-1)?.value, { total: 4n });
    socket.receive({ type: "data", id: "sub_1", data: null });
    assert.equal(states.at(-1)?.value, null);
    assert.equal(states.at(-1)?.pushes, 2);
  } finally {
    stop();
  }
});

Deno.test("the function subscribeLive() returns closes the socket for good", () => {
  const states: LiveState<unknown>[] = [];
  const { stop, socket } = live(states);
  stop();
  assert.equal(socket.closed, true);
  assert.equal(
    ScriptedSocket.opened.length,
    1,
    "it reconnected after being stopped",
  );
  assert.notEqual(states.at(-1)?.status, "reconnecting…");
});
