/**
 * The server's defences, one test per limit or fault: deadlines, connection caps, the rate
 * limit, acknowledgement spoofing, graceful shutdown and TLS.
 */
import assert from "node:assert/strict";
import { startServer } from "../server.ts";
import { connect } from "../transport.ts";
import { Decoder, type Message } from "../protocol.ts";
import { delay, withWires } from "./wire.ts";
import { withServer } from "./harness.ts";

Deno.test("startServer closes a connection that does not register in time", async () => {
  await withServer({ registerTimeoutMs: 150 }, async (_s, w, log) => {
    const idle = await w.connect("idle");
    await idle.expectClosed();
    assert.ok(log.some((e) => e.event === "dropped" && /did not register/.test(e.reason)));
  });
});

Deno.test("startServer cuts a message that stalls half-sent (slowloris)", async () => {
  await withServer({ stallTimeoutMs: 200 }, async (_s, w) => {
    const abc = await w.user("abc");
    const xyz = await w.user("xyz");
    await abc.tosend.send("SEND xyz\nContent-len");
    await abc.tosend.expectClosed();
    // Registered, idle connections are fine for ever.
    await delay(300);
    assert.equal(xyz.tosend.ended, false);
  });
});

Deno.test("startServer refuses connections over --max-connections with ERROR 105", async () => {
  await withServer({ maxConnections: 2 }, async (_s, w) => {
    await w.user("abc");
    const third = await w.connect("third");
    assert.deepEqual(await third.next(), {
      type: "ERROR",
      code: 105,
      text: "Too many connections",
    });
    await third.expectClosed();
  });
});

Deno.test("startServer refuses connections over --max-per-address with ERROR 105", async () => {
  await withServer({ maxPerAddress: 1 }, async (_s, w) => {
    const first = await w.connect("first");
    const second = await w.connect("second");
    assert.equal((await second.next()).type, "ERROR");
    await second.expectClosed();
    await first.send("REGISTER TOSEND abc\n\n");
    assert.equal((await first.next()).type, "REGISTERED");
  });
});

Deno.test("startServer answers ERROR 106 over the rate limit and other users are unaffected", async () => {
  await withServer({ rateLimit: 1, rateBurst: 2 }, async (_s, w) => {
    const abc = await w.user("abc");
    const xyz = await w.user("xyz");
    const bob = await w.user("bob");
    const send = "SEND xyz\nContent-length: 2\n\nhi";
    await abc.tosend.send(send + send + send);
    for (let i = 0; i < 2; i++) {
      await xyz.torecv.next();
      await xyz.torecv.send("RECEIVED abc\n\n");
    }
    assert.deepEqual(await abc.tosend.next(), { type: "SENT", to: "xyz" });
    assert.deepEqual(await abc.tosend.next(), { type: "SENT", to: "xyz" });
    assert.deepEqual(await abc.tosend.next(), {
      type: "ERROR",
      code: 106,
      text: "Rate limit exceeded",
    });
    await xyz.torecv.expectNothing();
    await bob.tosend.send("SEND xyz\nContent-length: 2\n\nyo");
    await xyz.torecv.next();
    await xyz.torecv.send("RECEIVED bob\n\n");
    assert.deepEqual(await bob.tosend.next(), { type: "SENT", to: "xyz" });
  });
});

Deno.test("startServer never counts a spoofed RECEIVED as someone else's delivery", async () => {
  await withServer({}, async (_s, w) => {
    const abc = await w.user("abc");
    const xyz = await w.user("xyz");
    // An acknowledgement with nothing in flight is ignored...
    await xyz.torecv.send("RECEIVED abc\n\n");
    await abc.tosend.send("SEND xyz\nContent-length: 1\n\na");
    await xyz.torecv.next();
    await abc.tosend.expectNothing();
    // ...and one that names the wrong sender fails the message instead of confirming it.
    await xyz.torecv.send("RECEIVED mallory\n\n");
    assert.deepEqual(await abc.tosend.next(), {
      type: "ERROR",
      code: 102,
      text: "Unable to send",
    });
  });
});

Deno.test("startServer does not let a new registration displace an online user", async () => {
  await withServer({}, async (_s, w) => {
    const abc = await w.user("abc");
    const xyz = await w.user("xyz");
    for (const half of ["TOSEND", "TORECV"]) {
      const thief = await w.connect("thief");
      await thief.send(`REGISTER ${half} abc\n\n`);
      assert.deepEqual(await thief.next(), { type: "ERROR", code: 104, text: "Username taken" });
    }
    await xyz.tosend.send("SEND abc\nContent-length: 2\n\nhi");
    assert.equal((await abc.torecv.next()).type, "FORWARD");
  });
});

Deno.test("ChatServer.close drains messages in flight, then closes every connection", async () => {
  const server = await startServer({ hostname: "127.0.0.1", port: 0, drainTimeoutMs: 5000 });
  let closed: Promise<void> | null = null;
  try {
    await withWires({ hostname: "127.0.0.1", port: server.port }, async (w) => {
      const abc = await w.user("abc");
      const xyz = await w.user("xyz");
      await abc.tosend.send("SEND xyz\nContent-length: 2\n\nhi");
      await xyz.torecv.next();
      closed = server.close();
      await delay(100);
      // New messages are refused while draining; the one in flight still completes.
      await xyz.tosend.send("SEND abc\nContent-length: 2\n\nno");
      assert.deepEqual(await xyz.tosend.next(), {
        type: "ERROR",
        code: 102,
        text: "Unable to send",
      });
      await xyz.torecv.send("RECEIVED abc\n\n");
      assert.deepEqual(await abc.tosend.next(), { type: "SENT", to: "xyz" });
      await abc.tosend.expectClosed();
      await xyz.torecv.expectClosed();
    });
  } finally {
    await (closed ?? server.close());
  }
});

