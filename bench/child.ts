/**
 * The life every bench child process shares (the load generator, the hostile clients): its
 * command line, a deadline that ends it whatever happens to the parent, and JSON commands read
 * one per line from standard input, each answered with one JSON line on standard output.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** What {@link startChild} parsed. */
export interface ChildArgs {
  /** `--host`, default 127.0.0.1. */
  host: string;
  /** `--port`, required. */
  port: number;
  /** The extra options asked for, by name. */
  extra: Record<string, string | undefined>;
}

/**
 * Parses `--host`, `--port`, `--deadline SECONDS` (default 600) and the `extra` string options
 * with their defaults, and arms the deadline. A missing or bad port exits 2.
 */
export function startChild(name: string, extra: Record<string, string> = {}): ChildArgs {
  const options: Record<string, { type: "string"; default?: string }> = {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    deadline: { type: "string", default: "600" },
  };
  for (const [option, value] of Object.entries(extra)) {
    options[option] = { type: "string", default: value };
  }
  const { values } = parseArgs({ args: Deno.args, options });
  const v = values as Record<string, string | undefined>;
  const port = Number(v.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    console.error(`${name}: --port N is required`);
    Deno.exit(2);
  }
  // Bounded in time whatever happens to the parent.
  const deadline = setTimeout(() => {
    console.error(`${name}: deadline reached, exiting`);
    Deno.exit(3);
  }, Number(v.deadline) * 1000);
  Deno.unrefTimer(deadline);
  const chosen: Record<string, string | undefined> = {};
  for (const option of Object.keys(extra)) chosen[option] = v[option];
  return { host: v.host!, port, extra: chosen };
}

/**
 * Answers the commands on standard input, in order, until `quit` (answered, then `onQuit`, then
 * exit 0) or the end of input (the parent went away: exit 0). A line that is not JSON, or a
 * command whose handler throws, is answered `{ ok: false, error }`.
 */
export async function serveCommands<C extends { cmd: string }>(
  handle: (command: C) => unknown,
  onQuit: () => unknown = () => {},
): Promise<never> {
  const encoder = new TextEncoder();
  let buffered = "";
  for await (const text of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    buffered += text;
    let nl: number;
    while ((nl = buffered.indexOf("\n")) !== -1) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line === "") continue;
      let answer: unknown;
      let quit = false;
      try {
        const command = JSON.parse(line) as C;
        quit = command.cmd === "quit";
        answer = await handle(command);
      } catch (error) {
        answer = { ok: false, error: String(error) };
      }
      const bytes = encoder.encode(JSON.stringify(answer) + "\n");
      for (let off = 0; off < bytes.length;) off += await Deno.stdout.write(bytes.subarray(off));
      if (quit) {
        await onQuit();
        Deno.exit(0);
      }
    }
  }
  Deno.exit(0);
}
