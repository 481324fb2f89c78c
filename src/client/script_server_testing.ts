/**
 * A scripted chat server for the engine's tests, over real sockets on 127.0.0.1 port 0: it
 * reads each frame the way the protocol writes it (first line, header lines, blank line, the
 * body of a SEND), records every frame of every connection (before REGISTER too), and answers
 * as the test's script says.
 *
 * @module
 */

import { connect } from "../net/transport.ts";
import { ChatSession, type ChatSessionOptions, type ClientEvent } from "./engine.ts";
import { type ClientKey, proofText, verifyProof } from "./identity.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One frame a client sent. */
export interface Frame {
  /** The first line, such as `SEND xyz`. */
  line: string;
  /** Header lines after the first (for SEND, Content-length first). */
  headers: string[];
  /** The body of a SEND. */
  body: string;
}

/** One connection a client opened, as the script sees it. */
export class ScriptConn {
  /** Every frame this connection sent, in order. */
  readonly frames: Frame[] = [];
  /** `TOSEND` or `TORECV` once it registered. */
  half: string | undefined;
  /** The name it registered. */
  name: string | undefined;
  /** Set by the script as it likes (such as a challenge handed out). */
  readonly notes: Record<string, string> = {};
  readonly #conn: Deno.TcpConn;
  #closed = false;

  /** Wraps `conn`. */
  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Writes `text` to the client. */
  write(text: string): void {
    if (this.#closed) return;
    this.#conn.write(encoder.encode(text)).catch(() => {});
  }

  /** Closes the connection. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* closed already */ }
  }

  /** The first lines of the frames sent, in order. */
  get lines(): string[] {
    return this.frames.map((f) => f.line + (f.line.startsWith("SEND server") ? ` ${f.body}` : ""));
  }
}

/** What the script does with each frame: answers through `c.write`, or closes `c`. */
export type Script = (
  c: ScriptConn,
  f: Frame,
  server: ScriptServer,
) => void | Promise<unknown>;

/** Reads the whole frames in `buf`; returns them and the bytes left over. */
function readFrames(buf: Uint8Array): { frames: Frame[]; rest: Uint8Array } {
  const frames: Frame[] = [];
  let at = 0;
  for (;;) {
    let end = -1;
    for (let i = at; i + 1 < buf.length; i++) {
      if (buf[i] === 10 && buf[i + 1] === 10) {
        end = i;
        break;
      }
    }
    if (end === -1) return { frames, rest: buf.slice(at) };
    const [line = "", ...headers] = decoder.decode(buf.subarray(at, end)).split("\n");
    const length = /^Content-length: (\d+)$/.exec(headers[0] ?? "");
    const bodyEnd = end + 2 + (line.startsWith("SEND") && length ? Number(length[1]) : 0);
    if (buf.length < bodyEnd) return { frames, rest: buf.slice(at) };
    frames.push({ line, headers, body: decoder.decode(buf.subarray(end + 2, bodyEnd)) });
    at = bodyEnd;
  }
}

/** A scripted server: every connection it accepted, and the script that answers them. */
export class ScriptServer {
  readonly #listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly #loops: Promise<void>[] = [];
  /** Answers the script is still making (a proof being verified): close() waits for them. */
  readonly #answering = new Set<Promise<unknown>>();
  readonly #accepting: Promise<void>;
  /** Every connection accepted, in order. */
  readonly conns: ScriptConn[] = [];
  /** The script (may be replaced between steps). */
  script: Script;

  /** Listens and answers with `script`. */
  constructor(script: Script) {
    this.script = script;
    this.#accepting = (async () => {
      for await (const conn of this.#listener) {
        const c = new ScriptConn(conn);
        this.conns.push(c);
        this.#loops.push(this.#serve(conn, c));
      }
    })().catch(() => {});
  }

  /** The port it listens on. */
  get port(): number {
    return this.#listener.addr.port;
  }

  /** The registered connection `half` of `name` (the latest one). */
  half(name: string, half: "TOSEND" | "TORECV"): ScriptConn | undefined {
    return this.conns.findLast((c) => c.name === name && c.half === half);
  }

  async #serve(conn: Deno.TcpConn, c: ScriptConn): Promise<void> {
    let buf: Uint8Array = new Uint8Array(0);
    try {
      for await (const chunk of conn.readable) {
        const all = new Uint8Array(buf.length + chunk.length);
        all.set(buf);
        all.set(chunk, buf.length);
        const { frames, rest } = readFrames(all);
        buf = rest;
        for (const f of frames) {
          c.frames.push(f);
          const answering = this.script(c, f, this);
          if (answering instanceof Promise) {
            const settled = answering.catch(() => {}).finally(() => {
              this.#answering.delete(settled);
            });
            this.#answering.add(settled);
          }
        }
      }
    } catch { /* closed */ }
    c.close();
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    for (const c of this.conns) c.close();
    await Promise.all(this.#loops);
    await Promise.all(this.#answering);
  }
}

