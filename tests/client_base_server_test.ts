/**
 * Our client against a server that knows only the base protocol, written here and strict: it
 * reads each frame by the base protocol alone (REGISTER, SEND with exactly one Content-length
 * header, RECEIVED), answers a SEND to a name nobody has with ERROR 102, as every base server
 * does, forwards to its other users, and records every frame the client sends. The client
 * (`chat client` in piped mode, the command from tests/cli_cmd.ts) must send it nothing else:
 * its extension probe is a plain one-line SEND to `server`, and after the base answer it uses
 * no extension, not even UNREGISTER when it leaves (PROTOCOL.md, "Negotiation").
 */
import assert from "node:assert/strict";
import { PipedClient, testEnv } from "./spawn.ts";
import { generateClientKey } from "../src/client/identity.ts";
import { identityPath, newRecord, writeIdentityFile } from "../src/client/identity_file.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The body of our client's probe (which extensions the piped face asks for is its choice). */
const PROBE_BODY = /^EXTENSIONS( [a-z]+)+$/;

/** One frame as the base protocol reads it. */
interface Frame {
  /** The first line, such as `SEND xyz`. */
  line: string;
  /** Header lines after the first, as they came (for SEND and FORWARD, Content-length first). */
  headers: string[];
  /** The body of a SEND or FORWARD. */
  body?: string;
}

/**
 * Reads the frames in `buf`: a first line, header lines, an empty line, and for SEND and FORWARD
 * the body whose length the `Content-length: N` line gives. Returns the frames and the bytes
 * left over; a frame that cannot be read by the base protocol is returned with `broken`.
 */
function readFrames(buf: Uint8Array): { frames: Frame[]; rest: Uint8Array; broken?: string } {
  const frames: Frame[] = [];
  let at = 0;
  for (;;) {
    const end = indexOfBlankLine(buf, at);
    if (end === -1) return { frames, rest: buf.slice(at) };
    const [line = "", ...headers] = decoder.decode(buf.subarray(at, end)).split("\n");
    const verb = line.split(" ")[0];
    if (verb !== "SEND" && verb !== "FORWARD") {
      frames.push({ line, headers });
      at = end + 2;
      continue;
    }
    const length = /^Content-length: (\d+)$/.exec(headers[0] ?? "");
    if (length === null) return { frames, rest: buf.slice(at), broken: line };
    const bodyEnd = end + 2 + Number(length[1]);
    if (buf.length < bodyEnd) return { frames, rest: buf.slice(at) };
    frames.push({ line, headers, body: decoder.decode(buf.subarray(end + 2, bodyEnd)) });
    at = bodyEnd;
  }
}

function indexOfBlankLine(buf: Uint8Array, from: number): number {
  for (let i = from; i + 1 < buf.length; i++) if (buf[i] === 10 && buf[i + 1] === 10) return i;
  return -1;
}

/** Closes `conn` unless it is closed already. */
function closeQuietly(conn: Deno.TcpConn): void {
  try {
    conn.close();
  } catch { /* closed already */ }
}

/** Reads `conn` frame by frame until it closes, calling `onFrame` for each. */
async function readLoop(
  conn: Deno.TcpConn,
  onFrame: (f: Frame) => void | Promise<void>,
  onBroken: (line: string) => void,
): Promise<void> {
  let buf: Uint8Array = new Uint8Array(0);
  try {
    for await (const chunk of conn.readable) {
      const all = new Uint8Array(buf.length + chunk.length);
      all.set(buf);
      all.set(chunk, buf.length);
      const { frames, rest, broken } = readFrames(all);
      buf = rest;
      for (const f of frames) await onFrame(f);
      if (broken !== undefined) return onBroken(broken);
    }
  } catch { /* closed by us */ }
}

/** One side of a user at the base server. */
interface Half {
  conn: Deno.TcpConn;
  /** Resolvers of the FORWARDs written to this TORECV connection, oldest first. */
  acks: (() => void)[];
}

