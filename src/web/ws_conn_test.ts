import assert from "node:assert/strict";
import {
  chatSocketUrl,
  closeError,
  pageServer,
  type WebSocketClass,
  webSocketConnect,
} from "./ws_conn.ts";
import type { Conn, ConnHandler } from "../net/conn.ts";

/** A WebSocket server on 127.0.0.1 port 0 (Deno's, for the test only) that hands each socket on. */
function wsServer(onSocket: (socket: WebSocket) => void) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.binaryType = "arraybuffer";
    onSocket(socket);
    return response;
  });
  return { url: `ws://127.0.0.1:${server.addr.port}/ws`, server };
}

/** A handler that records what it is told. */
function recorder() {
  const chunks: Uint8Array[] = [];
  const closes: (Error | undefined)[] = [];
  const closed = Promise.withResolvers<void>();
  const handler: ConnHandler = {
    data: (chunk) => chunks.push(chunk.slice()),
    closed: (error) => {
      closes.push(error);
      closed.resolve();
    },
  };
  return { chunks, closes, closed: closed.promise, handler };
}

const connectTo = (url: string, handler: ConnHandler): Promise<Conn> =>
  webSocketConnect(url)({ hostname: "ignored", port: 1 }, handler);

Deno.test("webSocketConnect writes each chunk as one binary message and reads binary and text", async () => {
  const got: Uint8Array[] = [];
  const serverSide = Promise.withResolvers<WebSocket>();
  const { url, server } = wsServer((socket) => {
    socket.onopen = () => serverSide.resolve(socket);
    socket.onmessage = (e) => got.push(new Uint8Array(e.data as ArrayBuffer));
  });
  try {
    const r = recorder();
    const conn = await connectTo(url, r.handler);
    const peer = await serverSide.promise;
    conn.write(new TextEncoder().encode("REGISTER TOSEND abc\n\n"));
    conn.write(new Uint8Array([0xe2, 0x9c, 0x93]));
    peer.send(new TextEncoder().encode("REGISTERED TOSEND abc\n\n"));
    peer.send("text too");
    while (got.length < 2 || r.chunks.length < 2) await new Promise((res) => setTimeout(res, 5));
    assert.deepEqual(got.map((b) => [...b]), [
      [...new TextEncoder().encode("REGISTER TOSEND abc\n\n")],
      [0xe2, 0x9c, 0x93],
    ]);
    const text = r.chunks.map((c) => new TextDecoder().decode(c));
    assert.deepEqual(text, ["REGISTERED TOSEND abc\n\n", "text too"]);
    assert.equal(conn.remote, new URL(url).host);
    assert.equal(conn.remoteHost, "127.0.0.1");
    assert.equal(typeof conn.queuedBytes, "number");
    conn.close();
    await conn.done;
    await r.closed;
    assert.deepEqual(r.closes, [undefined], "closed is told once, without an error");
    assert.ok(conn.closed);
    conn.write(new Uint8Array([1])); // ignored after close
  } finally {
    await server.shutdown();
  }
});

Deno.test("webSocketConnect tells a close by the server once, with its code and reason", async () => {
  const { url, server } = wsServer((socket) => {
    socket.onopen = () => socket.close(1002, "Reserved bits are set.");
  });
  try {
    const r = recorder();
    const conn = await connectTo(url, r.handler);
    await r.closed;
    await conn.done;
    assert.equal(r.closes.length, 1);
    assert.equal(
      r.closes[0]?.message,
      "the server closed the WebSocket with code 1002: Reserved bits are set",
    );
    conn.close(); // nothing more is told
    assert.equal(r.closes.length, 1);
  } finally {
    await server.shutdown();
  }
});

Deno.test("webSocketConnect rejects with a sentence when nothing listens", async () => {
  const { url, server } = wsServer(() => {});
  await server.shutdown();
  const r = recorder();
  await assert.rejects(connectTo(url, r.handler), (error: Error) => {
    assert.match(error.message, /^the WebSocket to ws:\/\/127\.0\.0\.1:\d+\/ws did not open/);
    assert.match(error.message, /the server may be down/);
    return true;
  });
  assert.deepEqual(r.closes, [], "closed is not told for a socket that never opened");
});

Deno.test("webSocketConnect rejects an address a WebSocket cannot use", async () => {
  const Throwing = class {
    constructor(url: string | URL) {
      throw new SyntaxError(`Invalid URL: ${url}`);
    }
  } as unknown as WebSocketClass;
  await assert.rejects(
    webSocketConnect("nope", Throwing)({ hostname: "h", port: 1 }, recorder().handler),
    /the address "nope" cannot be used for a WebSocket \(Invalid URL: nope\)/,
  );
});

Deno.test("closeError is undefined for a normal close and a sentence otherwise", () => {
  assert.equal(closeError({ code: 1000, reason: "" }), undefined);
  assert.equal(closeError({ code: 1001, reason: "going away" }), undefined);
  assert.equal(closeError({ code: 1005, reason: "" }), undefined);
  assert.equal(
    closeError({ code: 1006, reason: "" })?.message,
    "the WebSocket broke off without a close frame",
  );
  assert.equal(
    closeError({ code: 1009, reason: "Frame too big." })?.message,
    "the server closed the WebSocket with code 1009: Frame too big",
  );
});

Deno.test("chatSocketUrl and pageServer follow the page's address", () => {
  assert.equal(
    chatSocketUrl({ protocol: "http:", host: "127.0.0.1:8080" }),
    "ws://127.0.0.1:8080/ws",
  );
  assert.equal(chatSocketUrl({ protocol: "https:", host: "chat.lan" }), "wss://chat.lan/ws");
  assert.deepEqual(pageServer({ protocol: "http:", hostname: "[::1]", port: "8080" }), {
    host: "::1",
    port: 8080,
  });
  assert.deepEqual(pageServer({ protocol: "https:", hostname: "chat.lan", port: "" }), {
    host: "chat.lan",
    port: 443,
  });
  assert.deepEqual(pageServer({ protocol: "http:", hostname: "chat.lan", port: "" }), {
    host: "chat.lan",
    port: 80,
  });
});
