/**
 * ChatSession over an in-memory connection: the engine takes its connect function, so it runs
 * with no socket at all (as it will in a browser).
 */
import assert from "node:assert/strict";
import type { Conn, ConnectFn, ConnHandler } from "../net/conn.ts";
import { ChatSession } from "./engine.ts";
import type { ClientEvent } from "./events.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A connect function to a pretend server in memory that registers every half, answers SENT to
 * each SEND and UNREGISTERED to UNREGISTER (then closes). Each write is one whole message.
 */
function memoryServer(): { connect: ConnectFn; written: string[] } {
  const written: string[] = [];
  const conns: (() => void)[] = [];
  const connect: ConnectFn = (_options, handler: ConnHandler) => {
    const done = Promise.withResolvers<void>();
    let closed = false;
    const reply = (text: string) =>
      queueMicrotask(() => {
        if (!closed) handler.data(encoder.encode(text));
      });
    const close = () => {
      if (closed) return;
      closed = true;
      handler.closed();
      done.resolve();
    };
    conns.push(close);
    const conn: Conn = {
      remote: "memory:1",
      remoteHost: "memory",
      queuedBytes: 0,
      sentBytes: 0,
      get closed() {
        return closed;
      },
      done: done.promise,
      write(bytes) {
        const text = decoder.decode(bytes);
        written.push(text);
        const [verb = "", arg = "", name = ""] = text.split("\n")[0]!.split(" ");
        if (verb === "REGISTER") reply(`REGISTERED ${arg} ${name}\n\n`);
        if (verb === "SEND") reply(`SENT ${arg}\n\n`);
        if (verb === "UNREGISTER") {
          reply(`UNREGISTERED ${arg}\n\n`);
          queueMicrotask(() => queueMicrotask(() => conns.forEach((c) => c())));
        }
      },
      end: close,
      close,
    };
    return Promise.resolve(conn);
  };
  return { connect, written };
}

Deno.test("ChatSession runs over a connect function it is given, no socket needed", async () => {
  const { connect, written } = memoryServer();
  const events: ClientEvent[] = [];
  const session = new ChatSession({
    connect,
    host: "example.org",
    port: 5500,
    name: "abc",
    timeoutMs: 10_000,
    onEvent: (e) => events.push(e),
  });
  assert.deepEqual(await session.open(), { ok: true });
  assert.equal(session.send("xyz", "Hiii"), true);
  assert.equal(await session.settle(10_000), true);
  await session.leave();
  assert.equal(await session.ended, "left");
  assert.deepEqual(written.sort(), [
    "REGISTER TORECV abc\n\n",
    "REGISTER TOSEND abc\n\n",
    "SEND xyz\nContent-length: 4\n\nHiii",
    "UNREGISTER abc\n\n",
  ]);
  assert.deepEqual(events, [
    { type: "registered", name: "abc", server: "example.org:5500", hint: false },
    { type: "sent", to: "xyz" },
    { type: "left", confirmed: true },
  ]);
});

Deno.test("ChatSession reports a connect function's refusal as a refused connection", async () => {
  const refused = new Error("Connection refused (os error 111)");
  refused.name = "ConnectionRefused";
  const session = new ChatSession({
    connect: () => Promise.reject(refused),
    host: "example.org",
    port: 5500,
    name: "abc",
    timeoutMs: 10_000,
    onEvent: () => {},
  });
  const result = await session.open();
  assert.ok(!result.ok && result.event.type === "connect-failed");
  assert.equal(
    !result.ok && result.event.type === "connect-failed" && result.event.reason,
    "refused",
  );
  assert.equal(await session.ended, "disconnected");
});