/** A strict base-protocol server on 127.0.0.1, port 0, that records what its clients send. */
class BaseServer {
  readonly #listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly #loops: Promise<void>[] = [];
  readonly #conns: Deno.TcpConn[] = [];
  readonly #users = new Map<string, { TOSEND?: Half; TORECV?: Half }>();
  /** Every frame each user sent, by the name it registered. */
  readonly frames = new Map<string, Frame[]>();
  /** SENDs to names nobody has: `from`, `to` and body. */
  readonly unknown: { from: string; to: string; body: string }[] = [];
  /** Frames sent before REGISTER on a connection, as first line and body. */
  readonly early: string[] = [];
  readonly #accepting: Promise<void>;
  /** Close a connection that sends anything before REGISTER (else: ERROR 101). */
  readonly #closeEarly: boolean;

  constructor({ closeEarly = false } = {}) {
    this.#closeEarly = closeEarly;
    this.#accepting = (async () => {
      for await (const conn of this.#listener) {
        this.#conns.push(conn);
        this.#loops.push(this.#serve(conn));
      }
    })().catch(() => {});
  }

  get port(): number {
    return this.#listener.addr.port;
  }

  async #serve(conn: Deno.TcpConn): Promise<void> {
    const me: { name?: string; half?: "TOSEND" | "TORECV"; h?: Half } = {};
    let answers = Promise.resolve();
    const write = async (text: string) => {
      await conn.write(encoder.encode(text)).catch(() => 0);
    };
    const fail = async () => {
      await write("ERROR 103 Header incomplete\n\n");
      closeQuietly(conn);
    };
    await readLoop(conn, async (f) => {
      const [verb, a = "", b = ""] = f.line.split(" ");
      if (me.name !== undefined) this.frames.get(me.name)?.push(f);
      if (verb === "REGISTER" && me.name === undefined && /^[A-Za-z0-9]+$/.test(b)) {
        me.name = b;
        me.half = a as "TOSEND" | "TORECV";
        me.h = { conn, acks: [] };
        if (!this.frames.has(b)) this.frames.set(b, []);
        this.frames.get(b)!.push(f);
        this.#users.set(b, { ...this.#users.get(b), [me.half]: me.h });
        await write(`REGISTERED ${a} ${b}\n\n`);
      } else if (me.name === undefined) {
        this.early.push(`${f.line} ${f.body ?? ""}`.trim());
        if (this.#closeEarly) closeQuietly(conn);
        else await write("ERROR 101 No user registered\n\n");
      } else if (verb === "SEND" && me.half === "TOSEND" && f.headers.length === 1) {
        // Answers go out in the order of the SENDs.
        const from = me.name;
        answers = answers.then(() => this.#deliver(from, a, f.body ?? "").then(write));
      } else if (verb === "RECEIVED" && me.half === "TORECV" && f.headers.length === 0) {
        me.h?.acks.shift()?.();
      } else {
        await fail();
      }
    }, fail);
    await answers;
    if (me.name !== undefined) this.#users.delete(me.name);
    closeQuietly(conn);
  }

  /** Delivers `body` from `from` to `to` (or everyone); resolves with the answer to write. */
  async #deliver(from: string, to: string, body: string): Promise<string> {
    const online = [...this.#users].filter(([, u]) => u.TOSEND && u.TORECV);
    const targets = to === "ALL"
      ? online.filter(([name]) => name !== from)
      : online.filter(([name]) => name === to);
    if (targets.length === 0 && to !== "ALL") {
      this.unknown.push({ from, to, body });
      return "ERROR 102 Unable to send\n\n";
    }
    const forward = `FORWARD ${from}\nContent-length: ${encoder.encode(body).length}\n\n${body}`;
    await Promise.all(targets.map(([, u]) => {
      const { promise, resolve } = Promise.withResolvers<void>();
      u.TORECV!.acks.push(resolve);
      u.TORECV!.conn.write(encoder.encode(forward)).catch(() => resolve());
      return promise;
    }));
    return `SENT ${to}\n\n`;
  }

  async close(): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    for (const c of this.#conns) closeQuietly(c);
    await Promise.all(this.#loops);
  }
}

/** A user of the base server played by the test: it acknowledges what it gets and can send. */
class RawUser {
  readonly received: { from: string; text: string }[] = [];
  readonly answers: string[] = [];
  #tosend!: Deno.TcpConn;
  #torecv!: Deno.TcpConn;
  #loops: Promise<void>[] = [];

  static async join(name: string, port: number): Promise<RawUser> {
    const user = new RawUser();
    const open = async (half: string, onFrame: (f: Frame) => void) => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(encoder.encode(`REGISTER ${half} ${name}\n\n`));
      const registered = Promise.withResolvers<void>();
      user.#loops.push(readLoop(conn, (f) => {
        if (f.line.startsWith("REGISTERED")) registered.resolve();
        else onFrame(f);
      }, () => {}));
      await registered.promise;
      return conn;
    };
    user.#tosend = await open("TOSEND", (f) => user.answers.push(f.line));
    user.#torecv = await open("TORECV", (f) => {
      const from = f.line.slice("FORWARD ".length);
      user.received.push({ from, text: f.body ?? "" });
      user.#torecv.write(encoder.encode(`RECEIVED ${from}\n\n`)).catch(() => {});
    });
    return user;
  }

  async send(to: string, text: string): Promise<void> {
    const body = encoder.encode(text);
    await this.#tosend.write(
      new Uint8Array([
        ...encoder.encode(`SEND ${to}\nContent-length: ${body.length}\n\n`),
        ...body,
      ]),
    );
  }

  async leave(): Promise<void> {
    closeQuietly(this.#tosend);
    closeQuietly(this.#torecv);
    await Promise.all(this.#loops);
  }
}

/** Resolves once `done()` holds; fails after 10 s with `what`. */
async function until(done: () => boolean, what: string): Promise<void> {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start > 10_000) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Checks that every frame `frames` holds is base protocol: REGISTER, SEND with only its
 * Content-length, RECEIVED with no header line; returns them as first lines.
 */
function assertBaseOnly(frames: Frame[]): string[] {
  for (const f of frames) {
    const verb = f.line.split(" ")[0]!;
    assert.ok(["REGISTER", "SEND", "RECEIVED"].includes(verb), `a base verb: ${f.line}`);
    const expected = verb === "SEND" ? [f.headers[0]] : [];
    assert.deepEqual(f.headers, expected, `no header line but Content-length: ${f.line}`);
    if (f.line === "SEND server") assert.ok(!f.body!.includes("\n"), "the probe is one line");
  }
  return frames.map((f) => f.line);
}

Deno.test("chat client sends a base-protocol server nothing but base protocol", async () => {
  const server = new BaseServer();
  const xyz = await RawUser.join("xyz", server.port);
  const abc = new PipedClient("abc", server.port);
  try {
    await abc.registered();
    await abc.type("@xyz hi", "@ALL yo");
    await until(() => xyz.received.length === 2, "the messages at xyz");
    await until(() => abc.stdout.length === 2, "the two answers");
    await xyz.send("abc", "hello back");
    await abc.process.waitFor(/^xyz: hello back$/);
    assert.equal(await abc.exit(), 0);
    assert.deepEqual(abc.stdout, [
      "Message successfully sent to xyz",
      "Message successfully sent to ALL (everyone online)",
      "xyz: hello back",
    ]);
    assert.deepEqual(abc.stderr, [
      `Registered as abc on 127.0.0.1:${server.port}.`,
      "Left the chat.",
    ]);
    assert.deepEqual(xyz.received, [{ from: "abc", text: "hi" }, { from: "abc", text: "yo" }]);
    assert.deepEqual(xyz.answers, ["SENT abc"]);
    // Everything the client sent, in order per connection: the probe is the one SEND to a name
    // nobody has, answered ERROR 102; no UNREGISTER when it left, no header line anywhere.
    const lines = assertBaseOnly(server.frames.get("abc")!);
    assert.deepEqual(lines.filter((l) => !l.startsWith("REGISTER")), [
      "SEND server",
      "SEND xyz",
      "SEND ALL",
      "RECEIVED xyz",
    ]);
    assert.deepEqual(lines.filter((l) => l.startsWith("REGISTER")).sort(), [
      "REGISTER TORECV abc",
      "REGISTER TOSEND abc",
    ]);
    assert.deepEqual(server.unknown.map((u) => [u.from, u.to]), [["abc", "server"]]);
    assert.match(server.unknown[0]!.body, PROBE_BODY);
  } finally {
    await abc.dispose();
    await xyz.leave();
    await server.close();
  }
});

Deno.test("chat client takes SENT server without header from a base server whose user is called server", async () => {
  const server = new BaseServer();
  const named = await RawUser.join("server", server.port);
  const xyz = await RawUser.join("xyz", server.port);
  const abc = new PipedClient("abc", server.port);
  try {
    await abc.registered();
    await abc.type("@xyz hi");
    await abc.process.waitFor(/^Message successfully sent to xyz$/);
    assert.equal(await abc.exit(), 0);
    // The user called server got the probe as an ordinary one-line message.
    assert.deepEqual(named.received.map((r) => r.from), ["abc"]);
    assert.match(named.received[0]!.text, PROBE_BODY);
    assert.deepEqual(xyz.received, [{ from: "abc", text: "hi" }]);
    assert.deepEqual(abc.stdout, ["Message successfully sent to xyz"]);
    assert.deepEqual(abc.stderr, [
      `Registered as abc on 127.0.0.1:${server.port}.`,
      "Left the chat.",
    ]);
    const lines = assertBaseOnly(server.frames.get("abc")!);
    assert.deepEqual(lines.filter((l) => !l.startsWith("REGISTER")), ["SEND server", "SEND xyz"]);
    assert.deepEqual(server.unknown, []);
  } finally {
    await abc.dispose();
    await named.leave();
    await xyz.leave();
    await server.close();
  }
});

/** Puts an identity for `name` at 127.0.0.1:`port` in the config directory spawned clients use. */
async function holdIdentity(name: string, port: number): Promise<void> {
  const server = `127.0.0.1:${port}`;
  const path = identityPath(server, name, `${testEnv().XDG_CONFIG_HOME}/chat`)!;
  await writeIdentityFile(path, newRecord(server, name, await generateClientKey()), true);
}

for (const closeEarly of [false, true]) {
  const answer = closeEarly ? "a close" : "ERROR 101";
  Deno.test(`chat client with an identity for a base server proves first, gets ${answer}, and then works plainly`, async () => {
    const server = new BaseServer({ closeEarly });
    const xyz = await RawUser.join("xyz", server.port);
    await holdIdentity("abc", server.port);
    const abc = new PipedClient("abc", server.port);
    try {
      await abc.registered();
      await abc.type("@xyz hi");
      await until(() => xyz.received.length === 1, "the message at xyz");
      assert.equal(await abc.exit(), 0);
      assert.deepEqual(abc.stdout, ["Message successfully sent to xyz"]);
      // One CHALLENGE on each connection of the first pair, then nothing but base protocol.
      assert.deepEqual(server.early, ["SEND server CHALLENGE", "SEND server CHALLENGE"]);
      const lines = assertBaseOnly(server.frames.get("abc")!);
      assert.deepEqual(lines.filter((l) => !l.startsWith("REGISTER")), ["SEND server", "SEND xyz"]);
      assert.match(server.unknown[0]!.body, PROBE_BODY);
      const noSupport = abc.stderr.filter((l) => /answered as a base server/.test(l));
      assert.equal(noSupport.length, 1, abc.stderr.join("\n"));
      assert.ok(abc.stderr.includes("Left the chat."), abc.stderr.join("\n"));
    } finally {
      await abc.dispose();
      await xyz.leave();
      await server.close();
    }
  });
}
