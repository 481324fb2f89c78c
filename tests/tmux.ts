/**
 * A real terminal for tests: one tmux server on its own socket, one 80x24 pane running a shell
 * command, keys typed with `send-keys` and the screen read with `capture-pane`. Tests that need
 * it are ignored (and say so in their names) when tmux is not installed.
 *
 * @module
 */
import { chatCommand } from "./cli_cmd.ts";
import { testEnv } from "./spawn.ts";

/** True if the `tmux` command runs. */
export function tmuxAvailable(): boolean {
  try {
    return new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Quotes a word for the POSIX shell that tmux runs the command with. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** How long {@link TmuxPane.waitUntil} waits by default. */
const WAIT_MS = 10_000;

/**
 * One tmux server on its own socket, with one 80x24 pane: the one way the tests drive a real
 * terminal (the client's screens, the server's Ctrl-C).
 */
export class TmuxPane {
  readonly socket = `chat-test-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;

  /** Runs a tmux command on this pane's server and returns its standard output. */
  async tmux(...args: string[]): Promise<string> {
    const out = await new Deno.Command("tmux", {
      args: ["-L", this.socket, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`tmux ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
    }
    return new TextDecoder().decode(out.stdout);
  }

  /**
   * Starts `shellLine` (run by `sh -c`) in the pane, in `cwd`; afterwards the pane keeps the
   * screen for a minute so that it can still be read.
   */
  async start(shellLine: string, cwd: string = Deno.cwd()): Promise<void> {
    await this.tmux(
      "new-session",
      "-d",
      "-s",
      "t",
      "-x",
      "80",
      "-y",
      "24",
      "-c",
      cwd,
      `${shellLine}; sleep 60`,
    );
  }

  /** Types literal text (no Enter); a "\r" in it is Enter, all in one write (as a paste). */
  async type(text: string): Promise<void> {
    await this.tmux("send-keys", "-t", "t", "-l", text);
  }

  /** Presses keys by tmux name: Enter, Tab, Up, C-c, C-d... */
  async press(...keys: string[]): Promise<void> {
    for (const key of keys) await this.tmux("send-keys", "-t", "t", key);
  }

  /** Types `text` and presses Enter. */
  async line(text: string): Promise<void> {
    await this.type(text);
    await this.press("Enter");
  }

  /**
   * The visible screen (with `escapes`, its colour codes too), wrapped lines joined, trailing
   * blank lines dropped.
   */
  async screen(escapes = false): Promise<string[]> {
    const args = ["capture-pane", "-p", "-J", "-t", "t"];
    if (escapes) args.push("-e");
    return lines(await this.tmux(...args));
  }

  /** Everything the pane showed, scrollback included, trailing blank lines dropped. */
  async history(): Promise<string[]> {
    return lines(await this.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "t"));
  }

  /** Waits until the visible screen satisfies `test`; returns that screen. */
  async waitUntil(
    test: (lines: string[]) => boolean,
    what: string,
    timeoutMs = WAIT_MS,
  ): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    let shown: string[] = [];
    while (Date.now() < deadline) {
      shown = await this.screen();
      if (test(shown)) return shown;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`Timed out waiting for ${what}. Screen:\n${shown.join("\n")}`);
  }

  /** Waits until a line of the history matches `pattern` and returns it. */
  async waitFor(pattern: RegExp, what: string, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let shown: string[] = [];
    while (Date.now() < deadline) {
      shown = await this.history();
      const hit = shown.find((l) => pattern.test(l));
      if (hit !== undefined) return hit;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`Timed out waiting for ${what}. Screen:\n${shown.join("\n")}`);
  }

  /** Stops the tmux server and everything still running in it. */
  async close(): Promise<void> {
    try {
      await this.tmux("kill-server");
    } catch { /* already gone */ }
  }
}

/** A tmux pane running one `chat client`. */
export class ClientPane extends TmuxPane {
  /** Starts `chat client ARGS` in the pane; its exit code is shown after it as `[exit N]`. */
  async client(args: string[], env: Record<string, string> = {}): Promise<void> {
    const vars = Object.entries({ ...testEnv(), ...env }).map(([k, v]) => `${k}=${shellQuote(v)}`);
    const command = [...chatCommand(), "client", ...args].map(shellQuote);
    // Deno.cwd(), so that a relative CHAT_CMD (./chat) resolves as in the other tests.
    await this.start(`env ${[...vars, ...command].join(" ")}; echo "[exit $?]"`);
  }
}

/** The HH:MM that starts each chat line. */
export const TIME = /^\d\d:\d\d /;

/** The screen's lines, each without the HH:MM it starts with. */
export function untimed(lines: string[]): string[] {
  return lines.map((line) => line.replace(TIME, ""));
}

/** Captured text as lines, trailing blanks trimmed, trailing blank lines dropped. */
function lines(text: string): string[] {
  const out = text.split("\n").map((l) => l.trimEnd());
  while (out.length > 0 && out.at(-1) === "") out.pop();
  return out;
}
