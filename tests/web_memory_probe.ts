/**
 * Run by server_web_test.ts as `deno run --v8-flags=--expose-gc`: starts a server with a web
 * port in this process, registers a WebSocket user, measures the heap and the memory outside it
 * (buffers) after a full collection, then sends a binary frame announcing 1 GiB that carries a
 * SEND over the body limit and 64 MiB of its body, and measures again while that frame is still
 * unfinished: what a server holding the frame would hold. Prints
 * `{"baseline": bytes, "during": bytes, "answer": "ERROR 102"}` on stdout.
 *
 * @module
 */
import { startServer } from "../src/server/server.ts";
import { WsWire } from "./web_wire.ts";

const gc = (globalThis as unknown as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");
const memory = () => {
  for (let i = 0; i < 4; i++) gc();
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
};
const encoder = new TextEncoder();

const server = await startServer({
  hostname: "127.0.0.1",
  port: 0,
  web: {
    port: 0,
    assets: { html: "", css: "", script: () => Promise.resolve({ ok: false, reason: "None." }) },
  },
});
const ws = await WsWire.open({ port: server.web!.port });
await ws.register("TOSEND", "big");
const baseline = memory();

// A binary frame announcing 1 GiB, masked with zeros (so the payload goes as it is).
const header = new Uint8Array(14);
header.set([0x82, 0x80 | 127, 0, 0, 0, 0x40, 0, 0, 0, 0]);
await ws.sendRaw(header);
await ws.sendRaw(encoder.encode("SEND nobody\nContent-length: 1000000000\n\n"));
const answer = await ws.next();
const chunk = new Uint8Array(1024 * 1024).fill(0x61);
for (let i = 0; i < 64; i++) await ws.sendRaw(chunk);
// Every write above returned, so the server has read all but what the socket buffers hold.
await new Promise((r) => setTimeout(r, 300));
const during = memory();

await ws.close();
await server.close({ drain: false });
console.log(JSON.stringify({
  baseline,
  during,
  answer: answer.type === "ERROR" ? `ERROR ${answer.code}` : answer.type,
  connections: server.connectionCount(),
}));