Deno.test("startServer with a crashing recipient fails only that recipient's messages", async () => {
  await withServer({}, async (_s, w) => {
    const abc = await w.user("abc");
    const xyz = await w.user("xyz");
    const bob = await w.user("bob");
    await abc.tosend.send("SEND xyz\nContent-length: 1\n\na");
    await xyz.torecv.next();
    await xyz.torecv.close(); // crashes mid-conversation
    assert.equal((await abc.tosend.next()).type, "ERROR");
    await abc.tosend.send("SEND bob\nContent-length: 1\n\nb");
    await bob.torecv.next();
    await bob.torecv.send("RECEIVED abc\n\n");
    assert.deepEqual(await abc.tosend.next(), { type: "SENT", to: "bob" });
  });
});

const openssl = (() => {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

for (const transport of ["deno", "node"] as const) {
  Deno.test({
    name: `startServer speaks the protocol over TLS (${transport} transport)` +
      (openssl ? "" : " (skipped: openssl is not installed; .ci/run installs it)"),
    ignore: !openssl,
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: "chat-tls-" });
      try {
        const made = await new Deno.Command("openssl", {
          args: [
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            `${dir}/key.pem`,
            "-out",
            `${dir}/cert.pem`,
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
          ],
          stdout: "null",
          stderr: "piped",
        }).output();
        assert.ok(made.success, new TextDecoder().decode(made.stderr));
        const cert = await Deno.readTextFile(`${dir}/cert.pem`);
        const key = await Deno.readTextFile(`${dir}/key.pem`);
        const server = await startServer({
          hostname: "127.0.0.1",
          port: 0,
          transport,
          tls: { cert, key },
        });
        try {
          const decoder = new Decoder({ from: "server" });
          let onMessage: (m: Message | null) => void = () => {};
          const answer = new Promise<Message | null>((resolve) => {
            const timer = setTimeout(() => resolve(null), 5000);
            onMessage = (m) => {
              clearTimeout(timer);
              resolve(m);
            };
          });
          const conn = await connect({
            hostname: "localhost",
            port: server.port,
            transport,
            tls: { caCerts: [cert] },
          }, {
            data: (chunk) =>
              decoder.feed(chunk, (e) => onMessage(e.kind === "message" ? e.message : null)),
            closed: () => onMessage(null),
          });
          conn.write(new TextEncoder().encode("REGISTER TOSEND abc\n\n"));
          const first = await answer;
          conn.close();
          await conn.done;
          assert.deepEqual(first, { type: "REGISTERED", half: "TOSEND", name: "abc" });
        } finally {
          await server.close({ drain: false });
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

Deno.test("startServer keeps a user's rate limit when the user leaves and registers again", async () => {
  await withServer({ rateLimit: 1, rateBurst: 1 }, async (_s, w) => {
    const xyz = await w.user("xyz");
    const first = await w.user("abc");
    await first.tosend.send("SEND xyz\nContent-length: 1\n\na");
    await xyz.torecv.next();
    await xyz.torecv.send("RECEIVED abc\n\n");
    assert.deepEqual(await first.tosend.next(), { type: "SENT", to: "xyz" });
    await first.tosend.send("UNREGISTER abc\n\n");
    assert.deepEqual(await first.tosend.next(), { type: "UNREGISTERED", name: "abc" });
    const again = await w.user("abc");
    await again.tosend.send("SEND xyz\nContent-length: 1\n\nb");
    assert.equal((await again.tosend.next()).type === "ERROR", true);
  });
});

Deno.test("startServer fails a message queued behind a slow recipient after twice the ack timeout", async () => {
  await withServer({ ackTimeoutMs: 1000 }, async (_s, w) => {
    const xyz = await w.user("xyz");
    const senders = [];
    for (let i = 0; i < 6; i++) senders.push(await w.user(`s${i}`));
    for (const s of senders) await s.tosend.send(`SEND xyz\nContent-length: 1\n\n${s.name}`);
    // xyz answers each message after 600 ms: always within the ack timeout, but the queue
    // ages. Messages forwarded by ~1.2 s arrive; those that would wait past 2 s fail (without
    // the queue deadline, all six would be delivered).
    const slow = (async () => {
      for (let k = 0; k < 6; k++) {
        let m;
        try {
          m = await xyz.torecv.next(1500);
        } catch {
          return;
        }
        await delay(600);
        if (m.type === "FORWARD") await xyz.torecv.send(`RECEIVED ${m.from}\n\n`);
      }
    })();
    for (const s of senders.slice(0, 3)) {
      assert.deepEqual(await s.tosend.next(), { type: "SENT", to: "xyz" }, s.name);
    }
    for (const s of senders.slice(4)) {
      assert.deepEqual(await s.tosend.next(), {
        type: "ERROR",
        code: 102,
        text: "Unable to send",
      }, s.name);
    }
    await slow;
  });
});

Deno.test("startServer closes at once a connection that starts a TLS handshake on a plain port", async () => {
  await withServer({ registerTimeoutMs: 60_000 }, async (_s, w, log) => {
    const tlsClient = await w.connect("tls client");
    await tlsClient.send(new Uint8Array([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1]));
    await tlsClient.expectClosed();
    assert.ok(log.some((e) => e.event === "dropped" && /speaks TLS/.test(e.reason)));
  });
});
