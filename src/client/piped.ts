/**
 * The piped face of `chat client`: plain lines, no prompts; the exit code says whether every
 * message was delivered. What each line and event means is {@link PipedView}'s (view.ts);
 * this file reads standard input and writes the lines.
 *
 * @module
 */
import { connect } from "../net/transport.ts";
import { ChatSession } from "./engine.ts";
import type { ClientEvent } from "./events.ts";
import type { ClientArgs, Settings } from "./options.ts";
import { PipedView } from "./view.ts";

const encoder = new TextEncoder();

/**
 * Waits up to `waitMs` in all for the answers still owed, then for the receipts of the
 * messages stored in this session.
 */
async function awaitAnswers(session: ChatSession, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  await session.settle(waitMs);
  if (session.awaitingReceipts > 0) await session.receipts(Math.max(0, deadline - Date.now()));
}

function writeTo(stream: "stdout" | "stderr", text: string): void {
  try {
    const bytes = encoder.encode(text + "\n");
    const file = stream === "stdout" ? Deno.stdout : Deno.stderr;
    let off = 0;
    while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
  } catch { /* the reader went away: nothing more to tell it */ }
}

/** Reads lines from a byte stream (LF or CRLF; a last line without LF counts). */
class LineReader {
  #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  #lines: string[] = [];
  #done = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  async next(): Promise<string | null> {
    while (this.#lines.length === 0 && !this.#done) {
      let chunk: ReadableStreamReadResult<string>;
      try {
        chunk = await this.#reader.read();
      } catch {
        chunk = { done: true } as ReadableStreamReadResult<string>; // stdin broke: treat it as its end
      }
      const { value, done } = chunk;
      if (done) {
        this.#done = true;
        if (this.#buffer !== "") this.#lines.push(this.#buffer);
        this.#buffer = "";
        break;
      }
      this.#buffer += value;
      const parts = this.#buffer.split("\n");
      this.#buffer = parts.pop()!;
      this.#lines.push(...parts.map((l) => l.replace(/\r$/, "")));
    }
    return this.#lines.shift() ?? null;
  }

  cancel(): void {
    this.#reader.cancel().catch(() => {});
  }
}

/**
 * The extensions the piped face asks for: only those that keep standard output in the base
 * client's "from: text" form, plus owned names and mail (a stored message counts as sent).
 */
export const PIPED_EXTENSIONS: readonly string[] = ["reason", "unregister", "identity", "mail"];

/**
 * Runs the piped face: reads lines from standard input until its end; returns the exit code.
 * A message stored for an offline user counts as sent; after the input ends, the client waits
 * up to `--wait` for the answers still owed, then for the receipts of the messages stored in
 * this run (each printed as it comes), and leaves as soon as nothing more is awaited.
 */
export async function runPiped(args: ClientArgs, settings: Settings): Promise<number> {
  const view = new PipedView(settings.keyFile ? { keyFile: settings.keyFile } : {});
  const emit = (event: ClientEvent) => {
    const output = view.event(event);
    if (output !== null) writeTo(output.stream, output.text);
  };
  const session = new ChatSession({
    ...settings,
    connect,
    host: args.host!,
    port: args.port,
    name: args.name!,
    extensions: PIPED_EXTENSIONS,
    onEvent: emit,
  });
  const opened = await session.open();
  if (!opened.ok) {
    emit(opened.event);
    return 1;
  }

  let interrupted = false;
  const reader = new LineReader(Deno.stdin.readable);
  const { promise: stop, resolve: onStop } = Promise.withResolvers<null>();
  const onSigint = () => {
    interrupted = true;
    onStop(null);
  };
  Deno.addSignalListener("SIGINT", onSigint);
  try {
    const ended = session.ended.then(() => null);
    for (;;) {
      const line = await Promise.race([reader.next(), ended, stop]);
      if (line === null) break;
      const step = view.line(line);
      if (step.kind === "send") {
        // Reading waits while the queue is full (reconnecting, or held back by ERROR 106).
        let queued = session.send(step.to, step.text) !== null;
        while (!queued && session.full && !interrupted && !session.done) {
          await Promise.race([session.room(), ended, stop]);
          queued = session.send(step.to, step.text) !== null;
        }
        if (!queued) break; // the session ended, or Ctrl-C
      } else if (step.kind === "print") {
        writeTo(step.output.stream, step.output.text);
      } else if (step.kind === "quit") {
        break;
      }
    }
    reader.cancel();
    if (!interrupted) await Promise.race([awaitAnswers(session, args.waitMs), stop]);
    await session.leave();
    return view.exitCode((await session.ended) === "left", session);
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
  }
}