/** How the scripted server answers. */
export interface Plan {
  /** The `Extensions:` it agrees to (default: every one asked). */
  agree?: string;
  /** Its answer to CHALLENGE (default `SENT server` with a fresh challenge); "close" closes. */
  challenge?: (c: ScriptConn) => string | undefined | Promise<string | undefined>;
  /**
   * Its answer to an IDENTIFY whose signature verified (default `Identity: owner` before
   * REGISTER, `Identity: claimed` after).
   */
  identify?: (c: ScriptConn, name: string, key: string) => string;
  /** Called on TOSEND `c` right before it answers EXTENSIONS (to send something first). */
  beforeAgree?: (c: ScriptConn) => void;
  /** Its answer to a SEND to a user (default `SENT <to>`). */
  send?: (c: ScriptConn, to: string, body: string) => string;
}

/** The scripted server's answers, per `plan`, each connection's answers in order. */
export function identityScript(plan: Plan = {}): Script {
  let challenges = 0;
  const queues = new Map<ScriptConn, Promise<void>>();
  const answer = (c: ScriptConn, make: () => string | Promise<string>): Promise<void> => {
    const next = (queues.get(c) ?? Promise.resolve()).then(async () => {
      const text = await make();
      if (text === "close") c.close();
      else c.write(text);
    });
    queues.set(c, next);
    return next;
  };
  return (c: ScriptConn, f: Frame): Promise<void> | undefined => {
    const [verb = "", a = "", b = ""] = f.line.split(" ");
    if (verb === "REGISTER") {
      c.half = a;
      c.name = b;
      return answer(c, () => `REGISTERED ${a} ${b}\n\n`);
    }
    if (verb === "UNREGISTER") {
      answer(c, () => `UNREGISTERED ${a}\n\n`);
      return answer(c, () => "close");
    }
    if (verb !== "SEND") return undefined;
    if (a !== "server") {
      if (c.half === undefined) return answer(c, () => "ERROR 101 No user registered\n\n");
      return answer(c, () => plan.send?.(c, a, f.body) ?? `SENT ${a}\n\n`);
    }
    const [word = "", name = "", key = "", signature = ""] = f.body.split(" ");
    if (word === "CHALLENGE") {
      return answer(c, async () => {
        const custom = await plan.challenge?.(c);
        if (custom !== undefined) return custom;
        c.notes.challenge = btoa(`challenge ${++challenges}`);
        return `SENT server\nChallenge: ${c.notes.challenge}\n\n`;
      });
    }
    if (word === "IDENTIFY") {
      return answer(c, async () => {
        const challenge = c.notes.challenge ?? "";
        delete c.notes.challenge;
        if (!(await verifyProof(key, proofText(challenge, name), signature))) {
          return "ERROR 102 Unable to send\nReason: bad-proof\n\n";
        }
        const custom = plan.identify?.(c, name, key);
        if (custom !== undefined) return custom;
        return `SENT server\nIdentity: ${c.half === undefined ? "owner" : "claimed"}\n\n`;
      });
    }
    if (word === "EXTENSIONS") {
      const asked = f.body.slice("EXTENSIONS ".length);
      return answer(c, () => {
        plan.beforeAgree?.(c);
        return `SENT server\nExtensions: ${plan.agree ?? asked}\n\n`;
      });
    }
    return answer(c, () => "SENT server\n\n");
  };
}

/** A store in memory: the key it holds, and the keys saved. */
export function memoryStore(key: ClientKey | null = null): {
  store: { key: ClientKey | null } & import("./options.ts").IdentityStore;
  saved: { server: string; name: string; key: ClientKey }[];
} {
  const saved: { server: string; name: string; key: ClientKey }[] = [];
  const store = {
    key,
    load: () => Promise.resolve(store.key),
    save: (server: string, name: string, k: ClientKey) => {
      saved.push({ server, name, key: k });
      store.key = k;
      return Promise.resolve();
    },
  };
  return { store, saved };
}

/** A session of `name` to `server`, recording its events. */
export function session(
  server: ScriptServer,
  more: Partial<ChatSessionOptions> = {},
  name = "alice",
): { session: ChatSession; events: ClientEvent[] } {
  const events: ClientEvent[] = [];
  const s = new ChatSession({
    connect,
    host: "127.0.0.1",
    port: server.port,
    name,
    timeoutMs: 5000,
    onEvent: (e) => events.push(e),
    ...more,
  });
  return { session: s, events };
}

/** Resolves once `done()` holds; fails after 5 s with `what`. */
export async function until(done: () => boolean, what: string): Promise<void> {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start > 5000) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
